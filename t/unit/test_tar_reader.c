
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * The incremental tar reader: the same events whatever the input split.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "squash_tar_reader.h"


/* reads the whole tar in pieces of `step` bytes into a text log */

static char *
read_log(const squash_bytes_t *tar, size_t step, int *ended)
{
    char                  *log;
    size_t                 len, n;
    FILE                  *f;
    const unsigned char   *p, *last, *end;
    squash_tar_reader_t    r;
    squash_tar_event_t     ev;
    uint64_t               data;

    f = open_memstream(&log, &len);
    squash_tar_reader_init(&r, 1 << 20);

    p = tar->data;
    end = tar->data + tar->len;
    data = 0;
    *ended = 0;

    while (p < end) {
        n = (size_t) (end - p) < step ? (size_t) (end - p) : step;
        last = p + n;

        while (p < last) {
            assert_int_equal(squash_tar_read(&r, &p, last, &ev), SQUASH_OK);

            switch (ev.type) {
            case SQUASH_TAR_EV_HEADER:
                if (data) {
                    fprintf(f, " data=%llu\n", (unsigned long long) data);
                    data = 0;
                }
                fprintf(f, "%c %s size=%llu link=%s raw=%zu", r.entry.type,
                        r.entry.path, (unsigned long long) r.entry.size,
                        r.entry.linkpath, ev.len);
                break;
            case SQUASH_TAR_EV_DATA:
                data += ev.len;
                break;
            case SQUASH_TAR_EV_END:
                *ended = 1;
                break;
            default:
                break;
            }
        }
    }

    fprintf(f, " data=%llu\n", (unsigned long long) data);
    fclose(f);
    assert_true(squash_tar_is_at_boundary(&r));
    squash_tar_reader_free(&r);

    return log;
}


static const unit_entry_t  entries[] = {
    { "dir/", '5', NULL },
    { "dir/file", '0', "hello world" },
    { "dir/link", '2', "file" },
    { "dir/hard", '1', "dir/file" },
    { "dir/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "/long", '0', "x" },
    { NULL, 0, NULL }
};


static void
test_splits_agree(void **state)
{
    int              gnu, ended;
    char            *whole, *piece;
    size_t           steps[] = { 1, 7, 511, 512, 513, 4096 }, i;
    squash_bytes_t   tar;

    (void) state;

    for (gnu = 0; gnu <= 1; gnu++) {
        tar = unit_tar(entries, gnu);
        whole = read_log(&tar, tar.len, &ended);
        assert_true(ended);

        /* the long name came through a pax or a GNU 'L' record */
        assert_non_null(strstr(whole, "/long size=1"));
        assert_non_null(strstr(whole, "0 dir/file size=11 link= raw=512"
                                      " data=512"));
        assert_non_null(strstr(whole, "1 dir/hard size=0 link=dir/file"));
        assert_non_null(strstr(whole, "2 dir/link size=0 link=file"));

        for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
            piece = read_log(&tar, steps[i], &ended);
            assert_string_equal(piece, whole);
            free(piece);
        }

        free(whole);
        squash_bytes_free(&tar);
    }
}


static void
test_bad_checksum(void **state)
{
    squash_bytes_t        tar;
    squash_tar_reader_t   r;
    squash_tar_event_t    ev;
    const unsigned char  *p;

    (void) state;

    tar = unit_tar(entries, 0);
    tar.data[0] ^= 1;

    squash_tar_reader_init(&r, 1 << 20);
    p = tar.data;
    assert_int_equal(squash_tar_read(&r, &p, tar.data + tar.len, &ev),
                     SQUASH_ERROR);
    assert_non_null(strstr(r.err, "checksum"));

    squash_tar_reader_free(&r);
    squash_bytes_free(&tar);
}


static void
test_truncated_entry(void **state)
{
    squash_bytes_t        tar;
    squash_tar_reader_t   r;
    squash_tar_event_t    ev;
    const unsigned char  *p, *last;

    (void) state;

    tar = unit_tar(entries, 0);

    /* the directory, the file's header and 5 of its 11 data bytes */
    squash_tar_reader_init(&r, 1 << 20);
    p = tar.data;
    last = tar.data + 512 * 2 + 5;

    while (p < last) {
        assert_int_equal(squash_tar_read(&r, &p, last, &ev), SQUASH_OK);
    }

    assert_false(squash_tar_is_at_boundary(&r));

    squash_tar_reader_free(&r);

    /* cut in its padding: Go ends the archive with that file */
    squash_tar_reader_init(&r, 1 << 20);
    p = tar.data;
    last = tar.data + 512 * 2 + 100;

    while (p < last) {
        assert_int_equal(squash_tar_read(&r, &p, last, &ev), SQUASH_OK);
    }

    assert_true(squash_tar_is_at_boundary(&r));

    /* and in a header block: not an end */
    last = tar.data + 512 * 3 + 10;

    while (p < last) {
        assert_int_equal(squash_tar_read(&r, &p, last, &ev), SQUASH_OK);
    }

    assert_false(squash_tar_is_at_boundary(&r));

    squash_tar_reader_free(&r);
    squash_bytes_free(&tar);
}


