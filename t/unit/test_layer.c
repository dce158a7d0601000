
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * The layer transformer: output independent of buffer sizes, entries
 * verbatim, end blocks dropped, truncation refused.
 */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "squash_layer.h"


/*
 * The blob fed to a transformer in_step bytes at a time, its output taken
 * out_room bytes at a time, until it is done or fails (err); the
 * transformer is freed
 */

static int
feed(squash_layer_t *l, const squash_bytes_t *blob, size_t in_step,
    size_t out_room, squash_bytes_t *out, char *err)
{
    int                    rc;
    unsigned char         *room, *o, tap[37];
    const unsigned char   *p, *last, *end, *given;

    room = malloc(out_room);
    p = blob->data;
    given = p;
    end = blob->data + blob->len;

    do {
        last = p + ((size_t) (end - p) < in_step ? (size_t) (end - p)
                                                 : in_step);

        if (l->blob_apart && last > given) {
            /* hashed by the caller as it comes, not as it is used */
            assert_int_equal(squash_layer_blob(l, given, last - given),
                             SQUASH_OK);
            given = last;
        }

        /* a tap of an odd size: the tar hashed by the caller, in pieces */
        squash_layer_tap(l, tap, tap + sizeof(tap));

        o = room;
        rc = squash_layer_run(l, &p, last, last == end, &o, room + out_room);
        squash_bytes_append(out, room, o - room, 1 << 30);

        if (l->diff_apart) {
            assert_int_equal(squash_layer_diff(l, tap, l->tap - tap),
                             SQUASH_OK);

            if (rc == SQUASH_DONE && squash_layer_diff_end(l) != SQUASH_OK) {
                rc = SQUASH_ERROR;
            }
        }

    } while (rc == SQUASH_OK);

    if (rc == SQUASH_ERROR) {
        strcpy(err, l->err);
    }

    free(room);
    squash_layer_free(l);

    return rc;
}


/*
 * how a transformer checks: the diff_id trusted, the blob hashed apart,
 * the tar hashed apart
 */
#define LAYER_TRUSTED     1
#define LAYER_APART       2
#define LAYER_DIFF_APART  4


/* a transformer, over a merger of its own that the caller destroys */

static squash_merger_t *
layer_new(squash_layer_t *l, squash_comp_e kind, const char *digest,
    const char *diff_id, unsigned how)
{
    squash_merger_t  *m;

    m = squash_merger_create(1 << 24, NULL, NULL);
    assert_int_equal(squash_layer_init(l, kind, digest, diff_id, m, 4096,
                                       1 << 20, 0),
                     SQUASH_OK);

    if (how & LAYER_TRUSTED) {
        squash_layer_trust_diff_id(l);
    }

    if (how & LAYER_APART) {
        squash_layer_hash_apart(l);
    }

    if (how & LAYER_DIFF_APART) {
        squash_layer_diff_apart(l);
    }

    return m;
}


static int
transform_checked(const squash_bytes_t *blob, squash_comp_e kind,
    const char *digest, const char *diff_id, unsigned how, size_t in_step,
    size_t out_room, squash_bytes_t *out, char *err)
{
    int               rc;
    squash_layer_t    l;
    squash_merger_t  *m;

    m = layer_new(&l, kind, digest, diff_id, how);
    rc = feed(&l, blob, in_step, out_room, out, err);
    squash_merger_destroy(m);

    return rc;
}


static int
transform(const squash_bytes_t *blob, squash_comp_e kind, size_t in_step,
    size_t out_room, squash_bytes_t *out, char *err)
{
    return transform_checked(blob, kind, NULL, NULL, 0, in_step, out_room,
                             out, err);
}


static const unit_entry_t  entries[] = {
    { "a/", '5', NULL },
    { "a/file", '0', "some content that spans nothing in particular" },
    { "a/.wh.gone", '0', NULL },
    { "a/link", '2', "file" },
    { NULL, 0, NULL }
};


/* the entries as a tar, that tar gzipped, the gzip's digest and the tar's */

static void
entries_blobs(squash_bytes_t *tar, squash_bytes_t *gz, char *digest,
    char *diff_id)
{
    *tar = unit_tar(entries, 0);
    *gz = unit_gzip(tar->data, tar->len);

    assert_int_equal(squash_sha256_digest(gz->data, gz->len, digest),
                     SQUASH_OK);

    if (diff_id) {
        assert_int_equal(squash_sha256_digest(tar->data, tar->len, diff_id),
                         SQUASH_OK);
    }
}


