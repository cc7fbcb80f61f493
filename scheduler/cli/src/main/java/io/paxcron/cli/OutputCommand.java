package io.paxcron.cli;

import io.paxcron.api.JobClient;
import io.paxcron.proto.v1.GetRunOutputResponse;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code paxcron output RUN_ID}: a run's stdout and stderr as the agent that ran it keeps them. */
@Command(
    name = "output",
    exitCodeOnInvalidInput = ExitCodes.USAGE,
    description = {
      "Print a run's output from the agent that ran it.",
      "stdout and stderr interleaved; RUN_ID is as 'paxcron runs' shows it (job@instant).",
      "Exit: 0 success, 1 error or no agent has it, 3 unreachable, 64 usage."
    })
public final class OutputCommand extends CliCommand {
  /** Most bytes printed for one run, whatever the agent keeps. */
  static final int MAX_OUTPUT_BYTES = 64 << 20;

  /** Bytes asked per call. */
  static final int PAGE_BYTES = 1 << 20;

  @Parameters(index = "0", paramLabel = "RUN_ID", description = "The run, job@instant.")
  String runId;

  @Option(names = "--attempt", paramLabel = "N", description = "The attempt (default: the newest).")
  int attempt;

  public OutputCommand(CliContext context) {
    super(context);
  }

  @Override
  int run() throws Exception {
    if (attempt < 0) {
      context.err().println("error: --attempt must not be negative, got " + attempt);
      return ExitCodes.USAGE;
    }
    try (JobClient client = client()) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      GetRunOutputResponse page;
      long offset = 0;
      do {
        page = client.runOutput(runId, attempt, offset, PAGE_BYTES);
        page.getData().writeTo(bytes);
        offset = page.getOffset() + page.getData().size();
      } while (!page.getEof() && !page.getData().isEmpty() && bytes.size() < MAX_OUTPUT_BYTES);
      String text = bytes.toString(StandardCharsets.UTF_8);
      if (json()) {
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("runId", runId);
        answer.put("agent", page.getAgentId());
        answer.put("attempt", page.getAttempt());
        answer.put("size", page.getSize());
        answer.put("truncated", page.getTruncated());
        answer.put("output", text);
        context.out().println(Json.write(answer));
      } else {
        context.out().print(text);
        if (page.getTruncated()) {
          context
              .err()
              .println("(the agent kept only the last " + page.getSize() + " bytes of this run)");
        }
      }
      return ExitCodes.OK;
    }
  }
}
