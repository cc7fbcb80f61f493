package io.paxcron.simkit;

import java.util.random.RandomGenerator;

/**
 * Message delivery between simulated processes while faults are on: each message may be lost,
 * delayed (hence reordered) and duplicated, at the rates of the seed's plan. After {@link #heal()}
 * every message arrives once, within the base delay. Which links are cut is {@link Partitions}'
 * business; a delivery checks its link when it arrives.
 */
public final class Network {

  /** The seed's message faults. */
  public record Faults(double messageLoss, double messageDuplication, long maxExtraDelayMillis) {
    public Faults {
      if (messageLoss < 0 || messageLoss > 1) {
        throw new IllegalArgumentException("messageLoss must be in [0, 1], got " + messageLoss);
      }
      if (messageDuplication < 0 || messageDuplication > 1) {
        throw new IllegalArgumentException(
            "messageDuplication must be in [0, 1], got " + messageDuplication);
      }
      if (maxExtraDelayMillis < 0) {
        throw new IllegalArgumentException(
            "maxExtraDelayMillis must be >= 0, got " + maxExtraDelayMillis);
      }
    }
  }

  private final EventLoop loop;
  private final RandomGenerator random;
  private final Faults faults;
  private boolean healed;

  public Network(EventLoop loop, RandomGenerator random, Faults faults) {
    this.loop = loop;
    this.random = random;
    this.faults = faults;
  }

  /** Every message fault stops for the rest of the run. */
  public void heal() {
    healed = true;
  }

  public boolean healed() {
    return healed;
  }

  /** Whether the next message is lost (never once healed). */
  public boolean lost() {
    return !healed && random.nextDouble() < faults.messageLoss();
  }

  /** One message's delay: at least 1 ms, up to the plan's extra delay more. */
  public long delay() {
    return 1 + random.nextLong(faults.maxExtraDelayMillis() + 1);
  }

  /** Sends with loss, delay and duplication. */
  public void send(Runnable delivery) {
    if (lost()) {
      return;
    }
    loop.schedule(delay(), delivery);
    if (!healed && random.nextDouble() < faults.messageDuplication()) {
      loop.schedule(delay(), delivery);
    }
  }

  /** Sends with loss and delay but never twice (a request/response channel that deduplicates). */
  public void sendOnce(Runnable delivery) {
    if (lost()) {
      return;
    }
    loop.schedule(delay(), delivery);
  }
}
