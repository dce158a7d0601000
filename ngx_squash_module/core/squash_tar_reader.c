
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: incremental (push) tar reader, reading as Go's archive/tar.
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squash_tar_reader.h"


#define SQUASH_TAR_PAD(n)  ((SQUASH_TAR_BLOCK - ((n) % SQUASH_TAR_BLOCK))    \
                            % SQUASH_TAR_BLOCK)


typedef enum {
    SQUASH_TAR_V7 = 0,
    SQUASH_TAR_USTAR,           /* and pax */
    SQUASH_TAR_STAR,
    SQUASH_TAR_GNU
} squash_tar_format_e;


/* the pax values Go applies to an entry, the last of each key winning */

typedef struct {
    const unsigned char  *v;
    size_t                len;
    unsigned              set:1;
} squash_tar_pax_value_t;


typedef struct {
    squash_tar_pax_value_t   path;
    squash_tar_pax_value_t   linkpath;
    squash_tar_pax_value_t   size;
    int64_t                  size_value;    /* once parsed */
    squash_tar_pax_value_t   uid;
    squash_tar_pax_value_t   gid;
    squash_tar_pax_value_t   mtime;
    squash_tar_pax_value_t   atime;
    squash_tar_pax_value_t   ctime;
    unsigned                 sparse:1;
} squash_tar_pax_t;


static int squash_tar_header(squash_tar_reader_t *r, squash_tar_event_t *ev);
static int squash_tar_entry(squash_tar_reader_t *r, const unsigned char *b,
    int type, int64_t size, squash_tar_event_t *ev);
static int squash_tar_meta_done(squash_tar_reader_t *r);
static int squash_tar_pax_parse(squash_tar_reader_t *r,
    squash_tar_pax_t *pax, int values);
static int squash_tar_parse_decimal(const unsigned char *p, size_t n,
    int64_t *v);
static int squash_tar_parse_time(const unsigned char *p, size_t n,
    int64_t *sec, long *nsec);
static void squash_tar_zero_size(squash_bytes_t *raw);
static int squash_tar_set(squash_bytes_t *dst, const unsigned char *p,
    size_t n);
