#!/usr/bin/env bash
# The HTTP benchmark (bench/README.md, "HTTP servers"): builds the bench module (and the http-server
# module when this checkout has it), then runs every server in its own JVM under load from wrk on
# 127.0.0.1 and prints a markdown table; the figures also go to bench/results/http.csv, rendered to
# bench/results/http-*.png (bench/charts.sh).
#   flock /tmp/bobbin-bench.lock bench/http-bench.sh [HttpBench options]
#       e.g. --servers helidon,netty-uring --workloads hello@64 --duration-s 5 --warmup-s 2
#   bench/http-bench.sh --help        lists the options and servers
# Needs a JDK 25 (found by ./bobbin), Maven, Linux and wrk (installed with apt-get if missing).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

args=()
for a in "$@"; do [ "$a" = -h ] && args+=(--help) || args+=("$a"); done   # -h as --help, which HttpBench knows
set -- ${args[@]+"${args[@]}"}             # (an empty array is unbound before bash 4.4)
help=false
case " $* " in *" --help "*) help=true ;; esac
if $help; then
  WRK=wrk                                        # the help needs no load generator: nothing to install
else
  if ! command -v wrk >/dev/null; then
    echo "http-bench: wrk not found; installing it from the system packages: apt-get install -y wrk" >&2
    if ! apt-get install -y wrk >&2; then
      apt-get update >&2 && apt-get install -y wrk >&2
    fi
  fi
  WRK=$(command -v wrk) || { echo "http-bench: wrk is still missing; install it (apt-get install -y wrk)" >&2; exit 1; }
  echo "http-bench: load generator: $WRK ($(wrk -v 2>&1 | head -1 | sed 's/ Copyright.*//'))" >&2
fi

MVN=("$ROOT/bobbin" mvn -B -q -e --no-transfer-progress -Dstyle.color=never -f "$ROOT/pom.xml")
"${MVN[@]}" -DskipTests -pl bench -am package >&2   # keep stdout for the table
JAR="$ROOT/bench/target/benchmarks.jar"
[ -f "$JAR" ] || { echo "http-bench: $JAR was not built" >&2; exit 1; }

extra=()
case " $* " in *" --help "*) ;; *)
  if [ -f "$ROOT/http-server/pom.xml" ]; then
    # Bobbin's provider goes on the server's class path as an application would add the jar (the bench jar
    # holds the same classes, for IdleConnectionFootprint, but not the provider's service registration).
    cpfile="$ROOT/http-server/target/http-bench.classpath"
    "${MVN[@]}" -DskipTests -pl http-server -am package dependency:build-classpath \
        -Dmdep.outputFile="$cpfile" -Dmdep.includeScope=runtime >&2
    jar=""
    for j in "$ROOT"/http-server/target/bobbin-http-server-*.jar; do
      case "$j" in *-sources.jar|*-javadoc.jar|*-tests.jar) ;; *) [ -f "$j" ] && jar=$j ;; esac
    done
    [ -n "$jar" ] || { echo "http-bench: the http-server jar was not built" >&2; exit 1; }
    extra+=(--bobbin-classpath "$jar:$(cat "$cpfile")")
    echo "http-bench: Bobbin's provider from ${jar#$ROOT/}" >&2
  else
    echo "http-bench: skipping Bobbin's provider: this checkout has no http-server module (dev.bobbin.http)" >&2
  fi ;;
esac

driver=""
cleanup() {
  # The driver destroys its servers and wrk runs when it exits; servers also stop when its pipe to them closes.
  if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then
    kill "$driver" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$driver" 2>/dev/null || break; sleep 1; done
    kill -9 "$driver" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

csv="$ROOT/bench/results/http.csv"           # machine-readable results, rendered to charts below
case " $* " in *" --help "*|*" --csv "*) ;; *) extra+=(--csv "$csv") ;; esac
"$ROOT/bench/probe/probe.sh" "before the run" "$@"   # the vCPUs' placement (bench/README.md, "The machine's two modes")
"$ROOT/bobbin" java -cp "$JAR" dev.bobbin.bench.http.HttpBench --wrk "$WRK" "${extra[@]}" "$@" &
driver=$!
status=0
wait "$driver" || status=$?
"$ROOT/bench/probe/probe.sh" "after the run" "$@"
driver=""
case " $* " in *" --help "*|*" --csv "*) ;; *)
  if [ "$status" = 0 ] && [ -s "$csv" ]; then "$ROOT/bench/charts.sh" "$csv" >&2; fi ;;
esac
exit "$status"
