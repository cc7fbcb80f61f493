package io.paxcron.server;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.paxcron.proto.v1.AgentMessage;
import io.paxcron.proto.v1.AgentServiceGrpc;
import io.paxcron.proto.v1.CancelReply;
import io.paxcron.proto.v1.FenceBallot;
import io.paxcron.proto.v1.Heartbeat;
import io.paxcron.proto.v1.Launch;
import io.paxcron.proto.v1.LaunchReply;
import io.paxcron.proto.v1.LeaderMessage;
import io.paxcron.proto.v1.Outcome;
import io.paxcron.proto.v1.OutputChunk;
import io.paxcron.proto.v1.Register;
import io.paxcron.proto.v1.RunReport;
import io.paxcron.proto.v1.RunState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A test-scope worker agent that speaks agent.proto over real gRPC to real replicas: it dials a
 * replica, follows {@code Redirect}s, registers with labels and capacity, heartbeats, keeps an
 * in-memory fence and launch table, runs each accepted launch as a real process (argv, or {@code
 * /bin/sh -c}) with the {@code PAXCRON_*} environment and its output in a file, reports starts and
 * finishes until acknowledged, and answers GetRun, Cancel and GetOutput.
 *
 * <p>It is the leader side's test partner, not the product's agent: nothing is persisted, there is
 * no lease check before starting a process, and no process groups. Every event it sees is kept in
 * {@link #events()} for assertions. Threading: all state is guarded by the agent's monitor.
 */
final class ScriptedAgent implements AutoCloseable {

  /** A stream not answered with Registered (or Redirect) within this is abandoned. */
  private static final long REGISTRATION_TIMEOUT_MILLIS = 2_000;

  /** How often unacknowledged reports are sent again. */
  private static final long REPORT_RESEND_MILLIS = 300;

  private final String name;
  private final Map<String, String> labels;
  private final int capacity;

  /** Runs it really takes at once; launches past it are refused with CAPACITY (back-pressure). */
  private int accepts;

  private List<String> addresses;
  private final Path outputDir;
  private final ScheduledExecutorService timer;
  private final List<String> events = new ArrayList<>();
  private final Map<String, Entry> runs = new LinkedHashMap<>();
  private FenceBallot highestSeen = FenceBallot.getDefaultInstance();
  private ManagedChannel channel;
  private StreamObserver<AgentMessage> out;
  private long heartbeatInterval = 200;
  private long nextHeartbeat;
  private int dialIndex;
  private String redirectTo;
  private boolean registered;
  private boolean closed;
  private long heartbeatSequence;
  private long dialedAtMillis;
  private boolean paused;

  private static final class Entry {
    final Launch launch;
    RunState.State state = RunState.State.ACCEPTED;
    Outcome outcome = Outcome.OUTCOME_UNSPECIFIED;
    int exitCode;
    Process process;
    boolean startAcknowledged;
    boolean finishAcknowledged;
    Path output;

    Entry(Launch launch) {
      this.launch = launch;
    }
  }

  ScriptedAgent(
      String name,
      Map<String, String> labels,
      int capacity,
      List<String> addresses,
      Path outputDir) {
    this.name = name;
    this.labels = Map.copyOf(labels);
    this.capacity = capacity;
    this.accepts = capacity;
    this.addresses = List.copyOf(addresses);
    this.outputDir = outputDir;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread thread = new Thread(r, "scripted-agent-" + name);
              thread.setDaemon(true);
              return thread;
            });
  }

  /**
   * Dials the first address (or {@code first} if given) and keeps a stream to the leader from then
   * on.
   */
  synchronized void start(int firstAddressIndex) {
    dialIndex = firstAddressIndex;
    timer.scheduleAtFixedRate(this::tick, 0, 50, TimeUnit.MILLISECONDS);
  }

  /**
   * Dials these replicas from now on (a cluster restored elsewhere); the current stream is kept
   * until it ends.
   */
  synchronized void retarget(List<String> newAddresses) {
    addresses = List.copyOf(newAddresses);
    redirectTo = null;
    dialIndex = 0;
  }

  /**
   * Goes silent as a SIGSTOPped agent would: sends nothing and drops what arrives, while its
   * processes run on and finish. {@link #resume} re-sends every unacknowledged report.
   */
  synchronized void pause() {
    paused = true;
    events.add("paused");
  }

  synchronized void resume() {
    paused = false;
    events.add("resumed");
    resendReports();
  }

  /** The highest fence seen. */
  synchronized FenceBallot highestSeen() {
    return highestSeen;
  }

  /** Takes at most {@code runs} at once from now on, while still declaring its capacity. */
  synchronized void acceptAtMost(int runs) {
    accepts = runs;
  }

  synchronized List<String> events() {
    return List.copyOf(events);
  }

  private int heartbeatAcks;

  /** How many heartbeat acknowledgements it has received. */
  synchronized int heartbeatAcks() {
    return heartbeatAcks;
  }

  synchronized boolean registered() {
    return registered;
  }

  /** Raises the fence as if a cluster of {@code generation} had spoken (for fencing tests). */
  synchronized void raiseFence(FenceBallot fence) {
    if (compare(fence, highestSeen) > 0) {
      highestSeen = fence;
    }
  }

  private synchronized void tick() {
    if (closed || paused) {
      return;
    }
    long now = System.nanoTime() / 1_000_000;
    if (out == null) {
      dial();
      return;
    }
    if (!registered && now - dialedAtMillis > REGISTRATION_TIMEOUT_MILLIS) {
      // A dial to a replica that just died can hang instead of failing; give up and dial the next.
      events.add("registration timed out");
      StreamObserver<AgentMessage> stale = out;
      out = null;
      try {
        stale.onError(new IllegalStateException("registration timed out"));
      } catch (RuntimeException e) {
        // Already over.
      }
      return;
    }
    if (registered && now >= nextHeartbeat) {
      nextHeartbeat = now + heartbeatInterval;
      int running =
          (int) runs.values().stream().filter(e -> e.state == RunState.State.RUNNING).count();
      send(
          AgentMessage.newBuilder()
              .setHeartbeat(
                  Heartbeat.newBuilder()
                      .setSequence(++heartbeatSequence)
                      .setRunning(running)
                      .setCapacity(capacity)
                      .setHighestSeen(highestSeen))
              .build());
    }
  }

  private void dial() {
    String address =
        redirectTo != null ? redirectTo : addresses.get(dialIndex++ % addresses.size());
    redirectTo = null;
    if (channel != null) {
      channel.shutdownNow();
    }
    channel = ManagedChannelBuilder.forTarget(address).usePlaintext().build();
    events.add("dial " + address);
    java.util.concurrent.atomic.AtomicReference<StreamObserver<AgentMessage>> self =
        new java.util.concurrent.atomic.AtomicReference<>();
    StreamObserver<AgentMessage> stream =
        AgentServiceGrpc.newStub(channel)
            .connect(
                new StreamObserver<>() {
                  @Override
                  public void onNext(LeaderMessage message) {
                    onLeaderMessage(self.get(), message);
                  }

                  @Override
                  public void onError(Throwable error) {
                    ended(self.get(), "error " + error.getMessage());
                  }

                  @Override
                  public void onCompleted() {
                    ended(self.get(), "completed");
                  }
                });
    self.set(stream);
    out = stream;
    dialedAtMillis = System.nanoTime() / 1_000_000;
    Register.Builder register =
        Register.newBuilder()
            .setName(name)
            .putAllLabels(labels)
            .setCapacity(capacity)
            .setHighestSeen(highestSeen)
            .setVersion("scripted");
    out.onNext(AgentMessage.newBuilder().setRegister(register).build());
  }

  private synchronized void ended(StreamObserver<AgentMessage> stream, String how) {
    if (out == stream) {
      events.add("stream " + how);
      out = null;
      registered = false;
    }
  }

  private void send(AgentMessage message) {
    if (out != null && !paused) {
      try {
        out.onNext(message);
      } catch (RuntimeException e) {
        out = null;
        registered = false;
      }
    }
  }

  private synchronized void onLeaderMessage(
      StreamObserver<AgentMessage> stream, LeaderMessage message) {
    if (stream != out || paused) {
      return;
    }
    switch (message.getBodyCase()) {
      case REGISTERED -> {
        registered = true;
        raiseFence(message.getRegistered().getBallot());
        heartbeatInterval =
            Math.max(
                10,
                message.getRegistered().getHeartbeatInterval().getNanos() / 1_000_000
                    + message.getRegistered().getHeartbeatInterval().getSeconds() * 1000);
        events.add("registered with " + message.getRegistered().getLeaderId());
        resendReports();
      }
      case REDIRECT -> {
        events.add("redirect to " + message.getRedirect().getLeaderAddress());
        if (!message.getRedirect().getLeaderAddress().isEmpty()) {
          redirectTo = message.getRedirect().getLeaderAddress();
        }
      }
      case REFUSED -> events.add("refused " + message.getRefused().getReason());
      case HEARTBEAT_ACK -> heartbeatAcks++;
      case LAUNCH -> onLaunch(message.getLaunch());
      case GET_RUN -> {
        var ask = message.getGetRun();
        Entry entry = runs.get(key(ask.getRunId(), ask.getAttempt()));
        RunState.Builder state =
            RunState.newBuilder()
                .setRunId(ask.getRunId())
                .setAttempt(ask.getAttempt())
                .setBallot(ask.getBallot());
        if (compare(ask.getBallot(), highestSeen) < 0) {
          state.setState(RunState.State.FENCED).setHighestSeen(highestSeen);
        } else {
          highestSeen = ask.getBallot();
          fill(state, entry);
        }
        events.add("get-run " + ask.getRunId() + " -> " + state.getState());
        send(AgentMessage.newBuilder().setRunState(state).build());
      }
      case CANCEL -> {
        var cancel = message.getCancel();
        Entry entry = runs.get(key(cancel.getRunId(), cancel.getAttempt()));
        CancelReply.Builder reply =
            CancelReply.newBuilder()
                .setRunId(cancel.getRunId())
                .setAttempt(cancel.getAttempt())
                .setBallot(cancel.getBallot());
        if (compare(cancel.getBallot(), highestSeen) < 0) {
          reply.setHighestSeen(highestSeen);
        } else if (entry != null && entry.process != null && entry.process.isAlive()) {
          entry.process.destroy();
          reply.setSignalled(true);
        } else if (entry != null && entry.state == RunState.State.ACCEPTED) {
          entry.state = RunState.State.NEVER_STARTED; // held for its instant: it never starts
          events.add("cancelled " + entry.launch.getRunId() + " before it started");
        }
        send(AgentMessage.newBuilder().setCancelReply(reply).build());
        resendReports();
      }
      case REPORT_ACK -> {
        var ack = message.getReportAck();
        Entry entry = runs.get(key(ack.getRunId(), ack.getAttempt()));
        if (entry != null) {
          if (ack.getKind() == RunReport.Kind.STARTED) {
            entry.startAcknowledged = true;
          } else {
            entry.finishAcknowledged = true;
          }
        }
      }
      case GET_OUTPUT -> {
        var ask = message.getGetOutput();
        Entry entry = runs.get(key(ask.getRunId(), ask.getAttempt()));
        OutputChunk.Builder chunk = OutputChunk.newBuilder().setRequestId(ask.getRequestId());
        if (entry != null && entry.output != null) {
          try {
            byte[] all = Files.readAllBytes(entry.output);
            int from = (int) Math.min(all.length, ask.getOffset());
            int to = Math.min(all.length, from + Math.max(1, Math.min(ask.getMaxBytes(), 1 << 20)));
            chunk
                .setFound(true)
                .setOffset(from)
                .setData(ByteString.copyFrom(all, from, to - from))
                .setSize(all.length)
                .setEof(to == all.length && entry.state == RunState.State.FINISHED);
          } catch (IOException e) {
            chunk.setError(e.getMessage());
          }
        }
        send(AgentMessage.newBuilder().setOutput(chunk).build());
      }
      case BODY_NOT_SET -> {}
    }
  }

  private void onLaunch(Launch launch) {
    String key = key(launch.getRunId(), launch.getAttempt());
    LaunchReply.Builder reply =
        LaunchReply.newBuilder()
            .setRunId(launch.getRunId())
            .setAttempt(launch.getAttempt())
            .setBallot(launch.getBallot());
    Entry known = runs.get(key);
    if (compare(launch.getBallot(), highestSeen) < 0) {
      reply.setStatus(LaunchReply.Status.FENCED).setHighestSeen(highestSeen);
      events.add("launch " + launch.getRunId() + " fenced");
    } else if (known != null) {
      highestSeen = launch.getBallot();
      RunState.Builder state = RunState.newBuilder();
      fill(state, known);
      reply.setStatus(LaunchReply.Status.REPEAT).setState(state);
      events.add("launch " + launch.getRunId() + " attempt " + launch.getAttempt() + " repeat");
    } else if (runs.values().stream().filter(e -> e.state != RunState.State.FINISHED).count()
        >= accepts) {
      highestSeen = launch.getBallot();
      reply.setStatus(LaunchReply.Status.CAPACITY).setReason(accepts + " runs in progress");
      events.add("launch " + launch.getRunId() + " capacity");
    } else {
      highestSeen = launch.getBallot();
      Entry entry = new Entry(launch);
      runs.put(key, entry);
      events.add("launch " + launch.getRunId() + " attempt " + launch.getAttempt() + " accepted");
      long holdMillis =
          launch.hasStartAt()
              ? java.time.Duration.between(
                      java.time.Instant.now(),
                      java.time.Instant.ofEpochSecond(
                          launch.getStartAt().getSeconds(), launch.getStartAt().getNanos()))
                  .toMillis()
              : 0;
      if (holdMillis > 0) {
        // Held for its instant (a launch chosen ahead), as the product's agent does.
        timer.schedule(() -> startHeld(entry), holdMillis, TimeUnit.MILLISECONDS);
      } else {
        startProcess(entry);
      }
      RunState.Builder state = RunState.newBuilder();
      fill(state, entry);
      reply.setStatus(LaunchReply.Status.ACCEPTED).setState(state);
    }
    send(AgentMessage.newBuilder().setLaunchReply(reply).build());
    resendReports();
  }

  private void startProcess(Entry entry) {
    var spec = entry.launch.getSpec();
    List<String> argv =
        spec.getArgvCount() > 0 ? spec.getArgvList() : List.of("/bin/sh", "-c", spec.getShell());
    ProcessBuilder builder = new ProcessBuilder(argv);
    builder.environment().putAll(spec.getEnvMap());
    builder.environment().put("PAXCRON_RUN_ID", entry.launch.getRunId());
    builder.environment().put("PAXCRON_JOB", spec.getJob());
    builder.environment().put("PAXCRON_ATTEMPT", Integer.toString(entry.launch.getAttempt()));
    builder
        .environment()
        .put(
            "PAXCRON_SCHEDULED_TIME",
            java.time.Instant.ofEpochSecond(
                    entry.launch.getScheduledTime().getSeconds(),
                    entry.launch.getScheduledTime().getNanos())
                .toString());
    builder.environment().put("PAXCRON_AGENT", name);
    entry.output =
        outputDir.resolve(
            entry.launch.getRunId().replaceAll("[^A-Za-z0-9.-]", "_")
                + "-"
                + entry.launch.getAttempt()
                + ".out");
    builder.redirectErrorStream(true).redirectOutput(entry.output.toFile());
    try {
      entry.process = builder.start();
    } catch (IOException e) {
      entry.state = RunState.State.FINISHED;
      entry.outcome = Outcome.OUTCOME_FAILED;
      entry.exitCode = 127;
      return;
    }
    entry.state = RunState.State.RUNNING;
    entry.process.onExit().thenAccept(process -> exited(entry, process.exitValue()));
  }

  private synchronized void startHeld(Entry entry) {
    if (entry.state == RunState.State.ACCEPTED) {
      startProcess(entry);
      resendReports();
    }
  }

  private synchronized void exited(Entry entry, int exitCode) {
    entry.state = RunState.State.FINISHED;
    entry.exitCode = exitCode;
    entry.outcome = exitCode == 0 ? Outcome.OUTCOME_SUCCEEDED : Outcome.OUTCOME_FAILED;
    events.add("finished " + entry.launch.getRunId() + " exit " + exitCode);
    resendReports();
  }

  /** Sends every report not yet acknowledged; runs again on the timer until they are. */
  private void resendReports() {
    if (!registered) {
      return;
    }
    for (Entry entry : runs.values()) {
      RunState.Builder state = RunState.newBuilder();
      fill(state, entry);
      if ((entry.state == RunState.State.FINISHED || entry.state == RunState.State.NEVER_STARTED)
          && !entry.finishAcknowledged) {
        send(
            AgentMessage.newBuilder()
                .setReport(RunReport.newBuilder().setKind(RunReport.Kind.FINISHED).setState(state))
                .build());
      } else if (entry.state == RunState.State.RUNNING && !entry.startAcknowledged) {
        send(
            AgentMessage.newBuilder()
                .setReport(RunReport.newBuilder().setKind(RunReport.Kind.STARTED).setState(state))
                .build());
      }
    }
    timer.schedule(this::resendLater, REPORT_RESEND_MILLIS, TimeUnit.MILLISECONDS);
  }

  private synchronized void resendLater() {
    boolean pending =
        runs.values().stream()
            .anyMatch(
                entry ->
                    (entry.state == RunState.State.FINISHED
                                || entry.state == RunState.State.NEVER_STARTED)
                            && !entry.finishAcknowledged
                        || entry.state == RunState.State.RUNNING && !entry.startAcknowledged);
    if (pending && !closed && registered && !paused) {
      resendReports();
    }
  }

  private static void fill(RunState.Builder state, Entry entry) {
    if (entry == null) {
      state.setState(RunState.State.UNKNOWN);
      return;
    }
    state
        .setRunId(entry.launch.getRunId())
        .setAttempt(entry.launch.getAttempt())
        .setState(entry.state);
    if (entry.state == RunState.State.FINISHED) {
      state.setOutcome(entry.outcome).setExitCode(entry.exitCode);
      if (entry.output != null) {
        try {
          byte[] all = Files.exists(entry.output) ? Files.readAllBytes(entry.output) : new byte[0];
          int from = Math.max(0, all.length - 1024);
          state.setOutputTail(ByteString.copyFrom(all, from, all.length - from));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
  }

  private static String key(String runId, int attempt) {
    return runId + "#" + attempt;
  }

  static int compare(FenceBallot a, FenceBallot b) {
    return Comparator.comparingLong(FenceBallot::getGeneration)
        .thenComparingLong(FenceBallot::getRound)
        .thenComparingInt(FenceBallot::getReplicaId)
        .compare(a, b);
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      for (Entry entry : runs.values()) {
        if (entry.process != null) {
          entry.process.destroyForcibly();
        }
      }
      if (out != null) {
        try {
          out.onCompleted();
        } catch (RuntimeException e) {
          // Already gone.
        }
      }
    }
    timer.shutdownNow();
    if (channel != null) {
      channel.shutdownNow();
    }
  }
}
