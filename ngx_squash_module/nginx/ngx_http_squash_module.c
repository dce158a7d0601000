
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the module, its directives, configuration and variables.
 * The request is ngx_http_squash_handler.c's; the interface of the glue
 * and the order of its files is in ngx_http_squash_module.h.
 */


#include "ngx_http_squash_module.h"


static void *ngx_http_squash_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_squash_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_squash(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_squash_pull(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_squash_platform(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_squash_formats(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_squash_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_squash_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_squash_init(ngx_conf_t *cf);


static ngx_conf_enum_t  ngx_http_squash_fallbacks[] = {
    { ngx_string("smallest"), NGX_HTTP_SQUASH_FALLBACK_SMALLEST },
    { ngx_string("count"), NGX_HTTP_SQUASH_FALLBACK_COUNT },
    { ngx_string("fail"), NGX_HTTP_SQUASH_FALLBACK_FAIL },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_squash_layer_sizes[] = {
    { ngx_string("estimate"), NGX_HTTP_SQUASH_ESTIMATE },
    { ngx_string("exact"), NGX_HTTP_SQUASH_EXACT },
    { ngx_null_string, 0 }
};


static ngx_conf_num_bounds_t  ngx_http_squash_layers_bounds = {
    ngx_conf_check_num_bounds, 1, 10000
};


static ngx_conf_num_bounds_t  ngx_http_squash_keep_bounds = {
    ngx_conf_check_num_bounds, 0, 10000
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

    { ngx_string("squash_pull"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_squash_pull,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("squash_keep_layers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_squash_loc_conf_t, keep_layers),
      &ngx_http_squash_keep_bounds },

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

    { ngx_string("squash_layer_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_squash_loc_conf_t, layer_size),
      &ngx_http_squash_layer_sizes },

    { ngx_string("squash_size_probes"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_squash_loc_conf_t, size_probes),
      &ngx_http_squash_probes_bounds },

    { ngx_string("squash_yield_after"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_squash_loc_conf_t, yield_after),
      NULL },

    { ngx_string("squash_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_squash_thread_pool,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

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
#define NGX_HTTP_SQUASH_VAR_DIGEST       5


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

    { ngx_string("squash_layer_digest"), NULL, ngx_http_squash_variable,
      NGX_HTTP_SQUASH_VAR_DIGEST, NGX_HTTP_VAR_NOCACHEABLE, 0 },

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
    conf->yield_after = NGX_CONF_UNSET_SIZE;
    conf->layer_size = NGX_CONF_UNSET_UINT;
    conf->size_cache = NGX_CONF_UNSET_PTR;
    conf->pull = NGX_CONF_UNSET;
    conf->keep_layers = NGX_CONF_UNSET_UINT;
#if (NGX_THREADS)
    conf->thread_pool = NGX_CONF_UNSET_PTR;
#endif

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
    ngx_conf_merge_ptr_value(conf->size_cache, prev->size_cache, NULL);
    ngx_conf_merge_uint_value(conf->keep_layers, prev->keep_layers, 0);
#if (NGX_THREADS)
    ngx_conf_merge_ptr_value(conf->thread_pool, prev->thread_pool, NULL);
#endif

    /* left unset: its default follows the size cache of each location */

    if (conf->size_fallback == NGX_CONF_UNSET_UINT) {
        conf->size_fallback = prev->size_fallback;
    }
    ngx_conf_merge_uint_value(conf->size_probes, prev->size_probes, 4);
    ngx_conf_merge_size_value(conf->yield_after, prev->yield_after,
                              256 * 1024);
    ngx_conf_merge_uint_value(conf->layer_size, prev->layer_size,
                              NGX_HTTP_SQUASH_ESTIMATE);

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

    /* not inherited: a content handler of its location */

    if (conf->pull == 1) {
        if (conf->registry.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"squash_pull\" requires "
                               "\"squash_registry\"");
            return NGX_CONF_ERROR;
        }

        if (conf->size_cache == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"squash_pull\" requires "
                               "\"squash_size_cache\", which keeps the "
                               "digests it serves");
            return NGX_CONF_ERROR;
        }
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

    if (slcf->name || slcf->pull == 1) {
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
ngx_http_squash_pull(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_squash_loc_conf_t *slcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (slcf->pull != NGX_CONF_UNSET || slcf->name) {
        return "is duplicate";
    }

    slcf->pull = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_squash_pull_handler;

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

    if (data == NGX_HTTP_SQUASH_VAR_DIGEST) {
        /* known at the header (the size cache, a counting pass) or after */

        if (ctx->job.diff_id[0] == '\0') {
            v->not_found = 1;
            return NGX_OK;
        }

        v->data = (u_char *) ctx->job.diff_id;
        v->len = SQUASH_DIGEST_LEN;
        v->valid = 1;
        v->no_cacheable = 1;
        v->not_found = 0;

        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool,
                    NGX_OFF_T_LEN
                    + sizeof("isize+smallest+layer+count+plain"));
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;

    switch (data) {

    case NGX_HTTP_SQUASH_VAR_LAYER_SIZE:
        n = ctx->job.archive.layer_size;
        break;

    case NGX_HTTP_SQUASH_VAR_PADDING:
        if (!ctx->job.merged_known) {
            v->not_found = 1;
            return NGX_OK;
        }

        /* zeros after the merged entries and their two end blocks */
        n = ctx->job.archive.layer_size - ctx->job.merged
            - 2 * SQUASH_TAR_BLOCK;
        break;

    case NGX_HTTP_SQUASH_VAR_LAYERS:
        n = squash_job_layers(&ctx->job);
        break;

    case NGX_HTTP_SQUASH_VAR_DROPPED:
        st = squash_merger_stats(ctx->job.merger);
        n = st->hidden + st->whiteouts + st->unsafe + st->links_dropped;
        break;

    default: /* NGX_HTTP_SQUASH_VAR_SOURCE */
        if (ctx->size_source & NGX_HTTP_SQUASH_SOURCE_CACHE) {
            p = ngx_cpymem(p, "cache", 5);

        } else if (ctx->size_source & NGX_HTTP_SQUASH_SOURCE_MERGE) {
            p = ngx_cpymem(p, "merge", 5);

        } else {
            if (ctx->size_source & NGX_HTTP_SQUASH_SOURCE_ISIZE) {
                p = ngx_cpymem(p, "isize+", 6);
            }

            if (ctx->size_source & NGX_HTTP_SQUASH_SOURCE_SMALLEST) {
                p = ngx_cpymem(p, "smallest+", 9);
            }

            if (ctx->size_source & NGX_HTTP_SQUASH_SOURCE_LAYER) {
                p = ngx_cpymem(p, "layer+", 6);
            }

            if (ctx->size_source & NGX_HTTP_SQUASH_SOURCE_COUNT) {
                p = ngx_cpymem(p, "count+", 6);
            }

            if (ctx->size_source & NGX_HTTP_SQUASH_SOURCE_PLAIN) {
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
