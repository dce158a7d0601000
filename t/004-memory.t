# A client that stops reading must stop nginx too: memory stays bounded by
# buffers, not by the layer size (320 MiB here), whether blobs come from
# files or from the registry through proxy_buffering off: the worker's
# anonymous memory grows by under 1 MiB (about 0.5 MiB; 0.9 MiB with
# squash_thread_pool, whose cold layers add two taps of the tar) while the
# client pauses, as docs/design.md says.  The pages of code that the first
# download touches (about 0.2 MiB, once a worker) are reported, not counted.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SquashTest;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: slow client, blobs from the registry
--- config
    squash_location {
    }

    location /_registry/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/;
        proxy_buffering off;
    }
--- request
HEAD /squash/registry/big/v1
--- squash_slow_client: /squash/registry/big/v1
--- squash_slow_client_max_rss_kb: 1024
--- timeout: 120



=== TEST 2: slow client, blobs from files
--- config
    squash_location {
    }

    location /_registry/ {
        internal;
        alias $TEST_NGINX_FIXTURES/registry/registry/;
    }
--- request
HEAD /squash/registry/big/v1
--- squash_slow_client: /squash/registry/big/v1
--- squash_slow_client_max_rss_kb: 1024
--- timeout: 120



=== TEST 3: a pause under send_timeout, then a download longer than it
The client's pause makes nginx wait for it (with send_timeout armed); the
rest takes longer than send_timeout and must not be cut.
--- config
    squash_location {
        send_timeout 3s;
    }

    location /_registry/ {
        internal;
        alias $TEST_NGINX_FIXTURES/registry/registry/;
    }
--- request
HEAD /squash/registry/big/v1
--- squash_slow_client: /squash/registry/big/v1
--- squash_slow_client_max_rss_kb: 1024
--- no_error_log
client timed out
--- timeout: 120
