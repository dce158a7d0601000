
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the body filter of our subrequests, and what their ends
 * mean for a layer.
 *
 * Documents (manifest, index, config) and size probes are collected into
 * a bounded buffer and never reach the client.  Layer blobs are inflated,
 * parsed and merged as they arrive (squash_layer.c), and the entries the
 * merger keeps go down the filter chain in a bounded set of buffers (a
 * base layer kept by squash_keep_layers goes down as it is); input is
 * marked consumed only as it is used, so a slow client slows the upstream
 * (as in ngx_http_gunzip_filter_module).  With squash_thread_pool, the
 * blob is copied into a bounded input buffer of the request's own, and
 * tasks of ngx_http_squash_thread.c do the layer's work.
 */


#include "ngx_http_squash_module.h"


static ngx_int_t ngx_http_squash_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_squash_collect_probe(ngx_http_request_t *r,
    ngx_http_squash_probe_t *p, ngx_chain_t *in);
static ngx_int_t ngx_http_squash_collect(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_chain_t *in);
static ngx_int_t ngx_http_squash_blob(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_chain_t *in);
static ngx_int_t ngx_http_squash_count(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_chain_t *in);
static ngx_int_t ngx_http_squash_blob_absorb(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_blob_threaded(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_blob_give(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_blob_take(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_chain_t ***made);
static ngx_int_t ngx_http_squash_blob_diff(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_uint_t end);
static ngx_buf_t *ngx_http_squash_blob_free_buf(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_blob_get_buf(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_blob_out(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_blob_queue(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_chain_t *cl, ngx_uint_t kept);
static ngx_int_t ngx_http_squash_blob_flush(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_blob_send(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_blob_finish(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static void ngx_http_squash_layer_failed(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);


static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_http_squash_body_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_squash_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_squash_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_http_squash_ctx_t    *ctx;
    ngx_http_squash_probe_t  *probe;

    /*
     * the main request's context: a subrequest redirected internally
     * (error_page to a named location, as for blobs in object storage)
     * loses its own
     */

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_squash_module);

    if (ctx == NULL || r == r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    if (r != ctx->sr) {
        probe = ngx_http_squash_probe_of(ctx, r);

        if (probe == NULL) {
            return ngx_http_next_body_filter(r, in);
        }

        return ngx_http_squash_collect_probe(r, probe, in);
    }

    switch (ctx->sr_kind) {

    case NGX_HTTP_SQUASH_SR_BLOB:
        return ngx_http_squash_blob(r, ctx, in);

    case NGX_HTTP_SQUASH_SR_COUNT:
        return ngx_http_squash_count(r, ctx, in);

    default:
        return ngx_http_squash_collect(r, ctx, in);
    }
}


/*
 * NGX_ERROR from a body filter marks the client connection as failed
 * (ngx_http_output_filter() sets c->error), so a document that cannot be
 * used is swallowed and flagged: the main request answers for it.
 */

static ngx_int_t
ngx_http_squash_collect(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    ngx_chain_t *in)
{
    off_t         cl_len;
    size_t        len;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    /* one allocation where the registry says how long the document is */

    cl_len = r->headers_out.content_length_n;

    if (ctx->doc.len == 0 && cl_len > 0 && (size_t) cl_len <= ctx->doc_max
        && squash_bytes_reserve(&ctx->doc, (size_t) cl_len) != SQUASH_OK)
    {
        return NGX_ERROR;
    }

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (ctx->sr_failed || ngx_buf_special(b)) {
            b->pos = b->last;
            continue;
        }

        if (!ngx_buf_in_memory(b)) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "squash: in-memory buffer expected for \"%V\"",
                          &r->uri);
            ctx->sr_failed = 1;
            continue;
        }

        len = b->last - b->pos;

        if (len) {
            /* the registry sent something (for its time-out) */
            ctx->sr_last = ngx_current_msec;
        }

        if (len > ctx->doc_max - ctx->doc.len) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "squash: response of \"%V\" exceeds %uz bytes",
                          &r->uri, ctx->doc_max);
            b->pos = b->last;
            ctx->sr_failed = 1;
            continue;
        }

        if (squash_bytes_append(&ctx->doc, b->pos, len, ctx->doc_max)
            != SQUASH_OK)
        {
            return NGX_ERROR;
        }

        b->pos = b->last;
    }

    return NGX_OK;
}


/* a size probe's answer: a few bytes, or a failure once it is more */

static ngx_int_t
ngx_http_squash_collect_probe(ngx_http_request_t *r,
    ngx_http_squash_probe_t *p, ngx_chain_t *in)
{
    size_t        len;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;
        len = b->last - b->pos;

        if (!p->failed && ngx_buf_in_memory(b) && len) {

            if (len > NGX_HTTP_SQUASH_PROBE_MAX - p->len) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "squash: size probe \"%V\" got more than %d "
                              "bytes: the registry ignores Range", &r->uri,
                              NGX_HTTP_SQUASH_PROBE_MAX);
                p->failed = 1;

            } else {
                ngx_memcpy(p->data + p->len, b->pos, len);
                p->len += len;
            }
        }

        b->pos = b->last;
    }

    return NGX_OK;
}


