#!/usr/bin/env bash
# Copyright (C) 2026 The ngx_squash authors
#
# The merger's path bookkeeping, measured (after ./build.sh):
#   1. bench/paths.c: bytes per path for 1,000,000 and 2,000,000 paths
#      with the default squash_merge_memory (64m);
#   2. a 1,000,000-file layer (bench/paths.spec) squashed through nginx
#      with default settings, blobs as files: the download's time, and
#      the worker's peak RSS (VmHWM) against its RSS before.
# Usage: bench/paths.sh

set -euo pipefail

# shellcheck source=bench/nginx.sh
. "$(dirname "$0")/nginx.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/build"
WORK="$BUILD/bench-paths"
PORT=${SQUASH_BENCH_PORT:-8091}


mkdir -p "$WORK"
gcc -O2 -std=gnu11 -I"$ROOT/ngx_squash_module/core" -o "$WORK/paths" \
    "$ROOT/bench/paths.c" "$ROOT/ngx_squash_module/core/squash_merger.c" \
    "$ROOT/ngx_squash_module/core/squash_tar_reader.c"

echo "==> bookkeeping"
for n in 1000000 2000000; do
    "$WORK/paths" "$n"
done

if [ ! -f "$WORK/image/.done" ]; then
    echo "==> making a 1,000,000-file image"
    rm -rf "$WORK/image"
    "$BUILD/squash-mkimage" "$ROOT/bench/paths.spec" "$WORK/image" >/dev/null
    chmod -R a+rX "$WORK"
    touch "$WORK/image/.done"
fi

bench_nginx "$WORK" "$PORT"
sleep 0.5

worker=$(pgrep -P "$(cat "$WORK/logs/nginx.pid")" | head -1)
before=$(awk '/^VmRSS/ {print $2}' "/proc/$worker/status")

echo "==> curl -o /dev/null http://127.0.0.1:$PORT/squash/bench/paths/v1"
curl -fsS -o /dev/null -w '%{http_code} %{size_download} bytes in %{time_total} s\n' \
    "http://127.0.0.1:$PORT/squash/bench/paths/v1"

peak=$(awk '/^VmHWM/ {print $2}' "/proc/$worker/status")
echo "worker RSS before $before KiB, peak $peak KiB"
grep -E '\[(error|alert|crit)\]' "$WORK/logs/error.log" || true
