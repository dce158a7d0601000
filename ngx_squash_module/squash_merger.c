
/*
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
    squash_arena_t  *a, *next;

    if (m == NULL) {
        return;
    }

    for (a = m->arena; a; a = next) {
        next = a->next;
        free(a);
    }

    free(m->nodes);
    free(m->norm);
    free(m);
}


void
squash_merger_begin_layer(squash_merger_t *m)
{
    m->layer++;     /* SQUASH_NONE + 1 == 0 for the first layer */
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


int
squash_merger_entry(squash_merger_t *m, const squash_tar_entry_t *e)
{
    char           *base, *target;
    size_t          need, tlen;
    ssize_t         len;
    squash_node_t  *n;

    m->stats.entries++;

    need = strlen(e->path) + 2;

    if (need > m->norm_size) {
        free(m->norm);
        m->norm_size = need > 4096 ? need : 4096;
        m->norm = malloc(m->norm_size);

        if (m->norm == NULL) {
            m->norm_size = 0;
            snprintf(m->err, SQUASH_ERRLEN, "out of memory");
            return SQUASH_ERROR;
        }
    }

    len = squash_path_normalize(e->path, m->norm, m->norm_size);

    if (len < 0) {
        m->stats.unsafe++;

        if (m->warn) {
            m->warn(m->warn_data, "dropped entry \"%s\" of layer %u: "
                    "its name escapes the root", e->path, m->layer + 1);
        }

        return SQUASH_MERGE_SKIP;
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
            return SQUASH_MERGE_SKIP;
        }

        if (strncmp(base, SQUASH_WH_META, sizeof(SQUASH_WH_META) - 1) == 0) {
            /* other aufs metadata (".wh..wh.plnk" and such) */
            return SQUASH_MERGE_SKIP;
        }

        /* "dir/.wh.name" deletes "dir/name": cut the prefix in place */

        target = base;
        memmove(target, target + sizeof(SQUASH_WH_PREFIX) - 1,
                strlen(target + sizeof(SQUASH_WH_PREFIX) - 1) + 1);
        tlen = strlen(m->norm);

        if (*target == '\0') {
            return SQUASH_MERGE_SKIP;
        }

        n = squash_merger_node(m, m->norm, tlen);
        if (n == NULL) {
            return SQUASH_ERROR;
        }

        squash_merger_first(&n->hide, m->layer);
        return SQUASH_MERGE_SKIP;
    }

    if (squash_merger_hidden(m, m->norm, (size_t) len)) {
        m->stats.hidden++;
        return SQUASH_MERGE_SKIP;
    }

    n = squash_merger_node(m, m->norm, (size_t) len);
    if (n == NULL) {
        return SQUASH_ERROR;
    }

    squash_merger_first(&n->seen, m->layer);

    if (e->type != SQUASH_TAR_DIR) {
        /* a non-directory hides whatever lower layers hold below it */
        squash_merger_first(&n->hide, m->layer);
    }

    m->stats.emitted++;

    return SQUASH_MERGE_EMIT;
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
