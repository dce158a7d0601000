
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: subrequests to the registry location.  Each has a header
 * list of its own; its end is recorded for the state machine (documents
 * and counts) or judged at once (blobs, by the body filter); a failed
 * document becomes the client's status, with the registry's challenges.
 */


#include "ngx_http_squash_module.h"


static ngx_table_elt_t *ngx_http_squash_add_header(ngx_http_request_t *sr,
    char *key, char *lowcase, char *value);
static ngx_int_t ngx_http_squash_sr_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc);
static ngx_int_t ngx_http_squash_probe_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static off_t ngx_http_squash_blob_length(ngx_http_request_t *sr,
    ngx_uint_t status);


static ngx_table_elt_t *
ngx_http_squash_add_header(ngx_http_request_t *sr, char *key, char *lowcase,
    char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&sr->headers_in.headers);
    if (h == NULL) {
        return NULL;
    }

    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);
    h->lowcase_key = (u_char *) lowcase;
    h->hash = ngx_hash_key(h->lowcase_key, h->key.len);
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return h;
}


/*
 * Starts a subrequest to "<registry>/v2/<name>/<what>/<id>" (or to
 * "<registry>/v2/" where what is NULL) with a header list of its own: the
 * client's conditional and range headers must not reach the registry,
 * and ours must.
 */

ngx_int_t
ngx_http_squash_fetch(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    ngx_http_squash_sr_e kind, const char *what, const char *id)
{
    u_char                      *p;
    size_t                       len;
    ngx_str_t                    uri, *idv, *s;
    ngx_str_t                    idstr;
    ngx_uint_t                   i;
    ngx_list_part_t             *part;
    ngx_table_elt_t             *h, *hs;
    ngx_http_request_t          *sr;
    ngx_uint_t                   flags;
    ngx_http_post_subrequest_t  *ps;
    ngx_http_squash_loc_conf_t  *slcf;

    static ngx_str_t  skip[] = {
        ngx_string("Range"),
        ngx_string("If-Range"),
        ngx_string("If-Match"),
        ngx_string("If-None-Match"),
        ngx_string("If-Modified-Since"),
        ngx_string("If-Unmodified-Since"),
        ngx_string("Accept"),
        ngx_string("Accept-Encoding"),
        ngx_string("Content-Length"),
        ngx_string("Content-Type"),
        ngx_string("Transfer-Encoding"),
        ngx_string("Expect"),
        ngx_null_string
    };

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    if (id) {
        idstr.data = (u_char *) id;
        idstr.len = ngx_strlen(id);
        idv = &idstr;

    } else {
        idv = &ctx->reference;
    }

    len = slcf->registry.len + sizeof("/v2//") - 1 + ctx->name.len
          + (what ? ngx_strlen(what) : 0) + 1 + idv->len;

    uri.data = ngx_pnalloc(r->pool, len);
    if (uri.data == NULL) {
        return NGX_ERROR;
    }

    if (what) {
        p = ngx_sprintf(uri.data, "%V/v2/%V/%s/%V", &slcf->registry,
                        &ctx->name, what, idv);

    } else {
        p = ngx_sprintf(uri.data, "%V/v2/", &slcf->registry);
    }

    uri.len = p - uri.data;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->data = ctx;

    if (kind == NGX_HTTP_SQUASH_SR_PROBE) {
        /* probes run side by side, in the background */
        ps->handler = ngx_http_squash_probe_done;
        flags = NGX_HTTP_SUBREQUEST_BACKGROUND;

    } else {
        ps->handler = ngx_http_squash_sr_done;
        flags = 0;
    }

    if (ngx_http_subrequest(r, &uri,
                            ctx->tags_args.len ? &ctx->tags_args : NULL,
                            &sr, ps, flags)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* our own header list */

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 8,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &r->main->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        for (s = skip; s->len; s++) {
            if (h[i].key.len == s->len
                && ngx_strncasecmp(h[i].key.data, s->data, s->len) == 0)
            {
                break;
            }
        }

        if (s->len) {
            continue;
        }

        hs = ngx_list_push(&sr->headers_in.headers);
        if (hs == NULL) {
            return NGX_ERROR;
        }

        *hs = h[i];
#if (nginx_version >= 1023000)
        /* repeated headers are linked within the main request's list */
        hs->next = NULL;
#endif
    }

    sr->headers_in.range = NULL;
    sr->headers_in.if_range = NULL;
    sr->headers_in.if_match = NULL;
    sr->headers_in.if_none_match = NULL;
    sr->headers_in.if_modified_since = NULL;
    sr->headers_in.if_unmodified_since = NULL;
    sr->headers_in.content_length = NULL;
    sr->headers_in.content_length_n = -1;
#if (NGX_HTTP_GZIP || NGX_HTTP_HEADERS)
    sr->headers_in.accept_encoding = NULL;
#endif

    if (what && ngx_strcmp(what, "manifests") == 0
        && ngx_http_squash_add_header(sr, "Accept", "accept",
                                      SQUASH_MANIFEST_ACCEPT)
           == NULL)
    {
        return NGX_ERROR;
    }

    if (kind == NGX_HTTP_SQUASH_SR_PROBE) {
        sr->headers_in.range = ngx_http_squash_add_header(sr, "Range", "range",
                                                          "bytes=-4");
        if (sr->headers_in.range == NULL) {
            return NGX_ERROR;
        }

        sr->subrequest_ranges = 1;
    }

    sr->filter_need_in_memory = 1;

    if (kind == NGX_HTTP_SQUASH_SR_PROBE) {
        ctx->probes[ctx->probe_next].sr = sr;
        return NGX_OK;
    }

    ctx->sr = sr;
    ctx->sr_kind = kind;
    ctx->sr_done = 0;
    ctx->sr_failed = 0;
    ctx->sr_truncated = 0;
    ctx->sr_timedout = 0;
    ctx->sr_last = ngx_current_msec;
    ctx->sr_rc = NGX_OK;
    ctx->sr_status = 0;
    ctx->sr_headers = NULL;
    ctx->doc.len = 0;
    ctx->doc_max = slcf->max_document_size;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash fetch \"%V\" kind %d", &uri, (int) kind);

    return NGX_OK;
}


