package io.paxcron.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;

/**
 * The leader's due-run timer: a binary heap over all jobs keyed by each job's next due instant
 * (Google's cron leader "keeps a list of jobs sorted by their next launch time"). Rescheduling a
 * job leaves its old heap entry behind; stale entries are skipped when they surface and the heap is
 * rebuilt when they outnumber live ones, so its size stays within twice the number of jobs. O(log
 * n) per change. Not thread-safe.
 */
public final class DueRunTimer {
  private record Entry(Instant due, String job) implements Comparable<Entry> {
    @Override
    public int compareTo(Entry other) {
      int byDue = due.compareTo(other.due);
      return byDue != 0 ? byDue : job.compareTo(other.job);
    }
  }

  /** A job whose instant is reached. */
  public record Due(String job, Instant instant) {}

  private final PriorityQueue<Entry> heap = new PriorityQueue<>();
  private final Map<String, Instant> live = new HashMap<>();

  /** Sets {@code job}'s next due instant, replacing any earlier one. */
  public void schedule(String job, Instant due) {
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(due, "due");
    Instant previous = live.put(job, due);
    if (due.equals(previous)) {
      return;
    }
    heap.add(new Entry(due, job));
    compactIfStale();
  }

  /** Forgets {@code job}. */
  public void remove(String job) {
    live.remove(job);
    compactIfStale();
  }

  /**
   * Removes and returns the jobs due at or before {@code now}, earliest first, at most {@code
   * limit}.
   */
  public List<Due> pollDue(Instant now, int limit) {
    List<Due> due = new ArrayList<>();
    while (!heap.isEmpty() && due.size() < limit && !heap.peek().due().isAfter(now)) {
      Entry entry = heap.poll();
      if (entry.due().equals(live.get(entry.job()))) {
        live.remove(entry.job());
        due.add(new Due(entry.job(), entry.due()));
      }
    }
    return due;
  }

  /** The earliest due instant, or {@code null} when no job is scheduled. */
  public Instant nextDue() {
    while (!heap.isEmpty() && !heap.peek().due().equals(live.get(heap.peek().job()))) {
      heap.poll();
    }
    return heap.isEmpty() ? null : heap.peek().due();
  }

  /** Jobs scheduled. */
  public int size() {
    return live.size();
  }

  public void clear() {
    heap.clear();
    live.clear();
  }

  private void compactIfStale() {
    if (heap.size() > 2 * live.size() + 64) {
      heap.clear();
      for (Map.Entry<String, Instant> job : live.entrySet()) {
        heap.add(new Entry(job.getValue(), job.getKey()));
      }
    }
  }
}
