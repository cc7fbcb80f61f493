package io.paxcron.agent;

import io.paxcron.agent.core.CorruptJournalException;
import io.paxcron.agent.core.JournalCodec;
import io.paxcron.agent.core.JournalRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The agent's durable journal: {@code agent.journal} in the data directory, in {@link
 * JournalCodec}'s format. {@link #append} returns only once the records are on disk (fsync), so the
 * agent can answer or start a process on their strength. Compaction writes a snapshot to a new
 * file, syncs it, renames it over the journal and syncs the directory, so a crash leaves either the
 * old or the new file.
 *
 * <p>Not thread-safe: the agent's event loop owns it.
 */
final class AgentJournal implements AutoCloseable {
  static final String FILE = "agent.journal";

  private final Path directory;
  private final Path file;
  private FileChannel channel;

  private AgentJournal(Path directory) throws IOException {
    this.directory = directory;
    this.file = directory.resolve(FILE);
    this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    channel.position(channel.size());
  }

  /** The journal's records and the open journal, its torn tail (if any) truncated away. */
  record Opened(AgentJournal journal, List<JournalRecord> records, boolean tornTailDropped) {}

  static Opened open(Path directory) throws IOException, CorruptJournalException {
    Files.createDirectories(directory);
    Path file = directory.resolve(FILE);
    byte[] bytes = Files.exists(file) ? Files.readAllBytes(file) : new byte[0];
    JournalCodec.Recovered recovered = JournalCodec.decode(bytes, file.toString());
    if (recovered.tornTail()) {
      try (FileChannel truncate = FileChannel.open(file, StandardOpenOption.WRITE)) {
        truncate.truncate(recovered.validLength());
        truncate.force(true);
      }
    }
    AgentJournal journal = new AgentJournal(directory);
    if (!Files.exists(file) || bytes.length == 0) {
      syncDirectory(directory);
    }
    return new Opened(journal, recovered.records(), recovered.tornTail());
  }

  /** Appends and syncs the records. */
  void append(List<JournalRecord> records) throws IOException {
    if (records.isEmpty()) {
      return;
    }
    ByteBuffer buffer = ByteBuffer.wrap(JournalCodec.encode(records));
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
    channel.force(false);
  }

  /** Replaces the journal with one snapshot record. */
  void compact(JournalRecord.Snapshot snapshot) throws IOException {
    Path next = directory.resolve(FILE + ".next");
    try (FileChannel out =
        FileChannel.open(
            next,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buffer = ByteBuffer.wrap(JournalCodec.encode(snapshot));
      while (buffer.hasRemaining()) {
        out.write(buffer);
      }
      out.force(true);
    }
    channel.close();
    Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    syncDirectory(directory);
    channel = FileChannel.open(file, StandardOpenOption.WRITE);
    channel.position(channel.size());
  }

  static void syncDirectory(Path directory) throws IOException {
    try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
      dir.force(true);
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
