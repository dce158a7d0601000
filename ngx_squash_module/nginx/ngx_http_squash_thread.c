
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: a layer's work in a thread pool (squash_thread_pool).
 *
 * The body filter hashes the blob and copies it into the request's own
 * input buffer as it comes, and hands a task the bytes there and a few
 * empty output buffers (ngx_http_squash_work_t); a thread of the pool
 * inflates, parses and merges them, and copies the tar it inflates to a
 * tap (squash_layer_run()), while the event loop reads on from the
 * registry, and hashes the tar and the output the previous task made and
 * sends that output.  When the task is done, the request goes on as on a
 * write event, as after a thread read of the copy filter.  While a task
 * is in flight the request is blocked (r->main->blocked), so that its
 * pool outlives the task even if the client goes away.
 */


#include "ngx_http_squash_module.h"


#if (NGX_THREADS)
static void ngx_http_squash_thread_handler(void *data, ngx_log_t *log);
static void ngx_http_squash_thread_event_handler(ngx_event_t *ev);
#endif


char *
ngx_http_squash_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *value;

#if (NGX_THREADS)
    ngx_http_squash_loc_conf_t *slcf = conf;

    if (slcf->thread_pool != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }
#endif

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
#if (NGX_THREADS)
        slcf->thread_pool = NULL;
#endif
        return NGX_CONF_OK;
    }

#if (NGX_THREADS)

    /* a pool not defined by "thread_pool" fails at start, but "default" */

    slcf->thread_pool = ngx_thread_pool_add(cf, &value[1]);
    if (slcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

#else

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"squash_thread_pool %V\" requires nginx built "
                       "--with-threads", &value[1]);
    return NGX_CONF_ERROR;

#endif
}


/* the request's task, made once when its location has a thread pool */

ngx_int_t
ngx_http_squash_thread_init(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
#if (NGX_THREADS)
    ngx_thread_task_t           *task;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    if (slcf->thread_pool == NULL) {
        return NGX_OK;
    }

    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_squash_work_t));
    if (task == NULL) {
        return NGX_ERROR;
    }

    task->handler = ngx_http_squash_thread_handler;
    task->event.handler = ngx_http_squash_thread_event_handler;
    task->event.data = ctx;
    task->event.log = r->connection->log;

    ctx->task = task;
    ctx->work = task->ctx;
    ctx->work->lx = &ctx->lx;
#endif

    return NGX_OK;
}


/*
 * The work itself, in a thread or, when the pool cannot take it, in the
 * event loop: the transformer runs until the input is used (and more is
 * needed), the output buffers are full, the blob ends or it fails.
 */

void
ngx_http_squash_thread_work(ngx_http_squash_work_t *w)
{
    int         rc;
    ngx_buf_t  *b;
    ngx_uint_t  o;

    o = 0;
    rc = SQUASH_OK;
    w->unfinished = 0;

    while (o < w->nout && (w->pos < w->last || w->end)) {

        b = w->out[o];

        rc = squash_layer_run(w->lx, &w->pos, w->last, w->end, &b->last,
                              b->end);

        if (rc != SQUASH_OK) {
            break;
        }

        if (b->last == b->end) {
            o++;
            continue;
        }

        if (squash_layer_tap_full(w->lx)) {
            /* the event loop hashes the tar inflated so far first */
            break;
        }

        if (w->pos == w->last && w->end) {
            /* all given, room left, and yet the layer is not done */
            w->unfinished = 1;
            rc = SQUASH_ERROR;
            break;
        }
    }

    w->rc = rc;
}


/*
 * NGX_OK: posted; NGX_DECLINED: the pool refused it (its queue is full,
 * and it said so in the log), so the caller does the work itself
 */

ngx_int_t
ngx_http_squash_thread_post(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
#if (NGX_THREADS)
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r->main, ngx_http_squash_module);

    if (ngx_thread_task_post(slcf->thread_pool, ctx->task) != NGX_OK) {
        return NGX_DECLINED;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: thread task #%ui: %uz bytes in, "
                   "%ui output buffers", ctx->task->id,
                   (size_t) (ctx->work->last - ctx->work->pos),
                   ctx->work->nout);

    ctx->work->busy = 1;
    ctx->request->blocked++;

    return NGX_OK;
#else
    return NGX_DECLINED;
#endif
}


#if (NGX_THREADS)

static void
ngx_http_squash_thread_handler(void *data, ngx_log_t *log)
{
    ngx_http_squash_work_t  *w = data;

    ngx_log_debug0(NGX_LOG_DEBUG_CORE, log, 0, "squash: thread work");

    ngx_http_squash_thread_work(w);
}


/*
 * In the event loop: the task's input is given back, and the request goes
 * on as after a yield (a closed one is finalized there); the body filter
 * takes what the task made.
 */

static void
ngx_http_squash_thread_event_handler(ngx_event_t *ev)
{
    ngx_http_squash_ctx_t  *ctx = ev->data;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "squash: thread task #%ui done, rc %d", ctx->task->id,
                   ctx->work->rc);

    ctx->request->blocked--;
    ctx->work->busy = 0;
    ctx->work->finished = 1;

    /* the input it used: its bytes may be moved or written over now */
    ctx->ib->pos = (u_char *) ctx->work->pos;

    ngx_http_squash_resume(ev);
}

#endif
