
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the size of layer.tar, known before the response header.
 *
 * squash_layer_size estimate: each layer's tar adds its size at most, so
 * the estimate is a function of the image alone, whichever way it is
 * learnt: the blob size for plain tar; for gzip the ISIZE (the last four
 * bytes of the blob, fetched by a size probe) where only one size fits
 * it, and where more fit the smallest of them (squash_size_fallback
 * smallest, the default with a size cache, which heals a wrong one);
 * otherwise, and for zstd, the blob inflated once and counted
 * (squash_size_fallback count).  Probes run side by side (SIZE_PROBE), counts
 * one at a time (SIZE_COUNT).
 *
 * A layer streamed before (its digest and diff_id checked) is sized from
 * the size cache, in any image that has it.
 *
 * squash_layer_size exact, and the registry API: the layers are merged
 * once before the header, their output counted, hashed and dropped
 * (ctx->measuring), then again for the archive or the layer blob.  The
 * count is claimed in the size cache: concurrent requests for the image
 * wait for its result.
 *
 * The size cache remembers either, and a hit skips all of it.
 */


#include "ngx_http_squash_module.h"


static ngx_int_t ngx_http_squash_probe_result(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_uint_t i);
static ngx_int_t ngx_http_squash_count_result(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_count_layer(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_uint_t i);
static uint64_t ngx_http_squash_tar_bound(uint64_t size);
static void ngx_http_squash_size_digest(ngx_http_squash_ctx_t *ctx,
    ngx_http_squash_sizes_t *sizes);


ngx_int_t
ngx_http_squash_size_probe(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    uint64_t                     size;
    ngx_int_t                    rc, status;
    ngx_uint_t                   i, n;
    squash_blob_t               *blob;
    ngx_http_squash_sizes_t      sizes;
    ngx_http_squash_probe_t     *p;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    n = squash_job_layers(&ctx->job);

    if (ctx->probes == NULL) {

        ngx_memzero(&sizes, sizeof(ngx_http_squash_sizes_t));

        (void) ngx_http_squash_cache_get(slcf->size_cache, ctx->job.key,
                                         &sizes);

        ctx->cached_size = ctx->exact ? sizes.exact : sizes.estimate;

        if (ctx->cached_size && ctx->route
            && squash_job_set_diff_id(&ctx->job, sizes.layer, 1)
               != SQUASH_OK)
        {
            /* the registry API needs the layer's digest as well */
            ctx->cached_size = 0;
        }

        if (ctx->cached_size && !ctx->route) {
            ngx_http_squash_size_digest(ctx, &sizes);
        }

        if (ctx->cached_size) {
            ctx->size_source = NGX_HTTP_SQUASH_SOURCE_CACHE;
            ctx->state = NGX_HTTP_SQUASH_HEADER;
            return NGX_OK;
        }

        if (ctx->exact) {
            /* one request counts an image, others wait for its result */

            rc = ngx_http_squash_cache_claim(slcf->size_cache,
                                             ctx->job.key,
                                             ngx_time()
                                             + NGX_HTTP_SQUASH_CLAIM_TIME,
                                             0, r->connection->log);

            if (rc == NGX_DONE) {
                /* counted just now: the cache again */
                return NGX_OK;
            }

            if (rc == NGX_BUSY) {
                ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                               "squash: %s is being counted, waiting",
                               ctx->job.digest);

                ngx_add_timer(&ctx->wait, NGX_HTTP_SQUASH_CLAIM_POLL);
                return NGX_AGAIN;
            }

            ctx->claimed = (rc == NGX_OK);

            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "squash: counting the merged layer");

            squash_job_measure(&ctx->job);
            ctx->measuring = 1;
            ctx->layer = 0;
            ctx->state = NGX_HTTP_SQUASH_LAYER;
            return NGX_OK;
        }

        ctx->count_sizes = sizes.count ? 1 : 0;

        ctx->probes = ngx_pcalloc(r->pool,
                                  n * sizeof(ngx_http_squash_probe_t));
        if (ctx->probes == NULL) {
            return NGX_ERROR;
        }

        /* base layers kept as they are add nothing to layer.tar */

        ctx->probe_next = ctx->job.keep;
        ctx->count_next = ctx->job.keep;
    }

    /* squash_size_probes at a time */

    while (ctx->probes_inflight < slcf->size_probes && ctx->probe_next < n) {
        blob = squash_job_layer(&ctx->job, ctx->probe_next);
        p = &ctx->probes[ctx->probe_next];

        if (blob->size == 0) {
            p->used = 1;

        } else if (ngx_http_squash_cache_layer_get(slcf->size_cache,
                       blob->digest,
                       squash_job_diff_id(&ctx->job, ctx->probe_next), &size)
                   == NGX_OK)
        {
            /* a layer streamed before, in this image or another */

            p->used = 1;
            ctx->unpacked += ngx_http_squash_tar_bound(size);
            ctx->size_source |= NGX_HTTP_SQUASH_SOURCE_LAYER;

        } else if (blob->comp == SQUASH_COMP_NONE
                   || (blob->comp == SQUASH_COMP_GZIP && !ctx->count_sizes))
        {
            /* the blob's real length, and a gzip blob's ISIZE */

            if (ngx_http_squash_fetch(r, ctx, NGX_HTTP_SQUASH_SR_PROBE,
                                      "blobs", blob->digest)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            ctx->probes_inflight++;

            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "squash: size probe of layer %ui, %ui in flight",
                           ctx->probe_next + 1, ctx->probes_inflight);

        } else {
            p->to_count = 1;
            p->used = 1;
        }

        ctx->probe_next++;
    }

    for (i = 0; i < ctx->probe_next; i++) {
        if (ctx->probes[i].done && !ctx->probes[i].used) {
            status = ngx_http_squash_probe_result(r, ctx, i);
            if (status != NGX_OK) {
                return status;
            }
        }
    }

    if (ctx->probes_inflight || ctx->probe_next < n) {
        return NGX_AGAIN;
    }

    ctx->state = NGX_HTTP_SQUASH_SIZE_COUNT;

    return NGX_OK;
}


