package io.paxcron.api;

import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import io.paxcron.proto.v1.JobServiceGrpc;
import io.paxcron.proto.v1.RunRecord;
import io.paxcron.proto.v1.WatchRunsRequest;
import io.paxcron.proto.v1.WatchRunsResponse;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * A client's {@code WatchRuns} stream as a blocking sequence of ledger records. When the stream
 * breaks (leader change, replica restart) it reopens it — at the leader the answer names, or at the
 * next address after a backoff — from the highest sequence already delivered, so no record is lost;
 * a stretch of skips that grew may be delivered again with a larger count.
 *
 * <p>Threading: one consumer thread calls {@link #next()}; {@link #close()} may be called from any
 * thread and makes a blocked {@code next()} fail.
 */
public final class RunWatch implements AutoCloseable {
  private final JobClient client;
  private final String job;
  private final ArrayDeque<RunRecord> buffered = new ArrayDeque<>();
  private long afterSequence;
  private volatile Context.CancellableContext context;
  private Iterator<WatchRunsResponse> stream;
  private volatile boolean closed;

  RunWatch(JobClient client, String job, long afterSequence) {
    this.client = client;
    this.job = job;
    this.afterSequence = afterSequence;
  }

  /** The highest sequence delivered so far (where a new watch would resume). */
  public long afterSequence() {
    return afterSequence;
  }

  /**
   * The next record, waiting for one to be recorded.
   *
   * @throws JobClientException if the watch is closed, the request is invalid, or the stream cannot
   *     be reopened within the client's attempts
   */
  public RunRecord next() {
    int failures = 0;
    while (buffered.isEmpty()) {
      if (closed) {
        throw new JobClientException(io.grpc.Status.Code.CANCELLED, "WatchRuns: closed", null);
      }
      String address = client.target();
      try {
        if (stream == null) {
          open(address);
        }
        if (!stream.hasNext()) {
          stream = null; // the server ended the stream; reopen where we were
          continue;
        }
        for (RunRecord record : stream.next().getRecordsList()) {
          buffered.add(record);
          afterSequence = Math.max(afterSequence, record.getSequence());
        }
        failures = 0;
      } catch (StatusRuntimeException e) {
        stream = null;
        if (closed) {
          throw new JobClientException(io.grpc.Status.Code.CANCELLED, "WatchRuns: closed", e);
        }
        JobClient.Next next = client.next(e, address);
        if (next == JobClient.Next.FAIL) {
          throw JobClient.translate("WatchRuns", e);
        }
        if (++failures >= client.settings().maxAttempts()) {
          throw new JobClientException.UnavailableException(
              e.getStatus().getCode(),
              "WatchRuns: could not reopen after " + failures + " attempts; last: " + e.getStatus(),
              e);
        }
        if (next == JobClient.Next.RETRY || failures > 1) {
          client.backoff(failures);
        }
      }
    }
    return buffered.poll();
  }

  private void open(String address) {
    if (context != null) {
      context.cancel(null);
    }
    context = Context.current().withCancellation();
    WatchRunsRequest request =
        WatchRunsRequest.newBuilder().setJob(job).setAfterSequence(afterSequence).build();
    Context previous = context.attach();
    try {
      stream = JobServiceGrpc.newBlockingStub(client.channel(address)).watchRuns(request);
    } finally {
      context.detach(previous);
    }
  }

  @Override
  public void close() {
    closed = true;
    Context.CancellableContext current = context;
    if (current != null) {
      current.cancel(null);
    }
  }
}
