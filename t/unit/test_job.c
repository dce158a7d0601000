
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * One squash (squash_job.c) and the digests it rests on: documents
 * checked against the digests that name them, an index followed to the
 * platform's manifest, the promised size kept, the same trailer length
 * for any layer digest.
 */

#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "squash_job.h"


#define ZERO_DIGEST                                                           \
    "sha256:0000000000000000000000000000000000000000000000000000000000000000"


static void
test_digest(void **state)
{
    char             d[SQUASH_DIGEST_LEN + 1], hex[SQUASH_HEX_LEN + 1];
    squash_sha256_t  s = { NULL };

    (void) state;

    /* FIPS 180-2's "abc" */
    assert_int_equal(squash_sha256_digest("abc", 3, d), SQUASH_OK);
    assert_string_equal(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a3"
                        "96177a9cb410ff61f20015ad");
    assert_int_equal(squash_sha256_hex("abc", 3, hex), SQUASH_OK);
    assert_string_equal(hex, d + 7);

    /* the same in pieces, and the state reused */
    assert_int_equal(squash_sha256_init(&s), SQUASH_OK);
    assert_int_equal(squash_sha256_update(&s, "ab", 2), SQUASH_OK);
    assert_int_equal(squash_sha256_update(&s, "", 0), SQUASH_OK);
    assert_int_equal(squash_sha256_update(&s, "c", 1), SQUASH_OK);
    assert_int_equal(squash_sha256_final(&s, hex), SQUASH_OK);
    assert_string_equal(hex, d);
    assert_int_equal(squash_sha256_init(&s), SQUASH_OK);
    assert_int_equal(squash_sha256_final(&s, hex), SQUASH_OK);
    assert_string_equal(hex, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4"
                        "649b934ca495991b7852b855");
    squash_sha256_free(&s);
    squash_sha256_free(&s);

    assert_true(squash_is_digest(d, strlen(d)));
    assert_false(squash_is_digest(d, strlen(d) - 1));
    d[10] = 'A';
    assert_false(squash_is_digest(d, strlen(d)));
    assert_false(squash_is_digest("sha512:00", 9));
}


/* a manifest of one layer and its config, with their digests */

typedef struct {
    char    config[256];
    char    config_digest[SQUASH_DIGEST_LEN + 1];
    char    manifest[1024];
    char    manifest_digest[SQUASH_DIGEST_LEN + 1];
    char    index[1024];
} image_t;


static void
make_image(image_t *im, const char *diff_id)
{
    snprintf(im->config, sizeof(im->config),
             "{\"architecture\":\"arm64\",\"os\":\"linux\","
             "\"created\":\"2020-01-02T03:04:05Z\",\"rootfs\":"
             "{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}", diff_id);
    assert_int_equal(squash_sha256_digest(im->config, strlen(im->config),
                                          im->config_digest),
                     SQUASH_OK);

    snprintf(im->manifest, sizeof(im->manifest),
             "{\"schemaVersion\":2,\"mediaType\":\"" SQUASH_MT_OCI_MANIFEST
             "\",\"config\":{\"mediaType\":\"" SQUASH_MT_OCI_CONFIG "\","
             "\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
             "\"" SQUASH_MT_OCI_LAYER "\",\"digest\":\"%s\",\"size\":1024}]}",
             im->config_digest, strlen(im->config), diff_id);
    assert_int_equal(squash_sha256_digest(im->manifest, strlen(im->manifest),
                                          im->manifest_digest),
                     SQUASH_OK);

    snprintf(im->index, sizeof(im->index),
             "{\"schemaVersion\":2,\"mediaType\":\"" SQUASH_MT_OCI_INDEX "\","
             "\"manifests\":[{\"mediaType\":\"" SQUASH_MT_OCI_MANIFEST "\","
             "\"digest\":\"%s\",\"size\":%zu,\"platform\":{\"os\":\"linux\","
             "\"architecture\":\"arm64\",\"variant\":\"v8\"}}]}",
             im->manifest_digest, strlen(im->manifest));
}


