
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * squash-mkimage: builds test and demo images from a small spec.
 *
 *   squash-mkimage SPEC OUTDIR
 *
 * For every image in SPEC it writes an OCI image layout (OUTDIR/oci, with
 * "<name, / as ->-<tag>" as the ref name, for skopeo and umoci) and prints
 * "NAME:TAG DIGEST REF"; OUTDIR/dir/REF is a skopeo "dir:" copy of the
 * image (any manifest type); the same blobs are also laid out like
 * the registry API (OUTDIR/registry/v2/<name>/{manifests,blobs}/...), so
 * that nginx can serve them as static files.
 *
 * Spec lines (layers in manifest order, bottom first):
 *
 *   image NAME:TAG            starts an image
 *   format oci|docker         manifest media types (default oci)
 *   compression gzip|none|zstd   for the layers that follow
 *   compression gzip-split N  gzip in two members, the first holding N
 *                             bytes of tar (an ISIZE that lies)
 *   compression gzip-header [hcrc] [extra=N] [name=N] [comment=N]
 *                             gzip whose header has an FHCRC, or an
 *                             FEXTRA, FNAME or FCOMMENT of N bytes
 *   env K=V | cmd ARG... | entrypoint ARG... | workdir DIR | user U
 *   config-set KEY JSON       any key of the config's "config" object
 *   layer                     starts a layer
 *   file PATH CONTENT         regular file; CONTENT is one word with
 *                             "\n" and "\ " escapes, "_" when empty
 *   file PATH CONTENT mode=0755 uid=1 gid=2
 *   dir PATH [mode=..]  symlink PATH TARGET  hardlink PATH TARGET
 *   whiteout PATH             PATH's dir/.wh.base
 *   opaque DIR                DIR/.wh..wh..opq
 *   bigfile PATH SIZE zero|random|text
 *   many DIR COUNT            COUNT small files DIR/fN (bookkeeping load)
 *   tarformat pax|gnu         header format of the layers that follow
 *   platform OS/ARCH[/VARIANT]   of the image (default linux/amd64)
 *   index NAME:TAG REF...     an image index of images made before
 *                             (REF: NAME:TAG), printed with a 4th field
 *                             "index"; push it with skopeo copy --all
 *   blob TEXT                 the layer blob is TEXT as is (broken layers)
 *   descsize N                the layer's descriptor says N bytes
 *   diffid TEXT               the config's diff_id of the layer is TEXT
 *   tarfile PATH              the layer's tar is the file PATH as it is
 *                             (hostile layers), compressed as set; a
 *                             relative PATH is under $SQUASH_MKIMAGE_FILES
 *   zero                      the layer blob is empty
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <zlib.h>
#include <zstd.h>

#include "squash_archive.h"


#define MTIME   1700000000


typedef struct {
    FILE           *f;
    char            tmp[4096];
    EVP_MD_CTX     *raw;        /* diff_id */
    EVP_MD_CTX     *blob;       /* digest */
    int             comp;
    z_stream        zs;
    ZSTD_CCtx      *zc;
    unsigned char   buf[65536];
    long long       size;
    int             literal;
    int             mtcomp;     /* what the media type says */
    long long       split;      /* gzip: end the first member here */
    gz_header       gzh;        /* gzip-header: its fields */
    unsigned char  *gzfields;
    long long       raw_total;
    long long       desc_size;  /* the descriptor's size, if it lies */
    char           *diff_id;    /* the config's diff_id, if it lies */
} layer_t;


typedef struct {
    char            name[256];
    char            tag[128];
    char            os[32];
    char            arch[32];
    char            variant[32];
    int             docker;
    int             comp;
    long long       split;
    int             gzhcrc;     /* gzip-header: FHCRC, and the lengths */
    long            gzlen[3];   /* of FEXTRA, FNAME, FCOMMENT (-1: none) */
    int             gnu;
    json_t         *cfg;        /* the "config" object */
    json_t         *layers;     /* descriptors */
    json_t         *diff_ids;
    layer_t        *layer;
    struct archive *ar;
} image_t;


static const char  *outdir;       /* kept short: paths are built on it */
static json_t      *oci_index;
static json_t      *made;         /* "name:tag" -> manifest descriptor */


static void
die(const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    fprintf(stderr, "squash-mkimage: ");
    vfprintf(stderr, fmt, args);
    fprintf(stderr, "\n");
    va_end(args);
    exit(1);
}


