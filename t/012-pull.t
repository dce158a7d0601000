# The registry API (squash_pull): skopeo, podman and docker pull squashed
# images from the edge, by tag and by digest, each getting the tree
# `umoci unpack` gives of the original, from one layer; manifests in OCI
# and Docker schema 2 by Accept; layer blobs with exact lengths and
# ranges; the API's JSON errors; credentials through to an htpasswd
# registry; a digest the edge never served is unknown.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SquashTest;

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('config', <<'END') unless defined $block->config;
    location /v2/ {
        squash_pull;
        squash_registry /_registry;
        squash_size_cache zone=pull:1m;
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/;
        proxy_buffering off;
    }
END
});

# a second server of the same nginx, in front of the registry
$ENV{TEST_NGINX_FRONT_PORT} = ($ENV{TEST_NGINX_SERVER_PORT}
                               || $ENV{TEST_NGINX_PORT} || 1984) + 7;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the API version check: the registry's answer
--- request
GET /v2/
--- response_headers
Docker-Distribution-API-Version: registry/2.0
Content-Type: application/json
--- response_body chomp
{}



=== TEST 2: a manifest by tag: OCI, one uncompressed layer
--- request
GET /v2/registry/five/manifests/v1
--- more_headers
Accept: application/vnd.oci.image.manifest.v1+json
--- response_headers
Content-Type: application/vnd.oci.image.manifest.v1+json
Docker-Distribution-API-Version: registry/2.0
--- response_headers_like
Docker-Content-Digest: sha256:[0-9a-f]{64}
--- response_body_like chomp
^\{"config":\{"digest":"sha256:[0-9a-f]{64}","mediaType":"application/vnd\.oci\.image\.config\.v1\+json","size":\d+\},"layers":\[\{"digest":"sha256:[0-9a-f]{64}","mediaType":"application/vnd\.oci\.image\.layer\.v1\.tar","size":\d+\}\],"mediaType":"application/vnd\.oci\.image\.manifest\.v1\+json","schemaVersion":2\}$



=== TEST 3: Docker schema 2 for a client that accepts only that
--- request
GET /v2/registry/five/manifests/v1
--- more_headers
Accept: application/vnd.docker.distribution.manifest.v2+json
--- response_headers
Content-Type: application/vnd.docker.distribution.manifest.v2+json
--- response_body_like chomp
"mediaType":"application/vnd\.docker\.image\.rootfs\.diff\.tar"



=== TEST 4: HEAD of a manifest: its digest and length, no body
--- request
HEAD /v2/registry/five/manifests/v1
--- response_headers_like
Docker-Content-Digest: sha256:[0-9a-f]{64}
Content-Length: \d+
--- response_body chomp



