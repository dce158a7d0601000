# shellcheck shell=bash
# Copyright (C) 2026 The ngx_squash authors
#
# Sourced by the benchmarks.  bench_image WORK [SPEC] makes SPEC's image
# (bench/image.spec's by default) under WORK/image once.
# bench_nginx WORK PORT [HTTP [SERVER]] starts an nginx (one worker, or
# BENCH_WORKERS) with the module built in build/, serving /squash/ from
# that image laid out like the registry API under WORK/image/registry
# (HTTP and SERVER: more configuration for those blocks), and stops it
# when the script exits; bench_stop_nginx WORK stops it before.

bench_image() {
    local work="$1" root spec
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    spec="${2:-$root/bench/image.spec}"

    [ -x "$root/build/squash-mkimage" ] || "$root/build.sh"

    if [ ! -f "$work/image/.done" ]; then
        rm -rf "$work"
        mkdir -p "$work"
        echo "==> making the bench image"
        "$root/build/squash-mkimage" "$spec" "$work/image" \
            >/dev/null
        chmod -R a+rX "$work"
        touch "$work/image/.done"
    fi

    command -v hyperfine >/dev/null || {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q hyperfine \
            >/dev/null
    }
}

# the blobs of the bench image's layers
bench_blobs() {
    python3 - "$1/image/oci" <<'PY'
import json, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
m = json.load(open(d + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
print(" ".join(d + "/blobs/sha256/" + l["digest"][7:] for l in m["layers"]))
PY
}

# hyperfine's results as ratios to the first command's mean
bench_ratios() {
    python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[0]["mean"]
print("\n%-34s %10s %8s" % ("command", "mean s", "ratio"))
for x in r:
    print("%-34s %10.3f %8.2f" % (x["command"], x["mean"], x["mean"] / base))
PY
}

bench_nginx() {
    local work="$1" port="$2" http="${3:-}" server="${4:-}" build
    build="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build"

    mkdir -p "$work/logs" "$work/conf" "$work/tmp"
    cat >"$work/conf/nginx.conf" <<CONF
load_module $build/ngx_http_squash_module.so;
thread_pool squash threads=4;
daemon on;
worker_processes ${BENCH_WORKERS:-1};
pid $work/logs/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/tmp;
    proxy_temp_path $work/tmp;
$http
    server {
        listen 127.0.0.1:$port;
$server
        location ~ ^/squash/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_registry;
        }
        location /_registry/ {
            internal;
            alias $work/image/registry/;
        }
    }
}
CONF

    : >"$work/logs/error.log"
    /usr/sbin/nginx -p "$work" -c "$work/conf/nginx.conf" \
        -e "$work/logs/error.log"
    # shellcheck disable=SC2064
    trap "kill \"\$(cat '$work/logs/nginx.pid' 2>/dev/null)\" 2>/dev/null || true" EXIT
}

bench_stop_nginx() {
    local pid
    pid=$(cat "$1/logs/nginx.pid")
    kill "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}