static void
mkdirs(const char *path)
{
    char  tmp[4096], *p;

    snprintf(tmp, sizeof(tmp), "%s", path);

    for (p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }

    mkdir(tmp, 0755);
}


static void
sha_hex(EVP_MD_CTX *c, char *hex)
{
    unsigned char  md[EVP_MAX_MD_SIZE];
    unsigned int   n;

    EVP_DigestFinal_ex(c, md, &n);
    squash_hex(md, n, hex);
}


static void
blob_write(layer_t *l, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, l->f) != n) {
        die("write: %s", strerror(errno));
    }

    EVP_DigestUpdate(l->blob, p, n);
    l->size += n;
}


static void
layer_feed(layer_t *l, const void *p, size_t n, int finish)
{
    ZSTD_inBuffer   ib;
    ZSTD_outBuffer  ob;
    size_t          rc;

    if (l->split && l->raw_total < l->split
        && l->raw_total + (long long) n >= l->split)
    {
        size_t  first = (size_t) (l->split - l->raw_total);

        l->split = 0;
        layer_feed(l, p, first, 1);
        deflateReset(&l->zs);
        p = (const char *) p + first;
        n -= first;
    }

    l->raw_total += n;
    EVP_DigestUpdate(l->raw, p, n);

    switch (l->comp) {

    case 1:
        l->zs.next_in = (unsigned char *) p;
        l->zs.avail_in = n;

        do {
            l->zs.next_out = l->buf;
            l->zs.avail_out = sizeof(l->buf);
            deflate(&l->zs, finish ? Z_FINISH : Z_NO_FLUSH);
            blob_write(l, l->buf, sizeof(l->buf) - l->zs.avail_out);
        } while (l->zs.avail_out == 0);

        break;

    case 2:
        ib.src = p;
        ib.size = n;
        ib.pos = 0;

        do {
            ob.dst = l->buf;
            ob.size = sizeof(l->buf);
            ob.pos = 0;
            rc = ZSTD_compressStream2(l->zc, &ob, &ib,
                                      finish ? ZSTD_e_end : ZSTD_e_continue);
            if (ZSTD_isError(rc)) {
                die("zstd: %s", ZSTD_getErrorName(rc));
            }

            blob_write(l, l->buf, ob.pos);
        } while (finish ? rc != 0 : ib.pos < ib.size);

        break;

    default:
        blob_write(l, p, n);
    }
}


/* a layer's tar from a file, byte for byte */

static void
tar_file(layer_t *l, const char *p)
{
    char        path[4096], buf[65536];
    size_t      n;
    FILE       *f;
    const char *dir;

    while (*p == ' ') {
        p++;
    }

    dir = getenv("SQUASH_MKIMAGE_FILES");

    if (*p == '/' || dir == NULL) {
        snprintf(path, sizeof(path), "%s", p);

    } else {
        snprintf(path, sizeof(path), "%s/%s", dir, p);
    }

    f = fopen(path, "rb");
    if (f == NULL) {
        die("%s: %s", path, strerror(errno));
    }

    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        layer_feed(l, buf, n, 0);
    }

    fclose(f);
}


static la_ssize_t
ar_write(struct archive *a, void *data, const void *buf, size_t n)
{
    (void) a;
    layer_feed(data, buf, n, 0);
    return (la_ssize_t) n;
}


