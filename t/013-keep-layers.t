# squash_keep_layers on the /squash/ endpoint: the archive holds the bottom
# layers as the registry has them (their blobs, compressed or not, and
# digests) and one merged layer on top, a diff over them.  docker load,
# podman load and skopeo (docker-archive: and oci-archive:) each give the
# tree `umoci unpack` gives of the original image; the same bytes every
# time; ranges across the kept blobs; a kept blob that is not the one its
# descriptor names cuts the transfer short.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SquashTest;

use File::Copy ();
use File::Path ();
use File::Temp ();
use JSON::PP ();

# registry/layered served as files, its base layer's blob changed: to
# other bytes of the same length (tampered), and one byte longer (longer)
my $Tampered = File::Temp->newdir;

for my $how (qw(tampered longer)) {
    my $from = "$ENV{TEST_NGINX_FIXTURES}/registry/registry/v2/registry/"
               . "layered";
    my $to = "$Tampered/v2/registry/layered-$how";

    File::Path::make_path("$to/manifests", "$to/blobs");
    for my $dir (qw(manifests blobs)) {
        opendir my $dh, "$from/$dir" or die "$from/$dir: $!";
        for my $f (grep { !/^\./ } readdir $dh) {
            File::Copy::copy("$from/$dir/$f", "$to/$dir/$f") or die $!;
        }
        closedir $dh;
    }

    open my $fh, '<', "$to/manifests/v1" or die $!;
    my $base = JSON::PP::decode_json(join '', <$fh>)->{layers}[0]{digest};
    close $fh;

    open $fh, '<:raw', "$to/blobs/$base" or die $!;
    my $blob = join '', <$fh>;
    close $fh;

    if ($how eq 'tampered') {
        substr($blob, length($blob) / 2, 1) ^= "\x01";
    } else {
        $blob .= "\0";
    }

    unlink "$to/blobs/$base";
    open $fh, '>:raw', "$to/blobs/$base" or die $!;
    print $fh $blob;
    close $fh;
}

