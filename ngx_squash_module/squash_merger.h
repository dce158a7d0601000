
/*
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
 */

#ifndef _SQUASH_MERGER_H_INCLUDED_
#define _SQUASH_MERGER_H_INCLUDED_


#include "squash_core.h"
#include "squash_tar_reader.h"


#define SQUASH_MERGE_EMIT     1
#define SQUASH_MERGE_SKIP     0


typedef struct squash_merger_s  squash_merger_t;


typedef struct {
    uint64_t   entries;         /* entries seen */
    uint64_t   emitted;
    uint64_t   whiteouts;       /* markers consumed */
    uint64_t   hidden;          /* entries shadowed or deleted */
    uint64_t   unsafe;          /* names escaping the root */
} squash_merger_stats_t;


squash_merger_t *squash_merger_create(size_t memory_limit,
    squash_warn_pt warn, void *warn_data);
void squash_merger_destroy(squash_merger_t *m);

/* starts the next layer down */
void squash_merger_begin_layer(squash_merger_t *m);

/* SQUASH_MERGE_EMIT, SQUASH_MERGE_SKIP or SQUASH_ERROR */
int squash_merger_entry(squash_merger_t *m, const squash_tar_entry_t *e);

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