static void
layer_begin(image_t *im, int literal)
{
    layer_t  *l;

    l = calloc(1, sizeof(layer_t));
    l->literal = literal;
    l->desc_size = -1;
    l->mtcomp = im->comp;
    l->split = literal ? 0 : im->split;
    l->comp = literal == 1 ? 0 : im->comp;
    l->raw = EVP_MD_CTX_new();
    l->blob = EVP_MD_CTX_new();
    EVP_DigestInit_ex(l->raw, EVP_sha256(), NULL);
    EVP_DigestInit_ex(l->blob, EVP_sha256(), NULL);

    snprintf(l->tmp, sizeof(l->tmp), "%s/oci/blobs/sha256/tmp.XXXXXX",
             outdir);
    l->f = fdopen(mkstemp(l->tmp), "w");
    if (l->f == NULL || fchmod(fileno(l->f), 0644) != 0) {
        die("mkstemp: %s", strerror(errno));
    }

    if (l->comp == 1) {
        /* mtime 0 in the gzip header: reproducible blobs */
        deflateInit2(&l->zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);

        if (im->gzhcrc || im->gzlen[0] >= 0 || im->gzlen[1] >= 0
            || im->gzlen[2] >= 0)
        {
            /* one buffer of 'f' for all three fields, NUL-ended */
            l->gzfields = malloc(65536 + 1);
            memset(l->gzfields, 'f', 65536);
            l->gzfields[65536] = '\0';

            l->gzh.hcrc = im->gzhcrc;
            l->gzh.os = 255;

            if (im->gzlen[0] >= 0) {
                l->gzh.extra = l->gzfields;
                l->gzh.extra_len = (uInt) im->gzlen[0];
            }

            if (im->gzlen[1] >= 0) {
                l->gzh.name = l->gzfields + 65536 - im->gzlen[1];
            }

            if (im->gzlen[2] >= 0) {
                l->gzh.comment = l->gzfields + 65536 - im->gzlen[2];
            }

            deflateSetHeader(&l->zs, &l->gzh);
        }
    } else if (l->comp == 2) {
        l->zc = ZSTD_createCCtx();
    }

    im->layer = l;

    if (literal) {
        return;
    }

    im->ar = archive_write_new();
    if (im->gnu) {
        archive_write_set_format_gnutar(im->ar);
    } else {
        archive_write_set_format_pax_restricted(im->ar);
    }
    archive_write_set_bytes_per_block(im->ar, 10240);
    archive_write_open(im->ar, l, NULL, ar_write, NULL);
}


static json_t *
file_blob(const char *tmp, EVP_MD_CTX *c, long long size, const char *mt)
{
    char  hex[65], path[4096];

    sha_hex(c, hex);
    snprintf(path, sizeof(path), "%s/oci/blobs/sha256/%s", outdir, hex);

    if (rename(tmp, path) != 0) {
        die("rename %s: %s", tmp, strerror(errno));
    }

    return json_pack("{s:s, s:s+, s:I}", "mediaType", mt, "digest",
                     "sha256:", hex, "size", (json_int_t) size);
}


static void
layer_end(image_t *im)
{
    char         hex[65];
    layer_t     *l;
    const char  *mt;

    l = im->layer;
    if (l == NULL) {
        return;
    }

    if (!l->literal) {
        archive_write_close(im->ar);
        archive_write_free(im->ar);
        im->ar = NULL;
    }

    if (l->literal != 1) {
        layer_feed(l, "", 0, 1);
    }

    if (l->comp == 1) {
        deflateEnd(&l->zs);
        free(l->gzfields);
    } else if (l->comp == 2) {
        ZSTD_freeCCtx(l->zc);
    }

    fclose(l->f);

    if (im->docker) {
        mt = l->mtcomp == 1
             ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
           : l->mtcomp == 2
             ? "application/vnd.docker.image.rootfs.diff.tar.zstd"
           : "application/vnd.docker.image.rootfs.diff.tar";
    } else {
        mt = l->mtcomp == 1 ? "application/vnd.oci.image.layer.v1.tar+gzip"
           : l->mtcomp == 2 ? "application/vnd.oci.image.layer.v1.tar+zstd"
           : "application/vnd.oci.image.layer.v1.tar";
    }

    json_array_append_new(im->layers,
                          file_blob(l->tmp, l->blob,
                                    l->desc_size >= 0 ? l->desc_size
                                                      : l->size, mt));

    sha_hex(l->raw, hex);

    if (l->diff_id) {
        json_array_append_new(im->diff_ids, json_string(l->diff_id));
        free(l->diff_id);

    } else {
        json_array_append_new(im->diff_ids, json_pack("s+", "sha256:", hex));
    }

    EVP_MD_CTX_free(l->raw);
    EVP_MD_CTX_free(l->blob);
    free(l);
    im->layer = NULL;
}


static json_t *
write_doc(json_t *doc, const char *mt)
{
    char        *s, hex[65], path[4096];
    FILE        *f;
    size_t       n;
    json_t      *d;

    s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    n = strlen(s);
    squash_sha256_hex(s, n, hex);

    snprintf(path, sizeof(path), "%s/oci/blobs/sha256/%s", outdir, hex);
    f = fopen(path, "w");
    if (f == NULL || fwrite(s, 1, n, f) != n || fclose(f) != 0) {
        die("write %s", path);
    }

    d = json_pack("{s:s, s:s+, s:I}", "mediaType", mt, "digest", "sha256:",
                  hex, "size", (json_int_t) n);
    free(s);

    return d;
}


