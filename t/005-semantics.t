# Merge semantics against an independent flattener: each image of
# t/fixtures/semantics.spec squashed through nginx must extract to the tree
# `umoci unpack` makes of the original layers (types, modes, owners, sizes,
# contents, link targets, hard-link groups, xattrs).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SquashTest;

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('config', <<'END') unless defined $block->config;
    squash_location {
    }

    location /_registry/ {
        internal;
        alias $TEST_NGINX_FIXTURES/semantics/registry/;
    }
END

    $block->set_value('squash_check', 'complete')
        unless defined $block->squash_check;
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: links to a deleted file (Quay 27, 28): a second pass over the layer
--- request
GET /squash/sem/links-deleted/v1
--- squash_same_as_umoci: semantics sem/links-deleted:v1
--- squash_layer
h 0644 0:0 0 another_link_to_deleted_file -> link_to_deleted_file
f 0644 0:0 12 link_to_deleted_file =somecontents
f 0644 0:0 3 third_file =meh
--- debug_log
hard links need the layer again



=== TEST 2: a link whose target is replaced above keeps the old data
--- request
GET /squash/sem/links-shadowed/v1
--- squash_same_as_umoci: semantics sem/links-shadowed:v1
--- squash_layer
d 0755 0:0 0 etc/
f 0640 7:8 8 etc/alias =old data
f 0644 0:0 8 etc/target =new data



=== TEST 3: a link to a lower layer follows its target; a chain resolves
--- request
GET /squash/sem/links-lower/v1
--- squash_same_as_umoci: semantics sem/links-lower:v1
--- squash_layer
f 0755 0:0 2 bin/tool =v1
h 0755 0:0 0 bin/tool-alias -> bin/tool
f 0644 0:0 7 lib/b =chained
h 0644 0:0 0 lib/c -> lib/b
f 0644 0:0 1 lib/other =x



=== TEST 4: opaque markers before and after their siblings
--- request
GET /squash/sem/opaque/v1
--- squash_same_as_umoci: semantics sem/opaque:v1
--- squash_layer
d 0755 0:0 0 a/
f 0644 0:0 2 a/new1 =n1
d 0755 0:0 0 b/
f 0644 0:0 2 b/new2 =n2



=== TEST 5: a file and a symlink replace directories; a directory a file
--- request
GET /squash/sem/replace/v1
--- squash_same_as_umoci: semantics sem/replace:v1
--- squash_layer
f 0644 0:0 10 x =now-a-file
l 0777 0:0 0 y => x
d 0755 0:0 0 z/
f 0644 0:0 1 z/inner =3



=== TEST 6: long names (pax, GNU), xattrs, setuid with non-root owners
--- request
GET /squash/sem/headers/v1
--- squash_same_as_umoci: semantics sem/headers:v1



=== TEST 7: empty and whiteout-only layers, duplicates, ./ and / prefixes
--- request
GET /squash/sem/odd/v1
--- squash_same_as_umoci: semantics sem/odd:v1



=== TEST 8: tens of thousands of paths
--- request
GET /squash/sem/many/v1
--- squash_same_as_umoci: semantics sem/many:v1
--- timeout: 60



=== TEST 9: names escaping the root are dropped with a warning
--- request
GET /squash/sem/unsafe/v1
--- squash_layer
f 0644 0:0 1 fine =z
l 0777 0:0 0 up => ../../etc
--- error_log
dropped entry "../escape" of layer 1: its name escapes the root
dropped entry "ok/../../escape2" of layer 1: its name escapes the root
dropped hard link "sneaky" of layer 1: its target "../outside" is outside the root



=== TEST 10: path bookkeeping over squash_merge_memory aborts the stream
--- config
    squash_location {
        squash_merge_memory 256k;
    }

    location /_registry/ {
        internal;
        alias $TEST_NGINX_FIXTURES/semantics/registry/;
    }
--- request
GET /squash/sem/many/v1
--- squash_check: incomplete
--- error_log eval
qr/squash: layer sha256:[0-9a-f]{64}: path bookkeeping exceeds 262144 bytes after \d+ paths, aborting/



=== TEST 11: directories that lower layers' entries went into are restated
GNU tar (and umoci) set a directory's times as they leave it: written again
at the end, a/ and a/b/ get the upper layer's mtime, mode and owner.
--- request
GET /squash/sem/dirtimes/v1
--- squash_same_as_umoci: semantics sem/dirtimes:v1
--- squash_dir_times: semantics sem/dirtimes:v1
