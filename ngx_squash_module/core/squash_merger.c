
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the layer merger.
 *
 * Bookkeeping is a tree of path components: 14 bytes a node (its parent,
 * its name in an arena, three layer marks), the name once in the arena
 * after its length, and a slot in one open-addressing table of node ids
 * keyed by (parent, name).  What few nodes need more (opaque markers,
 * held hard links) lives in a second, small table.  A path costs about
 * 23 bytes plus its last component (bench/paths.c).
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squash_merger.h"


#define SQUASH_ID_NONE         UINT32_MAX
#define SQUASH_LAYER_NONE      UINT16_MAX
#define SQUASH_LAYER_MAX       0x7ffe           /* layers, counted from 0 */
#define SQUASH_MARK_EMITTED    0x8000
#define SQUASH_MARK_NONE       0x7fff

#define SQUASH_NODE_SHIFT      10               /* 1024 nodes a chunk */
#define SQUASH_NODE_CHUNK      (1 << SQUASH_NODE_SHIFT)
#define SQUASH_NAME_SHIFT      18               /* 256 KiB a name chunk */
#define SQUASH_NAME_CHUNK      (1 << SQUASH_NAME_SHIFT)
#define SQUASH_NAME_MAX        65535            /* bytes of one component */

#define SQUASH_WH_PREFIX       ".wh."
#define SQUASH_WH_OPAQUE       ".wh..wh..opq"
#define SQUASH_WH_META         ".wh..wh."


/*
 * mark: the last layer whose entry of the path was written (with
 * SQUASH_MARK_EMITTED) or hidden; within one layer all its entries of a
 * path are either.
 */

typedef struct {
    uint32_t        parent;
    uint32_t        name;       /* chunk << 18 | offset: length, bytes */
    uint16_t        seen;       /* first layer holding the path */
    uint16_t        hide;       /* first layer hiding the lower subtree */
    uint16_t        mark;
} __attribute__((packed)) squash_node_t;


#define squash_emitted(n, layer)  ((n)->mark == ((layer) | SQUASH_MARK_EMITTED))
#define squash_skipped(n, layer)  ((n)->mark == (layer))


/* what hard links and opaque markers add to a node */

typedef struct {
    uint32_t        id;         /* the node, SQUASH_ID_NONE when free */
    uint32_t        alias;      /* a held or hidden link: its target */
    uint16_t        opaque;     /* first layer making the dir opaque */
    uint16_t        dir_layer;  /* the layer that wrote the directory */
    unsigned        restate:1;  /* a lower layer's entry went into it */
    squash_link_t  *links;      /* held links waiting for this target */
    squash_link_t  *refetch;    /* ... in a second pass of this layer */
    squash_link_t  *dir;        /* a written directory: its records */
} squash_extra_t;


struct squash_merger_s {
    void                  **nodes;      /* chunks of SQUASH_NODE_CHUNK */
    size_t                  nchunks;
    uint32_t                count;      /* nodes, the root included */

    uint32_t               *table;      /* node ids, 0 free (the root is
                                           never in it) */
    size_t                  size;       /* power of two */

    void                  **names;      /* chunks of name bytes */
    size_t                  nnames;
    size_t                  name_used;  /* in the last chunk */
    size_t                  name_cap;

    squash_extra_t         *extras;
    size_t                  nextras;    /* power of two, or 0 */
    size_t                  extras_used;

    size_t                  memory;
    size_t                  limit;

    uint32_t                layer;      /* SQUASH_ID_NONE before the first */
    uint16_t                cur;        /* the layer, as nodes hold it */

    char                   *norm;
    size_t                  norm_size;
    char                   *tnorm;      /* a link's normalized target */
    size_t                  tnorm_size;
    char                   *path;       /* a node's path, rebuilt */
    size_t                  path_size;

    size_t                  refetch;    /* links waiting for pass two */
    unsigned                refetching:1;
    unsigned                diff:1;     /* over kept base layers */
    squash_link_t          *to_base;    /* a diff's links to base files */

    squash_warn_pt          warn;
    void                   *warn_data;

    squash_merger_stats_t   stats;
    char                    err[SQUASH_ERRLEN];
};


static uint32_t squash_merger_walk(squash_merger_t *m, const char *path,
    size_t len, int create);
static squash_extra_t *squash_merger_extra(squash_merger_t *m, uint32_t id,
    int create);
static const char *squash_merger_path(squash_merger_t *m, uint32_t id);
static int squash_merger_full(squash_merger_t *m);
static int squash_merger_written(squash_merger_t *m, uint32_t id,
    const squash_tar_entry_t *e, const unsigned char *raw, size_t raw_len);