static void
link_blob(const char *regdir, const char *digest)
{
    char  src[4096], dst[4096];

    snprintf(src, sizeof(src), "%s/oci/blobs/sha256/%s", outdir, digest + 7);
    snprintf(dst, sizeof(dst), "%s/blobs/%s", regdir, digest);

    unlink(dst);
    if (link(src, dst) != 0) {
        die("link %s: %s", dst, strerror(errno));
    }
}


static void
dir_link(const char *dir, const char *name, const char *digest)
{
    char  src[4096], dst[4096];

    snprintf(src, sizeof(src), "%s/oci/blobs/sha256/%s", outdir, digest + 7);
    snprintf(dst, sizeof(dst), "%s/%s", dir, name ? name : digest + 7);

    unlink(dst);
    if (link(src, dst) != 0) {
        die("link %s: %s", dst, strerror(errno));
    }
}


static void
write_dir_image(const char *dir, json_t *md, json_t *cd, json_t *layers)
{
    char     path[4096];
    FILE    *f;
    size_t   i;
    json_t  *l;

    dir_link(dir, "manifest.json",
             json_string_value(json_object_get(md, "digest")));
    dir_link(dir, NULL, json_string_value(json_object_get(cd, "digest")));

    json_array_foreach(layers, i, l) {
        dir_link(dir, NULL, json_string_value(json_object_get(l, "digest")));
    }

    snprintf(path, sizeof(path), "%s/version", dir);
    f = fopen(path, "w");
    if (f == NULL) {
        die("write %s", path);
    }

    fputs("Directory Transport Version: 1.1\n", f);
    fclose(f);
}


static void
image_end(image_t *im)
{
    char        regdir[2048], path[4096], ref[512], *p;
    size_t      i;
    json_t     *config, *cd, *manifest, *md, *l, *d;
    const char *mt;

    if (im->name[0] == '\0') {
        return;
    }

    layer_end(im);

    config = json_pack("{s:s, s:s, s:s, s:O, s:{s:s, s:O}, s:[{s:s, s:s}]}",
                       "architecture", im->arch[0] ? im->arch : "amd64",
                       "os", im->os[0] ? im->os : "linux",
                       "created", "2023-11-14T22:13:20Z", "config", im->cfg,
                       "rootfs", "type", "layers", "diff_ids", im->diff_ids,
                       "history", "created", "2023-11-14T22:13:20Z",
                       "created_by", "squash-mkimage");

    if (im->variant[0]) {
        json_object_set_new(config, "variant", json_string(im->variant));
    }

    cd = write_doc(config, im->docker
                           ? "application/vnd.docker.container.image.v1+json"
                           : "application/vnd.oci.image.config.v1+json");

    mt = im->docker ? "application/vnd.docker.distribution.manifest.v2+json"
                    : "application/vnd.oci.image.manifest.v1+json";

    manifest = json_pack("{s:i, s:s, s:O, s:O}", "schemaVersion", 2,
                         "mediaType", mt, "config", cd, "layers", im->layers);
    md = write_doc(manifest, mt);

    /* one layout holds many images: "<name with - for />-<tag>" */

    snprintf(ref, sizeof(ref), "%s-%s", im->name, im->tag);
    for (p = ref; *p; p++) {
        if (*p == '/') {
            *p = '-';
        }
    }

    {
        char    key[512];
        json_t *pl;

        pl = json_pack("{s:s, s:s}", "os", im->os[0] ? im->os : "linux",
                       "architecture", im->arch[0] ? im->arch : "amd64");
        if (im->variant[0]) {
            json_object_set_new(pl, "variant", json_string(im->variant));
        }

        snprintf(key, sizeof(key), "%s:%s", im->name, im->tag);
        json_object_set_new(made, key,
                            json_pack("{s:o, s:o}", "desc",
                                      json_deep_copy(md), "platform", pl));
    }

    json_object_set_new(md, "annotations",
                        json_pack("{s:s}", "org.opencontainers.image.ref.name",
                                  ref));
    json_array_append(json_object_get(oci_index, "manifests"), md);

    /* the registry API layout */

    snprintf(regdir, sizeof(regdir), "%s/registry/v2/%s", outdir, im->name);
    snprintf(path, sizeof(path), "%s/blobs", regdir);
    mkdirs(path);
    snprintf(path, sizeof(path), "%s/manifests", regdir);
    mkdirs(path);

    link_blob(regdir, json_string_value(json_object_get(cd, "digest")));

    json_array_foreach(im->layers, i, l) {
        link_blob(regdir, json_string_value(json_object_get(l, "digest")));
    }

    d = json_object_get(md, "digest");

    snprintf(path, sizeof(path), "%s/oci/blobs/sha256/%s", outdir,
             json_string_value(d) + 7);

    {
        char  dst[4096];

        snprintf(dst, sizeof(dst), "%s/manifests/%s", regdir, im->tag);
        unlink(dst);
        if (link(path, dst) != 0) {
            die("link %s: %s", dst, strerror(errno));
        }

        snprintf(dst, sizeof(dst), "%s/manifests/%s", regdir,
                 json_string_value(d));
        unlink(dst);
        if (link(path, dst) != 0) {
            die("link %s: %s", dst, strerror(errno));
        }
    }

    /* and a skopeo "dir:" copy, which takes any manifest type */

    snprintf(regdir, sizeof(regdir), "%s/dir/%s", outdir, ref);
    mkdirs(regdir);
    write_dir_image(regdir, md, cd, im->layers);

    printf("%s:%s %s %s\n", im->name, im->tag, json_string_value(d), ref);

    json_decref(config);
    json_decref(cd);
    json_decref(manifest);
    json_decref(md);
    json_decref(im->cfg);
    json_decref(im->layers);
    json_decref(im->diff_ids);
    memset(im, 0, sizeof(image_t));
}


