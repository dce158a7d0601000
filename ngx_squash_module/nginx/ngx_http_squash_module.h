
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the interface of the nginx glue.  Its files depend on each
 * other one way only, each on those listed before it here:
 *
 *   ngx_http_squash_size_cache.c   the shared zone of layer sizes
 *   ngx_http_squash_range.c        byte ranges of the archive
 *   ngx_http_squash_output.c       bytes to the client, at its pace
 *   ngx_http_squash_thread.c       a layer's work in a thread pool
 *   ngx_http_squash_body_filter.c  what subrequests answer: documents,
 *                                  probes, counts, blobs
 *   ngx_http_squash_subrequest.c   subrequests: made, finished, judged
 *   ngx_http_squash_size.c         the size of layer.tar, before the
 *                                  header
 *   ngx_http_squash_header.c       names, ETag, caching, ranges: the
 *                                  response header and the prefix
 *   ngx_http_squash_pull.c         the registry API (squash_pull):
 *                                  routes, manifests, blobs, errors
 *   ngx_http_squash_handler.c      the request and its state machine
 *   ngx_http_squash_module.c       directives, configuration, variables
 *
 * The library work (tar, merge, digests, JSON) is the core's
 * (../core/squash_*.h), which knows nothing of nginx.
 */

#ifndef _NGX_HTTP_SQUASH_MODULE_H_INCLUDED_
#define _NGX_HTTP_SQUASH_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "squash_core.h"
#include "squash_decomp.h"
#include "squash_layer.h"
#include "squash_job.h"
#include "squash_distribution.h"


/*
 * r->buffered has four bits, all named by stock filters; the image
 * filter's bit is borrowed for blob subrequests, where that filter
 * never runs
 */
#define NGX_HTTP_SQUASH_BUFFERED   0x08


typedef enum {
    NGX_HTTP_SQUASH_SR_DOC = 1,         /* manifest, index, config */
    NGX_HTTP_SQUASH_SR_PROBE,           /* last 4 bytes of a gzip blob */
    NGX_HTTP_SQUASH_SR_COUNT,           /* a blob inflated to count it */
    NGX_HTTP_SQUASH_SR_BLOB             /* a layer, transformed */
} ngx_http_squash_sr_e;


typedef enum {
    NGX_HTTP_SQUASH_MANIFEST = 0,
    NGX_HTTP_SQUASH_PING,               /* GET /v2/ of the registry API */
    NGX_HTTP_SQUASH_PLATFORM_MANIFEST,
    NGX_HTTP_SQUASH_CONFIG,
    NGX_HTTP_SQUASH_SIZE_PROBE,         /* size probes in flight */
    NGX_HTTP_SQUASH_SIZE_COUNT,         /* layers counted, one by one */
    NGX_HTTP_SQUASH_HEADER,
    NGX_HTTP_SQUASH_LAYER,
    NGX_HTTP_SQUASH_LAYER_WAIT,
    NGX_HTTP_SQUASH_PADDING,
    NGX_HTTP_SQUASH_KEPT,               /* base layers kept as they are */
    NGX_HTTP_SQUASH_TRAILER,
    NGX_HTTP_SQUASH_FINISHED
} ngx_http_squash_state_e;


typedef struct {
    ngx_http_complex_value_t  *name;
    ngx_http_complex_value_t  *reference;
    ngx_str_t                  registry;
    ngx_http_complex_value_t  *hostname;
    ngx_str_t                  platform;
    ngx_str_t                  tag_suffix;
    ngx_uint_t                 formats;
    ngx_bufs_t                 bufs;
    size_t                     buffer_size;
    size_t                     max_document_size;
    size_t                     merge_memory;
    ngx_uint_t                 max_layers;
    ngx_uint_t                 size_fallback;
    ngx_uint_t                 size_probes;
    ngx_uint_t                 layer_size;
    size_t                     yield_after;
    ngx_shm_zone_t            *size_cache;
    ngx_flag_t                 pull;
    ngx_uint_t                 keep_layers;
#if (NGX_THREADS)
    ngx_thread_pool_t         *thread_pool;
#endif
} ngx_http_squash_loc_conf_t;


/* squash_size_fallback */
#define NGX_HTTP_SQUASH_FALLBACK_COUNT      1
#define NGX_HTTP_SQUASH_FALLBACK_FAIL       2
#define NGX_HTTP_SQUASH_FALLBACK_SMALLEST   3

/*
 * squash_size_fallback as it applies: where it is not set, smallest with a
 * size cache, which heals a wrong smallest size, and count without one,
 * where the next request would fail the same way
 */
