
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * squash-tartool: reads squashed archives with libarchive, for tests and
 * people.
 *
 *   squash-tartool list ARCHIVE           outer entries, in order
 *   squash-tartool cat ARCHIVE PATH       one outer entry's data
 *   squash-tartool layer ARCHIVE [--order]
 *                                         the entries of <id>/layer.tar,
 *                                         sorted by path (or in order)
 *   squash-tartool check ARCHIVE          "complete" when the archive is
 *                                         whole, its layer.tar's digest is
 *                                         the config's diff_id (with base
 *                                         layers kept, "complete: N
 *                                         layers", each layer's tar the
 *                                         diff_id for its place in
 *                                         manifest.json); else why not
 *   squash-tartool tree DIR               a canonical listing of a tree
 *
 * ARCHIVE may be "-" for standard input.
 */

#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>


static int
die(const char *what, struct archive *a)
{
    fprintf(stderr, "squash-tartool: %s: %s\n", what,
            a ? archive_error_string(a) : strerror(errno));
    exit(1);
}


static struct archive *
open_outer(const char *path)
{
    struct archive  *a;

    a = archive_read_new();
    archive_read_support_format_tar(a);

    if (archive_read_open_filename(a, strcmp(path, "-") ? path : NULL, 65536)
        != ARCHIVE_OK)
    {
        die(path, a);
    }

    return a;
}


static char
type_char(struct archive_entry *e)
{
    if (archive_entry_hardlink(e)) {
        return 'h';
    }

    switch (archive_entry_filetype(e)) {
    case AE_IFDIR:
        return 'd';
    case AE_IFLNK:
        return 'l';
    case AE_IFCHR:
        return 'c';
    case AE_IFBLK:
        return 'b';
    case AE_IFIFO:
        return 'p';
    default:
        return 'f';
    }
}


static void
hex(const unsigned char *p, size_t n, char *out)
{
    while (n--) {
        sprintf(out, "%02x", *p++);
        out += 2;
    }
}


/* content shown inline when short and printable, else its sha256 */

static void
print_content(FILE *out, const unsigned char *data, size_t n, int full_hash,
    const unsigned char *md)
{
    size_t  i;
    char    h[EVP_MAX_MD_SIZE * 2 + 1];

    for (i = 0; i < n && n <= 40; i++) {
        if ((data[i] < 0x20 && data[i] != '\n') || data[i] > 0x7e
            || data[i] == '\\')
        {
            break;
        }
    }

    if (n <= 40 && i == n) {
        fprintf(out, " =");

        for (i = 0; i < n; i++) {
            if (data[i] == '\n') {
                fprintf(out, "\\n");
            } else {
                fputc(data[i], out);
            }
        }

        return;
    }

    hex(md, 32, h);
    fprintf(out, " sha256:%.*s", full_hash ? 64 : 16, h);
}


typedef struct {
    char   *line;
    char   *path;
    ino_t   ino;        /* tree: hard-link groups */
    int     linked;
} row_t;


static int
row_cmp(const void *a, const void *b)
{
    return strcmp(((const row_t *) a)->path, ((const row_t *) b)->path);
}


static la_ssize_t
nested_read(struct archive *a, void *data, const void **buf)
{
    static char  block[65536];

    (void) a;
    *buf = block;

    return archive_read_data(data, block, sizeof(block));
}


