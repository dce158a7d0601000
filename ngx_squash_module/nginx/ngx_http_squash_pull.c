
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the registry API (squash_pull).  Every image is served in
 * its squashed form, under the upstream's name and reference:
 *
 *   GET /v2/                            the upstream's answer, or its
 *                                       challenge
 *   GET /v2/<name>/tags/list            the upstream's tags, each served
 *                                       squashed
 *   GET|HEAD /v2/<name>/manifests/<tag> a manifest with one layer, OCI or
 *                                       Docker schema 2 as Accept asks; for
 *                                       an index, an index (or a manifest
 *                                       list) of such manifests
 *   GET|HEAD /v2/<name>/manifests/<digest>
 *   GET|HEAD /v2/<name>/blobs/<digest>  its config; its layer.tar, merged
 *                                       as it streams
 *
 * A manifest names the layer's digest, so its first request merges the
 * layers once to count and hash layer.tar (ngx_http_squash_size.c); the
 * size cache keeps the result, and each digest served with the image it
 * is made from.  A digest the edge has not served, or no longer knows,
 * is unknown: the client gets the API's 404, and pulling again by tag
 * works.
 *
 * With squash_keep_layers N, the bottom N layers are the upstream's own
 * blobs (an internal redirect to the registry location serves them), and
 * the layers above are merged as a diff over them.
 */


#include "ngx_http_squash_module.h"


/* Docker's media types, not OCI's */
#define ngx_http_squash_pull_docker(ctx)                                      \
    ((ctx)->served == NGX_HTTP_SQUASH_SERVED_DOCKER                           \
     || (ctx)->served == NGX_HTTP_SQUASH_SERVED_LIST)


