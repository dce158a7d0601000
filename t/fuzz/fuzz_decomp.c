
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * libFuzzer target: the blob decompressor (squash_decomp.c), above all
 * the gzip headers and trailers it reads itself.  The input's first byte
 * picks gzip or zstd and the sizes of the input and output pieces; the
 * rest is the blob.  Whatever the input, the decompressor must take it
 * in pieces without reading or writing out of bounds, stop, and say
 * whether the blob may end there.  Built by build.sh with clang
 * -fsanitize=fuzzer,address, with ISA-L and with zlib.
 */

#include <stdint.h>
#include <stdlib.h>

#include "squash_decomp.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   rc;
    size_t                step, room, stuck;
    unsigned char        *out, *o;
    const unsigned char  *p, *last, *end, *start;
    squash_decomp_t       d;

    static const size_t   steps[] = { 1, 2, 7, 10, 64, 512, 4096, 65536 };

    if (size < 1) {
        return 0;
    }

    step = steps[data[0] & 7];
    room = steps[(data[0] >> 3) & 7];

    if (squash_decomp_init(&d, data[0] & 0x40 ? SQUASH_COMP_ZSTD
                                              : SQUASH_COMP_GZIP)
        != SQUASH_OK)
    {
        squash_decomp_free(&d);
        return 0;
    }

    /* exactly `room` bytes, so that ASan sees any write past them */
    out = malloc(room);
    if (out == NULL) {
        squash_decomp_free(&d);
        return 0;
    }

    p = data + 1;
    end = data + size;
    stuck = 0;

    for ( ;; ) {
        start = p;
        last = p + ((size_t) (end - p) < step ? (size_t) (end - p) : step);
        o = out;

        rc = squash_decomp_run(&d, &p, last, &o, out + room);

        if (rc != SQUASH_OK) {
            break;
        }

        if (p == end && !d.more && o == out) {
            (void) squash_decomp_finish(&d);
            break;
        }

        /* no progress at all, twice in a row: it would hang a request */
        if (p == start && o == out) {
            if (++stuck > 1) {
                abort();
            }

        } else {
            stuck = 0;
        }
    }

    free(out);
    squash_decomp_free(&d);

    return 0;
}
