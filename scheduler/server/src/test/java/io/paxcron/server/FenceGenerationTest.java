package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FenceGenerationTest {

  @TempDir Path dir;

  @Test
  void aDirectoryWithoutAGenerationIsGenerationZero() {
    assertEquals(0, FenceGeneration.read(dir));
  }

  @Test
  void aWrittenGenerationIsReadBack() throws Exception {
    FenceGeneration.write(dir, 7);
    assertEquals(7, FenceGeneration.read(dir));
    FenceGeneration.write(dir, 8);
    assertEquals(8, FenceGeneration.read(dir));
    assertTrue(Files.notExists(dir.resolve(FenceGeneration.FILE + ".tmp")), "the staging file is moved");
  }

  @Test
  void aDamagedGenerationFileIsRefusedNamingTheFileAndTheReason() throws Exception {
    Files.writeString(dir.resolve(FenceGeneration.FILE), "seven\n");
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> FenceGeneration.read(dir));
    assertTrue(error.getMessage().startsWith(dir.resolve(FenceGeneration.FILE) + ":1:1: the fence generation"),
        error.getMessage());
  }

  @Test
  void aFenceOfALaterGenerationOutranksEveryBallotOfThisOne() {
    var later = AgentProtos.fence(3, new io.paxcron.paxos.Ballot(1, 1));
    assertEquals(AgentProtos.ABOVE_EVERY_BALLOT, AgentProtos.ballot(2, later));
    assertEquals(io.paxcron.paxos.Ballot.ZERO, AgentProtos.ballot(4, later), "an older generation ranks below");
    assertEquals(new io.paxcron.paxos.Ballot(1, 1), AgentProtos.ballot(3, later));
  }
}
