
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: bytes to the client, at its pace and at the worker's.  The
 * bytes of layer.tar are counted and hashed on the way (by the core's
 * job), the main request's buffers are reused once written, and the state
 * machine waits for the client before it makes more.  Work done in one
 * turn of the event loop is bounded (squash_yield_after).
 */


#include "ngx_http_squash_module.h"


/* counts and hashes bytes of layer.tar; refuses to overrun its size */

ngx_int_t
ngx_http_squash_layer_bytes(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    u_char *p, size_t n)
{
    ngx_http_squash_sizes_t      sizes;
    ngx_http_squash_loc_conf_t  *slcf;

    if (squash_job_layer_bytes(&ctx->job, p, n,
                               ctx->state == NGX_HTTP_SQUASH_PADDING)
        == SQUASH_OK)
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "squash: \"%V\": %s, aborting", &ctx->name, ctx->job.err);

    /* the next request counts the layers instead of estimating */

    slcf = ngx_http_get_module_loc_conf(r->main, ngx_http_squash_module);

    ngx_memzero(&sizes, sizeof(ngx_http_squash_sizes_t));
    sizes.count = 1;

    ngx_http_squash_cache_put(slcf->size_cache, ctx->job.key, &sizes,
                              r->connection->log);

    return NGX_ERROR;
}


ngx_int_t
ngx_http_squash_output(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    u_char *p, size_t n, ngx_uint_t last)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (ctx->measuring) {
        /* counted, not sent */
        return NGX_OK;
    }

    cl = ngx_chain_get_free_buf(r->pool, &ctx->main_free);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    b = cl->buf;
    ngx_memzero(b, sizeof(ngx_buf_t));

    b->start = p;
    b->pos = p;
    b->last = p + n;
    b->end = p + n;
    b->last_buf = last;
    b->tag = (ngx_buf_tag_t) &ngx_http_squash_module;

    n = ngx_http_squash_range_cut(ctx, b);
    b->memory = n ? 1 : 0;

    if (n == 0 && !last) {
        /* outside the range */
        cl->next = ctx->main_free;
        ctx->main_free = cl;
        return NGX_OK;
    }

    rc = ngx_http_output_filter(r, cl);

    ngx_chain_update_chains(r->pool, &ctx->main_free, &ctx->main_busy, &cl,
                            (ngx_buf_tag_t) &ngx_http_squash_module);

    return rc;
}


/*
 * NGX_OK once nothing waits to be written to the client.  Only what the
 * write filter and the layers below it hold counts: gzip keeps its
 * bits in r->buffered and c->buffered until it is flushed, which
 * waiting here would never do.
 */

ngx_int_t
ngx_http_squash_drained(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_int_t                  rc;
    ngx_event_t               *wev;
    ngx_connection_t          *c;
    ngx_http_core_loc_conf_t  *clcf;

    c = r->connection;
    wev = c->write;

    if (c->buffered || r->buffered) {
        rc = ngx_http_output_filter(r, NULL);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        ngx_http_squash_watch_delay(ctx);
    }

    if (!(c->buffered & (NGX_LOWLEVEL_BUFFERED|NGX_HTTP_WRITE_BUFFERED))) {

        /*
         * no send timeout while nothing waits for the client: a timer
         * left by an earlier wait would cut a long download short
         */

        if (wev->timer_set && !wev->delayed) {
            ngx_del_timer(wev);
        }

        return NGX_OK;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "squash: waiting for the client, buffered %xd %xd",
                   (int) c->buffered, (int) r->buffered);

    clcf = ngx_http_get_module_loc_conf(r->main, ngx_http_core_module);

    if (!wev->delayed) {
        ngx_add_timer(wev, clcf->send_timeout);
    }

    if (ngx_handle_write_event(wev, clcf->send_lowat) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_AGAIN;
}


/*
 * limit_rate delays a write with a timer on the client connection's
 * write event.  The upstream module's unbuffered path (proxy_buffering
 * off) deletes that timer whenever the socket is writable, and the
 * delayed flag then holds the connection forever.  So after each write
 * a timer of ours is set to the same deadline; if the connection's own
 * timer is gone by then, ours does what it would have done.
 */

void
ngx_http_squash_watch_delay(ngx_http_squash_ctx_t *ctx)
{
    ngx_event_t  *wev;

    wev = ctx->request->connection->write;

    if (!wev->delayed || !wev->timer_set) {
        return;
    }

    ngx_add_timer(&ctx->delay,
                  (ngx_msec_t) ngx_max((ngx_msec_int_t) (wev->timer.key
                                                         - ngx_current_msec),
                                       1));
}


void
ngx_http_squash_delay_handler(ngx_event_t *ev)
{
    ngx_event_t            *wev;
    ngx_http_squash_ctx_t  *ctx;

    ctx = ev->data;
    wev = ctx->request->connection->write;

    if (!wev->delayed || wev->timer_set) {
        return;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "squash: limit_rate delay ended, its timer was removed");

    wev->timedout = 1;
    wev->handler(wev);
}


/*
 * A registry served from files and a client that keeps up would keep the
 * worker on one download to its end: after squash_yield_after bytes of
 * tar made, counted or padded, the request gives the worker back.  Its
 * event goes to ngx_posted_next_events, run in the next turn of the
 * event loop, after what epoll has ready by then; until then the body
 * filter only keeps what it is given (ngx_http_squash_yielded()).
 */

ngx_int_t
ngx_http_squash_spend(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    uint64_t n)
{
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r->main, ngx_http_squash_module);

    ctx->spent += n;

    if (slcf->yield_after == 0 || ctx->spent < slcf->yield_after) {
        return NGX_OK;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: yielding after %uL bytes", ctx->spent);

    ctx->spent = 0;

    if (!ctx->yield.posted) {
        ngx_post_event(&ctx->yield, &ngx_posted_next_events);
    }

    return NGX_AGAIN;
}


/* the next turn: the active request goes on as on a write event */

void
ngx_http_squash_resume(ngx_event_t *ev)
{
    ngx_event_t            *wev;
    ngx_http_squash_ctx_t  *ctx;

    ctx = ev->data;
    wev = ctx->request->connection->write;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, ev->log, 0, "squash: resumed");

    wev->handler(wev);
}
