#!/usr/bin/env bash
# Where an HTTP server's CPU goes (bench/README.md, "HTTP servers", issue #12's row): runs one server of
# the HTTP benchmark under wrk with perf sampling it, then prints the server's CPU per request and how its
# samples split between the scheduler (Bobbin's carriers, or the JDK's ForkJoinPool and virtual-thread
# code, with the continuation and futex code both use) and everything else (the server's own code, the
# kernel's socket work).
#
#   flock /tmp/bobbin-bench.lock bench/http-profile.sh jdk-fiber 64       # server kind, connections
#   bench/http-profile.sh jdk-vthread 64 10                                 # ... and seconds measured
#
# Kinds: those of bench/http-bench.sh that the JDK's provider serves (jdk, jdk-vthread, jdk-fiber).
# Needs a JDK 25 (found by ./bobbin), Maven, Linux, wrk and perf; installs wrk with apt-get if missing.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case "${1:-}" in -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
kind=${1:-jdk-fiber}
conns=${2:-64}
secs=${3:-6}
case "$kind" in jdk|jdk-vthread|jdk-fiber) ;; *) echo "http-profile: kind must be jdk, jdk-vthread or jdk-fiber, not '$kind'" >&2; exit 2 ;; esac
case "$conns$secs" in *[!0-9]*) echo "http-profile: connections and seconds are numbers" >&2; exit 2 ;; esac
[ "$conns" -ge 1 ] && [ "$secs" -ge 1 ] || { echo "http-profile: connections and seconds must be at least 1" >&2; exit 2; }
command -v perf >/dev/null || { echo "http-profile: perf not found (apt-get install -y linux-perf)" >&2; exit 1; }
command -v wrk >/dev/null || apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }

"$ROOT/bobbin" mvn -B -q --no-transfer-progress -f "$ROOT/pom.xml" -DskipTests -Djcstress.skip=true -pl bench -am package >&2
JAR="$ROOT/bench/target/benchmarks.jar"
work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# The benchmark's server JVM flags, plus what perf needs to name JIT-compiled frames (a map at exit).
"$ROOT/bobbin" java --add-opens java.base/java.lang=ALL-UNNAMED --enable-native-access=ALL-UNNAMED \
    -Xms512m -Xmx512m -XX:+UseG1GC -Dsun.net.httpserver.maxIdleConnections=10000 \
    -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -XX:+PreserveFramePointer \
    -cp "$JAR" dev.bobbin.bench.http.HttpServerMain "$kind" --port 0 --max-seconds $((secs + 60)) > "$work/server.out" 2>&1 &
server=$!
for _ in $(seq 1 100); do grep -q '^READY' "$work/server.out" && break; sleep 0.1; done
grep -q '^READY' "$work/server.out" || { echo "http-profile: the server did not start:" >&2; cat "$work/server.out" >&2; exit 1; }
port=$(grep -o 'port=[0-9]*' "$work/server.out" | head -1 | cut -d= -f2)
pid=$(grep -o 'pid=[0-9]*' "$work/server.out" | head -1 | cut -d= -f2)
url="http://127.0.0.1:$port/hello"

wrk -t1 -c "$conns" -d 5s "$url" > /dev/null                    # warm-up (JIT)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }              # utime + stime, clock ticks
t0=$(cpu)
wrk -t1 -c "$conns" -d "$((secs + 2))s" --latency "$url" > "$work/wrk.out" &
load=$!
sleep 1
perf record -F 999 -g -p "$pid" -o "$work/perf.data" -- sleep "$secs" > /dev/null 2>&1
wait "$load"
t1=$(cpu)
kill "$server"; wait "$server" 2>/dev/null || true; server=""    # writes the perf map
requests=$(grep -o '[0-9]* requests in' "$work/wrk.out" | cut -d' ' -f1)
hz=$(getconf CLK_TCK)

perf report -i "$work/perf.data" --no-children --sort sym -g none --stdio 2>/dev/null | grep '%' | grep -v '^#' > "$work/syms"
# Scheduler code: Bobbin's, the JDK's ForkJoinPool and VirtualThread, continuations, parking and futexes.
sched='dev\.bobbin\.|ForkJoin|VirtualThread|Continuation|LockSupport|Unsafe\.(park|unpark)|futex'
share=$(grep -E "$sched" "$work/syms" | awk '{gsub("%", "", $1); s += $1} END {printf "%.1f", s}')
echo "server $kind, $conns connections, ${secs}s sampled: $requests requests in $((secs + 2))s," \
     "$(echo "($t1 - $t0) * 1000000 / $hz / $requests" | bc -l | xargs printf '%.2f') us CPU per request" \
     "(perf running); scheduler code: $share % of the server's samples"
echo "top scheduler symbols:"
grep -E "$sched" "$work/syms" | head -8
