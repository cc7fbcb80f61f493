package io.paxcron.sim.linearizability;

import java.util.Objects;

/** The verdict of {@link LinearizabilityChecker#check}. */
public sealed interface CheckResult
    permits CheckResult.Linearizable, CheckResult.NotLinearizable, CheckResult.Unknown {

  /**
   * Every partition has a linearization.
   *
   * @param partitions how many independent partitions the model split the history into
   * @param searchSteps how many search steps all partitions took together
   */
  record Linearizable(int partitions, long searchSteps) implements CheckResult {
    public Linearizable {
      if (partitions < 0 || searchSteps < 0) {
        throw new IllegalArgumentException(
            "partitions and searchSteps must be >= 0, got " + partitions + " and " + searchSteps);
      }
    }
  }

  /**
   * Some partition has no linearization: the history could not have come from the model.
   *
   * @param explanation names the partition, the longest linearizable prefix found and the
   *     operations that could not be placed after it
   */
  record NotLinearizable(String explanation) implements CheckResult {
    public NotLinearizable {
      Objects.requireNonNull(explanation, "explanation");
    }
  }

  /**
   * The search budget ran out before a verdict; no partition was found to be non-linearizable.
   *
   * @param reason which partitions were left undecided and the budget that was exhausted
   */
  record Unknown(String reason) implements CheckResult {
    public Unknown {
      Objects.requireNonNull(reason, "reason");
    }
  }
}
