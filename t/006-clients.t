# One archive, every client: podman load, skopeo copy from docker-archive:
# and oci-archive:, docker load into a dockerd (vfs) started here, each
# giving the filesystem `umoci unpack` makes of the original image and the
# documented name; two downloads are the same bytes.  A plain image, and one
# full of whiteouts, opaque dirs and hard links.

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
        proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/;
        proxy_buffering off;
    }
END
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: plain image: podman
--- request
GET /squash/registry/five/v1
--- squash_check: complete
--- squash_podman_load: localhost/registry/five:v1.squash registry registry/five:v1



=== TEST 2: plain image: skopeo docker-archive:
--- request
GET /squash/registry/five/v1
--- squash_skopeo: docker-archive registry registry/five:v1



=== TEST 3: plain image: skopeo oci-archive:, by its documented ref name
--- request
GET /squash/registry/five/v1
--- squash_skopeo: oci-archive registry registry/five:v1 v1.squash



=== TEST 4: plain image: docker
--- request
GET /squash/registry/five/v1
--- squash_docker: registry registry/five:v1 localhost/registry/five:v1.squash
--- timeout: 60



=== TEST 5: plain image: two downloads, the same bytes
--- request
GET /squash/registry/five/v1
--- squash_identical: /squash/registry/five/v1



=== TEST 6: whiteouts, opaque dirs, hard links: podman
--- request
GET /squash/registry/layered/v1
--- squash_check: complete
--- squash_same_as_umoci: registry registry/layered:v1
--- squash_podman_load: localhost/registry/layered:v1.squash registry registry/layered:v1



=== TEST 7: whiteouts, opaque dirs, hard links: skopeo docker-archive:
--- request
GET /squash/registry/layered/v1
--- squash_skopeo: docker-archive registry registry/layered:v1



=== TEST 8: whiteouts, opaque dirs, hard links: skopeo oci-archive:
--- request
GET /squash/registry/layered/v1
--- squash_skopeo: oci-archive registry registry/layered:v1 v1.squash



=== TEST 9: whiteouts, opaque dirs, hard links: docker
--- request
GET /squash/registry/layered/v1
--- squash_docker: registry registry/layered:v1 localhost/registry/layered:v1.squash
--- timeout: 60



=== TEST 10: whiteouts, opaque dirs, hard links: the same bytes twice
--- request
GET /squash/registry/layered/v1
--- squash_identical: /squash/registry/layered/v1



=== TEST 11: squash_formats docker: no legacy entries, no OCI layout
--- config
    squash_location {
        squash_formats docker;
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/;
    }
--- request
GET /squash/registry/five/v1
--- squash_check: complete
--- squash_list
d <id>/
f <id>/layer.tar
f blobs/sha256/<digest>
f manifest.json
--- squash_podman_load: localhost/registry/five:v1.squash



=== TEST 12: squash_hostname and squash_tag_suffix name the image
--- config
    squash_location {
        squash_hostname edge.example.com;
        squash_tag_suffix -flat;
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/;
    }
--- request
GET /squash/registry/five/v1
--- squash_file: index.json
--- squash_file_like: "io.containerd.image.name":"edge.example.com/registry/five:v1-flat","org.opencontainers.image.ref.name":"v1-flat"
--- squash_podman_load: edge.example.com/registry/five:v1-flat