static int
cmd_layer(const char *path, int order)
{
    char                  *line;
    size_t                 nrows, cap, len, n, size;
    row_t                 *rows;
    FILE                  *mem;
    unsigned char         *data, md[EVP_MAX_MD_SIZE];
    unsigned int           mdlen;
    const char            *name;
    struct archive        *outer, *inner;
    struct archive_entry  *e;

    outer = open_outer(path);

    for ( ;; ) {
        if (archive_read_next_header(outer, &e) != ARCHIVE_OK) {
            fprintf(stderr, "squash-tartool: no layer.tar in %s\n", path);
            return 1;
        }

        name = archive_entry_pathname(e);
        n = strlen(name);

        if (n > 10 && strcmp(name + n - 10, "/layer.tar") == 0
            && archive_entry_filetype(e) == AE_IFREG)
        {
            break;
        }
    }

    inner = archive_read_new();
    archive_read_support_format_tar(inner);

    if (archive_read_open(inner, outer, NULL, nested_read, NULL)
        != ARCHIVE_OK)
    {
        die("layer.tar", inner);
    }

    rows = NULL;
    nrows = 0;
    cap = 0;
    data = NULL;

    while (archive_read_next_header(inner, &e) == ARCHIVE_OK) {
        mem = open_memstream(&line, &len);

        fprintf(mem, "%c %04o %lld:%lld %lld %s", type_char(e),
                (unsigned) archive_entry_perm(e),
                (long long) archive_entry_uid(e),
                (long long) archive_entry_gid(e),
                (long long) archive_entry_size(e),
                archive_entry_pathname(e));

        if (archive_entry_hardlink(e)) {
            fprintf(mem, " -> %s", archive_entry_hardlink(e));

        } else if (archive_entry_symlink(e)) {
            fprintf(mem, " => %s", archive_entry_symlink(e));

        } else if (archive_entry_filetype(e) == AE_IFREG) {
            size = (size_t) archive_entry_size(e);
            data = realloc(data, size + 1);

            if (data == NULL
                || archive_read_data(inner, data, size) != (la_ssize_t) size)
            {
                die("layer.tar data", inner);
            }

            EVP_Digest(data, size, md, &mdlen, EVP_sha256(), NULL);
            print_content(mem, data, size, 0, md);
        }

        fclose(mem);

        if (nrows == cap) {
            cap = cap ? cap * 2 : 256;
            rows = realloc(rows, cap * sizeof(row_t));
        }

        rows[nrows].line = line;
        rows[nrows].path = strdup(archive_entry_pathname(e));
        nrows++;
    }

    if (archive_errno(inner) != 0) {
        die("layer.tar", inner);
    }

    if (!order) {
        qsort(rows, nrows, sizeof(row_t), row_cmp);
    }

    for (n = 0; n < nrows; n++) {
        printf("%s\n", rows[n].line);
    }

    return 0;
}


static int
cmd_list(const char *path)
{
    struct archive        *a;
    struct archive_entry  *e;

    a = open_outer(path);

    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        printf("%c %lld %s", type_char(e), (long long) archive_entry_size(e),
               archive_entry_pathname(e));

        if (archive_entry_symlink(e)) {
            printf(" => %s", archive_entry_symlink(e));
        }

        printf("\n");
    }

    return 0;
}


static int
cmd_cat(const char *path, const char *want)
{
    char                   buf[65536];
    la_ssize_t             n;
    struct archive        *a;
    struct archive_entry  *e;

    a = open_outer(path);

    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        if (strcmp(archive_entry_pathname(e), want) != 0) {
            continue;
        }

        while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
            fwrite(buf, 1, (size_t) n, stdout);
        }

        return 0;
    }

    fprintf(stderr, "squash-tartool: no %s in %s\n", want, path);

    return 1;
}


#define MAX_LAYERS  64

typedef struct {
    char  path[512];
    char  digest[72];
} layer_t;


/* the sha256 of a layer's tar, inflated where it is compressed */

static int
layer_digest(struct archive *outer, char *digest)
{
    char                   buf[65536];
    la_ssize_t             n;
    unsigned int           mdlen;
    unsigned char          md[EVP_MAX_MD_SIZE];
    EVP_MD_CTX            *sha;
    struct archive        *in;
    struct archive_entry  *e;

    in = archive_read_new();
    archive_read_support_filter_all(in);
    archive_read_support_format_raw(in);

    if (archive_read_open(in, outer, NULL, nested_read, NULL) != ARCHIVE_OK
        || archive_read_next_header(in, &e) != ARCHIVE_OK)
    {
        archive_read_free(in);
        return -1;
    }

    sha = EVP_MD_CTX_new();
    EVP_DigestInit_ex(sha, EVP_sha256(), NULL);

    while ((n = archive_read_data(in, buf, sizeof(buf))) > 0) {
        EVP_DigestUpdate(sha, buf, (size_t) n);
    }

    EVP_DigestFinal_ex(sha, md, &mdlen);
    EVP_MD_CTX_free(sha);
    archive_read_free(in);

    if (n < 0) {
        return -1;
    }

    strcpy(digest, "sha256:");
    hex(md, mdlen, digest + 7);

    return 0;
}


/*
 * An archive is complete when it reads to its end blocks without error,
 * and the config that manifest.json names has as its diff_ids the sha256
 * of each layer.tar that manifest.json lists, in its order.  (The config
 * follows manifest.json's lead: blobs seen before manifest.json are kept
 * only if they turn out to be the config.)
 */

