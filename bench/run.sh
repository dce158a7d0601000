#!/usr/bin/env bash
# Copyright (C) 2026 The ngx_squash authors
# Benchmarks of ngx_squash against baselines run side by side on this
# machine, all of them in one run.  Usage: bench/run.sh [RUNS]   (after
# ./build.sh; RUNS hyperfine runs a command, 3 by default)
#
# First bench/image.spec's image (400 MiB of tar), blobs as files:
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
# means; absolute times depend on the machine.  Then bench/edge.sh RUNS
# (every part: bench/edge.spec's image of 1.16 GB of tar, cold and warm,
# from files and through proxy_pass to docker-registry, with and without a
# thread pool, the floors, skopeo copy, first byte, fairness, the
# concurrency series, aio threads, the registry API), which ends with
# issue 11's goals as met or not (bench/goals.py).  About 22 minutes on
# two cores with RUNS=3, more the first time (the images are made).

set -euo pipefail

# shellcheck source=bench/nginx.sh
. "$(dirname "$0")/nginx.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build"
WORK="$BUILD/bench"
RUNS=${1:-3}
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
bench_stop_nginx "$WORK"

echo
"$ROOT/bench/edge.sh" "$RUNS"