static void
test_sizes_agree(void **state)
{
    char            err[SQUASH_ERRLEN];
    size_t          in_steps[] = { 1, 100, 100000 };
    size_t          rooms[] = { 1, 513, 65536 };
    size_t          i, j;
    squash_bytes_t  tar, gz, ref = { 0 }, out = { 0 };

    (void) state;

    tar = unit_tar(entries, 0);
    gz = unit_gzip(tar.data, tar.len);

    assert_int_equal(transform(&tar, SQUASH_COMP_NONE, 100000, 65536, &ref,
                               err), SQUASH_DONE);

    /* 4 headers + one data block, no whiteout, no end blocks */
    assert_int_equal(ref.len, 4 * 512);

    for (i = 0; i < 3; i++) {
        for (j = 0; j < 3; j++) {
            out.len = 0;
            assert_int_equal(transform(&gz, SQUASH_COMP_GZIP, in_steps[i],
                                       rooms[j], &out, err), SQUASH_DONE);
            assert_int_equal(out.len, ref.len);
            assert_memory_equal(out.data, ref.data, ref.len);
        }
    }

    /* the emitted bytes are the layer's own */
    assert_memory_equal(ref.data, tar.data, 512 * 3);

    squash_bytes_free(&tar);
    squash_bytes_free(&gz);
    squash_bytes_free(&ref);
    squash_bytes_free(&out);
}


static void
test_truncated(void **state)
{
    char            err[SQUASH_ERRLEN];
    squash_bytes_t  tar, out = { 0 };

    (void) state;

    tar = unit_tar(entries, 0);
    tar.len = 512 + 100;

    assert_int_equal(transform(&tar, SQUASH_COMP_NONE, 64, 64, &out, err),
                     SQUASH_ERROR);
    assert_non_null(strstr(err, "truncated"));

    squash_bytes_free(&tar);
    squash_bytes_free(&out);
}


/* the blob's digest and its tar's diff_id are checked at the end */

static void
test_digests(void **state)
{
    char            err[SQUASH_ERRLEN], digest[SQUASH_DIGEST_LEN + 1],
                    diff_id[SQUASH_DIGEST_LEN + 1],
                    other[SQUASH_DIGEST_LEN + 1];
    squash_bytes_t  tar, gz, out = { 0 };

    (void) state;

    entries_blobs(&tar, &gz, digest, diff_id);
    assert_int_equal(squash_sha256_digest("x", 1, other), SQUASH_OK);

    assert_int_equal(transform_checked(&gz, SQUASH_COMP_GZIP, digest, diff_id,
                                       0, 7, 100, &out, err),
                     SQUASH_DONE);

    out.len = 0;
    assert_int_equal(transform_checked(&gz, SQUASH_COMP_GZIP, other, diff_id,
                                       0, 7, 100, &out, err),
                     SQUASH_ERROR);
    assert_non_null(strstr(err, "the blob's digest is"));
    assert_non_null(strstr(err, digest));

    out.len = 0;
    assert_int_equal(transform_checked(&gz, SQUASH_COMP_GZIP, digest, other,
                                       0, 100000, 65536, &out, err),
                     SQUASH_ERROR);
    assert_non_null(strstr(err, "not the diff_id"));
    assert_non_null(strstr(err, diff_id));

    /* plain tar: the blob is its own diff_id */
    out.len = 0;
    assert_int_equal(transform_checked(&tar, SQUASH_COMP_NONE, diff_id,
                                       diff_id, 0, 1, 1, &out, err),
                     SQUASH_DONE);

    squash_bytes_free(&tar);
    squash_bytes_free(&gz);
    squash_bytes_free(&out);
}


/* checked as how says, the gzip blob passes, into the bytes unchecked */

static void
same_as_unchecked(const squash_bytes_t *gz, const char *digest,
    const char *diff_id, unsigned how)
{
    char            err[SQUASH_ERRLEN];
    squash_bytes_t  out = { 0 }, ref = { 0 };

    assert_int_equal(transform_checked(gz, SQUASH_COMP_GZIP, digest, diff_id,
                                       how, 7, 100, &out, err),
                     SQUASH_DONE);
    assert_int_equal(transform(gz, SQUASH_COMP_GZIP, 7, 100, &ref, err),
                     SQUASH_DONE);
    assert_int_equal(out.len, ref.len);
    assert_memory_equal(out.data, ref.data, ref.len);

    squash_bytes_free(&out);
    squash_bytes_free(&ref);
}


/* a trusted diff_id is not hashed again; the blob's digest still is */