$ENV{TEST_NGINX_TAMPERED} = "$Tampered";

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('config', <<'END') unless defined $block->config;
    squash_location {
        squash_keep_layers 1;
    }

    location ~ ^/keep3/(?<sq_name>.+)/(?<sq_ref>[^/]+)$ {
        squash $sq_name $sq_ref;
        squash_registry /_registry;
        squash_keep_layers 3;
    }

    location ~ ^/all/(?<sq_name>.+)/(?<sq_ref>[^/]+)$ {
        squash $sq_name $sq_ref;
        squash_registry /_registry;
    }

    location ~ ^/tampered/(?<sq_name>.+)/(?<sq_ref>[^/]+)$ {
        squash $sq_name $sq_ref;
        squash_registry /_tampered;
        squash_keep_layers 1;
    }

    location /_tampered/ {
        internal;
        alias $TEST_NGINX_TAMPERED/;
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

=== TEST 1: squash_keep_layers 1: the base layer's blob as it is, the
others merged on top as a diff; every client
--- request
GET /squash/registry/layered/v1
--- squash_check: complete
--- squash_list
f repositories
d <id>/
f <id>/VERSION
f <id>/json
f <id>/layer.tar
d <id>/
f <id>/VERSION
f <id>/json
f <id>/layer.tar
f blobs/sha256/<digest>
f manifest.json
f oci-layout
l blobs/sha256/<digest> => ../../<id>/layer.tar
l blobs/sha256/<digest> => ../../<id>/layer.tar
f blobs/sha256/<digest>
f index.json
--- squash_archives
podman /squash/registry/layered/v1 registry registry/layered:v1 1
docker /squash/registry/layered/v1 registry registry/layered:v1 1
docker-archive /squash/registry/layered/v1 registry registry/layered:v1 1
oci-archive /squash/registry/layered/v1 registry registry/layered:v1 1
--- timeout: 120



=== TEST 2: squash_keep_layers 3 of five layers, and more than an image
has (all but its top one kept)
--- request
GET /keep3/registry/five/v1
--- squash_check: complete
--- squash_archives
docker /keep3/registry/five/v1 registry registry/five:v1 3
podman /keep3/registry/five/v1 registry registry/five:v1 3
oci-archive /keep3/registry/five/v1 registry registry/five:v1 3
docker-archive /keep3/registry/layered/v1 registry registry/layered:v1 3
oci-archive /keep3/registry/mid/v1 registry registry/mid:v1 3
--- timeout: 120



=== TEST 3: every registry image: gzip and plain tar blobs kept, Docker
media types, a platform of an index
--- request
GET /squash/registry/mixed/v1
--- squash_check: complete
--- squash_archives
oci-archive /squash/registry/mixed/v1 registry registry/mixed:v1 1
docker-archive /keep3/registry/mixed/v1 registry registry/mixed:v1 3
docker /keep3/registry/mixed/v1 registry registry/mixed:v1 3
oci-archive /squash/registry/docker/v1 registry registry/docker:v1 1
docker-archive /squash/registry/docker/v1 registry registry/docker:v1 1
oci-archive /squash/registry/mid/v1 registry registry/mid:v1 1
oci-archive /squash/registry/five/v1 registry registry/five:v1 1
oci-archive /squash/registry/multi/v1?platform=linux/arm64/v8 registry registry/multi-arm64:v1 1
--- timeout: 120



=== TEST 4: a zstd blob kept: each layer.tar inflates to its diff_id
--- request
GET /keep3/registry/zmix/v1
--- squash_check: complete
--- squash_file: manifest.json
--- squash_file_like: "Layers":\["[0-9a-f]{64}/layer\.tar","[0-9a-f]{64}/layer\.tar","[0-9a-f]{64}/layer\.tar"\]



=== TEST 5: the legacy json chains the layers: the top one's parent is
the kept one's id
--- request
GET /squash/registry/layered/v1
--- squash_file: <id>/json
--- squash_file_like: "parent":"[0-9a-f]{64}"



=== TEST 6: the same bytes every time, an ETag of their own, HEAD as GET
--- request
GET /squash/registry/five/v1
--- squash_check: complete
--- squash_identical: /squash/registry/five/v1
--- squash_head_matches: /squash/registry/five/v1
--- squash_304: /squash/registry/five/v1
--- squash_etag_differs: /squash/registry/five/v1 /all/registry/five/v1



=== TEST 7: ranges in every region, across the kept blobs' headers and
ends
--- request
GET /keep3/registry/five/v1
--- squash_ranges: /keep3/registry/five/v1



=== TEST 8: squash_layer_size exact: the counting pass merges the top
layers only
--- config
    squash_location {
        squash_keep_layers 2;
        squash_layer_size exact;
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/;
        proxy_buffering off;
    }
--- request
GET /squash/registry/five/v1
--- squash_check: complete
--- squash_archives
oci-archive /squash/registry/five/v1 registry registry/five:v1 2
docker-archive /squash/registry/mid/v1 registry registry/mid:v1 2



=== TEST 9: every image of the semantics fixtures, served as files
(docker not on links-lower: its base layer has no directory entries, and
docker makes the missing parents 0600 where umoci makes them 0755, for the
original image too)
--- config
    squash_location {
        squash_keep_layers 1;
    }

    location /_registry/ {
        internal;
        alias $TEST_NGINX_FIXTURES/semantics/registry/;
    }
--- request
GET /squash/sem/links-deleted/v1
--- squash_check: complete
--- squash_archives
oci-archive /squash/sem/links-deleted/v1 semantics sem/links-deleted:v1 1
oci-archive /squash/sem/links-shadowed/v1 semantics sem/links-shadowed:v1 1
oci-archive /squash/sem/links-lower/v1 semantics sem/links-lower:v1 1
oci-archive /squash/sem/opaque/v1 semantics sem/opaque:v1 1
oci-archive /squash/sem/replace/v1 semantics sem/replace:v1 1
oci-archive /squash/sem/headers/v1 semantics sem/headers:v1 1
oci-archive /squash/sem/odd/v1 semantics sem/odd:v1 1
oci-archive /squash/sem/many/v1 semantics sem/many:v1 1
oci-archive /squash/sem/dirtimes/v1 semantics sem/dirtimes:v1 1
docker /squash/sem/opaque/v1 semantics sem/opaque:v1 1
docker /squash/sem/replace/v1 semantics sem/replace:v1 1
podman /squash/sem/links-lower/v1 semantics sem/links-lower:v1 1
--- timeout: 180



=== TEST 10: every case of Quay's, served as files (but case24, whose
blob umoci cannot read either)
--- config
    squash_location {
        squash_keep_layers 1;
    }

    location /_registry/ {
        internal;
        alias $TEST_NGINX_FIXTURES/quay/registry/;
    }
