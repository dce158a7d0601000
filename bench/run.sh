#!/usr/bin/env bash
# Copyright (C) 2026 The ngx_squash authors
# Benchmarks of ngx_squash against baselines run side by side on this
# machine.  Usage: bench/run.sh [RUNS]   (after ./build.sh)
#
#   inflate floor   gzip -dc of every layer blob to /dev/null (what any
#                   squasher must at least do)
#   ISA-L floor     igzip -dc of the same (ISA-L's inflate, which the
#                   module uses where it is built with it)
#   umoci           umoci unpack of the image: an independent flattener,
#                   writing the tree to disk
#   ngx_squash      curl of /squash/bench/app/v1 from nginx with the module
#                   (blobs as files), to /dev/null
#
# Figures are reported as ratios to the inflate floor, with hyperfine's
# means; absolute times depend on the machine.

set -euo pipefail

# shellcheck source=bench/nginx.sh
. "$(dirname "$0")/nginx.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build"
WORK="$BUILD/bench"
RUNS=${1:-5}
PORT=${SQUASH_BENCH_PORT:-8090}

bench_image "$WORK"
bench_nginx "$WORK" "$PORT"

blobs=$(bench_blobs "$WORK")

command -v igzip >/dev/null || {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q isal >/dev/null
}

hyperfine --runs "$RUNS" --warmup 1 --export-json "$WORK/results.json" \
    -n "inflate floor (gzip -dc)" "cat $blobs | gzip -dc >/dev/null" \
    -n "ISA-L floor (igzip -dc)" "cat $blobs | igzip -dc >/dev/null" \
    -n "umoci unpack" "rm -rf $WORK/umoci && umoci unpack --image $WORK/image/oci:bench-app-v1 $WORK/umoci >/dev/null" \
    -n "ngx_squash" "curl -fsS http://127.0.0.1:$PORT/squash/bench/app/v1 -o /dev/null"

bench_ratios "$WORK/results.json"