static int
cmd_check(const char *path)
{
    char                   buf[65536], *cfg, *manifest, *want;
    size_t                 cfg_len, man_len, want_len;
    la_ssize_t             n;
    const char            *name;
    struct archive        *a;
    struct archive_entry  *e;
    int                    rc, i, k, layers, listed, is_manifest;
    char                   config_path[512], cfg_name[512];
    const char            *p, *q;
    FILE                  *mem;
    static layer_t         found[MAX_LAYERS];

    a = open_outer(path);
    cfg = NULL;
    manifest = NULL;
    layers = 0;
    config_path[0] = '\0';
    cfg_name[0] = '\0';

    while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        name = archive_entry_pathname(e);

        if (strlen(name) > 10
            && strcmp(name + strlen(name) - 10, "/layer.tar") == 0)
        {
            if (layers == MAX_LAYERS) {
                printf("wrong: more than %d layers\n", MAX_LAYERS);
                return 0;
            }

            snprintf(found[layers].path, sizeof(found[layers].path), "%s",
                     name);

            if (layer_digest(a, found[layers].digest) != 0) {
                printf("incomplete: %s: %s\n", name,
                       archive_error_string(a));
                return 0;
            }

            layers++;
            continue;
        }

        /* manifest.json names the config: keep it and the config blob */

        is_manifest = (strcmp(name, "manifest.json") == 0);

        if (is_manifest || (config_path[0] && strcmp(name, config_path) == 0)
            || (!config_path[0] && strncmp(name, "blobs/sha256/", 13) == 0
                && archive_entry_filetype(e) == AE_IFREG))
        {
            mem = open_memstream(is_manifest ? &manifest : &cfg,
                                 is_manifest ? &man_len : &cfg_len);

            while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
                fwrite(buf, 1, (size_t) n, mem);
            }

            fclose(mem);

            if (n < 0) {
                printf("incomplete: %s\n", archive_error_string(a));
                return 0;
            }

            if (is_manifest) {
                p = strstr(manifest, "\"Config\":\"");
                if (p) {
                    p += 10;
                    q = strchr(p, '"');
                    snprintf(config_path, sizeof(config_path), "%.*s",
                             q ? (int) (q - p) : 0, p);
                }
            }

            if (!is_manifest && !config_path[0]) {
                /* seen before manifest.json: remember which it was */
                snprintf(cfg_name, sizeof(cfg_name), "%s", name);
            }
        }
    }

    if (config_path[0] && cfg && cfg_name[0]
        && strcmp(cfg_name, config_path) != 0)
    {
        printf("wrong: the config kept is %s, manifest.json names %s\n",
               cfg_name, config_path);
        return 0;
    }

    if (rc != ARCHIVE_EOF) {
        printf("incomplete: %s\n", archive_error_string(a));
        return 0;
    }

    if (layers == 0 || manifest == NULL || cfg == NULL) {
        printf("incomplete: %d layers, manifest.json %s, config %s\n",
               layers, manifest ? "present" : "missing",
               cfg ? "present" : "missing");
        return 0;
    }

    /* the diff_ids manifest.json's "Layers" make, in its order */

    mem = open_memstream(&want, &want_len);
    fprintf(mem, "\"diff_ids\":[");

    p = strstr(manifest, "\"Layers\":[");
    p = p ? p + 10 : "]";
    listed = 0;

    while (*p == '"') {
        q = strchr(p + 1, '"');
        if (q == NULL) {
            break;
        }

        for (k = -1, i = 0; i < layers; i++) {
            if (strlen(found[i].path) == (size_t) (q - p - 1)
                && strncmp(found[i].path, p + 1, q - p - 1) == 0)
            {
                k = i;
            }
        }

        if (k < 0) {
            fclose(mem);
            printf("wrong: manifest.json lists %.*s, not in the archive\n",
                   (int) (q - p - 1), p + 1);
            return 0;
        }

        fprintf(mem, "%s\"%s\"", listed ? "," : "", found[k].digest);
        listed++;
        p = (q[1] == ',') ? q + 2 : q + 1;
    }

    fprintf(mem, "]");
    fclose(mem);

    if (listed != layers) {
        printf("wrong: manifest.json lists %d layers, the archive has %d\n",
               listed, layers);
        return 0;
    }

    if (strstr(cfg, want) == NULL) {
        printf("wrong: the layers are %s, not the config's diff_ids\n",
               want);
        return 0;
    }

    if (layers == 1) {
        printf("complete\n");

    } else {
        printf("complete: %d layers\n", layers);
    }

    return 0;
}


/* tree: type mode uid:gid size content link, sorted by path */

static const char  *tree_root;
static row_t       *tree_rows;
static size_t       tree_n, tree_cap;


