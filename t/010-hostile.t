# Hostile layers and registries (issue "one view of every layer"): the
# module reads each layer as Go's archive/tar does, so that the squashed
# tree is the one the runtimes unpack from the original (umoci here), or
# it fails where they fail: before the header with a clear status, or
# after it with an aborted transfer.  The layers come from
# t/fixtures/hostile-layers.py, the images from t/fixtures/hostile.spec.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SquashTest;

# --- registry: files (the hostile fixtures, the default), stall (a
# registry that stalls after its headers, proxy_read_timeout 1s; with
# proxy_buffering off, or on: stall-buffered), dribble (the hostile
# fixtures 5 bytes at a time, proxy_buffering off) or
# docker (docker-registry); --- hostname: what squash_hostname says
my %registry = (
    files => 'alias $TEST_NGINX_FIXTURES/hostile/registry/;',
    stall => 'proxy_pass http://127.0.0.1:$TEST_NGINX_STALL_PORT/;
        proxy_buffering off;
        proxy_read_timeout 1s;',
    'stall-buffered' => 'proxy_pass http://127.0.0.1:$TEST_NGINX_STALL_PORT/;
        proxy_read_timeout 1s;',
    docker => 'proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/;
        proxy_buffering off;',
    dribble => 'proxy_pass http://127.0.0.1:$TEST_NGINX_STALL_PORT/dribble/;
        proxy_buffering off;',
);