--- request
GET /squash/quay/case2/latest
--- squash_check: complete
--- squash_archives
oci-archive /squash/quay/case1/latest quay quay/case1:latest 1
oci-archive /squash/quay/case2/latest quay quay/case2:latest 1
oci-archive /squash/quay/case3/latest quay quay/case3:latest 1
oci-archive /squash/quay/case4/latest quay quay/case4:latest 1
oci-archive /squash/quay/case5/latest quay quay/case5:latest 1
oci-archive /squash/quay/case6/latest quay quay/case6:latest 1
oci-archive /squash/quay/case7/latest quay quay/case7:latest 1
oci-archive /squash/quay/case8/latest quay quay/case8:latest 1
oci-archive /squash/quay/case9/latest quay quay/case9:latest 1
oci-archive /squash/quay/case10/latest quay quay/case10:latest 1
oci-archive /squash/quay/case11/latest quay quay/case11:latest 1
oci-archive /squash/quay/case12/latest quay quay/case12:latest 1
oci-archive /squash/quay/case13/latest quay quay/case13:latest 1
oci-archive /squash/quay/case14/latest quay quay/case14:latest 1
oci-archive /squash/quay/case15/latest quay quay/case15:latest 1
oci-archive /squash/quay/case16/latest quay quay/case16:latest 1
oci-archive /squash/quay/case17/latest quay quay/case17:latest 1
oci-archive /squash/quay/case18/latest quay quay/case18:latest 1
oci-archive /squash/quay/case19/latest quay quay/case19:latest 1
oci-archive /squash/quay/case20/latest quay quay/case20:latest 1
oci-archive /squash/quay/case21/latest quay quay/case21:latest 1
oci-archive /squash/quay/case22/latest quay quay/case22:latest 1
oci-archive /squash/quay/case23/latest quay quay/case23:latest 1
--- timeout: 180



=== TEST 11: a kept blob with other bytes than its digest names: the
transfer is cut short, and the log says why
--- request
GET /tampered/registry/layered-tampered/v1
--- squash_check: incomplete
--- error_log eval
qr/squash: layer sha256:[0-9a-f]{64}: the blob's digest is sha256:[0-9a-f]{64}, aborting/



=== TEST 12: a kept blob longer than its descriptor says: cut short
--- request
GET /tampered/registry/layered-longer/v1
--- squash_check: incomplete
--- error_log eval
qr/squash: layer sha256:[0-9a-f]{64}: the blob is longer than the \d+ bytes its descriptor says, aborting/



=== TEST 13: the same image without squash_keep_layers: one layer
--- request
GET /all/registry/layered/v1
--- squash_check: complete
--- squash_archives
oci-archive /all/registry/layered/v1 registry registry/layered:v1 0



=== TEST 14: a range after the kept blobs: they are not fetched, their
lengths are known
--- request
GET /keep3/registry/five/v1
--- more_headers
Range: bytes=-1000
--- error_code: 206
--- debug_log
squash: base layer 1 skipped
squash: base layer 3 skipped
