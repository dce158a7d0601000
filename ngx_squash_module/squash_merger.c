
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the layer merger.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squash_merger.h"


#define SQUASH_NONE            UINT32_MAX
#define SQUASH_ARENA_CHUNK     (64 * 1024)
#define SQUASH_WH_PREFIX       ".wh."
#define SQUASH_WH_OPAQUE       ".wh..wh..opq"
#define SQUASH_WH_META         ".wh..wh."


typedef struct {
    uint64_t        hash;
    const char     *key;
    uint32_t        len;
    uint32_t        seen;       /* first layer holding the path */
    uint32_t        hide;       /* first layer hiding the lower subtree */
    uint32_t        opaque;     /* first layer making the dir opaque */
    uint32_t        emitted;    /* layer whose entry was written */
    uint32_t        skipped;    /* last layer whose entry was hidden */
    const char     *alias;      /* a held or hidden link: its target */
    squash_link_t  *links;      /* held links waiting for this target */
    squash_link_t  *refetch;    /* ... in a second pass of this layer */
} squash_node_t;


typedef struct squash_arena_s  squash_arena_t;

struct squash_arena_s {
    squash_arena_t  *next;
    size_t           used;
    size_t           size;
    char             data[];
};


struct squash_merger_s {
    squash_node_t          *nodes;
    size_t                  nnodes;     /* power of two */
    size_t                  count;

    squash_arena_t         *arena;
    size_t                  memory;
    size_t                  limit;

    uint32_t                layer;

    char                   *norm;
    size_t                  norm_size;
    char                   *tnorm;      /* a link's normalized target */
    size_t                  tnorm_size;

    size_t                  refetch;    /* links waiting for pass two */
    unsigned                refetching:1;

    squash_warn_pt          warn;
    void                   *warn_data;

    squash_merger_stats_t   stats;
    char                    err[SQUASH_ERRLEN];
};


static squash_node_t *squash_merger_find(squash_merger_t *m, uint64_t hash,
    const char *key, size_t len);
static squash_node_t *squash_merger_insert(squash_merger_t *m, uint64_t hash,
    const char *key, size_t len);
static int squash_merger_grow(squash_merger_t *m);
static uint64_t squash_hash(uint64_t h, const char *p, size_t n);


#define SQUASH_FNV_INIT   0xcbf29ce484222325ULL
#define SQUASH_FNV_PRIME  0x100000001b3ULL


squash_merger_t *
squash_merger_create(size_t memory_limit, squash_warn_pt warn,
    void *warn_data)
{
    squash_merger_t  *m;

    m = calloc(1, sizeof(squash_merger_t));
    if (m == NULL) {
        return NULL;
    }

    m->nnodes = 1024;
    m->nodes = calloc(m->nnodes, sizeof(squash_node_t));
    if (m->nodes == NULL) {
        free(m);
        return NULL;
    }

    m->memory = m->nnodes * sizeof(squash_node_t);
    m->limit = memory_limit;
    m->warn = warn;
    m->warn_data = warn_data;
    m->layer = SQUASH_NONE;

    return m;
}


void
squash_merger_destroy(squash_merger_t *m)
{
    size_t           i;
    squash_arena_t  *a, *next;

    if (m == NULL) {
        return;
    }

    for (a = m->arena; a; a = next) {
        next = a->next;
        free(a);
    }

    for (i = 0; i < m->nnodes; i++) {
        squash_merger_free_links(m, m->nodes[i].links);
        squash_merger_free_links(m, m->nodes[i].refetch);
    }

    free(m->nodes);
    free(m->norm);
    free(m->tnorm);
    free(m);
}


void
squash_merger_begin_layer(squash_merger_t *m)
{
    m->layer++;     /* SQUASH_NONE + 1 == 0 for the first layer */
    m->refetching = 0;
}


void
squash_merger_begin_refetch(squash_merger_t *m)
{
    m->refetching = 1;
}


size_t
squash_merger_refetch_pending(squash_merger_t *m)
{
    return m->refetch;
}


size_t
squash_merger_memory(squash_merger_t *m)
{
    return m->memory;
}


size_t
squash_merger_paths(squash_merger_t *m)
{
    return m->count;
}


const squash_merger_stats_t *
squash_merger_stats(squash_merger_t *m)
{
    return &m->stats;
}


const char *
squash_merger_error(squash_merger_t *m)
{
    return m->err;
}


