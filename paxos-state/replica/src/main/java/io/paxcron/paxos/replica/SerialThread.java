package io.paxcron.paxos.replica;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One of the replica's two threads (the consensus thread, the loop): runs tasks one at a time in
 * the order they were queued, on its own thread — or on the caller's, when the caller may {@link
 * #runHereIfIdle run it there} and nothing is queued or running. A follower's Accept or a leader's
 * Accepted arriving on an idle replica is then handled by the socket's selector thread that read
 * it, sparing the wake-up of the consensus thread (a single client's commands took a fifth less
 * time: docs/performance.md, eighteenth round); and entries that step chooses are applied and
 * answered there too when the loop is idle, sparing the loop's (nineteenth round). A client's
 * command read by the command socket with nothing behind it is stepped there the same way, and its
 * registration with the loop made there (twenty-fourth round).
 *
 * <p>Threading: tasks never overlap, and each sees everything the tasks before it did (they run
 * under one lock, in queue order: a task queued before another starts before it). {@link #execute}
 * and {@link #runHereIfIdle} from any thread; {@link #runningHere} tells a task which thread's turn
 * it runs in, wherever it runs.
 */
final class SerialThread implements Executor {

  private static final Runnable STOP = () -> {};

  private final BlockingQueue<Runnable> queue;
  private final ReentrantLock turn = new ReentrantLock();

  /** Tasks queued and not yet finished (the one this thread runs included). */
  private final AtomicInteger unfinished = new AtomicInteger();

  private final Thread thread;
  private volatile boolean shutdown;

  SerialThread(String name, BlockingQueue<Runnable> queue) {
    this.queue = queue;
    this.thread = new Thread(this::run, name);
    this.thread.setDaemon(true);
    this.thread.start();
  }

  /** Queues {@code task} for this thread; throws {@link RejectedExecutionException} once shut. */
  @Override
  public void execute(Runnable task) {
    if (shutdown) {
      throw new RejectedExecutionException(thread.getName() + " is shut down");
    }
    unfinished.incrementAndGet();
    queue.add(task);
  }

  /**
   * Runs {@code task} on the calling thread if nothing is queued or running, else queues it as
   * {@link #execute} does. Returns whether it ran here.
   */
  boolean runHereIfIdle(Runnable task) {
    if (shutdown) {
      throw new RejectedExecutionException(thread.getName() + " is shut down");
    }
    // A task of this thread's own never runs another here: that would overtake what is queued.
    if (unfinished.get() == 0 && !turn.isHeldByCurrentThread() && turn.tryLock()) {
      try {
        // Under the lock no queued task can start, and one still counted has not finished: the
        // count being zero here means every task queued before this one has run.
        if (unfinished.get() == 0) {
          task.run();
          return true;
        }
      } finally {
        turn.unlock();
      }
    }
    execute(task);
    return false;
  }

  /** Whether nothing is queued or running (a moment's answer, for tests). */
  boolean idle() {
    return unfinished.get() == 0 && !turn.isLocked();
  }

  /** Whether the calling thread runs one of this thread's tasks now (here or on its own). */
  boolean runningHere() {
    return turn.isHeldByCurrentThread();
  }

  /** Whether the calling thread is this one's own (not a caller running a task here). */
  boolean onOwnThread() {
    return Thread.currentThread() == thread;
  }

  /** Runs what is queued, then ends; what is queued after this is refused. */
  void shutdown() {
    if (!shutdown) {
      shutdown = true;
      unfinished.incrementAndGet();
      queue.add(STOP);
    }
  }

  /** Waits up to {@code timeout} for the thread to end; returns whether it did. */
  boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    thread.join(Math.max(1, unit.toMillis(timeout)));
    return !thread.isAlive();
  }

  /** Drops what is queued and interrupts the running task. */
  void shutdownNow() {
    shutdown = true;
    queue.clear();
    queue.add(STOP);
    thread.interrupt();
  }

  private void run() {
    while (true) {
      Runnable task;
      try {
        task = queue.take();
      } catch (InterruptedException e) {
        if (shutdown) {
          return;
        }
        continue;
      }
      if (task == STOP) {
        return;
      }
      turn.lock();
      try {
        task.run();
      } catch (RuntimeException | Error e) {
        // The replica's tasks report their own failures; this thread goes on, as an executor's.
        Thread.UncaughtExceptionHandler handler = thread.getUncaughtExceptionHandler();
        handler.uncaughtException(thread, e);
      } finally {
        unfinished.decrementAndGet();
        turn.unlock();
      }
    }
  }
}
