#!/usr/bin/env bash
# The reliability suite as a soak: every JUnit test tagged "reliability" (each fault of the README's
# "Reliability" section injected and asserted: stalls, descriptor exhaustion, close with unsent bytes,
# large writes, shutdown with parked fibers and idle connections, queued readers, socket semantics against
# java.net.Socket, uncaught exceptions, partial starts) run round after round on one build.
#
#   bench/reliability.sh              5 rounds of the tagged suite
#   bench/reliability.sh --rounds N   N rounds
#   bench/reliability.sh --long       also the long tests (@Tag("long"), e.g. the HTTP fuzz test's long run)
#
# Prints a line per round and module and writes bench/results/reliability.tsv
# (round, module, tests, failures, errors, skipped, seconds; tab-separated). Exits non-zero if any round failed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
rounds=5
groups=reliability
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) [ $# -ge 2 ] || { echo "reliability.sh: --rounds needs a number" >&2; exit 2; }; rounds=$2; shift 2 ;;
    --long) groups=reliability,long; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "reliability.sh: unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done
case "$rounds" in ''|*[!0-9]*|0) echo "reliability.sh: --rounds takes a positive number, not '$rounds'" >&2; exit 2 ;; esac

out="$ROOT/bench/results/reliability.tsv"      # tab-separated: charts.sh renders only the *.csv result files
mkdir -p "$ROOT/bench/target"
mkdir -p "$(dirname "$out")"
printf "round\tmodule\ttests\tfailures\terrors\tskipped\tseconds\n" > "$out"
failed=0
for r in $(seq 1 "$rounds"); do
  start=$(date +%s)
  status=0
  rm -rf "$ROOT"/*/target/surefire-reports     # count this round's reports only
  "$ROOT/bobbin" mvn -B -q --no-transfer-progress -Dstyle.color=never -f "$ROOT/pom.xml" verify \
      -Dgroups="$groups" -Dhttp.test.excludedGroups=none -Djcstress.skip=true \
      -Dsurefire.failIfNoSpecifiedTests=false > "$ROOT/bench/target/reliability-round.log" 2>&1 || status=$?
  secs=$(( $(date +%s) - start ))
  for dir in "$ROOT"/*/target/surefire-reports; do
    module=$(basename "$(dirname "$(dirname "$dir")")")
    ls "$dir"/TEST-*.xml >/dev/null 2>&1 || continue
    # one <testsuite ...> element per test class: sum its counters
    read -r t f e s < <(grep -ho '<testsuite [^>]*>' "$dir"/TEST-*.xml | awk '
      { for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"/, "", kv[2]);
          if (kv[1] == "tests") T += kv[2]; if (kv[1] == "failures") F += kv[2];
          if (kv[1] == "errors") E += kv[2]; if (kv[1] == "skipped") S += kv[2]; } }
      END { print T + 0, F + 0, E + 0, S + 0 }')
    [ "$t" -gt 0 ] || continue
    printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$r" "$module" "$t" "$f" "$e" "$s" "$secs" >> "$out"
    printf 'round %d  %-18s tests %4d  failures %d  errors %d  skipped %d\n' "$r" "$module" "$t" "$f" "$e" "$s"
  done
  if [ "$status" -ne 0 ]; then
    failed=$((failed + 1))
    echo "round $r FAILED after ${secs} s (build log: bench/target/reliability-round-$r-failed.log)"
    cp "$ROOT/bench/target/reliability-round.log" "$ROOT/bench/target/reliability-round-$r-failed.log"
  else
    echo "round $r passed in ${secs} s"
  fi
done
rm -f "$ROOT/bench/target/reliability-round.log"
echo "reliability: $((rounds - failed)) of $rounds rounds passed; per module: $out"
[ "$failed" -eq 0 ]
