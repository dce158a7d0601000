
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: incremental decompression of layer blobs.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if (SQUASH_HAVE_ISAL)
#include <isa-l/igzip_lib.h>
#endif

#include "squash_decomp.h"


static int squash_decomp_member(squash_decomp_t *d, const unsigned char *p);
static int squash_decomp_gzip(squash_decomp_t *d, const unsigned char **in,
    const unsigned char *in_end, unsigned char **out,
    const unsigned char *out_end);
static int squash_decomp_zstd(squash_decomp_t *d, const unsigned char **in,
    const unsigned char *in_end, unsigned char **out,
    const unsigned char *out_end);


const char *
squash_comp_name(squash_comp_e kind)
{
    switch (kind) {
    case SQUASH_COMP_GZIP:
        return "gzip";
    case SQUASH_COMP_ZSTD:
        return "zstd";
    default:
        return "none";
    }
}


int
squash_decomp_init(squash_decomp_t *d, squash_comp_e kind)
{
    memset(d, 0, sizeof(squash_decomp_t));

    d->kind = kind;
    d->at_end = 1;

    switch (kind) {

    case SQUASH_COMP_GZIP:
#if (SQUASH_HAVE_ISAL)
        d->isal = malloc(sizeof(struct inflate_state));
        if (d->isal == NULL) {
            snprintf(d->err, SQUASH_ERRLEN, "out of memory");
            return SQUASH_ERROR;
        }

        isal_inflate_init(d->isal);
        ((struct inflate_state *) d->isal)->crc_flag = ISAL_GZIP;
#else
        if (inflateInit2(&d->zs, MAX_WBITS + 16) != Z_OK) {
            snprintf(d->err, SQUASH_ERRLEN, "inflateInit2() failed");
            return SQUASH_ERROR;
        }

        d->zs_init = 1;
#endif
        break;

    case SQUASH_COMP_ZSTD:
        d->zd = ZSTD_createDStream();
        if (d->zd == NULL) {
            snprintf(d->err, SQUASH_ERRLEN, "ZSTD_createDStream() failed");
            return SQUASH_ERROR;
        }

        break;

    default:
        break;
    }

    return SQUASH_OK;
}


void
squash_decomp_free(squash_decomp_t *d)
{
    if (d->zs_init) {
        inflateEnd(&d->zs);
        d->zs_init = 0;
    }

    free(d->isal);
    d->isal = NULL;

    if (d->zd) {
        ZSTD_freeDStream(d->zd);
        d->zd = NULL;
    }
}


const char *
squash_inflater(void)
{
#if (SQUASH_HAVE_ISAL)
    return "ISA-L";
#else
    return "zlib";
#endif
}


int
squash_decomp_run(squash_decomp_t *d, const unsigned char **in,
    const unsigned char *in_end, unsigned char **out,
    const unsigned char *out_end)
{
    size_t                n;
    const unsigned char  *start;
    int                   rc;

    start = *in;

    switch (d->kind) {

    case SQUASH_COMP_GZIP:
        rc = squash_decomp_gzip(d, in, in_end, out, out_end);
        break;

    case SQUASH_COMP_ZSTD:
        rc = squash_decomp_zstd(d, in, in_end, out, out_end);
        break;

    default:
        n = in_end - *in;
        if ((size_t) (out_end - *out) < n) {
            n = out_end - *out;
        }

        memcpy(*out, *in, n);
        *in += n;
        *out += n;
        d->out_total += n;
        d->at_end = 1;
        rc = SQUASH_OK;
        break;
    }

    d->in_total += *in - start;

    return rc;
}


/* what follows a gzip member that ended must be another one (as Go reads) */

static int
squash_decomp_member(squash_decomp_t *d, const unsigned char *p)
{
    if (*p != 0x1f) {
        snprintf(d->err, SQUASH_ERRLEN, "garbage after gzip member %u",
                 d->members);
        return SQUASH_ERROR;
    }

    return SQUASH_OK;
}


#if (SQUASH_HAVE_ISAL)

static int
squash_decomp_gzip(squash_decomp_t *d, const unsigned char **in,
    const unsigned char *in_end, unsigned char **out,
    const unsigned char *out_end)
{
    int                    rc;
    struct inflate_state  *st;

    st = d->isal;

    while ((*in < in_end || d->more) && *out < out_end) {

        if (d->at_end && d->members && *in < in_end) {

            if (squash_decomp_member(d, *in) != SQUASH_OK) {
                return SQUASH_ERROR;
            }

            isal_inflate_reset(st);
            st->crc_flag = ISAL_GZIP;
        }

        st->next_in = (uint8_t *) *in;
        st->avail_in = (uint32_t) ((size_t) (in_end - *in) > 0x40000000
                                   ? 0x40000000 : in_end - *in);
        st->next_out = *out;
        st->avail_out = (uint32_t) ((size_t) (out_end - *out) > 0x40000000
                                    ? 0x40000000 : out_end - *out);

        rc = isal_inflate(st);

        d->out_total += st->next_out - *out;
        *in = st->next_in;
        *out = st->next_out;

        if (rc != ISAL_DECOMP_OK) {
            snprintf(d->err, SQUASH_ERRLEN, "inflate failed: %s",
                     rc == ISAL_INVALID_WRAPPER ? "incorrect header check"
                     : rc == ISAL_UNSUPPORTED_METHOD ? "unknown compression "
                                                       "method"
                     : rc == ISAL_INCORRECT_CHECKSUM ? "incorrect data check"
                     : rc == ISAL_INVALID_LOOKBACK ? "invalid distance too "
                                                     "far back"
                     : "invalid deflate data");
            return SQUASH_ERROR;
        }

        if (st->block_state == ISAL_BLOCK_FINISH) {
            d->at_end = 1;
            d->members++;
            d->more = 0;
            continue;
        }

        d->at_end = 0;

        /* output filled up: more may come without input */
        d->more = (st->avail_out == 0);

        if (!d->more) {
            /* all input taken in, more wanted */
            break;
        }
    }

    return SQUASH_OK;
}