static void squash_tar_forget(squash_tar_reader_t *r);
static int squash_tar_fail(squash_tar_reader_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


int
squash_bytes_append(squash_bytes_t *b, const void *p, size_t n, size_t limit)
{
    size_t          cap;
    unsigned char  *d;

    if (n > limit || b->len > limit - n) {
        return SQUASH_ERROR;
    }

    if (b->len + n + 1 > b->cap) {
        cap = b->cap ? b->cap : 256;

        while (cap < b->len + n + 1) {
            cap *= 2;
        }

        d = realloc(b->data, cap);
        if (d == NULL) {
            return SQUASH_ERROR;
        }

        b->data = d;
        b->cap = cap;
    }

    if (n) {
        memcpy(b->data + b->len, p, n);
    }

    b->len += n;
    b->data[b->len] = '\0';

    return SQUASH_OK;
}


int
squash_bytes_reserve(squash_bytes_t *b, size_t n)
{
    unsigned char  *d;

    if (n + 1 <= b->cap) {
        return SQUASH_OK;
    }

    d = realloc(b->data, n + 1);
    if (d == NULL) {
        return SQUASH_ERROR;
    }

    b->data = d;
    b->cap = n + 1;

    return SQUASH_OK;
}


void
squash_bytes_free(squash_bytes_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}


void
squash_tar_reader_init(squash_tar_reader_t *r, size_t meta_limit)
{
    memset(r, 0, sizeof(squash_tar_reader_t));
    r->meta_limit = meta_limit;
}


void
squash_tar_reader_free(squash_tar_reader_t *r)
{
    squash_bytes_free(&r->raw);
    squash_bytes_free(&r->long_path);
    squash_bytes_free(&r->long_link);
    squash_bytes_free(&r->pax);
    squash_bytes_free(&r->name_buf);
    squash_bytes_free(&r->link_buf);
}


int
squash_tar_is_at_boundary(squash_tar_reader_t *r)
{
    /*
     * Go's reader: a clean end of input where a header block would
     * start (pending meta records are then dropped), or in the padding
     * after data; anything cut inside a header block or inside data is
     * io.ErrUnexpectedEOF
     */

    return r->ended
           || (r->block_len == 0 && r->data_left == 0 && r->meta_left == 0);
}


/* what the input has of *left bytes still to come: at most avail */

static size_t
squash_tar_take(uint64_t *left, size_t avail)
{
    size_t  n;

    n = (uint64_t) avail < *left ? avail : (size_t) *left;
    *left -= n;

    return n;
}


int
squash_tar_read(squash_tar_reader_t *r, const unsigned char **pos,
    const unsigned char *last, squash_tar_event_t *ev)
{
    size_t                n, avail;
    uint64_t              was;
    const unsigned char  *p;

    ev->type = SQUASH_TAR_EV_NEED_INPUT;
    ev->data = NULL;
    ev->len = 0;

    if (r->failed) {
        return SQUASH_ERROR;
    }

    p = *pos;

    for ( ;; ) {

        if (r->ended) {
            /* whatever follows the end blocks is ignored */
            r->offset += last - p;
            *pos = last;
            return SQUASH_OK;
        }

        if (p == last) {
            *pos = p;
            return SQUASH_OK;
        }

        avail = last - p;

        if (r->data_left || r->pad_left) {
            n = squash_tar_take(r->data_left ? &r->data_left : &r->pad_left,
                                avail);
            r->offset += n;

            ev->type = SQUASH_TAR_EV_DATA;
            ev->data = p;
            ev->len = n;

            *pos = p + n;
            return SQUASH_OK;
        }

        if (r->meta_left || r->meta_pad) {
            was = r->meta_left;
            n = squash_tar_take(r->meta_left ? &r->meta_left : &r->meta_pad,
                                avail);

            if (!r->meta_discard
                && squash_bytes_append(&r->raw, p, n, r->meta_limit)
                   != SQUASH_OK)
            {
                return squash_tar_fail(r, "tar header records at offset %llu"
                                       " exceed %zu bytes",
                                       (unsigned long long) r->offset,
                                       r->meta_limit);
            }

            r->offset += n;
            p += n;

            /* Go parses a record once its data is in, before the padding */

            if (was && r->meta_left == 0 && squash_tar_meta_done(r)
                                            != SQUASH_OK)
            {
                return SQUASH_ERROR;
            }

            if (r->meta_left == 0 && r->meta_pad == 0) {
                r->meta_discard = 0;
            }

            continue;
        }

        n = SQUASH_TAR_BLOCK - r->block_len;
        if (avail < n) {
            n = avail;
        }

        memcpy(r->block + r->block_len, p, n);
        r->block_len += n;
        r->offset += n;
        p += n;

        if (r->block_len < SQUASH_TAR_BLOCK) {
            *pos = p;
            return SQUASH_OK;
        }

        r->block_len = 0;

        if (squash_tar_header(r, ev) != SQUASH_OK) {
            return SQUASH_ERROR;
        }

        if (ev->type != SQUASH_TAR_EV_NEED_INPUT) {
            *pos = p;
            return SQUASH_OK;
        }
    }
}


static int
squash_tar_is_zero(const unsigned char *p, size_t n)
{
    while (n--) {
        if (*p++) {
            return 0;
        }
    }

    return 1;
}


/* Go's parser.parseString: up to the first NUL */

static size_t
squash_tar_strlen(const unsigned char *p, size_t n)
{
    const unsigned char  *z;

    z = memchr(p, '\0', n);

    return z ? (size_t) (z - p) : n;
}


/*
 * Go's parseOctal: spaces and NULs trimmed at both ends, then up to the
 * first NUL, then strconv.ParseUint(s, 8, 64): only octal digits
 */

static int
squash_tar_parse_octal(const unsigned char *p, size_t n, uint64_t *v)
{
    size_t    i;
    uint64_t  x;

    while (n && (*p == ' ' || *p == '\0')) {
        p++;
        n--;
    }

    while (n && (p[n - 1] == ' ' || p[n - 1] == '\0')) {
        n--;
    }

    n = squash_tar_strlen(p, n);
    x = 0;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '7' || (x >> 61)) {
            return SQUASH_ERROR;
        }

        x = (x << 3) | (uint64_t) (p[i] - '0');
    }

    *v = x;

    return SQUASH_OK;
}


