#!/usr/bin/env bash
# The loopback echo benchmark (bench/README.md, "Echo (loopback)"): builds the bench module, then runs
# every server kind at 100 and 1,000 connections, each server in its own JVM, and prints a markdown table;
# the figures also go to bench/results/echo.csv, rendered to bench/results/echo-*.png (bench/charts.sh).
#   flock /tmp/bobbin-bench.lock bench/echo-bench.sh [EchoBench options]
#       e.g. --pin, --rounds 3, --kinds jdk-vthread,netty-uring
#   bench/echo-bench.sh --help                   lists the options and server kinds
# The load comes from the C epoll client bench/echo-client/echo_client.c, compiled here with gcc (so no
# published figure depends on a client of ours built on the JVM); --client java uses the Java NIO client.
# Needs a JDK 25 (found by ./bobbin), Maven, Linux, gcc (for the default client); taskset for --pin.
# Traffic stays on 127.0.0.1.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$ROOT/bobbin" mvn -B -q -e --no-transfer-progress -Dstyle.color=never -f "$ROOT/pom.xml" \
    -DskipTests -pl bench -am package >&2   # keep stdout for the table
JAR="$ROOT/bench/target/benchmarks.jar"
[ -f "$JAR" ] || { echo "echo-bench: $JAR was not built" >&2; exit 1; }

client_args=()
case " $* " in
  *" --client java "*|*" --help "*|*" -h "*) ;;
  *)
    src="$ROOT/bench/echo-client/echo_client.c"
    bin="$ROOT/bench/target/echo_client"
    if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
      command -v gcc >/dev/null || { echo "echo-bench: gcc is needed for the default load client (apt-get install -y gcc), or pass --client java" >&2; exit 1; }
      gcc -O2 -Wall -Wextra -o "$bin" "$src" -lm >&2
    fi
    case " $* " in *" --client "*) ;; *) client_args+=(--client native) ;; esac
    case " $* " in *" --native-client "*) ;; *) client_args+=(--native-client "$bin") ;; esac ;;
esac

driver=""
cleanup() {
  # The driver destroys its servers and clients when it exits; servers also stop when its pipe to them closes.
  if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then
    kill "$driver" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$driver" 2>/dev/null || break; sleep 1; done
    kill -9 "$driver" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

csv="$ROOT/bench/results/echo.csv"           # machine-readable results, rendered to charts below
case " $* " in *" --help "*|*" -h "*|*" --csv "*) extra=() ;; *) extra=(--csv "$csv") ;; esac
"$ROOT/bench/probe/probe.sh" "before the run" "$@"   # the vCPUs' placement (bench/README.md, "The machine's two modes")
"$ROOT/bobbin" java -cp "$JAR" dev.bobbin.bench.echo.EchoBench "${client_args[@]}" "${extra[@]}" "$@" &
driver=$!
status=0
wait "$driver" || status=$?
"$ROOT/bench/probe/probe.sh" "after the run" "$@"
driver=""
if [ "$status" = 0 ] && [ ${#extra[@]} -gt 0 ] && [ -s "$csv" ]; then
  "$ROOT/bench/charts.sh" "$csv" >&2
fi
exit "$status"
