package io.paxcron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClusterAddressTest {
  private static final Path HOME = Path.of("/home/ops");
  private static final Path DEFAULT_CONFIG = Path.of("/home/ops/.config/paxcron/cli.conf");

  private static ClusterAddress.FileReader files(Map<Path, String> files) {
    return file -> Optional.ofNullable(files.get(file));
  }

  @Test
  void flagWinsOverEnvironmentWhichWinsOverTheConfigFile() throws Exception {
    ClusterAddress.FileReader config = files(Map.of(DEFAULT_CONFIG, "cluster = c:3\n"));
    Map<String, String> env = Map.of("PAXCRON_CLUSTER", "b:2");
    assertEquals(
        new ClusterAddress(List.of("a:1", "a:2"), "--cluster"),
        ClusterAddress.resolve("a:1, a:2", env, HOME, config));
    assertEquals(
        new ClusterAddress(List.of("b:2"), "PAXCRON_CLUSTER"),
        ClusterAddress.resolve(null, env, HOME, config));
    assertEquals(
        new ClusterAddress(List.of("c:3"), DEFAULT_CONFIG + ":1"),
        ClusterAddress.resolve(null, Map.of(), HOME, config));
  }

  @Test
  void paxcronConfigNamesAnotherConfigFile() throws Exception {
    Path other = Path.of("/etc/paxcron/cli.conf");
    ClusterAddress.FileReader config =
        files(Map.of(other, "# shared\n\ncluster=r1:7001,r2:7001\n"));
    assertEquals(
        List.of("r1:7001", "r2:7001"),
        ClusterAddress.resolve(null, Map.of("PAXCRON_CONFIG", other.toString()), HOME, config)
            .addresses());
  }

  @Test
  void missingOrMalformedAddressesNameWhereTheyCameFrom() {
    ClusterAddress.MissingException none =
        assertThrows(
            ClusterAddress.MissingException.class,
            () -> ClusterAddress.resolve(null, Map.of(), HOME, files(Map.of())));
    assertTrue(none.getMessage().contains(DEFAULT_CONFIG.toString()), none.getMessage());
    ClusterAddress.MissingException badPort =
        assertThrows(
            ClusterAddress.MissingException.class,
            () ->
                ClusterAddress.resolve(
                    null, Map.of("PAXCRON_CLUSTER", "host:99999"), HOME, files(Map.of())));
    assertEquals("PAXCRON_CLUSTER: 'host:99999' is not HOST:PORT", badPort.getMessage());
    ClusterAddress.MissingException badKey =
        assertThrows(
            ClusterAddress.MissingException.class,
            () ->
                ClusterAddress.resolve(
                    null, Map.of(), HOME, files(Map.of(DEFAULT_CONFIG, "server = x:1\n"))));
    assertEquals(
        DEFAULT_CONFIG + ":1: unknown key 'server'; the CLI config knows 'cluster'",
        badKey.getMessage());
  }
}