=== TEST 5: an unknown tag: the API's MANIFEST_UNKNOWN
--- request
GET /v2/registry/five/manifests/nosuchtag
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body_like chomp
^\{"errors":\[\{"code":"MANIFEST_UNKNOWN","message":"[^"]+"\}\]\}$



=== TEST 6: a blob never served here: BLOB_UNKNOWN
--- request
GET /v2/registry/five/blobs/sha256:0000000000000000000000000000000000000000000000000000000000000000
--- error_code: 404
--- response_body_like chomp
"code":"BLOB_UNKNOWN"



=== TEST 7: a manifest digest never served here (the original's):
MANIFEST_UNKNOWN
--- request
GET /v2/registry/five/manifests/sha256:f5dada157935cec5e07d9ad4949cdea24f60448ff527ae05f75fdfd7de4474ea
--- error_code: 404
--- response_body_like chomp
"code":"MANIFEST_UNKNOWN"



=== TEST 8: an invalid name
--- request
GET /v2/Registry/five/manifests/v1
--- error_code: 400
--- response_body_like chomp
"code":"NAME_INVALID"



=== TEST 9: a blob by a tag
--- request
GET /v2/registry/five/blobs/v1
--- error_code: 400
--- response_body_like chomp
"code":"DIGEST_INVALID"



=== TEST 10: a route the edge does not serve
--- request
GET /v2/registry/five/referrers/sha256:0000000000000000000000000000000000000000000000000000000000000000
--- error_code: 404
--- response_body_like chomp
"code":"UNSUPPORTED"



=== TEST 11: a delete: the edge is read-only
--- request
DELETE /v2/registry/five/manifests/v1
--- error_code: 405
--- response_body_like chomp
"code":"UNSUPPORTED"



=== TEST 12: the tags: the registry's list
--- request
GET /v2/registry/five/tags/list
--- response_headers
Content-Type: application/json
--- response_body_like chomp
^\{"name":"registry/five","tags":\["v1"\]\}$



=== TEST 13: a tags list in pages: n and last reach the registry, others
do not; its Link to the next page reaches the client (docker-registry 2.8
does not paginate: a front adds the Link one that does sends)
--- http_config
    log_format uri '$request_uri';

    server {
        listen 127.0.0.1:$TEST_NGINX_FRONT_PORT;
        access_log logs/squash-13.log uri;

        location / {
            proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT;
            add_header Link '</v2/registry/five/tags/list?last=v1&n=1>; rel="next"';
        }
    }
--- config
    location /v2/ {
        squash_pull;
        squash_registry /_registry;
        squash_size_cache zone=pull:1m;
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_FRONT_PORT/;
    }
--- request
GET /v2/registry/five/tags/list?n=1&x=y&last=a
--- response_headers
Link: </v2/registry/five/tags/list?last=v1&n=1>; rel="next"
--- response_body_like chomp
^\{"name":"registry/five","tags":\["v1"\]\}$
--- squash_access_log
^/v2/registry/five/tags/list\?n=1&last=a$



=== TEST 14: a tags list's n that the registry would refuse: the API's
error
--- request
GET /v2/registry/five/tags/list?n=-1
--- error_code: 400
--- response_body_like chomp
"code":"PAGINATION_NUMBER_INVALID"



=== TEST 15: a tags list's last that is no tag
--- request
GET /v2/registry/five/tags/list?last=..x
--- error_code: 400
--- response_body_like chomp
"code":"TAG_INVALID"



=== TEST 16: skopeo by tag and by digest; podman; docker; ctr
--- request
GET /v2/
--- squash_pull
skopeo registry/five:v1 registry registry/five:v1
skopeo-digest registry/five:v1 registry registry/five:v1
podman registry/five:v1 registry registry/five:v1
docker registry/five:v1 registry registry/five:v1
ctr registry/five:v1 registry registry/five:v1
--- timeout: 120



=== TEST 17: whiteouts, opaque dirs, hard links: every client
--- request
GET /v2/
--- squash_pull
skopeo registry/layered:v1 registry registry/layered:v1
podman registry/layered:v1 registry registry/layered:v1
docker registry/layered:v1 registry registry/layered:v1
ctr registry/layered:v1 registry registry/layered:v1
--- timeout: 120



=== TEST 18: plain and gzip layers; a Docker-format original
--- request
GET /v2/
--- squash_pull
skopeo registry/mixed:v1 registry registry/mixed:v1
skopeo registry/docker:v1 registry registry/docker:v1
--- timeout: 60



=== TEST 19: an index: an index of squashed images, each platform's own
--- request
GET /v2/registry/multi/manifests/v1
--- response_headers
Content-Type: application/vnd.oci.image.index.v1+json
--- response_body_like chomp
^\{"manifests":\[\{"digest":"sha256:[0-9a-f]{64}","mediaType":"application/vnd\.oci\.image\.manifest\.v1\+json","platform":\{"architecture":"amd64","os":"linux"\},"size":\d+\},\{[^]]+"variant":"v8"\},"size":\d+\},\{[^]]+"variant":"v7"\},"size":\d+\}\],"mediaType":"application/vnd\.oci\.image\.index\.v1\+json","schemaVersion":2\}$
--- squash_pull
skopeo registry/multi:v1 registry registry/multi-arm64:v1 platform=linux/arm64/v8
skopeo registry/multi:v1 registry registry/multi-amd64:v1 platform=linux/amd64
skopeo-digest registry/multi:v1 registry registry/multi-arm:v1 platform=linux/arm/v7
podman registry/multi:v1 registry registry/multi-arm64:v1 platform=linux/arm64
docker registry/multi:v1 registry registry/multi-arm:v1 platform=linux/arm/v7
ctr registry/multi:v1 registry registry/multi-arm64:v1 platform=linux/arm64
--- timeout: 120



=== TEST 20: an index for a client that accepts only Docker's types: a
manifest list
--- request
GET /v2/registry/multi/manifests/v1
--- more_headers
Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json
--- response_headers
Content-Type: application/vnd.docker.distribution.manifest.list.v2+json
--- response_body_like chomp
"mediaType":"application/vnd\.docker\.distribution\.manifest\.v2\+json"



