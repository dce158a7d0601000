
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the outer archive.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "squash_archive.h"
#include "squash_tar_reader.h"


#define SQUASH_BYTES_LIMIT   ((size_t) 1 << 30)


static const unsigned char  squash_zero_block[SQUASH_TAR_BLOCK * 2];


typedef struct {
    squash_bytes_t  *out;
    int              header_done;
} squash_archive_sink_t;


static la_ssize_t
squash_archive_write_cb(struct archive *ar, void *data, const void *buf,
    size_t len)
{
    squash_archive_sink_t  *sink = data;

    (void) ar;

    /*
     * after the header, refuse: libarchive then skips padding the
     * (unwritten) data and the end blocks, and still frees everything
     * on close
     */

    if (sink->header_done
        || squash_bytes_append(sink->out, buf, len, SQUASH_BYTES_LIMIT)
           != SQUASH_OK)
    {
        return -1;
    }

    return (la_ssize_t) len;
}


static int squash_archive_write(squash_bytes_t *out, const char *name,
    int type, const char *target, const void *data, uint64_t size,
    long long mtime, char *err);


int
squash_archive_entry(squash_bytes_t *out, const char *name, int type,
    const void *data, uint64_t size, long long mtime, char *err)
{
    return squash_archive_write(out, name, type, NULL, data, size, mtime,
                                err);
}


int
squash_archive_symlink(squash_bytes_t *out, const char *name,
    const char *target, long long mtime, char *err)
{
    return squash_archive_write(out, name, SQUASH_TAR_SYM, target, NULL, 0,
                                mtime, err);
}


static int
squash_archive_write(squash_bytes_t *out, const char *name, int type,
    const char *target, const void *data, uint64_t size, long long mtime,
    char *err)
{
    int                     rc;
    size_t                  pad;
    struct archive         *ar;
    struct archive_entry   *e;
    squash_archive_sink_t   sink;

    sink.out = out;
    sink.header_done = 0;

    ar = archive_write_new();
    e = archive_entry_new();

    rc = SQUASH_ERROR;

    if (ar == NULL || e == NULL) {
        snprintf(err, SQUASH_ERRLEN, "out of memory");
        goto done;
    }

    archive_entry_set_pathname(e, name);
    archive_entry_set_mtime(e, (time_t) mtime, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);

    switch (type) {

    case SQUASH_TAR_DIR:
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        size = 0;
        break;

    case SQUASH_TAR_SYM:
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_set_perm(e, 0777);
        archive_entry_set_symlink(e, target);
        size = 0;
        break;

    default:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t) size);
        break;
    }

    /* no blocking: every byte goes to the callback as it is written */

    if (archive_write_set_format_pax_restricted(ar) != ARCHIVE_OK
        || archive_write_set_bytes_per_block(ar, 0) != ARCHIVE_OK
        || archive_write_open(ar, &sink, NULL, squash_archive_write_cb, NULL)
           != ARCHIVE_OK
        || archive_write_header(ar, e) != ARCHIVE_OK)
    {
        snprintf(err, SQUASH_ERRLEN, "libarchive: %s",
                 archive_error_string(ar));
        goto done;
    }

    sink.header_done = 1;

    if (data) {
        pad = (SQUASH_TAR_BLOCK - size % SQUASH_TAR_BLOCK) % SQUASH_TAR_BLOCK;

        if (squash_bytes_append(out, data, (size_t) size, SQUASH_BYTES_LIMIT)
            != SQUASH_OK
            || squash_bytes_append(out, squash_zero_block, pad,
                                   SQUASH_BYTES_LIMIT)
               != SQUASH_OK)
        {
            snprintf(err, SQUASH_ERRLEN, "out of memory");
            goto done;
        }
    }

    rc = SQUASH_OK;

done:

    if (ar) {
        archive_write_free(ar);
    }

    if (e) {
        archive_entry_free(e);
    }

    return rc;
}