static void
unescape(char *s)
{
    char  *d;

    for (d = s; *s; s++) {
        if (s[0] == '\\' && s[1] == 'n') {
            *d++ = '\n';
            s++;
        } else if (s[0] == '\\' && (s[1] == '\\' || s[1] == ' ')) {
            *d++ = s[1];
            s++;
        } else {
            *d++ = *s;
        }
    }

    *d = '\0';
}


/* splits off the next space-separated word */
static char *
word(char **p)
{
    char  *w;

    while (**p == ' ') {
        (*p)++;
    }

    if (**p == '\0') {
        return NULL;
    }

    w = *p;

    while (**p && **p != ' ') {
        if (**p == '\\' && (*p)[1]) {
            (*p)++;
        }

        (*p)++;
    }

    if (**p) {
        *(*p)++ = '\0';
    }

    return w;
}


static void
attrs(struct archive_entry *e, char *rest, int mode)
{
    char  *w;

    archive_entry_set_perm(e, mode);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, MTIME, 0);

    while (rest && (w = word(&rest)) != NULL) {
        if (strncmp(w, "mode=", 5) == 0) {
            archive_entry_set_perm(e, strtol(w + 5, NULL, 8));
        } else if (strncmp(w, "uid=", 4) == 0) {
            archive_entry_set_uid(e, strtol(w + 4, NULL, 10));
        } else if (strncmp(w, "gid=", 4) == 0) {
            archive_entry_set_gid(e, strtol(w + 4, NULL, 10));
        } else if (strncmp(w, "xattr=", 6) == 0) {
            char  *eq = strchr(w + 6, '=');

            if (eq) {
                *eq = '\0';
                archive_entry_xattr_add_entry(e, w + 6, eq + 1,
                                              strlen(eq + 1));
            }
        } else {
            die("unknown attribute \"%s\"", w);
        }
    }
}


static void
put(image_t *im, struct archive_entry *e, const void *data, size_t n)
{
    if (im->layer == NULL || im->layer->literal) {
        die("entry outside of a tar layer");
    }

    if (archive_write_header(im->ar, e) != ARCHIVE_OK) {
        die("libarchive: %s", archive_error_string(im->ar));
    }

    if (n && archive_write_data(im->ar, data, n) != (la_ssize_t) n) {
        die("libarchive: %s", archive_error_string(im->ar));
    }

    archive_entry_free(e);
}