int
squash_tar_parse_numeric(const unsigned char *p, size_t n, int64_t *v)
{
    size_t         i;
    uint64_t       x;
    unsigned char  c, inv;

    if (n && (p[0] & 0x80)) {

        /* base-256: big-endian two's complement */

        inv = (p[0] & 0x40) ? 0xff : 0x00;
        x = 0;

        for (i = 0; i < n; i++) {
            c = p[i] ^ inv;

            if (i == 0) {
                c &= 0x7f;
            }

            if (x >> 56) {
                return SQUASH_ERROR;
            }

            x = (x << 8) | c;
        }

        if (x >> 63) {
            return SQUASH_ERROR;
        }

        *v = inv ? ~(int64_t) x : (int64_t) x;

        return SQUASH_OK;
    }

    if (squash_tar_parse_octal(p, n, &x) != SQUASH_OK) {
        return SQUASH_ERROR;
    }

    *v = (int64_t) x;

    return SQUASH_OK;
}


void
squash_tar_checksum(const unsigned char *block, unsigned char *field)
{
    unsigned  i, sum;

    sum = 0;

    for (i = 0; i < SQUASH_TAR_BLOCK; i++) {
        sum += (i >= 148 && i < 156) ? ' ' : block[i];
    }

    snprintf((char *) field, 8, "%06o", sum);
    field[7] = ' ';
}


static int
squash_tar_checksum_ok(const unsigned char *b)
{
    unsigned  i;
    int64_t   ssum;
    uint64_t  want, usum;

    if (squash_tar_parse_octal(b + 148, 8, &want) != SQUASH_OK) {
        return 0;
    }

    usum = 0;
    ssum = 0;

    for (i = 0; i < SQUASH_TAR_BLOCK; i++) {
        if (i >= 148 && i < 156) {
            usum += ' ';
            ssum += ' ';

        } else {
            usum += b[i];
            ssum += (signed char) b[i];
        }
    }

    return want == usum || (int64_t) want == ssum;
}


/* Go's header-only types: no data whatever the size field says */

static int
squash_tar_header_only(int type)
{
    switch (type) {
    case SQUASH_TAR_LNK:
    case SQUASH_TAR_SYM:
    case SQUASH_TAR_CHR:
    case SQUASH_TAR_BLK:
    case SQUASH_TAR_DIR:
    case SQUASH_TAR_FIFO:
        return 1;
    default:
        return 0;
    }
}


static squash_tar_format_e
squash_tar_format(const unsigned char *b)
{
    if (memcmp(b + 257, "ustar\0", 6) == 0) {
        return memcmp(b + 508, "tar\0", 4) == 0 ? SQUASH_TAR_STAR
                                                : SQUASH_TAR_USTAR;
    }

    if (memcmp(b + 257, "ustar ", 6) == 0 && memcmp(b + 263, " \0", 2) == 0) {
        return SQUASH_TAR_GNU;
    }

    return SQUASH_TAR_V7;
}


