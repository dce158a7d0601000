# Squashing images pushed to a real docker-registry (started by t/run-suite
# on $TEST_NGINX_REGISTRY_PORT), through the contract configuration: the
# archive layout, the merged tree against `umoci unpack`, `podman load`.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SquashTest;

# the manifest digests squash-mkimage printed, for pulls by digest
open my $fh, '<', "$ENV{TEST_NGINX_FIXTURES}/registry.images" or die $!;
while (<$fh>) {
    my ($ref, $digest) = split;
    (my $var = uc "TEST_NGINX_DIGEST_$ref") =~ s/[^A-Z0-9]+/_/g;
    $ENV{$var} = $digest;
}
close $fh;

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('config', <<'END') unless defined $block->config;
    squash_location {
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/;
        proxy_buffering off;
    }
END
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: five gzip layers: Quay's endpoint case, archive layout
--- request
GET /squash/registry/five/v1
--- response_headers
Content-Type: application/x-tar
Content-Disposition: attachment; filename="registry_five_v1.squash.tar"
--- squash_check: complete
--- squash_list
f repositories
d <id>/
f <id>/VERSION
f <id>/json
f <id>/layer.tar
f blobs/sha256/<digest>
f manifest.json
f oci-layout
l blobs/sha256/<digest> => ../../<id>/layer.tar
f blobs/sha256/<digest>
f index.json
--- squash_layer
f 0644 0:0 16 contents =layer 5 contents
d 0755 0:0 0 home/
d 0700 1000:1000 0 home/user/
f 0600 1000:1000 11 home/user/.profile =export A=1\n
d 0755 0:0 0 srv/
f 0644 0:0 12 srv/file1 =from-layer-3
f 0644 0:0 12 srv/file2 =from-layer-2
f 0644 0:0 12 srv/file3 =from-layer-4
f 0644 0:0 12 srv/file4 =from-layer-5
l 0777 0:0 0 srv/latest => file4
f 0755 0:0 10 srv/run =#!/bin/sh\n
d 0755 0:0 0 usr/
d 0755 0:0 0 usr/bin/
f 4755 0:0 6 usr/bin/tool =binary
--- no_error_log
[error]
[alert]



=== TEST 2: five gzip layers: the tree umoci unpacks from the original
--- request
GET /squash/registry/five/v1
--- squash_check: complete
--- squash_same_as_umoci: registry registry/five:v1



=== TEST 3: five gzip layers: podman load accepts it
--- request
GET /squash/registry/five/v1
--- squash_podman_load: localhost/registry/five:v1.squash



=== TEST 4: legacy entries as Quay wrote them
--- request
GET /squash/registry/five/v1
--- squash_file: <id>/VERSION
--- squash_file_like: ^1\.0$



=== TEST 5: V1 json keeps the leaf config with our id
--- request
GET /squash/registry/five/v1
--- squash_file: <id>/json
--- squash_file_like: "config":\{.*"foo":"bar".*\}.*"id":"[0-9a-f]{64}"



=== TEST 6: repositories names the squashed tag
--- request
GET /squash/registry/five/v1
--- squash_file: repositories
--- squash_file_like: ^\{"localhost/registry/five":\{"v1\.squash":"[0-9a-f]{64}"\}\}$



=== TEST 7: manifest.json names the config, the tag and the layer
--- request
GET /squash/registry/five/v1
--- squash_file: manifest.json
--- squash_file_like: ^\[\{"Config":"blobs/sha256/[0-9a-f]{64}","Layers":\["[0-9a-f]{64}/layer\.tar"\],"RepoTags":\["localhost/registry/five:v1\.squash"\]\}\]$



=== TEST 8: pull by digest
--- request eval
"GET /squash/registry/five/$ENV{TEST_NGINX_DIGEST_REGISTRY_FIVE_V1}"
--- squash_check: complete
--- squash_file: manifest.json
--- squash_file_like: "RepoTags":\["localhost/registry/five:sha256-[0-9a-f]{12}\.squash"\]



=== TEST 9: docker schema2 media types, whiteouts and an opaque dir
--- request
GET /squash/registry/docker/v1
--- squash_check: complete
--- squash_same_as_umoci: registry registry/docker:v1
--- squash_layer
d 0755 0:0 0 etc/
f 0644 0:0 1 etc/a =a
f 0644 0:0 1 etc/c =c
d 0755 0:0 0 var/lib/app/
f 0644 0:0 3 var/lib/app/fresh =new



=== TEST 10: docker schema2: podman load accepts it
--- request
GET /squash/registry/docker/v1
--- squash_podman_load: localhost/registry/docker:v1.squash



=== TEST 11: plain tar and gzip layers mixed
--- request
GET /squash/registry/mixed/v1
--- squash_check: complete
--- squash_same_as_umoci: registry registry/mixed:v1
--- squash_layer
f 0644 0:0 2 gzip-middle =gz
f 0644 0:0 5 plain-bottom =plain
f 0644 0:0 5 plain-top =plain
f 0644 0:0 6 shared =middle



=== TEST 12: unknown tag
--- request
GET /squash/registry/five/nope
--- error_code: 404
--- error_log
squash: manifest "registry/five:nope" not found



=== TEST 13: unknown repository
--- request
GET /squash/registry/none/v1
--- error_code: 404



=== TEST 14: registry down
--- config
    squash_location {
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:1/;
    }
--- request
GET /squash/registry/five/v1
--- error_code: 502
--- error_log
squash: manifest of "registry/five": registry answered 502



=== TEST 15: a blob replaced in the registry's storage never completes
t/run-suite changed the OS byte of the top layer's gzip header in the
registry's storage: the same length and tar, another digest.
--- request
GET /squash/registry/tamper/v1
--- squash_check: incomplete
--- error_log eval
qr/squash: layer sha256:[0-9a-f]{64}: the blob's digest is sha256:[0-9a-f]{64}, aborting/



=== TEST 16: a blob replaced by one of another length: 502 before the header
t/run-suite put another valid gzip tar in the place of the top layer's blob;
the size probe's Content-Range tells its length.
--- request
GET /squash/registry/tamperlen/v1
--- error_code: 502
--- error_log eval
qr/squash: layer sha256:[0-9a-f]{64}: the registry's blob has \d+ bytes, its descriptor says \d+/
