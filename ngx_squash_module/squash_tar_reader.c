
/*
 * ngx_squash: incremental (push) tar reader.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squash_tar_reader.h"


#define SQUASH_TAR_PAD(n)  (((n) + SQUASH_TAR_BLOCK - 1)                      \
                            & ~(uint64_t) (SQUASH_TAR_BLOCK - 1))


static int squash_tar_header(squash_tar_reader_t *r, squash_tar_event_t *ev);
static int squash_tar_meta_done(squash_tar_reader_t *r);
static int squash_tar_parse_pax(squash_tar_reader_t *r,
    const unsigned char *p, size_t n);
static int squash_tar_set_name(squash_bytes_t *dst, const squash_bytes_t *a,
    const squash_bytes_t *b, const unsigned char *prefix, size_t prefix_len,
    const unsigned char *name, size_t name_len);
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
    squash_bytes_free(&r->pax_path);
    squash_bytes_free(&r->pax_link);
    squash_bytes_free(&r->name_buf);
    squash_bytes_free(&r->link_buf);
}


int
squash_tar_reader_at_boundary(squash_tar_reader_t *r)
{
    return r->ended
           || (r->block_len == 0 && r->data_left == 0 && r->meta_left == 0
               && r->raw.len == 0);
}


int
squash_tar_read(squash_tar_reader_t *r, const unsigned char **pos,
    const unsigned char *last, squash_tar_event_t *ev)
{
    size_t                n;
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

        if (r->data_left) {
            n = (size_t) ((uint64_t) (last - p) < r->data_left
                          ? (uint64_t) (last - p) : r->data_left);

            r->data_left -= n;
            r->offset += n;

            ev->type = SQUASH_TAR_EV_DATA;
            ev->data = p;
            ev->len = n;

            *pos = p + n;
            return SQUASH_OK;
        }

        if (r->meta_left) {
            n = (size_t) ((uint64_t) (last - p) < r->meta_left
                          ? (uint64_t) (last - p) : r->meta_left);

            if (squash_bytes_append(&r->raw, p, n, r->meta_limit)
                != SQUASH_OK)
            {
                return squash_tar_fail(r, "tar header records at offset %llu"
                                       " exceed %zu bytes",
                                       (unsigned long long) r->offset,
                                       r->meta_limit);
            }

            r->meta_left -= n;
            r->offset += n;
            p += n;

            if (r->meta_left == 0 && squash_tar_meta_done(r) != SQUASH_OK) {
                return SQUASH_ERROR;
            }

            continue;
        }

        n = SQUASH_TAR_BLOCK - r->block_len;
        if ((size_t) (last - p) < n) {
            n = last - p;
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


int
squash_tar_parse_number(const unsigned char *p, size_t n, uint64_t *v)
{
    uint64_t  x;
    size_t    i;

    x = 0;

    if (n && (p[0] & 0x80)) {

        /* base-256: big-endian two's complement, positive values only */

        if (p[0] & 0x40) {
            return SQUASH_ERROR;
        }

        x = p[0] & 0x3f;

        for (i = 1; i < n; i++) {
            if (x >> 56) {
                return SQUASH_ERROR;
            }

            x = (x << 8) | p[i];
        }

        *v = x;
        return SQUASH_OK;
    }

    i = 0;

    while (i < n && (p[i] == ' ' || p[i] == '\0')) {
        i++;
    }

    for ( /* void */ ; i < n; i++) {
        if (p[i] == ' ' || p[i] == '\0') {
            break;
        }

        if (p[i] < '0' || p[i] > '7' || (x >> 61)) {
            return SQUASH_ERROR;
        }

        x = (x << 3) | (uint64_t) (p[i] - '0');
    }

    for ( /* void */ ; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\0') {
            return SQUASH_ERROR;
        }
    }

    *v = x;
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
    uint64_t  want;
    unsigned  usum;
    int       ssum;

    if (squash_tar_parse_number(b + 148, 8, &want) != SQUASH_OK) {
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

    return want == usum || (int64_t) want == (int64_t) ssum;
}


static size_t
squash_tar_strnlen(const unsigned char *p, size_t n)
{
    const unsigned char  *z;

    z = memchr(p, '\0', n);

    return z ? (size_t) (z - p) : n;
}


