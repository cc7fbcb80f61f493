package io.paxcron.scheduler;

import java.util.Arrays;

/**
 * A first-in, first-out sequence with access by position: an {@link java.util.ArrayDeque} that can
 * also be read at an index, so that the state machine's cross-job ledger order and ledger-change
 * tail can be searched (by binary search or a known offset) instead of walked from one end. A watch
 * far behind read 100,000 entries per page that way. Not thread-safe.
 */
final class Ring<T> {
  private Object[] items = new Object[16];
  private int head;
  private int size;

  int size() {
    return size;
  }

  boolean isEmpty() {
    return size == 0;
  }

  void addLast(T item) {
    if (size == items.length) {
      Object[] grown = new Object[items.length * 2];
      for (int i = 0; i < size; i++) {
        grown[i] = items[(head + i) % items.length];
      }
      items = grown;
      head = 0;
    }
    items[(head + size) % items.length] = item;
    size++;
  }

  /** Removes and returns the oldest item, or null if there is none. */
  T pollFirst() {
    if (size == 0) {
      return null;
    }
    T first = get(0);
    items[head] = null;
    head = (head + 1) % items.length;
    size--;
    return first;
  }

  /** The item at {@code index}, 0 being the oldest. */
  @SuppressWarnings("unchecked")
  T get(int index) {
    if (index < 0 || index >= size) {
      throw new IndexOutOfBoundsException("index " + index + " of a ring of " + size);
    }
    return (T) items[(head + index) % items.length];
  }

  T first() {
    return size == 0 ? null : get(0);
  }

  T last() {
    return size == 0 ? null : get(size - 1);
  }

  void clear() {
    Arrays.fill(items, null);
    head = 0;
    size = 0;
  }
}