#else

static int
squash_decomp_gzip(squash_decomp_t *d, const unsigned char **in,
    const unsigned char *in_end, unsigned char **out,
    const unsigned char *out_end)
{
    int  rc;

    while ((*in < in_end || d->more) && *out < out_end) {

        if (d->at_end && d->members && *in < in_end) {

            if (squash_decomp_member(d, *in) != SQUASH_OK) {
                return SQUASH_ERROR;
            }

            if (inflateReset(&d->zs) != Z_OK) {
                snprintf(d->err, SQUASH_ERRLEN, "inflateReset() failed");
                return SQUASH_ERROR;
            }
        }

        d->zs.next_in = (unsigned char *) *in;
        d->zs.avail_in = (uInt) ((size_t) (in_end - *in) > 0x40000000
                                 ? 0x40000000 : in_end - *in);
        d->zs.next_out = *out;
        d->zs.avail_out = (uInt) ((size_t) (out_end - *out) > 0x40000000
                                  ? 0x40000000 : out_end - *out);

        rc = inflate(&d->zs, Z_NO_FLUSH);

        d->out_total += d->zs.next_out - *out;
        *in = d->zs.next_in;
        *out = d->zs.next_out;
        d->more = (d->zs.avail_out == 0);

        if (rc == Z_STREAM_END) {
            d->at_end = 1;
            d->members++;
            d->more = 0;
            continue;
        }

        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            snprintf(d->err, SQUASH_ERRLEN, "inflate() failed: %d%s%s", rc,
                     d->zs.msg ? ": " : "", d->zs.msg ? d->zs.msg : "");
            return SQUASH_ERROR;
        }

        d->at_end = 0;

        if (rc == Z_BUF_ERROR) {
            d->more = 0;
            break;
        }
    }

    return SQUASH_OK;
}

#endif


static int
squash_decomp_zstd(squash_decomp_t *d, const unsigned char **in,
    const unsigned char *in_end, unsigned char **out,
    const unsigned char *out_end)
{
    size_t          rc;
    ZSTD_inBuffer   ib;
    ZSTD_outBuffer  ob;

    while ((*in < in_end || d->more) && *out < out_end) {
        ib.src = *in;
        ib.size = in_end - *in;
        ib.pos = 0;
        ob.dst = *out;
        ob.size = out_end - *out;
        ob.pos = 0;

        rc = ZSTD_decompressStream(d->zd, &ob, &ib);

        if (ZSTD_isError(rc)) {
            snprintf(d->err, SQUASH_ERRLEN, "zstd: %s",
                     ZSTD_getErrorName(rc));
            return SQUASH_ERROR;
        }

        *in += ib.pos;
        *out += ob.pos;
        d->out_total += ob.pos;

        d->at_end = (rc == 0);
        d->more = (ob.pos == ob.size);

        if (ib.pos == 0 && ob.pos == 0) {
            d->more = 0;
            break;
        }
    }

    return SQUASH_OK;
}


int
squash_decomp_finish(squash_decomp_t *d)
{
    if (d->at_end && !d->more) {
        return SQUASH_OK;
    }

    snprintf(d->err, SQUASH_ERRLEN, "%s stream truncated after %llu "
             "compressed bytes", squash_comp_name(d->kind),
             (unsigned long long) d->in_total);

    return SQUASH_ERROR;
}


/* deflate's bounds on what `compressed` bytes of a gzip member inflate to */

static int
squash_gzip_bounds(uint64_t compressed, uint64_t *min, uint64_t *max)
{
    uint64_t  payload;

    /* a gzip member has a 10-byte header and an 8-byte trailer */

    if (compressed < 18) {
        return SQUASH_DECLINED;
    }

    payload = compressed - 18;

    /* deflate expands data by at most 5 bytes per 64 KiB stored block */
    *min = payload > 5 ? payload - 5 - payload / 13107 : 0;

    /* and compresses it at most 1032 to 1 */
    *max = payload * 1032 + 1032;

    return SQUASH_OK;
}


int
squash_gzip_size(uint64_t compressed, uint32_t isize, uint64_t *size)
{
    uint64_t  min, max;

    if (squash_gzip_bounds(compressed, &min, &max) != SQUASH_OK
        || isize < min || (uint64_t) isize + ((uint64_t) 1 << 32) <= max)
    {
        return SQUASH_DECLINED;
    }

    *size = isize;

    return SQUASH_OK;
}


int
squash_gzip_size_smallest(uint64_t compressed, uint32_t isize,
    uint64_t *size)
{
    uint64_t  min, max, s;

    if (squash_gzip_bounds(compressed, &min, &max) != SQUASH_OK) {
        return SQUASH_DECLINED;
    }

    s = isize;

    if (s < min) {
        s += (min - s + 0xffffffff) & ~(uint64_t) 0xffffffff;
    }

    if (s > max) {
        return SQUASH_DECLINED;
    }

    *size = s;

    return SQUASH_OK;
}
