package io.paxcron.api.auth;

import io.paxcron.proto.v1.ApplyJobsRequest;
import io.paxcron.proto.v1.DeleteJobRequest;
import io.paxcron.proto.v1.GetJobRequest;
import io.paxcron.proto.v1.GetRunOutputRequest;
import io.paxcron.proto.v1.Job;
import io.paxcron.proto.v1.ListRunsRequest;
import io.paxcron.proto.v1.PauseJobRequest;
import io.paxcron.proto.v1.PutJobRequest;
import io.paxcron.proto.v1.ResumeJobRequest;
import io.paxcron.proto.v1.TriggerJobRequest;
import io.paxcron.proto.v1.WatchRunsRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Which permission each API call needs, and which job names it touches. Calls not listed are
 * refused (deny by default): a new RPC is unreachable until someone decides who may make it.
 */
public final class AccessRules {

  /** How a call is scoped to the caller's job-name prefix. */
  public enum Scope {
    /** Cluster-wide: no job names (status, tokens, agents). */
    CLUSTER,
    /** Every job name the request names must be in the caller's prefix. */
    NAMED,
    /** Answers about many jobs are filtered to the caller's prefix. */
    FILTERED
  }

  /**
   * @param permission what the caller needs
   * @param write whether the call changes state (counted by the write rate limit)
   * @param scope how the job-name prefix applies
   * @param jobs the job names a NAMED request touches
   */
  public record Rule(
      Permission permission, boolean write, Scope scope, Function<Object, List<String>> jobs) {}

  private static final Function<Object, List<String>> NONE = request -> List.of();

  private static final Map<String, Rule> RULES =
      Map.ofEntries(
          Map.entry(
              "paxcron.v1.JobService/Put",
              named(Permission.EDIT, true, r -> jobName(((PutJobRequest) r).getJob()))),
          Map.entry(
              "paxcron.v1.JobService/Apply",
              named(Permission.EDIT, true, r -> applyNames((ApplyJobsRequest) r))),
          Map.entry(
              "paxcron.v1.JobService/Delete",
              named(Permission.EDIT, true, r -> List.of(((DeleteJobRequest) r).getName()))),
          Map.entry(
              "paxcron.v1.JobService/Pause",
              named(Permission.OPERATE, true, r -> List.of(((PauseJobRequest) r).getName()))),
          Map.entry(
              "paxcron.v1.JobService/Resume",
              named(Permission.OPERATE, true, r -> List.of(((ResumeJobRequest) r).getName()))),
          Map.entry(
              "paxcron.v1.JobService/Trigger",
              named(Permission.OPERATE, true, r -> List.of(((TriggerJobRequest) r).getName()))),
          Map.entry(
              "paxcron.v1.JobService/Get",
              named(Permission.READ, false, r -> List.of(((GetJobRequest) r).getName()))),
          Map.entry(
              "paxcron.v1.JobService/List", new Rule(Permission.READ, false, Scope.FILTERED, NONE)),
          Map.entry(
              "paxcron.v1.JobService/ListRuns",
              named(Permission.READ, false, r -> List.of(((ListRunsRequest) r).getJob()))),
          Map.entry(
              "paxcron.v1.JobService/WatchRuns",
              new Rule(
                  Permission.READ, false, Scope.FILTERED, r -> watchNames((WatchRunsRequest) r))),
          Map.entry(
              "paxcron.v1.JobService/GetRunOutput",
              named(
                  Permission.READ,
                  false,
                  r -> List.of(jobOfRun(((GetRunOutputRequest) r).getRunId())))),
          Map.entry("paxcron.v1.ClusterService/Status", cluster(Permission.READ, false)),
          Map.entry("paxcron.v1.ClusterService/Members", cluster(Permission.READ, false)),
          Map.entry("paxcron.v1.ClusterService/Backup", cluster(Permission.ADMIN, true)),
          Map.entry("paxcron.v1.ClusterService/ChangeMembers", cluster(Permission.ADMIN, true)),
          Map.entry("paxcron.v1.ReplicatedLog/Status", cluster(Permission.READ, false)),
          Map.entry("paxcron.v1.ReplicatedLog/Propose", cluster(Permission.ADMIN, true)),
          Map.entry("paxcron.v1.ReplicatedLog/ProposeStream", cluster(Permission.ADMIN, true)),
          Map.entry("paxcron.v1.ReplicatedLog/Read", cluster(Permission.ADMIN, false)),
          Map.entry("paxcron.v1.AccessService/CreateToken", cluster(Permission.ADMIN, true)),
          Map.entry("paxcron.v1.AccessService/RevokeToken", cluster(Permission.ADMIN, true)),
          Map.entry("paxcron.v1.AccessService/ListTokens", cluster(Permission.ADMIN, false)),
          Map.entry("paxcron.v1.AccessService/ListAudit", cluster(Permission.ADMIN, false)),
          Map.entry("paxcron.v1.AgentService/Connect", cluster(Permission.AGENT, false)));

  /** Calls any authenticated caller may make, whatever its role. */
  public static final String WHO_AM_I = "paxcron.v1.AccessService/WhoAmI";

  /** The one call a caller without a token may make (it works once per cluster). */
  public static final String BOOTSTRAP = "paxcron.v1.AccessService/Bootstrap";

  private AccessRules() {}

  /** The rule of a full method name ("paxcron.v1.JobService/Put"), or empty if none. */
  public static Optional<Rule> of(String fullMethodName) {
    return Optional.ofNullable(RULES.get(fullMethodName));
  }

  /** Every method with a rule (for the role × call test). */
  public static java.util.Set<String> methods() {
    return RULES.keySet();
  }

  private static Rule named(
      Permission permission, boolean write, Function<Object, List<String>> jobs) {
    return new Rule(permission, write, Scope.NAMED, jobs);
  }

  private static Rule cluster(Permission permission, boolean write) {
    return new Rule(permission, write, Scope.CLUSTER, NONE);
  }

  private static List<String> jobName(Job job) {
    return List.of(job.getName());
  }

  private static List<String> applyNames(ApplyJobsRequest request) {
    List<String> names = new ArrayList<>();
    request.getJobsList().forEach(job -> names.add(job.getName()));
    names.addAll(request.getDeleteNamesList());
    return names;
  }

  /** A watch of one job is NAMED; a watch of every job is filtered (handled by the caller). */
  private static List<String> watchNames(WatchRunsRequest request) {
    return request.getJob().isEmpty() ? List.of() : List.of(request.getJob());
  }

  /** The job of "job@instant[/manual]" (the whole text if it has no '@'). */
  static String jobOfRun(String runId) {
    int at = runId.indexOf('@');
    return at < 0 ? runId : runId.substring(0, at);
  }
}