static void
test_sparse_refused(void **state)
{
    unsigned char         block[1024];
    squash_tar_reader_t   r;
    squash_tar_event_t    ev;
    const unsigned char  *p;

    (void) state;

    /* a GNU sparse header, checksummed */
    memset(block, 0, sizeof(block));
    strcpy((char *) block, "sparse");
    memcpy(block + 100, "0000644", 8);
    memcpy(block + 124, "00000000000", 12);
    block[156] = 'S';
    memcpy(block + 257, "ustar  ", 8);
    squash_tar_checksum(block, block + 148);

    squash_tar_reader_init(&r, 1 << 20);
    p = block;
    assert_int_equal(squash_tar_read(&r, &p, block + sizeof(block), &ev),
                     SQUASH_ERROR);
    assert_non_null(strstr(r.err, "gnu sparse entry"));
    squash_tar_reader_free(&r);
}


static void
test_numbers(void **state)
{
    int64_t        v;
    unsigned char  b256[12] = { 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0 };
    unsigned char  neg[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe };
    unsigned char  big[12] = { 0x80, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

    (void) state;

    assert_int_equal(squash_tar_parse_numeric((unsigned char *) "0000644\0",
                                              8, &v), SQUASH_OK);
    assert_int_equal(v, 0644);

    assert_int_equal(squash_tar_parse_numeric((unsigned char *) "   17 \0",
                                              7, &v), SQUASH_OK);
    assert_int_equal(v, 017);

    /* Go cuts at the first NUL once the ends are trimmed */
    assert_int_equal(squash_tar_parse_numeric((unsigned char *) "12\0 34",
                                              6, &v), SQUASH_OK);
    assert_int_equal(v, 012);

    /* but a space inside the digits is an error */
    assert_int_equal(squash_tar_parse_numeric((unsigned char *) "12 34",
                                              5, &v), SQUASH_ERROR);

    /* base-256: 2 << 32 = 8 GiB */
    assert_int_equal(squash_tar_parse_numeric(b256, 12, &v), SQUASH_OK);
    assert_int_equal(v, 8LL << 30);

    /* negative base-256: -2 */
    assert_int_equal(squash_tar_parse_numeric(neg, 8, &v), SQUASH_OK);
    assert_int_equal(v, -2);

    /* 2^63 does not fit */
    assert_int_equal(squash_tar_parse_numeric(big, 12, &v), SQUASH_ERROR);

    assert_int_equal(squash_tar_parse_numeric((unsigned char *) "12x4",
                                              4, &v), SQUASH_ERROR);
}


/* pax records one by one, as Go's parsePAX takes them */

static void
test_pax_records(void **state)
{
    size_t                klen, vlen;
    const char           *rec;
    const unsigned char  *p, *last, *k, *v;

    (void) state;

    rec = "12 path=a/b\n16 mtime=1.5e\n=\n";
    p = (const unsigned char *) rec;
    last = p + 12 + 16;

    assert_int_equal(squash_tar_pax_next(&p, last, &k, &klen, &v, &vlen),
                     SQUASH_OK);
    assert_int_equal(klen, 4);
    assert_memory_equal(k, "path", 4);
    assert_int_equal(vlen, 3);
    assert_memory_equal(v, "a/b", 3);

    /* a value may hold "=" and "\n" is the record's end only */
    assert_int_equal(squash_tar_pax_next(&p, last, &k, &klen, &v, &vlen),
                     SQUASH_OK);
    assert_memory_equal(k, "mtime", 5);
    assert_int_equal(vlen, 6);
    assert_memory_equal(v, "1.5e\n=", 6);

    assert_int_equal(squash_tar_pax_next(&p, last, &k, &klen, &v, &vlen),
                     SQUASH_DONE);

    /* a length that overruns the data, and one without a key */
    rec = "99 path=x\n";
    p = (const unsigned char *) rec;
    assert_int_equal(squash_tar_pax_next(&p, p + strlen(rec), &k, &klen, &v,
                                         &vlen),
                     SQUASH_ERROR);

    rec = "6 =xx\n";
    p = (const unsigned char *) rec;
    assert_int_equal(squash_tar_pax_next(&p, p + strlen(rec), &k, &klen, &v,
                                         &vlen),
                     SQUASH_ERROR);
}


static void
test_bytes(void **state)
{
    unsigned char   *at;
    squash_bytes_t   b = { 0 };

    (void) state;

    assert_int_equal(squash_bytes_reserve(&b, 1000), SQUASH_OK);
    at = b.data;
    assert_int_equal(b.cap, 1001);

    /* appends within the reservation do not move the data */
    assert_int_equal(squash_bytes_append(&b, "abc", 3, 1000), SQUASH_OK);
    assert_int_equal(squash_bytes_append(&b, NULL, 0, 1000), SQUASH_OK);
    assert_ptr_equal(b.data, at);
    assert_string_equal((char *) b.data, "abc");

    /* the limit holds */
    assert_int_equal(squash_bytes_append(&b, "defg", 4, 6), SQUASH_ERROR);
    assert_int_equal(b.len, 3);

    /* a smaller reservation changes nothing */
    assert_int_equal(squash_bytes_reserve(&b, 10), SQUASH_OK);
    assert_int_equal(b.cap, 1001);

    squash_bytes_free(&b);
    assert_null(b.data);
}

int
unit_tar_reader(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_splits_agree),
        cmocka_unit_test(test_bad_checksum),
        cmocka_unit_test(test_truncated_entry),
        cmocka_unit_test(test_sparse_refused),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_pax_records),
        cmocka_unit_test(test_bytes),
    };

    return cmocka_run_group_tests_name("tar_reader", tests, NULL, NULL);
}