/* the layers no probe could size, inflated one at a time */

ngx_int_t
ngx_http_squash_size_count(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_int_t  status;

    if (ctx->counting) {
        status = ngx_http_squash_count_result(r, ctx);
        if (status != NGX_OK) {
            return status;
        }

        ctx->counting = 0;
        ctx->count_next++;
    }

    for ( /* void */ ;
         ctx->count_next < squash_job_layers(&ctx->job);
         ctx->count_next++)
    {
        if (ctx->probes[ctx->count_next].to_count) {
            return ngx_http_squash_count_layer(r, ctx, ctx->count_next);
        }
    }

    ctx->state = NGX_HTTP_SQUASH_HEADER;

    return NGX_OK;
}


/* merging only drops entries: the tar sizes plus end blocks bound it */

uint64_t
ngx_http_squash_layer_size(ngx_http_squash_ctx_t *ctx)
{
    if (ctx->cached_size) {
        return ctx->cached_size;
    }

    return ngx_http_squash_tar_bound(ctx->unpacked + 2 * SQUASH_TAR_BLOCK);
}


/* a probe's answer: the layer's size, or a layer to count */

static ngx_int_t
ngx_http_squash_probe_result(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_uint_t i)
{
    u_char                      *d;
    uint32_t                     isize;
    uint64_t                     size;
    squash_blob_t               *blob;
    ngx_http_squash_probe_t     *p;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    blob = squash_job_layer(&ctx->job, i);
    p = &ctx->probes[i];
    p->used = 1;

    if (p->status == NGX_HTTP_UNAUTHORIZED
        || p->status == NGX_HTTP_FORBIDDEN)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: layer %s: registry answered %ui to the size "
                      "probe", blob->digest, p->status);
        return p->status;
    }

    /* the blob must be as long as its descriptor says */

    if (p->total >= 0 && (uint64_t) p->total != (uint64_t) blob->size) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: layer %s: the registry's blob has %O bytes, "
                      "its descriptor says %O", blob->digest, p->total,
                      (off_t) blob->size);
        return NGX_HTTP_BAD_GATEWAY;
    }

    if (blob->comp == SQUASH_COMP_NONE) {

        if (p->total < 0) {
            /* the length was not told: counted (and so verified) */
            p->to_count = 1;
            return NGX_OK;
        }

        ctx->unpacked += ngx_http_squash_tar_bound((uint64_t) p->total);
        ctx->size_source |= NGX_HTTP_SQUASH_SOURCE_PLAIN;
        return NGX_OK;
    }

    d = NULL;

    if (!p->failed && p->status == NGX_HTTP_PARTIAL_CONTENT && p->len == 4) {
        d = p->data;

    } else if (!p->failed && p->status == NGX_HTTP_OK
               && p->len == (size_t) blob->size && p->len >= 4)
    {
        d = p->data + p->len - 4;
    }

    if (d) {
        isize = squash_gzip_le32(d);

        if (squash_gzip_size((uint64_t) blob->size, isize, &size)
            == SQUASH_OK)
        {
            ctx->unpacked += ngx_http_squash_tar_bound(size);
            ctx->size_source |= NGX_HTTP_SQUASH_SOURCE_ISIZE;
            return NGX_OK;
        }

        /*
         * more than one size fits: the smallest, and a stream that
         * overruns it is cut short and makes the next request count
         * (ngx_http_squash_layer_bytes())
         */

        if (ngx_http_squash_size_fallback(slcf)
            == NGX_HTTP_SQUASH_FALLBACK_SMALLEST
            && squash_gzip_size_smallest((uint64_t) blob->size, isize, &size)
               == SQUASH_OK)
        {
            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "squash: layer %s: ISIZE is ambiguous, taking "
                           "the smallest size, %uL", blob->digest, size);

            ctx->unpacked += ngx_http_squash_tar_bound(size);
            ctx->size_source |= NGX_HTTP_SQUASH_SOURCE_SMALLEST;
            return NGX_OK;
        }

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: layer %s: no usable answer to the size probe "
                      "(status %ui, %uz bytes)", blob->digest, p->status,
                      p->len);
    }

    p->to_count = 1;

    return NGX_OK;
}


