# Bad input gets a clear status before the header: names, references,
# platforms, manifests, documents, registry answers.  A fake registry is
# this same nginx, reached through the proxied internal location.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SquashTest;

my $A = 'sha256:' . ('a' x 64);

add_block_preprocessor(sub {
    my $block = shift;

    my $config = <<'END';
    squash_location {
        squash_max_document_size 4k;
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/fake/;
    }

    location /fake/v2/quay/ {
        alias $TEST_NGINX_FIXTURES/quay/registry/v2/quay/;
    }
END

    $block->set_value('config', $config . ($block->fake // ''))
        unless defined $block->config;
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: invalid name: upper case
--- request
GET /squash/Team/app/latest
--- error_code: 400
--- error_log
squash: invalid image name "Team/app"



=== TEST 2: invalid name: component starting with a separator
--- request
GET /squash/team/-app/latest
--- error_code: 400



=== TEST 3: invalid name: 256 bytes
--- request eval
"GET /squash/" . ("a" x 256) . "/latest"
--- error_code: 400



=== TEST 4: invalid tag
--- request
GET /squash/quay/case1/.latest
--- error_code: 400
--- error_log
squash: invalid reference ".latest"



=== TEST 5: invalid digest
--- request
GET /squash/quay/case1/sha256:1234
--- error_code: 400



=== TEST 6: invalid platform
--- request
GET /squash/quay/case1/latest?platform=linux
--- error_code: 400
--- error_log
squash: invalid platform "linux"



=== TEST 7: methods other than GET and HEAD
--- request
POST /squash/quay/case1/latest
--- error_code: 405



=== TEST 8: schema1 manifest
--- fake
    location = /fake/v2/synth/s1/manifests/latest {
        return 200 '{"schemaVersion":1,"name":"synth/s1","fsLayers":[]}';
    }
--- request
GET /squash/synth/s1/latest
--- error_code: 415
--- error_log
schema1 manifests are not supported



=== TEST 9: manifest that is not JSON
--- fake
    location = /fake/v2/synth/bad/manifests/latest {
        return 200 '{"schemaVersion":2,';
    }
--- request
GET /squash/synth/bad/latest
--- error_code: 502
--- error_log
invalid JSON



=== TEST 10: manifest over squash_max_document_size
--- config
    squash_location {
        squash_max_document_size 100;
    }

    location /_registry/ {
        internal;
        alias $TEST_NGINX_FIXTURES/quay/registry/;
    }
--- request
GET /squash/quay/case1/latest
--- error_code: 502
--- error_log eval
qr/squash: response of ".*manifests\/latest" exceeds 100 bytes/



=== TEST 11: index without the platform
--- fake
    location = /fake/v2/synth/ix/manifests/latest {
        return 200 '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":10,"platform":{"os":"linux","architecture":"arm64"}}]}';
    }
--- request
GET /squash/synth/ix/latest
--- error_code: 404
--- error_log
no manifest for platform linux/amd64 in the index



=== TEST 12: the registry's 401 and its challenge come back
--- fake
    location /fake/v2/synth/auth/ {
        add_header WWW-Authenticate 'Basic realm="registry"' always;
        return 401;
    }
--- request
GET /squash/synth/auth/latest
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="registry"



=== TEST 13: the registry's 403
--- fake
    location /fake/v2/synth/denied/ {
        return 403;
    }
--- request
GET /squash/synth/denied/latest
--- error_code: 403



=== TEST 14: config missing from the registry
--- fake
    location = /fake/v2/synth/nocfg/manifests/latest {
        return 200 '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","size":1024}]}';
    }
    location /fake/v2/synth/nocfg/blobs/ {
        return 404;
    }
--- request
GET /squash/synth/nocfg/latest
--- error_code: 502
--- error_log
squash: config of "synth/nocfg": registry



=== TEST 15: config that does not match its digest
--- fake
    location = /fake/v2/synth/badcfg/manifests/latest {
        return 200 '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","size":1024}]}';
    }
    location /fake/v2/synth/badcfg/blobs/ {
        return 200 '{}';
    }
--- request
GET /squash/synth/badcfg/latest
--- error_code: 502
--- error_log
does not match its digest



=== TEST 16: unsupported layer media type
--- fake
    location = /fake/v2/synth/mt/manifests/latest {
        return 200 '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":2},"layers":[{"mediaType":"application/x-rar","digest":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","size":1024}]}';
    }
--- request
GET /squash/synth/mt/latest
--- error_code: 415
--- error_log
layer 0 has unsupported media type "application/x-rar"



=== TEST 17: a manifest asked for by digest must have it
--- fake
    location /fake/v2/synth/dg/manifests/ {
        return 200 '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":2},"layers":[]}';
    }
--- request
GET /squash/synth/dg/sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
--- error_code: 502
--- error_log
not the one asked for



=== TEST 18: the client's Range and conditionals do not reach the registry
If-Range with another ETag: the whole archive, made of whole blobs.
--- request
GET /squash/quay/case2/latest
--- more_headers
Range: bytes=0-99
If-Range: "0123456789abcdef0123456789abcdef"
If-None-Match: "x"
--- squash_check: complete
--- squash_layer
f 0644 0:0 3 another_file =bar
f 0644 0:0 3 some_file =foo
f 0644 0:0 3 third_file =meh
f 0644 0:0 3 top_file =top



=== TEST 19: HEAD answers the headers and fetches no layer
--- request
HEAD /squash/quay/case2/latest
--- response_headers_like
Content-Length: [1-9][0-9]*
Content-Type: application/x-tar
--- debug_log
squash: layer.tar
--- no_debug_log
squash: layer 1 of



=== TEST 20: more layers than squash_max_layers
--- config
    squash_location {
        squash_max_layers 1;
    }

    location /_registry/ {
        internal;
        alias $TEST_NGINX_FIXTURES/quay/registry/;
    }
--- request
GET /squash/quay/case2/latest
--- error_code: 415
--- error_log
manifest has 2 layers, more than the limit of 1



=== TEST 21: the smallest buffers still give the whole archive
--- config
    squash_location {
        squash_buffers 1 512;
        squash_buffer_size 4k;
    }

    location /_registry/ {
        internal;
        alias $TEST_NGINX_FIXTURES/semantics/registry/;
    }
--- request
GET /squash/sem/links-deleted/v1
--- squash_check: complete
--- squash_layer
h 0644 0:0 0 another_link_to_deleted_file -> link_to_deleted_file
f 0644 0:0 12 link_to_deleted_file =somecontents
f 0644 0:0 3 third_file =meh



=== TEST 22: a client that goes away mid-stream
--- config
    squash_location {
    }

    location /_registry/ {
        internal;
        alias $TEST_NGINX_FIXTURES/semantics/registry/;
    }
--- request
HEAD /squash/sem/many/v1
--- squash_client_abort: /squash/sem/many/v1
--- no_error_log
[alert]
--- timeout: 60
