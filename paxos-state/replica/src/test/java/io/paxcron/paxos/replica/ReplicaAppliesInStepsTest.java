package io.paxcron.paxos.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.paxos.Envelope;
import io.paxcron.paxos.PaxosConfig;
import io.paxcron.paxos.ReplicaId;
import io.paxcron.paxos.StateMachine;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A command the state machine applies in steps ({@link StateMachine#applyInSteps}) is spread over
 * several loop tasks, and nothing that reads the state sees it in part: tasks of the host, reads
 * and the applied-listeners wait until the command is whole, and run in the order they came. And
 * the core chooses commands while the loop is held: only applying and answering wait for it.
 *
 * <p>Each step of the test's command works (on the CPU, nothing waited for) for longer than the
 * loop's apply slice, so the loop must give up the thread after every step; the assertions do not
 * depend on how long anything took.
 */
final class ReplicaAppliesInStepsTest {

  private static final int STEPS = 6;

  /** A counter; the command {@code n} adds 1 in each of {@code n} steps. */
  private static final class SteppedCounter implements StateMachine {
    volatile int value;
    volatile int partsInProgress;

    /** Set by the test: called on the loop during the first step of the next stepped command. */
    volatile Runnable duringFirstStep = () -> {};

    @Override
    public byte[] apply(long slot, byte[] command) {
      value += ByteBuffer.wrap(command).getInt();
      return answer();
    }

    @Override
    public Steps applyInSteps(long slot, byte[] command) {
      int steps = ByteBuffer.wrap(command).getInt();
      AtomicInteger done = new AtomicInteger();
      return () -> {
        long until = System.nanoTime() + ReplicaNode.APPLY_SLICE_NANOS + 1_000_000;
        while (System.nanoTime() < until) {
          Thread.onSpinWait(); // the step's work: longer than one apply slice
        }
        value++;
        int step = done.incrementAndGet();
        partsInProgress = step < steps ? step : 0;
        if (step == 1) {
          Runnable during = duringFirstStep;
          duringFirstStep = () -> {};
          during.run();
        }
        return step < steps ? null : answer();
      };
    }

    private byte[] answer() {
      return ByteBuffer.allocate(4).putInt(value).array();
    }

    @Override
    public byte[] snapshot() {
      return answer();
    }

    @Override
    public void restore(byte[] snapshot) {
      value = snapshot.length == 0 ? 0 : ByteBuffer.wrap(snapshot).getInt();
    }
  }

  /** A one-replica cluster over {@code counter}, on no disk and no network. */
  private static ReplicaNode alone(SteppedCounter counter) {
    PaxosConfig paxos = PaxosConfig.defaults(ReplicaId.of(1), List.of(ReplicaId.of(1)));
    return new ReplicaNode(
        new ReplicaSettings(paxos, 5, 1_000_000, 64L << 20, 100),
        new InstantDurability(),
        new PeerNetwork() {
          @Override
          public void start(PeerNetwork.Inbound inbound) {}

          @Override
          public void send(Envelope envelope) {}

          @Override
          public void close() {}
        },
        snapshot -> {},
        counter,
        request -> ByteBuffer.allocate(4).putInt(counter.value).array(),
        error -> {});
  }

  /**
   * What a loop task hands {@link ReplicaNode#atEndOfLoopTask} runs on the loop once that task has
   * ended — after the rest of it, answers included — and before the next task (the command socket
   * sends the replies of one applied batch together this way); off the loop thread it is refused.
   */
  @Test
  void anActionForTheEndOfALoopTaskRunsAfterItsAnswersAndBeforeTheNextTask() throws Exception {
    SteppedCounter counter = new SteppedCounter();
    ReplicaNode node = alone(counter);
    try {
      long sequence = startLeading(node).sequence();
      assertFalse(node.atEndOfLoopTask(() -> {}), "accepted off the loop thread");

      List<String> seen = new CopyOnWriteArrayList<>();
      CompletableFuture<Void> attached = new CompletableFuture<>();
      node.runOnLoop(
          () -> {
            if (!node.atEndOfLoopTask(() -> seen.add("end of the first task"))) {
              seen.add("refused on the loop");
            }
            seen.add("first task");
            attached.join(); // the loop answers nothing before the test listens for the answer
          });
      node.runOnLoop(() -> seen.add("second task"));
      // An answer given on the loop: its action runs once the task that applied it has ended.
      CompletableFuture<Void> answered = new CompletableFuture<>();
      node.propose(1, ++sequence, steps(1))
          .whenComplete(
              (applied, error) -> {
                seen.add("answer");
                if (!node.atEndOfLoopTask(() -> seen.add("end of the applying task"))) {
                  seen.add("refused on the loop");
                }
                answered.complete(null);
              });
      attached.complete(null);
      answered.orTimeout(30, TimeUnit.SECONDS).join();
      CompletableFuture<Void> drained = new CompletableFuture<>();
      node.runOnLoop(() -> drained.complete(null));
      drained.orTimeout(30, TimeUnit.SECONDS).join();
      assertEquals(
          List.of(
              "first task",
              "end of the first task",
              "second task",
              "answer",
              "end of the applying task"),
          seen);
    } finally {
      node.close();
    }
  }

  /**
   * The core takes and chooses a proposal while the loop is held by a long task of the host's (the
   * dispatcher, a query): only applying it and answering wait for the loop.
   */
  @Test
  void aProposalIsChosenWhileTheLoopIsHeldAndAnsweredOnceItIsFree() throws Exception {
    SteppedCounter counter = new SteppedCounter();
    ReplicaNode node = alone(counter);
    java.util.concurrent.atomic.AtomicLong chosen = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.LinkedBlockingQueue<Long> chosenEvents =
        new java.util.concurrent.LinkedBlockingQueue<>();
    node.observe(
        new ReplicaObserver() {
          @Override
          public void onChosen(long count) {
            chosenEvents.add(chosen.addAndGet(count));
          }
        });
    CompletableFuture<Void> releaseLoop = new CompletableFuture<>();
    try {
      Leading started = startLeading(node);
      long sequence = started.sequence();
      CompletableFuture<Void> loopHeld = new CompletableFuture<>();
      node.runOnLoop(
          () -> {
            loopHeld.complete(null);
            releaseLoop.join();
          });
      loopHeld.orTimeout(30, TimeUnit.SECONDS).join();
      long chosenBefore = chosen.get();
      long firstUnchosenBefore = node.status().firstUnchosenSlot();

      CompletableFuture<ReplicaNode.Applied> answer = node.propose(1, ++sequence, steps(1));
      while (true) {
        Long total = chosenEvents.poll(30, TimeUnit.SECONDS);
        if (total == null) {
          throw new AssertionError("nothing was chosen within 30 s while the loop was held");
        }
        if (total > chosenBefore) {
          break;
        }
      }
      assertTrue(node.status().firstUnchosenSlot() > firstUnchosenBefore);
      assertFalse(answer.isDone(), "answered before the loop applied it");

      releaseLoop.complete(null);
      ReplicaNode.Applied applied = answer.orTimeout(30, TimeUnit.SECONDS).join();
      assertEquals(started.value() + 1, ByteBuffer.wrap(applied.result()).getInt());
    } finally {
      releaseLoop.complete(null);
      node.close();
    }
  }

  /** The session sequence of the first command applied, and the counter it left. */
  private record Leading(long sequence, int value) {}

  /** Starts {@code node} and waits until it leads and has applied a first command of 1 step. */
  private static Leading startLeading(ReplicaNode node) {
    CompletableFuture<Void> leading = new CompletableFuture<>();
    node.observe(
        new ReplicaObserver() {
          @Override
          public void onLeaderChanged(int leaderId) {
            if (leaderId == 1) {
              leading.complete(null);
            }
          }
        });
    node.start();
    leading.orTimeout(30, TimeUnit.SECONDS).join();
    long sequence = 0;
    for (int attempt = 0; ; attempt++) { // the first may meet the leader still in phase 1
      try {
        byte[] result =
            node.propose(1, ++sequence, steps(1)).orTimeout(30, TimeUnit.SECONDS).join().result();
        return new Leading(sequence, ByteBuffer.wrap(result).getInt());
      } catch (java.util.concurrent.CompletionException e) {
        if (!(e.getCause() instanceof ReplicaNode.NotLeaderException) || attempt > 1_000) {
          throw e;
        }
      }
    }
  }

  private static byte[] steps(int n) {
    return ByteBuffer.allocate(4).putInt(n).array();
  }

  @Test
  void aCommandAppliedInStepsIsSeenWholeByTasksReadsAndListeners() throws Exception {
    SteppedCounter counter = new SteppedCounter();
    AtomicInteger applyTasks = new AtomicInteger();
    ReplicaNode node = alone(counter);
    node.observe(
        new ReplicaObserver() {
          @Override
          public void onLoopTask(String kind, long nanos, long applyingNanos, long listenerNanos) {
            if (applyingNanos > 0) {
              applyTasks.incrementAndGet();
            }
          }
        });
    try {
      long sequence = startLeading(node).sequence();
      int before = counter.value;

      List<String> seen = new CopyOnWriteArrayList<>();
      List<Integer> listenerSaw = new CopyOnWriteArrayList<>();
      CompletableFuture<ReplicaNode.ReadResult> read = new CompletableFuture<>();
      node.onApplied(() -> listenerSaw.add(counter.partsInProgress));
      counter.duringFirstStep =
          () -> {
            // On the loop, mid-command: a host task, a second one, and a linearizable read.
            node.runOnLoop(() -> seen.add("first " + counter.value));
            node.runOnLoop(() -> seen.add("second " + counter.value));
            node.read(new byte[0]).whenComplete((r, e) -> read.complete(r));
          };
      int tasksBefore = applyTasks.get();
      byte[] answer =
          node.propose(1, ++sequence, steps(STEPS)).orTimeout(30, TimeUnit.SECONDS).join().result();

      int whole = before + STEPS;
      assertEquals(whole, ByteBuffer.wrap(answer).getInt());
      assertTrue(
          applyTasks.get() - tasksBefore >= 2,
          "steps past the slice gave the loop back: "
              + (applyTasks.get() - tasksBefore)
              + " loop tasks applied the "
              + STEPS
              + " steps");
      CompletableFuture<Void> drained = new CompletableFuture<>();
      node.runOnLoop(() -> drained.complete(null));
      drained.orTimeout(30, TimeUnit.SECONDS).join();
      assertEquals(List.of("first " + whole, "second " + whole), seen);
      assertEquals(
          whole, ByteBuffer.wrap(read.orTimeout(30, TimeUnit.SECONDS).join().answer()).getInt());
      assertTrue(
          listenerSaw.stream().allMatch(parts -> parts == 0),
          "a listener ran with the command in part: " + listenerSaw);
    } finally {
      node.close();
    }
  }
}