static void
entry_line(image_t *im, char *cmd, char *rest)
{
    char                  *path, *arg, *p;
    long long              size, left;
    unsigned long long     x;
    unsigned char          buf[65536];
    size_t                 i, n;
    struct archive_entry  *e;

    path = word(&rest);
    if (path == NULL) {
        die("%s needs a path", cmd);
    }

    e = archive_entry_new();

    if (strcmp(cmd, "file") == 0) {
        arg = word(&rest);

        /* content is one word; "_" alone means empty */
        if (arg == NULL || strcmp(arg, "_") == 0) {
            arg = path + strlen(path);
        }

        unescape(arg);
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, strlen(arg));
        attrs(e, rest, 0644);
        put(im, e, arg, strlen(arg));

    } else if (strcmp(cmd, "dir") == 0) {
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, AE_IFDIR);
        attrs(e, rest, 0755);
        put(im, e, NULL, 0);

    } else if (strcmp(cmd, "symlink") == 0 || strcmp(cmd, "hardlink") == 0) {
        arg = word(&rest);
        if (arg == NULL) {
            die("%s needs a target", cmd);
        }

        archive_entry_set_pathname(e, path);

        if (cmd[0] == 's') {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, arg);
            attrs(e, rest, 0777);

        } else {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, arg);
            attrs(e, rest, 0644);
        }

        put(im, e, NULL, 0);

    } else if (strcmp(cmd, "whiteout") == 0 || strcmp(cmd, "opaque") == 0) {
        char  name[8192];

        p = strrchr(path, '/');

        if (cmd[0] == 'o') {
            snprintf(name, sizeof(name), "%s/.wh..wh..opq", path);
        } else if (p) {
            snprintf(name, sizeof(name), "%.*s/.wh.%s", (int) (p - path),
                     path, p + 1);
        } else {
            snprintf(name, sizeof(name), ".wh.%s", path);
        }

        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, 0);
        attrs(e, rest, 0644);
        put(im, e, NULL, 0);

    } else if (strcmp(cmd, "many") == 0) {
        char   name[8192];
        long   count, k;

        arg = word(&rest);
        count = arg ? strtol(arg, NULL, 10) : 0;

        for (k = 0; k < count; k++) {
            if (k) {
                e = archive_entry_new();
            }

            snprintf(name, sizeof(name), "%s/f%ld", path, k);
            archive_entry_set_pathname(e, name);
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, 2);
            attrs(e, NULL, 0644);
            put(im, e, "x\n", 2);
        }

        if (count == 0) {
            archive_entry_free(e);
        }

    } else if (strcmp(cmd, "bigfile") == 0) {
        arg = word(&rest);
        size = arg ? strtoll(arg, NULL, 10) : 0;
        arg = word(&rest);
        x = 0x9e3779b97f4a7c15ULL;

        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, size);
        attrs(e, rest, 0644);

        if (archive_write_header(im->ar, e) != ARCHIVE_OK) {
            die("libarchive: %s", archive_error_string(im->ar));
        }

        memset(buf, 0, sizeof(buf));

        for (left = size; left > 0; left -= n) {
            n = left > (long long) sizeof(buf) ? sizeof(buf) : (size_t) left;

            if (arg && strcmp(arg, "random") == 0) {
                for (i = 0; i < n; i++) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    buf[i] = (unsigned char) x;
                }

            } else if (arg && strcmp(arg, "text") == 0) {
                /* words of a small vocabulary: compresses about 3:1 */
                for (i = 0; i < n; i++) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    buf[i] = (x % 7 == 0) ? ' ' : (x % 53 == 0) ? '\n'
                             : "etaoinshrdlucmfw"[(x >> 8) & 15];
                }
            }

            if (archive_write_data(im->ar, buf, n) != (la_ssize_t) n) {
                die("libarchive: %s", archive_error_string(im->ar));
            }
        }

        archive_entry_free(e);

    } else {
        die("unknown line \"%s\"", cmd);
    }
}


/* an OCI image index of images made before */