static int
squash_tar_header(squash_tar_reader_t *r, squash_tar_event_t *ev)
{
    int                   type, ustar;
    size_t                len, plen;
    uint64_t              size, v;
    const unsigned char  *b;

    b = r->block;

    if (squash_tar_is_zero(b, SQUASH_TAR_BLOCK)) {

        if (r->raw.len) {
            return squash_tar_fail(r, "end of archive inside the header "
                                   "records at offset %llu",
                                   (unsigned long long) r->offset);
        }

        if (++r->zero_blocks == 2) {
            r->ended = 1;
            ev->type = SQUASH_TAR_EV_END;
        }

        return SQUASH_OK;
    }

    if (r->zero_blocks) {
        return squash_tar_fail(r, "lone zero block before offset %llu",
                               (unsigned long long) r->offset);
    }

    if (!squash_tar_checksum_ok(b)) {
        return squash_tar_fail(r, "bad tar header checksum at offset %llu",
                               (unsigned long long) r->offset
                               - SQUASH_TAR_BLOCK);
    }

    if (squash_tar_parse_number(b + 124, 12, &size) != SQUASH_OK) {
        return squash_tar_fail(r, "bad tar size field at offset %llu",
                               (unsigned long long) r->offset
                               - SQUASH_TAR_BLOCK);
    }

    if (r->raw.len == 0) {
        r->pax_has_size = 0;
    }

    if (squash_bytes_append(&r->raw, b, SQUASH_TAR_BLOCK, r->meta_limit)
        != SQUASH_OK)
    {
        return squash_tar_fail(r, "tar header records exceed %zu bytes",
                               r->meta_limit);
    }

    type = b[156];

    switch (type) {

    case 'x':
    case 'g':
    case 'L':
    case 'K':
        if (size > r->meta_limit) {
            return squash_tar_fail(r, "tar %c record of %llu bytes exceeds "
                                   "%zu bytes", type,
                                   (unsigned long long) size,
                                   r->meta_limit);
        }

        r->meta_type = type;
        r->meta_start = r->raw.len;
        r->meta_left = SQUASH_TAR_PAD(size);
        /* remember the record's own length in the block copy */
        r->entry.size = size;

        if (r->meta_left == 0) {
            return squash_tar_meta_done(r);
        }

        return SQUASH_OK;

    case 'S':
        return squash_tar_fail(r, "gnu sparse entry at offset %llu is not "
                               "supported", (unsigned long long) r->offset
                               - SQUASH_TAR_BLOCK);

    case 'M':
    case 'N':
    case 'V':
        return squash_tar_fail(r, "unsupported tar entry type '%c' at "
                               "offset %llu", type,
                               (unsigned long long) r->offset
                               - SQUASH_TAR_BLOCK);

    case '\0':
    case SQUASH_TAR_REG:
    case SQUASH_TAR_CONT:
        type = SQUASH_TAR_REG;
        break;

    case SQUASH_TAR_LNK:
    case SQUASH_TAR_SYM:
    case SQUASH_TAR_CHR:
    case SQUASH_TAR_BLK:
    case SQUASH_TAR_DIR:
    case SQUASH_TAR_FIFO:
        break;

    default:
        return squash_tar_fail(r, "unknown tar entry type '%c' at offset "
                               "%llu", type, (unsigned long long) r->offset
                               - SQUASH_TAR_BLOCK);
    }

    ustar = memcmp(b + 257, "ustar\0", 6) == 0;

    len = squash_tar_strnlen(b, 100);
    plen = ustar ? squash_tar_strnlen(b + 345, 155) : 0;

    if (squash_tar_set_name(&r->name_buf, &r->pax_path, &r->long_path,
                            b + 345, plen, b, len)
        != SQUASH_OK)
    {
        return squash_tar_fail(r, "out of memory");
    }

    if (squash_tar_set_name(&r->link_buf, &r->pax_link, &r->long_link,
                            NULL, 0, b + 157, squash_tar_strnlen(b + 157, 100))
        != SQUASH_OK)
    {
        return squash_tar_fail(r, "out of memory");
    }

    if (r->name_buf.len == 0) {
        return squash_tar_fail(r, "tar entry with an empty name at offset "
                               "%llu", (unsigned long long) r->offset
                               - SQUASH_TAR_BLOCK);
    }

    if (type == SQUASH_TAR_REG
        && r->name_buf.data[r->name_buf.len - 1] == '/')
    {
        type = SQUASH_TAR_DIR;
    }

    if (r->pax_has_size) {
        size = r->pax_size;
    }

    r->entry.path = (char *) r->name_buf.data;
    r->entry.linkpath = (char *) r->link_buf.data;
    r->entry.type = type;
    r->entry.size = size;

    r->entry.mode = 0;
    if (squash_tar_parse_number(b + 100, 8, &v) == SQUASH_OK) {
        r->entry.mode = (uint32_t) (v & 07777);
    }

    r->entry.uid = 0;
    (void) squash_tar_parse_number(b + 108, 8, &r->entry.uid);
    r->entry.gid = 0;
    (void) squash_tar_parse_number(b + 116, 8, &r->entry.gid);

    switch (type) {
    case SQUASH_TAR_LNK:
    case SQUASH_TAR_SYM:
    case SQUASH_TAR_CHR:
    case SQUASH_TAR_BLK:
    case SQUASH_TAR_FIFO:
        r->entry.size = 0;
        r->data_left = 0;
        break;
    default:
        r->data_left = SQUASH_TAR_PAD(size);
    }

    /* the long names are consumed by this entry */

    r->long_path.len = 0;
    r->long_link.len = 0;
    r->pax_path.len = 0;
    r->pax_link.len = 0;
    r->pax_has_size = 0;

    ev->type = SQUASH_TAR_EV_HEADER;
    ev->data = r->raw.data;
    ev->len = r->raw.len;

    /* the raw bytes stay valid until the next header starts */
    r->raw.len = 0;

    return SQUASH_OK;
}


