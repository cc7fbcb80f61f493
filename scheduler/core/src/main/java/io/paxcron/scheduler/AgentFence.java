package io.paxcron.scheduler;

import io.paxcron.paxos.Ballot;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The agent's side of the launch protocol (DESIGN §4 step 2), as a pure object: the fence (the
 * highest ballot seen) and the table of every launch accepted.
 *
 * <p>A launch is accepted only if its ballot is at least the highest seen (a deposed leader is
 * fenced out) and its {@code (runId, attempt)} is new; a repeat of a known launch changes nothing
 * and returns its current state. {@code GetRun} with a ballot raises the fence too, which is what
 * makes a new leader's "unknown → re-send" safe: once it asked, the old leader can no longer launch.
 *
 * <p>The driver must persist the accepted launch and the fence (see {@link #snapshot()}) <em>before</em>
 * it starts the process or answers. The table is bounded by {@code maxLaunches}; only launches whose
 * finish the leader acknowledged are forgotten (oldest first), so a launch is never forgotten while
 * a leader may still ask about it. Single-threaded.
 */
public final class AgentFence {
    /** Default bound on remembered launches. */
    public static final int DEFAULT_MAX_LAUNCHES = 100_000;

    private final int maxLaunches;
    private Ballot highest = Ballot.ZERO;
    private final LinkedHashMap<Key, Entry> launches = new LinkedHashMap<>();

    private record Key(RunId runId, int attempt) {}

    private static final class Entry {
        AgentRunState state = AgentRunState.ACCEPTED;
        Outcome outcome;
        boolean acknowledged;
    }

    public AgentFence() {
        this(DEFAULT_MAX_LAUNCHES);
    }

    public AgentFence(int maxLaunches) {
        if (maxLaunches < 1) {
            throw new IllegalArgumentException("maxLaunches must be >= 1, got " + maxLaunches);
        }
        this.maxLaunches = maxLaunches;
    }

    /** The agent's answer to a launch. */
    public sealed interface LaunchReply {
        /** New launch accepted: persist it, then start the process. */
        record Accepted() implements LaunchReply {}

        /** The launch is already known; nothing changed. {@code outcome} is set when {@code FINISHED}. */
        record Repeat(AgentRunState state, Outcome outcome) implements LaunchReply {}

        /** Not accepted. */
        record Refused(Reason reason, Ballot highestSeen) implements LaunchReply {}
    }

    /** Why a launch was refused. */
    public enum Reason {
        /** The ballot is below one the agent has seen: the sender is no longer the leader. */
        FENCED,
        /** The launch table is full of launches the leader has not yet acknowledged: back-pressure. */
        CAPACITY
    }

    /** The agent's answer to {@code GetRun}. */
    public sealed interface LookupReply {
        /** The launch is known. {@code outcome} is set when {@code FINISHED}. */
        record Known(AgentRunState state, Outcome outcome) implements LookupReply {}

        /** The agent never accepted this launch (and, after this answer, no lower ballot can make it). */
        record Unknown() implements LookupReply {}

        /** The ballot is below one the agent has seen. */
        record Fenced(Ballot highestSeen) implements LookupReply {}
    }

    /** Handles {@code Launch(runId, attempt, ballot)}. */
    public LaunchReply onLaunch(RunId runId, int attempt, Ballot ballot) {
        Objects.requireNonNull(runId, "runId");
        Objects.requireNonNull(ballot, "ballot");
        if (ballot.isBelow(highest)) {
            return new LaunchReply.Refused(Reason.FENCED, highest);
        }
        highest = ballot;
        Key key = new Key(runId, attempt);
        Entry known = launches.get(key);
        if (known != null) {
            return new LaunchReply.Repeat(known.state, known.outcome);
        }
        if (launches.size() >= maxLaunches && !forgetOneAcknowledged()) {
            return new LaunchReply.Refused(Reason.CAPACITY, highest);
        }
        launches.put(key, new Entry());
        return new LaunchReply.Accepted();
    }

    /** Handles {@code GetRun(runId, attempt, ballot)}: answers and raises the fence. */
    public LookupReply onGetRun(RunId runId, int attempt, Ballot ballot) {
        Objects.requireNonNull(ballot, "ballot");
        if (ballot.isBelow(highest)) {
            return new LookupReply.Fenced(highest);
        }
        highest = ballot;
        Entry known = launches.get(new Key(runId, attempt));
        return known == null ? new LookupReply.Unknown() : new LookupReply.Known(known.state, known.outcome);
    }

    /** The process of an accepted launch started. */
    public void onStarted(RunId runId, int attempt) {
        Entry entry = require(runId, attempt);
        if (entry.state == AgentRunState.ACCEPTED) {
            entry.state = AgentRunState.RUNNING;
        }
    }

    /** The process of an accepted launch ended with {@code outcome}. */
    public void onFinished(RunId runId, int attempt, Outcome outcome) {
        if (!outcome.reportedByAgent()) {
            throw new IllegalArgumentException("an agent reports SUCCEEDED, FAILED or TIMED_OUT, got " + outcome);
        }
        Entry entry = require(runId, attempt);
        entry.state = AgentRunState.FINISHED;
        entry.outcome = outcome;
    }

    /** The leader's log holds the finish: the launch may be forgotten when space is needed. */
    public void onFinishAcknowledged(RunId runId, int attempt) {
        Entry entry = require(runId, attempt);
        if (entry.state != AgentRunState.FINISHED) {
            throw new IllegalStateException("finish of " + runId + " attempt " + attempt
                    + " acknowledged before it was reported");
        }
        entry.acknowledged = true;
    }

    /** The highest ballot seen. */
    public Ballot highestBallot() {
        return highest;
    }

    /** How many launches are remembered. */
    public int size() {
        return launches.size();
    }

    private boolean forgetOneAcknowledged() {
        for (Iterator<Map.Entry<Key, Entry>> it = launches.entrySet().iterator(); it.hasNext(); ) {
            if (it.next().getValue().acknowledged) {
                it.remove();
                return true;
            }
        }
        return false;
    }

    private Entry require(RunId runId, int attempt) {
        Entry entry = launches.get(new Key(runId, attempt));
        if (entry == null) {
            throw new IllegalStateException("no accepted launch " + runId + " attempt " + attempt);
        }
        return entry;
    }

    /** The fence and launch table as bytes, for the driver to persist before it acts on an answer. */
    public byte[] snapshot() {
        BinaryWriter out = new BinaryWriter().writeByte(1).writeBallot(highest).writeInt(launches.size());
        for (Map.Entry<Key, Entry> launch : launches.entrySet()) {
            CronCodec.writeRunId(out, launch.getKey().runId());
            out.writeInt(launch.getKey().attempt()).writeByte(launch.getValue().state.ordinal());
            CronCodec.writeOptionalOutcome(out, launch.getValue().outcome);
            out.writeBoolean(launch.getValue().acknowledged);
        }
        return out.toByteArray();
    }

    /** Replaces the fence and table with a {@link #snapshot()} image. */
    public void restore(byte[] image) {
        BinaryReader in = new BinaryReader(image);
        try {
            int format = in.readByte();
            if (format != 1) {
                throw new MalformedCommandException("agent fence image format " + format);
            }
            Ballot ballot = in.readBallot();
            int count = in.readCount(maxLaunches, 16);
            LinkedHashMap<Key, Entry> restored = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                Key key = new Key(CronCodec.readRunId(in), in.readInt());
                Entry entry = new Entry();
                int state = in.readByte();
                if (state >= AgentRunState.values().length) {
                    throw new MalformedCommandException("unknown agent run state " + state);
                }
                entry.state = AgentRunState.values()[state];
                entry.outcome = CronCodec.readOptionalOutcome(in);
                entry.acknowledged = in.readBoolean();
                restored.put(key, entry);
            }
            in.expectEnd("agent fence image");
            highest = ballot;
            launches.clear();
            launches.putAll(restored);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("agent fence image is unreadable: " + e.getMessage(), e);
        }
    }
}