int
squash_tar_rewrite(squash_bytes_t *out, const unsigned char *raw,
    size_t raw_len, const char *path, const char *hardlink, char *err)
{
    int                     rc;
    struct archive         *rd, *wr;
    struct archive_entry   *e;
    squash_archive_sink_t   sink;

    rc = SQUASH_ERROR;
    wr = NULL;

    rd = archive_read_new();
    if (rd == NULL) {
        snprintf(err, SQUASH_ERRLEN, "out of memory");
        return SQUASH_ERROR;
    }

    archive_read_support_format_tar(rd);

    if (archive_read_open_memory(rd, raw, raw_len) != ARCHIVE_OK
        || archive_read_next_header(rd, &e) < ARCHIVE_WARN)
    {
        snprintf(err, SQUASH_ERRLEN, "libarchive: cannot read a header: %s",
                 archive_error_string(rd));
        goto done;
    }

    archive_entry_set_pathname(e, path);

    if (hardlink) {
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_hardlink(e, hardlink);
        archive_entry_set_size(e, 0);

    } else {
        archive_entry_set_hardlink(e, NULL);
    }

    sink.out = out;
    sink.header_done = 0;

    wr = archive_write_new();

    if (wr == NULL
        || archive_write_set_format_pax_restricted(wr) != ARCHIVE_OK
        || archive_write_set_bytes_per_block(wr, 0) != ARCHIVE_OK
        || archive_write_open(wr, &sink, NULL, squash_archive_write_cb, NULL)
           != ARCHIVE_OK
        || archive_write_header(wr, e) != ARCHIVE_OK)
    {
        snprintf(err, SQUASH_ERRLEN, "libarchive: cannot write a header: %s",
                 wr ? archive_error_string(wr) : "out of memory");
        goto done;
    }

    sink.header_done = 1;
    rc = SQUASH_OK;

done:

    if (wr) {
        archive_write_free(wr);
    }

    archive_read_free(rd);

    return rc;
}


static int
squash_archive_doc(squash_archive_t *a, squash_bytes_t *out,
    const char *name, char *doc, size_t len)
{
    int  rc;

    if (doc == NULL) {
        snprintf(a->err, SQUASH_ERRLEN, "cannot write %s", name);
        return SQUASH_ERROR;
    }

    rc = squash_archive_entry(out, name, SQUASH_TAR_REG, doc, len, a->mtime,
                              a->err);
    free(doc);

    return rc;
}


/*
 * A layer's directory: <id>/, its legacy VERSION and json (doc, freed
 * here), and the header of <id>/layer.tar of size bytes
 */

static int
squash_archive_layer(squash_archive_t *a, squash_bytes_t *out,
    const char *id, char *doc, size_t len, uint64_t size)
{
    char  name[SQUASH_HEX_LEN + 16];

    snprintf(name, sizeof(name), "%s/", id);

    if (squash_archive_entry(out, name, SQUASH_TAR_DIR, NULL, 0, a->mtime,
                             a->err)
        != SQUASH_OK)
    {
        free(doc);
        return SQUASH_ERROR;
    }

    if (a->formats & SQUASH_FORMAT_LEGACY) {
        snprintf(name, sizeof(name), "%s/VERSION", id);

        if (squash_archive_entry(out, name, SQUASH_TAR_REG, "1.0", 3,
                                 a->mtime, a->err)
            != SQUASH_OK)
        {
            free(doc);
            return SQUASH_ERROR;
        }

        snprintf(name, sizeof(name), "%s/json", id);

        if (squash_archive_doc(a, out, name, doc, len) != SQUASH_OK) {
            return SQUASH_ERROR;
        }

    } else {
        free(doc);
    }

    snprintf(name, sizeof(name), "%s/layer.tar", id);

    /* the header alone: the body streams after it */

    return squash_archive_entry(out, name, SQUASH_TAR_REG, NULL, size,
                                a->mtime, a->err);
}


/* the ids of the kept layers: each chains its diff_id to the one below */

static int
squash_archive_kept_ids(squash_archive_t *a)
{
    char         buf[SQUASH_HEX_LEN + SQUASH_DIGEST_LEN + 32];
    size_t       i;
    const char  *diff_id;

    a->kept_ids = calloc(a->nkept, SQUASH_HEX_LEN + 1);
    a->heads = calloc(a->nkept, sizeof(squash_bytes_t));

    if (a->kept_ids == NULL || a->heads == NULL) {
        snprintf(a->err, SQUASH_ERRLEN, "out of memory");
        return SQUASH_ERROR;
    }

    for (i = 0; i < a->nkept; i++) {
        diff_id = squash_config_diff_id(a->config, i);

        if (diff_id == NULL) {
            snprintf(a->err, SQUASH_ERRLEN, "no diff_id for kept layer %zu",
                     i + 1);
            return SQUASH_ERROR;
        }

        snprintf(buf, sizeof(buf), "ngx_squash kept %s %s",
                 i ? a->kept_ids[i - 1] : "-", diff_id);

        if (squash_sha256_hex(buf, strlen(buf), a->kept_ids[i]) != SQUASH_OK)
        {
            snprintf(a->err, SQUASH_ERRLEN, "sha256 failed");
            return SQUASH_ERROR;
        }
    }

    return SQUASH_OK;
}


