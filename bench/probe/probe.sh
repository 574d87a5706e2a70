#!/usr/bin/env bash
# Prints the cache-line round trip between the first two CPUs (core_pingpong.c), labelled:
#   bench/probe/probe.sh LABEL        ->  "HH:MM:SS LABEL: core-to-core round trip 61.2 ns" on stderr
# Builds the probe into bench/target on first use (gcc). Never fails the caller: prints "n/a" instead.
# On this machine the figure is about 60 ns while the host keeps the two vCPUs near and about 340 ns
# while it keeps them far apart (bench/README.md, "The machine's two modes").
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
src="$ROOT/bench/probe/core_pingpong.c"
bin="$ROOT/bench/target/core_pingpong"
if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
  mkdir -p "$(dirname "$bin")"
  gcc -O2 -Wall -Wextra -pthread -o "$bin" "$src" >&2 2>/dev/null || bin=""
fi
ns=n/a
if [ -n "$bin" ]; then ns=$("$bin" 300000 2>/dev/null) || ns=n/a; fi
echo "$(date -u +%H:%M:%S) ${1:-probe}: core-to-core round trip $ns ns" >&2
