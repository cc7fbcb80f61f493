package io.paxcron.paxos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.DayOfWeek;
import org.junit.jupiter.api.Test;

/**
 * An enum read back by its name's bytes is the constant written, names that are prefixes of others
 * included; an unknown name is refused naming the enum and the name, and leaves the reader where a
 * string read would have.
 */
final class BinaryReaderEnumTest {

  private enum Shape {
    ROUND,
    ROUNDED,
    R
  }

  @Test
  void everyConstantIsReadBackAfterOthers() {
    BinaryWriter out = new BinaryWriter();
    for (Shape shape : Shape.values()) {
      out.writeString(shape.name()).writeInt(7);
    }
    out.writeString(DayOfWeek.SATURDAY.name());
    BinaryReader in = new BinaryReader(out.toByteArray());
    for (Shape shape : Shape.values()) {
      assertEquals(shape, in.readEnum(Shape.class));
      assertEquals(7, in.readInt());
    }
    assertEquals(DayOfWeek.SATURDAY, in.readEnum(DayOfWeek.class));
    assertTrue(in.atEnd());
  }

  @Test
  void anUnknownNameIsRefusedWithTheEnumAndTheName() {
    BinaryWriter out = new BinaryWriter();
    out.writeString("SQUARE").writeString("ROUNDE");
    BinaryReader in = new BinaryReader(out.toByteArray());
    RecordFormatException square =
        assertThrows(RecordFormatException.class, () -> in.readEnum(Shape.class));
    assertEquals("unknown Shape 'SQUARE'", square.getMessage());
    RecordFormatException prefix =
        assertThrows(RecordFormatException.class, () -> in.readEnum(Shape.class));
    assertEquals("unknown Shape 'ROUNDE'", prefix.getMessage());
    assertTrue(in.atEnd());
  }
}
