# The nginx settings an edge runs with, each under every kind of client:
# fast, slower than the registry (curl --limit-rate), pausing for longer
# than send_timeout / 2, and (where blobs are proxied) a registry slower
# than the client (a throttling location in front of docker-registry).
# Every download must be the bytes of the reference configuration
# (proxy_buffering off, nothing else), whatever the setting.  Blobs
# served from files (aio, sendfile) have no registry to be slow.
#
# A block names its setting in the squash location (--- squash_extra),
# in the registry location (--- registry_extra), or serves blobs from
# files instead of the registry (--- registry_files); the preprocessor
# below writes the rest.  The reference location runs without a thread
# pool whatever the server sets.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SquashTest;

add_block_preprocessor(sub {
    my $block = shift;

    return if defined $block->config;

    my $squash = $block->squash_extra // '';
    my $registry = $block->registry_extra // '';
    my $upstream = defined $block->registry_files
        ? 'alias $TEST_NGINX_FIXTURES/registry/registry/;'
        : 'proxy_pass http://127.0.0.1:$TEST_NGINX_REGISTRY_PORT/;';

    $block->set_value('config', <<END);
    send_timeout 4s;
    $squash

    squash_location {
    }

    location ~ ^/slowreg/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
        squash \$sq_name \$sq_ref;
        squash_registry /_slow_registry;
    }

    location ~ ^/ref/(?<sq_name>.+)/(?<sq_ref>[^/]+)\$ {
        squash \$sq_name \$sq_ref;
        squash_registry /_plain;
        squash_thread_pool off;
        gzip off;
        limit_rate 0;
    }

    location /_registry/ {
        internal;
        $upstream
        $registry
    }

    location /_slow_registry/ {
        internal;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/_throttle/;
        $registry
    }

    location /_throttle/ {
        allow 127.0.0.1;
        deny all;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_REGISTRY_PORT/;
        proxy_buffering off;
        limit_rate 6m;
    }

    location /_plain/ {
        internal;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_REGISTRY_PORT/;
        proxy_buffering off;
    }
END
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: proxy_buffering on (nginx's default): temp files
--- registry_extra
proxy_buffering on;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
slow /slowreg/registry/mid/v1
--- timeout: 120



=== TEST 2: proxy_buffering on with small buffers
--- registry_extra
proxy_buffering on;
proxy_buffer_size 1k;
proxy_buffers 4 1k;
proxy_busy_buffers_size 2k;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
slow /slowreg/registry/mid/v1
--- timeout: 120



=== TEST 3: proxy_buffering on, no temp files (proxy_max_temp_file_size 0)
--- registry_extra
proxy_buffering on;
proxy_max_temp_file_size 0;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
slow /slowreg/registry/mid/v1
--- timeout: 120



=== TEST 4: proxy_cache on blobs: a miss, then hits
--- http_config
proxy_cache_path blob_cache levels=1:2 keys_zone=blobs:1m;
--- registry_extra
proxy_buffering on;
proxy_cache blobs;
proxy_cache_valid 200 1h;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
fast /squash/registry/mid/v1
--- timeout: 120



=== TEST 5: limit_rate in the squash location
--- squash_extra
limit_rate 12m;
--- registry_extra
proxy_buffering off;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
fast /slowreg/registry/mid/v1
parallel4 /squash/registry/mid/v1
--- timeout: 120



=== TEST 6: limit_rate with proxy_buffering on
--- squash_extra
limit_rate 12m;
--- registry_extra
proxy_buffering on;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
fast /slowreg/registry/mid/v1
--- timeout: 120



=== TEST 7: limit_rate_after
--- squash_extra
limit_rate 10m;
limit_rate_after 4m;
--- registry_extra
proxy_buffering off;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
fast /slowreg/registry/mid/v1
--- timeout: 120



=== TEST 8: gzip on: the stream decompresses to the archive, docker loads it
--- squash_extra
gzip on;
gzip_types application/x-tar;
listen 127.0.0.1:$TEST_NGINX_TLS_PORT ssl http2;
ssl_certificate $TEST_NGINX_TLS_CERT;
ssl_certificate_key $TEST_NGINX_TLS_KEY;
--- registry_extra
proxy_buffering off;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
compressed /squash/registry/mid/v1 docker registry registry/mid:v1 localhost/registry/mid:v1.squash
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
compressed /slowreg/registry/mid/v1
compressed-h2 https://127.0.0.1:$TEST_NGINX_TLS_PORT/squash/registry/mid/v1
--- timeout: 180



=== TEST 9: gzip on with proxy_buffering on
--- squash_extra
gzip on;
gzip_types application/x-tar;
--- registry_extra
proxy_buffering on;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
compressed /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
compressed /slowreg/registry/mid/v1
--- timeout: 120



=== TEST 10: blobs from files with aio threads, 24 clients at once too
--- registry_files
--- registry_extra
aio threads;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
parallel24 /squash/registry/mid/v1
--- timeout: 120



=== TEST 11: blobs from files with sendfile, output_buffers 1 4k
--- registry_files
--- registry_extra
sendfile on;
tcp_nopush on;
output_buffers 1 4k;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
--- timeout: 120



=== TEST 12: TLS and HTTP/2 over TLS, proxy_buffering on
--- squash_extra
listen 127.0.0.1:$TEST_NGINX_TLS_PORT ssl http2;
ssl_certificate $TEST_NGINX_TLS_CERT;
ssl_certificate_key $TEST_NGINX_TLS_KEY;
--- registry_extra
proxy_buffering on;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast https://127.0.0.1:$TEST_NGINX_TLS_PORT/squash/registry/mid/v1
slow https://127.0.0.1:$TEST_NGINX_TLS_PORT/squash/registry/mid/v1
pause https://127.0.0.1:$TEST_NGINX_TLS_PORT/squash/registry/mid/v1
fast-h2 https://127.0.0.1:$TEST_NGINX_TLS_PORT/squash/registry/mid/v1
slow-h2 https://127.0.0.1:$TEST_NGINX_TLS_PORT/squash/registry/mid/v1
pause-h2 https://127.0.0.1:$TEST_NGINX_TLS_PORT/squash/registry/mid/v1
slow-h2 https://127.0.0.1:$TEST_NGINX_TLS_PORT/slowreg/registry/mid/v1
--- timeout: 180



=== TEST 13: squash_yield_after 8k: the worker is given back every 8 KiB, proxy_buffering on
--- squash_extra
squash_yield_after 8k;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
parallel8 /squash/registry/mid/v1
compressed /slowreg/registry/mid/v1
--- debug_log
squash: yielding after
squash: resumed
--- timeout: 120



=== TEST 14: squash_yield_after 8k with proxy_buffering off
--- squash_extra
squash_yield_after 8k;
--- registry_extra
proxy_buffering off;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
parallel8 /squash/registry/mid/v1
--- debug_log
squash: yielding after
--- timeout: 120



=== TEST 15: squash_yield_after 8k, blobs from files, output_buffers 2 4k
--- squash_extra
squash_yield_after 8k;
--- registry_files
--- registry_extra
output_buffers 2 4k;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
parallel8 /squash/registry/mid/v1
--- debug_log
squash: yielding after
--- timeout: 120



=== TEST 16: squash_yield_after 8k, blobs from files with aio threads
--- squash_extra
squash_yield_after 8k;
--- registry_files
--- registry_extra
aio threads;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
parallel24 /squash/registry/mid/v1
--- debug_log
squash: yielding after
--- timeout: 120



=== TEST 17: the recommended registry location: proxy_buffering off, proxy_buffer_size 64k
--- registry_extra
proxy_buffering off;
proxy_buffer_size 64k;
proxy_buffers 4 64k;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
compressed /slowreg/registry/mid/v1
--- timeout: 120



=== TEST 18: squash_thread_pool: each layer inflated and merged in a thread pool, proxy_buffering on
--- squash_extra
squash_thread_pool default;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
parallel24 /squash/registry/mid/v1
compressed /slowreg/registry/mid/v1
--- debug_log
squash: thread task
--- timeout: 120



=== TEST 19: squash_thread_pool with its recommended buffers (tasks of 512 KiB) and the recommended registry location
--- squash_extra
squash_thread_pool default;
squash_buffers 4 256k;
--- registry_extra
proxy_buffering off;
proxy_buffer_size 64k;
proxy_buffers 4 64k;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
parallel24 /squash/registry/mid/v1
--- debug_log
squash: thread task
--- timeout: 120



=== TEST 20: squash_thread_pool, blobs from files with aio threads: two kinds of tasks in one request
--- squash_extra
squash_thread_pool default;
--- registry_files
--- registry_extra
aio threads;
output_buffers 2 16k;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
slow /squash/registry/mid/v1
pause /squash/registry/mid/v1
parallel24 /squash/registry/mid/v1
--- debug_log
squash: thread task
--- timeout: 120



=== TEST 21: squash_thread_pool over TLS and HTTP/2
--- squash_extra
listen 127.0.0.1:$TEST_NGINX_TLS_PORT ssl http2;
ssl_certificate $TEST_NGINX_TLS_CERT;
ssl_certificate_key $TEST_NGINX_TLS_KEY;
squash_thread_pool default;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast https://127.0.0.1:$TEST_NGINX_TLS_PORT/squash/registry/mid/v1
slow https://127.0.0.1:$TEST_NGINX_TLS_PORT/squash/registry/mid/v1
pause https://127.0.0.1:$TEST_NGINX_TLS_PORT/squash/registry/mid/v1
parallel8 https://127.0.0.1:$TEST_NGINX_TLS_PORT/squash/registry/mid/v1
--- debug_log
squash: thread task
--- timeout: 120



=== TEST 22: a pool whose queue is full: the work is done in the event loop, the bytes the same
--- main_config
thread_pool one threads=1 max_queue=1;
--- squash_extra
squash_thread_pool one;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
parallel24 /squash/registry/mid/v1
--- error_log
thread pool "one" queue overflow
--- timeout: 120



=== TEST 23: a pool that takes no task, the registry read 1 MiB at a time: the event loop goes on with what the input buffer had no room for
--- main_config
thread_pool none threads=1 max_queue=0;
--- squash_extra
squash_thread_pool none;
--- registry_extra
proxy_buffering off;
proxy_buffer_size 1m;
proxy_buffers 4 1m;
--- request
GET /t
--- error_code: 404
--- squash_clients
ref /ref/registry/mid/v1
fast /squash/registry/mid/v1
pause /squash/registry/mid/v1
--- error_log
thread pool "none" queue overflow
--- timeout: 120



=== TEST 24: squash_thread_pool names a pool nginx does not have
--- request
GET /t
--- error_code: 404
--- squash_conf
        squash_thread_pool nosuch;
--- squash_conf_refused: unknown thread pool "nosuch"