#define ngx_http_squash_size_fallback(slcf)                                   \
    ((slcf)->size_fallback != NGX_CONF_UNSET_UINT ? (slcf)->size_fallback     \
     : (slcf)->size_cache ? NGX_HTTP_SQUASH_FALLBACK_SMALLEST                 \
     : NGX_HTTP_SQUASH_FALLBACK_COUNT)

/* squash_layer_size */
#define NGX_HTTP_SQUASH_ESTIMATE         1
#define NGX_HTTP_SQUASH_EXACT            2

/* where the size of layer.tar came from, for $squash_size_source */
#define NGX_HTTP_SQUASH_SOURCE_PLAIN       0x01
#define NGX_HTTP_SQUASH_SOURCE_ISIZE       0x02
#define NGX_HTTP_SQUASH_SOURCE_COUNT       0x04
#define NGX_HTTP_SQUASH_SOURCE_CACHE       0x08
#define NGX_HTTP_SQUASH_SOURCE_MERGE       0x10
#define NGX_HTTP_SQUASH_SOURCE_SMALLEST    0x20
#define NGX_HTTP_SQUASH_SOURCE_LAYER       0x40


#define NGX_HTTP_SQUASH_PROBE_MAX   64

/* the output buffers one thread task fills at most */
#define NGX_HTTP_SQUASH_TASK_OUT    8

/*
 * half of squash_buffers: what a thread task fills (up to
 * NGX_HTTP_SQUASH_TASK_OUT), and as many of their size its input buffer
 */
#define ngx_http_squash_task_bufs(slcf)                                       \
    ngx_max((slcf)->bufs.num / 2, 1)

/* a count claimed in the size cache: for so long, renewed each layer */
#define NGX_HTTP_SQUASH_CLAIM_TIME  60
#define NGX_HTTP_SQUASH_CLAIM_POLL  100     /* ms between looks */


/*
 * What the size cache keeps of an image's layer.tar; 0: not known.  And
 * for a digest the registry API served, the image it came from.
 */

typedef struct {
    uint64_t                   estimate;
    uint64_t                   exact;
    ngx_uint_t                 count;           /* the estimate failed */
    ngx_uint_t                 stale;           /* exact and layer failed */
    char                       layer[SQUASH_DIGEST_LEN + 1];   /* its
                                                   digest, with exact */
    char                       padded[SQUASH_DIGEST_LEN + 1];  /* with
                                                   the estimate, padded */
    ngx_uint_t                 served;
    char                       source[SQUASH_DIGEST_LEN + 1];
} ngx_http_squash_sizes_t;


/* what a digest the registry API served is */
#define NGX_HTTP_SQUASH_SERVED_OCI       1      /* an OCI manifest */
#define NGX_HTTP_SQUASH_SERVED_DOCKER    2      /* a Docker manifest */
#define NGX_HTTP_SQUASH_SERVED_CONFIG    3
#define NGX_HTTP_SQUASH_SERVED_LAYER     4
#define NGX_HTTP_SQUASH_SERVED_INDEX     5      /* an OCI index */
#define NGX_HTTP_SQUASH_SERVED_LIST      6      /* a Docker manifest list */
#define NGX_HTTP_SQUASH_SERVED_BASE      7      /* a layer kept as it is */


/* a size probe, several in flight at once */

typedef struct {
    ngx_http_request_t        *sr;
    ngx_uint_t                 status;
    off_t                      total;           /* the blob's length, or
                                                   -1 when not told */
    size_t                     len;
    u_char                     data[NGX_HTTP_SQUASH_PROBE_MAX];
    unsigned                   done:1;
    unsigned                   failed:1;
    unsigned                   used:1;
    unsigned                   to_count:1;      /* inflate it to know */
} ngx_http_squash_probe_t;


/*
 * A layer's work for a thread (squash_thread_pool): the transformer runs
 * over bytes of the request's own input buffer (ctx->ib, where the blob
 * is copied as it comes) into the output buffers.  The event loop looks
 * at none of this until the task is done; it only appends to the input
 * buffer, after the bytes the task has.
 */

typedef struct {
    squash_layer_t            *lx;

    const u_char              *pos;             /* the input: moved by */
    u_char                    *last;            /* the thread */

    ngx_buf_t                 *out[NGX_HTTP_SQUASH_TASK_OUT];
    ngx_uint_t                 nout;

    u_char                    *tap;             /* the tar inflated, from */

    /* written by the thread */
    int                        rc;              /* squash_layer_run()'s */
    int                        unfinished;      /* ended, yet not done */

    unsigned                   end:1;           /* the blob ends here */
    unsigned                   busy:1;          /* in the thread pool */
    unsigned                   finished:1;      /* done, not yet looked at */
} ngx_http_squash_work_t;


