#!/usr/bin/env bash
# Copyright (C) 2026 The ngx_squash authors
# ./build.sh demo: squash the embedded sample image (tools/demo.spec) through
# nginx with the module, serving the image as static files laid out like the
# registry API (no registry process), and show what came out.

set -euo pipefail

BUILD=${1:?usage: demo.sh BUILD_DIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEMO="$BUILD/demo"
PORT=${SQUASH_DEMO_PORT:-8080}

rm -rf "$DEMO"
mkdir -p "$DEMO/logs" "$DEMO/conf" "$DEMO/tmp"

echo "==> making the sample image demo/app:latest"
"$BUILD/squash-mkimage" "$ROOT/tools/demo.spec" "$DEMO/image" >/dev/null

cat >"$DEMO/conf/nginx.conf" <<CONF
load_module $BUILD/ngx_http_squash_module.so;
daemon on;
pid $DEMO/logs/nginx.pid;
error_log $DEMO/logs/error.log info;
events { worker_connections 128; }
http {
    access_log $DEMO/logs/access.log;
    client_body_temp_path $DEMO/tmp;
    proxy_temp_path $DEMO/tmp;
    server {
        listen 127.0.0.1:$PORT;
        server_name localhost;

        location ~ ^/squash/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
            squash \$sq_name \$sq_ref;
            squash_registry /_registry;
        }

        # the image, laid out like the registry API, served as files
        location /_registry/ {
            internal;
            alias $DEMO/image/registry/;
        }
    }
}
CONF

stop() { [ -f "$DEMO/logs/nginx.pid" ] && kill "$(cat "$DEMO/logs/nginx.pid")" 2>/dev/null || true; }
trap stop EXIT

/usr/sbin/nginx -p "$DEMO" -c "$DEMO/conf/nginx.conf" -e "$DEMO/logs/error.log"
echo "==> nginx with ngx_http_squash_module on 127.0.0.1:$PORT"

echo "==> curl -f http://127.0.0.1:$PORT/squash/demo/app/latest -o $DEMO/app.tar"
curl -fsS "http://127.0.0.1:$PORT/squash/demo/app/latest" -o "$DEMO/app.tar"
ls -l "$DEMO/app.tar"

echo "==> the archive"
"$BUILD/squash-tartool" list "$DEMO/app.tar"
echo "==> $("$BUILD/squash-tartool" check "$DEMO/app.tar")"
echo "==> the merged layer (type mode owner size path content)"
"$BUILD/squash-tartool" layer "$DEMO/app.tar" --order
