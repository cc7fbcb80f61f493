package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {

  @TempDir Path dir;

  private Map<String, ServerConfig.Setting> flags(String... keyValues) {
    Map<String, ServerConfig.Setting> settings = new LinkedHashMap<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      settings.put(keyValues[i], new ServerConfig.Setting(keyValues[i + 1], "--" + keyValues[i]));
    }
    return settings;
  }

  @Test
  void validConfigFileIsParsed() throws Exception {
    Path file = dir.resolve("paxcron.conf");
    Files.writeString(
        file,
        """
        # a comment
        id = 2
        cluster-id = demo
        data-dir = %s
        peer.1 = 127.0.0.1:7001:7101
        peer.2 = 127.0.0.1:7002:7102   # this one
        peer.3 = 127.0.0.1:7003:7103
        """
            .formatted(dir.resolve("data")));
    ServerConfig config = ServerConfig.from(ServerConfig.readFile(file));
    assertEquals(2, config.id());
    assertEquals("127.0.0.1:7102", config.peers().get(2).clientAddress());
    assertEquals(ServerConfig.DEFAULT_SNAPSHOT_EVERY_ENTRIES, config.snapshotEveryEntries());
    assertEquals(io.paxcron.paxos.ProposalFanout.QUORUM, config.proposalFanout());
  }

  @Test
  void proposalFanoutIsQuorumOrAllAndABadValueIsNamed() throws Exception {
    String[] valid = {
      "id", "1", "cluster-id", "demo", "data-dir", dir.toString(), "peer.1", "127.0.0.1:7001:7101"
    };
    String[] all = java.util.Arrays.copyOf(valid, valid.length + 2);
    all[valid.length] = "proposal-fanout";
    all[valid.length + 1] = "all";
    assertEquals(
        io.paxcron.paxos.ProposalFanout.ALL, ServerConfig.from(flags(all)).proposalFanout());

    all[valid.length + 1] = "everyone";
    ServerConfig.ConfigException error =
        assertThrows(ServerConfig.ConfigException.class, () -> ServerConfig.from(flags(all)));
    assertEquals(
        List.of("--proposal-fanout: proposal-fanout 'everyone' must be quorum or all"),
        error.problems());
  }

  @Test
  void acceptAndCommandPortsAreAnyOffOrAPortAndABadValueIsNamed() throws Exception {
    String[] valid = {
      "id", "1", "cluster-id", "demo", "data-dir", dir.toString(), "peer.1", "127.0.0.1:7001:7101"
    };
    assertEquals(0, ServerConfig.from(flags(valid)).acceptPort());
    assertEquals(0, ServerConfig.from(flags(valid)).commandPort());
    for (String name : List.of("accept-port", "command-port")) {
      java.util.function.ToIntFunction<ServerConfig> port =
          name.equals("accept-port") ? ServerConfig::acceptPort : ServerConfig::commandPort;
      String[] all = java.util.Arrays.copyOf(valid, valid.length + 2);
      all[valid.length] = name;
      all[valid.length + 1] = "off";
      assertEquals(-1, port.applyAsInt(ServerConfig.from(flags(all))));
      all[valid.length + 1] = "7301";
      assertEquals(7301, port.applyAsInt(ServerConfig.from(flags(all))));
      all[valid.length + 1] = "any";
      assertEquals(0, port.applyAsInt(ServerConfig.from(flags(all))));

      for (String bad : List.of("socket", "70000", "0")) {
        all[valid.length + 1] = bad;
        ServerConfig.ConfigException error =
            assertThrows(ServerConfig.ConfigException.class, () -> ServerConfig.from(flags(all)));
        assertEquals(1, error.problems().size(), bad);
        String problem = error.problems().get(0);
        assertTrue(problem.startsWith("--" + name + ": " + name), problem);
      }
    }
    assertEquals(-1, ServerConfig.ACCEPT_PORT_OFF);
    assertEquals(-1, ServerConfig.COMMAND_PORT_OFF);
  }

  @Test
  void badLineInConfigFileNamesFileLineAndColumn() throws Exception {
    Path file = dir.resolve("bad.conf");
    Files.writeString(file, "id = 1\n  peer.1 127.0.0.1:7001:7101\n");
    ServerConfig.ConfigException error =
        assertThrows(ServerConfig.ConfigException.class, () -> ServerConfig.readFile(file));
    assertEquals(List.of(file + ":2:3: expected 'key = value', found no '='"), error.problems());
  }

  @Test
  void badValueInConfigFileNamesTheColumnOfTheValue() throws Exception {
    Path file = dir.resolve("bad.conf");
    Files.writeString(
        file,
        "id = one\ncluster-id = demo\ndata-dir = " + dir + "\n" + "peer.1 = 127.0.0.1:7001:7101\n");
    ServerConfig.ConfigException error =
        assertThrows(
            ServerConfig.ConfigException.class,
            () -> ServerConfig.from(ServerConfig.readFile(file)));
    assertEquals(List.of(file + ":1:6: id 'one' is not a whole number"), error.problems());
  }

  @Test
  void idThatIsNotAPeerIsRejected() {
    ServerConfig.ConfigException error =
        assertThrows(
            ServerConfig.ConfigException.class,
            () ->
                ServerConfig.from(
                    flags(
                        "id",
                        "4",
                        "cluster-id",
                        "demo",
                        "data-dir",
                        dir.toString(),
                        "peer.1",
                        "127.0.0.1:7001:7101",
                        "peer.2",
                        "127.0.0.1:7002:7102")));
    assertEquals(List.of("id: 4 is not one of the peer ids [1, 2]"), error.problems());
  }

  @Test
  void duplicatePortsAreRejectedNamingBothPeers() {
    ServerConfig.ConfigException error =
        assertThrows(
            ServerConfig.ConfigException.class,
            () ->
                ServerConfig.from(
                    flags(
                        "id",
                        "1",
                        "cluster-id",
                        "demo",
                        "data-dir",
                        dir.toString(),
                        "peer.1",
                        "127.0.0.1:7001:7101",
                        "peer.2",
                        "127.0.0.1:7101:7102")));
    assertEquals(
        List.of("--peer.2: port 7101 on 127.0.0.1 is already used by peer.1"), error.problems());
  }

  @Test
  void unwritableDataDirIsRejected() throws Exception {
    Path file = dir.resolve("not-a-dir");
    Files.writeString(file, "x");
    ServerConfig.ConfigException error =
        assertThrows(
            ServerConfig.ConfigException.class,
            () ->
                ServerConfig.from(
                    flags(
                        "id",
                        "1",
                        "cluster-id",
                        "demo",
                        "data-dir",
                        file.resolve("sub").toString(),
                        "peer.1",
                        "127.0.0.1:7001:7101")));
    assertTrue(error.getMessage().startsWith("data-dir: "), error.getMessage());
  }

  @Test
  void everyProblemIsReportedAtOnceAndUnknownSettingsAreNamed() {
    ServerConfig.ConfigException error =
        assertThrows(
            ServerConfig.ConfigException.class,
            () -> ServerConfig.from(flags("colour", "blue", "peer.1", "127.0.0.1:70000:7101")));
    assertEquals(
        List.of(
            "--colour: unknown setting 'colour'; known: id, cluster-id, data-dir, peer.<id>,"
                + " backup-dir, snapshot-every-entries, proposal-fanout, accept-port, command-port, tls-cert, tls-key, tls-trust,"
                + " state-machine,"
                + " http-port, metrics-per-job, max-jobs, max-ledger-records, max-apply-jobs, join, backup-target,"
                + " backup-interval, backup-every-entries,"
                + " backup-keep, backup-max-age, backup-timeout,"
                + " api-tls-cert, api-tls-key, api-tls-client-trust, auth, insecure, write-rate-limit,"
                + " dashboard-token-file",
            "--peer.1: peer port 70000 is outside 1..65535",
            "id: missing (this replica's id, one of the peer ids)",
            "cluster-id: missing",
            "data-dir: missing",
            "peer.<id>: no peers given (every replica, this one included)"),
        error.problems());
  }

  @Test
  void httpPortIsOffByDefaultAndValidatedWithItsOrigin() throws Exception {
    ServerConfig off =
        ServerConfig.from(
            flags(
                "id",
                "1",
                "cluster-id",
                "demo",
                "data-dir",
                dir.resolve("data").toString(),
                "peer.1",
                "127.0.0.1:7001:7101"));
    assertEquals(0, off.httpPort());
    assertEquals(false, off.metricsPerJob());

    ServerConfig on =
        ServerConfig.from(
            flags(
                "id",
                "1",
                "cluster-id",
                "demo",
                "data-dir",
                dir.resolve("data").toString(),
                "peer.1",
                "127.0.0.1:7001:7101",
                "http-port",
                "7201",
                "metrics-per-job",
                "true"));
    assertEquals(7201, on.httpPort());
    assertTrue(on.metricsPerJob());

    ServerConfig.ConfigException error =
        assertThrows(
            ServerConfig.ConfigException.class,
            () ->
                ServerConfig.from(
                    flags(
                        "id",
                        "1",
                        "cluster-id",
                        "demo",
                        "data-dir",
                        dir.resolve("data").toString(),
                        "peer.1",
                        "127.0.0.1:7001:7101",
                        "http-port",
                        "7101",
                        "metrics-per-job",
                        "yes")));
    assertEquals(
        List.of(
            "--metrics-per-job: metrics-per-job 'yes' must be true or false",
            "--http-port: http-port 7101 on 127.0.0.1 is already used by peer.1"),
        error.problems());

    ServerConfig.ConfigException range =
        assertThrows(
            ServerConfig.ConfigException.class,
            () ->
                ServerConfig.from(
                    flags(
                        "id",
                        "1",
                        "cluster-id",
                        "demo",
                        "data-dir",
                        dir.resolve("data").toString(),
                        "peer.1",
                        "127.0.0.1:7001:7101",
                        "http-port",
                        "70000")));
    assertEquals(List.of("--http-port: http-port 70000 is outside 0..65535"), range.problems());
  }

  @Test
  void jobAndLedgerLimitsAreSettingsValidatedWithTheirNames() throws Exception {
    ServerConfig defaults =
        ServerConfig.from(
            flags(
                "id",
                "1",
                "cluster-id",
                "demo",
                "data-dir",
                dir.resolve("data").toString(),
                "peer.1",
                "127.0.0.1:7001:7101"));
    assertEquals(io.paxcron.scheduler.CronLimits.DEFAULT, defaults.limits());

    ServerConfig set =
        ServerConfig.from(
            flags(
                "id",
                "1",
                "cluster-id",
                "demo",
                "data-dir",
                dir.resolve("data").toString(),
                "peer.1",
                "127.0.0.1:7001:7101",
                "max-jobs",
                "2000000",
                "max-ledger-records",
                "5000000",
                "max-apply-jobs",
                "250"));
    assertEquals(new io.paxcron.scheduler.CronLimits(2_000_000, 5_000_000), set.limits());
    assertEquals(250, set.maxApplyJobs());

    ServerConfig.ConfigException error =
        assertThrows(
            ServerConfig.ConfigException.class,
            () ->
                ServerConfig.from(
                    flags(
                        "id",
                        "1",
                        "cluster-id",
                        "demo",
                        "data-dir",
                        dir.resolve("data").toString(),
                        "peer.1",
                        "127.0.0.1:7001:7101",
                        "max-jobs",
                        "0",
                        "max-ledger-records",
                        "lots",
                        "max-apply-jobs",
                        "1001")));
    assertEquals(
        List.of(
            "--max-jobs: max-jobs 0 is outside 1..10000000",
            "--max-ledger-records: max-ledger-records 'lots' is not a whole number",
            "--max-apply-jobs: max-apply-jobs 1001 is outside 1..1000"),
        error.problems());
  }

  @Test
  void backupSettingsAreParsedAndEachBadOneIsNamed() throws Exception {
    ServerConfig config =
        ServerConfig.from(
            flags(
                "id",
                "1",
                "cluster-id",
                "demo",
                "data-dir",
                dir.resolve("data").toString(),
                "peer.1",
                "127.0.0.1:7001:7101",
                "backup-target",
                "s3://paxcron-backups/demo?endpoint=http://127.0.0.1:9000",
                "backup-interval",
                "15m",
                "backup-every-entries",
                "5000",
                "backup-keep",
                "10",
                "backup-max-age",
                "7d"));
    BackupSettings backup = config.backup();
    assertEquals(
        "paxcron-backups",
        ((io.paxcron.paxos.backup.TargetUrl.S3) backup.target().orElseThrow()).bucket());
    assertEquals(java.time.Duration.ofMinutes(15), backup.interval());
    assertEquals(5000, backup.everyEntries());
    assertEquals(10, backup.keep());
    assertEquals(java.util.Optional.of(java.time.Duration.ofDays(7)), backup.maxAge());

    ServerConfig.ConfigException error =
        assertThrows(
            ServerConfig.ConfigException.class,
            () ->
                ServerConfig.from(
                    flags(
                        "id",
                        "1",
                        "cluster-id",
                        "demo",
                        "data-dir",
                        dir.resolve("data").toString(),
                        "peer.1",
                        "127.0.0.1:7001:7101",
                        "backup-target",
                        "s3://paxcron-backups/x?secret=hunter2",
                        "backup-interval",
                        "soon",
                        "backup-keep",
                        "0")));
    assertEquals(3, error.problems().size(), error.problems().toString());
    assertTrue(
        error.problems().get(0).startsWith("--backup-target: backup-target"),
        error.problems().get(0));
    assertTrue(!error.getMessage().contains("hunter2"), error.getMessage());
    assertTrue(
        error
            .problems()
            .get(1)
            .startsWith("--backup-interval: backup-interval 'soon': " + "is not a duration"),
        error.problems().get(1));
    assertTrue(
        error.problems().get(2).startsWith("--backup-keep: backup-keep '0': is outside"),
        error.problems().get(2));
  }

  @Test
  void aReplicaOnANonLoopbackAddressWithoutTlsOrAuthRefusesToStart() {
    ServerConfig.ConfigException e =
        assertThrows(
            ServerConfig.ConfigException.class,
            () ->
                ServerConfig.from(
                    flags(
                        "id", "1",
                        "cluster-id", "prod",
                        "data-dir", dir.resolve("data").toString(),
                        "peer.1", "10.0.0.1:7001:7101")));
    assertEquals(
        List.of(
            "insecure: refusing to start: 10.0.0.1 is not a loopback address and the replica runs"
                + " without TLS between replicas (tls-cert, tls-key, tls-trust), TLS on the client"
                + " port (api-tls-cert, api-tls-key), auth (auth = token); configure them"
                + " (docs/security.md) or accept the risk with --insecure"),
        e.problems());
  }

  @Test
  void insecureStartsAnywayAndNamesWhatIsMissing() throws Exception {
    ServerConfig config =
        ServerConfig.from(
            flags(
                "id", "1",
                "cluster-id", "prod",
                "data-dir", dir.resolve("data").toString(),
                "peer.1", "10.0.0.1:7001:7101",
                "auth", "token",
                "insecure", "true"));
    assertTrue(config.security().authOn());
    assertEquals(
        java.util.Optional.of(
            "10.0.0.1 is not a loopback address and the replica runs without TLS between replicas"
                + " (tls-cert, tls-key, tls-trust), TLS on the client port (api-tls-cert,"
                + " api-tls-key)"),
        config.insecureReason());
  }

  @Test
  void theLoopbackDemoNeedsNeitherTlsNorAuth() throws Exception {
    ServerConfig config =
        ServerConfig.from(
            flags(
                "id", "1",
                "cluster-id", "demo",
                "data-dir", dir.resolve("data").toString(),
                "peer.1", "127.0.0.1:7001:7101"));
    assertEquals(java.util.Optional.empty(), config.insecureReason());
    assertEquals(false, config.security().authOn());
  }

  @Test
  void badSecuritySettingsAreNamed() {
    ServerConfig.ConfigException e =
        assertThrows(
            ServerConfig.ConfigException.class,
            () ->
                ServerConfig.from(
                    flags(
                        "id", "1",
                        "cluster-id", "demo",
                        "data-dir", dir.resolve("data").toString(),
                        "peer.1", "127.0.0.1:7001:7101",
                        "auth", "password",
                        "write-rate-limit", "fast",
                        "api-tls-client-trust", dir.resolve("missing.pem").toString())));
    assertEquals(
        List.of(
            "--auth: auth 'password' must be token or off",
            "--write-rate-limit: write-rate-limit 'fast' is not a number (writes per second)",
            "--api-tls-client-trust: api-tls-client-trust file "
                + dir.resolve("missing.pem")
                + " is not readable",
            "api-tls-client-trust: client certificates need TLS (api-tls-cert, api-tls-key)"),
        e.problems());
  }

  @Test
  void theDashboardTokenFileMustHoldOneTokenOnlyItsOwnerReads() throws Exception {
    Path open = dir.resolve("open.token");
    Files.writeString(open, "pxc_0123456789abcdef_secret\n");
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
    Path junk = dir.resolve("junk.token");
    Files.writeString(junk, "hunter2\n");
    Files.setPosixFilePermissions(junk, PosixFilePermissions.fromString("rw-------"));
    for (Path file : List.of(open, junk)) {
      ServerConfig.ConfigException e =
          assertThrows(
              ServerConfig.ConfigException.class,
              () ->
                  ServerConfig.from(
                      flags(
                          "id", "1",
                          "cluster-id", "demo",
                          "data-dir", dir.resolve("data").toString(),
                          "peer.1", "127.0.0.1:7001:7101",
                          "dashboard-token-file", file.toString())));
      assertEquals(1, e.problems().size(), e.problems().toString());
      assertTrue(
          e.problems().get(0).startsWith("--dashboard-token-file: dashboard-token-file " + file),
          e.problems().get(0));
      assertTrue(
          e.problems().get(0).contains(file == open ? "chmod 600" : "does not hold one token"),
          e.problems().get(0));
    }
    Path good = dir.resolve("good.token");
    Files.writeString(good, "pxc_0123456789abcdef_secret\n");
    Files.setPosixFilePermissions(good, PosixFilePermissions.fromString("rw-------"));
    ServerConfig config =
        ServerConfig.from(
            flags(
                "id", "1",
                "cluster-id", "demo",
                "data-dir", dir.resolve("data").toString(),
                "peer.1", "127.0.0.1:7001:7101",
                "peer.2", "127.0.0.1:7002:7102",
                "auth", "token",
                "dashboard-token-file", good.toString()));
    assertEquals(
        java.util.Optional.of("pxc_0123456789abcdef_secret"), config.security().dashboardToken());
  }
}
