# Copyright (C) 2026 The ngx_squash authors
#
# Sourced by the benchmarks: bench_nginx WORK PORT starts an nginx (one
# worker) with the module built in build/, serving /squash/ from the
# image laid out like the registry API under WORK/image/registry, and
# stops it when the script exits.

bench_nginx() {
    local work="$1" port="$2" build
    build="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build"

    mkdir -p "$work/logs" "$work/conf" "$work/tmp"
    cat >"$work/conf/nginx.conf" <<CONF
load_module $build/ngx_http_squash_module.so;
daemon on;
worker_processes 1;
pid $work/logs/nginx.pid;
error_log $work/logs/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $work/tmp;
    proxy_temp_path $work/tmp;
    server {
        listen 127.0.0.1:$port;
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
    trap "kill \"\$(cat '$work/logs/nginx.pid')\" 2>/dev/null || true" EXIT
}
