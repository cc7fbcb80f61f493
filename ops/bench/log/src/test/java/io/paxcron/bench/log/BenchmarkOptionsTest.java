package io.paxcron.bench.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BenchmarkOptionsTest {

  @Test
  void defaultsAreTheIssuesWorkload() throws Exception {
    BenchmarkOptions options = BenchmarkOptions.parse();
    assertEquals(30, options.measureSeconds());
    assertEquals(15, options.warmupSeconds());
    assertEquals(60, options.primeSeconds());
    assertEquals(List.of(1, 16, 128, 512), options.clientCounts());
    assertEquals(List.of(3, 5), options.replicaCounts());
    assertEquals(List.of("paxcron", "etcd", "zookeeper"), options.systems());
  }

  @Test
  void clusterSizesOtherThanThreeAndFiveAreRejected() {
    BenchmarkOptions.UsageError e =
        assertThrows(
            BenchmarkOptions.UsageError.class, () -> BenchmarkOptions.parse("--replicas", "3,4"));
    assertTrue(e.getMessage().contains("--replicas: 4 is neither 3 nor 5"), e.getMessage());
    assertThrows(
        BenchmarkOptions.UsageError.class, () -> BenchmarkOptions.parse("--replicas", "5,5"));
  }

  @Test
  void aShortRunIsParsed() throws Exception {
    BenchmarkOptions options =
        BenchmarkOptions.parse(
            "--seconds",
            "3",
            "--warmup",
            "1",
            "--prime",
            "0",
            "--clients",
            "1,16",
            "--systems",
            "zookeeper");
    assertEquals(3, options.measureSeconds());
    assertEquals(1, options.warmupSeconds());
    assertEquals(0, options.primeSeconds());
    assertEquals(List.of(1, 16), options.clientCounts());
    assertEquals(List.of("zookeeper"), options.systems());
  }

  @Test
  void allThreeSystemsRunByDefaultPaxcronFirst() throws Exception {
    assertEquals(List.of("paxcron", "etcd", "zookeeper"), BenchmarkOptions.parse().systems());
  }

  @Test
  void unknownSystemIsRejectedNamingTheKnownOnes() {
    BenchmarkOptions.UsageError e =
        assertThrows(
            BenchmarkOptions.UsageError.class, () -> BenchmarkOptions.parse("--systems", "consul"));
    assertTrue(e.getMessage().contains("unknown system 'consul'"), e.getMessage());
  }

  @Test
  void outOfRangeValuesNameTheOptionAndTheLimit() {
    BenchmarkOptions.UsageError e =
        assertThrows(
            BenchmarkOptions.UsageError.class, () -> BenchmarkOptions.parse("--clients", "1,2000"));
    assertTrue(e.getMessage().startsWith("--clients: 2000 outside 1.."), e.getMessage());
  }

  @Test
  void unknownOptionsAndMissingValuesAreErrors() {
    assertThrows(BenchmarkOptions.UsageError.class, () -> BenchmarkOptions.parse("--minutes", "3"));
    assertThrows(BenchmarkOptions.UsageError.class, () -> BenchmarkOptions.parse("--seconds"));
    assertThrows(
        BenchmarkOptions.UsageError.class, () -> BenchmarkOptions.parse("--clients", "1,1"));
  }
}
