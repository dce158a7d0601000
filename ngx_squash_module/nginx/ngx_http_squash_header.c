
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the response header and what goes out before the layers.
 * The names the archive gives the image, the ETag (a strong validator of
 * the archive's bytes), caching, a range, then the header and the
 * archive's prefix.
 */


#include "ngx_http_squash_module.h"


static ngx_int_t ngx_http_squash_etag(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);


/*
 * The names the archive gives the image, "<host>/<name>" and
 * "<tag><suffix>": both must be valid references, or the client gets a
 * 400 (NGX_DECLINED) before anything is fetched.
 */

ngx_int_t
ngx_http_squash_names(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    u_char                      *p, *tag;
    size_t                       len;
    ngx_str_t                    host;
    ngx_http_core_srv_conf_t    *cscf;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    if (slcf->hostname) {
        if (ngx_http_complex_value(r, slcf->hostname, &host) != NGX_OK) {
            return NGX_ERROR;
        }

    } else {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        host = cscf->server_name;
    }

    if (host.len == 0) {
        ngx_str_set(&host, "localhost");
    }

    if (!squash_is_host((char *) host.data, host.len)
        || host.len + 1 + ctx->name.len > 255)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: \"%V/%V\" is not a valid image name",
                      &host, &ctx->name);
        return NGX_DECLINED;
    }

    len = host.len + 1 + ctx->name.len + 1;
    ctx->repo = ngx_pnalloc(r->pool, len);
    if (ctx->repo == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf((u_char *) ctx->repo, "%V/%V", &host, &ctx->name);
    *p = '\0';

    /* a digest has no tag: "sha256-<12 hex>" stands for it */

    len = ctx->reference.len + slcf->tag_suffix.len + 1;
    tag = ngx_pnalloc(r->pool, len);
    if (tag == NULL) {
        return NGX_ERROR;
    }

    if (squash_reference_kind((char *) ctx->reference.data,
                              ctx->reference.len) == SQUASH_REF_DIGEST)
    {
        p = ngx_sprintf(tag, "sha256-%*s%V", (size_t) 12,
                        ctx->reference.data + 7, &slcf->tag_suffix);

    } else {
        p = ngx_sprintf(tag, "%V%V", &ctx->reference, &slcf->tag_suffix);
    }

    *p = '\0';

    if (squash_reference_kind((char *) tag, p - tag) != SQUASH_REF_TAG) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: \"%s\" is not a valid image tag", tag);
        return NGX_DECLINED;
    }

    ctx->tag = (char *) tag;

    return NGX_OK;
}


/*
 * The ETag names everything the bytes depend on (squash_job_etag()); the
 * not_modified filter answers If-None-Match with it.
 */

static ngx_int_t
ngx_http_squash_etag(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    char              hex[SQUASH_HEX_LEN + 1];
    ngx_table_elt_t  *etag;

    if (squash_job_etag(&ctx->job, hex) != SQUASH_OK) {
        return NGX_ERROR;
    }

    etag = ngx_list_push(&r->headers_out.headers);
    if (etag == NULL) {
        return NGX_ERROR;
    }

    etag->value.data = ngx_pnalloc(r->pool, 34);
    if (etag->value.data == NULL) {
        return NGX_ERROR;
    }

    etag->hash = 1;
#if (nginx_version >= 1023000)
    etag->next = NULL;
#endif
    ngx_str_set(&etag->key, "ETag");
    etag->value.len = ngx_sprintf(etag->value.data, "\"%s\"", hex)
                      - etag->value.data;

    r->headers_out.etag = etag;

    return NGX_OK;
}


ngx_int_t
ngx_http_squash_set_header(ngx_http_request_t *r, char *key, char *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);

    return NGX_OK;
}


