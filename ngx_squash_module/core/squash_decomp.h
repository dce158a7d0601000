
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: incremental decompression of layer blobs (gzip, zstd or
 * none), in the style of z_stream: input and output pointers advance.
 * gzip is inflated by ISA-L where it was built with it (SQUASH_HAVE_ISAL,
 * about twice zlib's speed), else by zlib.  The members' headers (and,
 * with zlib, their trailers) are read here, so that both builds read a
 * blob as Go's gzip.Reader does: one member after another, reserved flags
 * ignored, a file name or comment of at most 511 bytes, FHCRC checked.
 */

#ifndef _SQUASH_DECOMP_H_INCLUDED_
#define _SQUASH_DECOMP_H_INCLUDED_


#include <zlib.h>
#include <zstd.h>

#include "squash_core.h"


typedef enum {
    SQUASH_COMP_NONE = 0,
    SQUASH_COMP_GZIP,
    SQUASH_COMP_ZSTD
} squash_comp_e;


typedef struct {
    squash_comp_e       kind;

    z_stream            zs;
    void               *isal;           /* ISA-L's inflate state */
    ZSTD_DStream       *zd;

    uint64_t            in_total;
    uint64_t            out_total;

    unsigned            members;
    unsigned            more:1;         /* output filled up: more may
                                           come without more input */
    unsigned            zs_init:1;
    unsigned            at_end:1;       /* between gzip members or frames */

    /* a gzip member's header and trailer, read here for either inflater */
    unsigned            gz_state;       /* SQUASH_GZ_* in squash_decomp.c */
    unsigned            gz_flags;
    size_t              gz_len;         /* bytes of the field so far */
    size_t              gz_need;        /* FEXTRA: its bytes still to come */
    uint32_t            gz_hcrc;        /* CRC-32 of the header so far */
    uint32_t            gz_crc;         /* zlib: CRC-32 of the member's */
    uint32_t            gz_size;        /* output, and its length */
    unsigned char       gz_buf[10];

    char                err[SQUASH_ERRLEN];
} squash_decomp_t;


int squash_decomp_init(squash_decomp_t *d, squash_comp_e kind);
void squash_decomp_free(squash_decomp_t *d);

/*
 * SQUASH_OK (possibly without progress: more input wanted) or SQUASH_ERROR;
 * while d->more is set, call again even without input
 */
int squash_decomp_run(squash_decomp_t *d, const unsigned char **in,
    const unsigned char *in_end, unsigned char **out,
    const unsigned char *out_end);

/* SQUASH_OK when the compressed stream may end here */
int squash_decomp_finish(squash_decomp_t *d);

const char *squash_comp_name(squash_comp_e kind);

/* a little-endian field of a gzip trailer: its CRC32 or its ISIZE */
uint32_t squash_gzip_le32(const unsigned char *p);

/* "ISA-L" or "zlib" */
const char *squash_inflater(void);

/*
 * The uncompressed size of a single-member gzip blob of `compressed` bytes
 * whose ISIZE (size mod 2^32) is `isize`: SQUASH_OK when only one size
 * fits deflate's bounds (at most 1032:1, at least the stored size), else
 * SQUASH_DECLINED.  A multi-member blob cannot be told from its last member
 * here: the stream catches that.
 */
int squash_gzip_size(uint64_t compressed, uint32_t isize, uint64_t *size);

/*
 * The smallest of those sizes that fits deflate's bounds, for
 * squash_size_fallback smallest: wrong only for a layer that inflates to
 * 4 GiB or more beyond its compressed length, or a multi-member blob,
 * which the stream catches (it overruns).  SQUASH_DECLINED when no size
 * fits.
 */
int squash_gzip_size_smallest(uint64_t compressed, uint32_t isize,
    uint64_t *size);


#endif /* _SQUASH_DECOMP_H_INCLUDED_ */
