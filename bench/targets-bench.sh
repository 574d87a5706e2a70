#!/usr/bin/env bash
# Issue #12's targets side by side in one run (bench/README.md, "Issue #12 scorecard"): the JMH hand-off,
# spawn+join, invokeAll and executor-creation benchmarks (Bobbin and the JDK in each), the JDK HttpServer on
# a FiberExecutor beside the same server on JDK virtual threads (wrk), the echo harness's java.net.Socket
# and io_uring servers beside JDK virtual threads and Netty (the C epoll client), and the heap of
# 1,000,000 parked fibers beside as many JDK virtual threads. Then prints the scorecard (each target's
# cost ratio, the most it allows, met or missed) and renders bench/results/targets-cost-vs-control.png.
#   flock /tmp/bobbin-bench.lock bench/targets-bench.sh            # about 10 minutes
#   bench/targets-bench.sh --quick                                 # shorter runs, about 5 minutes, noisier
# Raw results go to bench/results/raw/targets-*; the scorecard to bench/results/targets.csv. Before and
# after each stage the script measures the cache-line round trip between the two first CPUs
# (bench/probe/core_pingpong.c): a virtual machine's host may move its vCPUs between a near and a far
# placement during the run, which changes every figure that involves threads sharing data
# (bench/README.md, "The machine's two modes"); the figures are printed with the scorecard.
# Needs what the harnesses it runs need: a JDK 25 (found by ./bobbin), Maven, Linux, gcc, wrk (installed
# from the system packages when missing, by bench/http-bench.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RAW="$ROOT/bench/results/raw"
mkdir -p "$RAW"

quick=false
[ $# -le 1 ] || { echo "targets-bench: one option at most (--quick, --help), got: $*" >&2; exit 2; }
case "${1:-}" in
  --quick) quick=true ;;
  "") ;;
  --help|-h) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "targets-bench: unknown option $1 (--quick, --help)" >&2; exit 2 ;;
esac
if $quick; then
  jmh=(-f 1 -wi 2 -i 3 -w 1s -r 1s); echo_t=(--warmup-ms 3000 --window-ms 4000); http_t=(--warmup-s 2 --duration-s 5); fibers=(1000000 1)
else
  jmh=(-f 2 -wi 3 -i 4 -w 1s -r 1s); echo_t=(--warmup-ms 4000 --window-ms 5000); http_t=(); fibers=(1000000 2)
fi

"$ROOT/bobbin" mvn -B -q -e --no-transfer-progress -Dstyle.color=never -f "$ROOT/pom.xml" \
    -DskipTests -pl bench -am package >&2
JAR="$ROOT/bench/target/benchmarks.jar"
[ -f "$JAR" ] || { echo "targets-bench: $JAR was not built" >&2; exit 1; }
started=$(date -u '+%Y-%m-%d %H:%M UTC')
commit=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)   # the code measured, as it starts
rm -f "$RAW"/targets-*                      # a failed run leaves no mix of this run's files and an older run's

probes="$RAW/targets-probe.txt"
: > "$probes"
probe() {   # probe LABEL: the cache-line round trip between the first two CPUs, logged
  "$ROOT/bench/probe/probe.sh" "$1" 2>&1 | tee -a "$probes" >&2
}

echo "targets-bench: [1/4] JMH: hand-offs, spawn+join, invokeAll10k, executor creation" >&2
# one JMH run per benchmark, so that the probe brackets each; their CSVs are concatenated (one header each)
: > "$RAW/targets-jmh.csv"
for b in 'HandoffBenchmark' 'SpawnJoinBenchmark.spawnJoin$' 'ExecutorBench.invokeAll10k' 'ExecutorCreationBench.(bobbinShared|jdkVirtual)$'; do
  probe "before JMH $b"
  rm -f "$RAW/targets-jmh-part.csv"
  "$ROOT/bobbin" bench "$b" -p kind=bobbin,jdk-virtual "${jmh[@]}" -rf csv -rff "$RAW/targets-jmh-part.csv" >&2
  cat "$RAW/targets-jmh-part.csv" >> "$RAW/targets-jmh.csv"
  probe "after JMH $b"
done
rm -f "$RAW/targets-jmh-part.csv"

echo "targets-bench: [2/4] echo: java.net.Socket and io_uring servers at 100 and 1,000 connections" >&2
probe "before echo"
"$ROOT/bench/echo-bench.sh" --kinds bobbin-jdksocket,jdk-vthread,bobbin-uring,netty-uring --connections 100,1000 \
    --rounds 1 "${echo_t[@]}" --csv "$RAW/targets-echo.csv" >&2

probe "after echo"
echo "targets-bench: [3/4] HTTP: the JDK's server on a FiberExecutor and on JDK virtual threads" >&2
probe "before HTTP"
"$ROOT/bench/http-bench.sh" --servers jdk-vthread,jdk-fiber --workloads hello@64,hello@1000,sleep@1000 \
    ${http_t[@]+"${http_t[@]}"} --csv "$RAW/targets-http.csv" >&2

probe "after HTTP"
echo "targets-bench: [4/4] heap per parked fiber" >&2
probe "before heap"
"$ROOT/bobbin" java -cp "$JAR" dev.bobbin.bench.ParkedFiberFootprint "${fibers[@]}" | tee "$RAW/targets-footprint.txt" >&2
probe "after heap"

echo "Issue #12 scorecard, run started $started, commit $commit"
echo
"$ROOT/bobbin" java -cp "$JAR" dev.bobbin.bench.charts.TargetScorecard \
    "$RAW/targets-jmh.csv" "$RAW/targets-echo.csv" "$RAW/targets-http.csv" "$RAW/targets-footprint.txt" \
    "$ROOT/bench/results/targets.csv"
echo
echo "The machine at the ends of each stage (bench/README.md, \"The machine's two modes\"; near: about 60 ns, far: about 340 ns here; a flip inside a stage does not show):"
cat "$probes"
"$ROOT/bench/charts.sh" "$ROOT/bench/results/targets.csv" >&2