add_block_preprocessor(sub {
    my $block = shift;

    return if defined $block->config;

    my $upstream = $registry{SquashTest::trimmed($block->registry)
                             || 'files'};
    my $hostname = defined $block->hostname
        ? 'squash_hostname ' . SquashTest::trimmed($block->hostname) . ';'
        : '';

    $block->set_value('config', <<END);
    squash_location {
        $hostname
    }

    location /_registry/ {
        internal;
        $upstream
    }
END
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: directories, a TypeRegA "dir/" and a fifo that declare sizes
Their "data" holds entries (a "secret", an etc/passwd) that Go reads as
entries and that the upper layer deletes: the squashed tree is the
runtimes' tree, with no secret.
--- request
GET /squash/hostile/dirsize/v1
--- squash_check: complete
--- squash_same_as_umoci: hostile hostile/dirsize:v1
--- squash_layer
d 0755 0:0 0 etc/
f 0644 0:0 22 etc/passwd =evil:x:0:0::/:/bin/sh\n
p 0644 0:0 0 fifo
f 0644 0:0 5 keep =kept\n
d 0755 0:0 0 yy/
d 0755 0:0 0 zz/
--- no_error_log
[error]
[alert]



=== TEST 2: a pax size near 2^64: the transfer aborts
--- request
GET /squash/hostile/paxsize/v1
--- squash_check: incomplete
--- error_log
bad pax value before offset



=== TEST 3: a base-256 size near 2^64: the transfer aborts
--- request
GET /squash/hostile/b256size/v1
--- squash_check: incomplete
--- error_log
bad tar size field at offset 0



=== TEST 4: the last entry without padding or end blocks (umoci insert)
--- request
GET /squash/hostile/unpadded/v1
--- squash_check: complete
--- squash_same_as_umoci: hostile hostile/unpadded:v1
--- squash_layer
d 0755 0:0 0 a/
f 0644 0:0 11 a/new =hello world
f 0644 0:0 2 b =b\n
--- no_error_log
[error]
[alert]



=== TEST 5: an uncompressed layer that claims 2^62 bytes: 502, no header
--- request
GET /squash/hostile/plainhuge/v1
--- error_code: 502
--- error_log
the registry's blob has 2560 bytes, its descriptor says 4611686018427387904



=== TEST 6: an uncompressed layer that claims 10 MiB more: 502
--- request
GET /squash/hostile/plainmore/v1
--- error_code: 502
--- error_log
the registry's blob has 2560 bytes, its descriptor says 10487296



=== TEST 7: an uncompressed layer that claims less: 502
--- request
GET /squash/hostile/plainless/v1
--- error_code: 502
--- error_log
the registry's blob has 2560 bytes, its descriptor says 1024



=== TEST 8: an honest uncompressed layer: its exact size, no padding
--- request
GET /squash/hostile/plainok/v1
--- squash_check: complete
--- squash_same_as_umoci: hostile hostile/plainok:v1
--- no_error_log
[error]



=== TEST 9: a diff_id that is no digest: 502 before the header
--- request
GET /squash/hostile/diffid/v1
--- error_code: 502
--- error_log
diff_id 1 is not a sha256 digest



=== TEST 10: a layer whose tar is not the config's diff_id: the transfer aborts
Its size is known before its tar is read (the gzip trailer's), so the
header goes out; the tar is checked when the layer ends (with
squash_thread_pool, in the event loop from what the thread inflated).
--- request
GET /squash/hostile/wrongdiff/v1
--- squash_check: incomplete
--- error_log eval
qr/squash: layer sha256:[0-9a-f]{64}: its tar is sha256:[0-9a-f]{64}, not the diff_id sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 of the config, aborting/



=== TEST 11: a registry that stalls in the manifest: 504
--- registry: stall
--- request
GET /squash/stall/manifest/v1
--- error_code: 504
--- error_log
manifest of "stall/manifest": the registry timed out
--- timeout: 10



=== TEST 12: a registry that stalls in the config: 504
--- registry: stall-buffered
--- request
GET /squash/stall/config/v1
--- error_code: 504
--- error_log
config of "stall/config": the registry timed out
--- timeout: 10



=== TEST 13: a host name that is no image domain: 400
(Through a header of its own: nginx itself refuses such a Host.)
--- registry: docker
--- hostname: $http_x_edge
--- request
GET /squash/registry/five/v1
--- more_headers
X-Edge: a"}
--- error_code: 400
--- error_log
"a"}/registry/five" is not a valid image name



=== TEST 14: a host name that is not UTF-8: 400
--- registry: docker
--- hostname: $http_x_edge
--- request
GET /squash/registry/five/v1
--- more_headers eval
"X-Edge: edge\xff.example.com"
--- error_code: 400
--- error_log
is not a valid image name



=== TEST 15: a good host name with a port makes the names
--- registry: docker
--- hostname: $http_x_edge
--- request
GET /squash/registry/five/v1
--- more_headers
X-Edge: Edge-1.example.com:8443
--- squash_check: complete
--- squash_file: manifest.json
--- squash_file_like: "RepoTags":\["Edge-1.example.com:8443/registry/five:v1.squash"\]



=== TEST 16: a tag too long once ".squash" is added: 400
--- request eval
"GET /squash/hostile/plainok/" . ("t" x 125)
--- error_code: 400
--- error_log
is not a valid image tag



=== TEST 17: a layer of 1,000,000 files with the default squash_merge_memory
(Path bookkeeping used to run out at 262,144 paths.)
--- request
HEAD /squash/hostile/million/v1
--- squash_download: /squash/hostile/million/v1
--- no_error_log
[error]
--- timeout: 120



=== TEST 18: a gzip header with FHCRC, as Go reads it, in pieces
The module reads a gzip member's header itself, with either inflater: the
header's CRC16 is checked.  ISA-L refused a right one when the header came
in more than one piece (as a registry's packets may cut it): the registry
here sends 5 bytes at a time.  The squashed tree is umoci's.
--- registry: dribble
--- request
GET /squash/hostile/gzhcrc/v1
--- squash_check: complete
--- squash_same_as_umoci: hostile hostile/gzhcrc:v1
--- no_error_log
[error]
[alert]



=== TEST 19: a gzip header with FEXTRA, and a FNAME and FCOMMENT of 511 bytes
--- registry: dribble
--- request
GET /squash/hostile/gzfields/v1
--- squash_check: complete
--- squash_same_as_umoci: hostile hostile/gzfields:v1
--- no_error_log
[error]
[alert]



=== TEST 20: a gzip file name of 512 bytes, which Go refuses: the transfer aborts
--- request
GET /squash/hostile/gzname/v1
--- squash_check: incomplete
--- error_log eval
qr/squash: layer sha256:[0-9a-f]{64}: gzip member 1: file name over 511 bytes, aborting/
