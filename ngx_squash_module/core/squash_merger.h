
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the layer merger.
 *
 * Layers are walked top (last in the manifest) to bottom; for every entry
 * the merger says whether it is emitted or dropped, following the OCI
 * image-spec rules: the first occurrence of a normalized path wins,
 * ".wh.<name>" deletes <name> and its subtree in lower layers,
 * ".wh..wh..opq" hides everything below its directory in lower layers,
 * a non-directory hides the lower subtree under its path.  Markers and
 * shadowing apply from the next layer down.
 *
 * Bookkeeping is one open-addressing hash table of normalized paths,
 * each with the first layer that saw it, hid its subtree or made it
 * opaque.
 *
 * Hard links: a link whose target was written earlier in the same layer
 * is written as it is.  Otherwise it is held: a target found further down
 * (or later in the layer) resolves it, the first held link taking the
 * target's header and data when the target itself is hidden, the others
 * linking to it; a target hidden earlier in the same layer needs a second
 * pass over that layer (squash_merger_refetch_pending()).  Links whose
 * target never shows up are dropped with a warning, never left dangling.
 *
 * As a diff (squash_merger_set_diff()), for layers merged on top of base
 * layers that are kept: whiteouts and opaque markers that may hide base
 * content are written rather than only applied (a whiteout of a path an
 * upper layer wrote as a directory becomes that directory's opaque marker;
 * one of a path an upper layer wrote otherwise, or below a hidden one, is
 * dropped), and hard links whose target never shows up link to the base's
 * file (squash_merger_restate() writes them at the end).
 */

#ifndef _SQUASH_MERGER_H_INCLUDED_
#define _SQUASH_MERGER_H_INCLUDED_


#include "squash_core.h"
#include "squash_tar_reader.h"


#define SQUASH_MERGE_SKIP     0
#define SQUASH_MERGE_EMIT     1     /* the entry as it is */
#define SQUASH_MERGE_RENAME   2     /* the entry under res->rename->name */
#define SQUASH_MERGE_RELINK   3     /* a hard link, to res->target */


typedef struct squash_merger_s  squash_merger_t;
typedef struct squash_link_s    squash_link_t;

struct squash_link_s {
    squash_link_t          *next;
    char                   *name;       /* the link's path, as archived */
    size_t                  raw_len;
    unsigned char          *raw;        /* its header records */
};


typedef struct {
    int                     action;
    squash_link_t          *rename;     /* SQUASH_MERGE_RENAME */
    const char             *target;     /* SQUASH_MERGE_RELINK, links */
    squash_link_t          *links;      /* to write as hard links to
                                           target once the entry's data
                                           is out */
} squash_merge_result_t;


typedef struct {
    uint64_t   entries;         /* entries seen */
    uint64_t   emitted;
    uint64_t   whiteouts;       /* markers consumed */
    uint64_t   hidden;          /* entries shadowed or deleted */
    uint64_t   unsafe;          /* names escaping the root */
    uint64_t   links_held;      /* hard links written later or rewritten */
    uint64_t   links_dropped;   /* hard links whose target never showed */
} squash_merger_stats_t;


squash_merger_t *squash_merger_create(size_t memory_limit,
    squash_warn_pt warn, void *warn_data);
void squash_merger_destroy(squash_merger_t *m);

/* a diff over kept base layers; before the first layer */
void squash_merger_set_diff(squash_merger_t *m);

/* starts the next layer down */
void squash_merger_begin_layer(squash_merger_t *m);

/*
 * Decides on an entry; raw holds its header records.  Returns
 * SQUASH_OK with res filled, or SQUASH_ERROR.  The links in res are the
 * caller's, to be given back with squash_merger_free_links().
 */
int squash_merger_entry(squash_merger_t *m, const squash_tar_entry_t *e,
    const unsigned char *raw, size_t raw_len, squash_merge_result_t *res);

/* links of the current layer that wait for a second pass over it */
size_t squash_merger_refetch_pending(squash_merger_t *m);

/* the second pass: only the held links' targets are written again */
void squash_merger_begin_refetch(squash_merger_t *m);
int squash_merger_refetch_entry(squash_merger_t *m,
    const squash_tar_entry_t *e, squash_merge_result_t *res);

/* the end of the image: held links left are dropped with a warning */
void squash_merger_finish(squash_merger_t *m);

/*
 * The header records of every directory written before an entry of a
 * lower layer went into it, in the order they were written: written
 * again at the end of the merged layer, they make GNU tar and umoci
 * (which set a directory's times when they leave it) restore its mtime,
 * mode and owner.  Appended to out; SQUASH_ERROR when out of memory.
 */
int squash_merger_restate(squash_merger_t *m, squash_bytes_t *out);

void squash_merger_free_links(squash_merger_t *m, squash_link_t *l);

size_t squash_merger_memory(squash_merger_t *m);
size_t squash_merger_paths(squash_merger_t *m);
const squash_merger_stats_t *squash_merger_stats(squash_merger_t *m);
const char *squash_merger_error(squash_merger_t *m);

/*
 * Normalizes a path for bookkeeping: strips leading "./" and "/",
 * collapses "//" and "/./", drops a trailing "/".  Returns the length,
 * or -1 when a ".." component would escape the root.
 */
ssize_t squash_path_normalize(const char *in, char *out, size_t size);


#endif /* _SQUASH_MERGER_H_INCLUDED_ */