static ngx_int_t ngx_http_squash_pull_tags_args(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_pull_digest(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_uint_t ngx_http_squash_pull_accept(ngx_http_request_t *r);
static ngx_int_t ngx_http_squash_pull_served(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_uint_t kind);
static ngx_int_t ngx_http_squash_pull_index(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_pull_doc(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, const char *what, char *digest, char *type,
    const char *data, size_t len);
static ngx_int_t ngx_http_squash_pull_layer(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_pull_send(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_uint_t status, char *type,
    const void *data, size_t len);


/*
 * The route, name and reference of the request; a digest is mapped to
 * the image it was served from.  NGX_OK, or the status to answer with.
 */

ngx_int_t
ngx_http_squash_pull_route(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    int                rc;
    squash_api_path_t  p;

    rc = squash_api_path((char *) r->uri.data, r->uri.len, &p);

    if (rc != SQUASH_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: \"%V\" is not served: %s", &r->uri, p.error);
        ctx->api_error = p.error;
        return (rc == SQUASH_NOT_FOUND) ? NGX_HTTP_NOT_FOUND
                                        : NGX_HTTP_BAD_REQUEST;
    }

    ctx->route = p.route;

    if (p.route == SQUASH_API_BASE) {
        return NGX_OK;
    }

    ctx->name.data = (u_char *) p.name;
    ctx->name.len = p.name_len;

    if (p.route == SQUASH_API_TAGS) {
        return ngx_http_squash_pull_tags_args(r, ctx);
    }

    ctx->reference.data = (u_char *) p.reference;
    ctx->reference.len = p.reference_len;

    if (squash_reference_kind(p.reference, p.reference_len)
        == SQUASH_REF_DIGEST)
    {
        return ngx_http_squash_pull_digest(r, ctx);
    }

    ctx->served = ngx_http_squash_pull_accept(r);

    return NGX_OK;
}


/* a tags list's pagination (n, last) goes to the registry, checked */

static ngx_int_t
ngx_http_squash_pull_tags_args(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx)
{
    u_char  *args;

    args = ngx_pnalloc(r->pool, SQUASH_API_TAGS_ARGS_LEN);
    if (args == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (squash_api_tags_args((char *) r->args.data, r->args.len,
                             (char *) args, SQUASH_API_TAGS_ARGS_LEN,
                             &ctx->api_error)
        != SQUASH_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: tags list arguments \"%V\": %s", &r->args,
                      ctx->api_error);
        return NGX_HTTP_BAD_REQUEST;
    }

    ctx->tags_args.data = args;
    ctx->tags_args.len = ngx_strlen(args);

    return NGX_OK;
}


/* a digest asked for: what the edge served it as, and from which image */

static ngx_int_t
ngx_http_squash_pull_digest(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_int_t                    known;
    ngx_http_squash_sizes_t      sizes;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    ngx_memcpy(ctx->want, ctx->reference.data, SQUASH_DIGEST_LEN);
    ctx->want[SQUASH_DIGEST_LEN] = '\0';

    ngx_memzero(&sizes, sizeof(ngx_http_squash_sizes_t));

    known = ngx_http_squash_cache_served_get(slcf->size_cache, &ctx->name,
                                             ctx->want, &sizes)
            == NGX_OK;

    if (known) {
        if (ctx->route == SQUASH_API_MANIFEST) {
            known = sizes.served == NGX_HTTP_SQUASH_SERVED_OCI
                    || sizes.served == NGX_HTTP_SQUASH_SERVED_DOCKER
                    || sizes.served == NGX_HTTP_SQUASH_SERVED_INDEX
                    || sizes.served == NGX_HTTP_SQUASH_SERVED_LIST;

        } else {
            known = sizes.served == NGX_HTTP_SQUASH_SERVED_CONFIG
                    || sizes.served == NGX_HTTP_SQUASH_SERVED_LAYER
                    || sizes.served == NGX_HTTP_SQUASH_SERVED_BASE;
        }
    }

    if (!known) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: %s of \"%V\" was not served here, or is "
                      "forgotten", ctx->want, &ctx->name);
        return NGX_HTTP_NOT_FOUND;
    }

    ctx->served = sizes.served;

    /* the image it is made from, fetched by its digest */

    ctx->reference.data = ngx_pnalloc(r->pool, SQUASH_DIGEST_LEN);
    if (ctx->reference.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(ctx->reference.data, sizes.source, SQUASH_DIGEST_LEN);
    ctx->reference.len = SQUASH_DIGEST_LEN;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: %s is %ui of \"%V\"", ctx->want, ctx->served,
                   &ctx->reference);

    return NGX_OK;
}


/* OCI where the client accepts it or says nothing, else Docker's */

static ngx_uint_t
ngx_http_squash_pull_accept(ngx_http_request_t *r)
{
    ngx_uint_t        i, docker;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    docker = 0;

    part = &r->headers_in.headers.part;
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

        if (h[i].key.len != sizeof("Accept") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Accept",
                               h[i].key.len)
               != 0)
        {
            continue;
        }

        if (squash_api_accepts((char *) h[i].value.data, h[i].value.len,
                               SQUASH_MT_OCI_MANIFEST))
        {
            return NGX_HTTP_SQUASH_SERVED_OCI;
        }

        if (squash_api_accepts((char *) h[i].value.data, h[i].value.len,
                               SQUASH_MT_DOCKER_MANIFEST))
        {
            docker = 1;
        }
    }

    return docker ? NGX_HTTP_SQUASH_SERVED_DOCKER : NGX_HTTP_SQUASH_SERVED_OCI;
}


/*
 * GET /v2/ and the tags: the registry's answer (a JSON document), or its
 * challenge
 */