static int
tree_visit(const char *fpath, const struct stat *st, int flag,
    struct FTW *ftw)
{
    char            *line, target[4096];
    char             t;
    size_t           len;
    ssize_t          n;
    FILE            *mem, *f;
    unsigned char   *data, md[EVP_MAX_MD_SIZE];
    unsigned int     mdlen;
    const char      *rel;

    (void) flag;
    (void) ftw;

    rel = fpath + strlen(tree_root);
    while (*rel == '/') {
        rel++;
    }

    if (*rel == '\0') {
        return 0;
    }

    t = S_ISDIR(st->st_mode) ? 'd' : S_ISLNK(st->st_mode) ? 'l'
        : S_ISCHR(st->st_mode) ? 'c' : S_ISBLK(st->st_mode) ? 'b'
        : S_ISFIFO(st->st_mode) ? 'p' : 'f';

    mem = open_memstream(&line, &len);

    fprintf(mem, "%c %04o %lld:%lld", t, (unsigned) (st->st_mode & 07777),
            (long long) st->st_uid, (long long) st->st_gid);

    if (t == 'f') {
        fprintf(mem, " %lld", (long long) st->st_size);

        if (st->st_nlink > 1) {
            fprintf(mem, " links=%lld", (long long) st->st_nlink);
        }

        data = malloc(st->st_size + 1);
        f = fopen(fpath, "r");

        if (data == NULL || f == NULL
            || fread(data, 1, st->st_size, f) != (size_t) st->st_size)
        {
            die(fpath, NULL);
        }

        fclose(f);
        EVP_Digest(data, st->st_size, md, &mdlen, EVP_sha256(), NULL);
        print_content(mem, data, st->st_size, 1, md);

        free(data);

    } else if (t == 'l') {
        n = readlink(fpath, target, sizeof(target) - 1);
        target[n < 0 ? 0 : n] = '\0';
        fprintf(mem, " => %s", target);

    } else if (t == 'c' || t == 'b') {
        fprintf(mem, " %u,%u", major(st->st_rdev), minor(st->st_rdev));
    }

    {
        char     names[4096], value[1024], *nm;
        ssize_t  nl, vl;

        nl = llistxattr(fpath, names, sizeof(names));

        for (nm = names; nl > 0 && nm < names + nl; nm += strlen(nm) + 1) {
            vl = lgetxattr(fpath, nm, value, sizeof(value) - 1);
            value[vl < 0 ? 0 : vl] = '\0';
            fprintf(mem, " xattr:%s=%s", nm, value);
        }
    }

    fprintf(mem, " %s", rel);
    fclose(mem);

    if (tree_n == tree_cap) {
        tree_cap = tree_cap ? tree_cap * 2 : 256;
        tree_rows = realloc(tree_rows, tree_cap * sizeof(row_t));
    }

    tree_rows[tree_n].line = line;
    tree_rows[tree_n].path = strdup(rel);
    tree_rows[tree_n].ino = st->st_ino;
    tree_rows[tree_n].linked = (t == 'f' && st->st_nlink > 1);
    tree_n++;

    return 0;
}


static int
cmd_tree(const char *dir)
{
    size_t  i, j;

    tree_root = dir;

    if (nftw(dir, tree_visit, 64, FTW_PHYS) != 0) {
        die(dir, NULL);
    }

    qsort(tree_rows, tree_n, sizeof(row_t), row_cmp);

    for (i = 0; i < tree_n; i++) {
        printf("%s", tree_rows[i].line);

        /* hard-link groups, named by their first path */
        if (tree_rows[i].linked) {
            for (j = 0; j < i; j++) {
                if (tree_rows[j].linked && tree_rows[j].ino == tree_rows[i].ino)
                {
                    break;
                }
            }

            printf(" group=%s", tree_rows[j].path);
        }

        printf("\n");
    }

    return 0;
}


int
main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "list") == 0) {
        return cmd_list(argv[2]);
    }

    if (argc == 4 && strcmp(argv[1], "cat") == 0) {
        return cmd_cat(argv[2], argv[3]);
    }

    if (argc >= 3 && strcmp(argv[1], "layer") == 0) {
        return cmd_layer(argv[2], argc > 3 && !strcmp(argv[3], "--order"));
    }

    if (argc == 3 && strcmp(argv[1], "check") == 0) {
        return cmd_check(argv[2]);
    }

    if (argc == 3 && strcmp(argv[1], "tree") == 0) {
        return cmd_tree(argv[2]);
    }

    fprintf(stderr, "usage: squash-tartool list|cat|layer|check|tree ...\n");

    return 2;
}