=== TEST 21: the layer blob: exact length, HEAD, a range, its digest
--- request
GET /v2/
--- squash_pull_blob: registry/five v1
--- timeout: 30



=== TEST 22: the same with a layer of megabytes, cut and resumed
--- request
GET /v2/
--- squash_pull_blob: registry/mid v1
--- squash_pull
skopeo registry/mid:v1 registry registry/mid:v1
--- timeout: 60



=== TEST 23: eight first requests for an image at once: one counts it,
the others wait for its result (a map logs the request that counted)
--- http_config
    map $squash_size_source $squash_counted {
        merge    1;
        default  0;
    }
--- config
    location /v2/ {
        squash_pull;
        squash_registry /_registry;
        squash_size_cache zone=pull:1m;
        access_log logs/counted.log combined if=$squash_counted;
        access_log logs/access.log;
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/;
        proxy_buffering off;
    }
--- request
GET /v2/
--- squash_coalesce: 8 /v2/registry/mid/manifests/v1 counted.log 1
--- timeout: 60



=== TEST 24: squash_keep_layers 1: the base layer as it is, the others
merged on top as a diff (whiteouts and opaque markers of the base's
entries kept, hard links to its files): every client, every image
--- config
    location /v2/ {
        squash_pull;
        squash_registry /_registry;
        squash_size_cache zone=pull:1m;
        squash_keep_layers 1;
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/;
        proxy_buffering off;
    }
--- request
GET /v2/
--- squash_pull
skopeo registry/layered:v1 registry registry/layered:v1 keep=1
podman registry/layered:v1 registry registry/layered:v1 keep=1
docker registry/layered:v1 registry registry/layered:v1 keep=1
ctr registry/five:v1 registry registry/five:v1 keep=1
skopeo registry/five:v1 registry registry/five:v1 keep=1
skopeo-digest registry/mixed:v1 registry registry/mixed:v1 keep=1
skopeo registry/docker:v1 registry registry/docker:v1 keep=1
skopeo registry/mid:v1 registry registry/mid:v1 keep=1
skopeo registry/multi:v1 registry registry/multi-arm64:v1 platform=linux/arm64/v8 keep=1
--- timeout: 180



=== TEST 25: squash_keep_layers 3
--- config
    location /v2/ {
        squash_pull;
        squash_registry /_registry;
        squash_size_cache zone=pull:1m;
        squash_keep_layers 3;
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/;
        proxy_buffering off;
    }
--- request
GET /v2/
--- squash_pull
skopeo registry/five:v1 registry registry/five:v1 keep=3
skopeo registry/mixed:v1 registry registry/mixed:v1 keep=3
podman registry/five:v1 registry registry/five:v1 keep=3
--- timeout: 120



=== TEST 26: squash_keep_layers 1 on every image of the semantics
fixtures, served as files
--- config
    location /v2/ {
        squash_pull;
        squash_registry /_registry;
        squash_size_cache zone=pull:1m;
        squash_keep_layers 1;
    }

    location = /_registry/v2/ {
        internal;
        return 200 "{}";
    }

    location /_registry/ {
        internal;
        alias $TEST_NGINX_FIXTURES/semantics/registry/;
    }
--- request
GET /v2/
--- squash_pull
skopeo sem/links-deleted:v1 semantics sem/links-deleted:v1 keep=1
skopeo sem/links-shadowed:v1 semantics sem/links-shadowed:v1 keep=1
skopeo sem/links-lower:v1 semantics sem/links-lower:v1 keep=1
skopeo sem/opaque:v1 semantics sem/opaque:v1 keep=1
skopeo sem/replace:v1 semantics sem/replace:v1 keep=1
skopeo sem/headers:v1 semantics sem/headers:v1 keep=1
skopeo sem/odd:v1 semantics sem/odd:v1 keep=1
skopeo sem/many:v1 semantics sem/many:v1 keep=1
skopeo sem/dirtimes:v1 semantics sem/dirtimes:v1 keep=1
--- timeout: 180



=== TEST 27: squash_keep_layers 1 on every case of Quay's, served as files
(but case24, whose blob umoci cannot read either)
--- config
    location /v2/ {
        squash_pull;
        squash_registry /_registry;
        squash_size_cache zone=pull:1m;
        squash_keep_layers 1;
    }

    location = /_registry/v2/ {
        internal;
        return 200 "{}";
    }

    location /_registry/ {
        internal;
        alias $TEST_NGINX_FIXTURES/quay/registry/;
    }
