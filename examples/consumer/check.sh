#!/usr/bin/env bash
# Proves the README's "Use it in your project": installs Bobbin into a private local Maven repository,
# builds this separate application against the installed coordinates (BOM included), and runs it with
# the two JVM flags. Prints what each part ran on; fails unless all ran on Bobbin. Takes a few minutes.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
REPO=$(mktemp -d)/repository
trap 'rm -rf "$(dirname "$REPO")"' EXIT
if [ -d "$HOME/.m2/repository" ]; then cp -r "$HOME/.m2/repository" "$REPO"; fi   # saves downloads; Bobbin's own go in fresh
rm -rf "$REPO/dev/bobbin"
"$ROOT/bobbin" mvn -B -q --no-transfer-progress -Dstyle.color=never -f "$ROOT/pom.xml" -Dmaven.repo.local="$REPO" -DskipTests install
"$ROOT/bobbin" mvn -B -q --no-transfer-progress -Dstyle.color=never -f "$HERE/pom.xml" -Dmaven.repo.local="$REPO" \
    package dependency:build-classpath -Dmdep.outputFile="$HERE/target/classpath.txt"
out=$("$ROOT/bobbin" java -cp "$HERE/target/classes:$(cat "$HERE/target/classpath.txt")" app.Main)
echo "$out"
for expected in "fiber: VirtualThread" "executor: true" "jetty: on bobbin=true" "tomcat: on bobbin=true"; do
  grep -q "^$expected" <<<"$out" || { echo "consumer check: missing '$expected'" >&2; exit 1; }
done
echo "consumer check: passed"
