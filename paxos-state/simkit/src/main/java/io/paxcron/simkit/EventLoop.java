package io.paxcron.simkit;

import java.util.PriorityQueue;

/**
 * Virtual time and the queue of everything that is going to happen: one thread runs events in order
 * of their instant, ties broken by the order they were scheduled, so the same seed replays the same
 * run event for event. Time moves only when an event runs; nothing ever waits.
 *
 * <p>Single-threaded. Every simulation of the kit (the log-only {@code Simulation}, the
 * whole-system {@code SystemSimulation}) runs on one loop.
 */
public final class EventLoop {

  private record Event(long at, long order, Runnable action) implements Comparable<Event> {
    @Override
    public int compareTo(Event other) {
      int byTime = Long.compare(at, other.at);
      return byTime != 0 ? byTime : Long.compare(order, other.order);
    }
  }

  private final PriorityQueue<Event> queue = new PriorityQueue<>();
  private long now;
  private long order;
  private long events;

  /** The virtual time of the event running now (milliseconds since the run began). */
  public long now() {
    return now;
  }

  /** How many events have run. */
  public long events() {
    return events;
  }

  /** Runs {@code action} {@code delayMillis} from now (a negative delay counts as none). */
  public void schedule(long delayMillis, Runnable action) {
    queue.add(new Event(now + Math.max(0, delayMillis), order++, action));
  }

  /**
   * Runs the next event if one is due no later than {@code endMillis}; false when none is (the
   * queue is empty or the next event lies past the end, which is then left in the queue).
   */
  public boolean runNext(long endMillis) {
    Event next = queue.peek();
    if (next == null || next.at() > endMillis) {
      return false;
    }
    queue.poll();
    now = next.at();
    events++;
    next.action().run();
    return true;
  }

  /** Moves the clock forward to {@code millis} without running anything (the run's end). */
  public void advanceTo(long millis) {
    now = Math.max(now, millis);
  }
}
