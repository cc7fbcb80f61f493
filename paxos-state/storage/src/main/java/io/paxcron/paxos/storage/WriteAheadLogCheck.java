package io.paxcron.paxos.storage;

import io.paxcron.paxos.storage.StoreException.Problem;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Refuses a store whose write-ahead log is damaged anywhere but at its end, before RocksDB replays
 * it.
 *
 * <p>The store recycles RocksDB's WAL files (an old file is overwritten from its start instead of a
 * new one growing): an append that does not change a file's size spares {@code fdatasync} a
 * metadata write, a fifth of a sync's time with three replicas on one disk (docs/performance.md).
 * RocksDB replays recycled files only in point-in-time mode, which stops at the first damaged
 * record and opens with what came before, silently — a synced write after a flipped byte would be
 * lost, and an acceptor that forgets what it promised can let two values be chosen. So this check
 * reads every WAL file first and enforces the rule the store used to get from RocksDB's
 * tolerate-a-torn-tail mode: the log's records form one unbroken sequence, and nothing after its
 * end is a record of the log. A damaged record with none of the log's records after it is the torn,
 * never-synced tail of a crash, and is dropped; one followed by the log's records is damage, and
 * the store refuses to start, naming the file, the offset and the reason.
 *
 * <p>RocksDB's WAL format (its {@code db/log_format.h}): 32 KiB blocks of physical records; a
 * record is a masked CRC32C (4 bytes, little-endian), a length (2), a type (1), for the recyclable
 * types the low 32 bits of the file's log number (4), then the payload; a block's last bytes, when
 * fewer than a header, are padding. The checksum covers the type, the log number when present, and
 * the payload. In a recycled file the previous incarnation's records follow the new ones and carry
 * the old log number; in a file written by the legacy format (before recycling was turned on) no
 * record follows its end.
 */
final class WriteAheadLogCheck {

  static final int BLOCK_BYTES = 32 * 1024;
  static final int HEADER_BYTES = 7;
  static final int RECYCLABLE_HEADER_BYTES = 11;

  /** Record types with the short header: full, first, middle, last, compression, timestamps. */
  private static final long LEGACY_TYPES = bits(1, 2, 3, 4, 9, 10, 33);

  /** Record types with the log number in the header (recycled files). */
  private static final long RECYCLABLE_TYPES = bits(5, 6, 7, 8, 11, 34);

  /** Full records and first fragments: their payload starts with a write batch's header. */
  private static final long STARTS_BATCH = bits(1, 2, 5, 6);

  /** A write batch's header: its first sequence number (8 bytes) and its count (4). */
  private static final int BATCH_HEADER_BYTES = 12;

  private static final int MASK_DELTA = 0xa282ead8;

  private WriteAheadLogCheck() {}

  /** Checks every {@code NNNNNN.log} file of the store in {@code dir}, oldest first. */
  static void verify(Path dir) throws StoreException {
    Map<Long, Path> files = new TreeMap<>();
    try (Stream<Path> listing = Files.list(dir)) {
      for (Path file : (Iterable<Path>) listing::iterator) {
        String name = file.getFileName().toString();
        if (name.endsWith(".log") && name.length() > 4) {
          try {
            files.put(Long.parseLong(name.substring(0, name.length() - 4)), file);
          } catch (NumberFormatException notAWal) {
            // RocksDB's info log is LOG, never NNNNNN.log; anything else is not RocksDB's.
          }
        }
      }
    } catch (IOException e) {
      throw new StoreException(
          Problem.UNREADABLE_DIRECTORY, dir, "cannot list the write-ahead log files: " + e, e);
    }
    Scan previous = null;
    for (Map.Entry<Long, Path> wal : files.entrySet()) {
      Scan scan = scan(wal.getValue(), wal.getKey());
      if (scan.recordAfterEnd() >= 0) {
        throw damage(
            scan,
            "and a record of the same log follows at offset "
                + scan.recordAfterEnd()
                + ": the log is damaged in the middle, not torn at its end");
      }
      if (scan.firstSequence() < 0) {
        continue; // no writes in it (a file just created)
      }
      if (previous != null
          && previous.damaged()
          && scan.firstSequence() > previous.nextSequence()) {
        throw damage(
            previous,
            "and the newer write-ahead log file "
                + wal.getValue().getFileName()
                + " starts at sequence number "
                + scan.firstSequence()
                + " while this one ends before "
                + previous.nextSequence()
                + ": "
                + (scan.firstSequence() - previous.nextSequence())
                + " writes between them are lost");
      }
      previous = scan;
    }
  }

  private static StoreException damage(Scan scan, String detail) {
    return new StoreException(
        Problem.CORRUPT_RECORD,
        scan.file(),
        "write-ahead log record at offset "
            + scan.end()
            + ": "
            + scan.why()
            + ", "
            + detail
            + "; synced writes after it would be lost, so the store refuses to start: move the"
            + " data dir aside and start the replica with an empty one (its peers rebuild it) or"
            + " restore it from a backup");
  }

