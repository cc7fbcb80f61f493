package io.paxcron.api.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.api.JobBatchStateMachine;
import io.paxcron.scheduler.CronStateMachine;
import java.time.Instant;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SecuredStateMachineTest {
  private static final Instant T = Instant.parse("2030-01-07T00:00:00Z");

  private static SecuredStateMachine fresh() {
    return new SecuredStateMachine(new JobBatchStateMachine(new CronStateMachine()));
  }

  private static AccessCommand.CreateToken create(String id, String name, Role role) {
    return new AccessCommand.CreateToken(
        new AccessCommand.Header(T, "token:root/x", "127.0.0.1:5000"),
        id,
        name,
        role,
        "",
        Tokens.sha256("secret-" + id),
        false);
  }

  @Test
  void tokensAndAuditSurviveASnapshotAndAnImageWithoutThemRestoresEmpty() {
    SecuredStateMachine first = fresh();
    first.apply(1, AccessCommand.encode(create("aaaaaaaa11111111", "alice", Role.EDITOR)));
    first.apply(
        2,
        AccessCommand.encode(
            new AccessCommand.RevokeToken(
                new AccessCommand.Header(T.plusSeconds(1), "token:root/x", "here"),
                "aaaaaaaa11111111")));
    byte[] image = first.snapshot();
    SecuredStateMachine second = fresh();
    second.restore(image);
    assertEquals(first.access().view(), second.access().view());
    assertArrayEquals(image, second.snapshot());
    assertTrue(second.access().view().tokens().get("aaaaaaaa11111111").revoked());
    assertEquals(2, second.access().view().audit().size());

    SecuredStateMachine legacy = fresh();
    legacy.restore(new JobBatchStateMachine(new CronStateMachine()).snapshot());
    assertEquals(AccessState.View.EMPTY.tokens(), legacy.access().view().tokens());
    assertFalse(legacy.access().view().everCreated());
  }

  @Test
  void aMalformedOrRandomAccessCommandIsRefusedAndChangesNothingButTheAudit() {
    long seed = Long.getLong("paxcron.seed", new SplittableRandom().nextLong());
    System.out.println(
        "seed "
            + seed
            + " (replay: mvn -pl scheduler/api test -Dtest=SecuredStateMachineTest"
            + " -Dpaxcron.seed="
            + seed
            + ")");
    SplittableRandom random = new SplittableRandom(seed);
    SecuredStateMachine state = fresh();
    state.apply(1, AccessCommand.encode(create("bbbbbbbb22222222", "bob", Role.ADMIN)));
    byte[] valid = AccessCommand.encode(create("cccccccc33333333", "carol", Role.VIEWER));
    byte[] before = state.snapshot();
    Map<String, AccessState.Token> tokensBefore = Map.copyOf(state.access().view().tokens());
    int auditBefore = state.access().view().audit().size();
    byte[] jobsBefore = state.jobs().snapshot();
    for (int i = 0; i < 2_000; i++) {
      byte[] mutated = valid.clone();
      int flips = 1 + random.nextInt(4);
      for (int f = 0; f < flips; f++) {
        mutated[1 + random.nextInt(mutated.length - 1)] = (byte) random.nextInt(256);
      }
      if (random.nextInt(4) == 0) {
        mutated = java.util.Arrays.copyOf(mutated, random.nextInt(mutated.length));
        if (mutated.length == 0) {
          continue;
        }
        mutated[0] = AccessCommand.TAG;
      }
      byte[] answer = state.apply(2 + i, mutated);
      AccessState.Result result = SecuredStateMachine.decodeAnswer(answer);
      if (!result.applied()) {
        // A refused command that decodes leaves only its audit record (refused attempts that
        // reached the log are audited); the tokens and the jobs stay as they were.
        AccessState.View view = state.access().view();
        assertEquals(tokensBefore, view.tokens(), "seed " + seed + ": tokens changed by a refusal");
        assertArrayEquals(
            jobsBefore, state.jobs().snapshot(), "seed " + seed + ": jobs changed by a refusal");
        if (view.audit().size() > auditBefore) {
          assertEquals(
              result.message(), view.audit().getLast().result(), "seed " + seed + ": audit");
        }
        state.restore(before);
        continue;
      }
      // A mutation that still decodes is a valid command (another id, name or stamp): undo the
      // comparison baseline by restoring it.
      state.restore(before);
    }
    assertArrayEquals(before, state.snapshot(), "seed " + seed);
  }

  @Test
  void theBootstrapTokenIsCreatedOnceEver() {
    SecuredStateMachine state = fresh();
    AccessCommand.Header header = new AccessCommand.Header(T, "bootstrap", "here");
    byte[] hash = Tokens.sha256("s");
    assertTrue(
        state
            .access()
            .apply(
                1,
                new AccessCommand.CreateToken(
                    header, "dddddddd44444444", "root", Role.ADMIN, "", hash, true))
            .applied());
    state.access().apply(2, new AccessCommand.RevokeToken(header, "dddddddd44444444"));
    AccessState.Result again =
        state
            .access()
            .apply(
                3,
                new AccessCommand.CreateToken(
                    header, "eeeeeeee55555555", "root2", Role.ADMIN, "", hash, true));
    assertFalse(again.applied());
    assertTrue(again.message().startsWith("bootstrap:"), again.message());
  }
}
