package io.paxcron.api.auth;

import io.paxcron.api.JobChange;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * What the access API needs from the replica: proposing access commands through the log (as one
 * session command, stamped with the leader's clock when proposed) and linearizable reads of the
 * access state. Futures fail like {@link io.paxcron.api.CronCluster}'s.
 */
public interface AccessCluster {

  /** Proposes the command {@code build} makes from the leader's stamp; answers its result. */
  CompletableFuture<AccessState.Result> submitAccess(
      long clientId, long sequence, Function<Instant, AccessCommand> build);

  /** Runs {@code query} on the applied access state under the leader's lease. */
  <T> CompletableFuture<T> readAccess(Function<AccessState.View, T> query);

  /**
   * Wraps a job batch in an audit envelope naming {@code caller} (the API call's, captured on the
   * call's thread with {@link Caller#current()}), or returns it as is without one (the dispatcher's
   * own commands are not audited: the ledger records them).
   */
  static byte[] audited(
      byte[] batch, Instant stamp, List<JobChange> changes, java.util.Optional<Caller> caller) {
    return caller
        .map(
            who ->
                AccessCommand.encode(
                    new AccessCommand.Audited(
                        new AccessCommand.Header(stamp, who.actor(), who.source()),
                        actionOf(changes),
                        targetOf(changes),
                        batch)))
        .orElse(batch);
  }

  private static String actionOf(List<JobChange> changes) {
    if (changes.size() != 1) {
      return "JobService/Apply";
    }
    return switch (changes.get(0)) {
      case JobChange.Put put -> "JobService/Put";
      case JobChange.Delete delete -> "JobService/Delete";
      case JobChange.Pause pause -> "JobService/Pause";
      case JobChange.Resume resume -> "JobService/Resume";
      case JobChange.Trigger trigger -> "JobService/Trigger";
    };
  }

  private static String targetOf(List<JobChange> changes) {
    StringBuilder target = new StringBuilder();
    for (JobChange change : changes) {
      String name =
          switch (change) {
            case JobChange.Put put -> "+" + put.spec().name();
            case JobChange.Delete delete -> "-" + delete.name();
            case JobChange.Pause pause -> pause.name();
            case JobChange.Resume resume -> resume.name();
            case JobChange.Trigger trigger -> trigger.name();
          };
      if (target.length() + name.length() + 1 > AccessCommand.MAX_TEXT - 8) {
        target.append(" …");
        break;
      }
      target.append(target.length() == 0 ? "" : " ").append(name);
    }
    return target.toString();
  }
}
