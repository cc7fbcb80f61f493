package io.paxcron.cli;

import io.paxcron.api.JobClient;
import io.paxcron.api.JobClientException;
import io.paxcron.scheduler.FieldError;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Option;

/**
 * The part every CLI command shares: the cluster address, {@code -o}, {@code --no-color}, and the
 * translation of client errors into one line on stderr and a documented exit code. Not thread-safe:
 * one instance runs one command.
 */
abstract class CliCommand implements Callable<Integer> {
  protected final CliContext context;

  @Option(
      names = "--cluster",
      paramLabel = "HOST:PORT[,HOST:PORT...]",
      description =
          "Replica client addresses. Default: $PAXCRON_CLUSTER, then 'cluster = ...' in"
              + " $PAXCRON_CONFIG or ~/.config/paxcron/cli.conf.")
  String cluster;

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      description = "table (default) or json.")
  OutputFormat output = OutputFormat.table;

  @Option(
      names = "--no-color",
      description = "No colors even on a terminal (NO_COLOR=1 does the same).")
  boolean noColor;

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Show this help and exit.")
  boolean help;

  private ClusterAddress address;

  CliCommand(CliContext context) {
    this.context = Objects.requireNonNull(context, "context");
  }

  /** The command's work; client errors thrown here become one line and an exit code. */
  abstract int run() throws Exception;

  @Override
  public final Integer call() throws Exception {
    try {
      return run();
    } catch (ClusterAddress.MissingException
        | CliSecurity.Problem
        | java.io.UncheckedIOException e) {
      context.err().println("error: " + e.getMessage());
      return ExitCodes.USAGE;
    } catch (JobClientException.UnavailableException e) {
      context
          .err()
          .println(
              "error: cannot reach the cluster at "
                  + String.join(", ", address.addresses())
                  + " (from "
                  + address.origin()
                  + "): "
                  + e.code()
                  + lastDescription(e));
      return ExitCodes.UNREACHABLE;
    } catch (JobClientException.VersionConflictException e) {
      context
          .err()
          .println(
              "error: the cluster changed since it was read (job '"
                  + e.job()
                  + "' is now at"
                  + " version "
                  + e.currentVersion()
                  + "); nothing was changed. Run the command again.");
      return ExitCodes.CONFLICT;
    } catch (JobClientException.InvalidRequestException e) {
      context.err().println("error: the cluster refused the request:");
      for (FieldError violation : e.violations()) {
        context.err().println("  " + violation);
      }
      return ExitCodes.ERROR;
    } catch (JobClientException.JobNotFoundException e) {
      context.err().println("error: " + afterCode(e.getMessage()));
      return ExitCodes.ERROR;
    } catch (JobClientException e) {
      context.err().println("error: " + e.getMessage().lines().findFirst().orElse(""));
      return ExitCodes.ERROR;
    } finally {
      context.out().flush();
      context.err().flush();
    }
  }

  /** The replica's own words for the last failed attempt ("no leader yet"), when it gave any. */
  private static String lastDescription(JobClientException.UnavailableException e) {
    if (e.getCause() instanceof io.grpc.StatusRuntimeException cause
        && cause.getStatus().getDescription() != null
        && !cause.getStatus().getDescription().isBlank()) {
      return " (" + cause.getStatus().getDescription().lines().findFirst().orElse("") + ")";
    }
    return "";
  }

  /** "Get: NOT_FOUND: job 'x' does not exist" without the call and code. */
  private static String afterCode(String message) {
    int second = message.indexOf(": ", message.indexOf(": ") + 2);
    return second < 0 ? message : message.substring(second + 2);
  }

  Style style() {
    return Style.of(context, noColor);
  }

  boolean json() {
    return output == OutputFormat.json;
  }

  /** A client for the resolved cluster; the caller closes it. */
  JobClient client() throws ClusterAddress.MissingException {
    address = context.cluster(cluster);
    return context.clients().apply(address.addresses());
  }
}