static squash_link_t *squash_merger_named_link(squash_merger_t *m,
    const char *name, const unsigned char *raw, size_t raw_len);
static int squash_merger_diff_whiteout(squash_merger_t *m,
    const squash_tar_entry_t *e, const unsigned char *raw, size_t raw_len,
    size_t tlen, squash_merge_result_t *res);


#define SQUASH_FNV_INIT   0xcbf29ce484222325ULL
#define SQUASH_FNV_PRIME  0x100000001b3ULL


static squash_node_t *
squash_merger_at(squash_merger_t *m, uint32_t id)
{
    return (squash_node_t *) m->nodes[id >> SQUASH_NODE_SHIFT]
           + (id & (SQUASH_NODE_CHUNK - 1));
}


/*
 * A component's bytes, after its length: one byte below 255, else 255
 * and two bytes
 */

static const unsigned char *
squash_merger_name(squash_merger_t *m, squash_node_t *n, size_t *len)
{
    const unsigned char  *p;

    p = (unsigned char *) m->names[n->name >> SQUASH_NAME_SHIFT]
        + (n->name & (SQUASH_NAME_CHUNK - 1));

    if (p[0] < 255) {
        *len = p[0];
        return p + 1;
    }

    *len = (size_t) p[1] | (size_t) p[2] << 8;

    return p + 3;
}


static uint64_t
squash_merger_hash(uint32_t parent, const char *p, size_t n)
{
    uint64_t  h;

    h = SQUASH_FNV_INIT ^ parent;
    h *= SQUASH_FNV_PRIME;

    while (n--) {
        h ^= (unsigned char) *p++;
        h *= SQUASH_FNV_PRIME;
    }

    return h ^ (h >> 29);
}


static int
squash_merger_grow_chunks(squash_merger_t *m, void ***chunks, size_t n)
{
    void  **p;

    /* chunk pointer arrays grow by powers of two */

    if (n & (n - 1)) {
        return SQUASH_OK;
    }

    p = realloc(*chunks, (n ? n * 2 : 1) * sizeof(void *));
    if (p == NULL) {
        return SQUASH_ERROR;
    }

    *chunks = p;
    m->memory += (n ? n : 1) * sizeof(void *);

    return SQUASH_OK;
}


squash_merger_t *
squash_merger_create(size_t memory_limit, squash_warn_pt warn,
    void *warn_data)
{
    squash_merger_t  *m;
    squash_node_t    *root;

    m = calloc(1, sizeof(squash_merger_t));
    if (m == NULL) {
        return NULL;
    }

    m->limit = memory_limit;
    m->warn = warn;
    m->warn_data = warn_data;
    m->layer = SQUASH_ID_NONE;
    m->cur = SQUASH_LAYER_NONE;

    m->size = 1024;
    m->table = calloc(m->size, sizeof(uint32_t));

    if (m->table == NULL
        || squash_merger_grow_chunks(m, &m->nodes, 0)
           != SQUASH_OK)
    {
        squash_merger_destroy(m);
        return NULL;
    }

    m->nodes[0] = malloc(SQUASH_NODE_CHUNK * sizeof(squash_node_t));
    if (m->nodes[0] == NULL) {
        squash_merger_destroy(m);
        return NULL;
    }

    m->nchunks = 1;
    m->memory += m->size * sizeof(uint32_t)
                 + SQUASH_NODE_CHUNK * sizeof(squash_node_t);

    /* node 0: the root */

    root = m->nodes[0];
    root->parent = SQUASH_ID_NONE;
    root->name = 0;
    root->seen = SQUASH_LAYER_NONE;
    root->hide = SQUASH_LAYER_NONE;
    root->mark = SQUASH_MARK_NONE;
    m->count = 1;

    return m;
}


void
squash_merger_destroy(squash_merger_t *m)
{
    size_t  i;

    if (m == NULL) {
        return;
    }

    for (i = 0; i < m->nextras; i++) {
        if (m->extras[i].id != SQUASH_ID_NONE) {
            squash_merger_free_links(m, m->extras[i].links);
            squash_merger_free_links(m, m->extras[i].refetch);
            squash_merger_free_links(m, m->extras[i].dir);
        }
    }

    squash_merger_free_links(m, m->to_base);

    for (i = 0; i < m->nchunks; i++) {
        free(m->nodes[i]);
    }

    for (i = 0; i < m->nnames; i++) {
        free(m->names[i]);
    }

    free(m->nodes);
    free(m->names);
    free(m->table);
    free(m->extras);
    free(m->norm);
    free(m->tnorm);
    free(m->path);
    free(m);
}


