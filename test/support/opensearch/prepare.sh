#!/usr/bin/env bash
# Resolves the OpenSearch jars from Maven Central and compiles the launcher; then records a class-data-sharing
# (AppCDS) archive of one start, which halves later start times. Writes into target/ only; needs the network
# only the first time (later runs work offline from ~/.m2). All output goes to stderr.
# Env: OPENSEARCH_CDS=0 skips the CDS archive.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
T="$DIR/target"
mkdir -p "$T"

# One build at a time (run.sh holds this lock already when it calls us).
if [[ -z "${OPENSEARCH_BUILD_LOCKED:-}" ]] && command -v flock >/dev/null 2>&1; then
  exec 9>"$T/.build.lock"
  flock 9
fi

MVN=(mvn -B -q -f "$DIR/pom.xml" -Dmdep.outputFile="$T/classpath.txt" dependency:build-classpath compile)

# Maven 3.8 prints bare ANSI resets even with -q; strip them. Everything goes to stderr.
mvn_quiet() { "${MVN[@]}" "$@" 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d' >&2; }

build() {
  # Offline first: fast and no network when ~/.m2 already has everything.
  if mvn_quiet -o >/dev/null 2>&1; then
    return 0
  fi
  echo "[opensearch/prepare] resolving from Maven Central" >&2
  mvn_quiet
}

# The security plugin (for a second, secured node: OPENSEARCH_SECURITY_DIR, see secure-config.sh). Maven Central
# ships it as the plugin's zip (its jars and default configuration), not as a jar with dependencies: unpacked into
# target/security/, and its jars that the node does not already have are listed in target/classpath-security.txt.
SECURITY_ARTIFACT="org.opensearch.plugin:opensearch-security:2.19.4.0:zip"
security_plugin() {
  local unpack=(mvn -B -q -f "$DIR/pom.xml" dependency:unpack -Dartifact="$SECURITY_ARTIFACT" -DoutputDirectory="$T/security")
  # the plugin's markers would make a second unpack skip an emptied folder
  rm -rf "$T/security" "$T/dependency-maven-plugin-markers"
  if ! "${unpack[@]}" -o >/dev/null 2>&1; then
    echo "[opensearch/prepare] resolving $SECURITY_ARTIFACT from Maven Central" >&2
    "${unpack[@]}" 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d' >&2
  fi
  local have jar base
  have="$(tr ':' '\n' < "$T/classpath.txt" | xargs -n1 basename | sed -E 's/-[0-9][^-]*(\.Final)?\.jar$//')"
  for jar in "$T"/security/*.jar; do
    base="$(basename "$jar" | sed -E 's/-[0-9][^-]*(\.Final)?\.jar$//')"
    grep -qxF "$base" <<<"$have" || printf '%s\n' "$jar"
  done | paste -sd: > "$T/classpath-security.txt"
}

rm -f "$T/.build-stamp" "$T/opensearch.jsa" "$T/launcher.jar"
build
security_plugin
test -f "$T/security/plugin-descriptor.properties"
grep -q 'opensearch-security' "$T/classpath-security.txt"
test -s "$T/classpath.txt"
test -f "$T/classes/dev/commsapi/opensearch/Launcher.class"
# CDS only archives classes from jars, not from directories: put the launcher in a jar.
if command -v jar >/dev/null 2>&1; then
  jar cf "$T/launcher.jar" -C "$T/classes" .
fi
touch "$T/.build-stamp"
echo "[opensearch/prepare] built: $(tr ':' '\n' < "$T/classpath.txt" | wc -l) jars" >&2

# --- AppCDS: start the node once with -XX:ArchiveClassesAtExit, stop it, keep the archive -------------------
train_cds() {
  local tmp="$T/opensearch.jsa.tmp" out="$T/cds-training.out" log="$T/cds-training.log" pid="" i
  rm -f "$tmp" "$out"
  trap '[[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null; true' EXIT
  OPENSEARCH_CDS_DUMP="$tmp" OPENSEARCH_PAINLESS=1 OPENSEARCH_EXIT_ON_STDIN_EOF= OPENSEARCH_DATA= \
    "$DIR/run.sh" 0 >"$out" 2>"$log" </dev/null &
  pid=$!
  for ((i = 0; i < 3000; i++)); do
    grep -q '^OPENSEARCH READY' "$out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q '^OPENSEARCH READY' "$out" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
    echo "[opensearch/prepare] CDS training run did not start (see $log); continuing without CDS" >&2
    rm -f "$tmp"
    return 0
  fi
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
  trap - EXIT
  if [[ -s "$tmp" ]]; then
    mv -f "$tmp" "$T/opensearch.jsa"
    echo "[opensearch/prepare] CDS archive: $(du -h "$T/opensearch.jsa" | cut -f1)" >&2
  else
    echo "[opensearch/prepare] no CDS archive written (see $log); continuing without CDS" >&2
    rm -f "$tmp"
  fi
}

if [[ "${OPENSEARCH_CDS:-1}" != 0 && -f "$T/launcher.jar" ]]; then
  train_cds
fi