static int
squash_tar_header(squash_tar_reader_t *r, squash_tar_event_t *ev)
{
    int                   type;
    int64_t               size, v;
    uint64_t              offset;
    squash_tar_format_e   format;
    const unsigned char  *b;

    b = r->block;
    offset = r->offset - SQUASH_TAR_BLOCK;

    if (squash_tar_is_zero(b, SQUASH_TAR_BLOCK)) {

        /* two zero blocks end the archive, pending meta records too */

        if (++r->zero_blocks == 2) {
            r->ended = 1;
            squash_tar_forget(r);
            ev->type = SQUASH_TAR_EV_END;
        }

        return SQUASH_OK;
    }

    if (r->zero_blocks) {
        return squash_tar_fail(r, "a tar header after one zero block at "
                               "offset %llu", (unsigned long long) offset);
    }

    if (!squash_tar_checksum_ok(b)) {
        return squash_tar_fail(r, "bad tar header checksum at offset %llu",
                               (unsigned long long) offset);
    }

    if (squash_tar_parse_numeric(b + 124, 12, &size) != SQUASH_OK) {
        return squash_tar_fail(r, "bad tar size field at offset %llu",
                               (unsigned long long) offset);
    }

    /* the numeric fields Go parses in every header, with its errors */

    format = squash_tar_format(b);

    if (squash_tar_parse_numeric(b + 100, 8, &r->entry.mode_raw) != SQUASH_OK
        || squash_tar_parse_numeric(b + 108, 8, &r->entry.uid) != SQUASH_OK
        || squash_tar_parse_numeric(b + 116, 8, &r->entry.gid) != SQUASH_OK
        || squash_tar_parse_numeric(b + 136, 12, &r->entry.mtime)
           != SQUASH_OK
        || (format != SQUASH_TAR_V7
            && (squash_tar_parse_numeric(b + 329, 8, &v) != SQUASH_OK
                || squash_tar_parse_numeric(b + 337, 8, &v) != SQUASH_OK))
        || (format == SQUASH_TAR_STAR
            && (squash_tar_parse_numeric(b + 476, 12, &v) != SQUASH_OK
                || squash_tar_parse_numeric(b + 488, 12, &v) != SQUASH_OK)))
    {
        return squash_tar_fail(r, "bad tar numeric field at offset %llu",
                               (unsigned long long) offset);
    }

    type = b[156];

    /* Go checks the size with the typeflag as it is first */

    if (size < 0 && !squash_tar_header_only(type)) {
        return squash_tar_fail(r, "negative tar size at offset %llu",
                               (unsigned long long) offset);
    }

    switch (type) {

    case 'x':
    case 'g':
    case 'L':
    case 'K':
        if (size > SQUASH_TAR_SPECIAL_MAX) {
            return squash_tar_fail(r, "tar %c record of %lld bytes at offset "
                                   "%llu exceeds %d bytes", type,
                                   (long long) size,
                                   (unsigned long long) offset,
                                   SQUASH_TAR_SPECIAL_MAX);
        }

        if (squash_bytes_append(&r->raw, b, SQUASH_TAR_BLOCK, r->meta_limit)
            != SQUASH_OK)
        {
            return squash_tar_fail(r, "tar header records at offset %llu "
                                   "exceed %zu bytes",
                                   (unsigned long long) offset,
                                   r->meta_limit);
        }

        r->meta_type = type;
        r->meta_start = r->raw.len;
        r->meta_size = (uint64_t) size;
        r->meta_left = (uint64_t) size;
        r->meta_pad = SQUASH_TAR_PAD((uint64_t) size);

        if (size == 0) {
            return squash_tar_meta_done(r);
        }

        return SQUASH_OK;

    default:
        return squash_tar_entry(r, b, type, size, ev);
    }
}


