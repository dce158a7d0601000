
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: definitions shared by the nginx-free core
 * (tar reader, merger, decompression, layer transformer, archive writer).
 */

#ifndef _SQUASH_CORE_H_INCLUDED_
#define _SQUASH_CORE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


/*
 * Return codes, one meaning each:
 *
 *   SQUASH_OK           done as asked.  The stream functions
 *                       (squash_decomp_run(), squash_layer_run()) return
 *                       it once they have used the input and the output
 *                       space they were given as far as they go: call
 *                       again with more
 *   SQUASH_ERROR        failed; the object's err says why
 *   SQUASH_DONE         the stream ended, or no records are left
 *   SQUASH_DECLINED     no answer from what was given (an ISIZE that more
 *                       than one size fits)
 *   SQUASH_NOT_FOUND    nothing matches (no manifest for the platform)
 *   SQUASH_UNSUPPORTED  a kind of document that is not served
 *   SQUASH_INDEX        an index: the manifest it names comes next
 *
 * Predicates are named squash_is_*() and return 1 (true) or 0.
 */

#define SQUASH_OK            0
#define SQUASH_ERROR        -1
#define SQUASH_DONE         -3
#define SQUASH_DECLINED     -4
#define SQUASH_NOT_FOUND    -5
#define SQUASH_UNSUPPORTED  -6
#define SQUASH_INDEX        -7


#define SQUASH_ERRLEN      256


/* printf-like sink for warnings; the nginx glue maps it to the error log */

typedef void (*squash_warn_pt)(void *data, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


/* a growable byte buffer (malloc based) with a hard limit */

typedef struct {
    unsigned char  *data;
    size_t          len;
    size_t          cap;
} squash_bytes_t;


int squash_bytes_append(squash_bytes_t *b, const void *p, size_t n,
    size_t limit);

/* room for n bytes in all, allocated at once (appends then do not move) */
int squash_bytes_reserve(squash_bytes_t *b, size_t n);
void squash_bytes_free(squash_bytes_t *b);


#endif /* _SQUASH_CORE_H_INCLUDED_ */
