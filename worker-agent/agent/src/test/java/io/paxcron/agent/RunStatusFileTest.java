package io.paxcron.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run's wrapper writes its exit status with the shell's builtin {@code echo}, which opens the
 * file and then writes the line: the agent counts a status only once its line is whole.
 */
final class RunStatusFileTest {

  @Test
  void aStatusCountsOnlyOnceItsLineIsComplete(@TempDir Path run) throws Exception {
    assertNull(RunProcesses.statusOf(run), "no file yet");
    Files.writeString(run.resolve("status"), "");
    assertNull(RunProcesses.statusOf(run), "opened, not yet written (or the wrapper died there)");
    Files.writeString(run.resolve("status"), "12");
    assertNull(RunProcesses.statusOf(run), "a line without its end");
    Files.writeString(run.resolve("status"), "12\n");
    assertEquals(12, RunProcesses.statusOf(run));
    Files.writeString(run.resolve("status"), "0\n");
    assertEquals(0, RunProcesses.statusOf(run));
    Files.writeString(run.resolve("status"), "garbage\n");
    assertNull(RunProcesses.statusOf(run), "not a status");
  }
}
