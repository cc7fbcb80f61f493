# Sourced by the ops scripts: finds a JDK 21 or newer and exports JAVA_HOME and PATH.
# Order: $JAVA_HOME if it is 21+, then `java` on the PATH, then the newest JDK under /usr/lib/jvm.

paxcron_java_major() {
  # A JDK's release file names its version: reading it costs nothing, where starting a JVM per
  # candidate cost seconds of every replica's start-up on a loaded machine (docs/performance.md).
  local version=""
  if [ -r "$1/release" ]; then
    version="$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release" | head -n1)"
  fi
  if [ -n "$version" ]; then
    echo "$version"
    return
  fi
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n1
}

paxcron_find_jdk() {
  local candidate major best="" best_major=0
  for candidate in "${JAVA_HOME:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v javac 2>/dev/null || echo /nonexistent)")")" 2>/dev/null)" /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] && [ -x "$candidate/bin/java" ] || continue
    major="$(paxcron_java_major "$candidate")"
    [ -n "$major" ] || continue
    if [ "$major" -ge 21 ] && [ "$major" -gt "$best_major" ]; then
      best="$candidate"; best_major="$major"
    fi
  done
  if [ -z "$best" ]; then
    cat >&2 <<'MSG'
error: Paxcron needs a JDK 21 or newer, and none was found
       (looked at $JAVA_HOME, the javac on the PATH and /usr/lib/jvm/*).
       Install one, for example:  apt-get install openjdk-21-jdk-headless
       (or a Temurin 21/25 JDK), or point JAVA_HOME at it.
MSG
    return 1
  fi
  export JAVA_HOME="$best"
  export PATH="$JAVA_HOME/bin:$PATH"
  # Maven's own libraries (Guava, Jansi) call sun.misc.Unsafe and native access, which JDK 24+
  # warns about on every run; the warnings are about Maven, not Paxcron, so keep them off screen.
  if [ "$best_major" -ge 24 ]; then
    case " ${MAVEN_OPTS:-} " in
      *sun-misc-unsafe-memory-access*) ;;
      *) export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED" ;;
    esac
  fi
}

paxcron_require_maven() {
  if ! command -v mvn >/dev/null 2>&1; then
    echo "error: Apache Maven 3.8+ is needed: apt-get install maven" >&2
    return 1
  fi
}
