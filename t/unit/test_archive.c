
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * The outer archive: a trailer whose length does not depend on the
 * layer digest, headers for huge sizes, entries libarchive reads back.
 */

#define _GNU_SOURCE

#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "unit.h"
#include "squash_archive.h"


static void
test_trailer_length(void **state)
{
    char              err[SQUASH_ERRLEN];
    size_t            len;
    squash_archive_t  a;

    (void) state;

    memset(&a, 0, sizeof(a));
    a.v1id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    a.repo = "localhost/team/app";
    a.tag = "v1.squash";
    a.created_by = "test";
    a.config = squash_config_parse("{\"os\":\"linux\"}", 14, err);
    assert_non_null(a.config);
    a.layer_size = 10240;

    assert_int_equal(squash_archive_start(&a), SQUASH_OK);
    len = a.trailer.len;
    assert_int_equal(a.total, a.prefix.len + 10240 + len);

    assert_int_equal(squash_archive_finish(&a, "ffffffffffffffffffffffffffff"
                                               "ffffffffffffffffffffffffffffff"
                                               "ffffff"), SQUASH_OK);
    assert_int_equal(a.trailer.len, len);
    assert_non_null(memmem(a.trailer.data, a.trailer.len, "sha256:ffff", 11));

    /* the trailer ends in two zero blocks */
    assert_int_equal(a.trailer.data[len - 1], 0);
    assert_int_equal(a.trailer.data[len - 1024], 0);

    squash_archive_free(&a);
    json_decref(a.config);
}


/*
 * Base layers kept: each has its directory and layer.tar of the blob's
 * size after the merged layer, manifest.json and the OCI manifest list
 * them bottom up, the config keeps their diff_ids; the length is known
 * up front
 */

static void
test_kept(void **state)
{
    char              err[SQUASH_ERRLEN], *p;
    size_t            len, i;
    uint64_t          total;
    squash_blob_t     kept[2];
    squash_archive_t  a;

#define H32(c)  c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c
#define H64(c)  H32(c) H32(c)

    static const char  config[] =
        "{\"os\":\"linux\",\"created\":\"2020-01-01T00:00:00Z\","
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
        "\"sha256:" H64("1") "\",\"sha256:" H64("2") "\","
        "\"sha256:" H64("3") "\"]}}";

    (void) state;

    memset(kept, 0, sizeof(kept));
    strcpy(kept[0].digest, "sha256:" H64("a"));
    kept[0].size = 1000;
    kept[0].comp = SQUASH_COMP_GZIP;
    strcpy(kept[1].digest, "sha256:" H64("b"));
    kept[1].size = 1024;
    kept[1].comp = SQUASH_COMP_NONE;

    memset(&a, 0, sizeof(a));
    a.v1id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    a.repo = "localhost/team/app";
    a.tag = "v1.squash";
    a.created_by = "test";
    a.formats = SQUASH_FORMAT_ALL;
    a.config = squash_config_parse(config, sizeof(config) - 1, err);
    assert_non_null(a.config);
    a.layer_size = 10240;
    a.kept = kept;
    a.nkept = 2;

    assert_int_equal(squash_archive_start(&a), SQUASH_OK);

    total = a.prefix.len + 10240 + a.trailer.len;

    for (i = 0; i < 2; i++) {
        assert_non_null(memmem(a.heads[i].data, a.heads[i].len,
                               a.kept_ids[i], 64));
        total += a.heads[i].len + kept[i].size
                 + squash_archive_kept_pad(&a, i);
    }

    assert_int_equal(squash_archive_kept_pad(&a, 0), 24);
    assert_int_equal(squash_archive_kept_pad(&a, 1), 0);
    assert_int_equal(a.total, total);

    /* the ids chain: each differs, and the top one's parent is the last */
    assert_string_not_equal(a.kept_ids[0], a.kept_ids[1]);
    assert_non_null(memmem(a.prefix.data, a.prefix.len, "\"parent\":\"", 10));
    assert_non_null(memmem(a.prefix.data, a.prefix.len, a.kept_ids[1], 64));
    assert_non_null(memmem(a.heads[1].data, a.heads[1].len, a.kept_ids[0],
                           64));

    len = a.trailer.len;
    assert_int_equal(squash_archive_finish(&a, "ffffffffffffffffffffffffffff"
                                               "ffffffffffffffffffffffffffffff"
                                               "ffffff"), SQUASH_OK);
    assert_int_equal(a.trailer.len, len);

    /* the config: the kept diff_ids, then the merged layer's */
    assert_non_null(memmem(a.trailer.data, a.trailer.len,
                           "\"diff_ids\":[\"sha256:1111", 22));
    p = memmem(a.trailer.data, a.trailer.len, "\"sha256:2222", 12);
    assert_non_null(p);
    assert_non_null(memmem(p, a.trailer.data + len - (unsigned char *) p,
                           "\"sha256:ffff", 12));
    assert_null(memmem(a.trailer.data, a.trailer.len, "sha256:3333", 11));

    /* the OCI manifest: the kept blobs with their media types */
    assert_non_null(memmem(a.trailer.data, a.trailer.len,
                           "\"mediaType\":\"application/vnd.oci.image.layer."
                           "v1.tar+gzip\"", 52));
    assert_non_null(memmem(a.trailer.data, a.trailer.len,
                           "blobs/sha256/aaaa", 17));
    assert_non_null(memmem(a.trailer.data, a.trailer.len,
                           "blobs/sha256/bbbb", 17));

    squash_archive_free(&a);
    json_decref(a.config);

#undef H64
#undef H32
}