static int
squash_tar_entry(squash_tar_reader_t *r, const unsigned char *b, int type,
    int64_t size, squash_tar_event_t *ev)
{
    size_t                 plen, i;
    int64_t                v;
    uint64_t               offset;
    squash_tar_pax_t       pax;
    squash_tar_format_e    format;
    squash_tar_entry_t    *e;
    const unsigned char   *prefix;

    offset = r->offset - SQUASH_TAR_BLOCK;
    e = &r->entry;

    switch (type) {

    case 'S':
        return squash_tar_fail(r, "gnu sparse entry at offset %llu is not "
                               "supported", (unsigned long long) offset);

    case '\0':
    case SQUASH_TAR_REG:
    case SQUASH_TAR_LNK:
    case SQUASH_TAR_SYM:
    case SQUASH_TAR_CHR:
    case SQUASH_TAR_BLK:
    case SQUASH_TAR_DIR:
    case SQUASH_TAR_FIFO:
    case SQUASH_TAR_CONT:
        break;

    default:
        /* Go lists them; docker, podman and containerd refuse them */
        return squash_tar_fail(r, "tar entry type '%c' at offset %llu is "
                               "not supported", type,
                               (unsigned long long) offset);
    }

    format = squash_tar_format(b);

    e->mode = (uint32_t) (e->mode_raw & 07777);
    e->mtime_nsec = 0;

    /* the name: ustar's prefix, star's shorter one, old GNU's fallback */

    prefix = b + 345;
    plen = 0;

    switch (format) {

    case SQUASH_TAR_USTAR:
        plen = squash_tar_strlen(prefix, 155);
        break;

    case SQUASH_TAR_STAR:
        plen = squash_tar_strlen(prefix, 131);
        break;

    case SQUASH_TAR_GNU:
        /*
         * atime and ctime that do not parse: a pre-Go 1.8 writer put a
         * ustar prefix there (Go issues 12594, 21005)
         */
        if ((b[345] && squash_tar_parse_numeric(b + 345, 12, &v)
                       != SQUASH_OK)
            || (b[357] && squash_tar_parse_numeric(b + 357, 12, &v)
                          != SQUASH_OK))
        {
            plen = squash_tar_strlen(prefix, 155);

            for (i = 0; i < plen; i++) {
                if (prefix[i] >= 0x80) {
                    plen = 0;
                    break;
                }
            }
        }

        break;

    default:
        break;
    }

    r->name_buf.len = 0;
    r->link_buf.len = 0;

    if ((plen
         && (squash_bytes_append(&r->name_buf, prefix, plen, (size_t) -1 / 2)
             != SQUASH_OK
             || squash_bytes_append(&r->name_buf, "/", 1, (size_t) -1 / 2)
                != SQUASH_OK))
        || squash_bytes_append(&r->name_buf, b, squash_tar_strlen(b, 100),
                               (size_t) -1 / 2)
           != SQUASH_OK
        || squash_bytes_append(&r->link_buf, b + 157,
                               squash_tar_strlen(b + 157, 100),
                               (size_t) -1 / 2)
           != SQUASH_OK)
    {
        return squash_tar_fail(r, "out of memory");
    }

    /* pax records (Go's mergePAX: empty values keep the header's) */

    memset(&pax, 0, sizeof(squash_tar_pax_t));

    if (r->has_pax && squash_tar_pax_parse(r, &pax, 1) != SQUASH_OK) {
        return SQUASH_ERROR;
    }

    if (pax.sparse) {
        return squash_tar_fail(r, "gnu sparse entry at offset %llu is not "
                               "supported", (unsigned long long) offset);
    }

    /* GNU long names win over pax (Go applies them last) */

    if ((pax.path.set
         && squash_tar_set(&r->name_buf, pax.path.v, pax.path.len)
            != SQUASH_OK)
        || (pax.linkpath.set
            && squash_tar_set(&r->link_buf, pax.linkpath.v, pax.linkpath.len)
               != SQUASH_OK)
        || (r->has_long_path && r->long_path.len
            && squash_tar_set(&r->name_buf, r->long_path.data,
                              r->long_path.len)
               != SQUASH_OK)
        || (r->has_long_link && r->long_link.len
            && squash_tar_set(&r->link_buf, r->long_link.data,
                              r->long_link.len)
               != SQUASH_OK))
    {
        return squash_tar_fail(r, "out of memory");
    }

    if (pax.size.set) {
        size = pax.size_value;
    }

    if (type == '\0') {
        type = (r->name_buf.len
                && r->name_buf.data[r->name_buf.len - 1] == '/')
               ? SQUASH_TAR_DIR : SQUASH_TAR_REG;
    }

    if (squash_tar_header_only(type)) {
        size = 0;

    } else if (size < 0) {
        return squash_tar_fail(r, "negative tar size at offset %llu",
                               (unsigned long long) offset);
    }

    if (squash_bytes_append(&r->raw, b, SQUASH_TAR_BLOCK, r->meta_limit)
        != SQUASH_OK)
    {
        return squash_tar_fail(r, "tar header records at offset %llu exceed "
                               "%zu bytes", (unsigned long long) offset,
                               r->meta_limit);
    }

    if (squash_tar_header_only(type)) {
        /* written with no data, as it is read */
        squash_tar_zero_size(&r->raw);
    }

    e->path = (char *) r->name_buf.data;
    e->linkpath = (char *) r->link_buf.data;
    e->type = type;
    e->size = (uint64_t) size;
    e->pax = r->has_pax ? r->pax.data : NULL;
    e->pax_len = r->has_pax ? r->pax.len : 0;

    r->data_left = (uint64_t) size;
    r->pad_left = SQUASH_TAR_PAD((uint64_t) size);

    ev->type = SQUASH_TAR_EV_HEADER;
    ev->data = r->raw.data;
    ev->len = r->raw.len;

    /*
     * the raw bytes and the pax data stay valid until the next header
     * starts; the meta records are used up
     */

    r->raw.len = 0;
    r->has_pax = 0;
    r->has_long_path = 0;
    r->has_long_link = 0;

    return SQUASH_OK;
}


