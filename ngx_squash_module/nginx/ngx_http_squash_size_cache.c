
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the size cache, a shared-memory zone that remembers per
 * manifest digest what was learnt of layer.tar: its estimate (a function
 * of the image alone, so later downloads skip the size probes and give
 * the same bytes), its exact size (squash_layer_size exact skips its
 * counting pass), or that the estimate failed (later downloads count the
 * layers' sizes by inflating them).
 *
 * With either size, once a download has made it, the digest of layer.tar
 * of that size: later downloads of the image do not hash layer.tar.
 *
 * And per layer blob, once a stream has checked its digest and its tar's
 * diff_id: its tar size (no size probe for it in any image that has it)
 * and that it inflates to that diff_id (its tar is not hashed again).
 *
 * And for the registry API (squash_pull): an image's exact size with the
 * digest of its layer.tar, and each digest the edge served (a manifest,
 * a config, a layer) with the image it is made from.
 *
 * And that a request is counting an image's layer.tar (squash_layer_size
 * exact, the registry API): others wait for its result rather than count
 * it again.
 *
 *     squash_size_cache zone=squash:1m;
 */


#include "ngx_http_squash_module.h"


typedef struct {
    ngx_rbtree_t                  rbtree;
    ngx_rbtree_node_t             sentinel;
    ngx_queue_t                   lru;
} ngx_http_squash_cache_sh_t;


typedef struct {
    ngx_http_squash_cache_sh_t   *sh;
    ngx_slab_pool_t              *shpool;
} ngx_http_squash_cache_t;


/* digests other than the key are kept as their 32 bytes */

typedef struct {
    ngx_rbtree_node_t             node;
    ngx_queue_t                   queue;
    u_char                        digest[SQUASH_DIGEST_LEN];
    uint64_t                      estimate;
    uint64_t                      exact;
    u_char                        count;
    u_char                        has_layer;
    u_char                        served;
    u_char                        has_padded;
    u_char                        layer[SQUASH_SHA256_LEN];
    u_char                        padded[SQUASH_SHA256_LEN];
    u_char                        source[SQUASH_SHA256_LEN];
    time_t                        claimed;          /* counted until then */
} ngx_http_squash_cache_node_t;


static ngx_int_t ngx_http_squash_digest_pack(u_char *bin, const char *digest);
static void ngx_http_squash_digest_unpack(char *digest, const u_char *bin);