typedef struct {
    ngx_http_request_t        *request;
    ngx_http_squash_state_e    state;

    /* the registry API: the route, what the digest asked for is, it */
    ngx_uint_t                 route;
    ngx_uint_t                 served;
    char                       want[SQUASH_DIGEST_LEN + 1];
    const char                *api_error;
    ngx_str_t                  tags_args;       /* n and last, passed on */

    ngx_str_t                  name;
    ngx_str_t                  reference;
    squash_platform_t          platform;
    char                      *repo;            /* "<host>/<name>" */
    char                      *tag;             /* "<tag><suffix>" */

    /* the current subrequest: a document, a count or a blob */
    ngx_http_request_t        *sr;
    ngx_http_squash_sr_e       sr_kind;
    ngx_int_t                  sr_rc;
    ngx_uint_t                 sr_status;
    ngx_list_t                *sr_headers;     /* its response headers */
    ngx_msec_t                 sr_last;         /* when it last sent */
    unsigned                   sr_done:1;
    unsigned                   sr_failed:1;     /* body filter refused */
    unsigned                   sr_truncated:1;  /* a document cut short */
    unsigned                   sr_timedout:1;   /* the registry stalled */

    /* a document collected in memory */
    squash_bytes_t             doc;
    size_t                     doc_max;

    /* manifest, config, merger, archive, the layer's digest */
    squash_job_t               job;

    /* the size of layer.tar */
    ngx_http_squash_probe_t   *probes;          /* one per layer */
    ngx_uint_t                 probe_next;
    ngx_uint_t                 probes_inflight;
    ngx_uint_t                 count_next;      /* layers, bottom up */
    uint64_t                   unpacked;        /* sum of tar sizes */
    uint64_t                   cached_size;     /* from the size cache */
    ngx_uint_t                 size_source;
    squash_decomp_t            counter;         /* inflates to count */
    u_char                    *counter_buf;

    /* streaming: layers done, top down, and the current one */
    ngx_uint_t                 layer;
    squash_layer_t             lx;

    /* blob filter buffers */
    ngx_chain_t               *in;
    ngx_buf_t                 *in_buf;
    ngx_chain_t               *out;
    ngx_chain_t              **last_out;
    ngx_buf_t                 *out_buf;
    ngx_chain_t               *free;
    ngx_chain_t               *busy;
    ngx_uint_t                 bufs;

#if (NGX_THREADS)
    ngx_thread_task_t         *task;
#endif
    ngx_http_squash_work_t    *work;            /* NULL: in the event loop */
    ngx_buf_t                 *ib;              /* its input */
    u_char                    *tap;             /* two, for the tar */
    u_char                    *tap_made;        /* the one to hash */
    size_t                     tap_len;

    /* main request output */
    ngx_chain_t               *main_free;
    ngx_chain_t               *main_busy;

    /* the archive's bytes made so far, and the range to send of them */
    off_t                      offset;
    off_t                      range_start;
    off_t                      range_end;

    /* stands in for limit_rate's delay timer if an upstream removes it */
    ngx_event_t                delay;

    /* work done in this turn of the event loop, and the next turn */
    uint64_t                   spent;
    ngx_event_t                yield;

    /* another request counts the image: a look at the size cache again */
    ngx_event_t                wait;

    unsigned                   job_init:1;
    unsigned                   lx_init:1;
    unsigned                   refetching:1;    /* a layer's second pass */
    unsigned                   counting:1;      /* a count in flight */
    unsigned                   counter_init:1;
    unsigned                   counter_eof:1;
    unsigned                   count_sizes:1;   /* estimates failed before */
    unsigned                   blob_last:1;
    unsigned                   blob_done:1;
    unsigned                   nomem:1;
    unsigned                   header_sent:1;
    unsigned                   measuring:1;     /* a pass that only counts */
    unsigned                   ranged:1;
    unsigned                   exact:1;         /* squash_layer_size exact,
                                                   or the registry API */
    unsigned                   claimed:1;       /* the count is ours */
} ngx_http_squash_ctx_t;


extern ngx_module_t  ngx_http_squash_module;


/*
 * the manifest's index of the layer streamed: those merged go top down,
 * then those kept (squash_keep_layers) bottom up
 */
#define ngx_http_squash_layer_index(ctx)                                      \
    ((ctx)->layer < squash_job_merged_layers(&(ctx)->job)                     \
     ? squash_job_layers(&(ctx)->job) - 1 - (ctx)->layer                      \
     : (ctx)->layer - squash_job_merged_layers(&(ctx)->job))

#define ngx_http_squash_blob_of(ctx)                                          \
    squash_job_layer(&(ctx)->job, ngx_http_squash_layer_index(ctx))


/* ngx_http_squash_size_cache.c */