ssize_t
squash_path_normalize(const char *in, char *out, size_t size)
{
    size_t       n, clen;
    const char  *p, *c;

    n = 0;
    p = in;

    for ( ;; ) {
        while (*p == '/') {
            p++;
        }

        if (*p == '\0') {
            break;
        }

        c = p;
        while (*p && *p != '/') {
            p++;
        }

        clen = p - c;

        if (clen == 1 && c[0] == '.') {
            continue;
        }

        if (clen == 2 && c[0] == '.' && c[1] == '.') {
            return -1;
        }

        if (n + clen + 2 > size) {
            return -2;
        }

        if (n) {
            out[n++] = '/';
        }

        memcpy(out + n, c, clen);
        n += clen;
    }

    if (size) {
        out[n] = '\0';
    }

    return (ssize_t) n;
}


static int
squash_merger_hidden(squash_merger_t *m, const char *path, size_t len)
{
    size_t          i;
    uint64_t        h;
    squash_node_t  *n;

    /* the root, then every proper prefix ending before a '/', then path */

    h = SQUASH_FNV_INIT;

    for (i = 0; i <= len; i++) {

        if (i == 0 || i == len || path[i] == '/') {
            n = squash_merger_find(m, h, path, i);

            if (n) {
                if (i == len) {
                    return n->seen < m->layer || n->hide < m->layer;
                }

                if (n->hide < m->layer || n->opaque < m->layer) {
                    return 1;
                }
            }
        }

        if (i < len) {
            h = squash_hash(h, path + i, 1);
        }
    }

    return 0;
}


static squash_node_t *
squash_merger_node(squash_merger_t *m, const char *key, size_t len)
{
    uint64_t        h;
    squash_node_t  *n;

    h = squash_hash(SQUASH_FNV_INIT, key, len);

    n = squash_merger_find(m, h, key, len);
    if (n) {
        return n;
    }

    return squash_merger_insert(m, h, key, len);
}


static void
squash_merger_first(uint32_t *field, uint32_t layer)
{
    if (*field == SQUASH_NONE) {
        *field = layer;
    }
}


static void
squash_merge_result_init(squash_merge_result_t *res)
{
    res->action = SQUASH_MERGE_SKIP;
    res->rename = NULL;
    res->target = NULL;
    res->links = NULL;
}


static int
squash_merger_buf(squash_merger_t *m, char **buf, size_t *size, size_t need)
{
    if (need <= *size) {
        return SQUASH_OK;
    }

    free(*buf);
    *size = need > 4096 ? need : 4096;
    *buf = malloc(*size);

    if (*buf == NULL) {
        *size = 0;
        snprintf(m->err, SQUASH_ERRLEN, "out of memory");
        return SQUASH_ERROR;
    }

    return SQUASH_OK;
}


static squash_node_t *
squash_merger_lookup(squash_merger_t *m, const char *key, size_t len)
{
    return squash_merger_find(m, squash_hash(SQUASH_FNV_INIT, key, len), key,
                              len);
}


static squash_link_t *
squash_merger_reverse(squash_link_t *l)
{
    squash_link_t  *prev, *next;

    for (prev = NULL; l; l = next) {
        next = l->next;
        l->next = prev;
        prev = l;
    }

    return prev;
}


static squash_link_t *
squash_merger_new_link(squash_merger_t *m, const squash_tar_entry_t *e,
    const unsigned char *raw, size_t raw_len)
{
    size_t          nlen, size;
    squash_link_t  *l;

    nlen = strlen(e->path) + 1;
    size = sizeof(squash_link_t) + raw_len + nlen;

    if (m->memory + size > m->limit) {
        snprintf(m->err, SQUASH_ERRLEN, "path bookkeeping exceeds %zu bytes "
                 "after %zu paths", m->limit, m->count);
        return NULL;
    }

    l = malloc(size);
    if (l == NULL) {
        snprintf(m->err, SQUASH_ERRLEN, "out of memory");
        return NULL;
    }

    l->next = NULL;
    l->raw = (unsigned char *) (l + 1);
    l->raw_len = raw_len;
    memcpy(l->raw, raw, raw_len);
    l->name = (char *) l->raw + raw_len;
    memcpy(l->name, e->path, nlen);

    m->memory += size;

    return l;
}


void
squash_merger_free_links(squash_merger_t *m, squash_link_t *l)
{
    squash_link_t  *next;

    for ( /* void */ ; l; l = next) {
        next = l->next;
        m->memory -= sizeof(squash_link_t) + l->raw_len + strlen(l->name) + 1;
        free(l);
    }
}


/*
 * Sends held links (in archive order) to where their target (root, a
 * normalized path) can be found: written already in this layer, hidden
 * earlier in it (second pass), or not seen yet.  Stored lists are kept
 * newest first.
 */

