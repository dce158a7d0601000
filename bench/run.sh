#!/usr/bin/env bash
# Copyright (C) 2026 The ngx_squash authors
# Benchmarks of ngx_squash against baselines run side by side on this
# machine.  Usage: bench/run.sh [RUNS]   (after ./build.sh)
#
#   inflate floor   gzip -dc of every layer blob to /dev/null (what any
#                   squasher must at least do)
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

command -v hyperfine >/dev/null || {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q hyperfine >/dev/null
}

[ -x "$BUILD/squash-mkimage" ] || "$ROOT/build.sh"

if [ ! -f "$WORK/image/.done" ]; then
    rm -rf "$WORK"
    mkdir -p "$WORK"
    echo "==> making the bench image"
    "$BUILD/squash-mkimage" "$ROOT/bench/image.spec" "$WORK/image" >/dev/null
    chmod -R a+rX "$WORK"
    touch "$WORK/image/.done"
fi

bench_nginx "$WORK" "$PORT"

blobs=$(python3 - "$WORK/image/oci" <<'PY'
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
m = json.load(open(d + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
print(" ".join(d + "/blobs/sha256/" + l["digest"][7:] for l in m["layers"]))
PY
)

hyperfine --runs "$RUNS" --warmup 1 --export-json "$WORK/results.json" \
    -n "inflate floor (gzip -dc)" "cat $blobs | gzip -dc >/dev/null" \
    -n "umoci unpack" "rm -rf $WORK/umoci && umoci unpack --image $WORK/image/oci:bench-app-v1 $WORK/umoci >/dev/null" \
    -n "ngx_squash" "curl -fsS http://127.0.0.1:$PORT/squash/bench/app/v1 -o /dev/null"

python3 - "$WORK/results.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[0]["mean"]
print("\n%-28s %10s %8s" % ("command", "mean s", "ratio"))
for x in r:
    print("%-28s %10.3f %8.2f" % (x["command"], x["mean"], x["mean"] / base))
PY