--- request
GET /v2/
--- squash_pull
skopeo quay/case1:latest quay quay/case1:latest keep=1
skopeo quay/case2:latest quay quay/case2:latest keep=1
skopeo quay/case3:latest quay quay/case3:latest keep=1
skopeo quay/case4:latest quay quay/case4:latest keep=1
skopeo quay/case5:latest quay quay/case5:latest keep=1
skopeo quay/case6:latest quay quay/case6:latest keep=1
skopeo quay/case7:latest quay quay/case7:latest keep=1
skopeo quay/case8:latest quay quay/case8:latest keep=1
skopeo quay/case9:latest quay quay/case9:latest keep=1
skopeo quay/case10:latest quay quay/case10:latest keep=1
skopeo quay/case11:latest quay quay/case11:latest keep=1
skopeo quay/case12:latest quay quay/case12:latest keep=1
skopeo quay/case13:latest quay quay/case13:latest keep=1
skopeo quay/case14:latest quay quay/case14:latest keep=1
skopeo quay/case15:latest quay quay/case15:latest keep=1
skopeo quay/case16:latest quay quay/case16:latest keep=1
skopeo quay/case17:latest quay quay/case17:latest keep=1
skopeo quay/case18:latest quay quay/case18:latest keep=1
skopeo quay/case19:latest quay quay/case19:latest keep=1
skopeo quay/case20:latest quay quay/case20:latest keep=1
skopeo quay/case21:latest quay quay/case21:latest keep=1
skopeo quay/case22:latest quay quay/case22:latest keep=1
skopeo quay/case23:latest quay quay/case23:latest keep=1
--- timeout: 180



=== TEST 28: a pull killed midway (the layer blob streaming, slowly),
then run again into the same storage: the tree of the original
--- config
    location /v2/ {
        squash_pull;
        squash_registry /_registry;
        squash_size_cache zone=pull:1m;
        limit_rate 1m;
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/;
        proxy_buffering off;
    }
--- request
GET /v2/
--- squash_pull
skopeo registry/mid:v1 registry registry/mid:v1 killed=3
podman registry/mid:v1 registry registry/mid:v1 killed=3
--- timeout: 120



=== TEST 29: an htpasswd registry: 401 and its challenge without
credentials, pulls with them
--- config
    location /v2/ {
        squash_pull;
        squash_registry /_registry;
        squash_size_cache zone=pull:1m;
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_AUTH_REGISTRY_PORT/;
        proxy_buffering off;
    }
--- request
GET /v2/registry/five/manifests/v1
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="squash-test"
--- response_body_like chomp
"code":"UNAUTHORIZED"
--- squash_pull
skopeo registry/five:v1 registry registry/five:v1 creds=squash:s3cret
podman registry/five:v1 registry registry/five:v1 creds=squash:s3cret
docker registry/five:v1 registry registry/five:v1 creds=squash:s3cret
ctr registry/five:v1 registry registry/five:v1 creds=squash:s3cret
--- timeout: 120



=== TEST 30: a registry with Bearer tokens: its challenge reaches the
client unchanged; with credentials, each client fetches its token from the
registry's token service and pulls through the edge, which passes it on
--- config
    location /v2/ {
        squash_pull;
        squash_registry /_registry;
        squash_size_cache zone=pull:1m;
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_TOKEN_REGISTRY_PORT/;
        proxy_buffering off;
    }
--- request
GET /v2/registry/five/manifests/v1
--- error_code: 401
--- response_headers_like
WWW-Authenticate: Bearer realm="http://127\.0\.0\.1:\d+/token",service="squash-test",scope="repository:registry/five:pull"
--- response_body_like chomp
"code":"UNAUTHORIZED"
--- squash_pull
skopeo registry/five:v1 registry registry/five:v1 creds=squash:s3cret
podman registry/five:v1 registry registry/five:v1 creds=squash:s3cret
docker registry/five:v1 registry registry/five:v1 creds=squash:s3cret
ctr registry/five:v1 registry registry/five:v1 creds=squash:s3cret
--- timeout: 120



=== TEST 31: squash_pull needs a size cache and a registry
--- request
GET /v2/
--- squash_conf
        location /v2/ {
            squash_pull;
            squash_registry /_registry;
        }
--- squash_conf_refused: "squash_pull" requires "squash_size_cache"
