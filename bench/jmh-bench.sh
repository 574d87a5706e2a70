#!/usr/bin/env bash
# JMH benchmarks with their chart: runs ./bobbin bench with the given JMH arguments, keeps JMH's results in
# bench/results/raw/jmh.csv, writes the Bobbin / JDK ratio of every benchmark that ran both to
# bench/results/jmh.csv and renders it to bench/results/jmh-ratio-vs-jdk.png (bench/charts.sh).
#   flock /tmp/bobbin-bench.lock bench/jmh-bench.sh [jmh args...]
#       e.g. bench/jmh-bench.sh 'PingPongBenchmark|SkynetBenchmark|ExecutorBench' -f 1 -wi 3 -i 5 -w 1s -r 1s
# JMH's -rf/-rff options are set here; pass the others as to ./bobbin bench.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
raw="$ROOT/bench/results/raw/jmh.csv"   # JMH's own format: a subfolder, since charts.sh renders bench/results/*.csv
out="$ROOT/bench/results/jmh.csv"
# JMH's help and listings run no benchmark: no results to keep, and the committed ones stay as they are
case " $* " in *" --help "*|*" -h "*|*" -l "*|*" -lp "*|*" -lprof "*|*" -lrf "*) exec "$ROOT/bobbin" bench "$@" ;; esac
mkdir -p "$(dirname "$raw")"
"$ROOT/bench/probe/probe.sh" "before the run" "$@"   # the vCPUs' placement (bench/README.md, "The machine's two modes")
fresh="$raw.new"; rm -f "$fresh"
"$ROOT/bobbin" bench "$@" -rf csv -rff "$fresh"
[ -s "$fresh" ] || { echo "jmh-bench: JMH wrote no results; bench/results is left as it was" >&2; exit 1; }
mv "$fresh" "$raw"
"$ROOT/bench/probe/probe.sh" "after the run" "$@"
"$ROOT/bobbin" java -cp "$ROOT/bench/target/benchmarks.jar" dev.bobbin.bench.charts.JmhRatios \
    "$raw" "$out" "$(date -u +%Y-%m-%d)"
"$ROOT/bench/charts.sh" "$out"