static int
squash_tar_set(squash_bytes_t *dst, const unsigned char *p, size_t n)
{
    dst->len = 0;

    return squash_bytes_append(dst, p, n, (size_t) -1 / 2);
}


static void
squash_tar_forget(squash_tar_reader_t *r)
{
    r->raw.len = 0;
    r->has_pax = 0;
    r->has_long_path = 0;
    r->has_long_link = 0;
}


static int
squash_tar_meta_done(squash_tar_reader_t *r)
{
    size_t                n;
    const unsigned char  *p;
    squash_tar_pax_t      pax;
    squash_bytes_t       *dst;

    p = r->raw.data + r->meta_start;
    n = (size_t) r->meta_size;

    switch (r->meta_type) {

    case 'x':
        /* a later 'x' record replaces the earlier ones (as in Go) */
        r->pax.len = 0;

        if (squash_bytes_append(&r->pax, p, n, SQUASH_TAR_SPECIAL_MAX)
            != SQUASH_OK)
        {
            return squash_tar_fail(r, "out of memory");
        }

        r->has_pax = 1;

        /* the values are Go's to check once an entry takes them */

        memset(&pax, 0, sizeof(squash_tar_pax_t));

        return squash_tar_pax_parse(r, &pax, 0);

    case 'g':
        /*
         * Go returns a global header as an entry of its own, which the
         * runtimes skip: its records apply to nothing, and it ends the
         * records pending before it
         */
        r->pax.len = 0;

        if (squash_bytes_append(&r->pax, p, n, SQUASH_TAR_SPECIAL_MAX)
            != SQUASH_OK)
        {
            return squash_tar_fail(r, "out of memory");
        }

        memset(&pax, 0, sizeof(squash_tar_pax_t));

        if (squash_tar_pax_parse(r, &pax, 0) != SQUASH_OK) {
            return SQUASH_ERROR;
        }

        /* dropped from the output, with its padding still to come */
        r->meta_discard = (r->meta_pad != 0);
        squash_tar_forget(r);

        return SQUASH_OK;

    default: /* 'L', 'K' */
        dst = (r->meta_type == 'L') ? &r->long_path : &r->long_link;
        dst->len = 0;

        if (squash_bytes_append(dst, p, squash_tar_strlen(p, n),
                                SQUASH_TAR_SPECIAL_MAX)
            != SQUASH_OK)
        {
            return squash_tar_fail(r, "out of memory");
        }

        if (r->meta_type == 'L') {
            r->has_long_path = 1;

        } else {
            r->has_long_link = 1;
        }

        return SQUASH_OK;
    }
}


/*
 * strconv.ParseInt(s, 10, 64): an optional sign, then decimal digits
 * only, within int64
 */

static int
squash_tar_parse_decimal(const unsigned char *p, size_t n, int64_t *v)
{
    int       neg;
    size_t    i;
    uint64_t  x, max;

    neg = 0;
    i = 0;

    if (n && (p[0] == '+' || p[0] == '-')) {
        neg = (p[0] == '-');
        i = 1;
    }

    if (i == n) {
        return SQUASH_ERROR;
    }

    max = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
    x = 0;

    for ( /* void */ ; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || x > (max - (p[i] - '0')) / 10) {
            return SQUASH_ERROR;
        }

        x = x * 10 + (p[i] - '0');
    }

    *v = neg ? (int64_t) (0 - x) : (int64_t) x;

    return SQUASH_OK;
}


/* Go's parsePAXTime: seconds, then an optional "." and decimal digits */

