#!/usr/bin/env bash
# Resolves the OpenSearch jars from Maven Central and compiles the launcher.
# Writes target/classpath.txt and target/classes; needs the network only the first time
# (later runs work offline from ~/.m2). All output goes to stderr.
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$DIR"

MVN=(mvn -B -q -f "$DIR/pom.xml" -Dmdep.outputFile="$DIR/target/classpath.txt"
     dependency:build-classpath compile)

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

mkdir -p "$DIR/target"
rm -f "$DIR/target/.build-stamp"
build
test -s "$DIR/target/classpath.txt"
test -f "$DIR/target/classes/dev/commsapi/opensearch/Launcher.class"
touch "$DIR/target/.build-stamp"
echo "[opensearch/prepare] ready: $(tr ':' '\n' < "$DIR/target/classpath.txt" | wc -l) jars" >&2