ngx_int_t
ngx_http_squash_pull_ping(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_int_t  status;

    status = ngx_http_squash_doc_status(r, ctx,
                                        ctx->route == SQUASH_API_TAGS
                                        ? "tags" : "API version check");
    if (status != NGX_OK) {
        return status;
    }

    /* the next page of a tags list */

    if (ctx->route == SQUASH_API_TAGS
        && ngx_http_squash_pass_headers(r, ctx, "Link") != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_squash_pull_send(r, ctx, NGX_HTTP_OK, "application/json",
                                     ctx->doc.data, ctx->doc.len);
}


/*
 * The image and its layer's size and digest are known: the manifest, the
 * config, or the header of the layer, which then streams
 */

ngx_int_t
ngx_http_squash_pull_answer(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_uint_t          kind;
    squash_job_docs_t  *d;

    if (ctx->served == NGX_HTTP_SQUASH_SERVED_LAYER) {
        return ngx_http_squash_pull_layer(r, ctx);
    }

    if (squash_job_documents(&ctx->job, (char *) ctx->name.data,
                             ctx->name.len, ngx_http_squash_pull_docker(ctx),
                             ngx_http_squash_layer_size(ctx))
        != SQUASH_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: \"%V\": %s", &ctx->name, ctx->job.err);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    d = &ctx->job.docs;

    if (ctx->served == NGX_HTTP_SQUASH_SERVED_CONFIG) {
        return ngx_http_squash_pull_doc(r, ctx, "config", d->config_digest,
                                        "application/octet-stream",
                                        d->config, d->config_len);
    }

    kind = ngx_http_squash_pull_docker(ctx) ? NGX_HTTP_SQUASH_SERVED_DOCKER
                                            : NGX_HTTP_SQUASH_SERVED_OCI;

    if (ngx_http_squash_pull_served(r, ctx, kind) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx->job.nitems) {
        /* one image of an index: on to the next */

        if (squash_job_index_add(&ctx->job) != SQUASH_OK) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "squash: \"%V\": %s", &ctx->name, ctx->job.err);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_squash_pull_image(r, ctx);
    }

    return ngx_http_squash_pull_doc(r, ctx, "manifest", d->manifest_digest,
                                    (char *) d->manifest_type, d->manifest,
                                    d->manifest_len);
}


/*
 * The next image of an index served whole, its state made new; after the
 * last, the index
 */

ngx_int_t
ngx_http_squash_pull_image(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    if (squash_job_index_next(&ctx->job) != SQUASH_OK) {
        return ngx_http_squash_pull_index(r, ctx);
    }

    ctx->probes = NULL;
    ctx->probe_next = 0;
    ctx->probes_inflight = 0;
    ctx->count_next = 0;
    ctx->unpacked = 0;
    ctx->cached_size = 0;
    ctx->size_source = 0;
    ctx->layer = 0;
    ctx->measuring = 0;
    ctx->counting = 0;
    ctx->count_sizes = 0;
    ctx->refetching = 0;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: image %uz of %uz of the index: %s",
                   ctx->job.item + 1, ctx->job.nitems,
                   ctx->job.manifest.chosen.digest);

    ctx->state = NGX_HTTP_SQUASH_PLATFORM_MANIFEST;

    return ngx_http_squash_fetch(r, ctx, NGX_HTTP_SQUASH_SR_DOC, "manifests",
                                 ctx->job.manifest.chosen.digest);
}


/* every image of the index squashed: the index of their manifests */

static ngx_int_t
ngx_http_squash_pull_index(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_uint_t                   kind;
    squash_job_docs_t           *d;
    ngx_http_squash_loc_conf_t  *slcf;

    if (ctx->job.nitems == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: the index \"%V:%V\" has no image of a known "
                      "platform", &ctx->name, &ctx->reference);
        return NGX_HTTP_NOT_FOUND;
    }

    if (squash_job_index_doc(&ctx->job, ngx_http_squash_pull_docker(ctx))
        != SQUASH_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: \"%V\": %s", &ctx->name, ctx->job.err);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    d = &ctx->job.docs;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    kind = ngx_http_squash_pull_docker(ctx) ? NGX_HTTP_SQUASH_SERVED_LIST
                                            : NGX_HTTP_SQUASH_SERVED_INDEX;

    ngx_http_squash_cache_served_put(slcf->size_cache, &ctx->name,
                                     d->manifest_digest, kind,
                                     ctx->job.index_digest,
                                     r->connection->log);

    return ngx_http_squash_pull_doc(r, ctx, "index", d->manifest_digest,
                                    (char *) d->manifest_type, d->manifest,
                                    d->manifest_len);
}


