
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: GET /squash/<name>/<reference> streams the image as one
 * squashed archive.
 *
 * One state machine per request, driven by the main request's write
 * event handler: the manifest (and, for an index, the platform's
 * manifest), the config and the layer size probes come through
 * subrequests collected in memory; then the response header and the
 * archive prefix go out; then the layers, top down, one blob subrequest
 * at a time, each transformed by the body filter; the next starts once
 * the previous is done and the client has drained.  Zero padding, the
 * entries that need the layer digest and the end blocks close it.
 */


#include "ngx_http_squash_module.h"


#define NGX_HTTP_SQUASH_ZERO_SIZE   65536


static ngx_int_t ngx_http_squash_handler(ngx_http_request_t *r);
static void ngx_http_squash_wake(ngx_http_request_t *r);
static ngx_int_t ngx_http_squash_run(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_table_elt_t *ngx_http_squash_add_header(ngx_http_request_t *sr,
    char *key, char *lowcase, char *value);
static ngx_int_t ngx_http_squash_fetch(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_http_squash_sr_e kind,
    const char *what, const char *id);
static ngx_int_t ngx_http_squash_sr_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc);
static ngx_int_t ngx_http_squash_probe_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static uint64_t ngx_http_squash_tar_bound(uint64_t size);
static off_t ngx_http_squash_blob_length(ngx_http_request_t *sr,
    ngx_uint_t status);
