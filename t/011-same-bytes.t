# Same bytes every time (issue: stable image IDs): for every registry
# image, in both squash_layer_size modes, a cold and a warm download, one
# with the size cache off, one from another cache ("another edge") and
# one after a restart (the next block: a new nginx) give the same bytes.
# Ranges and If-Range, a resumed download, and nginx's own cache in front
# of the squash location (docs/recipes/cache.md).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SquashTest;
use File::Temp ();

# the cache recipe's store: outside the server root (which both runners
# clear), kept across this file's blocks, so across nginx restarts
our $Store = File::Temp->newdir;
chmod 0777, "$Store";
$ENV{TEST_NGINX_SQUASH_STORE} = "$Store";

# every image of the registry fixture but the tampered ones (which must
# fail) and the 320 MiB one
my @images;
open my $fh, '<', "$ENV{TEST_NGINX_FIXTURES}/registry.images" or die $!;
while (<$fh>) {
    my ($ref, $digest) = split;
    (my $var = uc "TEST_NGINX_DIGEST_$ref") =~ s/[^A-Z0-9]+/_/g;
    $ENV{$var} = $digest;
    next if $ref =~ m{/(?:tamper|big)};
    (my $path = $ref) =~ s{:}{/};
    push @images, $path;
}
close $fh;

sub same_bytes_spec {
    my ($key, @prefixes) = @_;
    return join '', map {
        my $img = $_;
        "$key-$img " . join(' ', map { "/$_/$img" } @prefixes) . "\n";
    } @images;
}

our $Estimate = same_bytes_spec('estimate', 'squash', 'squash', 'other',
                                'nocache');
our $EstimateAgain = same_bytes_spec('estimate', 'nocache', 'squash');
our $Exact = same_bytes_spec('exact', 'exact', 'exact', 'exactother',
                             'exactnocache');
our $ExactAgain = same_bytes_spec('exact', 'exact');

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('http_config', <<'END') unless defined $block->http_config;
    proxy_cache_path $TEST_NGINX_SQUASH_STORE levels=1:2
                     keys_zone=archives:1m max_size=2g inactive=1d
                     use_temp_path=off;
END

    $block->set_value('config', <<'END') unless defined $block->config;
    squash_location {
        squash_size_cache zone=a:1m;
        access_log logs/squashed.log;
    }

    location ~ ^/other/(?<sq_name>.+)/(?<sq_ref>[^/]+)$ {
        squash $sq_name $sq_ref;
        squash_registry /_registry;
        squash_size_cache zone=b:1m;
    }

    location ~ ^/nocache/(?<sq_name>.+)/(?<sq_ref>[^/]+)$ {
        squash $sq_name $sq_ref;
        squash_registry /_registry;
    }

    location ~ ^/exact/(?<sq_name>.+)/(?<sq_ref>[^/]+)$ {
        squash $sq_name $sq_ref;
        squash_registry /_registry;
        squash_layer_size exact;
        squash_size_cache zone=a:1m;
    }

    location ~ ^/exactother/(?<sq_name>.+)/(?<sq_ref>[^/]+)$ {
        squash $sq_name $sq_ref;
        squash_registry /_registry;
        squash_layer_size exact;
        squash_size_cache zone=c:1m;
    }

    location ~ ^/exactnocache/(?<sq_name>.+)/(?<sq_ref>[^/]+)$ {
        squash $sq_name $sq_ref;
        squash_registry /_registry;
        squash_layer_size exact;
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/;
        proxy_buffering off;
    }

    # the cache recipe (docs/recipes/cache.md), in front of /squash/
    location /cached/ {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/squash/;
        proxy_cache archives;
        proxy_cache_key $uri;
        proxy_cache_lock on;
        proxy_cache_lock_timeout 10m;
        proxy_cache_lock_age 10m;
        proxy_cache_valid 200 10m;
        proxy_ignore_headers Cache-Control;
        proxy_read_timeout 10m;
    }
END
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: estimate: cold, warm, no cache, another cache
--- request
GET /squash/registry/five/v1
--- squash_check: complete
--- squash_same_bytes eval
$main::Estimate



=== TEST 2: estimate: after a restart, and without the cache
--- request
GET /squash/registry/five/v1
--- squash_check: complete
--- squash_same_bytes eval
$main::EstimateAgain



=== TEST 3: exact: cold (counted first), warm, no cache, another cache
--- request
GET /exact/registry/five/v1
--- squash_check: complete
--- squash_same_bytes eval
$main::Exact



=== TEST 4: exact: after a restart
--- request
GET /exact/registry/five/v1
--- squash_check: complete
--- squash_same_bytes eval
$main::ExactAgain



=== TEST 5: a tag may move: no-cache; ranges are offered
--- request
HEAD /squash/registry/five/v1
--- response_headers
Cache-Control: no-cache
Accept-Ranges: bytes
--- squash_head_matches: /squash/registry/five/v1



=== TEST 6: a digest names the same bytes for ever
--- request eval
"HEAD /squash/registry/five/$ENV{TEST_NGINX_DIGEST_REGISTRY_FIVE_V1}"
--- response_headers
Cache-Control: public, max-age=31536000, immutable



=== TEST 7: ranges of an estimated archive (with padding)
--- request
GET /squash/registry/five/v1
--- squash_check: complete
--- squash_ranges: /squash/registry/five/v1



=== TEST 8: ranges of an exact archive, cold: the range needs the count
--- request
HEAD /exact/registry/layered/v1
--- squash_ranges: /exactnocache/registry/layered/v1



=== TEST 9: a download cut after 1 MiB, resumed: docker and podman load it
--- request
HEAD /squash/registry/mid/v1
--- squash_resume: /squash/registry/mid/v1 docker registry registry/mid:v1 localhost/registry/mid:v1.squash podman localhost/registry/mid:v1.squash



=== TEST 10: the cache recipe: 16 clients at once, one squash; the same bytes
--- request
HEAD /squash/registry/mid/v1
--- squash_coalesce: 16 /cached/registry/mid/v1 squashed.log 1
--- squash_same_bytes
cached-mid /cached/registry/mid/v1 /squash/registry/mid/v1
--- squash_ranges: /cached/registry/mid/v1 nginx



=== TEST 11: the cache recipe after a restart: no squash, the same bytes
--- request
HEAD /squash/registry/mid/v1
--- squash_coalesce: 4 /cached/registry/mid/v1 squashed.log 0
--- squash_same_bytes
cached-mid /cached/registry/mid/v1