  /**
   * Where one file's records end and why; whether a record of the file's log follows that end
   * (offset, or -1).
   *
   * <p>A recycled file's own records are followed by its earlier use's: the first bytes after the
   * last new record are most often the middle of an old one, which reads as a damaged record. So a
   * damaged end alone is no proof of loss; what proves it is a record of the same log after it, or
   * a newer file that does not start at the sequence number where this one stops (every write batch
   * names its first sequence number and how many it uses).
   *
   * @param damaged the end is a record that fails its checksum, type or length (not the end of the
   *     file, zeros, or an older incarnation's record)
   * @param firstSequence the sequence number of the file's first write batch, or -1 if none
   * @param nextSequence the sequence number after the file's last write batch, or -1 if none
   */
  record Scan(
      Path file,
      long records,
      long end,
      String why,
      boolean damaged,
      long recordAfterEnd,
      long firstSequence,
      long nextSequence) {}

  /** Reads {@code file}, the WAL with log number {@code logNumber}, block by block. */
  static Scan scan(Path file, long logNumber) throws StoreException {
    int ownNumber = (int) logNumber;
    long records = 0;
    long end = -1;
    String why = null;
    boolean damaged = false;
    Boolean recyclable = null;
    long firstSequence = -1;
    long nextSequence = -1;
    ByteBuffer block = ByteBuffer.allocate(BLOCK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    CRC32C crc = new CRC32C();
    ByteBuffer batchHeader = ByteBuffer.allocate(BATCH_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    int batchHeaderBytes = -1; // bytes of a batch header gathered so far, -1 when none is open
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = channel.size();
      for (long blockStart = 0; blockStart < size; blockStart += BLOCK_BYTES) {
        block.clear();
        while (block.hasRemaining() && channel.read(block, blockStart + block.position()) > 0) {
          // a short read: go on from where it stopped
        }
        int length = block.position();
        int position = 0;
        while (position + HEADER_BYTES <= length) {
          long offset = blockStart + position;
          int stored = block.getInt(position);
          int payload = Short.toUnsignedInt(block.getShort(position + 4));
          int type = Byte.toUnsignedInt(block.get(position + 6));
          if (type == 0 && payload == 0) {
            if (BLOCK_BYTES - position < RECYCLABLE_HEADER_BYTES) {
              break; // a block's trailer: too short for a recyclable header, zeroed by the writer
            }
            if (end < 0) {
              end = offset;
              why = "zeros (space never written)";
            }
            break; // the rest of the block: padding or preallocated space
          }
          boolean recyclableType = has(RECYCLABLE_TYPES, type);
          int header = recyclableType ? RECYCLABLE_HEADER_BYTES : HEADER_BYTES;
          if (!recyclableType && !has(LEGACY_TYPES, type) || position + header + payload > length) {
            if (end < 0) {
              end = offset;
              why =
                  has(RECYCLABLE_TYPES | LEGACY_TYPES, type)
                      ? "a record of "
                          + payload
                          + " bytes runs past the end of its block"
                          + (blockStart + length >= size ? " (the file ends inside it)" : "")
                      : "unknown record type " + type;
              damaged = true;
            }
            break; // no length to trust: go on at the next block, where records start again
          }
          crc.reset();
          crc.update(type);
          if (recyclableType) {
            crc.update(block.array(), position + HEADER_BYTES, 4);
          }
          crc.update(block.array(), position + header, payload);
          boolean intact = mask((int) crc.getValue()) == stored;
          if (intact && recyclable == null) {
            recyclable = recyclableType;
          }
          boolean ofThisLog =
              intact
                  && (recyclable
                      ? recyclableType && block.getInt(position + HEADER_BYTES) == ownNumber
                      : !recyclableType);
          if (ofThisLog && end >= 0) {
            return new Scan(file, records, end, why, damaged, offset, firstSequence, nextSequence);
          }
          if (ofThisLog) {
            records++;
            // A write batch's header is the first 12 bytes of its full record, or of its
            // fragments: a first fragment may hold fewer (it fills what is left of a block).
            if (has(STARTS_BATCH, type)) {
              batchHeaderBytes = 0;
            }
            if (batchHeaderBytes >= 0) {
              int take = Math.min(payload, BATCH_HEADER_BYTES - batchHeaderBytes);
              batchHeader.put(batchHeaderBytes, block.array(), position + header, take);
              batchHeaderBytes += take;
              if (batchHeaderBytes == BATCH_HEADER_BYTES) {
                long sequence = batchHeader.getLong(0);
                if (firstSequence < 0) {
                  firstSequence = sequence;
                }
                nextSequence = sequence + Integer.toUnsignedLong(batchHeader.getInt(8));
                batchHeaderBytes = -1;
              }
            }
          } else if (end < 0) {
            end = offset;
            why = intact ? "a record of an earlier use of the file" : "checksum mismatch";
            damaged = !intact;
          }
          // A damaged record whose header is sane is skipped by its length, so the records after
          // a flipped payload byte are still seen.
          position += header + payload;
        }
      }
    } catch (IOException e) {
      throw new StoreException(Problem.IO_ERROR, file, "cannot read the write-ahead log: " + e, e);
    }
    return new Scan(file, records, end, why, damaged, -1, firstSequence, nextSequence);
  }

  /** RocksDB's masking of a stored CRC (a CRC of data that holds CRCs is otherwise weak). */
  static int mask(int crc) {
    return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
  }

  private static boolean has(long set, int type) {
    return type < 64 && (set & (1L << type)) != 0;
  }

  private static long bits(int... types) {
    long set = 0;
    for (int type : types) {
      set |= 1L << type;
    }
    return set;
  }
}