static int
squash_merger_redirect(squash_merger_t *m, squash_link_t *list,
    const char *root, squash_merge_result_t *res)
{
    size_t          len;
    squash_link_t  *last;
    squash_node_t  *t;

    if (list == NULL) {
        return SQUASH_OK;
    }

    len = strlen(root);

    t = squash_merger_lookup(m, root, len);
    if (t == NULL) {
        t = squash_merger_node(m, root, len);
        if (t == NULL) {
            squash_merger_free_links(m, list);
            return SQUASH_ERROR;
        }
    }

    for (last = list; last->next; last = last->next) { /* void */ }

    if (t->emitted == m->layer) {
        last->next = res->links;
        res->links = list;
        res->target = t->key;
        return SQUASH_OK;
    }

    /* newest first from here on */

    if (t->skipped == m->layer) {
        list = squash_merger_reverse(list);
        for (last = list; last->next; last = last->next) { m->refetch++; }
        m->refetch++;
        last->next = t->refetch;
        t->refetch = list;
        return SQUASH_OK;
    }

    list = squash_merger_reverse(list);
    for (last = list; last->next; last = last->next) { /* void */ }
    last->next = t->links;
    t->links = list;

    return SQUASH_OK;
}


/* the normalized target of a hard link, through held or hidden links */

static const char *
squash_merger_link_root(squash_merger_t *m, const squash_tar_entry_t *e)
{
    ssize_t         len;
    squash_node_t  *t;

    if (squash_merger_buf(m, &m->tnorm, &m->tnorm_size,
                          strlen(e->linkpath) + 2)
        != SQUASH_OK)
    {
        return NULL;
    }

    len = squash_path_normalize(e->linkpath, m->tnorm, m->tnorm_size);

    if (len <= 0) {
        m->stats.unsafe++;

        if (m->warn) {
            m->warn(m->warn_data, "dropped hard link \"%s\" of layer %u: "
                    "its target \"%s\" is outside the root", e->path,
                    m->layer + 1, e->linkpath);
        }

        return "";
    }

    t = squash_merger_lookup(m, m->tnorm, (size_t) len);

    return (t && t->alias) ? t->alias : m->tnorm;
}


static int
squash_merger_link(squash_merger_t *m, const squash_tar_entry_t *e,
    size_t len, int hidden, const unsigned char *raw, size_t raw_len,
    squash_merge_result_t *res)
{
    const char     *root;
    squash_link_t  *link, *waiting;
    squash_node_t  *n, *t;

    root = squash_merger_link_root(m, e);

    if (root == NULL) {
        return SQUASH_ERROR;
    }

    if (*root == '\0') {
        return SQUASH_OK;
    }

    /* the root must outlive m->tnorm */

    t = squash_merger_lookup(m, root, strlen(root));
    if (t == NULL) {
        t = squash_merger_node(m, root, strlen(root));
        if (t == NULL) {
            return SQUASH_ERROR;
        }
    }

    root = t->key;

    n = squash_merger_node(m, m->norm, len);
    if (n == NULL) {
        return SQUASH_ERROR;
    }

    /* links waiting for this one now wait for its target */
    waiting = n->links;
    n->links = NULL;

    if (hidden) {
        m->stats.hidden++;
        n->skipped = m->layer;
        n->alias = root;
        return squash_merger_redirect(m, squash_merger_reverse(waiting),
                                      root, res);
    }

    squash_merger_first(&n->seen, m->layer);
    squash_merger_first(&n->hide, m->layer);
    n->alias = root;

    t = squash_merger_lookup(m, root, strlen(root));

    if (t->emitted == m->layer) {
        /* its target is out already, in this layer */
        n->emitted = m->layer;
        n->alias = NULL;
        m->stats.emitted++;

        res->target = root;

        if (squash_merger_lookup(m, m->tnorm, strlen(m->tnorm)) == t) {
            res->action = SQUASH_MERGE_EMIT;
            res->target = e->path;

        } else {
            res->action = SQUASH_MERGE_RELINK;
        }

        return squash_merger_redirect(m, squash_merger_reverse(waiting),
                                      root, res);
    }

    link = squash_merger_new_link(m, e, raw, raw_len);
    if (link == NULL) {
        squash_merger_free_links(m, waiting);
        return SQUASH_ERROR;
    }

    m->stats.links_held++;

    /* the link, then the ones that waited for it, go to its target */
    link->next = squash_merger_reverse(waiting);

    return squash_merger_redirect(m, link, root, res);
}


