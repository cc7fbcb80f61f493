package io.paxcron.paxos.storage;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;

/**
 * The tests' way around {@link LogStore}: opens a closed store's RocksDB directly to damage it the
 * way a bad disk, a bad copy or an old or new Paxcron would.
 */
final class RawStore implements AutoCloseable {

  private final DBOptions dbOptions = new DBOptions();
  private final ColumnFamilyOptions familyOptions = new ColumnFamilyOptions();
  private final List<ColumnFamilyHandle> handles = new ArrayList<>();
  private final RocksDB db;

  RawStore(Path dataDir) throws RocksDBException {
    List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
    for (String family : StoreLayout.FAMILIES) {
      descriptors.add(
          new ColumnFamilyDescriptor(family.getBytes(StandardCharsets.US_ASCII), familyOptions));
    }
    db = RocksDB.open(dbOptions, dataDir.toString(), descriptors, handles);
  }

  ColumnFamilyHandle family(String name) {
    return handles.get(StoreLayout.FAMILIES.indexOf(name));
  }

  byte[] get(String family, byte[] key) throws RocksDBException {
    return db.get(family(family), key);
  }

  void put(String family, byte[] key, byte[] value) throws RocksDBException {
    db.put(family(family), key, value);
  }

  /** Flips one bit of the byte at {@code offset} of the value under {@code key}. */
  void flipByte(String family, byte[] key, int offset) throws RocksDBException {
    byte[] value = get(family, key);
    value[offset] ^= 0x10;
    put(family, key, value);
  }

  void drop(String family) throws RocksDBException {
    db.dropColumnFamily(family(family));
  }

  @Override
  public void close() {
    for (ColumnFamilyHandle handle : handles) {
      handle.close();
    }
    db.close();
    familyOptions.close();
    dbOptions.close();
  }
}