/*
 * A blob inflated to learn its size: nothing is kept but the count, so
 * input is consumed as it comes, but for what waits for the next turn of
 * the event loop.
 */

static ngx_int_t
ngx_http_squash_count(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    ngx_chain_t *in)
{
    u_char                      *out;
    uint64_t                     made;
    ngx_buf_t                   *b;
    ngx_uint_t                   full;
    ngx_chain_t                 *cl;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r->main, ngx_http_squash_module);

    if (in && ngx_chain_add_copy(r->pool, &ctx->in, in) != NGX_OK) {
        return NGX_ERROR;
    }

    while (ctx->in && !ngx_http_squash_yielded(ctx)) {
        cl = ctx->in;
        b = cl->buf;

        if (b->last_buf || b->last_in_chain) {
            ctx->counter_eof = 1;
        }

        if (ctx->sr_failed || r->headers_out.status != NGX_HTTP_OK
            || !ngx_buf_in_memory(b))
        {
            b->pos = b->last;
            ctx->in = cl->next;
            ngx_free_chain(r->pool, cl);
            continue;
        }

        /* a full output buffer: the decompressor may hold more */

        do {
            made = ctx->counter.out_total;
            out = ctx->counter_buf;

            if (squash_decomp_run(&ctx->counter, (const u_char **) &b->pos,
                                  b->last, &out,
                                  ctx->counter_buf + slcf->buffer_size)
                != SQUASH_OK)
            {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "squash: counting \"%V\": %s", &r->uri,
                              ctx->counter.err);
                ctx->sr_failed = 1;
                b->pos = b->last;
                full = 0;
                break;
            }

            full = (out == ctx->counter_buf + slcf->buffer_size);

            if (ngx_http_squash_spend(r, ctx, ctx->counter.out_total - made)
                == NGX_AGAIN)
            {
                break;
            }

        } while (b->pos < b->last || full);

        if (b->pos < b->last || full) {
            /* the rest in the next turn */
            break;
        }

        ctx->in = cl->next;
        ngx_free_chain(r->pool, cl);
    }

    if (ctx->in) {
        r->buffered |= NGX_HTTP_SQUASH_BUFFERED;
        return NGX_AGAIN;
    }

    r->buffered &= ~NGX_HTTP_SQUASH_BUFFERED;

    return NGX_OK;
}


