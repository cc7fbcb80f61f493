package io.paxcron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.api.JobProtos;
import io.paxcron.cli.crontab.CrontabImport;
import io.paxcron.cli.crontab.CrontabImporter;
import io.paxcron.cli.crontab.ImportOptions;
import io.paxcron.proto.v1.Job;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlanTest {
  private static final String SOURCE = "crontab:app";

  private static CrontabImport file(String text) {
    return CrontabImporter.read("app", text, ImportOptions.user(SOURCE));
  }

  /**
   * The job as the cluster would return it after applying {@code text}'s job named {@code name}.
   */
  private static Job applied(String text, String name, long version) {
    return file(text).jobs().stream()
        .filter(j -> j.spec().name().equals(name))
        .findFirst()
        .map(j -> JobProtos.toProto(j.spec()).toBuilder().setVersion(version).build())
        .orElseThrow();
  }

  private static final String TWO =
      """
            # paxcron: name=a
            0 1 * * * /bin/a
            # paxcron: name=b
            0 2 * * * /bin/b
            """;

  @Test
  void emptyClusterPlansACreatePerJob() {
    Plan plan = Plan.of(file(TWO), List.of(), SOURCE, false);
    assertEquals(2, plan.adds());
    assertEquals("Plan: 2 to add, 0 to change, 0 to delete, 0 warnings.", plan.summary());
  }

  @Test
  void clusterHoldingTheFilePlansNothing() {
    Plan plan =
        Plan.of(file(TWO), List.of(applied(TWO, "a", 5), applied(TWO, "b", 5)), SOURCE, true);
    assertTrue(plan.isEmpty(), plan.toString());
  }

  @Test
  void editedLinePlansExactlyThatFieldOldToNew() {
    String edited = TWO.replace("0 1 * * * /bin/a", "15 1 * * * /bin/a --fast");
    Plan plan =
        Plan.of(file(edited), List.of(applied(TWO, "a", 5), applied(TWO, "b", 5)), SOURCE, false);
    assertEquals(1, plan.changes().size());
    Plan.Change.Update update = (Plan.Change.Update) plan.changes().get(0);
    assertEquals(
        List.of(
            new Plan.FieldChange("schedule", "0 1 * * *", "15 1 * * *"),
            new Plan.FieldChange("command", "\"/bin/a\"", "\"/bin/a --fast\"")),
        update.fields());
    assertEquals(5, update.current().getVersion());
  }

  @Test
  void pruneDeletesOnlyJobsOfTheSameSourceThatLeftTheFile() {
    Job gone = applied(TWO, "b", 7);
    Job foreign = gone.toBuilder().setName("foreign").setSource("crontab:other").build();
    Job fromApi = gone.toBuilder().setName("api-made").setSource("").build();
    String onlyA = "# paxcron: name=a\n0 1 * * * /bin/a\n";
    List<Job> current = List.of(applied(TWO, "a", 5), gone, foreign, fromApi);

    Plan kept = Plan.of(file(onlyA), current, SOURCE, false);
    assertTrue(kept.isEmpty());
    assertEquals(List.of("b"), kept.leftBehind());

    Plan pruned = Plan.of(file(onlyA), current, SOURCE, true);
    assertEquals(List.of("b"), pruned.changes().stream().map(Plan.Change::name).toList());
    assertEquals("Plan: 0 to add, 0 to change, 1 to delete, 0 warnings.", pruned.summary());
  }

  @Test
  void aPauseSetByHandSurvivesTheFile() {
    Job paused = applied(TWO, "a", 5).toBuilder().setPaused(true).build();
    Plan plan = Plan.of(file(TWO), List.of(paused, applied(TWO, "b", 5)), SOURCE, false);
    assertTrue(plan.isEmpty(), plan.toString());
  }

  @Test
  void jobOfAnotherSourceWithTheSameNameIsAChangeOfItsSource() {
    Job other = applied(TWO, "a", 5).toBuilder().setSource("crontab:other").build();
    Plan plan = Plan.of(file(TWO), List.of(other, applied(TWO, "b", 5)), SOURCE, false);
    Plan.Change.Update update = (Plan.Change.Update) plan.changes().get(0);
    assertEquals(List.of(new Plan.FieldChange("source", "crontab:other", SOURCE)), update.fields());
    assertTrue(
        PlanPrinter.human(plan, SOURCE, Style.PLAIN)
            .contains("takes this job over from crontab:other"));
  }

  @Test
  void humanPlanUsesTerraformSymbolsAndShowsTheStdinSplit() {
    String text = "# paxcron: name=mailer\n0 3 * * * mail root%hello\n";
    Plan plan = Plan.of(file(text), List.of(applied(TWO, "b", 3)), "crontab:app", true);
    String shown = PlanPrinter.human(plan, SOURCE, Style.PLAIN);
    assertTrue(shown.contains("  + mailer  0 3 * * *  UTC  (line 2)"), shown);
    assertTrue(shown.contains("'%' split: command \"mail root\", stdin \"hello\\n\""), shown);
    assertTrue(
        shown.contains("  - b  0 2 * * *  (owned by crontab:app, no longer in the file)"), shown);
    assertTrue(
        PlanPrinter.human(plan, SOURCE, new Style(true)).contains("\u001b[32m+ mailer\u001b[0m"));
  }
}