static void
test_job_documents(void **state)
{
    char               hex[SQUASH_HEX_LEN + 1];
    image_t            im;
    squash_job_t       j;
    squash_platform_t  arm = { "linux", "arm64", "v8" };
    squash_platform_t  amd = { "linux", "amd64", NULL };

    (void) state;

    make_image(&im, ZERO_DIGEST);

    /* by tag: any digest; by digest: that one */
    assert_int_equal(squash_job_init(&j, 1 << 20, NULL, NULL), SQUASH_OK);
    assert_int_equal(squash_job_manifest(&j, im.manifest, strlen(im.manifest),
                                         "v1", 2, &amd, 10),
                     SQUASH_OK);
    assert_string_equal(j.digest, im.manifest_digest);
    assert_int_equal(strlen(j.v1id), SQUASH_HEX_LEN);
    assert_int_equal(squash_job_layers(&j), 1);
    squash_job_free(&j);

    assert_int_equal(squash_job_init(&j, 1 << 20, NULL, NULL), SQUASH_OK);
    assert_int_equal(squash_job_manifest(&j, im.manifest, strlen(im.manifest),
                                         ZERO_DIGEST, SQUASH_DIGEST_LEN,
                                         &amd, 10),
                     SQUASH_ERROR);
    assert_non_null(strstr(j.err, "not the one asked for"));
    squash_job_free(&j);

    /* an index, then the platform's manifest, which must be the one named */
    assert_int_equal(squash_job_init(&j, 1 << 20, NULL, NULL), SQUASH_OK);
    assert_int_equal(squash_job_manifest(&j, im.index, strlen(im.index),
                                         "v1", 2, &arm, 10),
                     SQUASH_INDEX);
    assert_string_equal(j.manifest.chosen.digest, im.manifest_digest);
    assert_int_equal(squash_job_manifest(&j, im.index, strlen(im.index),
                                         "v1", 2, &arm, 10),
                     SQUASH_ERROR);
    assert_non_null(strstr(j.err, "not the one asked for"));
    squash_job_free(&j);

    assert_int_equal(squash_job_init(&j, 1 << 20, NULL, NULL), SQUASH_OK);
    assert_int_equal(squash_job_manifest(&j, im.index, strlen(im.index),
                                         "v1", 2, &arm, 10),
                     SQUASH_INDEX);
    assert_int_equal(squash_job_manifest(&j, im.manifest, strlen(im.manifest),
                                         "v1", 2, &arm, 10),
                     SQUASH_OK);

    /* the config: its digest, then one diff_id a layer */
    assert_int_equal(squash_job_config(&j, "{}", 2, &arm), SQUASH_ERROR);
    assert_non_null(strstr(j.err, "does not match its digest"));
    assert_int_equal(squash_job_config(&j, im.config, strlen(im.config),
                                       &arm),
                     SQUASH_OK);
    assert_string_equal(squash_job_diff_id(&j, 0), ZERO_DIGEST);
    assert_null(squash_job_diff_id(&j, 1));

    /* chosen from an index: the config names the variant */
    assert_string_equal(json_string_value(json_object_get(j.config,
                                                          "variant")),
                        "v8");

    assert_int_equal(squash_job_start(&j, "team/app", 8, "localhost/team/app",
                                      "v1.squash", SQUASH_FORMAT_ALL, 10240),
                     SQUASH_OK);
    assert_non_null(strstr(j.created_by, "squashed 1 layers of team/app@"));
    assert_int_equal(squash_job_etag(&j, hex), SQUASH_OK);
    assert_int_equal(strlen(hex), 32);
    squash_job_free(&j);

    /* no manifest for the platform */
    assert_int_equal(squash_job_init(&j, 1 << 20, NULL, NULL), SQUASH_OK);
    assert_int_equal(squash_job_manifest(&j, im.index, strlen(im.index),
                                         "v1", 2, &amd, 10),
                     SQUASH_NOT_FOUND);
    squash_job_free(&j);
}