static ngx_int_t ngx_http_squash_probe_result(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_uint_t i);
static ngx_int_t ngx_http_squash_doc_status(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, const char *what);
static ngx_int_t ngx_http_squash_copy_challenges(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_manifest(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_config(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_probe(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_count_layer(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, squash_blob_t *blob, ngx_uint_t ambiguous);
static ngx_int_t ngx_http_squash_etag(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_names(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_send_header(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_start_layer(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_end_layer(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_padding(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_restate(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_trailer(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx);
static ngx_int_t ngx_http_squash_output(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, u_char *p, size_t n, ngx_uint_t last);
static ngx_int_t ngx_http_squash_drained(ngx_http_request_t *r);
static void ngx_http_squash_delay_handler(ngx_event_t *ev);
static void ngx_http_squash_cleanup(void *data);
static void ngx_http_squash_warn(void *data, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static ngx_int_t ngx_http_squash_valid_name(ngx_str_t *s);
static ngx_int_t ngx_http_squash_valid_reference(ngx_str_t *s);
static ngx_int_t ngx_http_squash_parse_platform(ngx_pool_t *pool,
    ngx_str_t *s, squash_platform_t *p);

static void *ngx_http_squash_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_squash_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_squash(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_squash_platform(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_squash_formats(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_squash_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_squash_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_squash_init(ngx_conf_t *cf);


static u_char  ngx_http_squash_zeros[NGX_HTTP_SQUASH_ZERO_SIZE];


static ngx_conf_enum_t  ngx_http_squash_fallbacks[] = {
    { ngx_string("count"), NGX_HTTP_SQUASH_FALLBACK_COUNT },
    { ngx_string("fail"), NGX_HTTP_SQUASH_FALLBACK_FAIL },
    { ngx_null_string, 0 }
};


static ngx_conf_num_bounds_t  ngx_http_squash_layers_bounds = {
    ngx_conf_check_num_bounds, 1, 10000
};


static ngx_conf_num_bounds_t  ngx_http_squash_probes_bounds = {
    ngx_conf_check_num_bounds, 1, 64
};


static ngx_command_t  ngx_http_squash_commands[] = {

    { ngx_string("squash"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_squash,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("squash_registry"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_squash_loc_conf_t, registry),
      NULL },

    { ngx_string("squash_hostname"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_squash_loc_conf_t, hostname),
      NULL },

    { ngx_string("squash_platform"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_squash_platform,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_squash_loc_conf_t, platform),
      NULL },

    { ngx_string("squash_tag_suffix"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_squash_loc_conf_t, tag_suffix),
      NULL },

    { ngx_string("squash_formats"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_squash_formats,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("squash_size_fallback"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_squash_loc_conf_t, size_fallback),
      &ngx_http_squash_fallbacks },

    { ngx_string("squash_size_probes"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_squash_loc_conf_t, size_probes),
      &ngx_http_squash_probes_bounds },

    { ngx_string("squash_size_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_squash_size_cache,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("squash_buffers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_conf_set_bufs_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_squash_loc_conf_t, bufs),
      NULL },

    { ngx_string("squash_buffer_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_squash_loc_conf_t, buffer_size),
      NULL },

    { ngx_string("squash_max_document_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_squash_loc_conf_t, max_document_size),
      NULL },

    { ngx_string("squash_max_layers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_squash_loc_conf_t, max_layers),
      &ngx_http_squash_layers_bounds },

    { ngx_string("squash_merge_memory"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_squash_loc_conf_t, merge_memory),
      NULL },

      ngx_null_command
};


#define NGX_HTTP_SQUASH_VAR_LAYER_SIZE   0
#define NGX_HTTP_SQUASH_VAR_PADDING      1
#define NGX_HTTP_SQUASH_VAR_LAYERS       2
#define NGX_HTTP_SQUASH_VAR_DROPPED      3
#define NGX_HTTP_SQUASH_VAR_SOURCE       4


static ngx_http_variable_t  ngx_http_squash_vars[] = {

    { ngx_string("squash_layer_size"), NULL, ngx_http_squash_variable,
      NGX_HTTP_SQUASH_VAR_LAYER_SIZE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("squash_padding"), NULL, ngx_http_squash_variable,
      NGX_HTTP_SQUASH_VAR_PADDING, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("squash_layers"), NULL, ngx_http_squash_variable,
      NGX_HTTP_SQUASH_VAR_LAYERS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("squash_dropped"), NULL, ngx_http_squash_variable,
      NGX_HTTP_SQUASH_VAR_DROPPED, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("squash_size_source"), NULL, ngx_http_squash_variable,
      NGX_HTTP_SQUASH_VAR_SOURCE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_http_module_t  ngx_http_squash_module_ctx = {
    ngx_http_squash_add_variables,         /* preconfiguration */
    ngx_http_squash_init,                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_squash_create_loc_conf,       /* create location configuration */
    ngx_http_squash_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_squash_module = {
    NGX_MODULE_V1,
    &ngx_http_squash_module_ctx,           /* module context */
    ngx_http_squash_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_squash_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_str_t                    platform;
    ngx_pool_cleanup_t          *cln;
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

    if (ngx_http_squash_valid_name(&ctx->name) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: invalid image name \"%V\"", &ctx->name);
        return NGX_HTTP_BAD_REQUEST;
    }

    if (ngx_http_squash_valid_reference(&ctx->reference) != NGX_OK) {
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

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_squash_cleanup;
    cln->data = ctx;

    ctx->sha = EVP_MD_CTX_new();
    ctx->blob_sha = EVP_MD_CTX_new();

    if (ctx->sha == NULL || ctx->blob_sha == NULL
        || EVP_DigestInit_ex(ctx->sha, EVP_sha256(), NULL) != 1)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->merger = squash_merger_create(slcf->merge_memory,
                                       ngx_http_squash_warn, r);
    if (ctx->merger == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->last_out = &ctx->out;
    ctx->state = NGX_HTTP_SQUASH_MANIFEST;

    ctx->delay.handler = ngx_http_squash_delay_handler;
    ctx->delay.data = ctx;
    ctx->delay.log = r->connection->log;
    ctx->delay.cancelable = 1;

    ngx_http_set_ctx(r, ctx, ngx_http_squash_module);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: \"%V\" \"%V\" platform %V",
                   &ctx->name, &ctx->reference, &platform);

    rc = ngx_http_squash_fetch(r, ctx, NGX_HTTP_SQUASH_SR_DOC, "manifests",
                               NULL);
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

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE && ctx->header_sent) {
        rc = NGX_ERROR;
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_squash_run(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_int_t  rc;

    for ( ;; ) {

        if (ctx->sr && !ctx->sr_done) {
            return NGX_AGAIN;
        }

        switch (ctx->state) {

        case NGX_HTTP_SQUASH_MANIFEST:
        case NGX_HTTP_SQUASH_PLATFORM_MANIFEST:
            rc = ngx_http_squash_manifest(r, ctx);
            break;

        case NGX_HTTP_SQUASH_CONFIG:
            rc = ngx_http_squash_config(r, ctx);
            break;

        case NGX_HTTP_SQUASH_PROBE:
            rc = ngx_http_squash_probe(r, ctx);
            break;

        case NGX_HTTP_SQUASH_HEADER:
            rc = ngx_http_squash_send_header(r, ctx);
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
 * Starts a subrequest to "<registry>/v2/<name>/<what>/<id>" with a
 * header list of its own: the client's conditional and range headers
 * must not reach the registry, and ours must.
 */

static ngx_int_t
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
          + ngx_strlen(what) + 1 + idv->len;

    uri.data = ngx_pnalloc(r->pool, len);
    if (uri.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(uri.data, "%V/v2/%V/%s/%V", &slcf->registry, &ctx->name,
                    what, idv);
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

    if (ngx_http_subrequest(r, &uri, NULL, &sr, ps, flags) != NGX_OK) {
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

    if (ngx_strcmp(what, "manifests") == 0
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
    ctx->doc_len = 0;
    ctx->doc_max = slcf->max_document_size;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash fetch \"%V\" kind %d", &uri, (int) kind);

    return NGX_OK;
}


static ngx_int_t
ngx_http_squash_sr_done(ngx_http_request_t *sr, void *data, ngx_int_t rc)
{
    ngx_http_squash_ctx_t  *ctx = data;

    squash_blob_t  *blob;

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
        && (off_t) ctx->doc_len != sr->headers_out.content_length_n)
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
                   rc, ctx->sr_status, ctx->doc_len);

    if (ctx->sr_kind != NGX_HTTP_SQUASH_SR_BLOB) {
        /* the main request answers for it */
        return NGX_OK;
    }

    if (ctx->sr_failed) {
        /* the body filter has logged why */
        return NGX_ERROR;
    }

    blob = &ctx->manifest.layers[ctx->manifest.nlayers - 1 - ctx->layer];

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
                      "%s), aborting", blob->digest, rc, ctx->sr_status,
                      ctx->sr_timedout ? "the registry timed out"
                      : !ctx->blob_last ? "body truncated"
                      : ctx->blob_done ? "failed" : "incomplete");
        return NGX_ERROR;
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

    for (i = 0; i < ctx->manifest.nlayers; i++) {
        if (ctx->probes[i].sr == sr) {
            return &ctx->probes[i];
        }
    }

    return NULL;
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


static ngx_int_t
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
                      "off after %uz bytes", what, &ctx->name, ctx->doc_len);
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

    if (status == NGX_HTTP_UNAUTHORIZED || status == NGX_HTTP_FORBIDDEN) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: %s of \"%V\": registry answered %ui",
                      what, &ctx->name, status);

        if (ngx_http_squash_copy_challenges(r, ctx) != NGX_OK) {
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

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "squash: %s of \"%V\": registry answered %ui",
                  what, &ctx->name, status);

    return ctx->sr_status == NGX_HTTP_GATEWAY_TIME_OUT
           ? NGX_HTTP_GATEWAY_TIME_OUT : NGX_HTTP_BAD_GATEWAY;
}


/* the registry's WWW-Authenticate challenges go to the client */

static ngx_int_t
ngx_http_squash_copy_challenges(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx)
{
    ngx_uint_t         i;
    ngx_list_part_t   *part;
    ngx_table_elt_t   *h, *copy;
#if (nginx_version >= 1023000)
    ngx_table_elt_t  **ph;
#endif

    if (ctx->sr_headers == NULL) {
        return NGX_OK;
    }

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
            || h[i].key.len != sizeof("WWW-Authenticate") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "WWW-Authenticate",
                               h[i].key.len)
               != 0)
        {
            continue;
        }

        copy = ngx_list_push(&r->headers_out.headers);
        if (copy == NULL) {
            return NGX_ERROR;
        }

        *copy = h[i];

#if (nginx_version >= 1023000)
        /* since 1.23, repeated headers are linked through next */
        copy->next = NULL;

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


static ngx_int_t
ngx_http_squash_manifest(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    int                          rc;
    char                         err[SQUASH_ERRLEN], hex[SQUASH_HEX_LEN + 1],
                                 digest[SQUASH_DIGEST_LEN + 1];
    u_char                      *p;
    ngx_int_t                    status;
    ngx_uint_t                   level;
    ngx_http_squash_loc_conf_t  *slcf;

    status = ngx_http_squash_doc_status(r, ctx, "manifest");
    if (status != NGX_OK) {
        return status;
    }

    ctx->sr = NULL;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    if (squash_sha256_hex(ctx->doc, ctx->doc_len, hex) != SQUASH_OK) {
        return NGX_ERROR;
    }

    p = ngx_sprintf((u_char *) digest, "sha256:%s", hex);
    *p = '\0';

    /* a manifest asked for by digest must have it */

    if (ctx->state == NGX_HTTP_SQUASH_PLATFORM_MANIFEST
        ? ngx_strcmp(digest, ctx->manifest_digest) != 0
        : (squash_reference_kind((char *) ctx->reference.data,
                                 ctx->reference.len) == SQUASH_REF_DIGEST
           && ngx_strncmp(digest, ctx->reference.data, SQUASH_DIGEST_LEN)
              != 0))
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: manifest of \"%V\" has digest %s, not the "
                      "one asked for", &ctx->name, digest);
        return NGX_HTTP_BAD_GATEWAY;
    }

    rc = squash_manifest_parse((char *) ctx->doc, ctx->doc_len,
                               &ctx->manifest, slcf->max_layers, err);

    if (rc == SQUASH_UNSUPPORTED) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: manifest of \"%V:%V\": %s",
                      &ctx->name, &ctx->reference, err);
        return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
    }

    if (rc != SQUASH_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: manifest of \"%V:%V\": %s",
                      &ctx->name, &ctx->reference, err);
        return NGX_HTTP_BAD_GATEWAY;
    }

    if (ctx->manifest.kind == SQUASH_DOC_INDEX) {

        if (ctx->state == NGX_HTTP_SQUASH_PLATFORM_MANIFEST) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "squash: index of \"%V\" points to another index",
                          &ctx->name);
            return NGX_HTTP_BAD_GATEWAY;
        }

        rc = squash_index_select((char *) ctx->doc, ctx->doc_len,
                                 &ctx->platform, ctx->manifest_digest, err);

        if (rc != SQUASH_OK) {
            level = (rc == SQUASH_NOT_FOUND) ? NGX_LOG_INFO : NGX_LOG_ERR;

            ngx_log_error(level, r->connection->log, 0,
                          "squash: \"%V:%V\": %s", &ctx->name,
                          &ctx->reference, err);

            return rc == SQUASH_NOT_FOUND ? NGX_HTTP_NOT_FOUND
                                          : NGX_HTTP_BAD_GATEWAY;
        }

        ctx->state = NGX_HTTP_SQUASH_PLATFORM_MANIFEST;
        ctx->from_index = 1;

        return ngx_http_squash_fetch(r, ctx, NGX_HTTP_SQUASH_SR_DOC,
                                     "manifests", ctx->manifest_digest);
    }

    ngx_memcpy(ctx->manifest_digest, digest, SQUASH_DIGEST_LEN + 1);

    /* the V1 id: known up front, changes with the image */

    p = ngx_sprintf((u_char *) err, "ngx_squash:%s", digest);

    if (squash_sha256_hex(err, p - (u_char *) err, ctx->v1id) != SQUASH_OK) {
        return NGX_ERROR;
    }

    ctx->state = NGX_HTTP_SQUASH_CONFIG;

    return ngx_http_squash_fetch(r, ctx, NGX_HTTP_SQUASH_SR_DOC, "blobs",
                                 ctx->manifest.config.digest);
}


static ngx_int_t
ngx_http_squash_config(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    char        err[SQUASH_ERRLEN], hex[SQUASH_HEX_LEN + 1];
    ngx_int_t   status;
    ngx_uint_t  i;

    status = ngx_http_squash_doc_status(r, ctx, "config");
    if (status != NGX_OK) {
        return status;
    }

    ctx->sr = NULL;

    if (squash_sha256_hex(ctx->doc, ctx->doc_len, hex) != SQUASH_OK) {
        return NGX_ERROR;
    }

    if (ngx_strcmp(hex, ctx->manifest.config.digest + 7) != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: config of \"%V\" does not match its digest %s",
                      &ctx->name, ctx->manifest.config.digest);
        return NGX_HTTP_BAD_GATEWAY;
    }

    ctx->config = squash_config_parse((char *) ctx->doc, ctx->doc_len, err);

    if (ctx->config == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: config of \"%V\": %s", &ctx->name, err);
        return NGX_HTTP_BAD_GATEWAY;
    }

    /* every layer is checked against its diff_id as it streams */

    if (squash_config_diff_ids(ctx->config) != ctx->manifest.nlayers) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: config of \"%V\" has %uz diff_ids for %uz "
                      "layers", &ctx->name,
                      squash_config_diff_ids(ctx->config),
                      ctx->manifest.nlayers);
        return NGX_HTTP_BAD_GATEWAY;
    }

    for (i = 0; i < ctx->manifest.nlayers; i++) {
        if (squash_config_diff_id(ctx->config, i) == NULL) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "squash: config of \"%V\": diff_id %ui is not a "
                          "sha256 digest", &ctx->name, i + 1);
            return NGX_HTTP_BAD_GATEWAY;
        }
    }

    /* the platform chosen from an index names its variant */

    if (ctx->platform.variant && ctx->from_index
        && json_object_get(ctx->config, "variant") == NULL)
    {
        json_object_set_new(ctx->config, "variant",
                            json_string(ctx->platform.variant));
    }

    ctx->layer = 0;
    ctx->state = NGX_HTTP_SQUASH_PROBE;

    return NGX_OK;
}


/*
 * The size of each layer's tar: the blob size for plain tar; for gzip the
 * ISIZE (the last four bytes of the blob) where only one size fits it;
 * otherwise, and for zstd, the blob inflated once and counted
 * (squash_size_fallback).  A size cache hit skips all of it.
 */

static ngx_int_t
ngx_http_squash_probe(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    uint64_t                     size;
    ngx_int_t                    status;
    ngx_uint_t                   i, count;
    squash_blob_t               *blob;
    ngx_http_squash_probe_t     *p;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    if (ctx->probes == NULL) {

        if (ngx_http_squash_cache_get(slcf->size_cache, ctx->manifest_digest,
                                      &size, &count)
            == NGX_OK)
        {
            if (size) {
                ctx->cached_size = size;
                ctx->size_source = NGX_HTTP_SQUASH_SIZE_CACHE;
                ctx->state = NGX_HTTP_SQUASH_HEADER;
                return NGX_OK;
            }

            ctx->count_sizes = count ? 1 : 0;
        }

        ctx->probes = ngx_pcalloc(r->pool, ctx->manifest.nlayers
                                           * sizeof(ngx_http_squash_probe_t));
        if (ctx->probes == NULL) {
            return NGX_ERROR;
        }

        ctx->layer = 0;
    }

    /* ISIZE probes, squash_size_probes of them at a time */

    while (ctx->probes_inflight < slcf->size_probes
           && ctx->probe_next < ctx->manifest.nlayers)
    {
        blob = &ctx->manifest.layers[ctx->probe_next];
        p = &ctx->probes[ctx->probe_next];

        if (blob->size == 0) {
            p->used = 1;

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
            p->count = 1;
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

    if (ctx->probes_inflight || ctx->probe_next < ctx->manifest.nlayers) {
        return NGX_AGAIN;
    }

    /* then the layers to count, one at a time */

    if (ctx->sr) {
        blob = &ctx->manifest.layers[ctx->layer];

        status = ngx_http_squash_doc_status(r, ctx, "layer size count");
        if (status != NGX_OK) {
            return status;
        }

        ctx->sr = NULL;

        if (!ctx->count_eof || squash_decomp_finish(&ctx->count)
                               != SQUASH_OK)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "squash: layer %s: %s", blob->digest,
                          ctx->count_eof ? ctx->count.err
                                         : "blob ended early");
            return NGX_HTTP_BAD_GATEWAY;
        }

        if (ctx->count.in_total != (uint64_t) blob->size) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "squash: layer %s: the registry's blob has %uL "
                          "bytes, its descriptor says %O", blob->digest,
                          ctx->count.in_total, (off_t) blob->size);
            return NGX_HTTP_BAD_GATEWAY;
        }

        ctx->unpacked += ngx_http_squash_tar_bound(ctx->count.out_total);
        ctx->size_source |= NGX_HTTP_SQUASH_SIZE_COUNT;
        ctx->layer++;
    }

    for ( /* void */ ; ctx->layer < ctx->manifest.nlayers; ctx->layer++) {
        if (ctx->probes[ctx->layer].count) {
            blob = &ctx->manifest.layers[ctx->layer];
            return ngx_http_squash_count_layer(r, ctx, blob,
                                               ctx->probes[ctx->layer].done);
        }
    }

    ctx->state = NGX_HTTP_SQUASH_HEADER;

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


/* a probe's answer: the layer's size, or a layer to count */

static ngx_int_t
ngx_http_squash_probe_result(ngx_http_request_t *r,
    ngx_http_squash_ctx_t *ctx, ngx_uint_t i)
{
    u_char                   *d;
    uint32_t                  isize;
    uint64_t                  size;
    squash_blob_t            *blob;
    ngx_http_squash_probe_t  *p;

    blob = &ctx->manifest.layers[i];
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
            p->count = 1;
            return NGX_OK;
        }

        ctx->unpacked += ngx_http_squash_tar_bound((uint64_t) p->total);
        ctx->size_source |= NGX_HTTP_SQUASH_SIZE_PLAIN;
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
        isize = (uint32_t) d[0] | (uint32_t) d[1] << 8
                | (uint32_t) d[2] << 16 | (uint32_t) d[3] << 24;

        if (squash_gzip_size((uint64_t) blob->size, isize, &size)
            == SQUASH_OK)
        {
            ctx->unpacked += ngx_http_squash_tar_bound(size);
            ctx->size_source |= NGX_HTTP_SQUASH_SIZE_ISIZE;
            return NGX_OK;
        }

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: layer %s: no usable answer to the size probe "
                      "(status %ui, %uz bytes)", blob->digest, p->status,
                      p->len);
    }

    p->count = 1;

    return NGX_OK;
}


/* the fallback: inflate the blob once, count, discard */

static ngx_int_t
ngx_http_squash_count_layer(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    squash_blob_t *blob, ngx_uint_t ambiguous)
{
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    if (slcf->size_fallback == NGX_HTTP_SQUASH_FALLBACK_FAIL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: layer %s: the size of this %s layer is not "
                      "known up front, and squash_size_fallback is \"fail\"",
                      blob->digest, squash_comp_name(blob->comp));
        return NGX_HTTP_BAD_GATEWAY;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: layer %s: counting its size%s", blob->digest,
                   ambiguous ? ", ISIZE is ambiguous" : "");

    if (ctx->count_init) {
        squash_decomp_free(&ctx->count);
        ctx->count_init = 0;
    }

    if (squash_decomp_init(&ctx->count, blob->comp) != SQUASH_OK) {
        return NGX_ERROR;
    }

    ctx->count_init = 1;
    ctx->count_eof = 0;

    if (ctx->count_buf == NULL) {
        ctx->count_buf = ngx_palloc(r->pool, slcf->buffer_size);
        if (ctx->count_buf == NULL) {
            return NGX_ERROR;
        }
    }

    return ngx_http_squash_fetch(r, ctx, NGX_HTTP_SQUASH_SR_COUNT, "blobs",
                                 blob->digest);
}


/*
 * The ETag names everything the bytes depend on: the image (manifest
 * digest), the size promised for layer.tar, the names and the parts.
 * The not_modified filter answers If-None-Match with it.
 */

static ngx_int_t
ngx_http_squash_etag(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    u_char            *p, buf[1024];
    char               hex[SQUASH_HEX_LEN + 1];
    ngx_table_elt_t   *etag;
    squash_archive_t  *a;

    a = &ctx->archive;

    p = ngx_snprintf(buf, sizeof(buf), "%s %uL %ui %s %s", ctx->manifest_digest,
                     a->layer_size, (ngx_uint_t) a->formats, a->repo, a->tag);

    if (squash_sha256_hex(buf, p - buf, hex) != SQUASH_OK) {
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
    etag->value.len = ngx_sprintf(etag->value.data, "\"%*s\"", (size_t) 32,
                                  hex)
                      - etag->value.data;

    r->headers_out.etag = etag;

    return NGX_OK;
}


/*
 * The names the archive gives the image, "<host>/<name>" and
 * "<tag><suffix>": both must be valid references, or the client gets a
 * 400 (NGX_DECLINED) before anything is fetched.
 */

static ngx_int_t
ngx_http_squash_names(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    u_char                      *p, *tag;
    size_t                       len;
    ngx_str_t                    host;
    squash_archive_t            *a;
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

    if (!squash_host_valid((char *) host.data, host.len)
        || host.len + 1 + ctx->name.len > 255)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: \"%V/%V\" is not a valid image name",
                      &host, &ctx->name);
        return NGX_DECLINED;
    }

    a = &ctx->archive;

    len = host.len + 1 + ctx->name.len + 1;
    a->repo = ngx_pnalloc(r->pool, len);
    if (a->repo == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf((u_char *) a->repo, "%V/%V", &host, &ctx->name);
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

    a->tag = (char *) tag;

    return NGX_OK;
}


static ngx_int_t
ngx_http_squash_send_header(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    u_char                      *p, *created_by;
    size_t                       len;
    ngx_int_t                    rc;
    ngx_table_elt_t             *h;
    squash_archive_t            *a;
    ngx_http_squash_loc_conf_t  *slcf;

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    a = &ctx->archive;

    len = sizeof("ngx_squash: squashed  layers of @") + NGX_INT_T_LEN
          + ctx->name.len + SQUASH_DIGEST_LEN;
    created_by = ngx_pnalloc(r->pool, len);
    if (created_by == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(created_by, "ngx_squash: squashed %uz layers of %V@%s",
                    ctx->manifest.nlayers, &ctx->name, ctx->manifest_digest);
    *p = '\0';

    a->v1id = ctx->v1id;
    a->formats = slcf->formats;
    a->created_by = (char *) created_by;
    a->config = ctx->config;
    a->mtime = squash_config_created(ctx->config);

    /* merging only drops entries: the tar sizes plus end blocks bound it */

    a->layer_size = ctx->cached_size
                    ? ctx->cached_size
                    : (ctx->unpacked + 2 * SQUASH_TAR_BLOCK + SQUASH_TAR_BLOCK
                       - 1) & ~(uint64_t) (SQUASH_TAR_BLOCK - 1);

    if (squash_archive_start(a) != SQUASH_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: \"%V\": %s", &ctx->name, a->err);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_squash_etag(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = a->total;
    ngx_str_set(&r->headers_out.content_type, "application/x-tar");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    r->allow_ranges = 0;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    len = sizeof("attachment; filename=\"_.tar\"") + ctx->name.len
          + ngx_strlen(a->tag);
    h->value.data = ngx_pnalloc(r->pool, len);
    if (h->value.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(h->value.data, "attachment; filename=\"%V_%s.tar\"",
                    &ctx->name, a->tag);
    h->value.len = p - h->value.data;

    for (p = h->value.data; p < h->value.data + h->value.len; p++) {
        if (*p == '/') {
            *p = '_';
        }
    }

    h->hash = 1;
#if (nginx_version >= 1023000)
    h->next = NULL;
#endif
    ngx_str_set(&h->key, "Content-Disposition");

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: layer.tar %uL bytes for %uL unpacked, "
                   "archive %uL", a->layer_size, ctx->unpacked, a->total);

    ctx->header_sent = 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return NGX_ERROR;
    }

    if (r->header_only) {
        ctx->state = NGX_HTTP_SQUASH_FINISHED;
        return NGX_OK;
    }

    rc = ngx_http_squash_output(r, ctx, a->prefix.data, a->prefix.len, 0);
    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    ctx->layer = 0;
    ctx->state = NGX_HTTP_SQUASH_LAYER;

    return NGX_OK;
}


static ngx_int_t
ngx_http_squash_start_layer(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    ngx_int_t                    rc;
    squash_blob_t               *blob;
    ngx_http_squash_loc_conf_t  *slcf;

    rc = ngx_http_squash_drained(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ctx->layer == ctx->manifest.nlayers) {
        /* hard links whose target never showed up are dropped */
        squash_merger_finish(ctx->merger);
        ctx->state = NGX_HTTP_SQUASH_PADDING;
        return NGX_OK;
    }

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);

    blob = &ctx->manifest.layers[ctx->manifest.nlayers - 1 - ctx->layer];

    if (squash_layer_init(&ctx->lx, blob->comp, ctx->merger,
                          slcf->buffer_size, slcf->max_document_size,
                          ctx->refetching)
        != SQUASH_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: layer %s: %s", blob->digest, ctx->lx.err);
        squash_layer_free(&ctx->lx);
        return NGX_ERROR;
    }

    ctx->lx_init = 1;

    if (EVP_DigestInit_ex(ctx->blob_sha, EVP_sha256(), NULL) != 1) {
        return NGX_ERROR;
    }

    ctx->in = NULL;
    ctx->in_buf = NULL;
    ctx->blob_last = 0;
    ctx->blob_done = 0;

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: layer %ui of %uz: %s%s", ctx->layer + 1,
                   ctx->manifest.nlayers, blob->digest,
                   ctx->refetching ? ", again for hard links" : "");

    ctx->state = NGX_HTTP_SQUASH_LAYER_WAIT;

    return ngx_http_squash_fetch(r, ctx, NGX_HTTP_SQUASH_SR_BLOB, "blobs",
                                 blob->digest);
}


static ngx_int_t
ngx_http_squash_end_layer(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
#if (NGX_DEBUG)
    const squash_merger_stats_t  *st;
#endif

    /* a failed blob subrequest has torn the request down already */

    if (!ctx->blob_done) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "squash: layer ended unfinished");
        return NGX_ERROR;
    }

#if (NGX_DEBUG)
    st = squash_merger_stats(ctx->merger);
#endif

    ngx_log_debug5(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: layer %ui done, %uL entries, %uL emitted, "
                   "%uz paths in %uz bytes", ctx->layer + 1, st->entries,
                   st->emitted, squash_merger_paths(ctx->merger),
                   squash_merger_memory(ctx->merger));

    squash_layer_free(&ctx->lx);
    ctx->lx_init = 0;
    ctx->sr = NULL;
    ctx->state = NGX_HTTP_SQUASH_LAYER;

    /*
     * hard links to entries hidden earlier in the layer: the layer once
     * more, for those entries' data only
     */

    if (!ctx->refetching && squash_merger_refetch_pending(ctx->merger)) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "squash: %uz hard links need the layer again",
                       squash_merger_refetch_pending(ctx->merger));
        ctx->refetching = 1;
        return NGX_OK;
    }

    ctx->refetching = 0;
    ctx->layer++;

    return NGX_OK;
}


