package io.paxcron.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.api.auth.ClientSecurity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliSecurityTest {
  @TempDir Path home;

  private Path tokenFile(String text, String permissions) throws Exception {
    Path file = home.resolve("token");
    Files.writeString(file, text);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
    return file;
  }

  @Test
  void theTokenComesFromTheEnvironmentThenATokenFileThenTheConfigFile() throws Exception {
    Path file = tokenFile("pxc_from_file\n", "rw-------");
    Path config = home.resolve("cli.conf");
    Files.writeString(config, "cluster = a:1\ntoken-file = " + file + "\ntls-trust = /ca.pem\n");
    assertEquals(
        Optional.of("pxc_inline"),
        CliSecurity.resolve(
                Map.of("PAXCRON_TOKEN", "pxc_inline", "PAXCRON_CONFIG", config.toString()), home)
            .bearer()
            .get());
    ClientSecurity fromConfig =
        CliSecurity.resolve(Map.of("PAXCRON_CONFIG", config.toString()), home);
    assertEquals(Optional.of("pxc_from_file"), fromConfig.bearer().get());
    assertEquals(Optional.of(Path.of("/ca.pem")), fromConfig.trust());
    assertEquals(
        Optional.of("pxc_from_file"),
        CliSecurity.resolve(Map.of("PAXCRON_TOKEN_FILE", file.toString()), home).bearer().get());
    assertEquals(Optional.empty(), CliSecurity.resolve(Map.of(), home).bearer().get());
  }

  @Test
  void aTokenFileOthersMayReadIsRefusedNamingTheFile() throws Exception {
    Path file = tokenFile("pxc_secret", "rw-r--r--");
    CliSecurity.Problem problem =
        assertThrows(
            CliSecurity.Problem.class,
            () -> CliSecurity.resolve(Map.of("PAXCRON_TOKEN_FILE", file.toString()), home));
    assertTrue(
        problem.getMessage().startsWith(file + ": the token file is readable by other users"));
  }
}