/* the registry API: an index served whole, each image's documents */

static void
test_job_pull(void **state)
{
    char               d[SQUASH_DIGEST_LEN + 1];
    char               oci_digest[SQUASH_DIGEST_LEN + 1];
    char               config_digest[SQUASH_DIGEST_LEN + 1];
    image_t            im;
    squash_job_t       j;
    squash_platform_t  amd = { "linux", "amd64", NULL };

    (void) state;

    make_image(&im, ZERO_DIGEST);

    assert_int_equal(squash_job_init(&j, 1 << 20, NULL, NULL), SQUASH_OK);
    j.whole_index = 1;
    j.plain_config = 1;

    /* the platform asked for plays no part: every image is served */
    assert_int_equal(squash_job_manifest(&j, im.index, strlen(im.index),
                                         "v1", 2, &amd, 10),
                     SQUASH_INDEX);
    assert_int_equal(j.nitems, 1);
    assert_int_equal(squash_sha256_digest(im.index, strlen(im.index), d),
                     SQUASH_OK);
    assert_string_equal(j.index_digest, d);

    assert_int_equal(squash_job_index_next(&j), SQUASH_OK);
    assert_string_equal(j.manifest.chosen.digest, im.manifest_digest);
    assert_int_equal(squash_job_manifest(&j, im.manifest, strlen(im.manifest),
                                         "v1", 2, &amd, 10),
                     SQUASH_OK);
    assert_int_equal(squash_job_config(&j, im.config, strlen(im.config),
                                       &amd),
                     SQUASH_OK);

    /* the image's own config: no variant from the index */
    assert_null(json_object_get(j.config, "variant"));

    /* the layer's digest first */
    assert_int_equal(squash_job_documents(&j, "team/app", 8, 0, 2048),
                     SQUASH_ERROR);
    assert_int_equal(squash_job_set_diff_id(&j, "sha256:x", 1), SQUASH_ERROR);
    assert_int_equal(squash_job_set_diff_id(&j, ZERO_DIGEST, 1), SQUASH_OK);

    assert_int_equal(squash_job_documents(&j, "team/app", 8, 0, 2048),
                     SQUASH_OK);
    assert_string_equal(j.docs.manifest_type, SQUASH_MT_OCI_MANIFEST);
    assert_non_null(strstr(j.docs.config, "\"diff_ids\":[\"" ZERO_DIGEST
                                          "\"]"));
    assert_int_equal(squash_sha256_digest(j.docs.config, j.docs.config_len,
                                          d),
                     SQUASH_OK);
    assert_string_equal(j.docs.config_digest, d);
    assert_non_null(strstr(j.docs.manifest, "{\"digest\":\"" ZERO_DIGEST
                           "\",\"mediaType\":\"" SQUASH_MT_OCI_LAYER
                           "\",\"size\":2048}"));
    assert_non_null(strstr(j.docs.manifest, d));
    assert_int_equal(squash_sha256_digest(j.docs.manifest,
                                          j.docs.manifest_len, d),
                     SQUASH_OK);
    assert_string_equal(j.docs.manifest_digest, d);
    strcpy(config_digest, j.docs.config_digest);

    /* Docker's types: another manifest, the same config */
    assert_int_equal(squash_job_documents(&j, "team/app", 8, 1, 2048),
                     SQUASH_OK);
    assert_string_equal(j.docs.manifest_type, SQUASH_MT_DOCKER_MANIFEST);
    assert_non_null(strstr(j.docs.manifest, SQUASH_MT_DOCKER_LAYER));
    assert_string_equal(j.docs.config_digest, config_digest);
    assert_string_not_equal(j.docs.manifest_digest, d);

    assert_int_equal(squash_job_documents(&j, "team/app", 8, 0, 2048),
                     SQUASH_OK);
    strcpy(oci_digest, j.docs.manifest_digest);

    /* into the index; the job is new for the next image, of which none */
    assert_int_equal(squash_job_index_add(&j), SQUASH_OK);
    assert_null(j.config);
    assert_int_equal(j.whole_index, 1);
    assert_int_equal(j.from_index, 1);
    assert_string_equal(j.items[0].digest, oci_digest);
    assert_int_equal(squash_job_index_next(&j), SQUASH_DONE);

    assert_int_equal(squash_job_index_doc(&j, 0), SQUASH_OK);
    assert_string_equal(j.docs.manifest_type, SQUASH_MT_OCI_INDEX);
    assert_non_null(strstr(j.docs.manifest, oci_digest));
    assert_non_null(strstr(j.docs.manifest, "\"platform\":{\"architecture\":"
                           "\"arm64\",\"os\":\"linux\","
                           "\"variant\":\"v8\"}"));
    assert_int_equal(squash_sha256_digest(j.docs.manifest,
                                          j.docs.manifest_len, d),
                     SQUASH_OK);
    assert_string_equal(j.docs.manifest_digest, d);

    assert_int_equal(squash_job_index_doc(&j, 1), SQUASH_OK);
    assert_string_equal(j.docs.manifest_type, SQUASH_MT_DOCKER_LIST);
    assert_non_null(strstr(j.docs.manifest, SQUASH_MT_DOCKER_MANIFEST));
    squash_job_free(&j);
}


