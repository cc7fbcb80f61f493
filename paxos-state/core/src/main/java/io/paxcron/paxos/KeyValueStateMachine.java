package io.paxcron.paxos;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * A small string key-value store, the state machine of the tests, the simulator and the demo.
 *
 * <p>Commands are {@code put <key> <value>} (answers the previous value or the empty string) and
 * {@code append <key> <suffix>} (answers the new value); keys contain no spaces. Reads do not go
 * through the log: a lease read calls {@link #get} after the leader confirmed it.
 */
public final class KeyValueStateMachine implements StateMachine {

  private final TreeMap<String, String> data = new TreeMap<>();

  public static byte[] put(String key, String value) {
    return command("put", key, value);
  }

  public static byte[] append(String key, String suffix) {
    return command("append", key, suffix);
  }

  private static byte[] command(String verb, String key, String argument) {
    if (key.isEmpty() || key.contains(" ")) {
      throw new IllegalArgumentException("key must be non-empty without spaces: '" + key + "'");
    }
    return (verb + " " + key + " " + argument).getBytes(StandardCharsets.UTF_8);
  }

  public String get(String key) {
    return data.get(key);
  }

  public Map<String, String> view() {
    return java.util.Collections.unmodifiableMap(data);
  }

  @Override
  public byte[] apply(long slot, byte[] command) {
    String text = new String(command, StandardCharsets.UTF_8);
    String[] parts = text.split(" ", 3);
    if (parts.length != 3) {
      return ("error: expected '<verb> <key> <argument>', got '" + text + "'")
          .getBytes(StandardCharsets.UTF_8);
    }
    String key = parts[1];
    String answer =
        switch (parts[0]) {
          case "put" -> {
            String previous = data.put(key, parts[2]);
            yield previous == null ? "" : previous;
          }
          case "append" -> {
            String updated = data.getOrDefault(key, "") + parts[2];
            data.put(key, updated);
            yield updated;
          }
          default -> "error: unknown verb '" + parts[0] + "'";
        };
    return answer.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A {@link RecordKind#KEY_VALUE_SNAPSHOT} frame: the count, then each key (modified UTF-8) and
   * value (UTF-8) in key order. Format 1, the same body without the frame, is still restored.
   */
  @Override
  public byte[] snapshot() {
    BinaryWriter out = new BinaryWriter();
    int start = out.beginFrame(RecordKind.KEY_VALUE_SNAPSHOT);
    out.writeInt(data.size());
    for (Map.Entry<String, String> entry : data.entrySet()) {
      out.writeModifiedUtf(entry.getKey());
      out.writeString(entry.getValue());
    }
    return out.endFrame(start).toByteArray();
  }

  @Override
  public void restore(byte[] snapshot) {
    data.clear();
    if (snapshot.length == 0) {
      return;
    }
    try {
      BinaryReader in =
          Frame.startsAt(snapshot, 0, RecordKind.KEY_VALUE_SNAPSHOT)
              ? Frame.readWhole(snapshot, RecordKind.KEY_VALUE_SNAPSHOT).body()
              : new BinaryReader(snapshot);
      int count = in.readCount(Integer.MAX_VALUE, 6);
      for (int i = 0; i < count; i++) {
        data.put(in.readModifiedUtf(), in.readString());
      }
      in.expectEnd("key-value snapshot record");
    } catch (RecordFormatException e) {
      throw new IllegalStateException("key-value snapshot is unreadable: " + e.getMessage(), e);
    }
  }
}
