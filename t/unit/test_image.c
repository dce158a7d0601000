
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * Names, references, platforms, manifests, indexes and the documents of
 * the archive.
 */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "squash_image.h"


#define DIGEST_A                                                              \
    "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B                                                              \
    "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DIGEST_C                                                              \
    "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"


static void
test_names(void **state)
{
    static const char  *good[] = { "a", "team/app", "a.b-c_d/e0", NULL };
    static const char  *bad[] = { "", "A", "a//b", "a/", "/a", "a--b",
                                  "a/../b", "a b", "-a", NULL };
    const char        **p;

    (void) state;

    for (p = good; *p; p++) {
        assert_true(squash_is_name(*p, strlen(*p)));
    }

    for (p = bad; *p; p++) {
        assert_false(squash_is_name(*p, strlen(*p)));
    }
}


static void
test_hosts(void **state)
{
    static const char  *good[] = { "localhost", "edge.example.com",
                                   "Edge-1.example.com:8443", "10.0.0.1:5000",
                                   "[::1]:443", "[fe80::1]", NULL };
    static const char  *bad[] = { "", "a\"}", "-a.com", "a-.com", "a..b",
                                  "a.", "a:", "a:8x", "[::1", "[]", "a b",
                                  "a/b", "\xff.com", "[::g]", NULL };
    const char        **p;

    (void) state;

    for (p = good; *p; p++) {
        assert_true(squash_is_host(*p, strlen(*p)));
    }

    for (p = bad; *p; p++) {
        assert_false(squash_is_host(*p, strlen(*p)));
    }
}


static void
test_references(void **state)
{
    char  tag[130];

    (void) state;

    assert_int_equal(squash_reference_kind("latest", 6), SQUASH_REF_TAG);
    assert_int_equal(squash_reference_kind("v1.2-rc_3", 9), SQUASH_REF_TAG);
    assert_int_equal(squash_reference_kind(DIGEST_A, strlen(DIGEST_A)),
                     SQUASH_REF_DIGEST);
    assert_int_equal(squash_reference_kind(".hidden", 7), 0);
    assert_int_equal(squash_reference_kind("a/b", 3), 0);
    assert_int_equal(squash_reference_kind("sha256:AB", 9), 0);

    memset(tag, 'x', sizeof(tag));
    assert_int_equal(squash_reference_kind(tag, 128), SQUASH_REF_TAG);
    assert_int_equal(squash_reference_kind(tag, 129), 0);
}


static void
test_platforms(void **state)
{
    char               s1[] = "linux/arm64/v8", s2[] = "linux",
                       s3[] = "linux/amd64/", s4[] = "Linux/amd64";
    squash_platform_t  p;

    (void) state;

    assert_int_equal(squash_platform_parse(s1, &p), SQUASH_OK);
    assert_string_equal(p.os, "linux");
    assert_string_equal(p.arch, "arm64");
    assert_string_equal(p.variant, "v8");
    assert_int_equal(squash_platform_parse(s2, &p), SQUASH_ERROR);
    assert_int_equal(squash_platform_parse(s3, &p), SQUASH_ERROR);
    assert_int_equal(squash_platform_parse(s4, &p), SQUASH_ERROR);
}


static void
test_manifests(void **state)
{
    char               err[SQUASH_ERRLEN];
    const char        *m;
    squash_manifest_t  man;

    (void) state;

    m = "{\"schemaVersion\":2,\"mediaType\":\"" SQUASH_MT_DOCKER_MANIFEST "\","
        "\"config\":{\"digest\":\"" DIGEST_A "\",\"size\":10},"
        "\"layers\":[{\"mediaType\":"
        "\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
        "\"digest\":\"" DIGEST_B "\",\"size\":20},"
        "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
        "\"digest\":\"" DIGEST_C "\",\"size\":30}]}";

    assert_int_equal(squash_manifest_parse(m, strlen(m), NULL, 10, &man, err),
                     SQUASH_OK);
    assert_int_equal(man.kind, SQUASH_DOC_IMAGE);
    assert_int_equal(man.nlayers, 2);
    assert_int_equal(man.layers[0].comp, SQUASH_COMP_GZIP);
    assert_int_equal(man.layers[1].comp, SQUASH_COMP_NONE);
    assert_int_equal(man.layers[1].size, 30);
    squash_manifest_free(&man);

    /* the layer limit */
    assert_int_equal(squash_manifest_parse(m, strlen(m), NULL, 1, &man, err),
                     SQUASH_UNSUPPORTED);

    m = "{\"schemaVersion\":1,\"fsLayers\":[]}";
    assert_int_equal(squash_manifest_parse(m, strlen(m), NULL, 10, &man, err),
                     SQUASH_UNSUPPORTED);
    assert_non_null(strstr(err, "schema1"));

    m = "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:zz\","
        "\"size\":1},\"layers\":[]}";
    assert_int_equal(squash_manifest_parse(m, strlen(m), NULL, 10, &man, err),
                     SQUASH_ERROR);

    m = "{\"schemaVersion\":2,";
    assert_int_equal(squash_manifest_parse(m, strlen(m), NULL, 10, &man, err),
                     SQUASH_ERROR);
    assert_non_null(strstr(err, "invalid JSON"));
}