/* the registry API's layer blob: layer.tar alone */

static void
test_job_bare_layer(void **state)
{
    char           d[SQUASH_DIGEST_LEN + 1];
    unsigned char  block[SQUASH_TAR_BLOCK * 2];
    squash_job_t   j;

    (void) state;

    memset(block, 0, sizeof(block));

    assert_int_equal(squash_job_init(&j, 1 << 20, NULL, NULL), SQUASH_OK);
    assert_int_equal(squash_job_start_layer(&j, 100), SQUASH_ERROR);
    assert_int_equal(squash_job_start_layer(&j, sizeof(block)), SQUASH_OK);
    assert_int_equal(j.archive.total, sizeof(block));
    assert_int_equal(j.archive.prefix.len, 0);

    assert_int_equal(squash_job_layer_bytes(&j, block, sizeof(block), 1),
                     SQUASH_OK);
    assert_int_equal(squash_job_layer_bytes(&j, block, 1, 1), SQUASH_ERROR);
    assert_int_equal(squash_job_finish(&j), SQUASH_OK);
    assert_int_equal(j.archive.trailer.len, 0);

    assert_int_equal(squash_sha256_digest(block, sizeof(block), d),
                     SQUASH_OK);
    assert_string_equal(j.diff_id, d);
    squash_job_free(&j);

    /* a digest given to check: what the bytes are, after */
    assert_int_equal(squash_job_init(&j, 1 << 20, NULL, NULL), SQUASH_OK);
    assert_int_equal(squash_job_start_layer(&j, sizeof(block)), SQUASH_OK);
    assert_int_equal(squash_job_set_diff_id(&j, ZERO_DIGEST, 1), SQUASH_OK);
    assert_int_equal(squash_job_layer_bytes(&j, block, sizeof(block), 1),
                     SQUASH_OK);
    assert_int_equal(squash_job_finish(&j), SQUASH_OK);
    assert_string_equal(j.diff_id, d);
    squash_job_free(&j);

    /* a digest known (the size cache): the bytes are not hashed */
    assert_int_equal(squash_job_init(&j, 1 << 20, NULL, NULL), SQUASH_OK);
    assert_int_equal(squash_job_start_layer(&j, sizeof(block)), SQUASH_OK);
    assert_int_equal(squash_job_set_diff_id(&j, ZERO_DIGEST, 0), SQUASH_OK);
    assert_int_equal(squash_job_layer_bytes(&j, block, sizeof(block), 1),
                     SQUASH_OK);
    assert_int_equal(squash_job_layer_bytes(&j, block, 1, 1), SQUASH_ERROR);
    assert_int_equal(squash_job_finish(&j), SQUASH_OK);
    assert_string_equal(j.diff_id, ZERO_DIGEST);
    squash_job_free(&j);
}