char *ngx_http_squash_size_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_squash_cache_get(ngx_shm_zone_t *zone, const char *digest,
    ngx_http_squash_sizes_t *sizes);
void ngx_http_squash_cache_put(ngx_shm_zone_t *zone, const char *digest,
    const ngx_http_squash_sizes_t *sizes, ngx_log_t *log);
ngx_int_t ngx_http_squash_cache_layer_get(ngx_shm_zone_t *zone,
    const char *digest, const char *diff_id, uint64_t *size);
void ngx_http_squash_cache_layer_put(ngx_shm_zone_t *zone, const char *digest,
    const char *diff_id, uint64_t size, ngx_log_t *log);
ngx_int_t ngx_http_squash_cache_claim(ngx_shm_zone_t *zone,
    const char *digest, time_t until, ngx_uint_t renew, ngx_log_t *log);
void ngx_http_squash_cache_unclaim(ngx_shm_zone_t *zone, const char *digest);
ngx_int_t ngx_http_squash_cache_served_get(ngx_shm_zone_t *zone,
    ngx_str_t *name, const char *digest, ngx_http_squash_sizes_t *sizes);
void ngx_http_squash_cache_served_put(ngx_shm_zone_t *zone, ngx_str_t *name,
    const char *digest, ngx_uint_t served, const char *source,
    ngx_log_t *log);


/* ngx_http_squash_range.c */

ngx_int_t ngx_http_squash_range(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, off_t total);
size_t ngx_http_squash_range_cut(ngx_http_squash_ctx_t *ctx, ngx_buf_t *b);


/* ngx_http_squash_output.c */

ngx_int_t ngx_http_squash_layer_bytes(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, u_char *p, size_t n);
ngx_int_t ngx_http_squash_output(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, u_char *p, size_t n, ngx_uint_t last);
ngx_int_t ngx_http_squash_drained(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
void ngx_http_squash_watch_delay(ngx_http_squash_ctx_t *ctx);
void ngx_http_squash_delay_handler(ngx_event_t *ev);
ngx_int_t ngx_http_squash_spend(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, uint64_t n);
void ngx_http_squash_resume(ngx_event_t *ev);

#define ngx_http_squash_yielded(ctx)  ((ctx)->yield.posted)


/* ngx_http_squash_thread.c */

char *ngx_http_squash_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_squash_thread_init(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
void ngx_http_squash_thread_work(ngx_http_squash_work_t *w);
ngx_int_t ngx_http_squash_thread_post(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);


/* ngx_http_squash_body_filter.c */

ngx_int_t ngx_http_squash_body_filter_init(ngx_conf_t *cf);
ngx_http_squash_probe_t *ngx_http_squash_probe_of(ngx_http_squash_ctx_t *ctx,
    ngx_http_request_t *sr);
ngx_int_t ngx_http_squash_blob_done(ngx_http_request_t *sr,
    ngx_http_squash_ctx_t *ctx, ngx_int_t rc);


/* ngx_http_squash_subrequest.c */

ngx_int_t ngx_http_squash_fetch(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_http_squash_sr_e kind,
    const char *what, const char *id);
ngx_int_t ngx_http_squash_doc_status(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, const char *what);
ngx_int_t ngx_http_squash_pass_headers(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, char *name);


/* ngx_http_squash_size.c */

ngx_int_t ngx_http_squash_size_probe(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
ngx_int_t ngx_http_squash_size_count(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
uint64_t ngx_http_squash_layer_size(ngx_http_squash_ctx_t *ctx);


/* ngx_http_squash_header.c */

ngx_int_t ngx_http_squash_names(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
ngx_int_t ngx_http_squash_send_header(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);


void ngx_http_squash_set_response(ngx_http_request_t *r, ngx_uint_t status,
    off_t length, char *type);
ngx_int_t ngx_http_squash_stream_header(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, off_t total, char *type,
    ngx_uint_t immutable);
ngx_int_t ngx_http_squash_set_header(ngx_http_request_t *r, char *key,
    char *value);


/* ngx_http_squash_pull.c */

ngx_int_t ngx_http_squash_pull_route(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
ngx_int_t ngx_http_squash_pull_base(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
ngx_int_t ngx_http_squash_pull_image(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
ngx_int_t ngx_http_squash_pull_ping(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
ngx_int_t ngx_http_squash_pull_answer(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
ngx_int_t ngx_http_squash_pull_check(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
ngx_int_t ngx_http_squash_pull_error(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_int_t status);


/* ngx_http_squash_handler.c */

ngx_int_t ngx_http_squash_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_squash_pull_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_squash_parse_platform(ngx_pool_t *pool, ngx_str_t *s,
    squash_platform_t *p);


#endif /* _NGX_HTTP_SQUASH_MODULE_H_INCLUDED_ */