static ngx_int_t
ngx_http_squash_blob(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    ngx_chain_t *in)
{
    int                     rc, last;
    uint64_t                made;
    ngx_chain_t            *cl;
    ngx_connection_t       *c;
    squash_blob_t          *blob;

    c = r->connection;
    blob = ngx_http_squash_blob_of(ctx);

    if (ctx->sr_failed) {
        for (cl = in; cl; cl = cl->next) {
            cl->buf->pos = cl->buf->last;
        }

        if (ctx->work && !ctx->work->busy) {
            /* the task it failed beside has ended */
            r->buffered &= ~NGX_HTTP_SQUASH_BUFFERED;
        }

        return ctx->measuring ? NGX_OK : NGX_ERROR;
    }

    if (r->headers_out.status != NGX_HTTP_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "squash: layer %s: registry answered %ui, aborting",
                      blob->digest, r->headers_out.status);
        goto failed;
    }

    for (cl = in; cl; cl = cl->next) {
        if (ngx_buf_size(cl->buf)) {
            /* the registry sent something (for its time-out) */
            ctx->sr_last = ngx_current_msec;
            break;
        }
    }

    if (ctx->work) {

        /*
         * squash_thread_pool: what comes is copied to the input buffer,
         * also while a thread has the layer, so that the registry is read
         * on meanwhile
         */

        if ((in && ngx_chain_add_copy(r->pool, &ctx->in, in) != NGX_OK)
            || ngx_http_squash_blob_absorb(r, ctx) != NGX_OK)
        {
            if (ctx->work->busy) {
                return NGX_ERROR;
            }

            goto failed;
        }

        if (ctx->work->busy) {
            r->buffered |= NGX_HTTP_SQUASH_BUFFERED;
            return NGX_AGAIN;
        }

    } else if (in && ngx_chain_add_copy(r->pool, &ctx->in, in) != NGX_OK) {
        goto failed;
    }

    if (ctx->nomem) {

        /* flush busy buffers */

        if (ngx_http_next_body_filter(r, NULL) == NGX_ERROR) {
            goto failed;
        }

        ctx->nomem = 0;
    }

    /*
     * buffers written since the last call, by this subrequest or by the
     * main request draining the client between layers: with all of them
     * out, nothing else would call here to take them back
     */

    cl = NULL;

    ngx_chain_update_chains(r->pool, &ctx->free, &ctx->busy, &cl,
                            (ngx_buf_tag_t) &ngx_http_squash_module);

    if (ctx->work) {
        if (ngx_http_squash_blob_threaded(r, ctx) == NGX_ERROR) {
            goto failed;
        }

        ngx_http_squash_watch_delay(ctx);

        return (ctx->busy || (r->buffered & NGX_HTTP_SQUASH_BUFFERED))
               ? NGX_AGAIN : NGX_OK;
    }

    made = ctx->lx.decomp.out_total;

    for ( ;; ) {

        /* cycle while there is input, buffers to write to, and time */

        while (!ctx->blob_done && !ngx_http_squash_yielded(ctx)) {

            if (ctx->in_buf == NULL || ctx->in_buf->pos == ctx->in_buf->last)
            {
                if (ctx->in == NULL) {
                    if (!ctx->blob_last) {
                        break;
                    }

                } else {
                    cl = ctx->in;
                    ctx->in_buf = cl->buf;
                    ctx->in = cl->next;
                    ngx_free_chain(r->pool, cl);

                    if (ctx->in_buf->last_buf || ctx->in_buf->last_in_chain) {
                        ctx->blob_last = 1;
                    }

                    if (!ngx_buf_in_memory(ctx->in_buf)
                        && !ngx_buf_special(ctx->in_buf))
                    {
                        ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                                      "squash: in-memory buffer expected");
                        goto failed;
                    }

                    continue;
                }
            }

            if (ngx_http_squash_blob_get_buf(r, ctx) != NGX_OK) {
                if (ctx->nomem) {
                    break;
                }

                goto failed;
            }

            last = ctx->blob_last && ctx->in == NULL;

            if (ctx->in_buf == NULL || !ngx_buf_in_memory(ctx->in_buf)) {
                static u_char  empty;
                const u_char  *p = &empty;

                rc = squash_layer_run(&ctx->lx, &p, p, last,
                                      &ctx->out_buf->last,
                                      ctx->out_buf->end);

            } else {
                rc = squash_layer_run(&ctx->lx,
                                      (const u_char **) &ctx->in_buf->pos,
                                      ctx->in_buf->last, last,
                                      &ctx->out_buf->last,
                                      ctx->out_buf->end);
            }

            if (rc == SQUASH_ERROR) {
                ngx_http_squash_layer_failed(r, ctx);
                goto failed;
            }

            if (rc == SQUASH_DONE) {
                ctx->blob_done = 1;
                break;
            }

            /* the tar inflated, parsed, hashed and merged */

            (void) ngx_http_squash_spend(r, ctx,
                                         ctx->lx.decomp.out_total - made);
            made = ctx->lx.decomp.out_total;

            if (last && ctx->out_buf->last < ctx->out_buf->end) {
                ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                              "squash: layer %s did not finish",
                              blob->digest);
                goto failed;
            }
        }

        if (ctx->out_buf
            && (ctx->out_buf->last == ctx->out_buf->end
                || (ctx->blob_done && ctx->out_buf->last > ctx->out_buf->pos)))
        {
            if (ngx_http_squash_blob_out(r, ctx) != NGX_OK) {
                goto failed;
            }
        }

        if (ctx->out == NULL) {
            break;
        }

        if (ngx_http_squash_blob_flush(r, ctx) != NGX_OK) {
            goto failed;
        }

        ctx->nomem = 0;
    }

    if (ctx->in_buf && ctx->in_buf->pos == ctx->in_buf->last) {
        /*
         * used up: its owner may now fill the same ngx_buf_t with other
         * data (the event pipe does, under proxy_buffering), so it must
         * not be looked at again
         */
        ctx->in_buf = NULL;
    }

    if (ngx_http_squash_yielded(ctx)) {
        /*
         * the next call, whoever makes it (the write filter's limit_rate
         * delay may end first), flushes what the client has not taken:
         * nothing else would
         */
        ctx->nomem = 1;
    }

    if (ctx->in || ctx->in_buf || (ctx->blob_last && !ctx->blob_done)) {
        r->buffered |= NGX_HTTP_SQUASH_BUFFERED;

    } else {
        r->buffered &= ~NGX_HTTP_SQUASH_BUFFERED;
    }

    ngx_http_squash_watch_delay(ctx);

    return (ctx->busy || (r->buffered & NGX_HTTP_SQUASH_BUFFERED))
           ? NGX_AGAIN : NGX_OK;

