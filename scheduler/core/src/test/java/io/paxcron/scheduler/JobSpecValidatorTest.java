package io.paxcron.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.schedule.Syntax;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

final class JobSpecValidatorTest {

  /**
   * The byte limits count UTF-8 as {@code getBytes(UTF_8)} encodes it, lone surrogates (one '?')
   * and pairs (4 bytes) included, over random strings drawn from every range that matters.
   */
  @Test
  void utf8LengthIsTheEncodedLength() {
    long seed = 20261205L; // a failure names it
    SplittableRandom random = new SplittableRandom(seed);
    char[] samples = {
      'a', '\u0000', '\u007f', '\u0080', '\u07ff', '\u0800', '\uffff', '\ud83d', '\ude00', '\udbff',
      '\udc00'
    };
    for (int round = 0; round < 5_000; round++) {
      StringBuilder text = new StringBuilder();
      int length = random.nextInt(0, 12);
      for (int i = 0; i < length; i++) {
        text.append(
            random.nextBoolean()
                ? samples[random.nextInt(samples.length)]
                : (char) random.nextInt(Character.MAX_VALUE + 1));
      }
      String value = text.toString();
      assertEquals(
          value.getBytes(StandardCharsets.UTF_8).length,
          JobSpecValidator.utf8Length(value),
          () -> "seed " + seed + ", text " + value.chars().mapToObj(Integer::toHexString).toList());
    }
  }

  private static List<String> problems(JobSpec spec) {
    return JobSpecValidator.validate(spec).stream().map(FieldError::toString).toList();
  }

  @Test
  void specWithEveryDefaultIsValid() {
    JobSpec spec = Fixture.job("backup-db", "0 3 * * *").build();
    assertEquals(List.of(), problems(spec));
    assertEquals(JobSpec.DEFAULT_ZONE, spec.zone());
    assertEquals(ConcurrencyPolicy.FORBID, spec.concurrency());
    assertEquals(Semantics.AT_MOST_ONCE, spec.semantics());
    assertEquals(MisfirePolicy.DEFAULT, spec.misfire());
    assertEquals(1, spec.retries().maxAttempts());
    assertEquals(Duration.ofHours(1), spec.timeout());
    assertEquals(100, spec.historyRetention());
  }

  @Test
  void stdinRunAsSourceAndAnnotationsHaveLimitsNamedInTheirErrors() {
    JobSpec spec =
        Fixture.job("a", "0 3 * * *")
            .stdin("x".repeat(JobSpecValidator.MAX_STDIN_BYTES + 1))
            .runAs("-root")
            .source("crontab:\nx")
            .annotations(Map.of("bad key", "v", "ok", "\0"))
            .build();
    assertEquals(
        List.of(
            "stdin: larger than 65536 bytes (MAX_STDIN_BYTES), got 65537",
            "runAs: must be a user name of letters, digits, '_', '.' and '-', not starting with '-', got '-root'",
            "source: contains a control character",
            "annotations[bad key]: key must be 1..63 characters (MAX_ANNOTATION_KEY_LENGTH) of letters, digits"
                + " and -_./, starting and ending alphanumeric",
            "annotations[ok]: value contains a NUL character"),
        problems(spec));
  }

  @Test
  void crontabLikeStdinRunAsSourceAndAnnotationsAreValid() {
    JobSpec spec =
        Fixture.job("a", "0 3 * * *")
            .stdin("dear%user\n")
            .runAs("www-data")
            .source("crontab:/etc/cron.d/php")
            .annotations(Map.of("mailto", "root", "crontab/line", "7"))
            .build();
    assertEquals(List.of(), problems(spec));
  }

  @Test
  void aScheduleThatNeverFiresIsKeptOnlyByAPausedJob() {
    assertEquals(1, problems(Fixture.job("disabled", "0 0 30 2 *").build()).size());
    assertEquals(List.of(), problems(Fixture.job("disabled", "0 0 30 2 *").paused(true).build()));
    assertEquals(
        1,
        problems(Fixture.job("disabled", "? 0 30 2 *").paused(true).build()).size(),
        "with ? the cluster must be able to resolve it to a schedule that fires");
  }