static void
test_huge_entry(void **state)
{
    char                   err[SQUASH_ERRLEN];
    squash_bytes_t         out = { 0 };
    struct archive        *ar;
    struct archive_entry  *e;

    (void) state;

    /* 10 GiB does not fit 11 octal digits: a pax size record */
    assert_int_equal(squash_archive_entry(&out, "x/layer.tar", '0', NULL,
                                          10ULL << 30, 0, err), SQUASH_OK);
    assert_true(out.len > 512);
    assert_int_equal(out.len % 512, 0);

    ar = archive_read_new();
    archive_read_support_format_tar(ar);
    assert_int_equal(archive_read_open_memory(ar, out.data, out.len),
                     ARCHIVE_OK);
    assert_int_equal(archive_read_next_header(ar, &e), ARCHIVE_OK);
    assert_string_equal(archive_entry_pathname(e), "x/layer.tar");
    assert_int_equal(archive_entry_size(e), 10LL << 30);
    archive_read_free(ar);

    squash_bytes_free(&out);
}



/* the first entry of a tar in memory, read back by libarchive */

static struct archive *
read_first(squash_bytes_t *b, struct archive_entry **e)
{
    struct archive  *ar;

    ar = archive_read_new();
    archive_read_support_format_tar(ar);
    assert_int_equal(archive_read_open_memory(ar, b->data, b->len),
                     ARCHIVE_OK);
    assert_int_equal(archive_read_next_header(ar, e), ARCHIVE_OK);

    return ar;
}


/* an entry's header records written again: another path, or a link */

static void
test_rewrite(void **state)
{
    char                   err[SQUASH_ERRLEN], longname[300];
    squash_bytes_t         raw = { 0 }, out = { 0 };
    struct archive        *ar;
    struct archive_entry  *e;

    (void) state;

    assert_int_equal(squash_archive_entry(&raw, "dir/file", '0', "hello", 5,
                                          1234567, err),
                     SQUASH_OK);

    /* the header alone (the data and padding follow it) */
    raw.len = 512;

    assert_int_equal(squash_tar_rewrite(&out, raw.data, raw.len, "other/name",
                                        NULL, err),
                     SQUASH_OK);
    assert_int_equal(out.len % 512, 0);
    ar = read_first(&out, &e);
    assert_string_equal(archive_entry_pathname(e), "other/name");
    assert_int_equal(archive_entry_size(e), 5);
    assert_int_equal(archive_entry_mtime(e), 1234567);
    archive_read_free(ar);

    /* a hard link has no data */
    out.len = 0;
    assert_int_equal(squash_tar_rewrite(&out, raw.data, raw.len, "link",
                                        "dir/file", err),
                     SQUASH_OK);
    ar = read_first(&out, &e);
    assert_string_equal(archive_entry_pathname(e), "link");
    assert_string_equal(archive_entry_hardlink(e), "dir/file");
    assert_int_equal(archive_entry_size(e), 0);
    archive_read_free(ar);

    /* a name longer than ustar holds */
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    out.len = 0;
    assert_int_equal(squash_tar_rewrite(&out, raw.data, raw.len, longname,
                                        NULL, err),
                     SQUASH_OK);
    ar = read_first(&out, &e);
    assert_string_equal(archive_entry_pathname(e), longname);
    archive_read_free(ar);

    /* records that are no tar header */
    memset(raw.data, 'x', 512);
    out.len = 0;
    assert_int_equal(squash_tar_rewrite(&out, raw.data, raw.len, "a", NULL,
                                        err),
                     SQUASH_ERROR);

    squash_bytes_free(&raw);
    squash_bytes_free(&out);
}


static void
test_symlink(void **state)
{
    char                   err[SQUASH_ERRLEN];
    squash_bytes_t         out = { 0 };
    struct archive        *ar;
    struct archive_entry  *e;

    (void) state;

    assert_int_equal(squash_archive_symlink(&out, "blobs/sha256/x",
                                            "../../id/layer.tar", 42, err),
                     SQUASH_OK);
    ar = read_first(&out, &e);
    assert_int_equal(archive_entry_filetype(e), AE_IFLNK);
    assert_string_equal(archive_entry_symlink(e), "../../id/layer.tar");
    assert_int_equal(archive_entry_mtime(e), 42);
    archive_read_free(ar);

    squash_bytes_free(&out);
}


int
unit_archive(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_trailer_length),
        cmocka_unit_test(test_kept),
        cmocka_unit_test(test_huge_entry),
        cmocka_unit_test(test_rewrite),
        cmocka_unit_test(test_symlink),
    };

    return cmocka_run_group_tests_name("archive", tests, NULL, NULL);
}
