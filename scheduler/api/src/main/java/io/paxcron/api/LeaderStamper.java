package io.paxcron.api;

import io.paxcron.schedule.CronExpression;
import io.paxcron.schedule.InvalidScheduleException;
import io.paxcron.schedule.LaunchDensity;
import io.paxcron.schedule.QuestionMarkResolver;
import io.paxcron.schedule.Resolution;
import io.paxcron.schedule.Schedule;
import io.paxcron.schedule.ScheduleField;
import io.paxcron.scheduler.CronCommand;
import io.paxcron.scheduler.CronView;
import io.paxcron.scheduler.JobSpec;
import io.paxcron.scheduler.JobView;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The leader's half of a write: stamps {@link JobChange}s with the leader's clock and chooses the
 * values of Google's {@code ?} (DESIGN §4: "the leader proposes the concrete values together with
 * the job"). Pure: the stamp and the density are arguments, so a {@link CronCluster} implementation
 * calls it on the thread that owns the state machine, right before proposing, with its own clock's
 * reading.
 *
 * <p>Jobs of one batch are resolved in order and each is added to the density before the next, so a
 * batch of {@code ? ? * * *} jobs spreads like the same jobs created one by one.
 */
public final class LeaderStamper {

  private LeaderStamper() {}

  /**
   * The commands for {@code changes}, all stamped {@code stampedAt}.
   *
   * @param view the applied state (to keep the {@code ?} values of an unchanged schedule)
   * @param density the launch density of the current job set; built only if a {@code ?} must be
   *     resolved (e.g. {@code cron::launchDensity}), then updated in place
   */
  public static List<CronCommand> stamp(
      List<JobChange> changes, Instant stampedAt, CronView view, Supplier<LaunchDensity> density) {
    List<CronCommand> commands = new ArrayList<>(changes.size());
    LaunchDensity built = null;
    for (JobChange change : changes) {
      Map<ScheduleField, Integer> chosen = Map.of();
      if (change instanceof JobChange.Put put) {
        Optional<CronExpression> unresolved = unresolved(put.spec());
        if (unresolved.isPresent()
            && !keepsChosenValues(put.spec(), RequestNames.job(view, put.name()))) {
          if (built == null) {
            built = density.get();
          }
          chosen = resolve(put.spec(), unresolved.get(), stampedAt, built);
        }
      }
      commands.add(change.toCommand(stampedAt, chosen));
    }
    return List.copyOf(commands);
  }

  /**
   * The expression if it parses and has a {@code ?} to resolve; invalid specs are left to the state
   * machine.
   */
  private static Optional<CronExpression> unresolved(JobSpec spec) {
    try {
      return Schedule.parse(spec.schedule(), spec.syntax()) instanceof CronExpression cron
              && !cron.isResolved()
          ? Optional.of(cron)
          : Optional.empty();
    } catch (InvalidScheduleException e) {
      return Optional.empty();
    }
  }

  /**
   * The state machine keeps the values already chosen when schedule text and syntax are unchanged.
   */
  private static boolean keepsChosenValues(JobSpec spec, Optional<JobView> existing) {
    return existing.isPresent()
        && !existing.get().chosen().isEmpty()
        && existing.get().spec().schedule().equals(spec.schedule())
        && existing.get().spec().syntax() == spec.syntax();
  }

  private static Map<ScheduleField, Integer> resolve(
      JobSpec spec, CronExpression cron, Instant stampedAt, LaunchDensity density) {
    ZoneId zone;
    try {
      zone = ZoneId.of(spec.zone());
    } catch (DateTimeException e) {
      return Map.of(); // the validator reports the zone
    }
    try {
      Resolution resolution =
          QuestionMarkResolver.resolve(spec.name(), cron, zone, stampedAt, density);
      density.add(resolution.resolved(), zone, stampedAt);
      return resolution.chosen();
    } catch (IllegalArgumentException e) {
      return Map.of(); // the state machine reports the schedule as invalid
    }
  }
}
