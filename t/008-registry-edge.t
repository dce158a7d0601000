# Real registry edges, against a docker-registry with htpasswd auth (started
# by t/run-suite on $TEST_NGINX_AUTH_REGISTRY_PORT, and one with Bearer
# tokens on $TEST_NGINX_TOKEN_REGISTRY_PORT): credentials, platforms
# from a three-platform index, pulls by digest, zstd + plain + gzip layers,
# statuses; verified digests; a registry whose blob GETs redirect to object
# storage.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SquashTest;
use JSON::PP ();

sub slurp_json {
    my $file = shift;
    open my $fh, '<', $file or die "$file: $!";
    local $/;
    return JSON::PP::decode_json(<$fh>);
}

my $fix = $ENV{TEST_NGINX_FIXTURES};

# digests: the multi-platform index, and two layers of the Quay fixtures
open my $fh, '<', "$fix/registry.images" or die $!;
while (<$fh>) {
    my ($ref, $digest) = split;
    $ENV{TEST_NGINX_MULTI_DIGEST} = $digest if $ref eq 'registry/multi:v1';
}
close $fh;

my $m2 = slurp_json("$fix/quay/registry/v2/quay/case2/manifests/latest");
my $m1 = slurp_json("$fix/quay/registry/v2/quay/case1/manifests/latest");
$ENV{TEST_NGINX_CASE2_TOP} = $m2->{layers}[-1]{digest};
$ENV{TEST_NGINX_CASE1_LAYER} = $m1->{layers}[0]{digest};

# a token from the Bearer registry's token service, as a client gets one
my $scope = 'repository:registry/five:pull';
my $answer = `curl -sf -u squash:s3cret 'http://127.0.0.1:$ENV{TEST_NGINX_TOKEN_PORT}/token?service=squash-test&scope=$scope'`;
$ENV{TEST_NGINX_BEARER} = JSON::PP::decode_json($answer)->{token};

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('config', <<'END') unless defined $block->config;
    squash_location {
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_AUTH_REGISTRY_PORT/;
        proxy_buffering off;
    }

    location ~ ^/bearer/(?<sq_name>.+)/(?<sq_ref>[^/]+)$ {
        squash $sq_name $sq_ref;
        squash_registry /_bearer;
    }

    location /_bearer/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_TOKEN_REGISTRY_PORT/;
        proxy_buffering off;
    }
END
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no credentials: the registry's 401 and its challenge
--- request
GET /squash/registry/five/v1
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="squash-test"



=== TEST 2: the client's credentials reach the registry
--- request
GET /squash/registry/five/v1
--- more_headers
Authorization: Basic c3F1YXNoOnMzY3JldA==
--- squash_check: complete
--- squash_same_as_umoci: registry registry/five:v1



=== TEST 3: wrong credentials
--- request
GET /squash/registry/five/v1
--- more_headers
Authorization: Basic c3F1YXNoOndyb25n
--- error_code: 401



=== TEST 4: a three-platform index: linux/amd64 by default
--- request
GET /squash/registry/multi/v1
--- more_headers
Authorization: Basic c3F1YXNoOnMzY3JldA==
--- squash_check: complete
--- squash_layer
f 0644 0:0 5 arch =amd64
--- squash_file: <id>/json
--- squash_file_like: "architecture":"amd64"



=== TEST 5: ?platform=linux/arm64 picks its variant v8
--- request
GET /squash/registry/multi/v1?platform=linux/arm64
--- more_headers
Authorization: Basic c3F1YXNoOnMzY3JldA==
--- squash_check: complete
--- squash_layer
f 0644 0:0 5 arch =arm64



=== TEST 6: ?platform=linux/arm/v7, its variant in the config
--- request
GET /squash/registry/multi/v1?platform=linux/arm/v7
--- more_headers
Authorization: Basic c3F1YXNoOnMzY3JldA==
--- squash_check: complete
--- squash_layer
f 0644 0:0 5 arch =armv7
--- squash_file: <id>/json
--- squash_file_like: "architecture":"arm".*"variant":"v7"



=== TEST 7: squash_platform sets the default
--- config
    squash_location {
        squash_platform linux/arm/v7;
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_AUTH_REGISTRY_PORT/;
    }
--- request
GET /squash/registry/multi/v1
--- more_headers
Authorization: Basic c3F1YXNoOnMzY3JldA==
--- squash_layer
f 0644 0:0 5 arch =armv7



=== TEST 8: a platform the index lacks
--- request
GET /squash/registry/multi/v1?platform=linux/s390x
--- more_headers
Authorization: Basic c3F1YXNoOnMzY3JldA==
--- error_code: 404
--- error_log
no manifest for platform linux/s390x in the index



