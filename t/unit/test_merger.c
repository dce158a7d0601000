
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * The merger's rules, one layer list at a time (layers top first).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "squash_merger.h"


/*
 * layers: entries separated by "|" between layers, top first; an entry is
 * "path" (file), "path/" (dir), "@path" (symlink) or "path>target" (hard
 * link).  Returns what is written, space separated: "path" as it is,
 * "name<path" for an entry written under a held link's name, "path>target"
 * for hard links written later or rewritten, and "+N" when a second pass
 * over the layer is wanted for N links.
 */

/*
 * The second pass over a layer (whose text starts at offset in spec):
 * "=name<path" for an entry written again under a held link's name,
 * "=name>target" for the links to it
 */

static void
refetch(squash_merger_t *m, FILE *f, const char *spec, size_t offset)
{
    char                   *copy, *e, *save, *end;
    squash_link_t          *l;
    squash_tar_entry_t      te;
    squash_merge_result_t   res;

    copy = strdup(spec + offset);
    end = strchr(copy, '|');
    if (end) {
        *end = '\0';
    }

    squash_merger_begin_refetch(m);

    for (e = strtok_r(copy, " ", &save); e; e = strtok_r(NULL, " ", &save)) {
        memset(&te, 0, sizeof(te));
        te.type = strchr(e, '>') ? SQUASH_TAR_LNK : SQUASH_TAR_REG;
        te.path = e;
        te.linkpath = "";

        assert_int_equal(squash_merger_refetch_entry(m, &te, &res),
                         SQUASH_OK);

        if (res.action == SQUASH_MERGE_RENAME) {
            fprintf(f, " =%s<%s", res.rename->name, e);

            for (l = res.links; l; l = l->next) {
                fprintf(f, " =%s>%s", l->name, res.target);
            }
        }

        squash_merger_free_links(m, res.rename);
        squash_merger_free_links(m, res.links);
    }

    assert_int_equal(squash_merger_refetch_pending(m), 0);

    free(copy);
}


/*
 * As a diff over kept base layers (squash_merger_set_diff()): entries'
 * header records are their paths, and "~" then what restate writes (the
 * links to base files, the directories written again) end the result
 */

static int  unit_diff;


