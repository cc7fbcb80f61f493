package io.paxcron.bench.schedule;

import io.paxcron.schedule.CronExpression;
import io.paxcron.schedule.LaunchDensity;
import io.paxcron.schedule.QuestionMarkResolver;
import io.paxcron.schedule.Resolution;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Locale;

/**
 * Prints how evenly N daily jobs spread over the minutes of a week when written {@code ? ? * * *}
 * (resolved one at a time, in creation order, by {@link QuestionMarkResolver}), {@code 0 0 * * *},
 * and Jenkins-style {@code H H * * *} (minute and hour = hash of the job name mod range).
 *
 * <p>Usage: {@code QuestionMarkSpreadReport [jobs]} (default 10000, at most {@value #MAX_JOBS}).
 */
public final class QuestionMarkSpreadReport {
  static final int DEFAULT_JOBS = 10_000;
  static final int MAX_JOBS = 1_000_000;

  /** The instant whose zone offsets place the jobs; fixed so the report is reproducible. */
  static final Instant REFERENCE = Instant.parse("2024-01-10T00:00:00Z");

  private QuestionMarkSpreadReport() {}

  public static void main(String[] args) {
    int jobs = args.length > 0 ? Integer.parseInt(args[0]) : DEFAULT_JOBS;
    if (jobs < 1 || jobs > MAX_JOBS) {
      System.err.println("jobs must be 1.." + MAX_JOBS + ", got " + jobs);
      System.exit(2);
    }
    ZoneId zone = ZoneOffset.UTC;

    LaunchDensity questionMarks = new LaunchDensity();
    long startNanos = System.nanoTime();
    for (int i = 0; i < jobs; i++) {
      Resolution resolution =
          QuestionMarkResolver.resolve(
              name(i), CronExpression.parse("? ? * * *"), zone, REFERENCE, questionMarks);
      questionMarks.add(resolution.resolved(), zone, REFERENCE);
    }
    long resolveMillis = (System.nanoTime() - startNanos) / 1_000_000;

    LaunchDensity midnight = new LaunchDensity();
    CronExpression zeroZero = CronExpression.parse("0 0 * * *");
    for (int i = 0; i < jobs; i++) {
      midnight.add(zeroZero, zone, REFERENCE);
    }

    LaunchDensity jenkins = new LaunchDensity();
    for (int i = 0; i < jobs; i++) {
      int minute = (int) Long.remainderUnsigned(sha256Prefix(name(i) + "/minute"), 60);
      int hour = (int) Long.remainderUnsigned(sha256Prefix(name(i) + "/hour"), 24);
      jenkins.add(CronExpression.parse(minute + " " + hour + " * * *"), zone, REFERENCE);
    }

    System.out.printf(
        Locale.ROOT,
        "%d daily jobs in UTC; launches per minute over one week (10,080 minutes)%n",
        jobs);
    System.out.printf(
        Locale.ROOT, "%-32s %10s %10s %10s%n", "written as", "peak/min", "mean/min", "peak/mean");
    row("? ? * * *  (Paxcron, load-aware)", questionMarks);
    row("0 0 * * *", midnight);
    row("H H * * *  (Jenkins-style hash)", jenkins);
    System.out.printf(
        Locale.ROOT, "resolved %d ? jobs one at a time in %d ms%n", jobs, resolveMillis);
  }

  private static String name(int i) {
    return String.format(Locale.ROOT, "job-%05d", i);
  }

  private static void row(String label, LaunchDensity density) {
    System.out.printf(
        Locale.ROOT,
        "%-32s %10d %10.2f %10.2f%n",
        label,
        density.peakLaunchesPerMinute(),
        density.meanLaunchesPerMinute(),
        density.peakToMean());
  }

  /**
   * The first 8 bytes of SHA-256: a well-mixed hash, so the H row shows what any name hash achieves
   * (Jenkins itself derives H from an MD5 of the job name), not a weak hash's clumping.
   */
  private static long sha256Prefix(String text) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.wrap(digest).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK provides SHA-256", e);
    }
  }
}