static void
test_trusted_diff_id(void **state)
{
    char            err[SQUASH_ERRLEN], digest[SQUASH_DIGEST_LEN + 1],
                    other[SQUASH_DIGEST_LEN + 1];
    squash_bytes_t  tar, gz, out = { 0 };

    (void) state;

    entries_blobs(&tar, &gz, digest, NULL);
    assert_int_equal(squash_sha256_digest("x", 1, other), SQUASH_OK);

    /* another diff_id passes: the tar is not hashed; the bytes are the same */
    same_as_unchecked(&gz, digest, other, LAYER_TRUSTED);

    /* another blob does not */
    assert_int_equal(transform_checked(&gz, SQUASH_COMP_GZIP, other, other,
                                       LAYER_TRUSTED, 7, 100, &out, err),
                     SQUASH_ERROR);
    assert_non_null(strstr(err, "the blob's digest is"));

    squash_bytes_free(&tar);
    squash_bytes_free(&gz);
    squash_bytes_free(&out);
}


/* the whole blob in one run, into room enough; the transformer is kept */

static int
run_whole(squash_layer_t *l, const squash_bytes_t *blob)
{
    unsigned char        room[65536], *o;
    const unsigned char *p;

    o = room;
    p = blob->data;

    return squash_layer_run(l, &p, blob->data + blob->len, 1, &o,
                            room + sizeof(room));
}


/*
 * The blob hashed by the caller as it comes (as a thread pool's event loop
 * does while a thread inflates): the same bytes and the same checks;
 * bytes the caller did not give make the digest fail
 */

static void
test_hash_apart(void **state)
{
    char             digest[SQUASH_DIGEST_LEN + 1],
                     diff_id[SQUASH_DIGEST_LEN + 1];
    squash_layer_t   l;
    squash_bytes_t   tar, gz;
    squash_merger_t *m;

    (void) state;

    entries_blobs(&tar, &gz, digest, diff_id);

    same_as_unchecked(&gz, digest, diff_id, LAYER_APART);

    /* trusted too: neither digest is made by the transformer */
    same_as_unchecked(&gz, digest, diff_id, LAYER_TRUSTED | LAYER_APART);

    /* the caller gave all but the first byte */
    m = layer_new(&l, SQUASH_COMP_GZIP, digest, diff_id, LAYER_APART);
    assert_int_equal(squash_layer_blob(&l, gz.data + 1, gz.len - 1),
                     SQUASH_OK);

    assert_int_equal(run_whole(&l, &gz), SQUASH_ERROR);
    assert_non_null(strstr(l.err, "the blob's digest is"));

    squash_layer_free(&l);
    squash_merger_destroy(m);

    squash_bytes_free(&tar);
    squash_bytes_free(&gz);
}


/*
 * The tar hashed by the caller from a tap (as a thread pool's event loop
 * does with what a thread inflated): the same bytes and the same checks;
 * the run stops when the tap is full, and the diff_id is the caller's to
 * check
 */

static void
test_diff_apart(void **state)
{
    char             err[SQUASH_ERRLEN], digest[SQUASH_DIGEST_LEN + 1],
                     diff_id[SQUASH_DIGEST_LEN + 1],
                     other[SQUASH_DIGEST_LEN + 1];
    unsigned char    room[65536], tap[65536], *o;
    squash_layer_t   l;
    squash_bytes_t   tar, gz, out = { 0 };
    squash_merger_t *m;
    const unsigned char  *p;

    (void) state;

    entries_blobs(&tar, &gz, digest, diff_id);
    assert_int_equal(squash_sha256_digest("x", 1, other), SQUASH_OK);

    same_as_unchecked(&gz, digest, diff_id, LAYER_DIFF_APART);
    same_as_unchecked(&gz, digest, diff_id, LAYER_APART | LAYER_DIFF_APART);

    /* trusted: nothing is tapped, and another diff_id passes */
    same_as_unchecked(&gz, digest, other, LAYER_TRUSTED | LAYER_DIFF_APART);

    assert_int_equal(transform_checked(&gz, SQUASH_COMP_GZIP, digest, other,
                                       LAYER_DIFF_APART, 7, 100, &out, err),
                     SQUASH_ERROR);
    assert_non_null(strstr(err, "not the diff_id"));
    assert_non_null(strstr(err, diff_id));

    /* a full tap: the run inflates nothing until the caller gives room */
    m = layer_new(&l, SQUASH_COMP_GZIP, digest, diff_id, LAYER_DIFF_APART);
    squash_layer_tap(&l, tap, tap);

    p = gz.data;
    o = room;
    assert_int_equal(squash_layer_run(&l, &p, gz.data + gz.len, 1, &o,
                                      room + sizeof(room)),
                     SQUASH_OK);
    assert_true(squash_layer_tap_full(&l));
    assert_ptr_equal(o, room);

    /* room for all of it, not hashed: the blob passes, the tar does not */
    squash_layer_tap(&l, tap, tap + sizeof(tap));
    assert_int_equal(squash_layer_run(&l, &p, gz.data + gz.len, 1, &o,
                                      room + sizeof(room)),
                     SQUASH_DONE);
    assert_int_equal((size_t) (l.tap - tap), tar.len);
    assert_memory_equal(tap, tar.data, tar.len);
    assert_int_equal(squash_layer_diff_end(&l), SQUASH_ERROR);
    assert_non_null(strstr(l.err, "not the diff_id"));

    squash_layer_free(&l);
    squash_merger_destroy(m);

    squash_bytes_free(&tar);
    squash_bytes_free(&gz);
    squash_bytes_free(&out);
}


