package io.paxcron.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.paxcron.paxos.Configuration;
import io.paxcron.paxos.Membership;
import io.paxcron.paxos.ReplicaId;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class MemberViewTest {

  private static final Configuration START =
      Configuration.bootstrap(List.of(ReplicaId.of(1), ReplicaId.of(2), ReplicaId.of(3)));

  private static Configuration with(Map<Integer, String> voters, Map<Integer, String> learners) {
    return new Configuration(typed(voters), typed(learners));
  }

  private static TreeMap<ReplicaId, String> typed(Map<Integer, String> members) {
    TreeMap<ReplicaId, String> typed = new TreeMap<>();
    members.forEach((id, address) -> typed.put(ReplicaId.of(id), address));
    return typed;
  }

  @Test
  void aChangeThatDoesNotGovernYetIsDescribedInWords() {
    Configuration learning = with(Map.of(1, "", 2, "", 3, ""), Map.of(4, "h:7001:7101"));
    Membership membership = Membership.bootstrap(START).with(10, 42, learning);
    assertEquals("", MemberView.change(START, Membership.bootstrap(START), 11));
    assertEquals(
        "replica 4 added as a learner: voters [1, 2, 3] learners [4] from slot 42 (31 slots from"
            + " now)",
        MemberView.change(START, membership, 11));
    assertEquals("", MemberView.change(learning, membership, 42));

    Configuration promoted = with(Map.of(1, "", 2, "", 3, "", 4, "h:7001:7101"), Map.of());
    assertEquals(
        "replica 4 promoted to voter: voters [1, 2, 3, 4] from slot 80 (8 slots from now)",
        MemberView.change(learning, membership.with(48, 80, promoted), 72));
    Configuration removed = with(Map.of(2, "", 3, "", 4, "h:7001:7101"), Map.of());
    assertEquals(
        "replica 1 removed: voters [2, 3, 4] from slot 132 (32 slots from now)",
        MemberView.change(promoted, membership.with(100, 132, removed), 100));
  }
}