static void
test_job_diff_ids(void **state)
{
    image_t            im;
    squash_job_t       j;
    squash_platform_t  amd = { "linux", "amd64", NULL };

    (void) state;

    /* a diff_id that is no digest */
    make_image(&im, "sha256:nothex");
    im.manifest[0] = '\0';

    snprintf(im.manifest, sizeof(im.manifest),
             "{\"schemaVersion\":2,\"config\":{\"digest\":\"%s\","
             "\"size\":1},\"layers\":[{\"mediaType\":\"" SQUASH_MT_OCI_LAYER
             "\",\"digest\":\"" ZERO_DIGEST "\",\"size\":1}]}",
             im.config_digest);

    assert_int_equal(squash_job_init(&j, 1 << 20, NULL, NULL), SQUASH_OK);
    assert_int_equal(squash_job_manifest(&j, im.manifest, strlen(im.manifest),
                                         "v1", 2, &amd, 10),
                     SQUASH_OK);
    assert_int_equal(squash_job_config(&j, im.config, strlen(im.config),
                                       &amd),
                     SQUASH_ERROR);
    assert_non_null(strstr(j.err, "diff_id 1 is not a sha256 digest"));
    squash_job_free(&j);
}


/* bytes of layer.tar: within the promised size, then the trailer */

static void
test_job_layer(void **state)
{
    char               buf[4096];
    size_t             len;
    image_t            im;
    squash_job_t       j;
    squash_platform_t  amd = { "linux", "amd64", NULL };

    (void) state;

    make_image(&im, ZERO_DIGEST);
    memset(buf, 0, sizeof(buf));

    assert_int_equal(squash_job_init(&j, 1 << 20, NULL, NULL), SQUASH_OK);
    assert_int_equal(squash_job_manifest(&j, im.manifest, strlen(im.manifest),
                                         "v1", 2, &amd, 10),
                     SQUASH_OK);
    assert_int_equal(squash_job_config(&j, im.config, strlen(im.config),
                                       &amd),
                     SQUASH_OK);
    assert_int_equal(squash_job_start(&j, "a", 1, "localhost/a", "v1.squash",
                                      SQUASH_FORMAT_ALL, 4096),
                     SQUASH_OK);
    len = j.archive.trailer.len;

    /* entries may take all but the end blocks */
    assert_int_equal(squash_job_layer_bytes(&j, buf, 3072, 0), SQUASH_OK);
    assert_int_equal(squash_job_layer_bytes(&j, buf, 1, 0), SQUASH_ERROR);
    assert_non_null(strstr(j.err, "exceeds the promised 4096 bytes"));

    /* nothing to write again: an empty tree */
    squash_merger_finish(j.merger);
    assert_int_equal(squash_job_restate(&j), SQUASH_OK);
    assert_int_equal(j.restate.len, 0);

    assert_int_equal(squash_job_layer_bytes(&j, buf, 1024, 1), SQUASH_OK);
    assert_int_equal(squash_job_layer_bytes(&j, buf, 1, 1), SQUASH_ERROR);
    assert_int_equal(squash_job_finish(&j), SQUASH_OK);

    /* the digest of 4096 zeros, and the trailer as long as promised */
    assert_string_equal(j.diff_id, "sha256:ad7facb2586fc6e966c004d7d1d16b02"
                        "4f5805ff7cb47c7a85dabd8b48892ca7");
    assert_int_equal(j.archive.trailer.len, len);
    assert_non_null(memmem(j.archive.trailer.data, len, j.diff_id + 7,
                           SQUASH_HEX_LEN));

    squash_job_free(&j);
}


