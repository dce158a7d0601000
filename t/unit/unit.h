
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * Unit tests of the nginx-free core (cmocka).  Each file holds one group;
 * unit_main.c runs them all.
 */

#ifndef _SQUASH_UNIT_H_INCLUDED_
#define _SQUASH_UNIT_H_INCLUDED_


#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "squash_core.h"


int unit_tar_reader(void);
int unit_merger(void);
int unit_decomp(void);
int unit_layer(void);
int unit_image(void);
int unit_archive(void);
int unit_job(void);
int unit_distribution(void);


/* a tar written by libarchive from a compact description (helpers.c) */

typedef struct {
    const char  *path;
    int          type;          /* '0', '1', '2', '5' */
    const char  *data;          /* content, or link target */
} unit_entry_t;

squash_bytes_t unit_tar(const unit_entry_t *entries, int gnu);
squash_bytes_t unit_gzip(const void *p, size_t n);


#endif /* _SQUASH_UNIT_H_INCLUDED_ */