failed:

    for (cl = ctx->in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
    }

    if (ctx->in_buf) {
        ctx->in_buf->pos = ctx->in_buf->last;
        ctx->in_buf = NULL;
    }

    ctx->in = NULL;
    ctx->sr_failed = 1;

    if (ctx->work == NULL || !ctx->work->busy) {
        r->buffered &= ~NGX_HTTP_SQUASH_BUFFERED;

    } else {
        /* not finished while a thread still has the layer */
        r->buffered |= NGX_HTTP_SQUASH_BUFFERED;
    }

    /*
     * NGX_ERROR fails the client connection at once, which is right once
     * the header is out; a counting pass swallows it, and the main
     * request answers with a status (ngx_http_squash_end_layer())
     */

    return ctx->measuring ? NGX_OK : NGX_ERROR;
}


/*
 * squash_thread_pool: the blob as it comes is hashed and copied to the
 * request's input buffer, and its links are given back at once.  While a
 * task has the bytes there, only its free end is written; else the bytes
 * a task left go to its start first.
 */

static ngx_int_t
ngx_http_squash_blob_absorb(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    size_t                       n;
    ngx_buf_t                   *b, *ib;
    ngx_chain_t                 *cl;
    ngx_http_squash_loc_conf_t  *slcf;

    ib = ctx->ib;

    if (ib == NULL) {
        slcf = ngx_http_get_module_loc_conf(r->main, ngx_http_squash_module);

        ib = ngx_create_temp_buf(r->pool,
                                 ngx_http_squash_task_bufs(slcf)
                                 * slcf->bufs.size);
        if (ib == NULL) {
            return NGX_ERROR;
        }

        ctx->ib = ib;
    }

    if (!ctx->work->busy) {
        if (ib->pos == ib->last) {
            ib->pos = ib->start;
            ib->last = ib->start;

        } else if (ctx->in && ib->last == ib->end && ib->pos > ib->start) {
            n = ib->last - ib->pos;
            ngx_memmove(ib->start, ib->pos, n);
            ib->pos = ib->start;
            ib->last = ib->start + n;
        }
    }

    while (ctx->in) {
        cl = ctx->in;
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            n = ngx_min(b->last - b->pos, ib->end - ib->last);

            /* the blob's digest: no task reads it before the blob ends */

            if (squash_layer_blob(&ctx->lx, b->pos, n) != SQUASH_OK) {
                ngx_http_squash_layer_failed(r, ctx);
                return NGX_ERROR;
            }

            ib->last = ngx_cpymem(ib->last, b->pos, n);
            b->pos += n;

            if (b->pos < b->last) {
                /* full: the rest when a task has used some */
                break;
            }

        } else if (!ngx_buf_special(b)) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "squash: in-memory buffer expected");
            return NGX_ERROR;
        }

        if (b->last_buf || b->last_in_chain) {
            ctx->blob_last = 1;
        }

        ctx->in = cl->next;
        ngx_free_chain(r->pool, cl);
    }

    return NGX_OK;
}


