#!/usr/bin/env bash
# Copyright (C) 2026 The ngx_squash authors
# What same bytes cost (squash_layer_size, Range, the cache recipe), side
# by side on this machine.  Usage: bench/same-bytes.sh [RUNS]  (after
# ./build.sh; the image is bench/run.sh's)
#
#   inflate floor        gzip -dc of every layer blob to /dev/null
#   estimate             a download, size cache off: every one is cold
#   exact, cold          squash_layer_size exact, size cache off: counted,
#                        then made
#   exact, warm          squash_layer_size exact, the size cache knows it
#   range at N %         1 MiB at N % of the archive (estimate, warm)
#   cached               the cache recipe (docs/recipes/cache.md), a hit
#
# Figures are ratios to the inflate floor (hyperfine means).

set -euo pipefail

# shellcheck source=bench/nginx.sh
. "$(dirname "$0")/nginx.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK="$ROOT/build/bench"
RUNS=${1:-5}
PORT=${SQUASH_BENCH_PORT:-8090}

bench_image "$WORK"
rm -rf "$WORK/store"

# locations that differ from /squash/ in one setting each
bench_nginx "$WORK" "$PORT" "
    proxy_cache_path $WORK/store levels=1:2 keys_zone=archives:1m
                     max_size=4g use_temp_path=off;
    squash_size_cache zone=sizes:1m;" "
        location ~ ^/cold/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_registry;
            squash_size_cache off;
        }
        location ~ ^/exact/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_registry;
            squash_layer_size exact;
        }
        location ~ ^/exactcold/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_registry;
            squash_layer_size exact;
            squash_size_cache off;
        }
        location /cached/ {
            proxy_pass http://127.0.0.1:$PORT/squash/;
            proxy_cache archives;
            proxy_cache_key \$uri;
            proxy_cache_lock on;
            proxy_cache_valid 200 1h;
            proxy_ignore_headers Cache-Control;
        }"

URL="http://127.0.0.1:$PORT"
IMG=bench/app/v1
total=$(curl -fsS -I "$URL/squash/$IMG" | tr -d '\r' \
        | awk 'tolower($1) == "content-length:" { print $2 }')
range() { echo "curl -fsS -r $(( total * $1 / 100 ))-$(( total * $1 / 100 + 1048575 )) $URL/squash/$IMG -o /dev/null"; }

blobs=$(bench_blobs "$WORK")

hyperfine --runs "$RUNS" --warmup 1 --export-json "$WORK/same-bytes.json" \
    -n "inflate floor (gzip -dc)" "cat $blobs | gzip -dc >/dev/null" \
    -n "estimate (cold)" "curl -fsS $URL/cold/$IMG -o /dev/null" \
    -n "exact, cold" "curl -fsS $URL/exactcold/$IMG -o /dev/null" \
    -n "exact, warm" "curl -fsS $URL/exact/$IMG -o /dev/null" \
    -n "1 MiB range at 10 %" "$(range 10)" \
    -n "1 MiB range at 50 %" "$(range 50)" \
    -n "1 MiB range at 90 %" "$(range 90)" \
    -n "cached (the cache recipe, a hit)" "curl -fsS $URL/cached/$IMG -o /dev/null"

echo
echo "archive: $total bytes (estimate); exact: $(curl -fsS -I "$URL/exact/$IMG" \
    | tr -d '\r' | awk 'tolower($1) == "content-length:" { print $2 }') bytes"

bench_ratios "$WORK/same-bytes.json"