  @Test
  void scheduleErrorNamesColumnAndReason() {
    assertEquals(
        List.of("schedule: column 7: value 32 out of range 1-31 (day-of-month)"),
        problems(Fixture.job("a", "0 0 1,32 * *").build()));
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    JobSpec spec =
        JobSpec.builder("Bad_Name", "0 0 32 * *", new JobCommand.Argv(List.of("")))
            .zone("Mars/Olympus")
            .env(Map.of("PAXCRON_RUN_ID", "x", "1BAD", "y"))
            .workingDirectory("relative/dir")
            .agentSelector(Map.of("-bad", "ok"))
            .timeout(Duration.ofDays(8))
            .retries(new RetryPolicy(0, Duration.ofSeconds(10), Duration.ofSeconds(5), 101))
            .misfire(new MisfirePolicy(MisfirePolicy.Mode.RUN_ALL, Duration.ZERO, 5000))
            .historyRetention(0)
            .build();
    List<String> problems = problems(spec);
    List<String> paths = JobSpecValidator.validate(spec).stream().map(FieldError::path).toList();
    assertEquals(
        List.of(
            "name",
            "schedule",
            "zone",
            "command.argv[0]",
            "env[1BAD]",
            "env[PAXCRON_RUN_ID]",
            "workingDirectory",
            "agentSelector[-bad]",
            "timeout",
            "retries.maxAttempts",
            "retries.backoffMax",
            "retries.jitterPercent",
            "misfire.window",
            "misfire.maxCount",
            "historyRetention"),
        paths,
        String.join("\n", problems));
    assertTrue(
        problems.contains("retries.maxAttempts: must be 1..100 (MAX_ATTEMPTS), got 0"),
        problems::toString);
    assertTrue(
        problems.contains("timeout: must be 1s..7d (MAX_TIMEOUT), got 8d"), problems::toString);
    assertTrue(
        problems.contains("historyRetention: must be 1..10000 (MAX_HISTORY_RETENTION), got 0"),
        problems::toString);
  }

  @Test
  void namesMustBeDnsLabels() {
    for (String good : List.of("a", "backup-db", "job1", "0abc", "a".repeat(63))) {
      assertEquals(List.of(), JobSpecValidator.validateName(good), good);
    }
    for (String bad : List.of("", "-a", "a-", "A", "a_b", "a.b", "a b", "a".repeat(64), "ä")) {
      assertEquals(1, JobSpecValidator.validateName(bad).size(), bad);
    }
  }

  @Test
  void retriesNeedAtLeastOnceSemantics() {
    RetryPolicy threeAttempts =
        new RetryPolicy(3, Duration.ofSeconds(10), Duration.ofMinutes(10), 20);
    List<String> problems = problems(Fixture.job("a", "* * * * *").retries(threeAttempts).build());
    assertEquals(1, problems.size());
    assertTrue(
        problems.get(0).startsWith("retries.maxAttempts: must be 1 for at-most-once semantics"));
    assertEquals(
        List.of(),
        problems(
            Fixture.job("a", "* * * * *")
                .retries(threeAttempts)
                .semantics(Semantics.AT_LEAST_ONCE)
                .build()));
  }

  @Test
  void commandLimitsAreNamed() {
    String big = "x".repeat(JobSpecValidator.MAX_COMMAND_BYTES + 1);
    assertEquals(
        List.of("command.shell: larger than 65536 bytes (MAX_COMMAND_BYTES), got 65537"),
        problems(JobSpec.builder("a", "* * * * *", new JobCommand.Shell(big)).build()));
    assertEquals(
        List.of("command.shell: must not be empty"),
        problems(JobSpec.builder("a", "* * * * *", new JobCommand.Shell(" ")).build()));
    assertEquals(
        List.of("command.argv: must name a program"),
        problems(JobSpec.builder("a", "* * * * *", new JobCommand.Argv(List.of())).build()));
  }

  @Test
  void quartzSyntaxAndQuestionMarksAndEveryAreAccepted() {
    assertEquals(
        List.of(), problems(Fixture.job("q", "0 15 10 ? * MON-FRI").syntax(Syntax.QUARTZ).build()));
    assertEquals(List.of(), problems(Fixture.job("g", "? ? * * *").build()));
    assertEquals(List.of(), problems(Fixture.job("e", "@every 90s").build()));
    List<String> reboot = problems(Fixture.job("r", "@reboot").build());
    assertEquals(1, reboot.size());
    assertTrue(reboot.get(0).startsWith("schedule: column 1: "), reboot::toString);
  }

  @Test
  void shellCommandRunsUnderBinSh() {
    assertEquals(
        List.of("/bin/sh", "-c", "echo hi | wc"), new JobCommand.Shell("echo hi | wc").argv());
  }

  @Test
  void backoffDoublesUpToItsMaximum() {
    RetryPolicy retries = new RetryPolicy(10, Duration.ofSeconds(10), Duration.ofSeconds(60), 0);
    assertEquals(Duration.ofSeconds(10), retries.backoffAfter(1));
    assertEquals(Duration.ofSeconds(20), retries.backoffAfter(2));
    assertEquals(Duration.ofSeconds(40), retries.backoffAfter(3));
    assertEquals(Duration.ofSeconds(60), retries.backoffAfter(4));
    assertEquals(Duration.ofSeconds(60), retries.backoffAfter(100));
  }
}
