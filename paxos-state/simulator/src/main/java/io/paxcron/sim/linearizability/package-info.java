/**
 * A linearizability checker for histories recorded by the simulator and the fault suites.
 *
 * <p>The search is Wing and Gong's ("Testing and Verifying Concurrent Objects", 1993) with Lowe's
 * memoization of (linearized set, state) pairs ("Testing for linearizability", 2017) and
 * P-compositionality (Horn and Kroening, 2015), the combination Porcupine popularised. A {@link
 * io.paxcron.sim.linearizability.Model} gives the sequential specification; {@link
 * io.paxcron.sim.linearizability.LinearizabilityChecker} decides whether a history of {@link
 * io.paxcron.sim.linearizability.Operation}s could have come from it.
 */
package io.paxcron.sim.linearizability;