static void
write_index(char *p)
{
    char        *ref, *w, path[4096], dst[4096], regdir[2048], ociref[512],
                *c;
    json_t      *ix, *list, *m, *d, *desc;

    ref = word(&p);
    if (ref == NULL || strchr(ref, ':') == NULL) {
        die("index needs NAME:TAG");
    }

    list = json_array();

    while ((w = word(&p)) != NULL) {
        m = json_object_get(made, w);
        if (m == NULL) {
            die("index: no image %s made before", w);
        }

        desc = json_deep_copy(json_object_get(m, "desc"));
        json_object_set(desc, "platform", json_object_get(m, "platform"));
        json_array_append_new(list, desc);
    }

    ix = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType",
                   "application/vnd.oci.image.index.v1+json",
                   "manifests", list);
    d = write_doc(ix, "application/vnd.oci.image.index.v1+json");

    *strchr(ref, ':') = '\0';

    snprintf(ociref, sizeof(ociref), "%s-%s", ref, ref + strlen(ref) + 1);
    for (c = ociref; *c; c++) {
        if (*c == '/') {
            *c = '-';
        }
    }

    json_object_set_new(d, "annotations",
                        json_pack("{s:s}", "org.opencontainers.image.ref.name",
                                  ociref));
    json_array_append(json_object_get(oci_index, "manifests"), d);

    /* in the registry layout: manifests/<tag> and manifests/<digest> */

    snprintf(regdir, sizeof(regdir), "%s/registry/v2/%s/manifests", outdir,
             ref);
    mkdirs(regdir);
    snprintf(path, sizeof(path), "%s/oci/blobs/sha256/%s", outdir,
             json_string_value(json_object_get(d, "digest")) + 7);

    snprintf(dst, sizeof(dst), "%s/%s", regdir, ref + strlen(ref) + 1);
    unlink(dst);
    if (link(path, dst) != 0) {
        die("link %s: %s", dst, strerror(errno));
    }

    snprintf(dst, sizeof(dst), "%s/%s", regdir,
             json_string_value(json_object_get(d, "digest")));
    unlink(dst);
    if (link(path, dst) != 0) {
        die("link %s: %s", dst, strerror(errno));
    }

    printf("%s:%s %s %s index\n", ref, ref + strlen(ref) + 1,
           json_string_value(json_object_get(d, "digest")), ociref);

    json_decref(ix);
    json_decref(d);
}