ngx_int_t
ngx_http_squash_send_header(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    u_char                      *p, *value, *last;
    size_t                       len;
    ngx_int_t                    rc;
    squash_archive_t            *a;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    if (squash_job_start(&ctx->job, (char *) ctx->name.data, ctx->name.len,
                         ctx->repo, ctx->tag, slcf->formats,
                         ngx_http_squash_layer_size(ctx))
        != SQUASH_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: \"%V\": %s", &ctx->name, ctx->job.err);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    a = &ctx->job.archive;

    if (ngx_http_squash_etag(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    len = sizeof("attachment; filename=\"_.tar\"") + ctx->name.len
          + ngx_strlen(ctx->tag);
    value = ngx_pnalloc(r->pool, len);
    if (value == NULL) {
        return NGX_ERROR;
    }

    last = ngx_sprintf(value, "attachment; filename=\"%V_%s.tar\"",
                       &ctx->name, ctx->tag);
    *last = '\0';

    for (p = value; p < last; p++) {
        if (*p == '/') {
            *p = '_';
        }
    }

    if (ngx_http_squash_set_header(r, "Content-Disposition", (char *) value)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: layer.tar %uL bytes for %uL unpacked, "
                   "archive %uL", a->layer_size, ctx->unpacked, a->total);

    /* cached for ever when asked for by digest, by tag until it moves */

    rc = ngx_http_squash_stream_header(r, ctx, (off_t) a->total,
                                       "application/x-tar",
                                       squash_reference_kind(
                                           (char *) ctx->reference.data,
                                           ctx->reference.len)
                                       == SQUASH_REF_DIGEST);

    if (rc == NGX_DONE) {
        ctx->state = NGX_HTTP_SQUASH_FINISHED;
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_squash_output(r, ctx, a->prefix.data, a->prefix.len, 0);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    ctx->layer = 0;
    ctx->state = NGX_HTTP_SQUASH_LAYER;

    return NGX_OK;
}


/*
 * The header of a body of total bytes made as it streams (the archive, a
 * layer blob), after the caller's own headers: the same request gives the
 * same bytes, so ranges of them are served (a whole one, or a range with
 * Content-Range; NGX_HTTP_RANGE_NOT_SATISFIABLE with its Content-Range),
 * and cached: for ever where it is named by digest (immutable), else until
 * its tag moves.  NGX_OK, NGX_DONE when only the header was asked for,
 * a status before the header, or NGX_ERROR.
 */

/* the status, length and type of an answer the module makes itself */

void
ngx_http_squash_set_response(ngx_http_request_t *r, ngx_uint_t status,
    off_t length, char *type)
{
    r->headers_out.status = status;
    r->headers_out.content_length_n = length;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
}


ngx_int_t
ngx_http_squash_stream_header(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, off_t total, char *type,
    ngx_uint_t immutable)
{
    u_char     *value, *last;
    ngx_int_t   rc;

    ngx_http_squash_set_response(r, NGX_HTTP_OK, total, type);
    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    r->allow_ranges = 0;

    if (ngx_http_squash_set_header(r, "Accept-Ranges", "bytes") != NGX_OK
        || ngx_http_squash_set_header(r, "Cache-Control",
                                      immutable
                                      ? "public, max-age=31536000, immutable"
                                      : "no-cache")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_squash_range(r, ctx, total);

    if (rc == NGX_HTTP_RANGE_NOT_SATISFIABLE || ctx->ranged) {
        value = ngx_pnalloc(r->pool, sizeof("bytes -/") + 3 * NGX_OFF_T_LEN);
        if (value == NULL) {
            return NGX_ERROR;
        }

        if (ctx->ranged) {
            last = ngx_sprintf(value, "bytes %O-%O/%O", ctx->range_start,
                               ctx->range_end - 1, total);
        } else {
            last = ngx_sprintf(value, "bytes */%O", total);
        }

        *last = '\0';

        if (ngx_http_squash_set_header(r, "Content-Range", (char *) value)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (ctx->ranged) {
        r->headers_out.status = NGX_HTTP_PARTIAL_CONTENT;
        r->headers_out.content_length_n = ctx->range_end - ctx->range_start;
    }

    ctx->header_sent = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return NGX_ERROR;
    }

    return r->header_only ? NGX_DONE : NGX_OK;
}
