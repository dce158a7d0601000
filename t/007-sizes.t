# Exact sizes and HTTP semantics: Content-Length kept, HEAD, ETag and 304,
# padding bounds, the size cache, estimates that fail, layers over 4 GiB.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SquashTest;

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', <<'END')
    log_format squash '$squash_layer_size $squash_padding $squash_size_source '
                      '$squash_layers $squash_dropped $status';
    squash_size_cache zone=sizes:1m;
END
        unless defined $block->http_config;

    my $config = <<'END';
    squash_location {
        access_log logs/squash-BLOCK.log squash;
    }

    location ~ ^/exact/(?<sq_name>.+)/(?<sq_ref>[^/]+)$ {
        squash $sq_name $sq_ref;
        squash_registry /_registry;
        squash_layer_size exact;
        access_log logs/squash-BLOCK.log squash;
    }

    location /_registry/v2/registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/v2/registry/;
        proxy_buffering off;
    }

    location /_registry/v2/sizes/ {
        internal;
        alias $TEST_NGINX_FIXTURES/sizes/registry/v2/sizes/;
    }

    location /_registry/v2/huge/ {
        internal;
        alias $TEST_NGINX_FIXTURES/huge/registry/v2/sizes/huge/;
    }
END

    # one access log per block
    my $seq = $block->seq_num;
    $config =~ s/BLOCK/$seq/g;

    $block->set_value('config', $config) unless defined $block->config;
});

# the size's source, the padding and the digest of layer.tar
our $DigestLog = <<'END';
    log_format squash '$squash_size_source $squash_padding '
                      '$squash_layer_digest $status';
    squash_size_cache zone=sizes:1m;
END

no_shuffle();
run_tests();

__DATA__

=== TEST 1: HEAD and GET agree; GET keeps the Content-Length it sends
--- request
GET /squash/registry/five/v1
--- squash_check: complete
--- squash_head_matches: /squash/registry/five/v1



=== TEST 2: size probes run side by side, squash_size_probes at a time
--- request
GET /squash/registry/five/v1
--- squash_check: complete
--- debug_log
squash: size probe of layer 4, 4 in flight
--- no_debug_log
5 in flight



=== TEST 3: squash_size_probes 1: one probe at a time
--- config
    squash_location {
        squash_size_probes 1;
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/;
    }
--- request
GET /squash/registry/five/v1
--- squash_check: complete
--- debug_log
squash: size probe of layer 5, 1 in flight
--- no_debug_log
2 in flight



=== TEST 4: ETag, If-None-Match and 304
--- request
GET /squash/registry/five/v1
--- response_headers_like
ETag: "[0-9a-f]{32}"
--- squash_304: /squash/registry/five/v1



=== TEST 5: padding from ISIZE is small; the size cache skips the probes, the bytes stay
--- request
GET /squash/registry/five/v1
--- squash_check: complete
--- squash_identical: /squash/registry/five/v1
--- squash_padding_within: 1 65536
--- squash_access_log
^(\d+) ([1-9]\d*) isize 5 \d+ 200$
^\d+ [1-9]\d* cache 5 \d+ 200$



=== TEST 6: squash_layer_size exact: counted first, no padding; then from the cache
--- request
GET /exact/registry/five/v1
--- squash_check: complete
--- squash_identical: /exact/registry/five/v1
--- squash_access_log
^\d+ 0 merge 5 \d+ 200$
^\d+ 0 cache 5 \d+ 200$



=== TEST 7: an estimate that is too low aborts, and the next download counts
The layer is two gzip members: the last one's ISIZE covers a few KiB of the
1 MiB it holds.
--- request
GET /squash/sizes/split/v1
--- squash_check: incomplete
--- error_log eval
qr/squash: "sizes\/split": merged layer exceeds the promised \d+ bytes, aborting/
--- squash_then: /squash/sizes/split/v1
--- squash_access_log
^\d+ - isize 1 \d+ 200$
^\d+ \d+ count 1 \d+ 200$



=== TEST 8: without a size cache a low estimate still never completes
--- http_config
    log_format squash '$squash_layer_size $squash_padding $squash_size_source '
                      '$squash_layers $squash_dropped $status';
--- request
GET /squash/sizes/split/v1
--- squash_check: incomplete
--- error_log
merged layer exceeds the promised



=== TEST 9: zstd layers are counted
--- request
GET /squash/sizes/zstd/v1
--- squash_check: complete
--- squash_layer
f 0644 0:0 8 a =zstd-top
f 0644 0:0 100000 b sha256:6d89b2c15676a4c3
--- squash_access_log
^\d+ \d+ count 2 \d+ 200$



