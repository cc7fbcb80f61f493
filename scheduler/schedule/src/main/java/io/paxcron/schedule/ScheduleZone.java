package io.paxcron.schedule;

import java.time.ZoneId;
import java.time.zone.ZoneRulesProvider;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Validates the IANA time-zone ids users give for their jobs. */
public final class ScheduleZone {
  /** Longest zone id accepted (the longest IANA id is about 32 characters). */
  static final int MAX_ZONE_ID_LENGTH = 64;

  /**
   * The IANA ids the JDK knows, read once: {@link ZoneRulesProvider#getAvailableZoneIds()} copies
   * its set of about 600 ids on every call, which dominated the cost of putting jobs.
   */
  private static final Set<String> KNOWN_IDS = Set.copyOf(ZoneRulesProvider.getAvailableZoneIds());

  /**
   * Zones already looked up, by id: at most the few hundred known ids, since only those are kept.
   * {@link ZoneId#of} checks the id's syntax and finds its rules on every call.
   */
  private static final ConcurrentHashMap<String, ZoneId> ZONES = new ConcurrentHashMap<>();

  private ScheduleZone() {}

  /**
   * Returns the zone for an IANA id such as {@code Europe/Berlin} or {@code UTC}. Offsets such as
   * {@code +02:00} are rejected: an offset has no daylight-saving rules, so a job written with one
   * would silently move by an hour twice a year relative to the local clock.
   *
   * @throws InvalidScheduleException with field {@code time-zone} if the id is not a known IANA id
   */
  public static ZoneId parse(String id) {
    Objects.requireNonNull(id, "id");
    ZoneId known = ZONES.get(id);
    if (known != null) {
      return known;
    }
    if (id.isEmpty()) {
      throw new InvalidScheduleException(
          "time-zone", 1, "empty time-zone id; expected an IANA name such as Europe/Berlin");
    }
    if (id.length() > MAX_ZONE_ID_LENGTH) {
      throw new InvalidScheduleException(
          "time-zone",
          MAX_ZONE_ID_LENGTH + 1,
          "longer than the maximum of " + MAX_ZONE_ID_LENGTH + " characters");
    }
    if (!KNOWN_IDS.contains(id)) {
      throw new InvalidScheduleException(
          "time-zone",
          1,
          "unknown time-zone '"
              + id
              + "'; expected an IANA name such as Europe/Berlin, America/New_York or UTC (case-sensitive)");
    }
    ZoneId zone = ZoneId.of(id);
    ZONES.put(id, zone);
    return zone;
  }
}
