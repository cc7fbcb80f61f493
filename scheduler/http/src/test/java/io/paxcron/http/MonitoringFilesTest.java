package io.paxcron.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * ops/monitoring is checked like code: the alert rules pass {@code promtool check rules} and their
 * unit tests pass {@code promtool test rules}; the Grafana dashboard parses; and every {@code
 * paxcron_} metric the rules and the dashboard query is one this module exports, so a renamed
 * metric cannot leave a silent alert behind. Every alert has a runbook entry in docs/monitoring.md.
 */
class MonitoringFilesTest {

  static final String PROMTOOL = "/usr/bin/promtool";
  private static final Pattern METRIC = Pattern.compile("\\bpaxcron_[a-z_]+");

  static Path repository() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isDirectory(dir.resolve("ops").resolve("monitoring"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("no ops/monitoring above " + Path.of("").toAbsolutePath());
    }
    return dir;
  }

  private static String run(Path dir, String... command) throws IOException, InterruptedException {
    assertTrue(
        new File(PROMTOOL).canExecute(),
        PROMTOOL + " is missing: apt-get install prometheus (.ci/run does)");
    Process process =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "promtool did not finish within 60 s");
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, process.exitValue(), String.join(" ", command) + " failed:\n" + output);
    return output;
  }

  /** The families (and their sample names) this module's registry exports. */
  static Set<String> exported() throws IOException {
    PaxcronMetrics metrics = new PaxcronMetrics(true);
    // Labelled families appear once a label value is used; gauges once a sample is taken.
    metrics.onPeerRoundTrip(2, 1);
    metrics.onRecord(
        io.paxcron.proto.v1.RunRecord.newBuilder()
            .setJob("a")
            .setOutcome(io.paxcron.proto.v1.Outcome.OUTCOME_SKIPPED)
            .setSkipReason(io.paxcron.proto.v1.SkipReason.SKIP_REASON_MISFIRE)
            .build(),
        1);
    metrics.sample(
        new PaxcronMetrics.Sample(
            new ReplicaProbe.View(1, "LEADER", 1, 5, 4, 0, false),
            List.of(),
            java.util.Optional.of(new JobCatalog.Read(List.of(), 0, 1)),
            java.util.Optional.of(
                new ReplicaProbe.Members(
                    List.of(new ReplicaProbe.Member(2, "learner", "h:2", 5)), ""))));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    metrics.scrape("text/plain", out);
    Set<String> names = new TreeSet<>();
    Matcher matcher = METRIC.matcher(out.toString(StandardCharsets.UTF_8));
    while (matcher.find()) {
      names.add(matcher.group());
    }
    return names;
  }

  private static Set<String> referenced(String text) {
    Set<String> names = new TreeSet<>();
    Matcher matcher = METRIC.matcher(text);
    while (matcher.find()) {
      names.add(matcher.group());
    }
    return names;
  }

  @Test
  void alertRulesPassPromtoolCheckAndTheirUnitTests() throws Exception {
    Path dir = repository().resolve("ops").resolve("monitoring");
    String checked = run(dir, PROMTOOL, "check", "rules", "paxcron-alerts.yml");
    assertTrue(checked.contains("SUCCESS"), checked);
    String tested = run(dir, PROMTOOL, "test", "rules", "paxcron-alerts-test.yml");
    assertTrue(tested.contains("SUCCESS"), tested);
  }

  @Test
  void rulesAndDashboardQueryOnlyExportedMetricsAndEveryAlertHasARunbook() throws Exception {
    Path root = repository();
    Set<String> exported = exported();
    String rules = Files.readString(root.resolve("ops/monitoring/paxcron-alerts.yml"));
    for (String name : referenced(rules)) {
      assertTrue(
          exported.contains(name),
          "paxcron-alerts.yml queries " + name + ", which is not exported");
    }

    JsonObject dashboard =
        JsonParser.parseString(
                Files.readString(root.resolve("ops/monitoring/grafana-dashboard.json")))
            .getAsJsonObject();
    assertEquals("Paxcron", dashboard.get("title").getAsString());
    List<String> expressions = new ArrayList<>();
    for (JsonElement panel : dashboard.getAsJsonArray("panels")) {
      for (JsonElement target : panel.getAsJsonObject().getAsJsonArray("targets")) {
        expressions.add(target.getAsJsonObject().get("expr").getAsString());
      }
    }
    assertTrue(expressions.size() >= 10, "the dashboard has " + expressions.size() + " queries");
    for (String expression : expressions) {
      for (String name : referenced(expression)) {
        assertTrue(
            exported.contains(name), "the dashboard queries " + name + ", which is not exported");
      }
    }

    String runbook = Files.readString(root.resolve("docs/monitoring.md"));
    Matcher alert = Pattern.compile("- alert: (\\w+)").matcher(rules);
    int alerts = 0;
    while (alert.find()) {
      alerts++;
      String name = alert.group(1);
      assertTrue(
          runbook.contains("### " + name),
          "docs/monitoring.md has no runbook entry '### " + name + "'");
      assertTrue(
          rules.contains("docs/monitoring.md#" + name.toLowerCase(java.util.Locale.ROOT)),
          name + " does not link its runbook entry");
    }
    assertTrue(alerts >= 8, "only " + alerts + " alerts");
  }
}