/* a kept layer's blob passes through as it is, checked when it ends */

static int
pass(const squash_bytes_t *blob, const char *digest, uint64_t size,
    unsigned how, size_t in_step, size_t out_room, squash_bytes_t *out,
    char *err)
{
    squash_layer_t  l;

    assert_int_equal(squash_layer_init_kept(&l, digest, size), SQUASH_OK);

    if (how & LAYER_APART) {
        squash_layer_hash_apart(&l);
    }

    return feed(&l, blob, in_step, out_room, out, err);
}


static void
test_kept(void **state)
{
    char            err[SQUASH_ERRLEN], digest[SQUASH_DIGEST_LEN + 1],
                    other[SQUASH_DIGEST_LEN + 1];
    squash_bytes_t  tar, gz, out = { 0 };

    (void) state;

    entries_blobs(&tar, &gz, digest, NULL);
    assert_int_equal(squash_sha256_digest("x", 1, other), SQUASH_OK);

    /* byte for byte, whatever the steps */
    assert_int_equal(pass(&gz, digest, gz.len, 0, 7, 3, &out, err),
                     SQUASH_DONE);
    assert_int_equal(out.len, gz.len);
    assert_memory_equal(out.data, gz.data, gz.len);

    out.len = 0;
    assert_int_equal(pass(&gz, digest, gz.len, 0, 100000, 65536, &out, err),
                     SQUASH_DONE);
    assert_memory_equal(out.data, gz.data, gz.len);

    /* another digest */
    out.len = 0;
    assert_int_equal(pass(&gz, other, gz.len, 0, 7, 100, &out, err),
                     SQUASH_ERROR);
    assert_non_null(strstr(err, "the blob's digest is"));
    assert_non_null(strstr(err, digest));

    /* longer than its descriptor says: refused before the excess is out */
    out.len = 0;
    assert_int_equal(pass(&gz, digest, gz.len - 1, 0, 100000, 65536, &out,
                          err),
                     SQUASH_ERROR);
    assert_non_null(strstr(err, "longer than"));

    /* shorter */
    out.len = 0;
    assert_int_equal(pass(&gz, digest, gz.len + 1, 0, 5, 5, &out, err),
                     SQUASH_ERROR);
    assert_non_null(strstr(err, "its descriptor says"));

    squash_bytes_free(&tar);
    squash_bytes_free(&gz);
    squash_bytes_free(&out);
}


/* a kept layer's blob, hashed by the caller: checked all the same */

static void
test_kept_apart(void **state)
{
    char             err[SQUASH_ERRLEN], digest[SQUASH_DIGEST_LEN + 1];
    squash_layer_t   l;
    squash_bytes_t   tar, gz, out = { 0 };

    (void) state;

    entries_blobs(&tar, &gz, digest, NULL);

    assert_int_equal(pass(&gz, digest, gz.len, LAYER_APART, 5, 64, &out,
                          err),
                     SQUASH_DONE);
    assert_int_equal(out.len, gz.len);
    assert_memory_equal(out.data, gz.data, gz.len);

    /* the caller hashed none of it: the digest is that of no bytes */
    assert_int_equal(squash_layer_init_kept(&l, digest, gz.len), SQUASH_OK);
    squash_layer_hash_apart(&l);

    assert_int_equal(run_whole(&l, &gz), SQUASH_ERROR);
    assert_non_null(strstr(l.err, "the blob's digest is"));

    squash_layer_free(&l);

    squash_bytes_free(&tar);
    squash_bytes_free(&gz);
    squash_bytes_free(&out);
}


int
unit_layer(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_sizes_agree),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_digests),
        cmocka_unit_test(test_trusted_diff_id),
        cmocka_unit_test(test_hash_apart),
        cmocka_unit_test(test_kept_apart),
        cmocka_unit_test(test_diff_apart),
        cmocka_unit_test(test_kept),
    };

    return cmocka_run_group_tests_name("layer", tests, NULL, NULL);
}