/* the fallback: inflate the blob once, count, discard */

static ngx_int_t
ngx_http_squash_count_layer(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    ngx_uint_t i)
{
    squash_blob_t               *blob;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    blob = squash_job_layer(&ctx->job, i);

    if (ngx_http_squash_size_fallback(slcf) == NGX_HTTP_SQUASH_FALLBACK_FAIL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: layer %s: the size of this %s layer is not "
                      "known up front, and squash_size_fallback is \"fail\"",
                      blob->digest, squash_comp_name(blob->comp));
        return NGX_HTTP_BAD_GATEWAY;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: layer %s: counting its size%s", blob->digest,
                   ctx->probes[i].done ? ", ISIZE is ambiguous" : "");

    if (ctx->counter_init) {
        squash_decomp_free(&ctx->counter);
        ctx->counter_init = 0;
    }

    if (squash_decomp_init(&ctx->counter, blob->comp) != SQUASH_OK) {
        return NGX_ERROR;
    }

    ctx->counter_init = 1;
    ctx->counter_eof = 0;
    ctx->in = NULL;

    if (ctx->counter_buf == NULL) {
        ctx->counter_buf = ngx_palloc(r->pool, slcf->buffer_size);
        if (ctx->counter_buf == NULL) {
            return NGX_ERROR;
        }
    }

    ctx->counting = 1;

    return ngx_http_squash_fetch(r, ctx, NGX_HTTP_SQUASH_SR_COUNT, "blobs",
                                 blob->digest);
}


static ngx_int_t
ngx_http_squash_count_result(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx)
{
    ngx_int_t       status;
    squash_blob_t  *blob;

    blob = squash_job_layer(&ctx->job, ctx->count_next);

    status = ngx_http_squash_doc_status(r, ctx, "layer size count");
    if (status != NGX_OK) {
        return status;
    }

    if (!ctx->counter_eof
        || squash_decomp_finish(&ctx->counter) != SQUASH_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: layer %s: %s", blob->digest,
                      ctx->counter_eof ? ctx->counter.err
                                       : "blob ended early");
        return NGX_HTTP_BAD_GATEWAY;
    }

    if (ctx->counter.in_total != (uint64_t) blob->size) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: layer %s: the registry's blob has %uL "
                      "bytes, its descriptor says %O", blob->digest,
                      ctx->counter.in_total, (off_t) blob->size);
        return NGX_HTTP_BAD_GATEWAY;
    }

    ctx->unpacked += ngx_http_squash_tar_bound(ctx->counter.out_total);
    ctx->size_source |= NGX_HTTP_SQUASH_SOURCE_COUNT;

    return NGX_OK;
}


/*
 * What a layer's tar adds to layer.tar at most: its bytes, and the
 * padding of a last entry that the layer leaves out (Go reads such
 * layers, and the merged tar stays aligned)
 */

static uint64_t
ngx_http_squash_tar_bound(uint64_t size)
{
    return (size + SQUASH_TAR_BLOCK - 1) & ~(uint64_t) (SQUASH_TAR_BLOCK - 1);
}


/*
 * The digest of layer.tar of the size cached, where a download of the
 * image with that size made it: layer.tar is then not hashed.  The
 * registry API (which names the digest in the manifest) hashes it still
 * and compares.
 */

static void
ngx_http_squash_size_digest(ngx_http_squash_ctx_t *ctx,
    ngx_http_squash_sizes_t *sizes)
{
    char  *digest;

    if (ctx->cached_size == sizes->exact && sizes->layer[0]) {
        digest = sizes->layer;

    } else if (ctx->cached_size == sizes->estimate && sizes->padded[0]) {
        digest = sizes->padded;

    } else {
        return;
    }

    if (squash_job_set_diff_id(&ctx->job, digest, 0) == SQUASH_OK) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, ctx->request->connection->log, 0,
                       "squash: layer digest %s, from the size cache", digest);
    }
}