/*
 * A task inflates and merges the input buffer's bytes into a few free
 * output buffers, while the event loop reads on, and hashes and sends
 * what the task before it made.  Called when no task is in flight.
 */

static ngx_int_t
ngx_http_squash_blob_threaded(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_buf_t                   *ib;
    ngx_uint_t                   kept;
    ngx_chain_t                 *cl, *next, *made, **last_made;
    ngx_http_squash_work_t      *w;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r->main, ngx_http_squash_module);

    w = ctx->work;
    ib = ctx->ib;

    /* read while no thread has the layer */
    kept = ctx->lx.kept;

    for ( ;; ) {

        made = NULL;
        last_made = &made;

        for ( ;; ) {

            if (w->finished) {
                w->finished = 0;

                if (ngx_http_squash_blob_take(r, ctx, &last_made) != NGX_OK) {
                    return NGX_ERROR;
                }
            }

            /*
             * what the input buffer had no room for: once the registry
             * has sent all, or has no buffer left to read into, nothing
             * but this loop would take it
             */

            if (ctx->in && ngx_http_squash_blob_absorb(r, ctx) != NGX_OK) {
                return NGX_ERROR;
            }

            w->end = (ctx->blob_last && ctx->in == NULL);

            if (ctx->blob_done || (ib->pos == ib->last && !w->end)) {
                break;
            }

            rc = ngx_http_squash_blob_give(r, ctx);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (rc == NGX_DECLINED) {
                /* no buffer is free */
                break;
            }

            if (ngx_http_squash_thread_post(r, ctx) == NGX_OK) {
                break;
            }

            /* the pool's queue is full: the work is done here, now */

            ngx_http_squash_thread_work(w);
            ib->pos = (u_char *) w->pos;
            w->finished = 1;
        }

        /* the tar the last task inflated, hashed while the next runs */

        if (ngx_http_squash_blob_diff(r, ctx, 0) != NGX_OK) {
            return NGX_ERROR;
        }

        /* what the last task made: hashed, in order, and sent */

        for (cl = made; cl; cl = next) {
            next = cl->next;

            if (ngx_http_squash_blob_queue(r, ctx, cl, kept) != NGX_OK) {
                return NGX_ERROR;
            }
        }

        if (ctx->out == NULL) {
            break;
        }

        if (ngx_http_squash_blob_flush(r, ctx) != NGX_OK) {
            return NGX_ERROR;
        }

        /*
         * buffers the client took back: more work for a new task; none,
         * and ctx->nomem stays, for the next call to flush them
         */

        if (w->busy || ctx->blob_done || (ib->pos == ib->last && !w->end)
            || (ctx->free == NULL && ctx->bufs == (ngx_uint_t) slcf->bufs.num))
        {
            break;
        }
    }

    if (w->busy || ctx->in || ib->pos < ib->last
        || (ctx->blob_last && !ctx->blob_done))
    {
        r->buffered |= NGX_HTTP_SQUASH_BUFFERED;

    } else {
        r->buffered &= ~NGX_HTTP_SQUASH_BUFFERED;
    }

    return NGX_OK;
}


