
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


/* where a gzip member is read (d->gz_state); RFC 1952's order */
#define SQUASH_GZ_NONE      0       /* between members */
#define SQUASH_GZ_FIXED     1       /* ID1 ID2 CM FLG MTIME XFL OS */
#define SQUASH_GZ_XLEN      2
#define SQUASH_GZ_EXTRA     3
#define SQUASH_GZ_NAME      4
#define SQUASH_GZ_COMMENT   5
#define SQUASH_GZ_HCRC      6
#define SQUASH_GZ_BODY      7       /* deflate; ISA-L reads the trailer */
#define SQUASH_GZ_TRAILER   8       /* zlib: CRC32 ISIZE */

#define SQUASH_GZ_FHCRC     0x02
#define SQUASH_GZ_FEXTRA    0x04
#define SQUASH_GZ_FNAME     0x08
#define SQUASH_GZ_FCOMMENT  0x10

/* Go reads a file name or comment into 512 bytes, its NUL included */
#define SQUASH_GZ_STRING    512


static int squash_gzip_frame(squash_decomp_t *d, const unsigned char **in,
    const unsigned char *in_end);
static int squash_gzip_field(squash_decomp_t *d);
static void squash_gzip_next(squash_decomp_t *d);
static int squash_gzip_bad(squash_decomp_t *d, const char *what);
static int squash_inflate_start(squash_decomp_t *d);
static int squash_inflate(squash_decomp_t *d, const unsigned char **in,
    const unsigned char *in_end, unsigned char **out,
    const unsigned char *out_end);
