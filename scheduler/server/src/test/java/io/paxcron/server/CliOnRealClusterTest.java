package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.paxcron.api.JobClient;
import io.paxcron.cli.CliContext;
import io.paxcron.paxos.replica.LogClient;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.JobServiceGrpc;
import io.paxcron.server.InProcessCli.Result;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code paxcron} CLI commands, run in-process (and once in a pseudo-terminal) against a real
 * 3-replica cluster of {@code paxcron server} processes running the cron state machine: a crontab
 * applies, plans no changes, plans exactly an edit, applies it, prunes; a bad file changes nothing;
 * {@code -o json} parses; colors appear on a terminal and not with {@code NO_COLOR}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class CliOnRealClusterTest {

  @TempDir static Path work;

  private LocalCluster cluster;
  private String addresses;

  @BeforeAll
  void startCluster() {
    cluster = new LocalCluster(work.resolve("cluster"), 3, List.of());
    cluster.startAll();
    cluster.startAgent("cli-agent", List.of("--capacity", "16"));
    try (LogClient probe = cluster.client(1)) {
      cluster.awaitLeader(probe, Duration.ofSeconds(60));
    }
    addresses = String.join(",", cluster.clientAddresses());
  }

  @AfterAll
  void stopCluster() {
    cluster.close();
  }

  private Result paxcron(Map<String, String> env, String... args) {
    return InProcessCli.run(env, work, args);
  }

  private Result paxcron(String... args) {
    return paxcron(Map.of("PAXCRON_CLUSTER", addresses), args);
  }

  private Path crontab(String name, String text) throws IOException {
    Path file = work.resolve(name);
    Files.writeString(file, text);
    return file;
  }

  /** Name to version of the jobs of {@code source} (the tests share one cluster). */
  private Map<String, Long> versions(String source) {
    Result jobs = paxcron("jobs", "-o", "json");
    assertEquals(0, jobs.exit(), jobs.toString());
    Map<String, Long> versions = new HashMap<>();
    for (JsonElement job : JsonParser.parseString(jobs.out()).getAsJsonArray()) {
      if (!job.getAsJsonObject().get("source").getAsString().equals(source)) {
        continue;
      }
      versions.put(
          job.getAsJsonObject().get("name").getAsString(),
          job.getAsJsonObject().get("version").getAsLong());
    }
    return versions;
  }

  private static final String V1 =
      """
      # Nightly jobs of the app server
      MAILTO=ops@example.com
      CRON_TZ=Europe/Berlin
      # paxcron: name=nightly-backup timeout=2h
      30 2 * * * /bin/true
      # paxcron: name=daily-report
      ? 4 * * * /bin/echo report
      */30 * * * * * /bin/true
      """;

  @Test
  void applyPlanEditApplyPruneAndBadFilesChangeNothing() throws IOException {
    Path file = crontab("app.crontab", V1);
    String source = "--source=app";

    Result firstPlan = paxcron("plan", "-f", file.toString(), source, "--detailed-exitcode");
    assertEquals(2, firstPlan.exit(), firstPlan.toString());
    assertTrue(firstPlan.out().contains("+ nightly-backup"), firstPlan.out());
    assertTrue(firstPlan.out().contains("+ daily-report"), firstPlan.out());
    assertTrue(
        firstPlan.out().contains("? resolved: chosen by the cluster when applied"),
        firstPlan.out());
    assertTrue(
        firstPlan.out().contains("Plan: 3 to add, 0 to change, 0 to delete, 1 warning."),
        firstPlan.out());

    Result apply = paxcron("apply", "-f", file.toString(), source);
    assertEquals(0, apply.exit(), apply.toString());
    assertTrue(apply.out().contains("Applied in slot"), apply.out());
    assertTrue(
        apply
            .out()
            .matches(
                "(?s).*daily-report: \\? 4 \\* \\* \\*  \\? resolved to  \\d+ 4 \\* \\* \\*.*"),
        apply.out());
    Map<String, Long> applied = versions("crontab:app");
    assertEquals(3, applied.size(), applied.toString());

    Result unchanged = paxcron("plan", "-f", file.toString(), source, "--detailed-exitcode");
    assertEquals(0, unchanged.exit(), unchanged.toString());
    assertTrue(unchanged.out().contains("No changes"), unchanged.out());
    assertTrue(
        unchanged.out().contains("Plan: 0 to add, 0 to change, 0 to delete, 1 warning."),
        unchanged.out());

    String derived =
        applied.keySet().stream().filter(n -> n.startsWith("true-")).findFirst().orElseThrow();
    Files.writeString(
        file,
        V1.replace("30 2 * * * /bin/true", "45 2 * * * /bin/true")
            .replace("*/30 * * * * * /bin/true\n", ""));
    Result edited = paxcron("plan", "-f", file.toString(), source);
    assertEquals(0, edited.exit(), edited.toString());
    assertTrue(edited.out().contains("~ nightly-backup"), edited.out());
    assertTrue(edited.out().contains("schedule: 30 2 * * * -> 45 2 * * *"), edited.out());
    assertTrue(
        edited.out().contains("Plan: 0 to add, 1 to change, 0 to delete, 1 warning."),
        edited.out());
    assertTrue(
        edited.out().contains("are kept: " + derived + " (--prune deletes them)"), edited.out());

    Result pruned =
        paxcron("apply", "-f", file.toString(), source, "--prune", "--detailed-exitcode");
    assertEquals(2, pruned.exit(), pruned.toString());
    assertTrue(pruned.out().contains("- " + derived), pruned.out());
    assertTrue(
        pruned.out().contains("Plan: 0 to add, 1 to change, 1 to delete, 1 warning."),
        pruned.out());
    Map<String, Long> afterPrune = versions("crontab:app");
    assertEquals(
        List.of("daily-report", "nightly-backup"), afterPrune.keySet().stream().sorted().toList());
    assertEquals(
        applied.get("daily-report"),
        afterPrune.get("daily-report"),
        "an unchanged job keeps its version");

    Result job = paxcron("job", "nightly-backup");
    assertEquals(0, job.exit(), job.toString());
    assertTrue(job.out().contains("schedule: 45 2 * * *"), job.out());
    assertEquals(
        5,
        job.out().lines().filter(l -> l.matches("  \\d{4}-.*Europe/Berlin\\)")).count(),
        job.out());
    assertTrue(job.out().contains("mailto=ops@example.com"), job.out());

    Path bad = crontab("bad.crontab", V1 + "@reboot /bin/start\n0 0 32 * * /bin/true\n");
    Result refused = paxcron("apply", "-f", bad.toString(), source, "--prune");
    assertEquals(1, refused.exit(), refused.toString());
    assertTrue(refused.err().contains(bad + ":9:1: error: @reboot is refused"), refused.err());
    assertTrue(
        refused
            .err()
            .contains(
                bad
                    + ":10:5: error: day-of-month: value 32 out of range 1-31\n"
                    + "    0 0 32 * * /bin/true\n        ^"),
        refused.err());
    assertEquals(afterPrune, versions("crontab:app"), "a bad file changes nothing");

    Result otherSource =
        paxcron(
            "apply",
            "-f",
            crontab("other.crontab", "# empty\n").toString(),
            "--source=other",
            "--prune");
    assertEquals(0, otherSource.exit(), otherSource.toString());
    assertEquals(
        afterPrune, versions("crontab:app"), "--prune deletes only jobs of its own source");
  }

  @Test
  void aConcurrentChangeBetweenPlanAndApplyFailsTheApplyWholeAndChangesNothing()
      throws IOException {
    Path file = crontab("race.crontab", "# paxcron: name=race-a\n0 1 * * * /bin/true\n");
    assertEquals(0, paxcron("apply", "-f", file.toString(), "--source=race").exit());
    Files.writeString(
        file,
        "# paxcron: name=race-a\n0 2 * * * /bin/true\n"
            + "# paxcron: name=race-new\n0 3 * * * /bin/true\n");

    // Another writer changes race-a after the apply read the cluster and just before its one Apply
    // call.
    AtomicBoolean interfered = new AtomicBoolean();
    ClientInterceptor otherWriterFirst =
        new ClientInterceptor() {
          @Override
          public <Q, R> ClientCall<Q, R> interceptCall(
              MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            if (method
                    .getFullMethodName()
                    .equals(JobServiceGrpc.getApplyMethod().getFullMethodName())
                && interfered.compareAndSet(false, true)) {
              try (JobClient other = JobClient.connect(cluster.clientAddresses())) {
                other.put(
                    Job.newBuilder()
                        .setName("race-a")
                        .setSchedule("0 9 * * *")
                        .setCommand(Job.Command.newBuilder().setShell("/bin/false"))
                        .build());
              }
            }
            return next.newCall(method, options);
          }
        };
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CliContext racing =
        new CliContext(
            Map.of("PAXCRON_CLUSTER", addresses),
            work,
            false,
            new PrintWriter(out, true),
            new PrintWriter(err, true),
            InstantSource.system(),
            list ->
                new JobClient(
                    JobClient.randomClientId(),
                    list,
                    address ->
                        NettyChannelBuilder.forTarget(address)
                            .usePlaintext()
                            .intercept(otherWriterFirst)
                            .build(),
                    CliContext.clientSettings(list.size()),
                    JobClient.Sleeper.SYSTEM,
                    new SplittableRandom(7)));

    int exit = Paxcron.run(racing, "apply", "-f", file.toString(), "--source=race");

    assertTrue(interfered.get(), "the other writer ran");
    assertEquals(4, exit, out + "\n" + err);
    assertTrue(
        err.toString().contains("the cluster changed since it was read (job 'race-a'"),
        err.toString());
    Result jobs = paxcron("jobs", "-o", "json");
    assertFalse(
        jobs.out().contains("race-new"), "nothing of the failed apply was written: " + jobs.out());
    Result raceA = paxcron("job", "race-a");
    assertTrue(
        raceA.out().contains("schedule: 0 9 * * *"),
        "the other writer's change stands: " + raceA.out());
  }

  @Test
  void jsonOutputsParseWithTheirDocumentedFields() throws IOException {
    Path file = crontab("json.crontab", "# paxcron: name=json-job\n0 3 * * * /bin/true\n");
    Result plan = paxcron("plan", "-f", file.toString(), "--source=json", "-o", "json");
    assertEquals(0, plan.exit(), plan.toString());
    JsonObject planJson = JsonParser.parseString(plan.out()).getAsJsonObject();
    assertEquals("crontab:json", planJson.get("source").getAsString());
    JsonObject change = planJson.getAsJsonArray("changes").get(0).getAsJsonObject();
    assertEquals("create", change.get("action").getAsString());
    assertEquals("json-job", change.get("name").getAsString());
    assertEquals(2, change.get("line").getAsInt());
    assertEquals(1, planJson.getAsJsonObject("summary").get("add").getAsInt());

    Result dryRun =
        paxcron(
            "apply", "-f", file.toString(), "--source=json", "--dry-run", "--detailed-exitcode");
    assertEquals(2, dryRun.exit(), dryRun.toString());
    assertTrue(
        dryRun.out().contains("Dry run: the versions still match; nothing was applied."),
        dryRun.out());
    assertEquals(1, paxcron("job", "json-job").exit(), "a dry run writes nothing");

    Result apply = paxcron("apply", "-f", file.toString(), "--source=json", "-o", "json");
    assertEquals(0, apply.exit(), apply.toString());
    assertTrue(JsonParser.parseString(apply.out()).getAsJsonObject().get("applied").getAsBoolean());

    Result jobs = paxcron("jobs", "-o", "json");
    JsonObject listed = null;
    for (JsonElement element : JsonParser.parseString(jobs.out()).getAsJsonArray()) {
      if (element.getAsJsonObject().get("name").getAsString().equals("json-job")) {
        listed = element.getAsJsonObject();
      }
    }
    assertTrue(listed != null, jobs.out());
    for (String field :
        List.of(
            "schedule",
            "resolvedSchedule",
            "description",
            "zone",
            "nextRun",
            "lastOutcome",
            "paused",
            "version",
            "source")) {
      assertTrue(listed.has(field), field + " in " + listed);
    }
    assertEquals("at 03:00", listed.get("description").getAsString());

    Result job = paxcron("job", "json-job", "-o", "json");
    JsonArray next = JsonParser.parseString(job.out()).getAsJsonObject().getAsJsonArray("next");
    assertEquals(5, next.size(), job.out());

    Result lint = paxcron(Map.of(), "lint", file.toString(), "-o", "json");
    assertEquals(0, lint.exit(), lint.toString());
    assertEquals(1, JsonParser.parseString(lint.out()).getAsJsonObject().get("jobs").getAsInt());
  }

  @Test
  void triggeredRunIsRecordedAndWatchAndRunsShowIt() {
    Result put =
        paxcron(
            "apply",
            "-f",
            crontabUnchecked("run.crontab", "# paxcron: name=manual-one\n0 0 1 1 * /bin/true\n")
                .toString(),
            "--source=run");
    assertEquals(0, put.exit(), put.toString());
    Result trigger = paxcron("trigger", "manual-one", "-o", "json");
    assertEquals(0, trigger.exit(), trigger.toString());
    String runId =
        JsonParser.parseString(trigger.out()).getAsJsonObject().get("runId").getAsString();

    Result watch = paxcron("watch", "manual-one", "--count", "1", "-o", "json");
    assertEquals(0, watch.exit(), watch.toString());
    JsonObject record = JsonParser.parseString(watch.out().strip()).getAsJsonObject();
    assertEquals(runId, record.get("runId").getAsString());
    assertEquals("SUCCEEDED", record.get("outcome").getAsString());

    Result runs = paxcron("runs", "manual-one", "--outcome", "succeeded", "--since", "1h");
    assertEquals(0, runs.exit(), runs.toString());
    assertTrue(runs.out().contains(runId), runs.out());

    Result stale = paxcron("delete", "manual-one", "--expected-version", "999999");
    assertEquals(4, stale.exit(), stale.toString());
    assertTrue(
        stale
            .err()
            .startsWith(
                "error: the cluster changed since it was read (job 'manual-one' is now at"
                    + " version "),
        stale.err());
    assertTrue(stale.err().contains("nothing was changed"), stale.err());

    assertEquals(0, paxcron("pause", "manual-one").exit());
    assertTrue(paxcron("job", "manual-one").out().contains("paused: true"));
    assertEquals(0, paxcron("resume", "manual-one").exit());
    Result deleted = paxcron("delete", "manual-one");
    assertEquals(0, deleted.exit(), deleted.toString());
    Result gone = paxcron("job", "manual-one");
    assertEquals(1, gone.exit(), gone.toString());
    assertEquals(1, gone.err().lines().count(), gone.err());
  }

  @Test
  void unreachableClusterIsOneLineNamingTheAddressesTried() {
    int a = LocalCluster.freePort();
    int b = LocalCluster.freePort();
    Result result = paxcron(Map.of(), "jobs", "--cluster", "127.0.0.1:" + a + ",127.0.0.1:" + b);
    assertEquals(3, result.exit(), result.toString());
    assertEquals(1, result.err().lines().count(), result.err());
    assertTrue(
        result
            .err()
            .startsWith(
                "error: cannot reach the cluster at 127.0.0.1:"
                    + a
                    + ", 127.0.0.1:"
                    + b
                    + " (from --cluster)"),
        result.err());

    Result missing = paxcron(Map.of(), "jobs");
    assertEquals(64, missing.exit(), missing.toString());
    assertTrue(missing.err().contains("no cluster address"), missing.err());
  }

  @Test
  void clusterAddressComesFromTheConfigFileWhenNeitherFlagNorEnvironmentGiveIt()
      throws IOException {
    Path config = crontab("cli.conf", "# CLI settings\ncluster = " + addresses + "\n");
    Result result = paxcron(Map.of("PAXCRON_CONFIG", config.toString()), "jobs");
    assertEquals(0, result.exit(), result.toString());
  }

  @Test
  void jobsInAPseudoTerminalHasColorsAndNoColorRemovesThem() throws Exception {
    Result put =
        paxcron(
            "apply",
            "-f",
            crontabUnchecked("tty.crontab", "# paxcron: name=tty-job\n*/15 * * * * /bin/true\n")
                .toString(),
            "--source=tty");
    assertEquals(0, put.exit(), put.toString());

    String colored = inPseudoTerminal(Map.of());
    assertTrue(colored.contains("\u001b[1mNAME\u001b[0m"), colored);
    assertTrue(colored.contains("tty-job"), colored);
    assertTrue(colored.contains("every 15 minutes"), colored);

    String plain = inPseudoTerminal(Map.of("NO_COLOR", "1"));
    assertTrue(plain.contains("NAME"), plain);
    assertTrue(plain.contains("tty-job"), plain);
    assertFalse(plain.contains("\u001b["), plain);
  }

  /**
   * Runs {@code paxcron jobs} as its own process whose stdout is a pseudo-terminal (util-linux
   * script).
   */
  private String inPseudoTerminal(Map<String, String> extraEnv) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String command =
        quote(java)
            + " -cp "
            + quote(System.getProperty("java.class.path"))
            + " "
            + Paxcron.class.getName()
            + " jobs --cluster "
            + addresses;
    List<String> argv = new ArrayList<>(List.of("script", "-qec", command, "/dev/null"));
    ProcessBuilder builder = new ProcessBuilder(argv).redirectErrorStream(true);
    builder.environment().remove("NO_COLOR");
    builder.environment().put("TERM", "xterm-256color");
    builder.environment().putAll(extraEnv);
    Process process = builder.start();
    process.getOutputStream().close();
    byte[] output = process.getInputStream().readAllBytes();
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "paxcron jobs ended");
    String text = new String(output, StandardCharsets.UTF_8);
    assertEquals(0, process.exitValue(), text);
    return text;
  }

  private static String quote(String text) {
    return "'" + text.replace("'", "'\\''") + "'";
  }

  private Path crontabUnchecked(String name, String text) {
    try {
      return crontab(name, text);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