/*
 * The next task: the input buffer's bytes, and up to half the output
 * buffers, so that the other half goes to the client meanwhile; the tar
 * it inflates goes to the tap the event loop is not hashing.
 * NGX_DECLINED: no buffer is free (ctx->nomem).
 */

static ngx_int_t
ngx_http_squash_blob_give(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    size_t                       size;
    ngx_buf_t                   *b;
    ngx_uint_t                   n;
    ngx_http_squash_work_t      *w;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r->main, ngx_http_squash_module);

    w = ctx->work;

    n = ngx_min(ngx_http_squash_task_bufs(slcf), NGX_HTTP_SQUASH_TASK_OUT);

    ctx->nomem = 0;
    w->nout = 0;

    while (w->nout < n) {
        b = ngx_http_squash_blob_free_buf(r, ctx);

        if (b == NULL) {
            if (ctx->nomem) {
                break;
            }

            return NGX_ERROR;
        }

        w->out[w->nout++] = b;
    }

    if (w->nout == 0) {
        return NGX_DECLINED;
    }

    w->pos = ctx->ib->pos;
    w->last = ctx->ib->last;

    if (!ctx->lx.diff_apart) {
        return NGX_OK;
    }

    size = ngx_http_squash_task_bufs(slcf) * slcf->bufs.size;

    if (ctx->tap == NULL) {
        ctx->tap = ngx_palloc(r->pool, 2 * size);
        if (ctx->tap == NULL) {
            return NGX_ERROR;
        }
    }

    w->tap = (ctx->tap_made == ctx->tap) ? ctx->tap + size : ctx->tap;
    squash_layer_tap(&ctx->lx, w->tap, w->tap + size);

    return NGX_OK;
}


/*
 * A task's results (the input it used is already given back, in
 * ctx->ib->pos): its buffers, filled ones appended to *made and empty ones
 * free again, and the layer's end or failure.
 */

