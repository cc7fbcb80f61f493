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
    }
}
