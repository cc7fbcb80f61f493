package io.paxcron.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.paxcron.paxos.Ballot;
import io.paxcron.scheduler.AgentFence.LaunchReply;
import io.paxcron.scheduler.AgentFence.LookupReply;
import org.junit.jupiter.api.Test;

final class AgentFenceTest {
    private static final RunId RUN = RunId.of("backup", Fixture.T0);
    private static final Ballot OLD = new Ballot(1, 1);
    private static final Ballot NEW = new Ballot(2, 3);

    private final AgentFence fence = new AgentFence(3);

    @Test
    void agentRefusesLaunchWithLowerBallotThanSeen() {
        assertEquals(new LaunchReply.Accepted(), fence.onLaunch(RUN, 1, NEW));
        assertEquals(new LaunchReply.Refused(AgentFence.Reason.FENCED, NEW),
                fence.onLaunch(RunId.of("backup", Fixture.at(60)), 1, OLD));
        assertEquals(1, fence.size(), "the refused launch is not remembered");
    }

    @Test
    void agentAcceptsANewLaunchOnceAndAnswersARepeatWithItsCurrentState() {
        assertEquals(new LaunchReply.Accepted(), fence.onLaunch(RUN, 1, OLD));
        assertEquals(new LaunchReply.Repeat(AgentRunState.ACCEPTED, null), fence.onLaunch(RUN, 1, OLD));
        fence.onStarted(RUN, 1);
        assertEquals(new LaunchReply.Repeat(AgentRunState.RUNNING, null), fence.onLaunch(RUN, 1, NEW));
        fence.onFinished(RUN, 1, Outcome.failed(4));
        assertEquals(new LaunchReply.Repeat(AgentRunState.FINISHED, Outcome.failed(4)), fence.onLaunch(RUN, 1, NEW));
        assertEquals(new LaunchReply.Accepted(), fence.onLaunch(RUN, 2, NEW), "a new attempt is a new launch");
    }

    @Test
    void getRunWithAHigherBallotRaisesTheFence() {
        assertEquals(new LookupReply.Unknown(), fence.onGetRun(RUN, 1, NEW));
        assertEquals(NEW, fence.highestBallot());
        assertInstanceOf(LaunchReply.Refused.class, fence.onLaunch(RUN, 1, OLD),
                "after a new leader asked, the old leader's delayed launch is refused");
        assertEquals(new LookupReply.Fenced(NEW), fence.onGetRun(RUN, 1, OLD));
        assertEquals(new LaunchReply.Accepted(), fence.onLaunch(RUN, 1, NEW));
        assertEquals(new LookupReply.Known(AgentRunState.ACCEPTED, null), fence.onGetRun(RUN, 1, NEW));
    }

    @Test
    void fullTableForgetsOnlyAcknowledgedFinishedLaunches() {
        for (int i = 0; i < 3; i++) {
            fence.onLaunch(RunId.of("job", Fixture.at(i)), 1, OLD);
        }
        assertEquals(new LaunchReply.Refused(AgentFence.Reason.CAPACITY, OLD),
                fence.onLaunch(RunId.of("job", Fixture.at(9)), 1, OLD));
        fence.onFinished(RunId.of("job", Fixture.at(1)), 1, Outcome.SUCCEEDED);
        assertInstanceOf(LaunchReply.Refused.class, fence.onLaunch(RunId.of("job", Fixture.at(9)), 1, OLD),
                "a finish the leader has not acknowledged is still needed for reconciliation");
        fence.onFinishAcknowledged(RunId.of("job", Fixture.at(1)), 1);
        assertEquals(new LaunchReply.Accepted(), fence.onLaunch(RunId.of("job", Fixture.at(9)), 1, OLD));
        assertEquals(new LookupReply.Unknown(), fence.onGetRun(RunId.of("job", Fixture.at(1)), 1, OLD));
    }

    @Test
    void fenceAndTableSurviveARestart() {
        fence.onLaunch(RUN, 1, NEW);
        fence.onStarted(RUN, 1);
        AgentFence restarted = new AgentFence(3);
        restarted.restore(fence.snapshot());
        assertArrayEquals(fence.snapshot(), restarted.snapshot());
        assertEquals(NEW, restarted.highestBallot());
        assertEquals(new LaunchReply.Repeat(AgentRunState.RUNNING, null), restarted.onLaunch(RUN, 1, NEW));
    }
}