int
main(int argc, char **argv)
{
    int       i;
    char      line[65536], path[4096], *p, *cmd, *w;
    FILE     *spec, *f;
    image_t   im;
    json_t   *arr, *v;

    if (argc != 3) {
        fprintf(stderr, "usage: squash-mkimage SPEC OUTDIR\n");
        return 2;
    }

    outdir = argv[2];

    spec = strcmp(argv[1], "-") ? fopen(argv[1], "r") : stdin;
    if (spec == NULL) {
        die("%s: %s", argv[1], strerror(errno));
    }

    snprintf(path, sizeof(path), "%s/oci/blobs/sha256", outdir);
    mkdirs(path);

    oci_index = json_pack("{s:i, s:[]}", "schemaVersion", 2, "manifests");
    made = json_object();
    memset(&im, 0, sizeof(image_t));

    while (fgets(line, sizeof(line), spec)) {
        line[strcspn(line, "\r\n")] = '\0';
        p = line;
        cmd = word(&p);

        if (cmd == NULL || cmd[0] == '#') {
            continue;
        }

        if (strcmp(cmd, "index") == 0) {
            image_end(&im);
            write_index(p);
            continue;
        }

        if (strcmp(cmd, "image") == 0) {
            image_end(&im);
            w = word(&p);
            if (w == NULL || strchr(w, ':') == NULL) {
                die("image needs NAME:TAG");
            }

            *strchr(w, ':') = '\0';
            snprintf(im.name, sizeof(im.name), "%s", w);
            snprintf(im.tag, sizeof(im.tag), "%s", w + strlen(w) + 1);
            im.comp = 1;
            im.gzhcrc = 0;
            im.gzlen[0] = im.gzlen[1] = im.gzlen[2] = -1;
            im.cfg = json_object();
            im.layers = json_array();
            im.diff_ids = json_array();
            continue;
        }

        if (im.name[0] == '\0') {
            die("\"%s\" before any image", cmd);
        }

        if (strcmp(cmd, "format") == 0) {
            w = word(&p);
            im.docker = w && strcmp(w, "docker") == 0;

        } else if (strcmp(cmd, "compression") == 0) {
            w = word(&p);
            im.comp = !w ? 1 : strcmp(w, "none") == 0 ? 0
                    : strcmp(w, "zstd") == 0 ? 2 : 1;
            im.split = 0;
            im.gzhcrc = 0;
            im.gzlen[0] = im.gzlen[1] = im.gzlen[2] = -1;

            if (w && strcmp(w, "gzip-split") == 0) {
                w = word(&p);
                im.split = w ? strtoll(w, NULL, 10) : 0;
            }

            if (w && strcmp(w, "gzip-header") == 0) {
                while ((w = word(&p)) != NULL) {
                    if (strcmp(w, "hcrc") == 0) {
                        im.gzhcrc = 1;

                    } else if (strncmp(w, "extra=", 6) == 0) {
                        im.gzlen[0] = strtol(w + 6, NULL, 10);

                    } else if (strncmp(w, "name=", 5) == 0) {
                        im.gzlen[1] = strtol(w + 5, NULL, 10);

                    } else if (strncmp(w, "comment=", 8) == 0) {
                        im.gzlen[2] = strtol(w + 8, NULL, 10);

                    } else {
                        die("compression gzip-header: \"%s\"?", w);
                    }
                }

                for (i = 0; i < 3; i++) {
                    if (im.gzlen[i] < -1 || im.gzlen[i] > 65535) {
                        die("compression gzip-header: 0 to 65535 bytes");
                    }
                }
            }

        } else if (strcmp(cmd, "env") == 0 || strcmp(cmd, "cmd") == 0
                   || strcmp(cmd, "entrypoint") == 0)
        {
            const char  *key = cmd[0] == 'e' && cmd[1] == 'n' && cmd[2] == 'v'
                               && cmd[3] == '\0' ? "Env"
                               : cmd[0] == 'c' ? "Cmd" : "Entrypoint";

            arr = json_object_get(im.cfg, key);
            if (arr == NULL) {
                arr = json_array();
                json_object_set_new(im.cfg, key, arr);
            }

            while ((w = word(&p)) != NULL) {
                json_array_append_new(arr, json_string(w));
            }

        } else if (strcmp(cmd, "platform") == 0) {
            char  *slash;

            w = word(&p);
            if (w == NULL || (slash = strchr(w, '/')) == NULL) {
                die("platform OS/ARCH[/VARIANT]");
            }

            *slash++ = '\0';
            snprintf(im.os, sizeof(im.os), "%s", w);
            w = strchr(slash, '/');
            if (w) {
                *w++ = '\0';
                snprintf(im.variant, sizeof(im.variant), "%s", w);
            }
            snprintf(im.arch, sizeof(im.arch), "%s", slash);

        } else if (strcmp(cmd, "tarformat") == 0) {
            w = word(&p);
            im.gnu = w && strcmp(w, "gnu") == 0;

        } else if (strcmp(cmd, "workdir") == 0 || strcmp(cmd, "user") == 0) {
            w = word(&p);
            json_object_set_new(im.cfg, cmd[0] == 'w' ? "WorkingDir" : "User",
                                json_string(w ? w : ""));

        } else if (strcmp(cmd, "config-set") == 0) {
            w = word(&p);
            v = json_loads(p, JSON_DECODE_ANY, NULL);
            if (w == NULL || v == NULL) {
                die("config-set KEY JSON");
            }

            json_object_set_new(im.cfg, w, v);

        } else if (strcmp(cmd, "layer") == 0) {
            layer_end(&im);
            layer_begin(&im, 0);

        } else if (strcmp(cmd, "descsize") == 0 && im.layer) {
            im.layer->desc_size = strtoll(p, NULL, 10);

        } else if (strcmp(cmd, "diffid") == 0 && im.layer) {
            while (*p == ' ') {
                p++;
            }

            im.layer->diff_id = strdup(p);

        } else if (strcmp(cmd, "tarfile") == 0) {
            layer_end(&im);
            layer_begin(&im, 2);
            tar_file(im.layer, p);

        } else if (strcmp(cmd, "blob") == 0 || strcmp(cmd, "zero") == 0) {
            layer_end(&im);
            layer_begin(&im, 1);

            while (*p == ' ') {
                p++;
            }

            if (cmd[0] == 'b') {
                layer_feed(im.layer, p, strlen(p), 1);
            }

        } else {
            entry_line(&im, cmd, p);
        }
    }

    image_end(&im);

    snprintf(path, sizeof(path), "%s/oci/index.json", outdir);
    if (json_dump_file(oci_index, path, JSON_COMPACT) != 0) {
        die("write %s", path);
    }

    snprintf(path, sizeof(path), "%s/oci/oci-layout", outdir);
    f = fopen(path, "w");
    if (f == NULL) {
        die("write %s", path);
    }

    fputs("{\"imageLayoutVersion\":\"1.0.0\"}", f);
    fclose(f);

    json_decref(oci_index);
    json_decref(made);

    return 0;
}