/*
 * Directories that lower layers' entries went into after them, written
 * again (squash_merger_restate()), where the promised size has room: the
 * lower layers' own entries of those directories, dropped, and their end
 * blocks usually make it; if not, they are left out (and logged)
 */

static ngx_int_t
ngx_http_squash_restate(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    uint64_t  room;

    if (squash_merger_restate(ctx->merger, &ctx->restate) != SQUASH_OK) {
        return NGX_ERROR;
    }

    if (ctx->restate.len == 0) {
        return NGX_OK;
    }

    room = ctx->archive.layer_size - 2 * SQUASH_TAR_BLOCK - ctx->layer_bytes;

    if (ctx->restate.len > room) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "squash: \"%V\": %uz bytes of directories to write "
                      "again do not fit the promised size, left out",
                      &ctx->name, ctx->restate.len);
        return NGX_OK;
    }

    if (ngx_http_squash_layer_bytes(r, ctx, ctx->restate.data,
                                    ctx->restate.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_squash_output(r, ctx, ctx->restate.data, ctx->restate.len,
                               0)
        == NGX_ERROR)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* the inner tar's end blocks and the zeros up to the promised size */

static ngx_int_t
ngx_http_squash_padding(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    size_t     n;
    ngx_int_t  rc;

    if (!ctx->merged_known) {
        if (ngx_http_squash_restate(r, ctx) != NGX_OK) {
            return NGX_ERROR;
        }

        ctx->merged = ctx->layer_bytes;
        ctx->merged_known = 1;
    }

    for ( ;; ) {
        rc = ngx_http_squash_drained(r);
        if (rc != NGX_OK) {
            return rc;
        }

        if (ctx->layer_bytes == ctx->archive.layer_size) {
            ctx->state = NGX_HTTP_SQUASH_TRAILER;
            return NGX_OK;
        }

        n = (size_t) ngx_min(ctx->archive.layer_size - ctx->layer_bytes,
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
    }
}


static ngx_int_t
ngx_http_squash_trailer(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx)
{
    char                         hex[SQUASH_HEX_LEN + 1];
    unsigned int                 n;
    unsigned char                md[EVP_MAX_MD_SIZE];
    ngx_http_squash_loc_conf_t  *slcf;

    if (EVP_DigestFinal_ex(ctx->sha, md, &n) != 1) {
        return NGX_ERROR;
    }

    squash_hex(md, n, hex);

    if (squash_archive_finish(&ctx->archive, hex) != SQUASH_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "squash: \"%V\": %s", &ctx->name, ctx->archive.err);
        return NGX_ERROR;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "squash: layer digest sha256:%s", hex);

    /* the exact size: the merged entries and two end blocks */

    slcf = ngx_http_get_module_loc_conf(r, ngx_http_squash_module);
    ngx_http_squash_cache_put(slcf->size_cache, ctx->manifest_digest,
                              ctx->merged + 2 * SQUASH_TAR_BLOCK, 0,
                              r->connection->log);

    ctx->state = NGX_HTTP_SQUASH_FINISHED;

    return ngx_http_squash_output(r, ctx, ctx->archive.trailer.data,
                                  ctx->archive.trailer.len, 1);
}


/* counts and hashes bytes of layer.tar; refuses to overrun its size */

ngx_int_t
ngx_http_squash_layer_bytes(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    u_char *p, size_t n)
{
    uint64_t                     limit;
    ngx_http_squash_loc_conf_t  *slcf;

    limit = ctx->archive.layer_size;

    if (ctx->state != NGX_HTTP_SQUASH_PADDING) {
        /* room for the end blocks */
        limit -= 2 * SQUASH_TAR_BLOCK;
    }

    if (n > limit - ctx->layer_bytes) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "squash: \"%V\": merged layer exceeds the promised "
                      "%uL bytes, aborting", &ctx->name,
                      ctx->archive.layer_size);

        /* the next request counts the layers instead of estimating */

        slcf = ngx_http_get_module_loc_conf(r->main, ngx_http_squash_module);
        ngx_http_squash_cache_put(slcf->size_cache, ctx->manifest_digest, 0,
                                  1, r->connection->log);
        return NGX_ERROR;
    }

    if (EVP_DigestUpdate(ctx->sha, p, n) != 1) {
        return NGX_ERROR;
    }

    ctx->layer_bytes += n;

    return NGX_OK;
}


