package io.paxcron.schedule;

import java.nio.charset.StandardCharsets;

/**
 * 64-bit FNV-1a (Fowler, Noll, Vo; IETF draft-eastlake-fnv) over UTF-8 bytes. Fixed by its
 * specification, so the values are the same on every JVM, platform and release: schedules chosen
 * with it are reproducible forever. Not for security.
 */
final class StableHash {
  static final long OFFSET_BASIS = 0xcbf29ce484222325L;
  static final long PRIME = 0x100000001b3L;

  private StableHash() {}

  static long fnv1a64(String text) {
    long hash = OFFSET_BASIS;
    for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
      hash ^= b & 0xFF;
      hash *= PRIME;
    }
    return hash;
  }

  /**
   * A value in {@code [0, bound)} derived from the job name and field label. FNV's low bits depend
   * only on the low bits of its input bytes, which makes "hash mod 24" clump for names that differ
   * in a few characters, so the hash goes through MurmurHash3's 64-bit finaliser (fmix64, fixed
   * constants) before the remainder.
   */
  static int pick(String jobName, ScheduleField field, int bound) {
    return (int) Long.remainderUnsigned(mix(fnv1a64(jobName, field.label())), bound);
  }

  /**
   * {@code fnv1a64(first + "\u0000" + second)} without building the string or its bytes when both
   * are ASCII (job names always are), where each character is its own UTF-8 byte.
   */
  static long fnv1a64(String first, String second) {
    if (!isAscii(first) || !isAscii(second)) {
      return fnv1a64(first + "\u0000" + second);
    }
    long hash = OFFSET_BASIS;
    for (int i = 0; i < first.length(); i++) {
      hash ^= first.charAt(i);
      hash *= PRIME;
    }
    hash *= PRIME; // the separator byte 0: xor with 0 leaves the hash as it is
    for (int i = 0; i < second.length(); i++) {
      hash ^= second.charAt(i);
      hash *= PRIME;
    }
    return hash;
  }

  private static boolean isAscii(String text) {
    for (int i = 0; i < text.length(); i++) {
      if (text.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  static long mix(long hash) {
    hash ^= hash >>> 33;
    hash *= 0xff51afd7ed558ccdL;
    hash ^= hash >>> 33;
    hash *= 0xc4ceb93fe53a87c3L;
    hash ^= hash >>> 33;
    return hash;
  }
}
