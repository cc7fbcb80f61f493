package io.paxcron.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class JobProtosTest {

  @Test
  void validatorPathsBecomeProtoFieldNamesKeepingMapKeys() {
    assertEquals("retries.max_attempts", JobProtos.protoPath("retries.maxAttempts"));
    assertEquals("agent_selector[rackId]", JobProtos.protoPath("agentSelector[rackId]"));
    assertEquals("env[HOME_Dir]", JobProtos.protoPath("env[HOME_Dir]"));
    assertEquals("command.argv[0]", JobProtos.protoPath("command.argv[0]"));
    assertEquals("history_retention", JobProtos.protoPath("historyRetention"));
    assertEquals("run_as", JobProtos.protoPath("runAs"));
  }

  @Test
  void stdinRunAsSourceAndAnnotationsMapBothWays() {
    io.paxcron.scheduler.JobSpec spec =
        io.paxcron.scheduler.JobSpec.builder(
                "a", "0 3 * * *", new io.paxcron.scheduler.JobCommand.Shell("cat"))
            .stdin("hello\n")
            .runAs("backup")
            .source("crontab:host1")
            .annotations(java.util.Map.of("mailto", "ops"))
            .build();
    JobProtos.Converted converted = JobProtos.toSpec(JobProtos.toProto(spec), "job");
    assertEquals(new JobProtos.Converted.Valid(spec), converted);
  }
}
