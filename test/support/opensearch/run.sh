#!/usr/bin/env bash
# Starts a test-only single-node OpenSearch 2.19 on 127.0.0.1 (no Docker, no distribution).
#   run.sh [PORT]       PORT (or $OPENSEARCH_PORT) defaults to 9200; 0 picks a free port.
# Env: OPENSEARCH_DATA (keep data there; default: temp folder deleted on exit),
#      OPENSEARCH_CLUSTER_NAME, OPENSEARCH_JAVA_OPTS (default "-Xms512m -Xmx1g"),
#      OPENSEARCH_EXIT_ON_STDIN_EOF=1 (stop when stdin closes), OPENSEARCH_LOG_LEVEL (default warn),
#      OPENSEARCH_PAINLESS=0 (no painless), OPENSEARCH_DEFAULT_REPLICAS (default 0),
#      OPENSEARCH_CDS=0 (do not use the class-data-sharing archive that prepare.sh records).
# stdout gets exactly one line, "OPENSEARCH READY http://127.0.0.1:PORT"; logs go to stderr.
# SIGTERM stops the node cleanly (java is exec'd, so the signal reaches it directly).
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CP_FILE="$DIR/target/classpath.txt"
STAMP="$DIR/target/.build-stamp"
JSA="$DIR/target/opensearch.jsa"

needs_build() {
  [[ -f "$STAMP" && -s "$CP_FILE" && -s "$DIR/target/classpath-security.txt" && -f "$DIR/target/classes/dev/commsapi/opensearch/Launcher.class" ]] || return 0
  # sources or pom changed since the last build?
  [[ -z "$(find "$DIR/pom.xml" "$DIR/src" -newer "$STAMP" -print -quit)" ]] || return 0
  # every jar still in the local Maven repository?
  local jar
  IFS=':' read -r -a jars < "$CP_FILE"
  for jar in "${jars[@]}"; do [[ -f "$jar" ]] || return 0; done
  return 1
}

if needs_build; then
  mkdir -p "$DIR/target"
  # serialize concurrent first starts (several test files at once)
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$DIR/target/.build.lock"
    flock 9
    if needs_build; then OPENSEARCH_BUILD_LOCKED=1 "$DIR/prepare.sh"; fi
    flock -u 9
    exec 9>&-
  else
    "$DIR/prepare.sh"
  fi
fi

JAVA="java"
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; fi

# shellcheck disable=SC2206
JAVA_OPTS=(${OPENSEARCH_JAVA_OPTS:--Xms512m -Xmx1g})

# Launcher from its jar when there is one (CDS archives only classes from jars).
LAUNCHER_CP="$DIR/target/classes"
[[ -f "$DIR/target/launcher.jar" && "$DIR/target/launcher.jar" -nt "$DIR/target/classes/dev/commsapi/opensearch/Launcher.class" ]] \
  && LAUNCHER_CP="$DIR/target/launcher.jar"

CDS_OPTS=()
if [[ -n "${OPENSEARCH_CDS_DUMP:-}" ]]; then
  CDS_OPTS=(-XX:ArchiveClassesAtExit="$OPENSEARCH_CDS_DUMP")      # prepare.sh's training run
elif [[ "${OPENSEARCH_CDS:-1}" != 0 && "$LAUNCHER_CP" == *.jar && -f "$JSA" && "$JSA" -nt "$STAMP" ]]; then
  CDS_OPTS=(-XX:SharedArchiveFile="$JSA")                         # falls back to no CDS if it does not fit
fi

# A secured node (OPENSEARCH_SECURITY_DIR, written by secure-config.sh): the security plugin's own jars, without
# those the node already has (prepare.sh lists them in target/classpath-security.txt). No CDS: other classes.
SECURITY_CP=""
if [[ -n "${OPENSEARCH_SECURITY_DIR:-}" ]]; then
  [[ -s "$DIR/target/classpath-security.txt" ]] || { echo "no security plugin: run prepare.sh" >&2; exit 1; }
  SECURITY_CP=":$(cat "$DIR/target/classpath-security.txt")"
  CDS_OPTS=()
fi

# -Xlog: the JVM's own messages (CDS, GC warnings) go to stderr, never to stdout.
exec "$JAVA" "${JAVA_OPTS[@]}" "${CDS_OPTS[@]}" \
  -Xlog:disable -Xlog:all=warning:stderr:uptime,level,tags \
  -Xss1m \
  -XX:+ExitOnOutOfMemoryError \
  -XX:-OmitStackTraceInFastThrow \
  -Djava.awt.headless=true \
  -Dfile.encoding=UTF-8 \
  -Djna.nosys=true \
  -Dio.netty.noUnsafe=true \
  -Dio.netty.noKeySetOptimization=true \
  -Dio.netty.recycler.maxCapacityPerThread=0 \
  -Dopensearch.set.netty.runtime.available.processors=false \
  -Dlog4j.shutdownHookEnabled=false \
  -Dlog4j2.disable.jmx=true \
  -Dlog4j2.configurationFile="$DIR/log4j2.xml" \
  -Dopensearch.test.log.level="${OPENSEARCH_LOG_LEVEL:-warn}" \
  -cp "$LAUNCHER_CP:$(cat "$CP_FILE")$SECURITY_CP" \
  dev.commsapi.opensearch.Launcher "$@"