int
squash_archive_start(squash_archive_t *a)
{
    char        *doc;
    size_t       i, len;
    const char  *parent;

    len = 0;
    doc = NULL;
    a->prefix.len = 0;

    if (a->formats & SQUASH_FORMAT_LEGACY) {
        doc = squash_doc_repositories(a->repo, a->tag, a->v1id, &len);

        if (squash_archive_doc(a, &a->prefix, "repositories", doc, len)
            != SQUASH_OK)
        {
            return SQUASH_ERROR;
        }
    }

    if (a->nkept && a->kept_ids == NULL
        && squash_archive_kept_ids(a) != SQUASH_OK)
    {
        return SQUASH_ERROR;
    }

    parent = a->nkept ? a->kept_ids[a->nkept - 1] : NULL;

    if (a->formats & SQUASH_FORMAT_LEGACY) {
        doc = squash_doc_v1_json(a->config, a->v1id, parent, &len);

        if (doc == NULL) {
            snprintf(a->err, SQUASH_ERRLEN, "cannot write the legacy json");
            return SQUASH_ERROR;
        }
    }

    if (squash_archive_layer(a, &a->prefix, a->v1id, doc, len,
                             a->layer_size)
        != SQUASH_OK)
    {
        return SQUASH_ERROR;
    }

    a->total = a->prefix.len + a->layer_size;

    for (i = 0; i < a->nkept; i++) {
        doc = NULL;
        a->heads[i].len = 0;

        if (a->formats & SQUASH_FORMAT_LEGACY) {
            doc = squash_doc_v1_base(a->config, a->kept_ids[i],
                                     i ? a->kept_ids[i - 1] : NULL, &len);

            if (doc == NULL) {
                snprintf(a->err, SQUASH_ERRLEN, "cannot write the legacy "
                         "json");
                return SQUASH_ERROR;
            }
        }

        if (squash_archive_layer(a, &a->heads[i], a->kept_ids[i], doc, len,
                                 (uint64_t) a->kept[i].size)
            != SQUASH_OK)
        {
            return SQUASH_ERROR;
        }

        a->total += a->heads[i].len + (uint64_t) a->kept[i].size
                    + squash_archive_kept_pad(a, i);
    }

    /* a trailer of the final length, for a layer digest of zeros */

    if (squash_archive_finish(a, "0000000000000000000000000000000000000000"
                                 "000000000000000000000000")
        != SQUASH_OK)
    {
        return SQUASH_ERROR;
    }

    a->total += a->trailer.len;

    return SQUASH_OK;
}


/* a blob of the layout written already: the same blob kept twice */

