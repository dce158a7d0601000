
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: GET /squash/<name>/<reference> streams the image as one
 * squashed archive.
 *
 * One state machine per request, driven by the main request's write
 * event handler: the manifest (and, for an index, the platform's
 * manifest) and the config come through subrequests collected in memory;
 * then the size of layer.tar (ngx_http_squash_size.c); then the response
 * header and the archive prefix go out; then the layers, top down, one
 * blob subrequest at a time, each transformed by the body filter; the
 * next starts once the previous is done and the client has drained.
 * Zero padding follows; then the base layers kept as they are
 * (squash_keep_layers), their blobs passed through; the entries that need
 * the layer digest and the end blocks close it.
 *
 * The registry API (squash_pull, ngx_http_squash_pull.c) runs the same
 * machine: its manifests and configs are answered at the header, its
 * layer blobs stream as layer.tar alone.
 */


#include "ngx_http_squash_module.h"


#define NGX_HTTP_SQUASH_ZERO_SIZE   65536


static ngx_int_t ngx_http_squash_begin(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static void ngx_http_squash_wake(ngx_http_request_t *r);
static ngx_int_t ngx_http_squash_run(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_manifest(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_config(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_cut_short(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_start_layer(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_fetch_blob(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, squash_blob_t *blob);
static ngx_int_t ngx_http_squash_end_layer(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_restate(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_padding(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_kept(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_end_kept(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_measured(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_trailer(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static void ngx_http_squash_cleanup(void *data);
static void ngx_http_squash_warn(void *data, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


static u_char  ngx_http_squash_zeros[NGX_HTTP_SQUASH_ZERO_SIZE];


ngx_int_t
ngx_http_squash_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_str_t                    platform;
    ngx_http_squash_ctx_t       *ctx;
    ngx_http_squash_loc_conf_t  *slcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_squash_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;

    if (ngx_http_complex_value(r, slcf->name, &ctx->name) != NGX_OK
        || ngx_http_complex_value(r, slcf->reference, &ctx->reference)
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (!squash_is_name((char *) ctx->name.data, ctx->name.len)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: invalid image name \"%V\"", &ctx->name);
        return NGX_HTTP_BAD_REQUEST;
    }

    if (!squash_reference_kind((char *) ctx->reference.data,
                               ctx->reference.len))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: invalid reference \"%V\"", &ctx->reference);
        return NGX_HTTP_BAD_REQUEST;
    }

    if (ngx_http_arg(r, (u_char *) "platform", 8, &platform) != NGX_OK) {
        platform = slcf->platform;
    }

    if (ngx_http_squash_parse_platform(r->pool, &platform, &ctx->platform)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: invalid platform \"%V\"", &platform);
        return NGX_HTTP_BAD_REQUEST;
    }

    rc = ngx_http_squash_names(r, ctx);

    if (rc == NGX_DECLINED) {
        return NGX_HTTP_BAD_REQUEST;
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->exact = (slcf->layer_size == NGX_HTTP_SQUASH_EXACT);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: \"%V\" \"%V\" platform %V",
                   &ctx->name, &ctx->reference, &platform);

    return ngx_http_squash_begin(r, ctx);
}


/* the registry API: GET /v2/..., see ngx_http_squash_pull.c */

ngx_int_t
ngx_http_squash_pull_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_squash_ctx_t       *ctx;
    ngx_http_squash_loc_conf_t  *slcf;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_squash_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;
    ctx->exact = 1;

    rc = ngx_http_squash_pull_route(r, ctx);

    if (rc == NGX_OK && !(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        rc = NGX_HTTP_NOT_ALLOWED;
    }

    if (rc == NGX_OK
        && ngx_http_squash_parse_platform(r->pool, &slcf->platform,
                                          &ctx->platform)
           != NGX_OK)
    {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_OK && ctx->served == NGX_HTTP_SQUASH_SERVED_BASE) {
        /* a base layer kept as it is: the registry's own blob, headers */
        return ngx_http_squash_pull_base(r, ctx);
    }

    /* every answer the edge makes itself */

    if (ngx_http_squash_set_header(r, "Docker-Distribution-API-Version",
                                   "registry/2.0")
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_OK) {
        return ngx_http_squash_pull_error(r, ctx, rc);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash pull: route %ui \"%V\" \"%V\"",
                   ctx->route, &ctx->name, &ctx->reference);

    return ngx_http_squash_begin(r, ctx);
}


/* the request's state, then its first subrequest */

static ngx_int_t
ngx_http_squash_begin(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_pool_cleanup_t          *cln;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_squash_cleanup;
    cln->data = ctx;

    if (squash_job_init(&ctx->job, slcf->merge_memory, ngx_http_squash_warn,
                        r)
        != SQUASH_OK)
    {
        squash_job_free(&ctx->job);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->job_init = 1;

    /* the registry API serves the image's own config, and whole indexes */
    ctx->job.plain_config = ctx->route ? 1 : 0;
    ctx->job.whole_index = (ctx->route == SQUASH_API_MANIFEST);
    ctx->job.keep_wanted = slcf->keep_layers;

    ctx->last_out = &ctx->out;

    if (ngx_http_squash_thread_init(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->delay.handler = ngx_http_squash_delay_handler;
    ctx->delay.data = ctx;
    ctx->delay.log = r->connection->log;
    ctx->delay.cancelable = 1;

    ctx->yield.handler = ngx_http_squash_resume;
    ctx->yield.data = ctx;
    ctx->yield.log = r->connection->log;

    ctx->wait.handler = ngx_http_squash_resume;
    ctx->wait.data = ctx;
    ctx->wait.log = r->connection->log;
    ctx->wait.cancelable = 1;

    ngx_http_set_ctx(r, ctx, ngx_http_squash_module);

    if (ctx->route == SQUASH_API_BASE) {
        ctx->state = NGX_HTTP_SQUASH_PING;
        rc = ngx_http_squash_fetch(r, ctx, NGX_HTTP_SQUASH_SR_DOC, NULL,
                                   NULL);

    } else if (ctx->route == SQUASH_API_TAGS) {
        ctx->state = NGX_HTTP_SQUASH_PING;
        rc = ngx_http_squash_fetch(r, ctx, NGX_HTTP_SQUASH_SR_DOC, "tags",
                                   "list");

    } else {
        ctx->state = NGX_HTTP_SQUASH_MANIFEST;
        rc = ngx_http_squash_fetch(r, ctx, NGX_HTTP_SQUASH_SR_DOC,
                                   "manifests", NULL);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->main->count++;
    r->write_event_handler = ngx_http_squash_wake;

    return NGX_DONE;
}


static void
ngx_http_squash_wake(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_http_squash_ctx_t     *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_squash_module);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash wake, state %d", (int) ctx->state);

    if (r->connection->write->timedout) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, NGX_ETIMEDOUT,
                      "client timed out");
        r->connection->timedout = 1;
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_TIME_OUT);
        return;
    }

    rc = ngx_http_squash_run(r, ctx);

    if (rc == NGX_AGAIN && ctx->state != NGX_HTTP_SQUASH_FINISHED) {
        return;
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        if (ctx->header_sent) {
            rc = NGX_ERROR;

        } else if (ctx->route) {
            /* the registry API's own error document */
            rc = ngx_http_squash_pull_error(r, ctx, rc);
        }
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_squash_run(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_int_t  rc;

    for ( ;; ) {

        if (ctx->sr) {
            if (!ctx->sr_done) {
                return NGX_AGAIN;
            }

            /* its end is in ctx->sr_*, for the state to judge */
            ctx->sr = NULL;
        }

        switch (ctx->state) {

        case NGX_HTTP_SQUASH_MANIFEST:
        case NGX_HTTP_SQUASH_PLATFORM_MANIFEST:
            rc = ngx_http_squash_manifest(r, ctx);
            break;

        case NGX_HTTP_SQUASH_PING:
            rc = ngx_http_squash_pull_ping(r, ctx);
            break;

        case NGX_HTTP_SQUASH_CONFIG:
            rc = ngx_http_squash_config(r, ctx);
            break;

        case NGX_HTTP_SQUASH_SIZE_PROBE:
            rc = ngx_http_squash_size_probe(r, ctx);
            break;

        case NGX_HTTP_SQUASH_SIZE_COUNT:
            rc = ngx_http_squash_size_count(r, ctx);
            break;

        case NGX_HTTP_SQUASH_HEADER:
            rc = ctx->route ? ngx_http_squash_pull_answer(r, ctx)
                            : ngx_http_squash_send_header(r, ctx);
            break;

        case NGX_HTTP_SQUASH_LAYER:
            rc = ngx_http_squash_start_layer(r, ctx);
            break;

        case NGX_HTTP_SQUASH_LAYER_WAIT:
            rc = ngx_http_squash_end_layer(r, ctx);
            break;

        case NGX_HTTP_SQUASH_PADDING:
            rc = ngx_http_squash_padding(r, ctx);
            break;

        case NGX_HTTP_SQUASH_KEPT:
            rc = ngx_http_squash_kept(r, ctx);
            break;

        case NGX_HTTP_SQUASH_TRAILER:
            return ngx_http_squash_trailer(r, ctx);

        default: /* NGX_HTTP_SQUASH_FINISHED */
            return NGX_OK;
        }

        if (rc != NGX_OK) {
            return rc;
        }
    }
}


static ngx_int_t
ngx_http_squash_manifest(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    int                          rc;
    ngx_int_t                    status;
    ngx_http_squash_loc_conf_t  *slcf;

    status = ngx_http_squash_doc_status(r, ctx, "manifest");
    if (status != NGX_OK) {
        return status;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    rc = squash_job_manifest(&ctx->job, (char *) ctx->doc.data, ctx->doc.len,
                             (char *) ctx->reference.data,
                             ctx->reference.len, &ctx->platform,
                             slcf->max_layers);

    switch (rc) {

    case SQUASH_OK:
        ctx->state = NGX_HTTP_SQUASH_CONFIG;

        return ngx_http_squash_fetch(r, ctx, NGX_HTTP_SQUASH_SR_DOC, "blobs",
                                     ctx->job.manifest.config.digest);

    case SQUASH_INDEX:
        if (ctx->job.whole_index) {
            /* the registry API: every image of the index */
            return ngx_http_squash_pull_image(r, ctx);
        }

        ctx->state = NGX_HTTP_SQUASH_PLATFORM_MANIFEST;

        return ngx_http_squash_fetch(r, ctx, NGX_HTTP_SQUASH_SR_DOC,
                                     "manifests",
                                     ctx->job.manifest.chosen.digest);

    case SQUASH_NOT_FOUND:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: \"%V:%V\": %s", &ctx->name, &ctx->reference,
                      ctx->job.err);
        return NGX_HTTP_NOT_FOUND;

    case SQUASH_UNSUPPORTED:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: manifest of \"%V:%V\": %s",
                      &ctx->name, &ctx->reference, ctx->job.err);
        return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;

    default:
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: manifest of \"%V:%V\": %s",
                      &ctx->name, &ctx->reference, ctx->job.err);
        return NGX_HTTP_BAD_GATEWAY;
    }
}


static ngx_int_t
ngx_http_squash_config(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_int_t  status;

    status = ngx_http_squash_doc_status(r, ctx, "config");
    if (status != NGX_OK) {
        return status;
    }

    if (squash_job_config(&ctx->job, (char *) ctx->doc.data, ctx->doc.len,
                          &ctx->platform)
        != SQUASH_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: config of \"%V\": %s", &ctx->name,
                      ctx->job.err);
        return NGX_HTTP_BAD_GATEWAY;
    }

    /* documents are done with */

    squash_bytes_free(&ctx->doc);

    ctx->state = NGX_HTTP_SQUASH_SIZE_PROBE;

    return NGX_OK;
}


static ngx_int_t
ngx_http_squash_start_layer(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    uint64_t                     size;
    ngx_int_t                    rc;
    squash_blob_t               *blob;
    ngx_http_squash_loc_conf_t  *slcf;

    rc = ngx_http_squash_drained(r, ctx);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ctx->ranged && ctx->offset >= ctx->range_end) {
        return ngx_http_squash_cut_short(r, ctx);
    }

    if (ctx->layer == squash_job_merged_layers(&ctx->job)) {
        /*
         * hard links whose target never showed up are dropped (in a diff
         * over kept layers, they link to the base's file)
         */
        squash_merger_finish(ctx->job.merger);
        ctx->state = NGX_HTTP_SQUASH_PADDING;
        return NGX_OK;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    blob = ngx_http_squash_blob_of(ctx);

    if (squash_layer_init(&ctx->lx, blob->comp, blob->digest,
                          squash_job_diff_id(&ctx->job,
                                             ngx_http_squash_layer_index(ctx)),
                          ctx->job.merger, slcf->buffer_size,
                          slcf->max_document_size, ctx->refetching)
        != SQUASH_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: layer %s: %s", blob->digest, ctx->lx.err);
        squash_layer_free(&ctx->lx);
        return NGX_ERROR;
    }

    ctx->lx_init = 1;

    if (ngx_http_squash_cache_layer_get(slcf->size_cache, blob->digest,
                                        ctx->lx.want_diff_id, &size)
        == NGX_OK)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "squash: layer %s inflated to its diff_id before",
                       blob->digest);

        squash_layer_trust_diff_id(&ctx->lx);
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: layer %ui of %uz: %s%s", ctx->layer + 1,
                   squash_job_layers(&ctx->job), blob->digest,
                   ctx->refetching ? ", again for hard links" : "");

    return ngx_http_squash_fetch_blob(r, ctx, blob);
}


/* the blob subrequest of the layer ctx->lx is made for */

static ngx_int_t
ngx_http_squash_fetch_blob(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    squash_blob_t *blob)
{
    ctx->in = NULL;
    ctx->in_buf = NULL;
    ctx->blob_last = 0;
    ctx->blob_done = 0;
    ctx->state = NGX_HTTP_SQUASH_LAYER_WAIT;

    if (ctx->work) {
        /*
         * squash_thread_pool: the blob is hashed in the event loop as it
         * comes, while a thread inflates it (ngx_http_squash_blob_absorb()),
         * and so is the tar the thread inflated, while it inflates more
         * (ngx_http_squash_blob_take())
         */
        squash_layer_hash_apart(&ctx->lx);
        squash_layer_diff_apart(&ctx->lx);
        ctx->tap_len = 0;
    }

    return ngx_http_squash_fetch(r, ctx, NGX_HTTP_SQUASH_SR_BLOB, "blobs",
                                 blob->digest);
}


static ngx_int_t
ngx_http_squash_end_layer(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_int_t                     status;
    ngx_http_squash_loc_conf_t   *slcf;
#if (NGX_DEBUG)
    const squash_merger_stats_t  *st;
#endif

    if (!ctx->blob_done && ctx->measuring) {
        /* before the header: the client gets a status */
        status = ngx_http_squash_doc_status(r, ctx, "layer");
        return (status == NGX_OK) ? NGX_HTTP_BAD_GATEWAY : status;
    }

    /* a failed blob subrequest has torn the request down already */

    if (!ctx->blob_done) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "squash: layer ended unfinished");
        return NGX_ERROR;
    }

    if (ctx->lx.kept) {
        return ngx_http_squash_end_kept(r, ctx);
    }

#if (NGX_DEBUG)
    st = squash_merger_stats(ctx->job.merger);
#endif

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: layer %ui done, %uL entries, %uL emitted, "
                   "%uz paths in %uz bytes", ctx->layer + 1, st->entries,
                   st->emitted, squash_merger_paths(ctx->job.merger),
                   squash_merger_memory(ctx->job.merger));

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    if (ctx->claimed) {
        (void) ngx_http_squash_cache_claim(slcf->size_cache, ctx->job.key,
                                           ngx_time()
                                           + NGX_HTTP_SQUASH_CLAIM_TIME,
                                           1, r->connection->log);
    }

    if (!ctx->lx.diff_trusted && !ctx->refetching) {
        /* its digest and diff_id are checked: for later images */

        ngx_http_squash_cache_layer_put(slcf->size_cache,
                                        ctx->lx.want_digest,
                                        ctx->lx.want_diff_id,
                                        ctx->lx.decomp.out_total,
                                        r->connection->log);
    }

    squash_layer_free(&ctx->lx);
    ctx->lx_init = 0;
    ctx->state = NGX_HTTP_SQUASH_LAYER;

    /*
     * hard links to entries hidden earlier in the layer: the layer once
     * more, for those entries' data only
     */

    if (!ctx->refetching && squash_merger_refetch_pending(ctx->job.merger)) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "squash: %uz hard links need the layer again",
                       squash_merger_refetch_pending(ctx->job.merger));
        ctx->refetching = 1;
        return NGX_OK;
    }

    ctx->refetching = 0;
    ctx->layer++;

    return NGX_OK;
}


/*
 * Directories that lower layers' entries went into after them, written
 * again where the promised size has room (squash_job_restate()); if not,
 * they are left out, and logged
 */

static ngx_int_t
ngx_http_squash_restate(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    int              rc;
    squash_bytes_t  *b;

    rc = squash_job_restate(&ctx->job);

    if (rc == SQUASH_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: \"%V\": %s", &ctx->name, ctx->job.err);
        return NGX_OK;
    }

    if (rc != SQUASH_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: \"%V\": %s", &ctx->name, ctx->job.err);
        return NGX_ERROR;
    }

    b = &ctx->job.restate;

    if (b->len == 0) {
        return NGX_OK;
    }

    if (ngx_http_squash_layer_bytes(r, ctx, b->data, b->len) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_squash_output(r, ctx, b->data, b->len, 0) == NGX_ERROR) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the inner tar's end blocks and the zeros up to the promised size */

static ngx_int_t
ngx_http_squash_padding(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    size_t         n;
    ngx_int_t      rc;
    squash_job_t  *job;

    job = &ctx->job;

    if (!job->merged_known) {
        if (ngx_http_squash_restate(r, ctx) != NGX_OK) {
            return NGX_ERROR;
        }

        job->merged = job->layer_bytes;
        job->merged_known = 1;
    }

    if (ctx->measuring) {
        return ngx_http_squash_measured(r, ctx);
    }

    for ( ;; ) {
        rc = ngx_http_squash_drained(r, ctx);
        if (rc != NGX_OK) {
            return rc;
        }

        if (ngx_http_squash_yielded(ctx)) {
            return NGX_AGAIN;
        }

        if (ctx->ranged && ctx->offset >= ctx->range_end) {
            return ngx_http_squash_cut_short(r, ctx);
        }

        if (job->layer_bytes == job->archive.layer_size) {
            ctx->state = job->archive.nkept ? NGX_HTTP_SQUASH_KEPT
                                            : NGX_HTTP_SQUASH_TRAILER;
            return NGX_OK;
        }

        n = (size_t) ngx_min(job->archive.layer_size - job->layer_bytes,
                             NGX_HTTP_SQUASH_ZERO_SIZE);

        if (ngx_http_squash_layer_bytes(r, ctx, ngx_http_squash_zeros, n)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_http_squash_output(r, ctx, ngx_http_squash_zeros, n, 0)
            == NGX_ERROR)
        {
            return NGX_ERROR;
        }

        if (ngx_http_squash_spend(r, ctx, n) == NGX_AGAIN) {
            return NGX_AGAIN;
        }
    }
}


/*
 * A base layer kept as it is (squash_keep_layers), bottom up: its legacy
 * entries and the header of its layer.tar, then its blob, passed through
 * by the body filter with its length and digest checked.  One wholly
 * before the range asked for is not fetched: its length is known.
 */

static ngx_int_t
ngx_http_squash_kept(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    off_t            len;
    ngx_int_t        rc;
    ngx_uint_t       i;
    squash_blob_t   *blob;
    squash_bytes_t  *head;

    rc = ngx_http_squash_drained(r, ctx);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ctx->ranged && ctx->offset >= ctx->range_end) {
        return ngx_http_squash_cut_short(r, ctx);
    }

    if (ctx->layer == squash_job_layers(&ctx->job)) {
        ctx->state = NGX_HTTP_SQUASH_TRAILER;
        return NGX_OK;
    }

    i = ngx_http_squash_layer_index(ctx);
    blob = ngx_http_squash_blob_of(ctx);
    head = &ctx->job.archive.heads[i];
    len = (off_t) (head->len + (uint64_t) blob->size
                   + squash_archive_kept_pad(&ctx->job.archive, i));

    if (ctx->ranged && ctx->offset + len <= ctx->range_start) {
        /* before the range: its bytes need not be made */

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "squash: base layer %ui skipped, %O bytes before "
                       "the range", i + 1, len);

        ctx->offset += len;
        ctx->layer++;
        return NGX_OK;
    }

    if (ngx_http_squash_output(r, ctx, head->data, head->len, 0)
        == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    if (squash_layer_init_kept(&ctx->lx, blob->digest, (uint64_t) blob->size)
        != SQUASH_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: layer %s: %s", blob->digest, ctx->lx.err);
        squash_layer_free(&ctx->lx);
        return NGX_ERROR;
    }

    ctx->lx_init = 1;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: base layer %ui kept as it is: %s", i + 1,
                   blob->digest);

    return ngx_http_squash_fetch_blob(r, ctx, blob);
}


