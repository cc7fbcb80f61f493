package io.paxcron.cli.crontab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.schedule.Syntax;
import io.paxcron.scheduler.ConcurrencyPolicy;
import io.paxcron.scheduler.JobCommand;
import io.paxcron.scheduler.JobSpec;
import io.paxcron.scheduler.MisfirePolicy;
import io.paxcron.scheduler.Semantics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CrontabImporterTest {
  private static final String SOURCE = "crontab:test";

  private static CrontabImport user(String text) {
    return CrontabImporter.read("crontab", text, ImportOptions.user(SOURCE));
  }

  private static CrontabImport system(String text) {
    return CrontabImporter.read(
        "crontab", text, ImportOptions.user(SOURCE).withFormat(CrontabFormat.SYSTEM));
  }

  private static JobSpec only(CrontabImport result) {
    assertEquals(List.of(), result.errors().stream().map(Diagnostic::render).toList());
    assertEquals(1, result.jobs().size(), "jobs: " + result.jobs());
    return result.jobs().get(0).spec();
  }

  private static List<String> headlines(List<Diagnostic> diagnostics) {
    return diagnostics.stream().map(Diagnostic::headline).toList();
  }

  @Test
  void plainLineBecomesAShellJobWithTheDefaultsAndTheSource() {
    JobSpec spec = only(user("*/5 * * * * /usr/bin/backup --quick\n"));
    assertEquals("*/5 * * * *", spec.schedule());
    assertEquals(new JobCommand.Shell("/usr/bin/backup --quick"), spec.command());
    assertEquals("UTC", spec.zone());
    assertEquals(SOURCE, spec.source());
    assertEquals("", spec.stdin());
    assertEquals("", spec.runAs());
    assertFalse(spec.paused());
  }

  @Test
  void environmentLinesApplyToTheJobsBelowThemOnly() {
    CrontabImport result =
        user(
            """
                0 1 * * * first
                PATH=/usr/bin:/bin
                HOME = /var/lib/app
                0 2 * * * second
                """);
    assertEquals(Map.of(), result.jobs().get(0).spec().env());
    assertEquals(
        Map.of("PATH", "/usr/bin:/bin", "HOME", "/var/lib/app"), result.jobs().get(1).spec().env());
  }

  @Test
  void quotedValuesKeepTheirBlanksAndUnmatchedQuotesAreLocatedErrors() {
    CrontabImport result =
        user(
            """
                GREETING="  hello  "
                SINGLE=' x'
                'QUOTED_NAME'=v
                BROKEN="open
                0 1 * * * echo
                """);
    assertEquals(
        List.of(
            "crontab:4:8: error: unmatched double quote: a quoted value must end with the same quote"),
        headlines(result.errors()));
    assertEquals(
        Map.of("GREETING", "  hello  ", "SINGLE", " x", "QUOTED_NAME", "v"),
        result.jobs().get(0).spec().env());
  }

  @Test
  void cronTzAndTzSetTheZoneAndTzIsAlsoPassedToTheCommand() {
    CrontabImport result =
        user(
            """
                CRON_TZ=Europe/Berlin
                0 1 * * * a
                TZ=America/New_York
                0 2 * * * b
                """);
    assertEquals("Europe/Berlin", result.jobs().get(0).spec().zone());
    assertEquals(Map.of(), result.jobs().get(0).spec().env());
    assertEquals("America/New_York", result.jobs().get(1).spec().zone());
    assertEquals(Map.of("TZ", "America/New_York"), result.jobs().get(1).spec().env());
  }

  @Test
  void unknownZoneIsAnErrorAtItsLine() {
    CrontabImport result = user("CRON_TZ=Mars/Olympus\n0 1 * * * a\n");
    assertEquals(1, result.errors().size());
    assertTrue(
        result.errors().get(0).headline().startsWith("crontab:1:1: error: CRON_TZ: "),
        result.errors().get(0).headline());
  }

  @Test
  void mailtoIsKeptAsAnAnnotationWithAWarningAndAnEmptyMailtoRemovesIt() {
    CrontabImport result =
        user(
            """
                MAILTO=ops@example.com
                MAILFROM=cron@example.com
                0 1 * * * a
                MAILTO=""
                0 2 * * * b
                """);
    assertEquals(
        Map.of("mailto", "ops@example.com", "mailfrom", "cron@example.com"),
        result.jobs().get(0).spec().annotations());
    assertEquals(Map.of("mailfrom", "cron@example.com"), result.jobs().get(1).spec().annotations());
    assertEquals(2, result.warnings().size());
    assertTrue(result.warnings().get(0).message().startsWith("Paxcron sends no mail: MAILTO"));
  }

  @Test
  void percentSplitsStdinWithNewlinesEscapedPercentStaysAndTheSplitIsShown() {
    CrontabImport result = user("0 1 * * * mail -s hi root%Dear root,%all is \\%100 well\n");
    JobSpec spec = only(result);
    assertEquals(new JobCommand.Shell("mail -s hi root"), spec.command());
    assertEquals("Dear root,\nall is %100 well\n", spec.stdin());
    assertEquals(
        List.of(
            "crontab:1:26: warning: '%' starts the command's stdin: the command is \"mail -s hi"
                + " root\" and its stdin \"Dear root,\\nall is %100 well\\n\"; write '\\%' for a literal % (as in"
                + " date +\\%F)"),
        headlines(result.warnings()));
    assertEquals(1, result.jobs().get(0).notes().size());
  }

  @Test
  void escapedPercentOnlyIsALiteralWithoutWarning() {
    CrontabImport result = user("0 1 * * * date +\\%F > /tmp/today\n");
    assertEquals(new JobCommand.Shell("date +%F > /tmp/today"), only(result).command());
    assertEquals(List.of(), result.warnings());
  }

  @Test
  void hashAfterTheCommandIsPartOfTheCommand() {
    assertEquals(
        new JobCommand.Shell("echo a # not a comment"),
        only(user("0 1 * * * echo a # not a comment\n")).command());
  }

  @Test
  void rebootIsRefusedWithTheReasonTheLineAndACaret() {
    CrontabImport result = user("# start\n  @reboot /usr/bin/start-things\n");
    assertEquals(1, result.errors().size());
    assertEquals(
        """
                crontab:2:3: error: @reboot is refused: a replicated cron has no single boot to run at; run the\
                 command from the host's init system instead
                      @reboot /usr/bin/start-things
                      ^""",
        result.errors().get(0).render());
    assertEquals(List.of(), result.jobs());
  }

  @Test
  void macrosImportAsWritten() {
    CrontabImport result = user("@daily a\n@hourly b\n@every 90s c\n@weekly d\n");
    assertEquals(
        List.of("@daily", "@hourly", "@every 90s", "@weekly"),
        result.jobs().stream().map(j -> j.spec().schedule()).toList());
    assertEquals(new JobCommand.Shell("c"), result.jobs().get(2).spec().command());
  }

  @Test
  void badFieldIsReportedAtItsColumnWithACaretUnderIt() {
    CrontabImport result = user("0 0 32 * * /bin/true\n");
    assertEquals(
        """
                crontab:1:5: error: day-of-month: value 32 out of range 1-31
                    0 0 32 * * /bin/true
                        ^""",
        result.errors().get(0).render());
  }

  @Test
  void caretFollowsTabsInTheLine() {
    CrontabImport result = user("0\t0\t32\t*\t*\t/bin/true\n");
    assertEquals("     \t \t^", result.errors().get(0).render().lines().toList().get(2));
  }

  @Test
  void missingCommandAndTooFewFieldsAreErrors() {
    assertEquals(
        List.of("crontab:1:10: error: missing the command after the schedule"),
        headlines(user("0 1 * * *\n").errors()));
    assertEquals(
        List.of(
            "crontab:1:6: error: expected 5 schedule fields (minute hour day-of-month month"
                + " day-of-week) and a command, got 3 word(s)"),
        headlines(user("0 1 *\n").errors()));
  }

  @Test
  void sixFieldsWithSecondsAreAJobThatFiresEveryFewSeconds() {
    JobSpec spec = only(user("*/10 * * * * * /bin/heartbeat\n"));
    assertEquals("*/10 * * * * *", spec.schedule());
    assertEquals(new JobCommand.Shell("/bin/heartbeat"), spec.command());
  }

  @Test
  void sixthWordThatCouldBeAUserGetsAHintInUserFormat() {
    CrontabImport sunday = user("0 5 * * * sun echo hi\n");
    assertEquals("0 5 * * * sun", only(sunday).schedule());
    assertTrue(
        sunday.warnings().get(0).message().contains("is the 6th word a user?"),
        sunday.warnings().toString());
    assertEquals(11, sunday.warnings().get(0).column());

    CrontabImport root = user("25 6 * * * root test -x /usr/sbin/anacron\n");
    assertEquals(new JobCommand.Shell("root test -x /usr/sbin/anacron"), only(root).command());
    assertTrue(root.warnings().get(0).message().contains("--format=system"));
  }

  @Test
  void systemFormatMovesTheUserToRunAs() {
    CrontabImport result =
        system("0 5 * * * sun echo hi\n25 6 * * * root test -x /usr/sbin/anacron\n");
    assertEquals(
        List.of("sun", "root"), result.jobs().stream().map(j -> j.spec().runAs()).toList());
    assertEquals("0 5 * * *", result.jobs().get(0).spec().schedule());
    assertEquals(new JobCommand.Shell("echo hi"), result.jobs().get(0).spec().command());
  }

  @Test
  void systemFormatWithoutAUserSaysThisLooksLikeAUserCrontab() {
    CrontabImport result = system("0 5 * * * /usr/bin/report --daily\n");
    assertEquals(1, result.errors().size());
    assertEquals(11, result.errors().get(0).column());
    assertTrue(result.errors().get(0).message().contains("use --format=user"));
    assertTrue(result.warnings().get(0).message().contains("looks like a user crontab"));
  }

  @Test
  void annotationAboveAJobSetsItsPolicies() {
    JobSpec spec =
        only(
            user(
                """
                # paxcron: name=nightly-backup timeout=1h30m retries=2 semantics=at-least-once concurrency=replace \
                selector=zone=eu,disk=ssd misfire=skip
                30 2 * * * /usr/local/bin/backup
                """));
    assertEquals("nightly-backup", spec.name());
    assertEquals(Duration.ofMinutes(90), spec.timeout());
    assertEquals(3, spec.retries().maxAttempts());
    assertEquals(Semantics.AT_LEAST_ONCE, spec.semantics());
    assertEquals(ConcurrencyPolicy.REPLACE, spec.concurrency());
    assertEquals(Map.of("zone", "eu", "disk", "ssd"), spec.agentSelector());
    assertEquals(MisfirePolicy.Mode.SKIP, spec.misfire().mode());
  }

  @Test
  void badAnnotationValuesAreLocatedAtTheirValue() {
    CrontabImport result =
        user(
            """
                # paxcron: name=a timeout=soon concurrency=sometimes colour=blue
                0 1 * * * x
                """);
    assertEquals(
        List.of(
            "crontab:1:27: error: timeout: expected a duration like 90s, 5m, 1h30m or 2d, got 'soon'",
            "crontab:1:44: error: concurrency: expected allow, forbid or replace, got 'sometimes'",
            "crontab:1:54: error: unknown annotation key 'colour'; expected one of name, timeout, retries,"
                + " concurrency, semantics, selector, misfire"),
        headlines(result.errors()));
    assertEquals(List.of(), result.jobs());
  }

  @Test
  void retriesWithoutAtLeastOnceAreRefusedAtTheRetriesKey() {
    CrontabImport result = user("# paxcron: retries=3\n0 1 * * * x\n");
    assertEquals(1, result.errors().size());
    assertEquals(1, result.errors().get(0).line());
    assertEquals(12, result.errors().get(0).column());
    assertTrue(result.errors().get(0).message().contains("at-most-once"));
  }

  @Test
  void invalidAndDuplicateNamesAreLocatedAtTheNameKey() {
    CrontabImport result =
        user(
            """
                # paxcron: name=Bad_Name
                0 1 * * * a
                # paxcron: name=same
                0 2 * * * b
                # paxcron: name=same
                0 3 * * * c
                """);
    assertEquals(List.of(1, 5), result.errors().stream().map(Diagnostic::line).toList());
    assertTrue(result.errors().get(1).message().contains("already used by the job on line 4"));
  }

  @Test
  void annotationNotFollowedByAJobIsAWarning() {
    CrontabImport result = user("# paxcron: name=lonely\n\n0 1 * * * a\n");
    assertEquals(1, result.warnings().size());
    assertTrue(result.warnings().get(0).message().contains("applies to nothing"));
    assertNotEquals("lonely", result.jobs().get(0).spec().name());
  }

  @Test
  void derivedNamesAreStableDnsLabelsThatDependOnTheLineAndTheSource() {
    String text =
        "0 1 * * * /usr/local/bin/Backup_DB.sh --all\n0 1 * * * /usr/local/bin/Backup_DB.sh --all\n";
    CrontabImport first = user(text);
    CrontabImport again = user(text);
    String name = first.jobs().get(0).spec().name();
    assertTrue(name.matches("backup-db-sh-[0-9a-f]{8}"), name);
    assertEquals(name + "-2", first.jobs().get(1).spec().name());
    assertEquals(name, again.jobs().get(0).spec().name());
    assertTrue(first.jobs().get(0).derivedName());
    CrontabImport otherSource =
        CrontabImporter.read("crontab", text, ImportOptions.user("crontab:other"));
    assertNotEquals(name, otherSource.jobs().get(0).spec().name());
    assertNotEquals(
        name, user("0 2 * * * /usr/local/bin/Backup_DB.sh --all\n").jobs().get(0).spec().name());
  }

  @Test
  void expressionThatNeverFiresImportsPausedWithAWarning() {
    CrontabImport result = user("0 0 30 2 * /bin/disabled\n");
    JobSpec spec = only(result);
    assertTrue(spec.paused());
    assertEquals("0 0 30 2 *", spec.schedule());
    assertTrue(result.warnings().get(0).message().contains("imported as a paused job"));
  }

  @Test
  void jobFiringMoreThanTheQuietLimitPerMinuteGetsAWarning() {
    CrontabImport busy = user("* * * * * * /bin/poll\n");
    assertEquals(
        List.of(
            "crontab:1:1: warning: fires 60 times a minute (more than 12): each run is a Paxos"
                + " round and a launch"),
        headlines(busy.warnings()));
    assertEquals(List.of(), user("*/10 * * * * * /bin/poll\n").warnings());
    assertEquals(1, user("@every 2s /bin/poll\n").warnings().size());
  }

  @Test
  void quartzLookingLinesGetLintWarningsAndQuartzSyntaxReadsThem() {
    CrontabImport vixie = user("0 0 12 ? * MON-FRI /bin/report\n");
    assertTrue(
        vixie.warnings().stream().anyMatch(w -> w.message().contains("--syntax=quartz")),
        vixie.warnings().toString());
    CrontabImport quartz =
        CrontabImporter.read(
            "crontab",
            "0 0 12 ? * MON-FRI /bin/report\n",
            ImportOptions.user(SOURCE).withSyntax(Syntax.QUARTZ));
    JobSpec spec = only(quartz);
    assertEquals(Syntax.QUARTZ, spec.syntax());
    assertEquals("0 0 12 ? * MON-FRI", spec.schedule());
  }

  @Test
  void shellOtherThanShRunsTheCommandThroughIt() {
    JobSpec spec = only(user("SHELL=/bin/bash\n0 1 * * * echo {a,b}\n"));
    assertEquals(new JobCommand.Argv(List.of("/bin/bash", "-c", "echo {a,b}")), spec.command());
  }

  @Test
  void reservedAndMalformedEnvironmentNamesAreErrorsAtTheirLine() {
    CrontabImport result = user("PAXCRON_RUN_ID=x\n0 1 * * * a\n");
    assertEquals(
        List.of(
            "crontab:1:1: error: names starting with PAXCRON_ are reserved for the variables the"
                + " agent sets"),
        headlines(result.errors()));
  }

  @Test
  void fileWithAnErrorStillListsEveryProblemAndItsGoodJobs() {
    CrontabImport result = user("0 1 * * * good\n@reboot bad\n0 0 99 * * worse\n");
    assertTrue(result.hasErrors());
    assertEquals(List.of(2, 3), result.errors().stream().map(Diagnostic::line).toList());
    assertEquals(1, result.jobs().size());
  }

  @Test
  void crlfLineEndingsAreAccepted() {
    assertEquals(new JobCommand.Shell("echo hi"), only(user("0 1 * * * echo hi\r\n")).command());
  }

  @Test
  void oversizedFilesAreRefusedWholeNamingTheLimit() {
    CrontabImport result = user("#".repeat(CrontabImporter.MAX_CRONTAB_BYTES + 1));
    assertTrue(result.errors().get(0).message().contains("MAX_CRONTAB_BYTES"));
  }
}