static int
squash_archive_blob_seen(squash_archive_t *a, size_t i)
{
    size_t  k;

    for (k = 0; k < i; k++) {
        if (strcmp(a->kept[k].digest, a->kept[i].digest) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * the OCI image layout: each layer blob is a symlink to its layer.tar,
 * the config blob is the one written above
 */

static int
squash_archive_oci(squash_archive_t *a, const char *config_hex,
    size_t config_len, const char *layer_hex, const char *layer_path,
    const char *repo_tag)
{
    char    *doc, hex[SQUASH_HEX_LEN + 1], name[SQUASH_HEX_LEN + 32],
            target[SQUASH_HEX_LEN + 32];
    size_t   i, len;

    static const char  layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

    if (squash_archive_entry(&a->trailer, "oci-layout", SQUASH_TAR_REG,
                             layout, sizeof(layout) - 1, a->mtime, a->err)
        != SQUASH_OK)
    {
        return SQUASH_ERROR;
    }

    snprintf(name, sizeof(name), "blobs/sha256/%s", layer_hex);
    snprintf(target, sizeof(target), "../../%s", layer_path);

    if (squash_archive_symlink(&a->trailer, name, target, a->mtime, a->err)
        != SQUASH_OK)
    {
        return SQUASH_ERROR;
    }

    for (i = 0; i < a->nkept; i++) {
        if (squash_archive_blob_seen(a, i)) {
            continue;
        }

        snprintf(name, sizeof(name), "blobs/sha256/%s",
                 a->kept[i].digest + 7);
        snprintf(target, sizeof(target), "../../%s/layer.tar",
                 a->kept_ids[i]);

        if (squash_archive_symlink(&a->trailer, name, target, a->mtime,
                                   a->err)
            != SQUASH_OK)
        {
            return SQUASH_ERROR;
        }
    }

    len = 0;
    doc = squash_doc_image_manifest(0, config_hex, config_len, a->kept,
                                    a->nkept, layer_hex, a->layer_size,
                                    &len);

    if (doc == NULL || squash_sha256_hex(doc, len, hex) != SQUASH_OK) {
        free(doc);
        snprintf(a->err, SQUASH_ERRLEN, "cannot write the OCI manifest");
        return SQUASH_ERROR;
    }

    snprintf(name, sizeof(name), "blobs/sha256/%s", hex);

    if (squash_archive_doc(a, &a->trailer, name, doc, len) != SQUASH_OK) {
        return SQUASH_ERROR;
    }

    doc = squash_doc_oci_index(hex, len, repo_tag, a->tag, &len);

    return squash_archive_doc(a, &a->trailer, "index.json", doc, len);
}


/* manifest.json: the kept layers' paths, then the merged one's */

static int
squash_archive_manifest(squash_archive_t *a, const char *cfg_path,
    const char *repo_tag, const char *layer_path)
{
    char         *doc, (*paths)[SQUASH_HEX_LEN + 16];
    size_t        i, len;
    const char  **list;

    paths = calloc(a->nkept + 1, sizeof(*paths));
    list = calloc(a->nkept + 1, sizeof(const char *));

    if (paths == NULL || list == NULL) {
        free(paths);
        free(list);
        snprintf(a->err, SQUASH_ERRLEN, "out of memory");
        return SQUASH_ERROR;
    }

    for (i = 0; i < a->nkept; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/layer.tar", a->kept_ids[i]);
        list[i] = paths[i];
    }

    list[a->nkept] = layer_path;

    len = 0;
    doc = squash_doc_manifest(cfg_path, repo_tag, list, a->nkept + 1, &len);

    free(paths);
    free(list);

    return squash_archive_doc(a, &a->trailer, "manifest.json", doc, len);
}


int
squash_archive_finish(squash_archive_t *a, const char *diff_id_hex)
{
    char     *config, cfg_path[SQUASH_HEX_LEN + 16],
              layer_path[SQUASH_HEX_LEN + 16], repo_tag[1024],
              hex[SQUASH_HEX_LEN + 1];
    size_t    len, old, cfg_len;

    len = 0;
    old = a->trailer.len;
    a->trailer.len = 0;

    config = squash_doc_config(a->config, a->nkept, diff_id_hex,
                               a->created_by, &len);
    if (config == NULL) {
        snprintf(a->err, SQUASH_ERRLEN, "cannot write the image config");
        return SQUASH_ERROR;
    }

    if (squash_sha256_hex(config, len, hex) != SQUASH_OK) {
        free(config);
        snprintf(a->err, SQUASH_ERRLEN, "sha256 failed");
        return SQUASH_ERROR;
    }

    snprintf(cfg_path, sizeof(cfg_path), "blobs/sha256/%s", hex);

    if (squash_archive_doc(a, &a->trailer, cfg_path, config, len)
        != SQUASH_OK)
    {
        return SQUASH_ERROR;
    }

    cfg_len = len;

    snprintf(layer_path, sizeof(layer_path), "%s/layer.tar", a->v1id);
    snprintf(repo_tag, sizeof(repo_tag), "%s:%s", a->repo, a->tag);

    if ((a->formats & SQUASH_FORMAT_DOCKER)
        && squash_archive_manifest(a, cfg_path, repo_tag, layer_path)
           != SQUASH_OK)
    {
        return SQUASH_ERROR;
    }

    if (a->formats & SQUASH_FORMAT_OCI) {
        if (squash_archive_oci(a, hex, cfg_len, diff_id_hex, layer_path,
                               repo_tag)
            != SQUASH_OK)
        {
            return SQUASH_ERROR;
        }
    }

    if (squash_bytes_append(&a->trailer, squash_zero_block,
                            sizeof(squash_zero_block), SQUASH_BYTES_LIMIT)
        != SQUASH_OK)
    {
        snprintf(a->err, SQUASH_ERRLEN, "out of memory");
        return SQUASH_ERROR;
    }

    if (old && old != a->trailer.len) {
        snprintf(a->err, SQUASH_ERRLEN, "trailer length changed from %zu "
                 "to %zu", old, a->trailer.len);
        return SQUASH_ERROR;
    }

    return SQUASH_OK;
}


void
squash_archive_free(squash_archive_t *a)
{
    size_t  i;

    squash_bytes_free(&a->prefix);
    squash_bytes_free(&a->trailer);

    if (a->heads) {
        for (i = 0; i < a->nkept; i++) {
            squash_bytes_free(&a->heads[i]);
        }
    }

    free(a->heads);
    free(a->kept_ids);
    a->heads = NULL;
    a->kept_ids = NULL;
}
