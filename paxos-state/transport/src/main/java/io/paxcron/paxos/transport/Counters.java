package io.paxcron.paxos.transport;

import java.util.concurrent.atomic.LongAdder;

/** The transport's event counts, shared by its parts; read through {@link PeerTransport}. */
final class Counters {
  final LongAdder sent = new LongAdder();
  final LongAdder received = new LongAdder();
  final LongAdder dropped = new LongAdder();
  final LongAdder unmatched = new LongAdder();
  final LongAdder reconnects = new LongAdder();
  final LongAdder failedCalls = new LongAdder();
  final LongAdder refused = new LongAdder();
  final LongAdder socketReceived = new LongAdder();
  final LongAdder rejectedTransfers = new LongAdder();
}