/* the counting pass of squash_layer_size exact, then the archive */

static void
test_job_measure(void **state)
{
    char               buf[3072], want[SQUASH_DIGEST_LEN + 1],
                       hex[SQUASH_HEX_LEN + 1];
    uint64_t           size;
    unsigned char      md[2] = { 0xab, 0x01 };
    image_t            im;
    squash_job_t       j;
    squash_bytes_t     whole = { 0 };
    squash_platform_t  amd = { "linux", "amd64", NULL };

    (void) state;

    make_image(&im, ZERO_DIGEST);
    memset(buf, 'a', sizeof(buf));

    /* what layer.tar is: the entries and two end blocks, no padding */
    assert_int_equal(squash_bytes_append(&whole, buf, sizeof(buf), 1 << 20),
                     SQUASH_OK);
    assert_int_equal(squash_bytes_reserve(&whole, sizeof(buf) + 1024),
                     SQUASH_OK);
    memset(whole.data + whole.len, 0, 1024);
    whole.len += 1024;
    assert_int_equal(squash_sha256_digest(whole.data, whole.len, want),
                     SQUASH_OK);

    assert_int_equal(squash_job_init(&j, 1 << 20, NULL, NULL), SQUASH_OK);
    assert_int_equal(squash_job_manifest(&j, im.manifest, strlen(im.manifest),
                                         "v1", 2, &amd, 10),
                     SQUASH_OK);
    assert_int_equal(squash_job_config(&j, im.config, strlen(im.config),
                                       &amd),
                     SQUASH_OK);

    /* no size to keep to while counting */
    squash_job_measure(&j);
    assert_int_equal(squash_job_layer_bytes(&j, buf, sizeof(buf), 0),
                     SQUASH_OK);
    squash_merger_finish(j.merger);
    assert_int_equal(squash_job_restate(&j), SQUASH_OK);
    assert_int_equal(squash_job_rewind(&j, &size), SQUASH_OK);
    assert_int_equal(size, sizeof(buf) + 1024);
    assert_string_equal(j.diff_id, want);
    assert_true(j.digest_known);

    /* then the archive, as new: the same layer in exactly that size */
    assert_int_equal(j.layer_bytes, 0);
    assert_int_equal(squash_merger_paths(j.merger), 0);
    assert_int_equal(squash_job_start(&j, "a", 1, "localhost/a", "v1.squash",
                                      SQUASH_FORMAT_ALL, size),
                     SQUASH_OK);
    assert_int_equal(squash_job_layer_bytes(&j, whole.data, sizeof(buf), 0),
                     SQUASH_OK);
    assert_int_equal(squash_job_layer_bytes(&j, whole.data, 1, 0),
                     SQUASH_ERROR);
    assert_int_equal(squash_job_layer_bytes(&j, whole.data + sizeof(buf),
                                            1024, 1),
                     SQUASH_OK);
    assert_int_equal(squash_job_finish(&j), SQUASH_OK);
    assert_string_equal(j.diff_id, want);

    squash_job_free(&j);
    squash_bytes_free(&whole);

    squash_hex(md, sizeof(md), hex);
    assert_string_equal(hex, "ab01");

    assert_true(strcmp(squash_inflater(), "ISA-L") == 0
                || strcmp(squash_inflater(), "zlib") == 0);
}


int
unit_job(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_digest),
        cmocka_unit_test(test_job_documents),
        cmocka_unit_test(test_job_diff_ids),
        cmocka_unit_test(test_job_layer),
        cmocka_unit_test(test_job_measure),
        cmocka_unit_test(test_job_pull),
        cmocka_unit_test(test_job_bare_layer),
    };

    return cmocka_run_group_tests_name("job", tests, NULL, NULL);
}
