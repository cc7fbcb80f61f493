package io.paxcron.paxos;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
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

  @Override
  public byte[] snapshot() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(data.size());
      for (Map.Entry<String, String> entry : data.entrySet()) {
        out.writeUTF(entry.getKey());
        writeString(out, entry.getValue());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  @Override
  public void restore(byte[] snapshot) {
    data.clear();
    if (snapshot.length == 0) {
      return;
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot))) {
      int count = in.readInt();
      for (int i = 0; i < count; i++) {
        data.put(in.readUTF(), readString(in));
      }
    } catch (IOException e) {
      throw new IllegalStateException("key-value snapshot is unreadable", e);
    }
  }

  private static void writeString(DataOutputStream out, String value) throws IOException {
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  private static String readString(DataInputStream in) throws IOException {
    byte[] bytes = new byte[in.readInt()];
    in.readFully(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
