
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * Decompression: multi-member gzip, its headers and trailers as Go reads
 * them, truncation, zstd, garbage.
 */

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "unit.h"
#include "squash_decomp.h"


/* decompresses in pieces of `step` bytes; returns the finish result */

static int
run(squash_comp_e kind, const squash_bytes_t *in, size_t step,
    squash_bytes_t *out)
{
    unsigned char          buf[7];
    unsigned char         *o;
    const unsigned char   *p, *last, *end;
    squash_decomp_t        d;
    int                    rc;

    assert_int_equal(squash_decomp_init(&d, kind), SQUASH_OK);

    p = in->data;
    end = in->data + in->len;

    while (p < end) {
        last = p + ((size_t) (end - p) < step ? (size_t) (end - p) : step);

        while (p < last) {
            o = buf;
            if (squash_decomp_run(&d, &p, last, &o, buf + sizeof(buf))
                != SQUASH_OK)
            {
                squash_decomp_free(&d);
                return SQUASH_ERROR;
            }
            squash_bytes_append(out, buf, o - buf, 1 << 30);
        }
    }

    /* drain what is still inside */
    for ( ;; ) {
        o = buf;
        squash_decomp_run(&d, &p, p, &o, buf + sizeof(buf));
        if (o == buf) {
            break;
        }
        squash_bytes_append(out, buf, o - buf, 1 << 30);
    }

    rc = squash_decomp_finish(&d);
    squash_decomp_free(&d);

    return rc;
}


static void
test_gzip_members(void **state)
{
    squash_bytes_t  a, b, out = { 0 };
    size_t          step;

    (void) state;

    a = unit_gzip("hello, ", 7);
    b = unit_gzip("world", 5);
    squash_bytes_append(&a, b.data, b.len, 1 << 20);

    for (step = 1; step < 40; step += 13) {
        out.len = 0;
        assert_int_equal(run(SQUASH_COMP_GZIP, &a, step, &out), SQUASH_OK);
        assert_int_equal(out.len, 12);
        assert_memory_equal(out.data, "hello, world", 12);
    }

    squash_bytes_free(&a);
    squash_bytes_free(&b);
    squash_bytes_free(&out);
}


static void
test_gzip_pending_output(void **state)
{
    char           *zeros;
    squash_bytes_t  z, out = { 0 };

    (void) state;

    /* a few hundred bytes of input hold a megabyte: the input runs out
       long before the output, which must still all come out */

    zeros = calloc(1, 1 << 20);
    z = unit_gzip(zeros, 1 << 20);

    assert_int_equal(run(SQUASH_COMP_GZIP, &z, z.len, &out), SQUASH_OK);
    assert_int_equal(out.len, 1 << 20);

    /* zstd takes all its input at once and holds the output */
    z.len = 0;
    z.cap = ZSTD_compressBound(1 << 20) + 1;
    z.data = realloc(z.data, z.cap);
    z.len = ZSTD_compress(z.data, z.cap, zeros, 1 << 20, 3);
    assert_false(ZSTD_isError(z.len));

    out.len = 0;
    assert_int_equal(run(SQUASH_COMP_ZSTD, &z, z.len, &out), SQUASH_OK);
    assert_int_equal(out.len, 1 << 20);

    free(zeros);
    squash_bytes_free(&z);
    squash_bytes_free(&out);
}


static void
test_gzip_truncated(void **state)
{
    squash_bytes_t  a, out = { 0 };

    (void) state;

    a = unit_gzip("hello, world", 12);
    a.len -= 3;     /* inside the trailer */

    assert_int_equal(run(SQUASH_COMP_GZIP, &a, 5, &out), SQUASH_ERROR);

    squash_bytes_free(&a);
    squash_bytes_free(&out);
}


static void
test_gzip_garbage(void **state)
{
    squash_bytes_t  a, out = { 0 };

    (void) state;

    a = unit_gzip("x", 1);
    squash_bytes_append(&a, "junk", 4, 1 << 20);
    assert_int_equal(run(SQUASH_COMP_GZIP, &a, 100, &out), SQUASH_ERROR);

    a.len = 0;
    squash_bytes_append(&a, "not valid data", 14, 1 << 20);
    assert_int_equal(run(SQUASH_COMP_GZIP, &a, 100, &out), SQUASH_ERROR);

    squash_bytes_free(&a);
    squash_bytes_free(&out);
}


static void
test_empty(void **state)
{
    squash_bytes_t  a = { 0 }, out = { 0 };

    (void) state;

    assert_int_equal(run(SQUASH_COMP_GZIP, &a, 1, &out), SQUASH_OK);
    assert_int_equal(run(SQUASH_COMP_ZSTD, &a, 1, &out), SQUASH_OK);
    assert_int_equal(out.len, 0);
}