=== TEST 9: the index pulled by digest
--- request eval
"GET /squash/registry/multi/$ENV{TEST_NGINX_MULTI_DIGEST}?platform=linux/arm64/v8"
--- more_headers
Authorization: Basic c3F1YXNoOnMzY3JldA==
--- squash_check: complete
--- squash_layer
f 0644 0:0 5 arch =arm64



=== TEST 10: zstd, plain and gzip layers in one image
--- request
GET /squash/registry/zmix/v1
--- more_headers
Authorization: Basic c3F1YXNoOnMzY3JldA==
--- squash_check: complete
--- squash_layer
f 0644 0:0 3 g =top
f 0644 0:0 6 p =middle
f 0644 0:0 5 shared =plain
f 0644 0:0 6 z =bottom



=== TEST 11: unknown tag
--- request
GET /squash/registry/five/v9
--- more_headers
Authorization: Basic c3F1YXNoOnMzY3JldA==
--- error_code: 404



=== TEST 12: invalid name and tag
--- request
GET /squash/registry/Five/v1
--- error_code: 400



=== TEST 13: a blob replaced by another valid gzip tar: 502 before the header
Its length is not its descriptor's: the size probe tells (a blob of the
same length with another digest is t/002-registry.t TEST 15).
--- config
    squash_location {
    }

    location = /_registry/v2/quay/case2/blobs/$TEST_NGINX_CASE2_TOP {
        internal;
        alias $TEST_NGINX_FIXTURES/quay/registry/v2/quay/case1/blobs/$TEST_NGINX_CASE1_LAYER;
    }

    location /_registry/ {
        internal;
        alias $TEST_NGINX_FIXTURES/quay/registry/;
    }
--- request
GET /squash/quay/case2/latest
--- error_code: 502
--- error_log eval
qr/squash: layer sha256:[0-9a-f]{64}: the registry's blob has \d+ bytes, its descriptor says \d+/



=== TEST 14: blob GETs redirected to object storage (the recipe in docs)
The fake registry answers blob GETs with 307 to a storage location; the
internal location follows it.
--- config
    squash_location {
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/fake/;
        proxy_intercept_errors on;
        recursive_error_pages on;
        error_page 301 302 303 307 308 = @storage;
    }

    location @storage {
        internal;
        set $storage $upstream_http_location;
        proxy_pass $storage;
        proxy_buffering off;
        proxy_set_header Authorization "";
    }

    location /fake/v2/quay/ {
        alias $TEST_NGINX_FIXTURES/quay/registry/v2/quay/;
    }

    location ~ ^/fake/v2/quay/(?<repo>[^/]+)/blobs/(?<blob>.+)$ {
        return 307 http://127.0.0.1:$TEST_NGINX_SERVER_PORT/storage/$repo/blobs/$blob;
    }

    location /storage/ {
        # signed URLs: no credentials may come along
        if ($http_authorization) {
            return 400;
        }

        alias $TEST_NGINX_FIXTURES/quay/registry/v2/quay/;
    }
--- request
GET /squash/quay/case2/latest
--- more_headers
Authorization: Basic c3F1YXNoOnMzY3JldA==
--- squash_check: complete
--- squash_layer
f 0644 0:0 3 another_file =bar
f 0644 0:0 3 some_file =foo
f 0644 0:0 3 third_file =meh
f 0644 0:0 3 top_file =top



=== TEST 15: the edge holds the credentials (the recipe in docs)
The client sends none, or wrong ones; the internal location sets its own.
--- config
    squash_location {
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_AUTH_REGISTRY_PORT/;
        proxy_buffering off;
        proxy_set_header Authorization "Basic c3F1YXNoOnMzY3JldA==";
    }
--- request
GET /squash/registry/five/v1
--- more_headers
Authorization: Basic c3F1YXNoOndyb25n
--- squash_check: complete
--- squash_same_as_umoci: registry registry/five:v1



=== TEST 16: a registry with Bearer tokens: its challenge reaches the
client unchanged
--- request
GET /bearer/registry/five/v1
--- error_code: 401
--- response_headers_like
WWW-Authenticate: Bearer realm="http://127\.0\.0\.1:\d+/token",service="squash-test",scope="repository:registry/five:pull"



=== TEST 17: the token the client fetched from the realm reaches the
registry on every request of the download
--- request
GET /bearer/registry/five/v1
--- more_headers eval
"Authorization: Bearer $ENV{TEST_NGINX_BEARER}"
--- squash_check: complete
--- squash_same_as_umoci: registry registry/five:v1