=== TEST 10: squash_size_fallback fail refuses what it cannot size up front
--- config
    squash_location {
        squash_size_fallback fail;
    }

    location /_registry/v2/sizes/ {
        internal;
        alias $TEST_NGINX_FIXTURES/sizes/registry/v2/sizes/;
    }
--- request
GET /squash/sizes/zstd/v1
--- error_code: 502
--- error_log
squash_size_fallback is "fail"



=== TEST 11: squash_size_fallback count: a layer over 4 GiB inflated, the size holds
--- config
    squash_location {
        squash_size_fallback count;
        access_log logs/squash-11.log squash;
    }

    location /_registry/v2/huge/ {
        internal;
        alias $TEST_NGINX_FIXTURES/huge/registry/v2/sizes/huge/;
    }
--- request
HEAD /squash/huge/v1
--- squash_download: /squash/huge/v1
--- squash_access_log
^\d+ - count 1 \d+ 200$
^\d+ \d+ count 1 \d+ 200$
--- timeout: 600



=== TEST 12: squash_size_fallback smallest (the default with a size cache): that layer is cut short once, then counted
Its 5 MiB of gzip may inflate to 1 GiB or to 5 GiB: the smallest is wrong.
--- request
HEAD /squash/huge/v1
--- squash_download
/squash/huge/v1 incomplete
/squash/huge/v1
--- error_log eval
qr/squash: "huge": merged layer exceeds the promised 1073753088 bytes, aborting/
--- squash_access_log
^1073753088 - smallest 1 \d+ 200$
^1073753088 - smallest 1 \d+ 200$
^5368720384 \d+ count 1 \d+ 200$
--- timeout: 600



=== TEST 13: squash_yield_after 4k: a count gives the worker back too, and counts the same
--- config
    squash_location {
        squash_yield_after 4k;
        access_log logs/squash-13.log squash;
    }

    location /_registry/v2/sizes/ {
        internal;
        alias $TEST_NGINX_FIXTURES/sizes/registry/v2/sizes/;
        output_buffers 1 4k;
    }
--- request
GET /squash/sizes/zstd/v1
--- squash_check: complete
--- squash_layer
f 0644 0:0 8 a =zstd-top
f 0644 0:0 100000 b sha256:6d89b2c15676a4c3
--- squash_access_log
^\d+ \d+ count 2 \d+ 200$
--- debug_log
squash: yielding after
squash: resumed



=== TEST 14: a layer streamed once sizes every image that has it, and its tar is not hashed again
--- request
GET /squash/sizes/base/v1
--- squash_check: complete
--- squash_then: /squash/sizes/derived/v1
--- squash_access_log
^\d+ \d+ isize 1 \d+ 200$
^\d+ \d+ isize\+layer 2 \d+ 200$
--- debug_log
inflated to its diff_id before



=== TEST 15: smallest is the default where only the location has a size cache
--- http_config
    log_format squash '$squash_layer_size $squash_padding $squash_size_source '
                      '$squash_layers $squash_dropped $status';
--- config
    squash_location {
        squash_size_cache zone=here:1m;
        access_log logs/squash-15.log squash;
    }

    location /_registry/v2/huge/ {
        internal;
        alias $TEST_NGINX_FIXTURES/huge/registry/v2/sizes/huge/;
    }
--- request
HEAD /squash/huge/v1
--- squash_access_log
^1073753088 - smallest 1 \d+ 200$



=== TEST 16: and count where there is none
--- http_config
    log_format squash '$squash_layer_size $squash_padding $squash_size_source '
                      '$squash_layers $squash_dropped $status';
--- config
    squash_location {
        access_log logs/squash-16.log squash;
    }

    location /_registry/v2/huge/ {
        internal;
        alias $TEST_NGINX_FIXTURES/huge/registry/v2/sizes/huge/;
    }
--- request
HEAD /squash/huge/v1
--- squash_access_log
^5368720384 - count 1 \d+ 200$
--- timeout: 120



=== TEST 17: a warm download has layer.tar's digest from the size cache and does not hash it again, with padding
--- http_config eval
$::DigestLog
--- request
GET /squash/registry/five/v1
--- squash_check: complete
--- squash_identical: /squash/registry/five/v1
--- squash_access_log
^isize [1-9]\d* sha256:[0-9a-f]{64} 200$
^cache [1-9]\d* sha256:[0-9a-f]{64} 200$
--- debug_log
, from the size cache



=== TEST 18: and without: exact, whose counting pass makes the digest the archive keeps
--- http_config eval
$::DigestLog
--- request
GET /exact/registry/five/v1
--- squash_check: complete
--- squash_identical: /exact/registry/five/v1
--- squash_access_log
^merge 0 sha256:[0-9a-f]{64} 200$
^cache 0 sha256:[0-9a-f]{64} 200$
--- debug_log
, from the size cache