static void
test_zstd(void **state)
{
    char            src[1000];
    size_t          n;
    squash_bytes_t  z = { 0 }, out = { 0 };

    (void) state;

    memset(src, 'q', sizeof(src));
    z.cap = ZSTD_compressBound(sizeof(src)) + 1;
    z.data = malloc(z.cap);
    n = ZSTD_compress(z.data, z.cap, src, sizeof(src), 3);
    assert_false(ZSTD_isError(n));
    z.len = n;

    assert_int_equal(run(SQUASH_COMP_ZSTD, &z, 3, &out), SQUASH_OK);
    assert_int_equal(out.len, sizeof(src));
    assert_memory_equal(out.data, src, sizeof(src));

    out.len = 0;
    z.len = n - 2;
    assert_int_equal(run(SQUASH_COMP_ZSTD, &z, 3, &out), SQUASH_ERROR);

    squash_bytes_free(&z);
    squash_bytes_free(&out);
}


/*
 * "hello" in a gzip member whose header has the flags and fields given
 * (extra of xlen bytes, name and comment of those lengths; an FHCRC that
 * is right, or not)
 */

static squash_bytes_t
gzip_member(unsigned flags, size_t xlen, size_t name, size_t comment,
    int hcrc_ok)
{
    uint32_t        crc;
    squash_bytes_t  a, m = { 0 };
    unsigned char   b[2], *field;

    a = unit_gzip("hello", 5);

    /* zlib's 10-byte header, with these flags */
    squash_bytes_append(&m, a.data, 10, 1 << 20);
    m.data[3] = (unsigned char) flags;

    field = calloc(1, 70000);
    memset(field, 'n', 70000);

    if (flags & 0x04) {
        b[0] = (unsigned char) xlen;
        b[1] = (unsigned char) (xlen >> 8);
        squash_bytes_append(&m, b, 2, 1 << 20);
        squash_bytes_append(&m, field, xlen, 1 << 20);
    }

    field[name] = '\0';
    if (flags & 0x08) {
        squash_bytes_append(&m, field, name + 1, 1 << 20);
    }
    field[name] = 'n';

    field[comment] = '\0';
    if (flags & 0x10) {
        squash_bytes_append(&m, field, comment + 1, 1 << 20);
    }

    if (flags & 0x02) {
        crc = crc32(0, m.data, m.len) + (hcrc_ok ? 0 : 1);
        b[0] = (unsigned char) crc;
        b[1] = (unsigned char) (crc >> 8);
        squash_bytes_append(&m, b, 2, 1 << 20);
    }

    squash_bytes_append(&m, a.data + 10, a.len - 10, 1 << 20);

    free(field);
    squash_bytes_free(&a);

    return m;
}


/* in pieces of 1, 7 and 1000 bytes: "hello", or SQUASH_ERROR */

static int
run_hello(const squash_bytes_t *a)
{
    int             rc;
    size_t          i;
    squash_bytes_t  out = { 0 };

    static const size_t  steps[] = { 1, 7, 1000 };

    rc = SQUASH_OK;

    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        out.len = 0;
        rc = run(SQUASH_COMP_GZIP, a, steps[i], &out);

        if (rc != SQUASH_OK) {
            break;
        }

        assert_int_equal(out.len, 5);
        assert_memory_equal(out.data, "hello", 5);
    }

    squash_bytes_free(&out);

    return rc;
}


/* each header field as Go's gzip.Reader reads it, with either inflater */

static void
test_gzip_header(void **state)
{
    size_t          i;
    squash_bytes_t  a;

    static const struct {
        unsigned    flags;
        size_t      xlen, name, comment;
        int         hcrc_ok, rc;
    } cases[] = {
        /* all of them; then FHCRC alone (ISA-L refused it in pieces) */
        { 0x1e, 300, 20, 30, 1, SQUASH_OK },
        { 0x02, 0, 0, 0, 1, SQUASH_OK },
        { 0x1e, 300, 20, 30, 0, SQUASH_ERROR },

        /* an empty FEXTRA, a long one, and FTEXT */
        { 0x05, 0, 0, 0, 1, SQUASH_OK },
        { 0x04, 65535, 0, 0, 1, SQUASH_OK },

        /* the reserved flags are ignored (zlib refused them) */
        { 0xe0, 0, 0, 0, 1, SQUASH_OK },

        /* a name or comment of 511 bytes, not 512 (both read them) */
        { 0x08, 0, 511, 0, 1, SQUASH_OK },
        { 0x08, 0, 512, 0, 1, SQUASH_ERROR },
        { 0x18, 0, 3, 511, 1, SQUASH_OK },
        { 0x10, 0, 0, 5000, 1, SQUASH_ERROR },
    };

    (void) state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        a = gzip_member(cases[i].flags, cases[i].xlen, cases[i].name,
                        cases[i].comment, cases[i].hcrc_ok);
        assert_int_equal(run_hello(&a), cases[i].rc);
        squash_bytes_free(&a);
    }

    /* compression method 8 only */
    a = gzip_member(0, 0, 0, 0, 1);
    a.data[2] = 7;
    assert_int_equal(run_hello(&a), SQUASH_ERROR);
    squash_bytes_free(&a);
}


