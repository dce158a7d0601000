#!/usr/bin/env bash
# Copyright (C) 2026 The ngx_squash authors
# Issue 11's benchmark: one stream against the inflate floors, cold and
# warm, from files and through proxy_pass to docker-registry; time to first
# byte; small requests during big downloads (fairness); the concurrency
# series; 1,000 downloads under aio threads.  Usage: bench/edge.sh [RUNS
# [PARTS]] (after ./build.sh; bench/run.sh runs it all), PARTS some of
# "single ttfb latency cpu concurrency tconcurrency aio pull" (all by
# default; tconcurrency is the concurrency series with squash_thread_pool,
# warm then cold; cpu, where one download's CPU time goes: event loop,
# pool, registry, client).  One nginx, one worker for the single-stream,
# latency, first-byte and CPU figures, then two workers for the
# concurrency series and the aio run.  Figures are ratios to igzip -dc of
# the same blobs; absolute times depend on the machine.  At the end,
# bench/goals.py reads what the parts measured (WORK/edge.json and
# WORK/results.txt) and prints each of issue 11's goals as met or not.
#
# Floors: igzip -dc (ISA-L), bench/inflate.c (zlib's inflate(), 64 KiB
# buffers), gzip -dc and pigz -dc, of the same blobs; and bench/floor.c,
# what a download must compute on one core (the blobs' SHA-256 and ISA-L
# inflate; cold, the two SHA-256 passes of the tar too), under the module
# without a pool.  The single part ends with bench/hashrate.c: SHA-256 on
# 1, 2 and 4 streams interleaved, and ISA-L's CRC-32.
#
# Locations (all but the size cache and fallback as /squash/):
#   /squash/    blobs as files, squash_size_cache: warm after the first
#   /cold/      blobs as files, no size cache, squash_size_fallback
#               smallest: every download cold
#   /count/     blobs as files, no size cache, squash_size_fallback count:
#               every download cold, each layer counted before the header
#               (the default before issue 11)
#   /noyield/, /yield1m/   /squash/ with squash_yield_after 0 and 1m
#   /pcold/, /pwarm/   /cold/ and /squash/ with blobs through proxy_pass to
#               docker-registry (proxy_buffering off, proxy_buffer_size 64k)
#   /tcold/, /twarm/, /tpcold/, /tpwarm/   /cold/, /squash/, /pcold/ and
#               /pwarm/ with squash_thread_pool (a pool of 4 threads) and
#               squash_buffers 4 256k (the pool's recommended buffers;
#               SQUASH_BENCH_POOL_BUFFERS="4 64k" for the default)
#   /aio/       bench/small.spec's image, blobs as files with aio threads
#   /v2/        the registry API (squash_pull) through /_proxied/: skopeo
#               copy from it cold (nginx restarted, its size cache empty)
#               and warm, against skopeo copy from docker-registry itself

set -euo pipefail

# shellcheck source=bench/nginx.sh
. "$(dirname "$0")/nginx.sh"

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK="$ROOT/build/bench-edge"
SMALL="$ROOT/build/bench-small"
RUNS=${1:-3}
PARTS=" ${2:-single ttfb latency cpu concurrency tconcurrency aio pull} "
PORT=${SQUASH_BENCH_PORT:-8090}
REG_PORT=${SQUASH_BENCH_REGISTRY_PORT:-15100}
LOAD="python3 $ROOT/bench/load.py"
URL="http://127.0.0.1:$PORT"
IMG=bench/edge/v1
POOL_BUFS=${SQUASH_BENCH_POOL_BUFFERS:-4 256k}

bench_image "$WORK" "$ROOT/bench/edge.spec"
bench_image "$SMALL" "$ROOT/bench/small.spec"

gcc -O2 -std=gnu11 -o "$WORK/inflate" "$ROOT/bench/inflate.c" -lz
gcc -O2 -std=gnu11 -o "$WORK/floor" "$ROOT/bench/floor.c" -lisal -lcrypto
gcc -O2 -std=gnu11 -o "$WORK/hashrate" "$ROOT/bench/hashrate.c" -lisal \
    -lcrypto

# what the parts measure, for bench/goals.py: this run's only
RESULTS="$WORK/results.txt"
rm -f "$RESULTS" "$WORK/edge.json" "$WORK/pull.json"

# record KEY PREFIX ARGS...: bench/load.py ARGS, its line printed after
# PREFIX and kept under KEY; the run stops if it fails
record() {
    local key="$1" prefix="$2" out
    shift 2
    out=$($LOAD "$@")
    echo "$prefix$out"
    echo "$key $prefix$out" >>"$RESULTS"
}