/*
 * A document: one asked for by digest must have it still (the same
 * upstream image gives the same bytes, unless the edge's settings, such
 * as squash_keep_layers, changed since); then its header and bytes
 */

static ngx_int_t
ngx_http_squash_pull_doc(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    const char *what, char *digest, char *type, const char *data, size_t len)
{
    if (ctx->want[0] && ngx_strcmp(ctx->want, digest) != 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "squash: %s %s of \"%V\" is %s now",
                      what, ctx->want, &ctx->name, digest);
        return NGX_HTTP_NOT_FOUND;
    }

    if (ngx_http_squash_set_header(r, "Docker-Content-Digest", digest)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_squash_pull_send(r, ctx, NGX_HTTP_OK, type, data, len);
}


/* the digests a manifest names, kept before the client asks for them */

static ngx_int_t
ngx_http_squash_pull_served(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    ngx_uint_t kind)
{
    size_t                       i;
    ngx_log_t                   *log;
    squash_job_docs_t           *d;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    d = &ctx->job.docs;
    log = r->connection->log;

    ngx_http_squash_cache_served_put(slcf->size_cache, &ctx->name,
                                     d->manifest_digest, kind,
                                     ctx->job.digest, log);
    ngx_http_squash_cache_served_put(slcf->size_cache, &ctx->name,
                                     d->config_digest,
                                     NGX_HTTP_SQUASH_SERVED_CONFIG,
                                     ctx->job.digest, log);
    ngx_http_squash_cache_served_put(slcf->size_cache, &ctx->name,
                                     ctx->job.diff_id,
                                     NGX_HTTP_SQUASH_SERVED_LAYER,
                                     ctx->job.digest, log);

    for (i = 0; i < ctx->job.keep; i++) {
        ngx_http_squash_cache_served_put(slcf->size_cache, &ctx->name,
                                         squash_job_layer(&ctx->job, i)->digest,
                                         NGX_HTTP_SQUASH_SERVED_BASE,
                                         ctx->job.digest, log);
    }

    return NGX_OK;
}


/*
 * A base layer kept as it is: the registry location answers for it, with
 * the client's headers (a range, credentials) and the registry's own
 */

ngx_int_t
ngx_http_squash_pull_base(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    u_char                      *p;
    ngx_str_t                    uri;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    uri.len = slcf->registry.len + sizeof("/v2//blobs/") - 1 + ctx->name.len
              + SQUASH_DIGEST_LEN;
    uri.data = ngx_pnalloc(r->pool, uri.len);
    if (uri.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(uri.data, "%V/v2/%V/blobs/%s", &slcf->registry,
                    &ctx->name, ctx->want);
    uri.len = p - uri.data;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: base layer, to \"%V\"", &uri);

    return ngx_http_internal_redirect(r, &uri, NULL);
}


/* the layer blob: layer.tar alone, merged as it streams */

static ngx_int_t
ngx_http_squash_pull_layer(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    uint64_t   size;
    ngx_int_t  rc;

    if (ngx_strcmp(ctx->want, ctx->job.diff_id) != 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "squash: layer %s of \"%V\" is %s now",
                      ctx->want, &ctx->name, ctx->job.diff_id);
        return NGX_HTTP_NOT_FOUND;
    }

    size = ngx_http_squash_layer_size(ctx);

    if (squash_job_start_layer(&ctx->job, size) != SQUASH_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: \"%V\": %s", &ctx->name, ctx->job.err);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_squash_set_header(r, "Docker-Content-Digest", ctx->want)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: layer blob %s, %uL bytes", ctx->want, size);

    rc = ngx_http_squash_stream_header(r, ctx, (off_t) size,
                                       "application/octet-stream", 1);

    if (rc == NGX_DONE) {
        ctx->state = NGX_HTTP_SQUASH_FINISHED;
        return NGX_OK;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    ctx->layer = 0;
    ctx->state = NGX_HTTP_SQUASH_LAYER;

    return NGX_OK;
}


