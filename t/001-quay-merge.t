# Quay's stream layer merger cases 1-24 (../shared/cases/quay-merge-cases.md),
# squashed through nginx from images served as static files laid out like the
# registry API (fixtures: t/fixtures/quay.spec).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SquashTest;

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('config', <<'END') unless defined $block->config;
    squash_location {
    }

    location ~ ^/exact/(?<sq_name>.+)/(?<sq_ref>[^/]+)$ {
        squash $sq_name $sq_ref;
        squash_registry /_registry;
        squash_layer_size exact;
    }

    location /_registry/ {
        internal;
        alias $TEST_NGINX_FIXTURES/quay/registry/;
    }
END

    $block->set_value('squash_check', 'complete')
        unless defined $block->squash_check || defined $block->error_code;
});

no_shuffle();
run_tests();

__DATA__
=== TEST 1: single layer
--- request
GET /squash/quay/case1/latest
--- squash_layer
f 0644 0:0 3 another_file =bar
f 0644 0:0 3 some_file =foo
f 0644 0:0 3 third_file =meh
--- no_error_log
[error]
[alert]


=== TEST 2: multiple layers
--- request
GET /squash/quay/case2/latest
--- squash_layer
f 0644 0:0 3 another_file =bar
f 0644 0:0 3 some_file =foo
f 0644 0:0 3 third_file =meh
f 0644 0:0 3 top_file =top
--- no_error_log
[error]
[alert]


=== TEST 3: multiple layers, dot
--- request
GET /squash/quay/case3/latest
--- squash_layer
f 0644 0:0 3 ./some_file =foo
f 0644 0:0 3 ./third_file =meh
f 0644 0:0 3 another_file =bar
f 0644 0:0 3 top_file =top
--- no_error_log
[error]
[alert]


=== TEST 4: overwrite
--- request
GET /squash/quay/case4/latest
--- squash_layer
f 0644 0:0 3 another_file =top
f 0644 0:0 3 some_file =foo
f 0644 0:0 3 third_file =meh
--- no_error_log
[error]
[alert]


=== TEST 5: overwrite, base dot
--- request
GET /squash/quay/case5/latest
--- squash_layer
f 0644 0:0 3 another_file =top
f 0644 0:0 3 some_file =foo
f 0644 0:0 3 third_file =meh
--- no_error_log
[error]
[alert]


=== TEST 6: overwrite, top dot
--- request
GET /squash/quay/case6/latest
--- squash_layer
f 0644 0:0 3 ./another_file =top
f 0644 0:0 3 some_file =foo
f 0644 0:0 3 third_file =meh
--- no_error_log
[error]
[alert]


=== TEST 7: deleted file
--- request
GET /squash/quay/case7/latest
--- squash_layer
f 0644 0:0 3 some_file =foo
f 0644 0:0 3 third_file =meh
--- no_error_log
[error]
[alert]


=== TEST 8: deleted, re-added
--- request
GET /squash/quay/case8/latest
--- squash_layer
f 0644 0:0 8 another_file =newagain
f 0644 0:0 3 some_file =foo
f 0644 0:0 3 third_file =meh
--- no_error_log
[error]
[alert]


=== TEST 9: deleted in lower layer
--- request
GET /squash/quay/case9/latest
--- squash_layer
f 0644 0:0 3 some_file =foo
f 0644 0:0 3 third_file =meh
f 0644 0:0 3 top_file =top
--- no_error_log
[error]
[alert]


=== TEST 10: deleted, added with dot
--- request
GET /squash/quay/case10/latest
--- squash_layer
--- no_error_log
[error]
[alert]


=== TEST 11: deleted with dot
--- request
GET /squash/quay/case11/latest
--- squash_layer
--- no_error_log
[error]
[alert]


=== TEST 12: directory
--- request
GET /squash/quay/case12/latest
--- squash_layer
f 0644 0:0 3 foo/another_file =bar
f 0644 0:0 3 foo/some_file =top
--- no_error_log
[error]
[alert]


=== TEST 13: sub directory
--- request
GET /squash/quay/case13/latest
--- squash_layer
f 0644 0:0 3 foo/bar/another_file =bar
f 0644 0:0 3 foo/some_file =top
--- no_error_log
[error]
[alert]


=== TEST 14: delete directory
--- request
GET /squash/quay/case14/latest
--- squash_layer
--- no_error_log
[error]
[alert]


=== TEST 15: delete sub directory
--- request
GET /squash/quay/case15/latest
--- squash_layer
f 0644 0:0 3 foo/some_file =foo
--- no_error_log
[error]
[alert]


=== TEST 16: same, dot in top
--- request
GET /squash/quay/case16/latest
--- squash_layer
f 0644 0:0 3 foo/some_file =foo
--- no_error_log
[error]
[alert]


=== TEST 17: same, dot in base
--- request
GET /squash/quay/case17/latest
--- squash_layer
f 0644 0:0 3 ./foo/some_file =foo
--- no_error_log
[error]
[alert]


=== TEST 18: delete dir, recreate
--- request
GET /squash/quay/case18/latest
--- squash_layer
f 0644 0:0 3 foo/some_file =baz
--- no_error_log
[error]
[alert]


=== TEST 19: delete dir, prefix sibling
--- request
GET /squash/quay/case19/latest
--- squash_layer
f 0644 0:0 3 foobar/some_file =foo
--- no_error_log
[error]
[alert]


=== TEST 20: pre-prefix
--- request
GET /squash/quay/case20/latest
--- squash_layer
f 0644 0:0 3 foobar/baz/some_file =foo
--- no_error_log
[error]
[alert]


=== TEST 21: delete root directory
--- request
GET /squash/quay/case21/latest
--- squash_layer
--- no_error_log
[error]
[alert]


=== TEST 22: empty tar layer
--- request
GET /squash/quay/case22/latest
--- squash_layer
f 0644 0:0 3 build/first_file =foo
f 0644 0:0 3 build/second_file =bar
--- no_error_log
[error]
[alert]


=== TEST 23: zero-byte layer blob
--- request
GET /squash/quay/case23/latest
--- squash_layer
f 0644 0:0 3 build/first_file =foo
f 0644 0:0 3 build/second_file =bar
--- no_error_log
[error]
[alert]


=== TEST 24: broken gzip layer: refused before the header
Its last four bytes cannot be a gzip ISIZE, so the layer is inflated to count
its size, which fails: a 502, never a complete archive.
--- request
GET /squash/quay/case24/latest
--- error_code: 502
--- response_body_like: 502 Bad Gateway
--- error_log eval
qr/squash: counting ".*": gzip member 1: incorrect header check/
--- no_error_log
[alert]



=== TEST 25: broken plain tar layer: the stream aborts, never a complete archive
--- request
GET /squash/quay/case24plain/latest
--- squash_check: incomplete
--- error_log eval
qr/squash: layer sha256:[0-9a-f]{64}: tar stream truncated after 14 bytes, aborting/
--- no_error_log
[alert]



=== TEST 26: the same layer with squash_layer_size exact: 502 before the header
The counting pass meets the broken layer before any byte is sent.
--- request
GET /exact/quay/case24plain/latest
--- error_code: 502
--- error_log eval
qr/squash: layer sha256:[0-9a-f]{64}: tar stream truncated after 14 bytes, aborting/
--- no_error_log
[alert]



=== TEST 27: squash_layer_size exact merges the same tree
--- request
GET /exact/quay/case2/latest
--- squash_layer
f 0644 0:0 3 another_file =bar
f 0644 0:0 3 some_file =foo
f 0644 0:0 3 third_file =meh
f 0644 0:0 3 top_file =top
