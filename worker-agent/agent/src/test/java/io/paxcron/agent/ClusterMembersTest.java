package io.paxcron.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterMembersTest {
  @TempDir Path dir;

  private static final List<String> GIVEN = List.of("10.0.0.1:7101", "10.0.0.2:7101");

  @Test
  void learnedMembersComeFirstAndSurviveARestartUnderTheSameClusterFlag() throws Exception {
    ClusterMembers members = ClusterMembers.load(dir, GIVEN);
    assertEquals(GIVEN, members.candidates());
    assertTrue(members.learn(List.of("10.0.0.9:7101", "10.0.0.2:7101")));
    assertFalse(members.learn(List.of("10.0.0.9:7101", "10.0.0.2:7101")), "unchanged");
    List<String> expected = List.of("10.0.0.9:7101", "10.0.0.2:7101", "10.0.0.1:7101");
    assertEquals(expected, members.candidates());
    assertEquals(expected, ClusterMembers.load(dir, GIVEN).candidates());
  }

  @Test
  void aChangedClusterFlagDiscardsTheKeptListAndBadAddressesAreDropped() throws Exception {
    ClusterMembers members = ClusterMembers.load(dir, GIVEN);
    assertFalse(members.learn(List.of()), "an empty list changes nothing");
    assertFalse(members.learn(List.of("no-port", " ", "a:b")), "nothing valid changes nothing");
    assertTrue(members.learn(List.of("10.0.0.9:7101", "bad address:1")));
    assertEquals(List.of("10.0.0.9:7101"), members.learned());
    List<String> elsewhere = List.of("192.168.0.1:7101");
    assertEquals(elsewhere, ClusterMembers.load(dir, elsewhere).candidates());
    Files.writeString(dir.resolve(ClusterMembers.FILE), "garbage\n");
    assertEquals(GIVEN, ClusterMembers.load(dir, GIVEN).candidates());
  }
}