static int
squash_tar_parse_time(const unsigned char *p, size_t n, int64_t *sec,
    long *nsec)
{
    long                  ns;
    size_t                i, slen;
    const unsigned char  *dot;

    dot = memchr(p, '.', n);
    slen = dot ? (size_t) (dot - p) : n;

    if (squash_tar_parse_decimal(p, slen, sec) != SQUASH_OK) {
        return SQUASH_ERROR;
    }

    ns = 0;

    if (dot) {
        for (i = slen + 1; i < n; i++) {
            if (p[i] < '0' || p[i] > '9') {
                return SQUASH_ERROR;
            }

            if (i - slen <= 9) {
                ns = ns * 10 + (p[i] - '0');
            }
        }

        for (i = (n - slen - 1 < 9 ? n - slen - 1 : 9); i < 9; i++) {
            ns *= 10;
        }

        if (slen && p[0] == '-') {
            /* a negative time counts its fraction down too */
            ns = -ns;
        }
    }

    /* time.Unix() normalizes the nanoseconds into [0, 1e9) */

    while (ns < 0) {
        ns += 1000000000L;
        (*sec)--;
    }

    *nsec = ns;

    return SQUASH_OK;
}


int
squash_tar_pax_next(const unsigned char **pos, const unsigned char *last,
    const unsigned char **key, size_t *klen, const unsigned char **val,
    size_t *vlen)
{
    size_t                n, i, len, llen;
    int64_t               rl;
    const unsigned char  *p, *sp, *eq;

    p = *pos;

    if (p == last) {
        return SQUASH_DONE;
    }

    n = last - p;

    /* "<length> <key>=<value>\n", as Go's parsePAXRecord reads it */

    sp = memchr(p, ' ', n);
    if (sp == NULL) {
        return SQUASH_ERROR;
    }

    llen = sp - p;

    if (squash_tar_parse_decimal(p, llen, &rl) != SQUASH_OK
        || rl < 5 || (uint64_t) rl > n)
    {
        return SQUASH_ERROR;
    }

    len = (size_t) rl;

    if (len <= llen + 1 || p[len - 1] != '\n') {
        return SQUASH_ERROR;
    }

    *key = sp + 1;
    eq = memchr(*key, '=', (p + len - 1) - *key);

    if (eq == NULL || eq == *key) {
        return SQUASH_ERROR;
    }

    *klen = eq - *key;
    *val = eq + 1;
    *vlen = (p + len - 1) - *val;

    /* validPAXRecord: no NUL in names, nor in other keys */

    if ((*klen == 4 && memcmp(*key, "path", 4) == 0)
        || (*klen == 8 && memcmp(*key, "linkpath", 8) == 0)
        || (*klen == 5 && (memcmp(*key, "uname", 5) == 0
                           || memcmp(*key, "gname", 5) == 0)))
    {
        if (memchr(*val, '\0', *vlen)) {
            return SQUASH_ERROR;
        }

    } else {
        for (i = 0; i < *klen; i++) {
            if ((*key)[i] == '\0') {
                return SQUASH_ERROR;
            }
        }
    }

    *pos = p + len;

    return SQUASH_OK;
}


static void
squash_tar_pax_set(squash_tar_pax_value_t *pv, const unsigned char *v,
    size_t len)
{
    /* an empty value keeps the header's (Go's mergePAX) */

    pv->set = (len != 0);
    pv->v = v;
    pv->len = len;
}


/* the pax keys whose values Go applies to an entry */

typedef struct {
    const char  *key;
    size_t       len;
    size_t       offset;        /* of its squash_tar_pax_value_t */
} squash_tar_pax_key_t;


static const squash_tar_pax_key_t  squash_tar_pax_keys[] = {
    { "path", 4, offsetof(squash_tar_pax_t, path) },
    { "linkpath", 8, offsetof(squash_tar_pax_t, linkpath) },
    { "size", 4, offsetof(squash_tar_pax_t, size) },
    { "uid", 3, offsetof(squash_tar_pax_t, uid) },
    { "gid", 3, offsetof(squash_tar_pax_t, gid) },
    { "mtime", 5, offsetof(squash_tar_pax_t, mtime) },
    { "atime", 5, offsetof(squash_tar_pax_t, atime) },
    { "ctime", 5, offsetof(squash_tar_pax_t, ctime) },
    { NULL, 0, 0 }
};


/*
 * The records of r->pax, checked as Go's parsePAX checks them, and with
 * values set, their values as its mergePAX does.
 */