/* the trailer's CRC32 and ISIZE, each checked */

static void
test_gzip_trailer(void **state)
{
    squash_bytes_t  a;

    (void) state;

    a = gzip_member(0, 0, 0, 0, 1);
    assert_int_equal(run_hello(&a), SQUASH_OK);

    a.data[a.len - 4]++;
    assert_int_equal(run_hello(&a), SQUASH_ERROR);

    a.data[a.len - 4]--;
    a.data[a.len - 8]++;
    assert_int_equal(run_hello(&a), SQUASH_ERROR);

    squash_bytes_free(&a);
}


/* a gzip blob's size from its ISIZE: only where one size fits */

static void
test_gzip_size(void **state)
{
    uint64_t  size;

    (void) state;

    /* small blobs: the ISIZE is the size */
    assert_int_equal(squash_gzip_size(100, 1000, &size), SQUASH_OK);
    assert_int_equal(size, 1000);
    assert_int_equal(squash_gzip_size(1 << 20, 300 << 20, &size), SQUASH_OK);
    assert_int_equal(size, 300 << 20);

    /* less than deflate could have made of it: not this ISIZE */
    assert_int_equal(squash_gzip_size(1 << 20, 1000, &size),
                     SQUASH_DECLINED);

    /* 5 MB may inflate past 4 GiB: the size modulo 2^32 is ambiguous */
    assert_int_equal(squash_gzip_size(5000000, 6000000, &size),
                     SQUASH_DECLINED);

    /* not even a gzip header and trailer */
    assert_int_equal(squash_gzip_size(17, 0, &size), SQUASH_DECLINED);

    assert_string_equal(squash_comp_name(SQUASH_COMP_GZIP), "gzip");
    assert_string_equal(squash_comp_name(SQUASH_COMP_ZSTD), "zstd");
}


/* squash_size_fallback smallest: the least size consistent with both */

static void
test_gzip_size_smallest(void **state)
{
    uint64_t  size;

    (void) state;

    /* where one size fits, it is that one */
    assert_int_equal(squash_gzip_size_smallest(100, 1000, &size), SQUASH_OK);
    assert_int_equal(size, 1000);

    /* ambiguous: the ISIZE itself when it is at least the stored size */
    assert_int_equal(squash_gzip_size_smallest(5000000, 6000000, &size),
                     SQUASH_OK);
    assert_int_equal(size, 6000000);

    /* below the stored size: the next wrap around 4 GiB */
    assert_int_equal(squash_gzip_size_smallest(5000000, 1000, &size),
                     SQUASH_OK);
    assert_int_equal(size, ((uint64_t) 1 << 32) + 1000);

    /* 9 GB of blob, ISIZE 1 GB: 1 GB and 5.3 GB are too small */
    assert_int_equal(squash_gzip_size_smallest(9000000000ULL, 1000000000,
                                               &size), SQUASH_OK);
    assert_int_equal(size, ((uint64_t) 2 << 32) + 1000000000);

    /* an exact multiple of 4 GiB past the ISIZE stays on it */
    assert_int_equal(squash_gzip_size_smallest(((uint64_t) 1 << 32) + 18,
                                               0, &size), SQUASH_OK);
    assert_true(size >= ((uint64_t) 1 << 32) - ((uint64_t) 1 << 32) / 13107);
    assert_int_equal(size % ((uint64_t) 1 << 32), 0);

    /* no size fits a tiny blob with a large ISIZE */
    assert_int_equal(squash_gzip_size_smallest(20, 100000, &size),
                     SQUASH_DECLINED);
    assert_int_equal(squash_gzip_size_smallest(17, 0, &size),
                     SQUASH_DECLINED);
}


int
unit_decomp(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_gzip_members),
        cmocka_unit_test(test_gzip_pending_output),
        cmocka_unit_test(test_gzip_truncated),
        cmocka_unit_test(test_gzip_garbage),
        cmocka_unit_test(test_gzip_header),
        cmocka_unit_test(test_gzip_trailer),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_zstd),
        cmocka_unit_test(test_gzip_size),
        cmocka_unit_test(test_gzip_size_smallest),
    };

    return cmocka_run_group_tests_name("decomp", tests, NULL, NULL);
}