static void
test_index(void **state)
{
    char               err[SQUASH_ERRLEN];
    const char        *ix;
    squash_platform_t  p = { "linux", "arm64", NULL };
    squash_manifest_t  man;

    (void) state;

    ix = "{\"schemaVersion\":2,\"mediaType\":\"" SQUASH_MT_OCI_INDEX "\","
         "\"manifests\":["
         "{\"digest\":\"" DIGEST_A "\",\"size\":1,\"platform\":"
         "{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}},"
         "{\"digest\":\"" DIGEST_B "\",\"size\":1,\"platform\":"
         "{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
         "{\"digest\":\"" DIGEST_C "\",\"size\":1,\"platform\":"
         "{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";

    /* without a variant asked for, the entry without one wins */
    assert_int_equal(squash_manifest_parse(ix, strlen(ix), &p, 10, &man,
                                           err),
                     SQUASH_INDEX);
    assert_int_equal(man.kind, SQUASH_DOC_INDEX);
    assert_string_equal(man.chosen.digest, DIGEST_B);
    squash_manifest_free(&man);

    p.variant = "v8";
    assert_int_equal(squash_manifest_parse(ix, strlen(ix), &p, 10, &man,
                                           err),
                     SQUASH_INDEX);
    assert_string_equal(man.chosen.digest, DIGEST_A);
    squash_manifest_free(&man);

    p.arch = "s390x";
    p.variant = NULL;
    assert_int_equal(squash_manifest_parse(ix, strlen(ix), &p, 10, &man,
                                           err),
                     SQUASH_NOT_FOUND);
    assert_non_null(strstr(err, "linux/s390x"));
}