static int
squash_tar_pax_parse(squash_tar_reader_t *r, squash_tar_pax_t *pax,
    int values)
{
    int                          rc;
    long                         ns;
    size_t                       klen, vlen;
    int64_t                      v;
    const unsigned char         *p, *last, *key, *val;
    const squash_tar_pax_key_t  *k;

    p = r->pax.data;
    last = p + r->pax.len;

    for ( ;; ) {
        rc = squash_tar_pax_next(&p, last, &key, &klen, &val, &vlen);

        if (rc == SQUASH_DONE) {
            break;
        }

        if (rc != SQUASH_OK) {
            return squash_tar_fail(r, "malformed pax record before offset "
                                   "%llu", (unsigned long long) r->offset);
        }

        for (k = squash_tar_pax_keys; k->len; k++) {
            if (klen == k->len && memcmp(key, k->key, klen) == 0) {
                squash_tar_pax_set((squash_tar_pax_value_t *)
                                   ((char *) pax + k->offset), val, vlen);
                break;
            }
        }

        if (k->len == 0 && klen > 11 && memcmp(key, "GNU.sparse.", 11) == 0)
        {
            pax->sparse = 1;
        }
    }

    /* the values Go parses, the last of each key */

    if (!values) {
        return SQUASH_OK;
    }

    if ((pax->size.set
         && squash_tar_parse_decimal(pax->size.v, pax->size.len,
                                     &pax->size_value)
            != SQUASH_OK)
        || (pax->uid.set
            && squash_tar_parse_decimal(pax->uid.v, pax->uid.len,
                                        &r->entry.uid)
               != SQUASH_OK)
        || (pax->gid.set
            && squash_tar_parse_decimal(pax->gid.v, pax->gid.len,
                                        &r->entry.gid)
               != SQUASH_OK)
        || (pax->atime.set
            && squash_tar_parse_time(pax->atime.v, pax->atime.len, &v, &ns)
               != SQUASH_OK)
        || (pax->ctime.set
            && squash_tar_parse_time(pax->ctime.v, pax->ctime.len, &v, &ns)
               != SQUASH_OK)
        || (pax->mtime.set
            && squash_tar_parse_time(pax->mtime.v, pax->mtime.len,
                                     &r->entry.mtime, &r->entry.mtime_nsec)
               != SQUASH_OK))
    {
        return squash_tar_fail(r, "bad pax value before offset %llu",
                               (unsigned long long) r->offset);
    }

    return SQUASH_OK;
}


/*
 * A header-only entry goes out with no data, as it was read: its size
 * field, and every pax "size" record before it, say 0 (the records keep
 * their length: the value's digits become zeros).
 */

static void
squash_tar_zero_size(squash_bytes_t *raw)
{
    size_t          off, klen, vlen;
    int64_t         size;
    unsigned char  *b;
    const unsigned char  *p, *last, *key, *val;

    off = 0;

    while (off + SQUASH_TAR_BLOCK <= raw->len) {
        b = raw->data + off;
        off += SQUASH_TAR_BLOCK;

        if (off == raw->len) {
            /* the entry's own header */
            if (squash_tar_parse_numeric(b + 124, 12, &size) != SQUASH_OK
                || size != 0)
            {
                memset(b + 124, '0', 11);
                b[135] = '\0';
                squash_tar_checksum(b, b + 148);
            }

            break;
        }

        if (squash_tar_parse_numeric(b + 124, 12, &size) != SQUASH_OK
            || size < 0)
        {
            break;
        }

        if (b[156] == 'x') {
            p = raw->data + off;
            last = p + size;

            while (squash_tar_pax_next(&p, last, &key, &klen, &val, &vlen)
                   == SQUASH_OK)
            {
                if (klen == 4 && memcmp(key, "size", 4) == 0) {
                    memset((unsigned char *) val, '0', vlen);
                }
            }
        }

        off += (size_t) size + SQUASH_TAR_PAD((uint64_t) size);
    }
}


static int
squash_tar_fail(squash_tar_reader_t *r, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(r->err, SQUASH_ERRLEN, fmt, args);
    va_end(args);

    r->failed = 1;

    return SQUASH_ERROR;
}