static ngx_int_t
ngx_http_squash_blob_take(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    ngx_chain_t ***made)
{
    ngx_buf_t               *b;
    ngx_uint_t               i;
    ngx_chain_t             *cl;
    ngx_http_squash_work_t  *w;

    w = ctx->work;

    for (i = 0; i < w->nout; i++) {
        b = w->out[i];

        cl = ngx_alloc_chain_link(r->pool);
        if (cl == NULL) {
            return NGX_ERROR;
        }

        cl->buf = b;

        if (b->last > b->pos) {
            cl->next = NULL;
            **made = cl;
            *made = &cl->next;

        } else {
            cl->next = ctx->free;
            ctx->free = cl;
        }
    }

    w->nout = 0;

    if (w->rc == SQUASH_ERROR) {
        if (w->unfinished) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "squash: layer %s did not finish",
                          ngx_http_squash_blob_of(ctx)->digest);

        } else {
            ngx_http_squash_layer_failed(r, ctx);
        }

        return NGX_ERROR;
    }

    if (ctx->lx.diff_apart) {
        /* a tap that work done here, in the event loop, left unhashed */

        if (ngx_http_squash_blob_diff(r, ctx, 0) != NGX_OK) {
            return NGX_ERROR;
        }

        ctx->tap_made = w->tap;
        ctx->tap_len = ctx->lx.tap - w->tap;

        /* the tar's last bytes: then it is checked */

        if (w->rc == SQUASH_DONE
            && ngx_http_squash_blob_diff(r, ctx, 1) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (w->rc == SQUASH_DONE) {
        ctx->blob_done = 1;
    }

    return NGX_OK;
}


/*
 * squash_thread_pool: the tar a task inflated, hashed in the event loop;
 * end: all of it, and the diff_id is checked
 */

static ngx_int_t
ngx_http_squash_blob_diff(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    ngx_uint_t end)
{
    size_t  n;

    n = ctx->tap_len;
    ctx->tap_len = 0;

    if (squash_layer_diff(&ctx->lx, ctx->tap_made, n) == SQUASH_OK
        && (!end || squash_layer_diff_end(&ctx->lx) == SQUASH_OK))
    {
        return NGX_OK;
    }

    ngx_http_squash_layer_failed(r, ctx);

    return NGX_ERROR;
}


/* a free buffer; NULL: none (ctx->nomem), or no memory */

static ngx_buf_t *
ngx_http_squash_blob_free_buf(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx)
{
    ngx_buf_t                   *b;
    ngx_chain_t                 *cl;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r->main, ngx_http_squash_module);

    if (ctx->free) {
        cl = ctx->free;
        b = cl->buf;
        ctx->free = cl->next;
        ngx_free_chain(r->pool, cl);

    } else if (ctx->bufs < (ngx_uint_t) slcf->bufs.num) {
        b = ngx_create_temp_buf(r->pool, slcf->bufs.size);
        if (b == NULL) {
            return NULL;
        }

        b->tag = (ngx_buf_tag_t) &ngx_http_squash_module;
        b->recycled = 1;
        ctx->bufs++;

    } else {
        ctx->nomem = 1;
        return NULL;
    }

    b->pos = b->start;
    b->last = b->start;
    b->flush = 0;

    return b;
}


