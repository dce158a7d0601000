
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: single byte ranges of the archive.  The archive's bytes are
 * a function of the image, so a range is the same bytes every time: the
 * stream is made from its start as always, and only the bytes in the
 * range go out (nginx's range filter cannot do it: the layers come from
 * subrequests, whose output it does not see).  If-Range must name the
 * ETag; several ranges get the whole archive.
 */


#include "ngx_http_squash_module.h"


static ngx_int_t ngx_http_squash_range_spec(ngx_str_t *v, off_t total,
    off_t *start, off_t *end);
static ngx_int_t ngx_http_squash_range_number(u_char **p, u_char *last,
    off_t *n);


/*
 * NGX_OK: a range to serve (ctx->ranged, [range_start, range_end)), or
 * the whole archive; NGX_HTTP_RANGE_NOT_SATISFIABLE
 */

ngx_int_t
ngx_http_squash_range(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    off_t total)
{
    ngx_int_t   rc;
    ngx_str_t  *etag, *if_range;

    if (r->headers_in.range == NULL) {
        return NGX_OK;
    }

    if (r->headers_in.if_range) {
        if_range = &r->headers_in.if_range->value;
        etag = &r->headers_out.etag->value;

        /* a strong validator, compared strongly; a date never matches */

        if (if_range->len != etag->len
            || ngx_strncmp(if_range->data, etag->data, etag->len) != 0)
        {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "squash: If-Range \"%V\" does not match",
                           if_range);
            return NGX_OK;
        }
    }

    rc = ngx_http_squash_range_spec(&r->headers_in.range->value, total,
                                    &ctx->range_start, &ctx->range_end);

    if (rc == NGX_DECLINED) {
        return NGX_OK;
    }

    if (rc == NGX_OK) {
        ctx->ranged = 1;

        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "squash: bytes %O-%O of %O", ctx->range_start,
                       ctx->range_end - 1, total);
    }

    return rc;
}


/*
 * "bytes=S-E", "bytes=S-" or "bytes=-N" into [start, end);
 * NGX_DECLINED for anything else (the whole archive is the answer)
 */

static ngx_int_t
ngx_http_squash_range_spec(ngx_str_t *v, off_t total, off_t *start,
    off_t *end)
{
    u_char  *p, *last;
    off_t    s, e;

    p = v->data;
    last = p + v->len;

    if (v->len < 7 || ngx_strncasecmp(p, (u_char *) "bytes=", 6) != 0
        || ngx_strlchr(p, last, ',') != NULL)
    {
        return NGX_DECLINED;
    }

    p += 6;

    while (p < last && *p == ' ') {
        p++;
    }

    if (ngx_http_squash_range_number(&p, last, &s) != NGX_OK
        || p == last || *p++ != '-'
        || ngx_http_squash_range_number(&p, last, &e) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    while (p < last && *p == ' ') {
        p++;
    }

    if (p != last || (s < 0 && e < 0) || (s >= 0 && e >= 0 && e < s)) {
        return NGX_DECLINED;
    }

    if (s < 0) {
        /* the last e bytes */

        if (e == 0) {
            return NGX_HTTP_RANGE_NOT_SATISFIABLE;
        }

        *start = (e < total) ? total - e : 0;
        *end = total;
        return NGX_OK;
    }

    if (s >= total) {
        return NGX_HTTP_RANGE_NOT_SATISFIABLE;
    }

    *start = s;
    *end = (e < 0 || e >= total) ? total : e + 1;

    return NGX_OK;
}


/* digits into *n, or -1 when there are none; NGX_ERROR on overflow */

static ngx_int_t
ngx_http_squash_range_number(u_char **p, u_char *last, off_t *n)
{
    *n = -1;

    if (*p == last || **p < '0' || **p > '9') {
        return NGX_OK;
    }

    for (*n = 0; *p < last && **p >= '0' && **p <= '9'; (*p)++) {
        if (*n >= NGX_MAX_OFF_T_VALUE / 10) {
            return NGX_ERROR;
        }

        *n = *n * 10 + (**p - '0');
    }

    return NGX_OK;
}


/*
 * The next n bytes of the archive, in b: cut to the range.  Returns what
 * is left of them; the offset moves past all n.
 */

size_t
ngx_http_squash_range_cut(ngx_http_squash_ctx_t *ctx, ngx_buf_t *b)
{
    off_t  from, to;

    from = ctx->offset;
    to = from + (b->last - b->pos);
    ctx->offset = to;

    if (!ctx->ranged) {
        return b->last - b->pos;
    }

    if (to <= ctx->range_start || from >= ctx->range_end) {
        b->pos = b->last;
        return 0;
    }

    if (from < ctx->range_start) {
        b->pos += ctx->range_start - from;
    }

    if (to > ctx->range_end) {
        b->last -= to - ctx->range_end;
    }

    return b->last - b->pos;
}
