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

# Builds the given modules (with what they need) unless a build of each succeeded after the last
# change to any pom.xml, source or resource of the repository: a checkout that changed since (a
# pull, an edit) is built again, an unchanged one starts at once. Each module keeps its own stamp
# under target/, so a build of several vouches for each of them.
#   paxcron_build_if_changed <what it is for> <module,...>
paxcron_build_if_changed() {
  local purpose="$1" modules="$2" root module stale="" first="" build_log
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  for module in ${modules//,/ }; do
    local stamp="$root/target/built-${module//\//_}"
    if [ ! -f "$stamp" ] || [ ! -d "$root/$module/target" ]; then
      stale=yes
      first=yes
    elif [ -n "$(cd "$root" && find . \( -name .git -o -name target -o -name node_modules \) -prune -o \
        \( -name pom.xml -o -path '*/src/*' -o -path './proto/*' \) -type f -newer "$stamp" -print -quit)" ]; then
      stale=yes
    fi
  done
  [ -n "$stale" ] || return 0
  paxcron_require_maven
  build_log="$(mktemp -t paxcron-build-XXXXXX.log)"
  if [ -n "$first" ]; then
    echo "building Paxcron for $purpose (first time: a few minutes; log in $build_log)..." >&2
  else
    echo "building Paxcron for $purpose (the checkout changed since the last build; log in $build_log)..." >&2
  fi
  # Stamped as of the build's start: a file changed while it ran is newer than the stamp.
  mkdir -p "$root/target"
  touch "$root/target/built.new"
  if ! (cd "$root" && mvn -B -ntp -q -Dstyle.color=never -DskipTests -pl "$modules" -am package >"$build_log" 2>&1); then
    echo "error: the build failed; the last lines of $build_log:" >&2
    tail -n 30 "$build_log" >&2
    rm -f "$root/target/built.new"
    return 1
  fi
  rm -f "$build_log"
  for module in ${modules//,/ }; do
    touch -r "$root/target/built.new" "$root/target/built-${module//\//_}"
  done
  rm -f "$root/target/built.new"
}
