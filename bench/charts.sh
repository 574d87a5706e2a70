#!/usr/bin/env bash
# Renders every bench/results/*.csv to PNG charts next to it (bench/README.md shows them).
#   bench/charts.sh            all result files
#   bench/charts.sh FILE.csv   one file
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case " $* " in *" --help "*|*" -h "*) sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
JAR="$ROOT/bench/target/benchmarks.jar"
if [ ! -f "$JAR" ]; then
  "$ROOT/bobbin" mvn -B -q -e --no-transfer-progress -Dstyle.color=never -f "$ROOT/pom.xml" -DskipTests -pl bench -am package >&2
fi
if [ $# -eq 0 ]; then set -- "$ROOT"/bench/results/*.csv; fi
exec "$ROOT/bobbin" java -Djava.awt.headless=true -cp "$JAR" dev.bobbin.bench.charts.BenchCharts "$@"
