#!/bin/sh
# One callgrind run of the overhead section: bench/callgrind/run.sh OUT_DIR N [--discord]
# (N messages in each of the section's two runs; see BENCHMARKS.md,
# "Where the Discord frontend's CPU goes"). Needs target/release/duet-bench.
set -eu
out=$1
messages=$2
shift 2
rm -rf "$out"
mkdir -p "$out"
valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$out/callgrind.out.%p" \
    target/release/duet-bench --only overhead --messages "$messages" "$@" \
    >"$out/table.txt" 2>"$out/valgrind.log"