static int
squash_tar_set_name(squash_bytes_t *dst, const squash_bytes_t *a,
    const squash_bytes_t *b, const unsigned char *prefix, size_t prefix_len,
    const unsigned char *name, size_t name_len)
{
    dst->len = 0;

    if (a->len) {
        return squash_bytes_append(dst, a->data, a->len, (size_t) -1 / 2);
    }

    if (b->len) {
        return squash_bytes_append(dst, b->data, b->len, (size_t) -1 / 2);
    }

    if (prefix_len) {
        if (squash_bytes_append(dst, prefix, prefix_len, (size_t) -1 / 2)
            != SQUASH_OK
            || squash_bytes_append(dst, "/", 1, (size_t) -1 / 2) != SQUASH_OK)
        {
            return SQUASH_ERROR;
        }
    }

    return squash_bytes_append(dst, name, name_len, (size_t) -1 / 2);
}


static int
squash_tar_meta_done(squash_tar_reader_t *r)
{
    size_t                n;
    const unsigned char  *p;
    squash_bytes_t       *dst;

    p = r->raw.data + r->meta_start;
    n = (size_t) r->entry.size;

    switch (r->meta_type) {

    case 'x':
        return squash_tar_parse_pax(r, p, n);

    case 'g':
        /* global records would leak into other layers' entries: drop */
        r->raw.len = r->meta_start - SQUASH_TAR_BLOCK;
        return SQUASH_OK;

    default: /* 'L', 'K' */
        dst = (r->meta_type == 'L') ? &r->long_path : &r->long_link;
        dst->len = 0;

        if (squash_bytes_append(dst, p, squash_tar_strnlen(p, n),
                                r->meta_limit)
            != SQUASH_OK)
        {
            return squash_tar_fail(r, "out of memory");
        }

        return SQUASH_OK;
    }
}


static int
squash_tar_parse_pax(squash_tar_reader_t *r, const unsigned char *p, size_t n)
{
    size_t                len, klen, i;
    uint64_t              v;
    const unsigned char  *rec, *eq, *val;

    while (n) {
        len = 0;
        i = 0;

        while (i < n && p[i] >= '0' && p[i] <= '9' && len < n) {
            len = len * 10 + (p[i] - '0');
            i++;
        }

        if (i == 0 || i >= n || p[i] != ' ' || len > n || len <= i + 1
            || p[len - 1] != '\n')
        {
            return squash_tar_fail(r, "malformed pax record at offset %llu",
                                   (unsigned long long) r->offset);
        }

        rec = p + i + 1;
        eq = memchr(rec, '=', len - i - 1);

        if (eq == NULL) {
            return squash_tar_fail(r, "malformed pax record at offset %llu",
                                   (unsigned long long) r->offset);
        }

        klen = eq - rec;
        val = eq + 1;
        v = (p + len - 1) - val;

        if (klen == 4 && memcmp(rec, "path", 4) == 0) {
            r->pax_path.len = 0;
            if (squash_bytes_append(&r->pax_path, val, (size_t) v,
                                    r->meta_limit)
                != SQUASH_OK)
            {
                return squash_tar_fail(r, "out of memory");
            }

        } else if (klen == 8 && memcmp(rec, "linkpath", 8) == 0) {
            r->pax_link.len = 0;
            if (squash_bytes_append(&r->pax_link, val, (size_t) v,
                                    r->meta_limit)
                != SQUASH_OK)
            {
                return squash_tar_fail(r, "out of memory");
            }

        } else if (klen == 4 && memcmp(rec, "size", 4) == 0) {
            r->pax_size = 0;

            for (i = 0; i < v; i++) {
                if (val[i] < '0' || val[i] > '9'
                    || r->pax_size > (UINT64_MAX - 9) / 10)
                {
                    return squash_tar_fail(r, "bad pax size at offset %llu",
                                           (unsigned long long) r->offset);
                }

                r->pax_size = r->pax_size * 10 + (val[i] - '0');
            }

            r->pax_has_size = 1;

        } else if (klen > 11 && memcmp(rec, "GNU.sparse.", 11) == 0) {
            return squash_tar_fail(r, "gnu sparse entry at offset %llu is "
                                   "not supported",
                                   (unsigned long long) r->offset);
        }

        p += len;
        n -= len;
    }

    return SQUASH_OK;
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
