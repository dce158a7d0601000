
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


#define SQUASH_OK          0
#define SQUASH_ERROR      -1
#define SQUASH_AGAIN      -2      /* needs more input or output space */
#define SQUASH_DONE       -3      /* the stream ended */


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
void squash_bytes_free(squash_bytes_t *b);


#endif /* _SQUASH_CORE_H_INCLUDED_ */