static size_t squash_decomp_chunk(const unsigned char *p,
    const unsigned char *end);
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
#else
        /* raw deflate: the header and trailer are read here */
        if (inflateInit2(&d->zs, -MAX_WBITS) != Z_OK) {
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


/* what an inflater takes at once: its counts are 32-bit */

static size_t
squash_decomp_chunk(const unsigned char *p, const unsigned char *end)
{
    return (size_t) (end - p) > 0x40000000 ? 0x40000000
                                            : (size_t) (end - p);
}


uint32_t
squash_gzip_le32(const unsigned char *p)
{
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
}


/*
 * gzip: members one after another, each a header, deflate and a trailer,
 * read as Go's gzip.Reader reads them; the blob may end between members
 * only (or be empty).
 */

static int
squash_decomp_gzip(squash_decomp_t *d, const unsigned char **in,
    const unsigned char *in_end, unsigned char **out,
    const unsigned char *out_end)
{
    int  rc;

    while ((*in < in_end || d->more) && *out < out_end) {

        if (d->gz_state == SQUASH_GZ_BODY) {
            rc = squash_inflate(d, in, in_end, out, out_end);

            if (rc == SQUASH_DECLINED) {
                /* all input taken in, more wanted */
                break;
            }

            if (rc != SQUASH_OK) {
                return rc;
            }

            continue;
        }

        if (d->gz_state == SQUASH_GZ_NONE) {
            /* the next member */
            d->at_end = 0;
            d->gz_state = SQUASH_GZ_FIXED;
            d->gz_len = 0;
            d->gz_hcrc = crc32(0, NULL, 0);
        }

        rc = squash_gzip_frame(d, in, in_end);

        if (rc != SQUASH_OK) {
            return rc;
        }
    }

    return SQUASH_OK;
}


/* a member's header, or (zlib) its trailer, from the input there is */

static int
squash_gzip_frame(squash_decomp_t *d, const unsigned char **in,
    const unsigned char *in_end)
{
    size_t                n, want;
    const unsigned char  *p, *nul;

    p = *in;

    while (p < in_end
           && d->gz_state != SQUASH_GZ_BODY && d->gz_state != SQUASH_GZ_NONE)
    {
        switch (d->gz_state) {

        case SQUASH_GZ_EXTRA:
            n = (size_t) (in_end - p) < d->gz_need ? (size_t) (in_end - p)
                                                    : d->gz_need;
            d->gz_hcrc = crc32(d->gz_hcrc, p, (uInt) n);
            p += n;
            d->gz_need -= n;

            if (d->gz_need == 0) {
                squash_gzip_next(d);
            }

            break;

        case SQUASH_GZ_NAME:
        case SQUASH_GZ_COMMENT:
            nul = memchr(p, '\0', in_end - p);
            n = nul ? (size_t) (nul - p) + 1 : (size_t) (in_end - p);

            if (d->gz_len + n > SQUASH_GZ_STRING
                || (nul == NULL && d->gz_len + n == SQUASH_GZ_STRING))
            {
                *in = p;
                return squash_gzip_bad(d, d->gz_state == SQUASH_GZ_NAME
                                          ? "file name over 511 bytes"
                                          : "comment over 511 bytes");
            }

            d->gz_hcrc = crc32(d->gz_hcrc, p, (uInt) n);
            p += n;
            d->gz_len += n;

            if (nul) {
                squash_gzip_next(d);
            }

            break;

        default:
            /* the fixed part, XLEN, the header's CRC16, the trailer */
            want = d->gz_state == SQUASH_GZ_FIXED ? 10
                   : d->gz_state == SQUASH_GZ_TRAILER ? 8 : 2;

            n = (size_t) (in_end - p) < want - d->gz_len
                ? (size_t) (in_end - p) : want - d->gz_len;
            memcpy(d->gz_buf + d->gz_len, p, n);

            if (d->gz_state != SQUASH_GZ_HCRC
                && d->gz_state != SQUASH_GZ_TRAILER)
            {
                d->gz_hcrc = crc32(d->gz_hcrc, p, (uInt) n);
            }

            p += n;
            d->gz_len += n;

            if (d->gz_state == SQUASH_GZ_FIXED
                && ((d->gz_len > 0 && d->gz_buf[0] != 0x1f)
                    || (d->gz_len > 1 && d->gz_buf[1] != 0x8b)))
            {
                *in = p;

                if (d->members) {
                    snprintf(d->err, SQUASH_ERRLEN, "garbage after gzip "
                             "member %u", d->members);
                    return SQUASH_ERROR;
                }

                return squash_gzip_bad(d, "incorrect header check");
            }

            if (d->gz_len == want && squash_gzip_field(d) != SQUASH_OK) {
                *in = p;
                return SQUASH_ERROR;
            }

            break;
        }
    }

    *in = p;

    if (d->gz_state == SQUASH_GZ_BODY) {
        /* the header is read (never called in the body): deflate starts */
        return squash_inflate_start(d);
    }

    return SQUASH_OK;
}


/* a fixed-size field read whole into d->gz_buf */

static int
squash_gzip_field(squash_decomp_t *d)
{
    const unsigned char  *b;

    b = d->gz_buf;

    switch (d->gz_state) {

    case SQUASH_GZ_FIXED:
        if (b[2] != 8) {
            return squash_gzip_bad(d, "unknown compression method");
        }

        /* the reserved flags are ignored, as Go does */
        d->gz_flags = b[3];
        squash_gzip_next(d);
        break;

    case SQUASH_GZ_XLEN:
        d->gz_need = (size_t) b[0] | (size_t) b[1] << 8;
        d->gz_state = SQUASH_GZ_EXTRA;
        d->gz_len = 0;

        if (d->gz_need == 0) {
            squash_gzip_next(d);
        }

        break;

    case SQUASH_GZ_HCRC:
        if (((uint32_t) b[0] | (uint32_t) b[1] << 8)
            != (d->gz_hcrc & 0xffff))
        {
            return squash_gzip_bad(d, "header crc mismatch");
        }

        squash_gzip_next(d);
        break;

    default: /* SQUASH_GZ_TRAILER */
        if (squash_gzip_le32(b) != d->gz_crc) {
            return squash_gzip_bad(d, "incorrect data check");
        }

        if (squash_gzip_le32(b + 4) != d->gz_size) {
            return squash_gzip_bad(d, "incorrect length check");
        }

        d->gz_state = SQUASH_GZ_NONE;
        d->at_end = 1;
        d->members++;
        break;
    }

    return SQUASH_OK;
}


/* the header's next field its flags ask for, or the deflate stream */

static void
squash_gzip_next(squash_decomp_t *d)
{
    unsigned  s, f;

    f = d->gz_flags;
    s = d->gz_state;

    do {
        s++;
    } while (s == SQUASH_GZ_EXTRA
             || (s == SQUASH_GZ_XLEN && !(f & SQUASH_GZ_FEXTRA))
             || (s == SQUASH_GZ_NAME && !(f & SQUASH_GZ_FNAME))
             || (s == SQUASH_GZ_COMMENT && !(f & SQUASH_GZ_FCOMMENT))
             || (s == SQUASH_GZ_HCRC && !(f & SQUASH_GZ_FHCRC)));

    d->gz_state = s;
    d->gz_len = 0;
}


static int
squash_gzip_bad(squash_decomp_t *d, const char *what)
{
    snprintf(d->err, SQUASH_ERRLEN, "gzip member %u: %s", d->members + 1,
             what);

    return SQUASH_ERROR;
}


#if (SQUASH_HAVE_ISAL)

/* ISA-L: raw deflate then the trailer, its CRC32 and ISIZE checked */

static int
squash_inflate_start(squash_decomp_t *d)
{
    struct inflate_state  *st;

    st = d->isal;

    isal_inflate_reset(st);
    st->crc_flag = ISAL_GZIP_NO_HDR_VER;

    return SQUASH_OK;
}


/* SQUASH_DECLINED: all input is taken in, and more is wanted */

static int
squash_inflate(squash_decomp_t *d, const unsigned char **in,
    const unsigned char *in_end, unsigned char **out,
    const unsigned char *out_end)
{
    int                    rc;
    struct inflate_state  *st;

    st = d->isal;

    st->next_in = (uint8_t *) *in;
    st->avail_in = (uint32_t) squash_decomp_chunk(*in, in_end);
    st->next_out = *out;
    st->avail_out = (uint32_t) squash_decomp_chunk(*out, out_end);

    rc = isal_inflate(st);

    d->out_total += st->next_out - *out;
    *in = st->next_in;
    *out = st->next_out;

    if (rc == ISAL_INCORRECT_CHECKSUM) {
        /* the trailer's CRC32 or ISIZE */
        return squash_gzip_bad(d, "incorrect data or length check");
    }

    if (rc != ISAL_DECOMP_OK) {
        snprintf(d->err, SQUASH_ERRLEN, "inflate failed: %s",
                 rc == ISAL_INVALID_LOOKBACK ? "invalid distance too far back"
                                             : "invalid deflate data");
        return SQUASH_ERROR;
    }

    if (st->block_state == ISAL_BLOCK_FINISH) {
        d->gz_state = SQUASH_GZ_NONE;
        d->at_end = 1;
        d->members++;
        d->more = 0;
        return SQUASH_OK;
    }

    /* output filled up: more may come without input */
    d->more = (st->avail_out == 0);

    return d->more ? SQUASH_OK : SQUASH_DECLINED;
}

#else

/* zlib: raw deflate; the trailer is read in squash_gzip_frame() */

static int
squash_inflate_start(squash_decomp_t *d)
{
    if (inflateReset(&d->zs) != Z_OK) {
        snprintf(d->err, SQUASH_ERRLEN, "inflateReset() failed");
        return SQUASH_ERROR;
    }

    d->gz_crc = crc32(0, NULL, 0);
    d->gz_size = 0;

    return SQUASH_OK;
}


static int
squash_inflate(squash_decomp_t *d, const unsigned char **in,
    const unsigned char *in_end, unsigned char **out,
    const unsigned char *out_end)
{
    int     rc;
    size_t  n;

    d->zs.next_in = (unsigned char *) *in;
    d->zs.avail_in = (uInt) squash_decomp_chunk(*in, in_end);
    d->zs.next_out = *out;
    d->zs.avail_out = (uInt) squash_decomp_chunk(*out, out_end);

    rc = inflate(&d->zs, Z_NO_FLUSH);

    n = d->zs.next_out - *out;
    d->gz_crc = crc32(d->gz_crc, *out, (uInt) n);
    d->gz_size += (uint32_t) n;
    d->out_total += n;
    *in = d->zs.next_in;
    *out = d->zs.next_out;
    d->more = (d->zs.avail_out == 0);

    if (rc == Z_STREAM_END) {
        d->gz_state = SQUASH_GZ_TRAILER;
        d->gz_len = 0;
        d->more = 0;
        return SQUASH_OK;
    }

    if (rc != Z_OK && rc != Z_BUF_ERROR) {
        snprintf(d->err, SQUASH_ERRLEN, "inflate() failed: %d%s%s", rc,
                 d->zs.msg ? ": " : "", d->zs.msg ? d->zs.msg : "");
        return SQUASH_ERROR;
    }

    if (rc == Z_BUF_ERROR) {
        d->more = 0;
        return SQUASH_DECLINED;
    }

    return d->more ? SQUASH_OK : SQUASH_DECLINED;
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
