package io.paxcron.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class JobNameTest {

  @Test
  void aDnsLabelIsAJobNameAndAnAgentIdAndPrintsBare() {
    assertEquals("nightly-backup", JobName.of("nightly-backup").toString());
    assertEquals("agent-1", AgentId.of("agent-1").toString());
    assertTrue(JobName.isValid("a".repeat(63)));
    assertNull(AgentId.problem("0"));
  }

  @Test
  void anythingElseIsRefusedWithTheReason() {
    assertEquals("must not be empty", JobName.problem(""));
    assertTrue(JobName.problem("a".repeat(64)).contains("longer than 63"));
    for (String bad : new String[] {"-a", "a-", "A", "a_b", "a b", "é"}) {
      assertFalse(JobName.isValid(bad), bad);
      assertFalse(AgentId.isValid(bad), bad);
    }
    IllegalArgumentException refused =
        assertThrows(IllegalArgumentException.class, () -> new AgentId("Bad"));
    assertTrue(refused.getMessage().startsWith("agent id: must be a DNS label"));
  }

  @Test
  void namesOrderAsTheirStrings() {
    assertTrue(JobName.of("a").compareTo(JobName.of("a-b")) < 0);
    assertTrue(JobName.of("b").compareTo(JobName.of("a9")) > 0);
    assertEquals(JobName.of("x"), JobName.of("x"));
  }
}
