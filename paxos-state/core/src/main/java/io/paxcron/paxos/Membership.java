package io.paxcron.paxos;

import java.util.ArrayList;
import java.util.List;

/**
 * Which {@link Configuration} governs which slots: the rule by which a configuration change takes
 * effect, after Lamport's α-window for state-machine reconfiguration ("Paxos Made Simple" §3, last
 * paragraphs; "Reconfiguring a State Machine", Lamport, Malkhi and Zhou, 2010, §4).
 *
 * <p>A {@link Value.Reconfigure} chosen in slot {@code s} governs every slot from {@code s +
 * }{@link #DELAY_SLOTS} on. A leader proposes slot {@code i} only after every slot up to {@code i -
 * DELAY_SLOTS} is chosen, so the configuration of every slot it proposes is already decided and
 * every replica that knows the chosen prefix agrees on it. A value is chosen in a slot by a
 * majority of that slot's voters.
 *
 * <p>Each epoch is the configuration from {@code fromSlot} on. The list is ascending, the first
 * epoch governs every slot from the earliest one this membership describes, and it is immutable.
 *
 * @param epochs at least one; ascending {@code fromSlot}
 */
public record Membership(List<Epoch> epochs) {

  /**
   * α: how many slots after its own a chosen configuration takes effect, and so the most slots a
   * leader may have open beyond the first unchosen one. A protocol constant: every replica of a
   * cluster must use the same value, so it is not a setting.
   */
  public static final int DELAY_SLOTS = 32;

  /**
   * The configuration from {@code fromSlot} on, chosen in slot {@code decidedInSlot} (0 for the
   * bootstrap configuration).
   */
  public record Epoch(long decidedInSlot, long fromSlot, Configuration configuration) {
    public Epoch {
      if (fromSlot < 1 || decidedInSlot < 0 || decidedInSlot >= fromSlot) {
        throw new IllegalArgumentException(
            "an epoch decided in slot "
                + decidedInSlot
                + " cannot govern from slot "
                + fromSlot
                + "; it needs 0 <= decidedInSlot < fromSlot");
      }
      if (configuration == null) {
        throw new IllegalArgumentException("an epoch needs a configuration");
      }
    }
  }

  public Membership {
    epochs = List.copyOf(epochs);
    if (epochs.isEmpty()) {
      throw new IllegalArgumentException("a membership needs at least one epoch");
    }
    for (int i = 1; i < epochs.size(); i++) {
      if (epochs.get(i).fromSlot() <= epochs.get(i - 1).fromSlot()) {
        throw new IllegalArgumentException("membership epochs must ascend: " + epochs);
      }
    }
  }

  /** A cluster's start: {@code configuration} governs every slot. */
  public static Membership bootstrap(Configuration configuration) {
    return new Membership(List.of(new Epoch(0, 1, configuration)));
  }

  /** The configuration that governs {@code slot}. */
  public Configuration at(long slot) {
    Configuration governing = epochs.get(0).configuration();
    for (Epoch epoch : epochs) {
      if (epoch.fromSlot() > slot) {
        break;
      }
      governing = epoch.configuration();
    }
    return governing;
  }

  /** The newest configuration, which may not govern any decided slot yet. */
  public Configuration latest() {
    return epochs.get(epochs.size() - 1).configuration();
  }

  /** The slot from which {@link #latest} governs. */
  public long latestFromSlot() {
    return epochs.get(epochs.size() - 1).fromSlot();
  }

  /**
   * This membership after {@code next} was chosen in {@code slot}, governing from {@code fromSlot}.
   */
  public Membership with(long slot, long fromSlot, Configuration next) {
    List<Epoch> longer = new ArrayList<>(epochs);
    longer.add(new Epoch(slot, fromSlot, next));
    return new Membership(longer);
  }

  /** The epochs that govern {@code slot} and later ones (earlier history dropped). */
  public Membership from(long slot) {
    List<Epoch> kept = new ArrayList<>();
    for (Epoch epoch : epochs) {
      if (epoch.fromSlot() <= slot) {
        kept.clear();
      }
      kept.add(epoch);
    }
    return new Membership(kept);
  }

  /** The membership as it stood once every slot up to {@code slot} was decided. */
  public Membership decidedThrough(long slot) {
    List<Epoch> kept = new ArrayList<>();
    for (Epoch epoch : epochs) {
      if (kept.isEmpty() || epoch.decidedInSlot() <= slot) {
        kept.add(epoch);
      }
    }
    return new Membership(kept).from(slot + 1);
  }

  /** Every configuration that governs a slot at or after {@code slot}. */
  public List<Configuration> governingFrom(long slot) {
    List<Configuration> governing = new ArrayList<>();
    for (Epoch epoch : from(slot).epochs()) {
      governing.add(epoch.configuration());
    }
    return governing;
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder("Membership[");
    for (Epoch epoch : epochs) {
      out.append(" from ").append(epoch.fromSlot()).append(": ").append(epoch.configuration());
    }
    return out.append(" ]").toString();
  }
}
