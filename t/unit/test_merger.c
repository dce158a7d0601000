
/*
 * The merger's rules, one layer list at a time (layers top first).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "squash_merger.h"


/*
 * layers: entries separated by "|" between layers, top first; an entry is
 * "path" (file), "path/" (dir) or "@path" (symlink).  Returns the emitted
 * paths, space separated.
 */

static char *
merge(const char *spec)
{
    char                *copy, *layer, *e, *save1, *save2, *out;
    size_t               len;
    FILE                *f;
    squash_merger_t     *m;
    squash_tar_entry_t   te;
    int                  rc;

    m = squash_merger_create(1 << 24, NULL, NULL);
    assert_non_null(m);

    f = open_memstream(&out, &len);
    copy = strdup(spec);

    for (layer = strtok_r(copy, "|", &save1); layer;
         layer = strtok_r(NULL, "|", &save1))
    {
        squash_merger_begin_layer(m);

        for (e = strtok_r(layer, " ", &save2); e;
             e = strtok_r(NULL, " ", &save2))
        {
            memset(&te, 0, sizeof(te));
            te.type = SQUASH_TAR_REG;

            if (e[0] == '@') {
                te.type = SQUASH_TAR_SYM;
                e++;
            } else if (e[strlen(e) - 1] == '/') {
                te.type = SQUASH_TAR_DIR;
            }

            te.path = e;
            te.linkpath = "";

            rc = squash_merger_entry(m, &te);
            assert_int_not_equal(rc, SQUASH_ERROR);

            if (rc == SQUASH_MERGE_EMIT) {
                fprintf(f, "%s%s", ftell(f) ? " " : "", e);
            }
        }
    }

    fclose(f);
    free(copy);
    squash_merger_destroy(m);

    return out;
}


#define assert_merge(spec, want)                                              \
    do {                                                                      \
        char *got_ = merge(spec);                                             \
        assert_string_equal(got_, want);                                      \
        free(got_);                                                           \
    } while (0)


static void
test_first_wins(void **state)
{
    (void) state;
    assert_merge("a b | a c | ./c ./d", "a b c ./d");
}


static void
test_whiteout_lower_only(void **state)
{
    (void) state;

    /* a whiteout and its file in one layer: the file stays */
    assert_merge("x .wh.x | x", "x");
    assert_merge(".wh.x | x y", "y");
    assert_merge(".wh.x | y | x", "y");
    assert_merge("d/.wh.f | d/ d/f d/g", "d/ d/g");
}


static void
test_whiteout_by_component(void **state)
{
    (void) state;
    assert_merge(".wh.foo | foobar/x foo/y foo/..z foo", "foobar/x");
}


static void
test_opaque(void **state)
{
    (void) state;

    /* wherever the marker sits in its layer */
    assert_merge("d/a d/.wh..wh..opq | d/ d/b d/c/e e",
                 "d/a d/ e");
    assert_merge("d/.wh..wh..opq d/ d/a | d/ d/b", "d/ d/a");
    assert_merge("d/ d/a | d/.wh..wh..opq | d/b", "d/ d/a");
}


static void
test_nondir_hides_subtree(void **state)
{
    (void) state;
    assert_merge("foo | foo/ foo/bar", "foo");
    assert_merge("@foo | foo/ foo/bar foo/baz/qux", "foo");
    /* a directory replaces a file */
    assert_merge("foo/ foo/a | foo", "foo/ foo/a");
}


static void
test_unsafe_names(void **state)
{
    (void) state;
    assert_merge("../etc/passwd a/../../b ok /abs", "ok /abs");
}


static void
test_normalize(void **state)
{
    char  out[64];

    (void) state;

    assert_int_equal(squash_path_normalize("./a//b/./c/", out, sizeof(out)),
                     5);
    assert_string_equal(out, "a/b/c");
    assert_int_equal(squash_path_normalize("/", out, sizeof(out)), 0);
    assert_int_equal(squash_path_normalize("a/../b", out, sizeof(out)), -1);
    assert_int_equal(squash_path_normalize("..a/b..", out, sizeof(out)), 7);
}


static void
test_memory_limit(void **state)
{
    char                 path[32];
    int                  i, rc;
    squash_merger_t     *m;
    squash_tar_entry_t   te;

    (void) state;

    m = squash_merger_create(200 * 1024, NULL, NULL);
    squash_merger_begin_layer(m);

    memset(&te, 0, sizeof(te));
    te.type = SQUASH_TAR_REG;
    te.path = path;
    te.linkpath = "";

    for (i = 0; i < 100000; i++) {
        snprintf(path, sizeof(path), "f%d", i);
        rc = squash_merger_entry(m, &te);
        if (rc == SQUASH_ERROR) {
            break;
        }
    }

    assert_int_equal(rc, SQUASH_ERROR);
    assert_non_null(strstr(squash_merger_error(m), "exceeds 204800 bytes"));
    assert_true(squash_merger_memory(m) <= 200 * 1024);

    squash_merger_destroy(m);
}


int
unit_merger(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_first_wins),
        cmocka_unit_test(test_whiteout_lower_only),
        cmocka_unit_test(test_whiteout_by_component),
        cmocka_unit_test(test_opaque),
        cmocka_unit_test(test_nondir_hides_subtree),
        cmocka_unit_test(test_unsafe_names),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_memory_limit),
    };

    return cmocka_run_group_tests_name("merger", tests, NULL, NULL);
}
