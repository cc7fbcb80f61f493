package io.paxcron.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

final class AgentCommandTest {
  @TempDir Path dir;

  private String error(String... args) {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CommandLine command =
        new CommandLine(
            new AgentCommand(
                new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8)));
    command.setErr(new java.io.PrintWriter(err, true, StandardCharsets.UTF_8));
    command.setParameterExceptionHandler(
        (e, ignored) -> {
          command.getErr().println(e.getMessage());
          return 2;
        });
    assertEquals(2, command.execute(args));
    return err.toString(StandardCharsets.UTF_8).strip();
  }

  @Test
  void badFlagsAreRefusedWithOneLineNamingTheFlag() {
    String data = dir.toString();
    assertEquals(
        "--name: 'Bad_Name' must be 1-63 of a-z 0-9 '-', starting and ending alphanumeric",
        error("--cluster", "h:1", "--name", "Bad_Name", "--data-dir", data));
    assertEquals(
        "--cluster: 'nohost' is not host:port",
        error("--cluster", "nohost", "--name", "a", "--data-dir", data));
    assertEquals(
        "--capacity: must be 1..10000, got 0",
        error("--cluster", "h:1", "--name", "a", "--data-dir", data, "--capacity", "0"));
    assertEquals(
        "--label: 'pool' is not k=v",
        error("--cluster", "h:1", "--name", "a", "--data-dir", data, "--label", "pool"));
    assertEquals(
        "--heartbeat-interval: 'soon' is not a duration like 500ms, 30s, 12h or 7d",
        error(
            "--cluster", "h:1", "--name", "a", "--data-dir", data, "--heartbeat-interval", "soon"));
    assertEquals(
        "Missing required option: '--data-dir=<dataDir>'",
        error("--cluster", "h:1", "--name", "a"));
  }

  @Test
  void aCorruptJournalIsRefusedNamingTheFileAndOffset() throws Exception {
    Path data = dir.resolve("data");
    java.nio.file.Files.createDirectories(data);
    byte[] journal =
        io.paxcron.agent.core.JournalCodec.encode(
            java.util.List.of(
                new io.paxcron.agent.core.JournalRecord.FenceRaised(
                    new io.paxcron.agent.core.FenceBallot(0, 1, 1)),
                new io.paxcron.agent.core.JournalRecord.FenceRaised(
                    new io.paxcron.agent.core.FenceBallot(0, 2, 1))));
    journal[6] ^= 1;
    java.nio.file.Files.write(data.resolve("agent.journal"), journal);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CommandLine command =
        new CommandLine(
            new AgentCommand(
                new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8)));
    assertEquals(
        1,
        command.execute("--cluster", "127.0.0.1:1", "--name", "a", "--data-dir", data.toString()));
    assertEquals(
        "--data-dir: "
            + data.resolve("agent.journal")
            + ": offset 0: agent journal record, format version 2: checksum mismatch in a frame of "
            + (journal.length / 2 - io.paxcron.paxos.Frame.HEADER_BYTES)
            + " bytes that is followed by more frames",
        err.toString(StandardCharsets.UTF_8).strip());
  }

  @Test
  void flagsBuildTheOptions() {
    AgentCommand command = new AgentCommand();
    new CommandLine(command)
        .parseArgs(
            "--cluster",
            "a:1,b:2",
            "--name",
            "build-01",
            "--label",
            "pool=build",
            "--capacity",
            "8",
            "--data-dir",
            dir.toString(),
            "--output-max-bytes",
            "4096",
            "--output-retention",
            "10,12h",
            "--allow-user",
            "deploy",
            "--heartbeat-interval",
            "250ms");
    AgentOptions options = command.options();
    assertEquals(java.util.List.of("a:1", "b:2"), options.cluster());
    assertEquals(Map.of("pool", "build"), options.labels());
    assertEquals(8, options.capacity());
    assertEquals(4096, options.outputMaxBytes());
    assertEquals(10, options.outputRetentionRuns());
    assertEquals(Duration.ofHours(12), options.outputRetentionAge());
    assertEquals(Set.of("deploy"), options.allowedUsers());
    assertEquals(Duration.ofMillis(250), options.heartbeatInterval());
  }
}
