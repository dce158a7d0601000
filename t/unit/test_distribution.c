
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * The registry API's routes, Accept and errors (squash_distribution.c).
 */

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "squash_distribution.h"
#include "squash_image.h"


#define DIGEST_A                                                              \
    "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"


static int
path(const char *uri, squash_api_path_t *p)
{
    return squash_api_path(uri, strlen(uri), p);
}


static void
test_routes(void **state)
{
    squash_api_path_t  p;

    (void) state;

    assert_int_equal(path("/v2/", &p), SQUASH_OK);
    assert_int_equal(p.route, SQUASH_API_BASE);

    assert_int_equal(path("/v2/team/app/manifests/v1.2", &p), SQUASH_OK);
    assert_int_equal(p.route, SQUASH_API_MANIFEST);
    assert_int_equal(p.name_len, 8);
    assert_memory_equal(p.name, "team/app", 8);
    assert_int_equal(p.reference_len, 4);
    assert_memory_equal(p.reference, "v1.2", 4);

    assert_int_equal(path("/v2/a/manifests/" DIGEST_A, &p), SQUASH_OK);
    assert_int_equal(p.reference_len, SQUASH_DIGEST_LEN);

    assert_int_equal(path("/v2/a/b/c/blobs/" DIGEST_A, &p), SQUASH_OK);
    assert_int_equal(p.route, SQUASH_API_BLOB);
    assert_int_equal(p.name_len, 5);

    /* a repository may be named like a route */
    assert_int_equal(path("/v2/blobs/manifests/manifests/v1", &p), SQUASH_OK);
    assert_int_equal(p.route, SQUASH_API_MANIFEST);
    assert_int_equal(p.name_len, 15);

    assert_int_equal(path("/v2/a/tags/list", &p), SQUASH_OK);
    assert_int_equal(p.route, SQUASH_API_TAGS);
    assert_int_equal(p.name_len, 1);
}


static void
test_refused(void **state)
{
    size_t              i;
    squash_api_path_t   p;

    static const struct {
        const char  *uri;
        int          rc;
        const char  *error;
    } bad[] = {
        { "/v1/", SQUASH_NOT_FOUND, "UNSUPPORTED" },
        { "/v2", SQUASH_NOT_FOUND, "UNSUPPORTED" },
        { "/v2/_catalog", SQUASH_NOT_FOUND, "UNSUPPORTED" },
        { "/v2/a/blobs/uploads/", SQUASH_NOT_FOUND, "UNSUPPORTED" },
        { "/v2/a/referrers/" DIGEST_A, SQUASH_NOT_FOUND, "UNSUPPORTED" },
        { "/v2/a/tags/other", SQUASH_NOT_FOUND, "UNSUPPORTED" },
        { "/v2/manifests/v1", SQUASH_NOT_FOUND, "UNSUPPORTED" },
        { "/v2//manifests/v1", SQUASH_NOT_FOUND, "UNSUPPORTED" },
        { "/v2/a//manifests/v1", SQUASH_ERROR, "NAME_INVALID" },
        { "/v2/A/manifests/v1", SQUASH_ERROR, "NAME_INVALID" },
        { "/v2/a/../b/manifests/v1", SQUASH_ERROR, "NAME_INVALID" },
        { "/v2/a/manifests/", SQUASH_ERROR, "MANIFEST_INVALID" },
        { "/v2/a/manifests/-v1", SQUASH_ERROR, "MANIFEST_INVALID" },
        { "/v2/a/manifests/sha256:abc", SQUASH_ERROR, "MANIFEST_INVALID" },
        { "/v2/a/blobs/v1", SQUASH_ERROR, "DIGEST_INVALID" },
        { "/v2/a/blobs/sha512:00", SQUASH_ERROR, "DIGEST_INVALID" },
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(path(bad[i].uri, &p), bad[i].rc);
        assert_string_equal(p.error, bad[i].error);
    }
}


static void
test_accept(void **state)
{
    const char  *a;

    (void) state;

    a = SQUASH_MT_DOCKER_MANIFEST ", " SQUASH_MT_OCI_MANIFEST ";q=0.9";
    assert_true(squash_api_accepts(a, strlen(a), SQUASH_MT_OCI_MANIFEST));
    assert_true(squash_api_accepts(a, strlen(a), SQUASH_MT_DOCKER_MANIFEST));
    assert_false(squash_api_accepts(a, strlen(a), SQUASH_MT_OCI_INDEX));

    /* whole items only, in any case; no wildcards */
    a = SQUASH_MT_OCI_MANIFEST "x, */*, application/*";
    assert_false(squash_api_accepts(a, strlen(a), SQUASH_MT_OCI_MANIFEST));
    a = "APPLICATION/VND.OCI.IMAGE.MANIFEST.V1+JSON";
    assert_true(squash_api_accepts(a, strlen(a), SQUASH_MT_OCI_MANIFEST));
    assert_false(squash_api_accepts("", 0, SQUASH_MT_OCI_MANIFEST));
}


static void
test_error(void **state)
{
    char    *e;
    size_t   len;

    (void) state;

    e = squash_api_error("BLOB_UNKNOWN", "blob \"x\" unknown", &len);
    assert_non_null(e);
    assert_string_equal(e, "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\","
                        "\"message\":\"blob \\\"x\\\" unknown\"}]}");
    assert_int_equal(len, strlen(e));
    free(e);
}


/* n and last of a tags list go to the registry, checked; others do not */

static void
test_tags_args(void **state)
{
    char         out[SQUASH_API_TAGS_ARGS_LEN];
    const char  *error;

#define ARGS(s)  squash_api_tags_args(s, sizeof(s) - 1, out, sizeof(out),   \
                                      &error)

    (void) state;

    assert_int_equal(ARGS(""), SQUASH_OK);
    assert_string_equal(out, "");

    assert_int_equal(ARGS("last=v1.0&x=1&n=20"), SQUASH_OK);
    assert_string_equal(out, "n=20&last=v1.0");

    assert_int_equal(ARGS("n=3"), SQUASH_OK);
    assert_string_equal(out, "n=3");

    assert_int_equal(ARGS("nn=3&lastly=x"), SQUASH_OK);
    assert_string_equal(out, "");

    assert_int_equal(ARGS("n=-1"), SQUASH_ERROR);
    assert_string_equal(error, "PAGINATION_NUMBER_INVALID");
    assert_int_equal(ARGS("n="), SQUASH_ERROR);
    assert_int_equal(ARGS("n=12345678901"), SQUASH_ERROR);

    assert_int_equal(ARGS("last=.x"), SQUASH_ERROR);
    assert_string_equal(error, "TAG_INVALID");
    assert_int_equal(ARGS("last=a%2Fb"), SQUASH_ERROR);

#undef ARGS
}


int
unit_distribution(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_accept),
        cmocka_unit_test(test_error),
        cmocka_unit_test(test_tags_args),
    };

    return cmocka_run_group_tests_name("distribution", tests, NULL, NULL);
}