for tool in igzip:isal pigz:pigz skopeo:skopeo docker-registry:docker-registry
do
    command -v "${tool%%:*}" >/dev/null || \
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${tool#*:}" \
            >/dev/null
done

# docker-registry on loopback, with the image pushed
rm -rf "$WORK/registry"
mkdir -p "$WORK/registry"
cat >"$WORK/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $WORK/registry/data
http:
  addr: 127.0.0.1:$REG_PORT
EOF
docker-registry serve "$WORK/registry/config.yml" \
    >"$WORK/registry/log" 2>&1 &
REG_PID=$!
trap 'kill $REG_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$REG_PORT/v2/" >/dev/null 2>&1 && break
    sleep 0.1
done
skopeo copy --quiet --dest-tls-verify=false \
    "oci:$WORK/image/oci:bench-edge-v1" \
    "docker://127.0.0.1:$REG_PORT/bench/edge:v1"

head -c 4096 /dev/urandom >"$WORK/small.bin"

start_nginx() {
    bench_nginx "$WORK" "$PORT" "
    squash_size_cache zone=sizes:1m;" "
        location = /small { alias $WORK/small.bin; }
        location ~ ^/tcold/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_registry;
            squash_size_cache off;
            squash_size_fallback smallest;
            squash_thread_pool squash;
            squash_buffers $POOL_BUFS;
        }
        location ~ ^/twarm/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_registry;
            squash_thread_pool squash;
            squash_buffers $POOL_BUFS;
        }
        location ~ ^/tpcold/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_proxied;
            squash_size_cache off;
            squash_size_fallback smallest;
            squash_thread_pool squash;
            squash_buffers $POOL_BUFS;
        }
        location ~ ^/tpwarm/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_proxied;
            squash_thread_pool squash;
            squash_buffers $POOL_BUFS;
        }
        location ~ ^/cold/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_registry;
            squash_size_cache off;
            squash_size_fallback smallest;
        }
        location ~ ^/count/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_registry;
            squash_size_cache off;
            squash_size_fallback count;
        }
        location ~ ^/noyield/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_registry;
            squash_yield_after 0;
        }
        location ~ ^/yield1m/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_registry;
            squash_yield_after 1m;
        }
        location ~ ^/pcold/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_proxied;
            squash_size_cache off;
            squash_size_fallback smallest;
        }
        location ~ ^/pwarm/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_proxied;
        }
        location /_proxied/ {
            internal;
            proxy_pass http://127.0.0.1:$REG_PORT/;
            proxy_buffering off;
            proxy_buffer_size 64k;
            proxy_buffers 4 64k;
        }
        location ~ ^/aio/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_aio;
        }
        location /_aio/ {
            internal;
            alias $SMALL/image/registry/;
            aio threads;
        }
        location /v2/ {
            squash_pull;
            squash_registry /_proxied;
        }"
    # bench_nginx's trap stops nginx only: the registry too
    # shellcheck disable=SC2064
    trap "kill $REG_PID 2>/dev/null; kill \$(cat '$WORK/logs/nginx.pid' 2>/dev/null) 2>/dev/null || true" EXIT
}

BENCH_WORKERS=1 start_nginx

blobs=$(bench_blobs "$WORK")
# shellcheck disable=SC2086  # $blobs: one word a blob
echo "==> the image: $(du -cb $blobs | tail -1 | cut -f1) bytes of gzip, archive $(curl -fsS -I "$URL/squash/$IMG" | tr -d '\r' | awk 'tolower($1) == "content-length:" { print $2 }') bytes"

# warm the size cache of /squash/ and /pwarm/
curl -fsS "$URL/squash/$IMG" -o /dev/null
curl -fsS "$URL/pwarm/$IMG" -o /dev/null

part() { [[ "$PARTS" == *" $1 "* ]]; }

if part single; then
echo "==> one stream (one worker)"
rm -f "$WORK/skopeo.tar"
hyperfine --runs "$RUNS" --warmup 1 --export-json "$WORK/edge.json" \
    -n "ISA-L floor (igzip -dc)" "cat $blobs | igzip -dc >/dev/null" \
    -n "zlib inflate() (64 KiB buffers)" "cat $blobs | $WORK/inflate >/dev/null" \
    -n "one core's floor, warm (bench/floor.c)" "$WORK/floor warm $blobs >/dev/null" \
    -n "one core's floor, cold (bench/floor.c)" "$WORK/floor cold $blobs >/dev/null" \
    -n "gzip -dc" "cat $blobs | gzip -dc >/dev/null" \
    -n "pigz -dc" "cat $blobs | pigz -dc >/dev/null" \
    -n "files, cold (smallest)" "curl -fsS $URL/cold/$IMG -o /dev/null" \
    -n "files, warm" "curl -fsS $URL/squash/$IMG -o /dev/null" \
    -n "files, cold (count)" "curl -fsS $URL/count/$IMG -o /dev/null" \
    -n "proxy_pass, cold (smallest)" "curl -fsS $URL/pcold/$IMG -o /dev/null" \
    -n "proxy_pass, warm" "curl -fsS $URL/pwarm/$IMG -o /dev/null" \
    -n "files, cold, thread pool" "curl -fsS $URL/tcold/$IMG -o /dev/null" \
    -n "files, warm, thread pool" "curl -fsS $URL/twarm/$IMG -o /dev/null" \
    -n "proxy_pass, cold, thread pool" "curl -fsS $URL/tpcold/$IMG -o /dev/null" \
    -n "proxy_pass, warm, thread pool" "curl -fsS $URL/tpwarm/$IMG -o /dev/null" \
    -n "skopeo copy to docker-archive" "rm -f $WORK/skopeo.tar; skopeo copy --quiet --src-tls-verify=false docker://127.0.0.1:$REG_PORT/bench/edge:v1 docker-archive:$WORK/skopeo.tar"