/* a kept layer's blob went out whole: its tar padding */

static ngx_int_t
ngx_http_squash_end_kept(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    size_t  pad;

    pad = (size_t) squash_archive_kept_pad(&ctx->job.archive,
                                           ngx_http_squash_layer_index(ctx));

    squash_layer_free(&ctx->lx);
    ctx->lx_init = 0;
    ctx->layer++;
    ctx->state = NGX_HTTP_SQUASH_KEPT;

    if (pad
        && ngx_http_squash_output(r, ctx, ngx_http_squash_zeros, pad, 0)
           == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the range is sent: no more of the archive needs making */

static ngx_int_t
ngx_http_squash_cut_short(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: the range ends at %O, done", ctx->range_end);

    ctx->state = NGX_HTTP_SQUASH_FINISHED;

    return ngx_http_squash_output(r, ctx, NULL, 0, 1);
}


/* the counting pass is over: the exact size, then the archive */

static ngx_int_t
ngx_http_squash_measured(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    uint64_t                     size;
    ngx_http_squash_sizes_t      sizes;
    ngx_http_squash_loc_conf_t  *slcf;

    if (squash_job_rewind(&ctx->job, &size) != SQUASH_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: \"%V\": %s", &ctx->name, ctx->job.err);
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: merged layer %uL bytes, %s", size,
                   ctx->job.diff_id);

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    ngx_memzero(&sizes, sizeof(ngx_http_squash_sizes_t));
    sizes.exact = size;
    ngx_memcpy(sizes.layer, ctx->job.diff_id, SQUASH_DIGEST_LEN + 1);

    ngx_http_squash_cache_put(slcf->size_cache, ctx->job.key, &sizes,
                              r->connection->log);

    ctx->claimed = 0;
    ctx->measuring = 0;
    ctx->cached_size = size;
    ctx->size_source = NGX_HTTP_SQUASH_SOURCE_MERGE;
    ctx->layer = 0;
    ctx->state = NGX_HTTP_SQUASH_HEADER;

    return NGX_OK;
}


static ngx_int_t
ngx_http_squash_trailer(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    squash_job_t                *job;
    ngx_http_squash_sizes_t      sizes;
    ngx_http_squash_loc_conf_t  *slcf;

    job = &ctx->job;

    if (squash_job_finish(job) != SQUASH_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "squash: \"%V\": %s", &ctx->name, job->err);
        return NGX_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: layer digest %s", job->diff_id);

    if (ctx->route && ngx_http_squash_pull_check(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * what this image's layer.tar is now known to be: the exact size (the
     * merged entries and two end blocks) and, in that mode, the estimate
     * that held
     */

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    ngx_memzero(&sizes, sizeof(ngx_http_squash_sizes_t));
    sizes.exact = job->merged + 2 * SQUASH_TAR_BLOCK;

    if (sizes.exact == job->archive.layer_size) {
        /* no padding: the digest is that of the exact layer.tar */
        ngx_memcpy(sizes.layer, job->diff_id, SQUASH_DIGEST_LEN + 1);

    } else if (!ctx->exact) {
        ngx_memcpy(sizes.padded, job->diff_id, SQUASH_DIGEST_LEN + 1);
    }

    if (!ctx->exact) {
        sizes.estimate = job->archive.layer_size;
    }

    ngx_http_squash_cache_put(slcf->size_cache, job->key, &sizes,
                              r->connection->log);

    ctx->state = NGX_HTTP_SQUASH_FINISHED;

    return ngx_http_squash_output(r, ctx, job->archive.trailer.data,
                                  job->archive.trailer.len, 1);
}


static void
ngx_http_squash_cleanup(void *data)
{
    ngx_http_squash_ctx_t  *ctx = data;

    ngx_http_squash_loc_conf_t  *slcf;

    if (ctx->delay.timer_set) {
        ngx_del_timer(&ctx->delay);
    }

    if (ctx->yield.posted) {
        ngx_delete_posted_event(&ctx->yield);
    }

    if (ctx->wait.timer_set) {
        ngx_del_timer(&ctx->wait);
    }

    if (ctx->claimed) {
        /* a count that did not finish: another request may */
        slcf = ngx_http_get_module_loc_conf(ctx->request,
                                            ngx_http_squash_module);
        ngx_http_squash_cache_unclaim(slcf->size_cache, ctx->job.key);
        ctx->claimed = 0;
    }

    if (ctx->lx_init) {
        squash_layer_free(&ctx->lx);
        ctx->lx_init = 0;
    }

    if (ctx->counter_init) {
        squash_decomp_free(&ctx->counter);
        ctx->counter_init = 0;
    }

    if (ctx->job_init) {
        squash_job_free(&ctx->job);
        ctx->job_init = 0;
    }

    squash_bytes_free(&ctx->doc);
}


static void
ngx_http_squash_warn(void *data, const char *fmt, ...)
{
    ngx_http_request_t  *r = data;

    char     buf[1024];
    va_list  args;

    va_start(args, fmt);
    vsnprintf(buf, sizeof(buf), fmt, args);
    va_end(args);

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0, "squash: %s", buf);
}


ngx_int_t
ngx_http_squash_parse_platform(ngx_pool_t *pool, ngx_str_t *s,
    squash_platform_t *p)
{
    char  *copy;

    copy = ngx_pnalloc(pool, s->len + 1);
    if (copy == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(copy, s->data, s->len);
    copy[s->len] = '\0';

    if (s->len > 128 || squash_platform_parse(copy, p) != SQUASH_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}
