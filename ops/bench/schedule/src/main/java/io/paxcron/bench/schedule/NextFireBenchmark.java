package io.paxcron.bench.schedule;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import io.paxcron.schedule.CronExpression;
import io.paxcron.schedule.DstPolicy;
import io.paxcron.schedule.NextFire;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Nanoseconds per next-fire computation: Paxcron's compiled evaluator against cron-utils 9.2.1 on
 * the same expressions, zones and starting instants. Each invocation asks for the next fire after a
 * different instant from a fixed, seeded set of {@value #INSTANTS} instants in 2020-2035, so
 * neither side can cache an answer.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class NextFireBenchmark {
  static final int INSTANTS = 1024;
  static final long SEED = 20_240_310L;

  @Param({"*/5 * * * *", "0 9 * * 1-5", "30 2 * * *", "0 0 1 * *", "15 10 13 * 5", "0 0 29 2 *"})
  public String expression;

  @Param({"UTC", "Europe/Berlin"})
  public String zone;

  private CronExpression ours;
  private ExecutionTime cronUtils;
  private Instant[] instants;
  private ZonedDateTime[] zonedInstants;
  private ZoneId zoneId;
  private int next;

  @Setup
  public void setUp() {
    zoneId = ZoneId.of(zone);
    ours = CronExpression.parse(expression);
    cronUtils =
        ExecutionTime.forCron(
            new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX))
                .parse(expression));
    SplittableRandom random = new SplittableRandom(SEED);
    long start = LocalDateTime.of(2020, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC);
    long end = LocalDateTime.of(2035, 12, 31, 0, 0).toEpochSecond(ZoneOffset.UTC);
    instants = new Instant[INSTANTS];
    zonedInstants = new ZonedDateTime[INSTANTS];
    for (int i = 0; i < INSTANTS; i++) {
      instants[i] = Instant.ofEpochSecond(random.nextLong(start, end));
      zonedInstants[i] = instants[i].atZone(zoneId);
    }
  }

  @Benchmark
  public NextFire paxcron() {
    int i = next++ & (INSTANTS - 1);
    return ours.next(instants[i], zoneId, DstPolicy.DEFAULT);
  }

  @Benchmark
  public Optional<ZonedDateTime> cronUtils() {
    int i = next++ & (INSTANTS - 1);
    return cronUtils.nextExecution(zonedInstants[i]);
  }
}