static ngx_int_t
ngx_http_squash_sr_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_squash_ctx_t  *ctx = data;

    if (sr != ctx->sr || ctx->sr_done) {
        return rc;
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE
        && rc != NGX_HTTP_CLIENT_CLOSED_REQUEST
        && rc != NGX_HTTP_REQUEST_TIME_OUT)
    {
        /*
         * an error page is to be made (or an error_page to follow, as
         * for redirects to object storage): called again when done
         */
        return rc;
    }

    if (rc != NGX_ERROR && !ctx->sr_failed
        && (sr->buffered || sr->postponed))
    {
        /* still flushing: called again when done */
        return rc;
    }

    ctx->sr_done = 1;
    ctx->sr_rc = rc;
    ctx->sr_status = sr->headers_out.status;
    ctx->sr_headers = &sr->headers_out.headers;

    /*
     * A body cut short is not told to a subrequest's parent: the upstream
     * module finalizes it with NGX_OK or NGX_ERROR alike.  A document is
     * checked against its Content-Length; blobs are checked as they
     * stream.  A registry that sent its headers, then nothing for as long
     * as the proxy waits (proxy_read_timeout), timed out: the upstream
     * module only logs "upstream timed out".
     */

    if (ctx->sr_kind == NGX_HTTP_SQUASH_SR_DOC && !ctx->sr_failed
        && ctx->sr_status == NGX_HTTP_OK
        && sr->headers_out.content_length_n >= 0
        && (off_t) ctx->doc.len != sr->headers_out.content_length_n)
    {
        ctx->sr_truncated = 1;
    }

    if ((rc == NGX_ERROR || ctx->sr_truncated
         || (ctx->sr_kind == NGX_HTTP_SQUASH_SR_BLOB && !ctx->blob_last))
        && sr->upstream && sr->upstream->conf
        && ngx_current_msec - ctx->sr_last + NGX_TIMER_LAZY_DELAY
           >= sr->upstream->conf->read_timeout)
    {
        /* nginx keeps a timer that is off by less than the lazy delay */
        ctx->sr_timedout = 1;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, sr->connection->log, 0,
                   "squash subrequest done: rc %i, status %ui, %uz bytes",
                   rc, ctx->sr_status, ctx->doc.len);

    if (ctx->sr_kind != NGX_HTTP_SQUASH_SR_BLOB) {
        /* the main request answers for it */
        return NGX_OK;
    }

    return ngx_http_squash_blob_done(sr, ctx, rc);
}


