package io.paxcron.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.paxcron.agent.core.CorruptJournalException;
import io.paxcron.agent.core.FenceBallot;
import io.paxcron.agent.core.JournalRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class AgentJournalTest {
  @TempDir Path dir;

  @Test
  void appendedRecordsAndACompactionSurviveReopening() throws Exception {
    AgentJournal.Opened opened = AgentJournal.open(dir);
    opened.journal().append(List.of(new JournalRecord.FenceRaised(new FenceBallot(0, 1, 1))));
    opened.journal().append(List.of(new JournalRecord.FenceRaised(new FenceBallot(0, 2, 1))));
    opened.journal().close();
    opened = AgentJournal.open(dir);
    assertEquals(2, opened.records().size());
    opened.journal().compact(new JournalRecord.Snapshot(new FenceBallot(0, 2, 1), List.of()));
    opened.journal().append(List.of(new JournalRecord.FenceRaised(new FenceBallot(0, 3, 1))));
    opened.journal().close();
    opened = AgentJournal.open(dir);
    assertEquals(
        List.of(
            new JournalRecord.Snapshot(new FenceBallot(0, 2, 1), List.of()),
            new JournalRecord.FenceRaised(new FenceBallot(0, 3, 1))),
        opened.records());
    opened.journal().close();
  }

  @Test
  void aTornTailIsTruncatedAndACorruptRecordIsRefusedNamingFileAndOffset() throws Exception {
    AgentJournal.Opened opened = AgentJournal.open(dir);
    opened
        .journal()
        .append(
            List.of(
                new JournalRecord.FenceRaised(new FenceBallot(0, 1, 1)),
                new JournalRecord.FenceRaised(new FenceBallot(0, 2, 1))));
    opened.journal().close();
    Path file = dir.resolve(AgentJournal.FILE);
    byte[] bytes = Files.readAllBytes(file);
    int frame = bytes.length / 2;
    Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 3));
    opened = AgentJournal.open(dir);
    assertTrue(opened.tornTailDropped());
    assertEquals(1, opened.records().size());
    opened.journal().close();
    assertEquals(frame, Files.size(file), "the torn tail was truncated away");
    bytes[10] ^= 1;
    Files.write(file, bytes);
    CorruptJournalException e =
        assertThrows(CorruptJournalException.class, () -> AgentJournal.open(dir));
    assertEquals(
        file
            + ": offset 0: agent journal record, format version 2: checksum mismatch in a frame of "
            + (frame - io.paxcron.paxos.Frame.HEADER_BYTES)
            + " bytes that is followed by more frames",
        e.getMessage());
  }
}