static void
test_documents(void **state)
{
    char        err[SQUASH_ERRLEN], *v1, *cfg, *again;
    size_t      len, len2;
    json_t     *c;
    const char *src = "{\"architecture\":\"amd64\",\"os\":\"linux\","
                      "\"parent\":\"x\",\"config\":{\"Image\":\"old\","
                      "\"foo\":\"bar\"},\"rootfs\":{\"diff_ids\":[]},"
                      "\"history\":[{},{}]}";

    (void) state;

    c = squash_config_parse(src, strlen(src), err);
    assert_non_null(c);

    v1 = squash_doc_v1_json(c, "1234", NULL, &len);
    assert_non_null(strstr(v1, "\"id\":\"1234\""));
    assert_non_null(strstr(v1, "\"Image\":\"1234\""));
    assert_non_null(strstr(v1, "\"foo\":\"bar\""));
    assert_null(strstr(v1, "parent"));
    assert_null(strstr(v1, "rootfs"));
    free(v1);

    /* over kept layers: the top one names its parent; a base one has ids */
    v1 = squash_doc_v1_json(c, "1234", "5678", &len);
    assert_non_null(strstr(v1, "\"parent\":\"5678\""));
    free(v1);

    v1 = squash_doc_v1_base(c, "5678", "9abc", &len);
    assert_string_equal(v1, "{\"architecture\":\"amd64\",\"id\":\"5678\","
                        "\"os\":\"linux\",\"parent\":\"9abc\"}");
    free(v1);

    v1 = squash_doc_v1_base(c, "9abc", NULL, &len);
    assert_string_equal(v1, "{\"architecture\":\"amd64\",\"id\":\"9abc\","
                        "\"os\":\"linux\"}");

    cfg = squash_doc_config(c, 0, "ab", "squashed", &len);
    assert_non_null(strstr(cfg, "\"diff_ids\":[\"sha256:ab\"]"));
    assert_non_null(strstr(cfg, "\"history\":[{\"comment\":"));

    /* the same input, the same bytes */
    again = squash_doc_config(c, 0, "ab", "squashed", &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(cfg, again, len);

    free(v1);
    free(cfg);
    free(again);
    json_decref(c);

    assert_null(squash_config_parse("[1]", 3, err));
}



/* the archive's own documents: compact, keys sorted, the same every time */

static void
test_archive_documents(void **state)
{
    char        err[SQUASH_ERRLEN], *d;
    size_t      len;
    json_t     *c;
    const char *paths[] = { "base/layer.tar", "id/layer.tar" };
    const char *src = "{\"created\":\"2021-02-03T04:05:06.789Z\","
                      "\"rootfs\":{\"diff_ids\":[\"" DIGEST_A "\",\""
                      DIGEST_B "\"]}}";

    (void) state;

    c = squash_config_parse(src, strlen(src), err);
    assert_non_null(c);
    assert_int_equal(squash_config_created(c), 1612325106);
    assert_int_equal(squash_config_diff_ids(c), 2);
    assert_string_equal(squash_config_diff_id(c, 1), DIGEST_B);
    assert_null(squash_config_diff_id(c, 2));
    json_decref(c);

    c = squash_config_parse("{}", 2, err);
    assert_int_equal(squash_config_created(c), 0);
    assert_int_equal(squash_config_diff_ids(c), 0);
    json_decref(c);

    d = squash_doc_repositories("h/a", "v1.squash", "ff", &len);
    assert_string_equal(d, "{\"h/a\":{\"v1.squash\":\"ff\"}}");
    assert_int_equal(len, strlen(d));
    free(d);

    d = squash_doc_manifest("blobs/sha256/c", "h/a:v1", paths + 1, 1, &len);
    assert_string_equal(d, "[{\"Config\":\"blobs/sha256/c\",\"Layers\":"
                        "[\"id/layer.tar\"],\"RepoTags\":[\"h/a:v1\"]}]");
    free(d);

    d = squash_doc_manifest("blobs/sha256/c", "h/a:v1", paths, 2, &len);
    assert_string_equal(d, "[{\"Config\":\"blobs/sha256/c\",\"Layers\":"
                        "[\"base/layer.tar\",\"id/layer.tar\"],"
                        "\"RepoTags\":[\"h/a:v1\"]}]");
    free(d);

    d = squash_doc_image_manifest(0, "cc", 10, NULL, 0, "ll", 20, &len);
    assert_non_null(strstr(d, "\"config\":{\"digest\":\"sha256:cc\","
                              "\"mediaType\":\"" SQUASH_MT_OCI_CONFIG "\","
                              "\"size\":10}"));
    assert_non_null(strstr(d, "\"digest\":\"sha256:ll\",\"mediaType\":\""
                              SQUASH_MT_OCI_LAYER "\",\"size\":20}"));
    free(d);

    d = squash_doc_oci_index("mm", 30, "h/a", "v1", &len);
    assert_non_null(strstr(d, "\"digest\":\"sha256:mm\""));
    assert_non_null(strstr(d, "\"org.opencontainers.image.ref.name\":"
                              "\"v1\""));
    free(d);
}


/* base layers kept: their diff_ids, history and descriptors first */

static void
test_kept_documents(void **state)
{
    char           err[SQUASH_ERRLEN], *d;
    size_t         len;
    json_t        *c;
    squash_blob_t  kept[1];
    const char    *src = "{\"rootfs\":{\"diff_ids\":[\"" DIGEST_A "\",\""
                         DIGEST_B "\"]},\"history\":[{\"created_by\":"
                         "\"base\"},{\"created_by\":\"env\","
                         "\"empty_layer\":true},{\"created_by\":\"top\"}]}";

    (void) state;

    c = squash_config_parse(src, strlen(src), err);
    assert_non_null(c);

    d = squash_doc_config(c, 1, "ab", "squashed", &len);
    assert_non_null(strstr(d, "\"diff_ids\":[\"" DIGEST_A "\","
                              "\"sha256:ab\"]"));
    assert_non_null(strstr(d, "\"history\":[{\"created_by\":\"base\"},"
                              "{\"comment\":\"squashed by ngx_squash\","
                              "\"created_by\":\"squashed\"}]"));
    free(d);
    json_decref(c);

    memset(kept, 0, sizeof(kept));
    strcpy(kept[0].digest, DIGEST_C);
    kept[0].size = 7;
    kept[0].comp = SQUASH_COMP_GZIP;

    d = squash_doc_image_manifest(1, "cc", 10, kept, 1, "ll", 20, &len);
    assert_non_null(strstr(d, "\"layers\":[{\"digest\":\"" DIGEST_C "\","
                              "\"mediaType\":\"application/vnd.docker."
                              "image.rootfs.diff.tar.gzip\",\"size\":7},"
                              "{\"digest\":\"sha256:ll\",\"mediaType\":\""
                              SQUASH_MT_DOCKER_LAYER "\",\"size\":20}]"));
    free(d);

    d = squash_doc_image_manifest(0, "cc", 10, kept, 1, "ll", 20, &len);
    assert_non_null(strstr(d, "application/vnd.oci.image.layer.v1.tar+gzip"));
    free(d);
}


int
unit_image(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_hosts),
        cmocka_unit_test(test_references),
        cmocka_unit_test(test_platforms),
        cmocka_unit_test(test_manifests),
        cmocka_unit_test(test_index),
        cmocka_unit_test(test_documents),
        cmocka_unit_test(test_archive_documents),
        cmocka_unit_test(test_kept_documents),
    };

    return cmocka_run_group_tests_name("image", tests, NULL, NULL);
}