static ngx_int_t
ngx_http_squash_probe_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_squash_ctx_t  *ctx = data;

    ngx_http_squash_probe_t  *p;

    p = ngx_http_squash_probe_of(ctx, sr);

    if (p == NULL || p->done) {
        return rc;
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE
        && rc != NGX_HTTP_CLIENT_CLOSED_REQUEST
        && rc != NGX_HTTP_REQUEST_TIME_OUT)
    {
        /* its error page first: called again */
        return rc;
    }

    if (rc != NGX_ERROR && !p->failed && (sr->buffered || sr->postponed)) {
        return rc;
    }

    p->done = 1;
    p->status = (rc == NGX_OK || rc == NGX_AGAIN) ? sr->headers_out.status
                                                  : 0;
    p->total = ngx_http_squash_blob_length(sr, p->status);
    ctx->probes_inflight--;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, sr->connection->log, 0,
                   "squash size probe done: rc %i, status %ui, %uz bytes "
                   "of %O", rc, p->status, p->len, p->total);

    /* the main request goes on */

    if (ngx_http_post_request(ctx->request, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A blob's length from a probe's answer: the total of its Content-Range
 * (206 from a proxied registry), or its Content-Length (200, and 206
 * from nginx's own range filter, which in a subrequest sets no
 * Content-Range and leaves the whole length); -1 when neither tells
 */

static off_t
ngx_http_squash_blob_length(ngx_http_request_t *sr, ngx_uint_t status)
{
    u_char     *p, *last;
    off_t       total;
    ngx_str_t  *v;

    if (status == NGX_HTTP_OK
        || (status == NGX_HTTP_PARTIAL_CONTENT
            && sr->headers_out.content_range == NULL
            && sr->upstream == NULL))
    {
        return sr->headers_out.content_length_n;
    }

    if (status != NGX_HTTP_PARTIAL_CONTENT
        || sr->headers_out.content_range == NULL)
    {
        return -1;
    }

    /* "bytes START-END/TOTAL" */

    v = &sr->headers_out.content_range->value;
    last = v->data + v->len;

    p = ngx_strlchr(v->data, last, '/');
    if (p == NULL || p + 1 == last) {
        return -1;
    }

    total = ngx_atoof(p + 1, last - p - 1);

    return total >= 0 ? total : -1;
}


ngx_int_t
ngx_http_squash_doc_status(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    const char *what)
{
    ngx_uint_t  status;

    if (ctx->sr_failed) {
        return NGX_HTTP_BAD_GATEWAY;
    }

    if (ctx->sr_timedout) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: %s of \"%V\": the registry timed out",
                      what, &ctx->name);
        return NGX_HTTP_GATEWAY_TIME_OUT;
    }

    if (ctx->sr_truncated
        || (ctx->sr_rc == NGX_ERROR && ctx->sr_status == NGX_HTTP_OK))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: %s of \"%V\": the registry's answer broke "
                      "off after %uz bytes", what, &ctx->name, ctx->doc.len);
        return NGX_HTTP_BAD_GATEWAY;
    }

    status = ctx->sr_status;

    if (status == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: %s of \"%V\": registry fetch failed (%i)",
                      what, &ctx->name, ctx->sr_rc);

        return ctx->sr_rc == NGX_HTTP_GATEWAY_TIME_OUT
               ? NGX_HTTP_GATEWAY_TIME_OUT : NGX_HTTP_BAD_GATEWAY;
    }

    if (status == NGX_HTTP_OK) {
        return NGX_OK;
    }

    if (status == NGX_HTTP_UNAUTHORIZED || status == NGX_HTTP_FORBIDDEN
        || status == NGX_HTTP_TOO_MANY_REQUESTS)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: %s of \"%V\": registry answered %ui",
                      what, &ctx->name, status);

        if (ngx_http_squash_pass_headers(r, ctx, "WWW-Authenticate")
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        return status;
    }

    if (status == NGX_HTTP_NOT_FOUND
        && ctx->state == NGX_HTTP_SQUASH_MANIFEST)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: manifest \"%V:%V\" not found",
                      &ctx->name, &ctx->reference);
        return NGX_HTTP_NOT_FOUND;
    }

    if (status == NGX_HTTP_NOT_FOUND && ctx->state == NGX_HTTP_SQUASH_PING) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: %s of \"%V\" not found", what, &ctx->name);
        return NGX_HTTP_NOT_FOUND;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "squash: %s of \"%V\": registry answered %ui",
                  what, &ctx->name, status);

    return ctx->sr_status == NGX_HTTP_GATEWAY_TIME_OUT
           ? NGX_HTTP_GATEWAY_TIME_OUT : NGX_HTTP_BAD_GATEWAY;
}


/*
 * The registry's response headers of that name go to the client: its
 * WWW-Authenticate challenges, the Link of a tags list
 */

ngx_int_t
ngx_http_squash_pass_headers(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, char *name)
{
    size_t             len;
    ngx_uint_t         i, challenge;
    ngx_list_part_t   *part;
    ngx_table_elt_t   *h, *copy;
#if (nginx_version >= 1023000)
    ngx_table_elt_t  **ph;
#endif

    if (ctx->sr_headers == NULL) {
        return NGX_OK;
    }

    len = ngx_strlen(name);
    challenge = (ngx_strcasecmp((u_char *) name,
                                (u_char *) "WWW-Authenticate")
                 == 0);

    part = &ctx->sr_headers->part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0
            || h[i].key.len != len
            || ngx_strncasecmp(h[i].key.data, (u_char *) name, len) != 0)
        {
            continue;
        }

        copy = ngx_list_push(&r->headers_out.headers);
        if (copy == NULL) {
            return NGX_ERROR;
        }

        *copy = h[i];

#if (nginx_version >= 1023000)
        copy->next = NULL;
#endif

        if (!challenge) {
            continue;
        }

#if (nginx_version >= 1023000)
        /* since 1.23, repeated headers are linked through next */

        for (ph = &r->headers_out.www_authenticate; *ph; ph = &(*ph)->next) {
            /* void */
        }

        *ph = copy;
#else
        if (r->headers_out.www_authenticate == NULL) {
            r->headers_out.www_authenticate = copy;
        }
#endif
    }

    return NGX_OK;
}