static char *
merge(const char *spec)
{
    char                   *copy, *layer, *e, *save1, *save2, *out, *gt;
    size_t                  len, pass2;
    FILE                   *f;
    squash_merger_t        *m;
    squash_tar_entry_t      te;
    squash_link_t          *l;
    squash_merge_result_t   res;
    int                     rc;

    squash_bytes_t          tail = { 0 };

    m = squash_merger_create(1 << 24, NULL, NULL);
    assert_non_null(m);

    if (unit_diff) {
        squash_merger_set_diff(m);
    }

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

            gt = strchr(e, '>');
            if (gt) {
                *gt = '\0';
                te.type = SQUASH_TAR_LNK;
                te.linkpath = gt + 1;
            }

            rc = squash_merger_entry(m, &te, (unsigned char *) e,
                                     unit_diff ? strlen(e) : 0, &res);
            assert_int_equal(rc, SQUASH_OK);

            switch (res.action) {
            case SQUASH_MERGE_EMIT:
                fprintf(f, "%s%s%s%s", ftell(f) ? " " : "", e,
                        gt ? ">" : "", gt ? te.linkpath : "");
                break;
            case SQUASH_MERGE_RENAME:
                fprintf(f, "%s%s<%s", ftell(f) ? " " : "", res.rename->name,
                        e);
                break;
            case SQUASH_MERGE_RELINK:
                fprintf(f, "%s%s>%s", ftell(f) ? " " : "", e, res.target);
                break;
            }

            for (l = res.links; l; l = l->next) {
                fprintf(f, "%s%s>%s", ftell(f) ? " " : "", l->name,
                        res.target);
            }

            squash_merger_free_links(m, res.rename);
            squash_merger_free_links(m, res.links);
        }

        pass2 = squash_merger_refetch_pending(m);

        if (pass2) {
            fprintf(f, "%s+%zu", ftell(f) ? " " : "", pass2);
            refetch(m, f, spec, layer - copy);
        }
    }

    /* links whose target never showed up are dropped at the end */

    squash_merger_finish(m);

    if (squash_merger_stats(m)->links_dropped) {
        fprintf(f, "%s-%llu", ftell(f) ? " " : "",
                (unsigned long long) squash_merger_stats(m)->links_dropped);
    }

    if (unit_diff) {
        assert_int_equal(squash_merger_restate(m, &tail), SQUASH_OK);
        fprintf(f, " ~%.*s", (int) tail.len, tail.data);
        squash_bytes_free(&tail);
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


#define assert_diff(spec, want)                                               \
    do {                                                                      \
        unit_diff = 1;                                                        \
        assert_merge(spec, want);                                             \
        unit_diff = 0;                                                        \
    } while (0)


/* merged over kept base layers: what may hide the base's entries stays */

static void
test_diff(void **state)
{
    (void) state;

    /* a whiteout of the base's file, above or beside a lower one's */
    assert_diff(".wh.x | y", ".wh.x y ~");
    assert_diff(".wh.x | x y", ".wh.x y ~");
    assert_diff("d/.wh.f | d/ d/f d/g", "d/.wh.f d/ d/g ~");

    /* a whiteout of what an upper layer wrote: a file replaces, a
     * directory is made opaque */
    assert_diff("x | .wh.x", "x ~");
    assert_diff("d/ d/a | .wh.d | d/b", "d/ d/a d/.wh..wh..opq<.wh.d ~");

    /* below a deleted directory, nothing more */
    assert_diff(".wh.d | d/.wh.x d/.wh..wh..opq", ".wh.d ~");

    /* opaque markers stay, once */
    assert_diff("d/.wh..wh..opq d/a | d/b", "d/.wh..wh..opq d/a ~");
    assert_diff("d/.wh..wh..opq | d/.wh..wh..opq d/x", "d/.wh..wh..opq ~");

    /* a link to a base file stays a link, written at the end */
    assert_diff("l>t | y", "y ~l");
    assert_merge("l>t | y", "y -1");
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
    char                   path[32];
    int                    i, rc;
    squash_merger_t       *m;
    squash_tar_entry_t     te;
    squash_merge_result_t  res;

    (void) state;

    m = squash_merger_create(200 * 1024, NULL, NULL);
    squash_merger_begin_layer(m);

    memset(&te, 0, sizeof(te));
    te.type = SQUASH_TAR_REG;
    te.path = path;
    te.linkpath = "";

    for (i = 0; i < 100000; i++) {
        snprintf(path, sizeof(path), "f%d", i);
        rc = squash_merger_entry(m, &te, NULL, 0, &res);
        if (rc == SQUASH_ERROR) {
            break;
        }
    }

    assert_int_equal(rc, SQUASH_ERROR);
    assert_non_null(strstr(squash_merger_error(m), "exceeds 204800 bytes"));
    assert_true(squash_merger_memory(m) <= 200 * 1024);

    squash_merger_destroy(m);
}


static void
test_links_same_layer(void **state)
{
    (void) state;

    /* target written before the link: as it is */
    assert_merge("t l>t", "t l>t");
    assert_merge("./t ./l>./t", "./t ./l>./t");
}


static void
test_link_to_lower_layer(void **state)
{
    (void) state;

    /* the link waits for its target, then follows it */
    assert_merge("l>t | t", "t l>t");
    /* target hidden below: the link takes its header and data */
    assert_merge("t l>t | t", "t l>t");
    assert_merge("l>t | .wh.t | t", "l<t");
}


static void
test_link_to_deleted(void **state)
{
    (void) state;

    /* Quay's case 27: the first link becomes the file, the next links
       to it; the target was hidden earlier in the layer: the second
       pass writes t under the first link's name */
    assert_merge(".wh.t | t l>t x m>t", "x +2 =l<t =m>l");
}


static void
test_link_to_shadowed_later(void **state)
{
    (void) state;

    /* a forward link within the layer, its target hidden from above */
    assert_merge("t | l>t t", "t l<t");
}


static void
test_link_chain(void **state)
{
    (void) state;

    /* l2 links to l1 which links to t below */
    assert_merge("l1>t l2>l1 | t", "t l1>t l2>t");
    /* the same with t deleted in between */
    assert_merge("l1>t l2>l1 | .wh.t | t", "l1<t l2>l1");
}


static void
test_link_dangling(void **state)
{
    (void) state;

    /* never a dangling link: dropped (and counted) at the end */
    assert_merge("l>nowhere | a", "a -1");
    assert_merge("l>../etc/passwd", "");
}


/* one entry of the current layer, its raw records being its path */

static void
put(squash_merger_t *m, char *path, int type)
{
    squash_tar_entry_t     te;
    squash_merge_result_t  res;

    memset(&te, 0, sizeof(te));
    te.type = type;
    te.path = path;
    te.linkpath = "";

    assert_int_equal(squash_merger_entry(m, &te, (unsigned char *) path,
                                         strlen(path), &res),
                     SQUASH_OK);
}


static void
test_restate(void **state)
{
    squash_bytes_t    out = { 0 };
    squash_merger_t  *m;

    (void) state;

    m = squash_merger_create(1 << 20, NULL, NULL);

    /* top: a/, a/b/, d/ and what is in them */
    squash_merger_begin_layer(m);
    put(m, "a/", SQUASH_TAR_DIR);
    put(m, "a/top", SQUASH_TAR_REG);
    put(m, "a/b/", SQUASH_TAR_DIR);
    put(m, "a/b/top", SQUASH_TAR_REG);
    put(m, "d/", SQUASH_TAR_DIR);

    /* below: a/ again (hidden), a/x goes into the upper a/; a/b/ gets
       nothing new; e/ is its own */
    squash_merger_begin_layer(m);
    put(m, "a/", SQUASH_TAR_DIR);
    put(m, "a/x", SQUASH_TAR_REG);
    put(m, "a/b/", SQUASH_TAR_DIR);
    put(m, "a/b/top", SQUASH_TAR_REG);
    put(m, "e/", SQUASH_TAR_DIR);
    put(m, "e/y", SQUASH_TAR_REG);

    /* further down: a subdirectory of d/ */
    squash_merger_begin_layer(m);
    put(m, "d/sub/", SQUASH_TAR_DIR);

    assert_int_equal(squash_merger_restate(m, &out), SQUASH_OK);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, "a/d/", 4);

    squash_bytes_free(&out);
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
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_nondir_hides_subtree),
        cmocka_unit_test(test_unsafe_names),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_memory_limit),
        cmocka_unit_test(test_links_same_layer),
        cmocka_unit_test(test_link_to_lower_layer),
        cmocka_unit_test(test_link_to_deleted),
        cmocka_unit_test(test_link_to_shadowed_later),
        cmocka_unit_test(test_link_chain),
        cmocka_unit_test(test_link_dangling),
        cmocka_unit_test(test_restate),
    };

    return cmocka_run_group_tests_name("merger", tests, NULL, NULL);
}