static ngx_http_squash_cache_node_t *
ngx_http_squash_cache_lookup(ngx_http_squash_cache_t *cache, ngx_uint_t hash,
    const char *digest)
{
    ngx_int_t                      rc;
    ngx_rbtree_node_t             *node, *sentinel;
    ngx_http_squash_cache_node_t  *cn;

    node = cache->sh->rbtree.root;
    sentinel = cache->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        cn = (ngx_http_squash_cache_node_t *) node;

        rc = ngx_memcmp(digest, cn->digest, SQUASH_DIGEST_LEN);

        if (rc == 0) {
            return cn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


ngx_int_t
ngx_http_squash_cache_get(ngx_shm_zone_t *zone, const char *digest,
    ngx_http_squash_sizes_t *sizes)
{
    ngx_uint_t                     hash;
    ngx_http_squash_cache_t       *cache;
    ngx_http_squash_cache_node_t  *cn;

    if (zone == NULL) {
        return NGX_DECLINED;
    }

    cache = zone->data;
    hash = ngx_crc32_short((u_char *) digest, SQUASH_DIGEST_LEN);

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_squash_cache_lookup(cache, hash, digest);

    if (cn) {
        ngx_memzero(sizes, sizeof(ngx_http_squash_sizes_t));
        sizes->estimate = cn->estimate;
        sizes->exact = cn->exact;
        sizes->count = cn->count;
        sizes->served = cn->served;

        if (cn->has_layer) {
            ngx_http_squash_digest_unpack(sizes->layer, cn->layer);
        }

        if (cn->has_padded) {
            ngx_http_squash_digest_unpack(sizes->padded, cn->padded);
        }

        if (cn->served) {
            ngx_http_squash_digest_unpack(sizes->source, cn->source);
        }

        ngx_queue_remove(&cn->queue);
        ngx_queue_insert_head(&cache->sh->lru, &cn->queue);
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return cn ? NGX_OK : NGX_DECLINED;
}


/* the entry for digest, made if need be; the zone is locked */

static ngx_http_squash_cache_node_t *
ngx_http_squash_cache_entry(ngx_shm_zone_t *zone, const char *digest,
    ngx_log_t *log)
{
    ngx_uint_t                     hash, i;
    ngx_queue_t                   *q;
    ngx_http_squash_cache_t       *cache;
    ngx_http_squash_cache_node_t  *cn;

    cache = zone->data;
    hash = ngx_crc32_short((u_char *) digest, SQUASH_DIGEST_LEN);

    cn = ngx_http_squash_cache_lookup(cache, hash, digest);

    if (cn) {
        return cn;
    }

    for (i = 0; i < 2; i++) {
        cn = ngx_slab_alloc_locked(cache->shpool,
                                   sizeof(ngx_http_squash_cache_node_t));
        if (cn || ngx_queue_empty(&cache->sh->lru)) {
            break;
        }

        /* full: the least recently used entry makes room */

        q = ngx_queue_last(&cache->sh->lru);
        ngx_queue_remove(q);
        cn = ngx_queue_data(q, ngx_http_squash_cache_node_t, queue);
        ngx_rbtree_delete(&cache->sh->rbtree, &cn->node);
        ngx_slab_free_locked(cache->shpool, cn);
        cn = NULL;
    }

    if (cn == NULL) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "squash: size cache \"%V\" is full", &zone->shm.name);
        return NULL;
    }

    ngx_memzero(cn, sizeof(ngx_http_squash_cache_node_t));
    cn->node.key = hash;
    ngx_memcpy(cn->digest, digest, SQUASH_DIGEST_LEN);
    ngx_rbtree_insert(&cache->sh->rbtree, &cn->node);
    ngx_queue_insert_head(&cache->sh->lru, &cn->queue);

    return cn;
}


/* sets what sizes holds that is not zero; a failed estimate is forgotten */

void
ngx_http_squash_cache_put(ngx_shm_zone_t *zone, const char *digest,
    const ngx_http_squash_sizes_t *sizes, ngx_log_t *log)
{
    ngx_http_squash_cache_t       *cache;
    ngx_http_squash_cache_node_t  *cn;

    if (zone == NULL) {
        return;
    }

    cache = zone->data;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_squash_cache_entry(zone, digest, log);

    if (cn == NULL) {
        ngx_shmtx_unlock(&cache->shpool->mutex);
        return;
    }

    if (sizes->exact) {
        cn->exact = sizes->exact;
        cn->claimed = 0;
    }

    if (sizes->estimate) {
        if (cn->estimate != sizes->estimate) {
            /* the digest was of another size */
            cn->has_padded = 0;
        }

        cn->estimate = sizes->estimate;
    }

    if (sizes->padded[0]
        && ngx_http_squash_digest_pack(cn->padded, sizes->padded) == NGX_OK)
    {
        cn->has_padded = 1;
    }

    if (sizes->layer[0]
        && ngx_http_squash_digest_pack(cn->layer, sizes->layer) == NGX_OK)
    {
        cn->has_layer = 1;
    }

    if (sizes->served
        && ngx_http_squash_digest_pack(cn->source, sizes->source) == NGX_OK)
    {
        cn->served = (u_char) sizes->served;
    }

    if (sizes->count) {
        cn->count = 1;
        cn->estimate = 0;
        cn->has_padded = 0;
    }

    if (sizes->stale) {
        cn->exact = 0;
        cn->has_layer = 0;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/*
 * A count of an image's layer.tar, claimed until the time given (renew:
 * by the request that holds the claim): NGX_OK, the claim is ours;
 * NGX_BUSY, another request counts it; NGX_DONE, it is known now;
 * NGX_DECLINED, no zone to share it in.  An exact size put, or
 * ngx_http_squash_cache_unclaim(), ends the claim.
 */

ngx_int_t
ngx_http_squash_cache_claim(ngx_shm_zone_t *zone, const char *digest,
    time_t until, ngx_uint_t renew, ngx_log_t *log)
{
    ngx_int_t                      rc;
    ngx_http_squash_cache_t       *cache;
    ngx_http_squash_cache_node_t  *cn;

    if (zone == NULL) {
        return NGX_DECLINED;
    }

    cache = zone->data;

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_squash_cache_entry(zone, digest, log);

    if (cn == NULL) {
        rc = NGX_DECLINED;

    } else if (cn->exact && cn->has_layer && !renew) {
        rc = NGX_DONE;

    } else if (cn->claimed > ngx_time() && !renew) {
        rc = NGX_BUSY;

    } else {
        cn->claimed = until;
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


void
ngx_http_squash_cache_unclaim(ngx_shm_zone_t *zone, const char *digest)
{
    ngx_uint_t                     hash;
    ngx_http_squash_cache_t       *cache;
    ngx_http_squash_cache_node_t  *cn;

    if (zone == NULL) {
        return;
    }

    cache = zone->data;
    hash = ngx_crc32_short((u_char *) digest, SQUASH_DIGEST_LEN);

    ngx_shmtx_lock(&cache->shpool->mutex);

    cn = ngx_http_squash_cache_lookup(cache, hash, digest);

    if (cn) {
        cn->claimed = 0;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);
}


/*
 * A layer's entry is keyed by the digest of "<blob digest> <diff_id>": it
 * holds only for a config that names that diff_id for that blob.  A
 * served digest's, by that of "served <name> <digest>".
 */

static ngx_int_t
ngx_http_squash_cache_key(const u_char *what, size_t len, const char *digest,
    char *key)
{
    u_char  buf[512], *p;

    if (what == NULL || digest == NULL || len > 256
        || ngx_strlen(digest) != SQUASH_DIGEST_LEN)
    {
        return NGX_DECLINED;
    }

    p = ngx_cpymem(buf, what, len);
    p = ngx_sprintf(p, " %s", digest);

    if (squash_sha256_digest(buf, p - buf, key) != SQUASH_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_squash_cache_layer_key(const char *digest, const char *diff_id,
    char *key)
{
    if (digest == NULL || ngx_strlen(digest) != SQUASH_DIGEST_LEN) {
        return NGX_DECLINED;
    }

    return ngx_http_squash_cache_key((u_char *) digest, SQUASH_DIGEST_LEN,
                                     diff_id, key);
}


static ngx_int_t
ngx_http_squash_cache_served_key(ngx_str_t *name, const char *digest,
    char *key)
{
    u_char  buf[sizeof("served ") + 255], *p;

    if (name->len > 255) {
        return NGX_DECLINED;
    }

    p = ngx_sprintf(buf, "served %V", name);

    return ngx_http_squash_cache_key(buf, p - buf, digest, key);
}


/* the tar size of a layer whose digest and diff_id were checked before */

ngx_int_t
ngx_http_squash_cache_layer_get(ngx_shm_zone_t *zone, const char *digest,
    const char *diff_id, uint64_t *size)
{
    char                     key[SQUASH_DIGEST_LEN + 1];
    ngx_http_squash_sizes_t  sizes;

    if (zone == NULL
        || ngx_http_squash_cache_layer_key(digest, diff_id, key) != NGX_OK
        || ngx_http_squash_cache_get(zone, key, &sizes) != NGX_OK
        || sizes.exact == 0)
    {
        return NGX_DECLINED;
    }

    *size = sizes.exact;

    return NGX_OK;
}


void
ngx_http_squash_cache_layer_put(ngx_shm_zone_t *zone, const char *digest,
    const char *diff_id, uint64_t size, ngx_log_t *log)
{
    char                     key[SQUASH_DIGEST_LEN + 1];
    ngx_http_squash_sizes_t  sizes;

    if (zone == NULL || size == 0
        || ngx_http_squash_cache_layer_key(digest, diff_id, key) != NGX_OK)
    {
        return;
    }

    ngx_memzero(&sizes, sizeof(ngx_http_squash_sizes_t));
    sizes.exact = size;

    ngx_http_squash_cache_put(zone, key, &sizes, log);
}


/* what a digest the registry API served under name is made from */

ngx_int_t
ngx_http_squash_cache_served_get(ngx_shm_zone_t *zone, ngx_str_t *name,
    const char *digest, ngx_http_squash_sizes_t *sizes)
{
    char  key[SQUASH_DIGEST_LEN + 1];

    if (zone == NULL
        || ngx_http_squash_cache_served_key(name, digest, key) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    return ngx_http_squash_cache_get(zone, key, sizes);
}


void
ngx_http_squash_cache_served_put(ngx_shm_zone_t *zone, ngx_str_t *name,
    const char *digest, ngx_uint_t served, const char *source,
    ngx_log_t *log)
{
    char                     key[SQUASH_DIGEST_LEN + 1];
    ngx_http_squash_sizes_t  sizes;

    ngx_memzero(&sizes, sizeof(ngx_http_squash_sizes_t));
    sizes.served = served;
    ngx_cpystrn((u_char *) sizes.source, (u_char *) source,
                sizeof(sizes.source));

    if (zone == NULL
        || ngx_http_squash_cache_served_key(name, digest, key) != NGX_OK)
    {
        return;
    }

    ngx_http_squash_cache_put(zone, key, &sizes, log);
}


/* "sha256:<64 hex>" to its 32 bytes, and back */

static ngx_int_t
ngx_http_squash_digest_pack(u_char *bin, const char *digest)
{
    ngx_int_t   n;
    ngx_uint_t  i;

    if (ngx_strlen(digest) != SQUASH_DIGEST_LEN
        || ngx_strncmp(digest, "sha256:", 7) != 0)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < SQUASH_SHA256_LEN; i++) {
        n = ngx_hextoi((u_char *) digest + 7 + 2 * i, 2);
        if (n == NGX_ERROR) {
            return NGX_ERROR;
        }

        bin[i] = (u_char) n;
    }

    return NGX_OK;
}


static void
ngx_http_squash_digest_unpack(char *digest, const u_char *bin)
{
    u_char  *p;

    p = ngx_cpymem(digest, "sha256:", 7);
    p = ngx_hex_dump(p, (u_char *) bin, SQUASH_SHA256_LEN);
    *p = '\0';
}


static void
ngx_http_squash_cache_insert(ngx_rbtree_node_t *temp, ngx_rbtree_node_t *node,
    ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t             **p;
    ngx_http_squash_cache_node_t   *cn, *ct;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            cn = (ngx_http_squash_cache_node_t *) node;
            ct = (ngx_http_squash_cache_node_t *) temp;

            p = (ngx_memcmp(cn->digest, ct->digest, SQUASH_DIGEST_LEN) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


static ngx_int_t
ngx_http_squash_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_squash_cache_t  *ocache = data;

    ngx_http_squash_cache_t  *cache;

    cache = shm_zone->data;

    if (ocache) {
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;
        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return NGX_OK;
    }

    cache->sh = ngx_slab_alloc(cache->shpool,
                               sizeof(ngx_http_squash_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_http_squash_cache_insert);
    ngx_queue_init(&cache->sh->lru);

    return NGX_OK;
}


char *
ngx_http_squash_size_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_squash_loc_conf_t *slcf = conf;

    u_char                   *p;
    ssize_t                   size;
    ngx_str_t                *value, name, s;
    ngx_http_squash_cache_t  *cache;

    if (slcf->size_cache != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        slcf->size_cache = NULL;
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value[1].data, "zone=", 5) != 0) {
        return "expects \"zone=name:size\" or \"off\"";
    }

    name.data = value[1].data + 5;

    p = (u_char *) ngx_strchr(name.data, ':');
    if (p == NULL) {
        return "expects \"zone=name:size\"";
    }

    name.len = p - name.data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (name.len == 0 || size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", &value[1]);
        return NGX_CONF_ERROR;
    }

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_squash_cache_t));
    if (cache == NULL) {
        return NGX_CONF_ERROR;
    }

    slcf->size_cache = ngx_shared_memory_add(cf, &name, size,
                                             &ngx_http_squash_module);
    if (slcf->size_cache == NULL) {
        return NGX_CONF_ERROR;
    }

    if (slcf->size_cache->data) {
        /* the same zone in another location */
        return NGX_CONF_OK;
    }

    slcf->size_cache->init = ngx_http_squash_cache_init_zone;
    slcf->size_cache->data = cache;

    return NGX_CONF_OK;
}