void
squash_merger_begin_layer(squash_merger_t *m)
{
    m->layer++;     /* SQUASH_ID_NONE + 1 == 0 for the first layer */
    m->cur = m->layer <= SQUASH_LAYER_MAX ? (uint16_t) m->layer
                                          : SQUASH_LAYER_NONE;
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
    return m->count - 1;
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


/* the child of parent named p[0..n), or SQUASH_ID_NONE */

static uint32_t
squash_merger_child(squash_merger_t *m, uint32_t parent, const char *p,
    size_t n, uint64_t hash, size_t *slot)
{
    size_t                i, mask, len;
    uint32_t              id;
    squash_node_t        *node;
    const unsigned char  *name;

    mask = m->size - 1;

    for (i = hash & mask; /* void */; i = (i + 1) & mask) {
        id = m->table[i];

        if (id == 0) {
            *slot = i;
            return SQUASH_ID_NONE;
        }

        node = squash_merger_at(m, id);

        if (node->parent != parent) {
            continue;
        }

        name = squash_merger_name(m, node, &len);

        if (len == n && memcmp(name, p, n) == 0) {
            *slot = i;
            return id;
        }
    }
}


static int
squash_merger_grow(squash_merger_t *m)
{
    size_t                j, mask, size, len;
    uint32_t             *table, id;
    squash_node_t        *node;
    const unsigned char  *name;

    size = m->size * 2;

    if (m->memory + size * sizeof(uint32_t) > m->limit) {
        return squash_merger_full(m);
    }

    table = calloc(size, sizeof(uint32_t));
    if (table == NULL) {
        return squash_merger_full(m);
    }

    mask = size - 1;

    for (id = 1; id < m->count; id++) {
        node = squash_merger_at(m, id);
        name = squash_merger_name(m, node, &len);

        for (j = squash_merger_hash(node->parent, (const char *) name, len)
                 & mask;
             table[j];
             j = (j + 1) & mask)
        {
            /* void */
        }

        table[j] = id;
    }

    m->memory += (size - m->size) * sizeof(uint32_t);

    free(m->table);
    m->table = table;
    m->size = size;

    return SQUASH_OK;
}


static int
squash_merger_full(squash_merger_t *m)
{
    snprintf(m->err, SQUASH_ERRLEN, "path bookkeeping exceeds %zu bytes "
             "after %u paths", m->limit, m->count - 1);

    return SQUASH_ERROR;
}


static uint32_t
squash_merger_insert(squash_merger_t *m, uint32_t parent, const char *p,
    size_t n, size_t slot)
{
    size_t          cap, i, hlen;
    uint32_t        id;
    squash_node_t  *node;
    unsigned char  *name;

    if (n > SQUASH_NAME_MAX) {
        snprintf(m->err, SQUASH_ERRLEN, "a path component of %zu bytes",
                 n);
        return SQUASH_ID_NONE;
    }

    /* the table at most three quarters full */

    if ((size_t) m->count * 4 > m->size * 3) {
        if (squash_merger_grow(m) != SQUASH_OK) {
            return SQUASH_ID_NONE;
        }

        squash_merger_child(m, parent, p, n,
                            squash_merger_hash(parent, p, n), &slot);
    }

    /* the name: chunks grow from 4 KiB to 256 KiB */

    hlen = n < 255 ? 1 : 3;

    if (m->nnames == 0 || m->name_cap - m->name_used < n + hlen) {
        cap = m->nnames ? m->name_cap * 2 : 4096;
        cap = cap < SQUASH_NAME_CHUNK ? cap : SQUASH_NAME_CHUNK;

        if ((m->nnames >> (32 - SQUASH_NAME_SHIFT))
            || m->memory + cap > m->limit
            || squash_merger_grow_chunks(m, &m->names, m->nnames)
               != SQUASH_OK)
        {
            goto full;
        }

        m->names[m->nnames] = malloc(cap);
        if (m->names[m->nnames] == NULL) {
            goto full;
        }

        m->nnames++;
        m->name_used = 0;
        m->name_cap = cap;
        m->memory += cap;
    }

    /* the node */

    id = m->count;

    if ((id & (SQUASH_NODE_CHUNK - 1)) == 0) {
        i = id >> SQUASH_NODE_SHIFT;

        if (id == SQUASH_ID_NONE
            || m->memory + SQUASH_NODE_CHUNK * sizeof(squash_node_t)
               > m->limit
            || squash_merger_grow_chunks(m, &m->nodes, i) != SQUASH_OK)
        {
            goto full;
        }

        m->nodes[i] = malloc(SQUASH_NODE_CHUNK * sizeof(squash_node_t));
        if (m->nodes[i] == NULL) {
            goto full;
        }

        m->nchunks++;
        m->memory += SQUASH_NODE_CHUNK * sizeof(squash_node_t);
    }

    name = (unsigned char *) m->names[m->nnames - 1] + m->name_used;

    if (hlen == 1) {
        name[0] = (unsigned char) n;

    } else {
        name[0] = 255;
        name[1] = (unsigned char) (n & 0xff);
        name[2] = (unsigned char) (n >> 8);
    }

    memcpy(name + hlen, p, n);

    node = squash_merger_at(m, id);
    node->parent = parent;
    node->name = (uint32_t) ((m->nnames - 1) << SQUASH_NAME_SHIFT
                             | m->name_used);
    node->seen = SQUASH_LAYER_NONE;
    node->hide = SQUASH_LAYER_NONE;
    node->mark = SQUASH_MARK_NONE;

    m->name_used += n + hlen;
    m->table[slot] = id;
    m->count++;

    return id;

full:

    squash_merger_full(m);

    return SQUASH_ID_NONE;
}


/*
 * The node of a normalized path ("" is the root), created with its
 * parents when create is set; SQUASH_ID_NONE when absent (or, creating,
 * with m->err set).
 */

static uint32_t
squash_merger_walk(squash_merger_t *m, const char *path, size_t len,
    int create)
{
    size_t       n, slot;
    uint32_t     id, child;
    const char  *p, *c, *end;

    id = 0;
    p = path;
    end = path + len;

    while (p < end) {
        c = p;
        while (p < end && *p != '/') {
            p++;
        }

        n = p - c;

        child = squash_merger_child(m, id, c, n,
                                    squash_merger_hash(id, c, n), &slot);

        if (child == SQUASH_ID_NONE) {
            if (!create) {
                return SQUASH_ID_NONE;
            }

            child = squash_merger_insert(m, id, c, n, slot);
            if (child == SQUASH_ID_NONE) {
                return SQUASH_ID_NONE;
            }
        }

        id = child;
        p++;
    }

    return id;
}


/* a node's path, rebuilt in m->path (valid until the next call) */

static const char *
squash_merger_path(squash_merger_t *m, uint32_t id)
{
    char                 *p, *buf;
    size_t                need, len;
    uint32_t              i;
    squash_node_t        *node;
    const unsigned char  *name;

    need = 1;

    for (i = id; i != 0; i = node->parent) {
        node = squash_merger_at(m, i);
        squash_merger_name(m, node, &len);
        need += len + 1;
    }

    if (need > m->path_size) {
        buf = realloc(m->path, need);
        if (buf == NULL) {
            return NULL;
        }

        m->path = buf;
        m->path_size = need;
    }

    p = m->path + need - 1;
    *p = '\0';

    for (i = id; i != 0; i = node->parent) {
        node = squash_merger_at(m, i);
        name = squash_merger_name(m, node, &len);

        if (p != m->path + need - 1) {
            *--p = '/';
        }

        p -= len;
        memcpy(p, name, len);
    }

    /* p is one byte past m->path: need counted a '/' for every node */

    return p;
}


static squash_extra_t *
squash_merger_extra(squash_merger_t *m, uint32_t id, int create)
{
    size_t           i, j, mask, size;
    squash_extra_t  *x, *old;

    if (m->nextras) {
        mask = m->nextras - 1;

        for (i = (id * 2654435761u) & mask; /* void */; i = (i + 1) & mask) {
            x = &m->extras[i];

            if (x->id == id) {
                return x;
            }

            if (x->id == SQUASH_ID_NONE) {
                break;
            }
        }
    }

    if (!create) {
        return NULL;
    }

    if ((m->extras_used + 1) * 2 > m->nextras) {
        size = m->nextras ? m->nextras * 2 : 64;

        if (m->memory + size * sizeof(squash_extra_t) > m->limit) {
            squash_merger_full(m);
            return NULL;
        }

        old = m->extras;

        m->extras = malloc(size * sizeof(squash_extra_t));
        if (m->extras == NULL) {
            m->extras = old;
            squash_merger_full(m);
            return NULL;
        }

        for (i = 0; i < size; i++) {
            m->extras[i].id = SQUASH_ID_NONE;
        }

        mask = size - 1;

        for (i = 0; i < m->nextras; i++) {
            if (old[i].id == SQUASH_ID_NONE) {
                continue;
            }

            for (j = (old[i].id * 2654435761u) & mask;
                 m->extras[j].id != SQUASH_ID_NONE;
                 j = (j + 1) & mask)
            {
                /* void */
            }

            m->extras[j] = old[i];
        }

        m->memory += (size - m->nextras) * sizeof(squash_extra_t);
        m->nextras = size;
        free(old);
    }

    mask = m->nextras - 1;

    for (i = (id * 2654435761u) & mask;
         m->extras[i].id != SQUASH_ID_NONE;
         i = (i + 1) & mask)
    {
        /* void */
    }

    x = &m->extras[i];
    x->id = id;
    x->alias = SQUASH_ID_NONE;
    x->opaque = SQUASH_LAYER_NONE;
    x->dir_layer = SQUASH_LAYER_NONE;
    x->restate = 0;
    x->links = NULL;
    x->refetch = NULL;
    x->dir = NULL;
    m->extras_used++;

    return x;
}


static uint16_t
squash_merger_opaque(squash_merger_t *m, uint32_t id)
{
    squash_extra_t  *x;

    x = squash_merger_extra(m, id, 0);

    return x ? x->opaque : SQUASH_LAYER_NONE;
}


static uint32_t
squash_merger_alias(squash_merger_t *m, uint32_t id)
{
    squash_extra_t  *x;

    x = squash_merger_extra(m, id, 0);

    return x ? x->alias : SQUASH_ID_NONE;
}


static int
squash_merger_set_alias(squash_merger_t *m, uint32_t id, uint32_t alias)
{
    squash_extra_t  *x;

    x = squash_merger_extra(m, id, alias != SQUASH_ID_NONE);

    if (x) {
        x->alias = alias;

    } else if (alias != SQUASH_ID_NONE) {
        return SQUASH_ERROR;
    }

    return SQUASH_OK;
}


/*
 * An entry of this layer is hidden when its own path was seen or hidden
 * by a layer above, or a directory above it was hidden or made opaque
 * by a layer above.
 */

static int
squash_merger_hidden(squash_merger_t *m, const char *path, size_t len)
{
    size_t          n, slot;
    uint32_t        id;
    const char     *p, *c, *end;
    squash_node_t  *node;

    id = 0;
    node = squash_merger_at(m, 0);

    if (len == 0) {
        return node->seen < m->cur || node->hide < m->cur;
    }

    p = path;
    end = path + len;

    for ( ;; ) {
        /* the root, then each directory above the path */

        if (node->hide < m->cur || squash_merger_opaque(m, id) < m->cur) {
            return 1;
        }

        c = p;
        while (p < end && *p != '/') {
            p++;
        }

        n = p - c;

        id = squash_merger_child(m, id, c, n, squash_merger_hash(id, c, n),
                                 &slot);
        if (id == SQUASH_ID_NONE) {
            return 0;
        }

        node = squash_merger_at(m, id);

        if (p == end) {
            return node->seen < m->cur || node->hide < m->cur;
        }

        p++;
    }
}


/* a layer mark that only the first layer sets */

static uint16_t
squash_merger_first(uint16_t field, uint16_t layer)
{
    return field == SQUASH_LAYER_NONE ? layer : field;
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
    return squash_merger_named_link(m, e->path, raw, raw_len);
}


/* header records to write under name */

static squash_link_t *
squash_merger_named_link(squash_merger_t *m, const char *name,
    const unsigned char *raw, size_t raw_len)
{
    size_t          nlen, size;
    squash_link_t  *l;

    nlen = strlen(name) + 1;
    size = sizeof(squash_link_t) + raw_len + nlen;

    if (m->memory + size > m->limit) {
        squash_merger_full(m);
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
    memcpy(l->name, name, nlen);

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
 * node) can be found: written already in this layer, hidden earlier in
 * it (second pass), or not seen yet.  Stored lists are kept newest
 * first.
 */

static int
squash_merger_redirect(squash_merger_t *m, squash_link_t *list,
    uint32_t root, squash_merge_result_t *res)
{
    squash_link_t   *last;
    squash_node_t   *t;
    squash_extra_t  *x;

    if (list == NULL) {
        return SQUASH_OK;
    }

    t = squash_merger_at(m, root);

    for (last = list; last->next; last = last->next) { /* void */ }

    if (squash_emitted(t, m->cur)) {
        res->target = squash_merger_path(m, root);

        if (res->target == NULL) {
            squash_merger_free_links(m, list);
            snprintf(m->err, SQUASH_ERRLEN, "out of memory");
            return SQUASH_ERROR;
        }

        last->next = res->links;
        res->links = list;
        return SQUASH_OK;
    }

    x = squash_merger_extra(m, root, 1);
    if (x == NULL) {
        squash_merger_free_links(m, list);
        return SQUASH_ERROR;
    }

    /* newest first from here on */

    if (squash_skipped(t, m->cur)) {
        list = squash_merger_reverse(list);
        for (last = list; last->next; last = last->next) { m->refetch++; }
        m->refetch++;
        last->next = x->refetch;
        x->refetch = list;
        return SQUASH_OK;
    }

    list = squash_merger_reverse(list);
    for (last = list; last->next; last = last->next) { /* void */ }
    last->next = x->links;
    x->links = list;

    return SQUASH_OK;
}


/*
 * The node of a hard link's normalized target, through held or hidden
 * links; SQUASH_ID_NONE for a target outside the root (the link is
 * dropped), with m->err set on failure.
 */

static int
squash_merger_link_root(squash_merger_t *m, const squash_tar_entry_t *e,
    uint32_t *root, uint32_t *direct)
{
    ssize_t   len;
    uint32_t  t, alias;

    *root = SQUASH_ID_NONE;

    if (squash_merger_buf(m, &m->tnorm, &m->tnorm_size,
                          strlen(e->linkpath) + 2)
        != SQUASH_OK)
    {
        return SQUASH_ERROR;
    }

    len = squash_path_normalize(e->linkpath, m->tnorm, m->tnorm_size);

    if (len <= 0) {
        m->stats.unsafe++;

        if (m->warn) {
            m->warn(m->warn_data, "dropped hard link \"%s\" of layer %u: "
                    "its target \"%s\" is outside the root", e->path,
                    m->layer + 1, e->linkpath);
        }

        return SQUASH_OK;
    }

    t = squash_merger_walk(m, m->tnorm, (size_t) len, 1);
    if (t == SQUASH_ID_NONE) {
        return SQUASH_ERROR;
    }

    alias = squash_merger_alias(m, t);

    *direct = t;
    *root = (alias != SQUASH_ID_NONE) ? alias : t;

    return SQUASH_OK;
}


static int
squash_merger_link(squash_merger_t *m, const squash_tar_entry_t *e,
    size_t len, int hidden, const unsigned char *raw, size_t raw_len,
    squash_merge_result_t *res)
{
    uint32_t         root, direct, id;
    squash_link_t   *link, *waiting;
    squash_node_t   *n, *t;
    squash_extra_t  *x;

    if (squash_merger_link_root(m, e, &root, &direct) != SQUASH_OK) {
        return SQUASH_ERROR;
    }

    if (root == SQUASH_ID_NONE) {
        return SQUASH_OK;
    }

    id = squash_merger_walk(m, m->norm, len, 1);
    if (id == SQUASH_ID_NONE) {
        return SQUASH_ERROR;
    }

    /* links waiting for this one now wait for its target */

    x = squash_merger_extra(m, id, 0);
    waiting = x ? x->links : NULL;

    if (x) {
        x->links = NULL;
    }

    n = squash_merger_at(m, id);

    if (hidden) {
        m->stats.hidden++;
        n->mark = m->cur;

        if (squash_merger_set_alias(m, id, root) != SQUASH_OK) {
            squash_merger_free_links(m, waiting);
            return SQUASH_ERROR;
        }

        return squash_merger_redirect(m, squash_merger_reverse(waiting),
                                      root, res);
    }

    n->seen = squash_merger_first(n->seen, m->cur);
    n->hide = squash_merger_first(n->hide, m->cur);

    t = squash_merger_at(m, root);

    if (squash_emitted(t, m->cur)) {
        /* its target is out already, in this layer */
        n->mark = m->cur | SQUASH_MARK_EMITTED;
        m->stats.emitted++;

        if (squash_merger_written(m, id, e, raw, raw_len) != SQUASH_OK) {
            squash_merger_free_links(m, waiting);
            return SQUASH_ERROR;
        }

        if (squash_merger_set_alias(m, id, SQUASH_ID_NONE) != SQUASH_OK) {
            squash_merger_free_links(m, waiting);
            return SQUASH_ERROR;
        }

        if (direct == root) {
            res->action = SQUASH_MERGE_EMIT;
            res->target = e->path;

        } else {
            res->action = SQUASH_MERGE_RELINK;
            res->target = squash_merger_path(m, root);

            if (res->target == NULL) {
                squash_merger_free_links(m, waiting);
                snprintf(m->err, SQUASH_ERRLEN, "out of memory");
                return SQUASH_ERROR;
            }
        }

        return squash_merger_redirect(m, squash_merger_reverse(waiting),
                                      root, res);
    }

    if (squash_merger_set_alias(m, id, root) != SQUASH_OK) {
        squash_merger_free_links(m, waiting);
        return SQUASH_ERROR;
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
    char            *base, *target;
    size_t           tlen;
    ssize_t          len;
    uint32_t         id;
    squash_node_t   *n;
    squash_link_t   *held;
    squash_extra_t  *x;
    int              hidden;

    squash_merge_result_init(res);

    m->stats.entries++;

    if (m->cur == SQUASH_LAYER_NONE) {
        snprintf(m->err, SQUASH_ERRLEN, "more than %d layers",
                 SQUASH_LAYER_MAX + 1);
        return SQUASH_ERROR;
    }

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

            id = squash_merger_walk(m, m->norm, tlen, 1);
            if (id == SQUASH_ID_NONE) {
                return SQUASH_ERROR;
            }

            x = squash_merger_extra(m, id, 1);
            if (x == NULL) {
                return SQUASH_ERROR;
            }

            if (m->diff && x->opaque == SQUASH_LAYER_NONE
                && !squash_merger_hidden(m, m->norm, (size_t) len))
            {
                /* it may hide the base's entries: written */
                m->stats.emitted++;
                res->action = SQUASH_MERGE_EMIT;
                res->target = e->path;
            }

            x->opaque = squash_merger_first(x->opaque, m->cur);
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

        if (m->diff
            && squash_merger_diff_whiteout(m, e, raw, raw_len, tlen, res)
               != SQUASH_OK)
        {
            return SQUASH_ERROR;
        }

        id = squash_merger_walk(m, m->norm, tlen, 1);
        if (id == SQUASH_ID_NONE) {
            return SQUASH_ERROR;
        }

        n = squash_merger_at(m, id);
        n->hide = squash_merger_first(n->hide, m->cur);
        return SQUASH_OK;
    }

    hidden = squash_merger_hidden(m, m->norm, (size_t) len);

    if (e->type == SQUASH_TAR_LNK) {
        return squash_merger_link(m, e, (size_t) len, hidden, raw, raw_len,
                                  res);
    }

    id = squash_merger_walk(m, m->norm, (size_t) len, 1);
    if (id == SQUASH_ID_NONE) {
        return SQUASH_ERROR;
    }

    x = squash_merger_extra(m, id, 0);
    held = x ? squash_merger_reverse(x->links) : NULL;

    if (x) {
        x->links = NULL;
    }

    n = squash_merger_at(m, id);

    if (hidden) {
        m->stats.hidden++;
        n->mark = m->cur;

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

    n->seen = squash_merger_first(n->seen, m->cur);

    if (e->type != SQUASH_TAR_DIR) {
        /* a non-directory hides whatever lower layers hold below it */
        n->hide = squash_merger_first(n->hide, m->cur);
    }

    n->mark = m->cur | SQUASH_MARK_EMITTED;
    m->stats.emitted++;

    if (squash_merger_written(m, id, e, raw, raw_len) != SQUASH_OK) {
        squash_merger_free_links(m, held);
        return SQUASH_ERROR;
    }

    res->action = SQUASH_MERGE_EMIT;
    res->links = held;
    res->target = e->path;

    return SQUASH_OK;
}


/*
 * A diff's whiteout of m->norm (tlen bytes), before it is applied: as it
 * is where nothing above covers the path; as the opaque marker of a
 * directory an upper layer wrote there; dropped where an upper layer wrote
 * something else there, hid it or hid a directory above it
 */

static int
squash_merger_diff_whiteout(squash_merger_t *m, const squash_tar_entry_t *e,
    const unsigned char *raw, size_t raw_len, size_t tlen,
    squash_merge_result_t *res)
{
    char            *name;
    size_t           size;
    uint32_t         id;
    squash_node_t   *n;
    squash_extra_t  *x;

    if (!squash_merger_hidden(m, m->norm, tlen)) {
        m->stats.emitted++;
        res->action = SQUASH_MERGE_EMIT;
        res->target = e->path;
        return SQUASH_OK;
    }

    id = squash_merger_walk(m, m->norm, tlen, 0);
    if (id == SQUASH_ID_NONE) {
        return SQUASH_OK;
    }

    n = squash_merger_at(m, id);
    x = squash_merger_extra(m, id, 0);

    if (n->seen >= m->cur || n->hide < m->cur || x == NULL || x->dir == NULL
        || x->opaque < m->cur)
    {
        return SQUASH_OK;
    }

    size = tlen + sizeof("/" SQUASH_WH_OPAQUE);

    if (squash_merger_buf(m, &m->path, &m->path_size, size) != SQUASH_OK) {
        return SQUASH_ERROR;
    }

    name = m->path;
    snprintf(name, size, "%.*s/" SQUASH_WH_OPAQUE, (int) tlen, m->norm);

    res->rename = squash_merger_named_link(m, name, raw, raw_len);
    if (res->rename == NULL) {
        return SQUASH_ERROR;
    }

    x->opaque = squash_merger_first(x->opaque, m->cur);

    m->stats.emitted++;
    res->action = SQUASH_MERGE_RENAME;
    res->target = res->rename->name;

    return SQUASH_OK;
}


int
squash_merger_refetch_entry(squash_merger_t *m, const squash_tar_entry_t *e,
    squash_merge_result_t *res)
{
    ssize_t          len;
    uint32_t         id;
    squash_link_t   *held, *l;
    squash_extra_t  *x;

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

    id = squash_merger_walk(m, m->norm, (size_t) len, 0);
    x = (id == SQUASH_ID_NONE) ? NULL : squash_merger_extra(m, id, 0);

    if (x == NULL || x->refetch == NULL) {
        return SQUASH_OK;
    }

    held = squash_merger_reverse(x->refetch);
    x->refetch = NULL;

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


/*
 * An entry is written: a directory keeps its header records, and the
 * directory it goes into, if an upper layer wrote that, is to be
 * restated at the end.
 */

static int
squash_merger_written(squash_merger_t *m, uint32_t id,
    const squash_tar_entry_t *e, const unsigned char *raw, size_t raw_len)
{
    uint32_t         parent;
    squash_extra_t  *x;

    if (e->type == SQUASH_TAR_DIR && raw_len) {
        x = squash_merger_extra(m, id, 1);
        if (x == NULL) {
            return SQUASH_ERROR;
        }

        /* a directory written twice in a layer: the last one counts */

        squash_merger_free_links(m, x->dir);

        x->dir = squash_merger_new_link(m, e, raw, raw_len);
        if (x->dir == NULL) {
            return SQUASH_ERROR;
        }

        x->dir_layer = m->cur;
    }

    parent = squash_merger_at(m, id)->parent;

    if (parent == 0 || parent == SQUASH_ID_NONE) {
        return SQUASH_OK;
    }

    /* written by an upper layer (the lower ones' entries of it hidden) */

    x = squash_merger_extra(m, parent, 0);

    if (x && x->dir && x->dir_layer < m->cur) {
        x->restate = 1;
    }

    return SQUASH_OK;
}


static int
squash_merger_by_id(const void *a, const void *b)
{
    uint32_t  x, y;

    x = (*(squash_extra_t *const *) a)->id;
    y = (*(squash_extra_t *const *) b)->id;

    return (x > y) - (x < y);
}


int
squash_merger_restate(squash_merger_t *m, squash_bytes_t *out)
{
    size_t            i, n;
    squash_link_t    *l;
    squash_extra_t  **list;

    for (l = m->to_base; l; l = l->next) {
        if (squash_bytes_append(out, l->raw, l->raw_len, (size_t) -1 / 2)
            != SQUASH_OK)
        {
            return SQUASH_ERROR;
        }
    }

    n = 0;

    for (i = 0; i < m->nextras; i++) {
        n += (m->extras[i].id != SQUASH_ID_NONE && m->extras[i].restate);
    }

    if (n == 0) {
        return SQUASH_OK;
    }

    list = malloc(n * sizeof(squash_extra_t *));
    if (list == NULL) {
        return SQUASH_ERROR;
    }

    n = 0;

    for (i = 0; i < m->nextras; i++) {
        if (m->extras[i].id != SQUASH_ID_NONE && m->extras[i].restate) {
            list[n++] = &m->extras[i];
        }
    }

    /* node ids grow as paths are first seen: parents before children */

    qsort(list, n, sizeof(squash_extra_t *), squash_merger_by_id);

    for (i = 0; i < n; i++) {
        if (squash_bytes_append(out, list[i]->dir->raw, list[i]->dir->raw_len,
                                (size_t) -1 / 2)
            != SQUASH_OK)
        {
            free(list);
            return SQUASH_ERROR;
        }
    }

    free(list);

    return SQUASH_OK;
}


void
squash_merger_set_diff(squash_merger_t *m)
{
    m->diff = 1;
}


void
squash_merger_finish(squash_merger_t *m)
{
    size_t           i;
    const char      *target;
    squash_link_t   *l;
    squash_extra_t  *x;

    for (i = 0; i < m->nextras; i++) {
        x = &m->extras[i];

        if (x->id == SQUASH_ID_NONE || x->links == NULL) {
            continue;
        }

        if (m->diff) {
            /* links to a base layer's file: written as they are */

            for (l = x->links; l->next; l = l->next) {
                /* void */
            }

            l->next = m->to_base;
            m->to_base = x->links;
            x->links = NULL;
            continue;
        }

        target = squash_merger_path(m, x->id);

        for (l = x->links; l; l = l->next) {
            m->stats.links_dropped++;

            if (m->warn) {
                m->warn(m->warn_data, "dropped hard link \"%s\": its target "
                        "\"%s\" is not in the image", l->name,
                        target ? target : "?");
            }
        }

        squash_merger_free_links(m, x->links);
        x->links = NULL;
    }
}