static ngx_int_t
ngx_http_squash_blob_get_buf(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx)
{
    if (ctx->out_buf && ctx->out_buf->last < ctx->out_buf->end) {
        return NGX_OK;
    }

    if (ctx->out_buf && ngx_http_squash_blob_out(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->out_buf = ngx_http_squash_blob_free_buf(r, ctx);

    if (ctx->out_buf == NULL) {
        return ctx->nomem ? NGX_DECLINED : NGX_ERROR;
    }

    return NGX_OK;
}


/* the filled buffer goes to the out chain */

static ngx_int_t
ngx_http_squash_blob_out(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_chain_t  *cl;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = ctx->out_buf;
    ctx->out_buf = NULL;

    return ngx_http_squash_blob_queue(r, ctx, cl, ctx->lx.kept);
}


/* a filled buffer goes into the layer digest, and to the out chain */

static ngx_int_t
ngx_http_squash_blob_queue(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    ngx_chain_t *cl, ngx_uint_t kept)
{
    ngx_buf_t  *b;

    b = cl->buf;

    /* a kept layer's blob is not part of layer.tar */

    if (!kept
        && ngx_http_squash_layer_bytes(r, ctx, b->pos, b->last - b->pos)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    b->flush = ctx->blob_done;

    cl->next = NULL;
    *ctx->last_out = cl;
    ctx->last_out = &cl->next;

    return NGX_OK;
}


/* the out chain sent, or counted, and its buffers taken back when free */

static ngx_int_t
ngx_http_squash_blob_flush(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_chain_t  *cl;

    if (ctx->measuring) {
        /* counted, not sent: the buffers are free again at once */

        for (cl = ctx->out; cl; cl = cl->next) {
            cl->buf->pos = cl->buf->last;
        }

    } else if (ngx_http_squash_blob_send(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_chain_update_chains(r->pool, &ctx->free, &ctx->busy, &ctx->out,
                            (ngx_buf_tag_t) &ngx_http_squash_module);
    ctx->last_out = &ctx->out;

    return NGX_OK;
}


/*
 * The out chain goes down the filter chain, but for bytes outside a
 * range: those links stay on it, consumed, for the caller to take back.
 */

static ngx_int_t
ngx_http_squash_blob_send(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_int_t     rc;
    ngx_chain_t  *cl, *next, *skipped, **ll;

    skipped = NULL;
    ll = &ctx->out;

    for (cl = ctx->out; cl; cl = next) {
        next = cl->next;

        if (ngx_http_squash_range_cut(ctx, cl->buf) == 0) {
            *ll = next;
            cl->next = skipped;
            skipped = cl;
            continue;
        }

        ll = &cl->next;
    }

    rc = NGX_OK;

    if (ctx->out) {
        rc = ngx_http_next_body_filter(r, ctx->out);
    }

    *ll = skipped;

    return rc == NGX_ERROR ? NGX_ERROR : NGX_OK;
}


/*
 * Ends a blob whose body ended without a last buffer: fine only when the
 * layer may end there and has nothing more to write.
 */

static ngx_int_t
ngx_http_squash_blob_finish(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    int            rc;
    u_char         room[1] = { 0 }, *out;
    const u_char  *in;

    in = room;
    out = room;

    rc = squash_layer_run(&ctx->lx, &in, in, 1, &out, room);

    if (rc != SQUASH_DONE || out != room) {
        if (rc == SQUASH_ERROR) {
            ngx_http_squash_layer_failed(r, ctx);
        }

        return NGX_ERROR;
    }

    ctx->blob_done = 1;

    return NGX_OK;
}


static void
ngx_http_squash_layer_failed(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    /* the core's reason, with the layer it was found in */

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "squash: layer %s: %s, aborting",
                  ngx_http_squash_blob_of(ctx)->digest, ctx->lx.err);
}


/*
 * A blob subrequest is finished (from its post_subrequest handler): the
 * layer must be whole, or the request is aborted.
 */

ngx_int_t
ngx_http_squash_blob_done(ngx_http_request_t *sr, ngx_http_squash_ctx_t *ctx,
    ngx_int_t rc)
{
    if (ctx->sr_failed) {
        /* the body filter has logged why */
        return ctx->measuring ? NGX_OK : NGX_ERROR;
    }

    if (rc == NGX_OK && !ctx->blob_done && ctx->in == NULL
        && ctx->sr_status == NGX_HTTP_OK)
    {
        /*
         * the static module sends an empty file in a subrequest without
         * any body buffer, so the end of it never reached the filter
         */

        if (ngx_http_squash_blob_finish(sr, ctx) == NGX_OK) {
            return rc;
        }
    }

    /*
     * NGX_AGAIN: the last buffers still wait in the write filter, which
     * holds them for the main request (the postpone filter passes
     * r->main on); drained() waits for them before the next layer
     */

    if ((rc != NGX_OK && rc != NGX_AGAIN) || !ctx->blob_done) {

        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "squash: layer %s: fetch failed (rc %i, status %ui, "
                      "%s), aborting", ngx_http_squash_blob_of(ctx)->digest,
                      rc, ctx->sr_status,
                      ctx->sr_timedout ? "the registry timed out"
                      : !ctx->blob_last ? "body truncated"
                      : ctx->blob_done ? "failed" : "incomplete");
        return ctx->measuring ? NGX_OK : NGX_ERROR;
    }

    return rc;
}


ngx_http_squash_probe_t *
ngx_http_squash_probe_of(ngx_http_squash_ctx_t *ctx, ngx_http_request_t *sr)
{
    ngx_uint_t  i;

    if (ctx->probes == NULL) {
        return NULL;
    }

    for (i = 0; i < squash_job_layers(&ctx->job); i++) {
        if (ctx->probes[i].sr == sr) {
            return &ctx->probes[i];
        }
    }

    return NULL;
}
