package io.paxcron.http;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.paxcron.proto.v1.AgentStatus;
import io.paxcron.proto.v1.ClusterServiceGrpc;
import io.paxcron.proto.v1.ClusterStatusRequest;
import io.paxcron.proto.v1.ClusterStatusResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Every member's own answer to {@code ClusterService.Status}, asked in turn with a short deadline,
 * so the Overview shows each replica as it sees itself (a follower's lag, a partitioned replica's
 * stale ballot) and who answered when. Agents come from the leader's answer: the leader is the
 * replica agents talk to.
 *
 * <p>Thread-safe. Owns one channel per member, closed by {@link #close()}.
 */
final class ClusterView implements AutoCloseable {

  /** One member's status, or why it did not answer. */
  record MemberStatus(
      int id,
      String address,
      Optional<ClusterStatusResponse> status,
      String error,
      Instant lastContact) {}

  /** What all members said, in id order. */
  record Snapshot(List<MemberStatus> members, Instant at) {
    /** The leader's own answer, if the leader answered. */
    Optional<ClusterStatusResponse> leader() {
      for (MemberStatus member : members) {
        if (member.status().isPresent() && member.status().get().getRole().equals("LEADER")) {
          return member.status();
        }
      }
      return Optional.empty();
    }

    /** The highest chosen slot any member reported. */
    long chosenSlot() {
      long chosen = 0;
      for (MemberStatus member : members) {
        if (member.status().isPresent()) {
          chosen = Math.max(chosen, member.status().get().getFirstUnchosenSlot() - 1);
        }
      }
      return chosen;
    }

    List<AgentStatus> agents() {
      return leader().map(ClusterStatusResponse::getAgentsList).orElse(List.of());
    }
  }

  private final Map<Integer, String> addresses;
  private final Duration deadline;
  private final java.util.function.Function<String, ManagedChannel> factory;
  private final Map<Integer, ManagedChannel> channels = new TreeMap<>();
  private final Map<Integer, Instant> lastContact = new ConcurrentHashMap<>();

  /**
   * @param addresses every member's client API address, by replica id
   * @param deadline how long one member may take to answer
   */
  ClusterView(Map<Integer, String> addresses, Duration deadline) {
    this(
        addresses,
        deadline,
        address -> NettyChannelBuilder.forTarget(address).usePlaintext().build());
  }

  /**
   * @param factory opens a channel to a member's client port (TLS and credentials as configured)
   */
  ClusterView(
      Map<Integer, String> addresses,
      Duration deadline,
      java.util.function.Function<String, ManagedChannel> factory) {
    this.addresses = new TreeMap<>(addresses);
    this.deadline = deadline;
    this.factory = factory;
    for (Map.Entry<Integer, String> member : this.addresses.entrySet()) {
      channels.put(member.getKey(), factory.apply(member.getValue()));
    }
  }

  /**
   * Adds members the log named (a replica added through a membership change) and follows a changed
   * address; members no longer named stay, so a removed replica still shows.
   */
  synchronized void learn(Map<Integer, String> members) {
    for (Map.Entry<Integer, String> member : members.entrySet()) {
      if (member.getValue().isEmpty() || member.getValue().equals(addresses.get(member.getKey()))) {
        continue;
      }
      ManagedChannel old = channels.put(member.getKey(), factory.apply(member.getValue()));
      addresses.put(member.getKey(), member.getValue());
      if (old != null) {
        old.shutdownNow();
      }
    }
  }

  Snapshot read() {
    List<MemberStatus> members = new ArrayList<>();
    List<Integer> ids;
    synchronized (this) {
      ids = List.copyOf(addresses.keySet());
    }
    for (int id : ids) {
      members.add(readOne(id));
    }
    return new Snapshot(members, Instant.now());
  }

  /** Member {@code id}'s own status, or why it did not answer. */
  MemberStatus readOne(int id) {
    String address;
    ManagedChannel channel;
    synchronized (this) {
      address = addresses.get(id);
      channel = channels.get(id);
    }
    if (address == null) {
      return new MemberStatus(id, "", Optional.empty(), "not a member", null);
    }
    Map.Entry<Integer, String> member = Map.entry(id, address);
    {
      try {
        ClusterStatusResponse status =
            ClusterServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                .status(ClusterStatusRequest.getDefaultInstance());
        Instant now = Instant.now();
        lastContact.put(id, now);
        return new MemberStatus(id, member.getValue(), Optional.of(status), "", now);
      } catch (StatusRuntimeException e) {
        return new MemberStatus(
            id,
            member.getValue(),
            Optional.empty(),
            e.getStatus().getCode()
                + (e.getStatus().getDescription() == null
                    ? ""
                    : ": " + e.getStatus().getDescription()),
            lastContact.get(id));
      }
    }
  }

  /** The channel to the leader {@code snapshot} names, for calls the leader alone answers. */
  synchronized Optional<ManagedChannel> leaderChannel(Snapshot snapshot) {
    for (MemberStatus member : snapshot.members()) {
      if (member.status().isPresent()) {
        int leader = member.status().get().getLeaderId();
        if (leader >= 0 && channels.containsKey(leader)) {
          return Optional.of(channels.get(leader));
        }
      }
    }
    return Optional.empty();
  }

  static Map<String, Object> agentView(AgentStatus agent) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("name", agent.getName());
    out.put("labels", new TreeMap<>(agent.getLabelsMap()));
    out.put("capacity", agent.getCapacity());
    out.put("running", agent.getRunning());
    out.put("state", agent.getState());
    out.put("circuitOpen", agent.getCircuitOpen());
    out.put(
        "circuitOpenUntil",
        agent.hasCircuitOpenUntil() ? Views.iso(agent.getCircuitOpenUntil()) : null);
    out.put("lastHeartbeat", agent.hasLastHeartbeat() ? Views.iso(agent.getLastHeartbeat()) : null);
    out.put("peer", agent.getPeer());
    out.put("version", agent.getVersion());
    return out;
  }

  @Override
  public synchronized void close() {
    for (ManagedChannel channel : channels.values()) {
      channel.shutdownNow();
    }
  }
}