static ngx_int_t
ngx_http_squash_output(ngx_http_request_t *r, ngx_http_squash_ctx_t *ctx,
    u_char *p, size_t n, ngx_uint_t last)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

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
    b->memory = n ? 1 : 0;
    b->last_buf = last;
    b->tag = (ngx_buf_tag_t) &ngx_http_squash_module;

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

static ngx_int_t
ngx_http_squash_drained(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    ngx_event_t               *wev;
    ngx_connection_t          *c;
    ngx_http_core_loc_conf_t  *clcf;
    ngx_http_squash_ctx_t     *ctx;

    c = r->connection;
    wev = c->write;

    if (c->buffered || r->buffered) {
        rc = ngx_http_output_filter(r, NULL);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        ctx = ngx_http_get_module_ctx(r, ngx_http_squash_module);
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


static void
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


static void
ngx_http_squash_cleanup(void *data)
{
    ngx_http_squash_ctx_t  *ctx = data;

    if (ctx->delay.timer_set) {
        ngx_del_timer(&ctx->delay);
    }

    if (ctx->lx_init) {
        squash_layer_free(&ctx->lx);
        ctx->lx_init = 0;
    }

    squash_merger_destroy(ctx->merger);
    ctx->merger = NULL;

    EVP_MD_CTX_free(ctx->sha);
    ctx->sha = NULL;
    EVP_MD_CTX_free(ctx->blob_sha);
    ctx->blob_sha = NULL;

    if (ctx->count_init) {
        squash_decomp_free(&ctx->count);
        ctx->count_init = 0;
    }

    squash_archive_free(&ctx->archive);
    squash_manifest_free(&ctx->manifest);
    squash_bytes_free(&ctx->restate);

    if (ctx->config) {
        json_decref(ctx->config);
        ctx->config = NULL;
    }
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


static ngx_int_t
ngx_http_squash_valid_name(ngx_str_t *s)
{
    return squash_name_valid((char *) s->data, s->len) ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_squash_valid_reference(ngx_str_t *s)
{
    return squash_reference_kind((char *) s->data, s->len) ? NGX_OK
                                                            : NGX_ERROR;
}


static ngx_int_t
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


static void *
ngx_http_squash_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_squash_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_squash_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->name = NULL;
     *     conf->reference = NULL;
     *     conf->registry = { 0, NULL };
     *     conf->hostname = NULL;
     *     conf->platform = { 0, NULL };
     *     conf->tag_suffix = { 0, NULL };
     *     conf->bufs.num = 0;
     */

    conf->buffer_size = NGX_CONF_UNSET_SIZE;
    conf->max_document_size = NGX_CONF_UNSET_SIZE;
    conf->merge_memory = NGX_CONF_UNSET_SIZE;
    conf->max_layers = NGX_CONF_UNSET_UINT;
    conf->formats = NGX_CONF_UNSET_UINT;
    conf->size_fallback = NGX_CONF_UNSET_UINT;
    conf->size_probes = NGX_CONF_UNSET_UINT;
    conf->size_cache = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_squash_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_squash_loc_conf_t *prev = parent;
    ngx_http_squash_loc_conf_t *conf = child;

    ngx_conf_merge_str_value(conf->registry, prev->registry, "");
    ngx_conf_merge_str_value(conf->platform, prev->platform, "linux/amd64");
    ngx_conf_merge_str_value(conf->tag_suffix, prev->tag_suffix, ".squash");
    ngx_conf_merge_bufs_value(conf->bufs, prev->bufs, 4, 64 * 1024);
    ngx_conf_merge_size_value(conf->buffer_size, prev->buffer_size,
                              64 * 1024);
    ngx_conf_merge_size_value(conf->max_document_size,
                              prev->max_document_size, 4 * 1024 * 1024);
    ngx_conf_merge_size_value(conf->merge_memory, prev->merge_memory,
                              64 * 1024 * 1024);
    ngx_conf_merge_uint_value(conf->max_layers, prev->max_layers, 128);
    ngx_conf_merge_uint_value(conf->formats, prev->formats,
                              SQUASH_FORMAT_ALL);
    ngx_conf_merge_uint_value(conf->size_fallback, prev->size_fallback,
                              NGX_HTTP_SQUASH_FALLBACK_COUNT);
    ngx_conf_merge_ptr_value(conf->size_cache, prev->size_cache, NULL);
    ngx_conf_merge_uint_value(conf->size_probes, prev->size_probes, 4);

    if (conf->hostname == NULL) {
        conf->hostname = prev->hostname;
    }

    if (conf->registry.len && conf->registry.data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"squash_registry\" must be a location prefix "
                           "starting with \"/\", not \"%V\"", &conf->registry);
        return NGX_CONF_ERROR;
    }

    while (conf->registry.len > 1
           && conf->registry.data[conf->registry.len - 1] == '/')
    {
        conf->registry.len--;
    }

    if (conf->name && conf->registry.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"squash\" requires \"squash_registry\"");
        return NGX_CONF_ERROR;
    }

    if (conf->buffer_size < 4096) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"squash_buffer_size\" must be at least 4k");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_squash(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_squash_loc_conf_t *slcf = conf;

    ngx_str_t                         *value;
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_compile_complex_value_t   ccv;

    if (slcf->name) {
        return "is duplicate";
    }

    value = cf->args->elts;

    slcf->name = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    slcf->reference = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (slcf->name == NULL || slcf->reference == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = slcf->name;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = slcf->reference;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_squash_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_squash_platform(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char               *rv;
    ngx_str_t          *value;
    squash_platform_t   p;

    rv = ngx_conf_set_str_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    value = cf->args->elts;

    if (ngx_http_squash_parse_platform(cf->temp_pool, &value[1], &p)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid platform \"%V\", expected "
                           "\"os/arch[/variant]\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_squash_formats(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_squash_loc_conf_t *slcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    static ngx_conf_bitmask_t  formats[] = {
        { ngx_string("legacy"), SQUASH_FORMAT_LEGACY },
        { ngx_string("docker"), SQUASH_FORMAT_DOCKER },
        { ngx_string("oci"), SQUASH_FORMAT_OCI },
        { ngx_null_string, 0 }
    };

    ngx_conf_bitmask_t  *f;

    if (slcf->formats != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    slcf->formats = 0;
    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        for (f = formats; f->name.len; f++) {
            if (f->name.len == value[i].len
                && ngx_strcmp(f->name.data, value[i].data) == 0)
            {
                break;
            }
        }

        if (f->name.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid format \"%V\", expected \"legacy\", "
                               "\"docker\" or \"oci\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        slcf->formats |= f->mask;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_squash_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_squash_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/* for the access log: empty until the value is known */

static ngx_int_t
ngx_http_squash_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    u_char                       *p;
    uint64_t                      n;
    ngx_http_squash_ctx_t        *ctx;
    const squash_merger_stats_t  *st;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_squash_module);

    if (ctx == NULL || !ctx->header_sent) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_OFF_T_LEN + sizeof("isize+count+plain"));
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;

    switch (data) {

    case NGX_HTTP_SQUASH_VAR_LAYER_SIZE:
        n = ctx->archive.layer_size;
        break;

    case NGX_HTTP_SQUASH_VAR_PADDING:
        if (!ctx->merged_known) {
            v->not_found = 1;
            return NGX_OK;
        }

        /* zeros after the merged entries and their two end blocks */
        n = ctx->archive.layer_size - ctx->merged - 2 * SQUASH_TAR_BLOCK;
        break;

    case NGX_HTTP_SQUASH_VAR_LAYERS:
        n = ctx->manifest.nlayers;
        break;

    case NGX_HTTP_SQUASH_VAR_DROPPED:
        st = squash_merger_stats(ctx->merger);
        n = st->hidden + st->whiteouts + st->unsafe + st->links_dropped;
        break;

    default: /* NGX_HTTP_SQUASH_VAR_SOURCE */
        if (ctx->size_source & NGX_HTTP_SQUASH_SIZE_CACHE) {
            p = ngx_cpymem(p, "cache", 5);

        } else {
            if (ctx->size_source & NGX_HTTP_SQUASH_SIZE_ISIZE) {
                p = ngx_cpymem(p, "isize+", 6);
            }

            if (ctx->size_source & NGX_HTTP_SQUASH_SIZE_COUNT) {
                p = ngx_cpymem(p, "count+", 6);
            }

            if (ctx->size_source & NGX_HTTP_SQUASH_SIZE_PLAIN) {
                p = ngx_cpymem(p, "plain+", 6);
            }

            if (p > v->data) {
                p--;
            }
        }

        v->len = p - v->data;
        v->valid = 1;
        v->no_cacheable = 1;
        v->not_found = 0;

        return NGX_OK;
    }

    v->len = ngx_sprintf(p, "%uL", n) - p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_squash_init(ngx_conf_t *cf)
{
    return ngx_http_squash_body_filter_init(cf);
}