bench_ratios "$WORK/edge.json"
echo
echo "==> how fast one core checks bytes (bench/hashrate.c)"
"$WORK/hashrate"
fi

if part ttfb; then
echo
echo "==> time to first byte, median of 5 (seconds)"
for loc in cold squash count pcold pwarm tcold twarm tpcold tpwarm; do
    record "ttfb-$loc" "$loc: " ttfb "$URL/$loc/$IMG" 5
done
fi

if part latency; then
echo
echo "==> a 4 KB request in a loop during 8 downloads (one worker)"
record latency-squash "squash_yield_after 256k (default): " \
    latency "$URL/small" "$URL/squash/$IMG" 8
record latency-yield1m "squash_yield_after 1m:           " \
    latency "$URL/small" "$URL/yield1m/$IMG" 8
record latency-noyield "squash_yield_after 0:            " \
    latency "$URL/small" "$URL/noyield/$IMG" 8
record latency-twarm "squash_thread_pool:              " \
    latency "$URL/small" "$URL/twarm/$IMG" 8

fi

if part cpu; then
echo
echo "==> where a download's time goes (one worker; CPU seconds, two runs)"
for loc in cold squash pcold pwarm tcold twarm tpcold tpwarm; do
    for _ in 1 2; do
        record "cpu-$loc" "$loc: " cpu "$URL/$loc/$IMG" \
            "$WORK/logs/nginx.pid" "$REG_PID"
    done
done
fi

bench_stop_nginx "$WORK"
BENCH_WORKERS=2 start_nginx
curl -fsS "$URL/squash/$IMG" -o /dev/null

if part concurrency; then
echo
echo "==> concurrency (two workers), warm, fast clients"
for n in 1 8 32 64; do
    record streams-squash "" streams "$URL/squash/$IMG" "$n" \
        "$WORK/logs/nginx.pid"
done
echo "==> 64 at once: 32 warm, 16 cold, 16 slow (curl --limit-rate 50M)"
record streams-mix "" mix "$URL/squash/$IMG" "$URL/cold/$IMG" \
    "$WORK/logs/nginx.pid"
fi

if part tconcurrency; then
echo
echo "==> concurrency (two workers), warm, fast clients, squash_thread_pool," \
     "squash_buffers $POOL_BUFS"
for n in 1 8 32; do
    record streams-twarm "" streams "$URL/twarm/$IMG" "$n" \
        "$WORK/logs/nginx.pid"
done
echo "==> the same, cold (every layer's tar hashed, from the pool's taps)"
for n in 8 32; do
    record streams-tcold "" streams "$URL/tcold/$IMG" "$n" \
        "$WORK/logs/nginx.pid"
done
fi

if part aio; then
echo
echo "==> aio threads: 1,000 downloads of bench/small, 32 at a time"
record aio "" many "$URL/aio/bench/small/v1" 1000 32
fi

if part pull; then
echo
echo "==> the registry API: skopeo copy into an OCI layout (two workers)"
OUT="$WORK/pull-oci"
# skopeo gzips an uncompressed layer for an OCI layout (Go's gzip, one core,
# about 15 s of this image) unless told to keep it: the edge's work is the
# figure, so it is kept
RESTART="pid=\$(cat $WORK/logs/nginx.pid); kill \$pid; while kill -0 \$pid 2>/dev/null; do sleep 0.05; done; /usr/sbin/nginx -p $WORK -c $WORK/conf/nginx.conf -e $WORK/logs/error.log"
hyperfine --runs "$RUNS" --export-json "$WORK/pull.json" \
    --prepare "rm -rf $OUT" \
    -n "skopeo copy from docker-registry (gzip layers)" \
    "skopeo copy --quiet --src-tls-verify=false docker://127.0.0.1:$REG_PORT/bench/edge:v1 oci:$OUT:x" \
    --prepare "rm -rf $OUT; $RESTART" \
    -n "skopeo copy from the edge, cold (one count, then the layer)" \
    "skopeo copy --quiet --src-tls-verify=false --dest-oci-accept-uncompressed-layers docker://127.0.0.1:$PORT/bench/edge:v1 oci:$OUT:x" \
    --prepare "rm -rf $OUT; curl -fsS -o /dev/null $URL/v2/bench/edge/manifests/v1" \
    -n "skopeo copy from the edge, warm" \
    "skopeo copy --quiet --src-tls-verify=false --dest-oci-accept-uncompressed-layers docker://127.0.0.1:$PORT/bench/edge:v1 oci:$OUT:x"
bench_ratios "$WORK/pull.json"
rm -rf "$OUT"
fi

echo
echo "==> issue 11's goals, as measured in this run"
python3 "$ROOT/bench/goals.py" "$WORK" "$POOL_BUFS"
