
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * paths: the merger's bookkeeping for N paths "usr/share/doc/f<i>" (the
 * names squash-mkimage's "many" writes), with the default
 * squash_merge_memory (64m): bytes per path, and whether N fit.
 *
 *   bench/paths N [LIMIT]
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squash_merger.h"


int
main(int argc, char **argv)
{
    char                   path[64];
    long                   n, i;
    size_t                 limit;
    squash_merger_t       *m;
    squash_tar_entry_t     e;
    squash_merge_result_t  res;

    n = argc > 1 ? atol(argv[1]) : 2000000;
    limit = argc > 2 ? (size_t) atol(argv[2]) : (size_t) 64 << 20;

    m = squash_merger_create(limit, NULL, NULL);
    if (m == NULL) {
        return 1;
    }

    squash_merger_begin_layer(m);

    memset(&e, 0, sizeof(e));
    e.type = SQUASH_TAR_REG;
    e.path = path;
    e.linkpath = "";

    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "usr/share/doc/f%ld", i);

        if (squash_merger_entry(m, &e, NULL, 0, &res) != SQUASH_OK) {
            printf("%ld paths: %s\n", i, squash_merger_error(m));
            return 1;
        }
    }

    printf("%zu paths in %zu bytes: %.1f bytes per path (limit %zu)\n",
           squash_merger_paths(m), squash_merger_memory(m),
           (double) squash_merger_memory(m) / squash_merger_paths(m), limit);

    squash_merger_destroy(m);

    return 0;
}