int
squash_merger_entry(squash_merger_t *m, const squash_tar_entry_t *e,
    const unsigned char *raw, size_t raw_len, squash_merge_result_t *res)
{
    char           *base, *target;
    size_t          tlen;
    ssize_t         len;
    squash_node_t  *n;
    squash_link_t  *held;
    int             hidden;

    squash_merge_result_init(res);

    m->stats.entries++;

    if (squash_merger_buf(m, &m->norm, &m->norm_size, strlen(e->path) + 2)
        != SQUASH_OK)
    {
        return SQUASH_ERROR;
    }

    len = squash_path_normalize(e->path, m->norm, m->norm_size);

    if (len < 0) {
        m->stats.unsafe++;

        if (m->warn) {
            m->warn(m->warn_data, "dropped entry \"%s\" of layer %u: "
                    "its name escapes the root", e->path, m->layer + 1);
        }

        return SQUASH_OK;
    }

    base = strrchr(m->norm, '/');
    base = base ? base + 1 : m->norm;

    if (strncmp(base, SQUASH_WH_PREFIX, sizeof(SQUASH_WH_PREFIX) - 1) == 0) {

        m->stats.whiteouts++;

        if (strcmp(base, SQUASH_WH_OPAQUE) == 0) {
            /* the directory holding the marker */
            tlen = base == m->norm ? 0 : (size_t) (base - m->norm - 1);

            n = squash_merger_node(m, m->norm, tlen);
            if (n == NULL) {
                return SQUASH_ERROR;
            }

            squash_merger_first(&n->opaque, m->layer);
            return SQUASH_OK;
        }

        if (strncmp(base, SQUASH_WH_META, sizeof(SQUASH_WH_META) - 1) == 0) {
            /* other aufs metadata (".wh..wh.plnk" and such) */
            return SQUASH_OK;
        }

        /* "dir/.wh.name" deletes "dir/name": cut the prefix in place */

        target = base;
        memmove(target, target + sizeof(SQUASH_WH_PREFIX) - 1,
                strlen(target + sizeof(SQUASH_WH_PREFIX) - 1) + 1);
        tlen = strlen(m->norm);

        if (*target == '\0') {
            return SQUASH_OK;
        }

        n = squash_merger_node(m, m->norm, tlen);
        if (n == NULL) {
            return SQUASH_ERROR;
        }

        squash_merger_first(&n->hide, m->layer);
        return SQUASH_OK;
    }

    hidden = squash_merger_hidden(m, m->norm, (size_t) len);

    if (e->type == SQUASH_TAR_LNK) {
        return squash_merger_link(m, e, (size_t) len, hidden, raw, raw_len,
                                  res);
    }

    n = squash_merger_node(m, m->norm, (size_t) len);
    if (n == NULL) {
        return SQUASH_ERROR;
    }

    held = squash_merger_reverse(n->links);
    n->links = NULL;

    if (hidden) {
        m->stats.hidden++;
        n->skipped = m->layer;

        if (held) {
            /* the first held link takes the entry's header and data */
            res->action = SQUASH_MERGE_RENAME;
            res->rename = held;
            res->links = held->next;
            res->target = held->name;
            held->next = NULL;
        }

        return SQUASH_OK;
    }

    squash_merger_first(&n->seen, m->layer);

    if (e->type != SQUASH_TAR_DIR) {
        /* a non-directory hides whatever lower layers hold below it */
        squash_merger_first(&n->hide, m->layer);
    }

    n->emitted = m->layer;
    m->stats.emitted++;

    res->action = SQUASH_MERGE_EMIT;
    res->links = held;
    res->target = e->path;

    return SQUASH_OK;
}


int
squash_merger_refetch_entry(squash_merger_t *m, const squash_tar_entry_t *e,
    squash_merge_result_t *res)
{
    ssize_t         len;
    squash_link_t  *held, *l;
    squash_node_t  *n;

    squash_merge_result_init(res);

    if (m->refetch == 0 || e->type == SQUASH_TAR_LNK) {
        return SQUASH_OK;
    }

    if (squash_merger_buf(m, &m->norm, &m->norm_size, strlen(e->path) + 2)
        != SQUASH_OK)
    {
        return SQUASH_ERROR;
    }

    len = squash_path_normalize(e->path, m->norm, m->norm_size);
    if (len < 0) {
        return SQUASH_OK;
    }

    n = squash_merger_lookup(m, m->norm, (size_t) len);
    if (n == NULL || n->refetch == NULL) {
        return SQUASH_OK;
    }

    held = squash_merger_reverse(n->refetch);
    n->refetch = NULL;

    for (l = held; l; l = l->next) {
        m->refetch--;
    }

    res->action = SQUASH_MERGE_RENAME;
    res->rename = held;
    res->links = held->next;
    res->target = held->name;
    held->next = NULL;

    return SQUASH_OK;
}