/*
 * The layer has streamed: it must have the digest its manifest named.
 * If not, the transfer is cut short, and the image is counted again.
 */

ngx_int_t
ngx_http_squash_pull_check(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_http_squash_sizes_t      sizes;
    ngx_http_squash_loc_conf_t  *slcf;

    if (ngx_strcmp(ctx->want, ctx->job.diff_id) == 0) {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "squash: layer of \"%V\" streamed as %s, not %s, aborting",
                  &ctx->name, ctx->job.diff_id, ctx->want);

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    ngx_memzero(&sizes, sizeof(ngx_http_squash_sizes_t));
    sizes.stale = 1;

    ngx_http_squash_cache_put(slcf->size_cache, ctx->job.key, &sizes,
                              r->connection->log);

    return NGX_ERROR;
}


/* a status before the header, in the API's own JSON */

ngx_int_t
ngx_http_squash_pull_error(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    ngx_int_t status)
{
    char        *body, *code, *message;
    size_t       len;
    ngx_int_t    rc;

    code = (char *) ctx->api_error;

    switch (status) {

    case NGX_HTTP_NOT_FOUND:
        if (code) {
            message = "not served by this edge";

        } else if (ctx->route == SQUASH_API_TAGS) {
            code = "NAME_UNKNOWN";
            message = "repository name not known to registry";

        } else if (ctx->route == SQUASH_API_BLOB) {
            code = "BLOB_UNKNOWN";
            message = "blob unknown to registry";

        } else {
            code = "MANIFEST_UNKNOWN";
            message = "manifest unknown";
        }

        break;

    case NGX_HTTP_BAD_REQUEST:
        code = code ? code : "UNSUPPORTED";
        message = ctx->route == SQUASH_API_TAGS
                  ? "invalid pagination arguments"
                  : "invalid name or reference";
        break;

    case NGX_HTTP_UNAUTHORIZED:
        code = "UNAUTHORIZED";
        message = "authentication required";
        break;

    case NGX_HTTP_FORBIDDEN:
        code = "DENIED";
        message = "requested access to the resource is denied";
        break;

    case NGX_HTTP_NOT_ALLOWED:
        code = "UNSUPPORTED";
        message = "the edge is read-only";
        break;

    case NGX_HTTP_TOO_MANY_REQUESTS:
        code = "TOOMANYREQUESTS";
        message = "too many requests";
        break;

    case NGX_HTTP_UNSUPPORTED_MEDIA_TYPE:
        status = NGX_HTTP_NOT_FOUND;
        code = "MANIFEST_UNKNOWN";
        message = "the upstream manifest cannot be squashed";
        break;

    case NGX_HTTP_RANGE_NOT_SATISFIABLE:
        code = "SIZE_INVALID";
        message = "range not satisfiable";
        break;

    default:
        if (status < NGX_HTTP_SPECIAL_RESPONSE) {
            return status;
        }

        code = "UNKNOWN";
        message = "the edge could not serve this, see its error log";
        break;
    }

    body = squash_api_error(code, message, &len);
    if (body == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_squash_pull_send(r, ctx, status, "application/json", body,
                                   len);
    free(body);

    return rc;
}


/* a small body from memory, copied: the header, then the body */

static ngx_int_t
ngx_http_squash_pull_send(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    ngx_uint_t status, char *type, const void *data, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    ngx_http_squash_set_response(r, status, (off_t) len, type);

    ctx->header_sent = 1;
    ctx->state = NGX_HTTP_SQUASH_FINISHED;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return (rc == NGX_ERROR) ? NGX_ERROR : NGX_OK;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->pos, data, len);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_output_filter(r, &out);

    return (rc == NGX_ERROR) ? NGX_ERROR : NGX_OK;
}