void
squash_merger_finish(squash_merger_t *m)
{
    size_t          i;
    squash_link_t  *l;
    squash_node_t  *n;

    for (i = 0; i < m->nnodes; i++) {
        n = &m->nodes[i];

        for (l = n->links; l; l = l->next) {
            m->stats.links_dropped++;

            if (m->warn) {
                m->warn(m->warn_data, "dropped hard link \"%s\": its target "
                        "\"%s\" is not in the image", l->name, n->key);
            }
        }

        squash_merger_free_links(m, n->links);
        n->links = NULL;
    }
}


static uint64_t
squash_hash(uint64_t h, const char *p, size_t n)
{
    while (n--) {
        h ^= (unsigned char) *p++;
        h *= SQUASH_FNV_PRIME;
    }

    return h;
}


static squash_node_t *
squash_merger_find(squash_merger_t *m, uint64_t hash, const char *key,
    size_t len)
{
    size_t          i, mask;
    squash_node_t  *n;

    mask = m->nnodes - 1;

    for (i = hash & mask; /* void */; i = (i + 1) & mask) {
        n = &m->nodes[i];

        if (n->key == NULL) {
            return NULL;
        }

        if (n->hash == hash && n->len == len
            && memcmp(n->key, key, len) == 0)
        {
            return n;
        }
    }
}


static const char *
squash_merger_store(squash_merger_t *m, const char *key, size_t len)
{
    char            *p;
    size_t           size;
    squash_arena_t  *a;

    a = m->arena;

    if (a == NULL || a->size - a->used < len + 1) {
        size = len + 1 > SQUASH_ARENA_CHUNK ? len + 1 : SQUASH_ARENA_CHUNK;

        if (m->memory + size > m->limit) {
            return NULL;
        }

        a = malloc(sizeof(squash_arena_t) + size);
        if (a == NULL) {
            return NULL;
        }

        a->next = m->arena;
        a->used = 0;
        a->size = size;
        m->arena = a;
        m->memory += sizeof(squash_arena_t) + size;
    }

    p = a->data + a->used;
    memcpy(p, key, len);
    p[len] = '\0';
    a->used += len + 1;

    return p;
}


static squash_node_t *
squash_merger_insert(squash_merger_t *m, uint64_t hash, const char *key,
    size_t len)
{
    size_t          i, mask;
    squash_node_t  *n;

    if ((m->count + 1) * 2 > m->nnodes && squash_merger_grow(m) != SQUASH_OK)
    {
        goto failed;
    }

    key = squash_merger_store(m, key, len);
    if (key == NULL) {
        goto failed;
    }

    mask = m->nnodes - 1;

    for (i = hash & mask; m->nodes[i].key; i = (i + 1) & mask) {
        /* void */
    }

    n = &m->nodes[i];
    n->hash = hash;
    n->key = key;
    n->len = (uint32_t) len;
    n->seen = SQUASH_NONE;
    n->hide = SQUASH_NONE;
    n->opaque = SQUASH_NONE;
    n->emitted = SQUASH_NONE;
    n->skipped = SQUASH_NONE;
    n->alias = NULL;
    n->links = NULL;
    n->refetch = NULL;

    m->count++;

    return n;

failed:

    snprintf(m->err, SQUASH_ERRLEN, "path bookkeeping exceeds %zu bytes "
             "after %zu paths", m->limit, m->count);

    return NULL;
}


static int
squash_merger_grow(squash_merger_t *m)
{
    size_t          i, j, mask, size;
    squash_node_t  *nodes;

    size = m->nnodes * 2 * sizeof(squash_node_t);

    if (m->memory + size > m->limit) {
        return SQUASH_ERROR;
    }

    nodes = calloc(m->nnodes * 2, sizeof(squash_node_t));
    if (nodes == NULL) {
        return SQUASH_ERROR;
    }

    mask = m->nnodes * 2 - 1;

    for (i = 0; i < m->nnodes; i++) {
        if (m->nodes[i].key == NULL) {
            continue;
        }

        for (j = m->nodes[i].hash & mask; nodes[j].key; j = (j + 1) & mask) {
            /* void */
        }

        nodes[j] = m->nodes[i];
    }

    m->memory += size - m->nnodes * sizeof(squash_node_t);

    free(m->nodes);
    m->nodes = nodes;
    m->nnodes *= 2;

    return SQUASH_OK;
}
