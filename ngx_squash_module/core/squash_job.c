
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: one squash, from the image's documents to the archive.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squash_job.h"


static void squash_job_items_free(squash_job_t *j);
static int squash_job_docs_digest(squash_job_t *j);
static int squash_job_created_by(squash_job_t *j, const char *name,
    size_t name_len);
static int squash_job_err(squash_job_t *j, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));


int
squash_job_init(squash_job_t *j, size_t merge_memory, squash_warn_pt warn,
    void *data)
{
    memset(j, 0, sizeof(squash_job_t));

    j->merge_memory = merge_memory;
    j->warn = warn;
    j->warn_data = data;

    if (squash_sha256_init(&j->sha) != SQUASH_OK) {
        return squash_job_err(j, SQUASH_ERROR, "out of memory");
    }

    j->merger = squash_merger_create(merge_memory, warn, data);
    if (j->merger == NULL) {
        return squash_job_err(j, SQUASH_ERROR, "out of memory");
    }

    return SQUASH_OK;
}


void
squash_job_free(squash_job_t *j)
{
    squash_merger_destroy(j->merger);
    j->merger = NULL;

    squash_sha256_free(&j->sha);
    squash_archive_free(&j->archive);
    squash_manifest_free(&j->manifest);
    squash_bytes_free(&j->restate);

    if (j->config) {
        json_decref(j->config);
        j->config = NULL;
    }

    free(j->created_by);
    j->created_by = NULL;

    free(j->docs.config);
    free(j->docs.manifest);
    j->docs.config = NULL;
    j->docs.manifest = NULL;

    squash_job_items_free(j);
}


static void
squash_job_items_free(squash_job_t *j)
{
    size_t  i;

    for (i = 0; i < j->nitems; i++) {
        json_decref(j->items[i].platform);
    }

    free(j->items);
    j->items = NULL;
    j->nitems = 0;
}


int
squash_job_manifest(squash_job_t *j, const char *data, size_t len,
    const char *reference, size_t reference_len,
    const squash_platform_t *platform, size_t max_layers)
{
    int   rc;
    char  digest[SQUASH_DIGEST_LEN + 1], id[SQUASH_DIGEST_LEN + 16];

    if (squash_sha256_digest(data, len, digest) != SQUASH_OK) {
        return squash_job_err(j, SQUASH_ERROR, "sha256 failed");
    }

    /* a manifest asked for by digest must have it */

    if (j->from_index
        ? strcmp(digest, j->manifest.chosen.digest) != 0
        : (squash_reference_kind(reference, reference_len)
           == SQUASH_REF_DIGEST
           && strncmp(digest, reference, SQUASH_DIGEST_LEN) != 0))
    {
        return squash_job_err(j, SQUASH_ERROR, "has digest %s, not the one "
                              "asked for", digest);
    }

    squash_manifest_free(&j->manifest);

    rc = squash_manifest_parse(data, len, j->whole_index ? NULL : platform,
                               max_layers, &j->manifest, j->err);

    if (rc == SQUASH_INDEX && j->from_index) {
        return squash_job_err(j, SQUASH_ERROR, "the index points to another "
                              "index");
    }

    if (rc == SQUASH_INDEX) {
        j->from_index = 1;

        if (j->whole_index) {
            squash_job_items_free(j);
            j->items = j->manifest.items;
            j->nitems = j->manifest.nitems;
            j->manifest.items = NULL;
            j->manifest.nitems = 0;
            j->item = 0;
            memcpy(j->index_digest, digest, SQUASH_DIGEST_LEN + 1);
        }
    }

    if (rc != SQUASH_OK) {
        return rc;
    }

    memcpy(j->digest, digest, SQUASH_DIGEST_LEN + 1);
    memcpy(j->key, digest, SQUASH_DIGEST_LEN + 1);

    /* the V1 id: known up front, changes with the image */

    snprintf(id, sizeof(id), "ngx_squash:%s", digest);

    if (squash_sha256_hex(id, strlen(id), j->v1id) != SQUASH_OK) {
        return squash_job_err(j, SQUASH_ERROR, "sha256 failed");
    }

    return SQUASH_OK;
}


int
squash_job_config(squash_job_t *j, const char *data, size_t len,
    const squash_platform_t *platform)
{
    char    digest[SQUASH_DIGEST_LEN + 1], id[SQUASH_DIGEST_LEN + 32];
    size_t  i, n;

    if (squash_sha256_digest(data, len, digest) != SQUASH_OK) {
        return squash_job_err(j, SQUASH_ERROR, "sha256 failed");
    }

    if (strcmp(digest, j->manifest.config.digest) != 0) {
        return squash_job_err(j, SQUASH_ERROR, "does not match its digest %s",
                              j->manifest.config.digest);
    }

    j->config = squash_config_parse(data, len, j->err);
    if (j->config == NULL) {
        return SQUASH_ERROR;
    }

    /* every layer is checked against its diff_id as it streams */

    n = squash_config_diff_ids(j->config);

    if (n != j->manifest.nlayers) {
        return squash_job_err(j, SQUASH_ERROR, "has %zu diff_ids for %zu "
                              "layers", n, j->manifest.nlayers);
    }

    for (i = 0; i < n; i++) {
        if (squash_config_diff_id(j->config, i) == NULL) {
            return squash_job_err(j, SQUASH_ERROR, "diff_id %zu is not a "
                                  "sha256 digest", i + 1);
        }
    }

    /* base layers kept: the others merge as a diff over them */

    j->keep = j->keep_wanted < n ? j->keep_wanted : n - 1;

    if (j->keep) {
        squash_merger_set_diff(j->merger);

        snprintf(id, sizeof(id), "%s keep %zu", j->digest, j->keep);

        if (squash_sha256_digest(id, strlen(id), j->key) != SQUASH_OK) {
            return squash_job_err(j, SQUASH_ERROR, "sha256 failed");
        }

        /* another top layer: another V1 id */

        snprintf(id, sizeof(id), "ngx_squash:%s", j->key);

        if (squash_sha256_hex(id, strlen(id), j->v1id) != SQUASH_OK) {
            return squash_job_err(j, SQUASH_ERROR, "sha256 failed");
        }
    }

    /* the platform chosen from an index names its variant */

    if (platform->variant && j->from_index && !j->plain_config
        && json_object_get(j->config, "variant") == NULL
        && json_object_set_new(j->config, "variant",
                               json_string(platform->variant))
           != 0)
    {
        return squash_job_err(j, SQUASH_ERROR, "out of memory");
    }

    return SQUASH_OK;
}


int
squash_job_index_next(squash_job_t *j)
{
    if (j->item >= j->nitems) {
        return SQUASH_DONE;
    }

    j->manifest.chosen = j->items[j->item].source;

    return SQUASH_OK;
}


int
squash_job_index_add(squash_job_t *j)
{
    size_t                merge_memory;
    squash_warn_pt        warn;
    void                 *warn_data;
    squash_job_t          keep;
    squash_index_item_t  *it;

    if (j->item >= j->nitems || j->docs.manifest == NULL) {
        return squash_job_err(j, SQUASH_ERROR, "no image to add");
    }

    it = &j->items[j->item];
    memcpy(it->digest, j->docs.manifest_digest, SQUASH_DIGEST_LEN + 1);
    it->size = j->docs.manifest_len;

    /* the job made new, with the index and how it is served */

    keep = *j;
    merge_memory = j->merge_memory;
    warn = j->warn;
    warn_data = j->warn_data;

    j->items = NULL;
    j->nitems = 0;
    squash_job_free(j);

    if (squash_job_init(j, merge_memory, warn, warn_data) != SQUASH_OK) {
        j->items = keep.items;
        j->nitems = keep.nitems;
        return SQUASH_ERROR;
    }

    j->items = keep.items;
    j->nitems = keep.nitems;
    j->item = keep.item + 1;
    memcpy(j->index_digest, keep.index_digest, SQUASH_DIGEST_LEN + 1);
    j->from_index = 1;
    j->whole_index = 1;
    j->plain_config = keep.plain_config;
    j->keep_wanted = keep.keep_wanted;

    return SQUASH_OK;
}


int
squash_job_index_doc(squash_job_t *j, int docker)
{
    squash_job_docs_t  *d;

    d = &j->docs;

    free(d->manifest);

    d->manifest = squash_doc_index(docker, j->items, j->nitems,
                                   &d->manifest_len);

    if (squash_job_docs_digest(j) != SQUASH_OK) {
        return SQUASH_ERROR;
    }

    d->manifest_type = docker ? SQUASH_MT_DOCKER_LIST : SQUASH_MT_OCI_INDEX;

    return SQUASH_OK;
}


const char *
squash_job_diff_id(squash_job_t *j, size_t i)
{
    return squash_config_diff_id(j->config, i);
}


/* the digest of the manifest or index just made in j->docs */

static int
squash_job_docs_digest(squash_job_t *j)
{
    squash_job_docs_t  *d;

    d = &j->docs;

    if (d->manifest == NULL
        || squash_sha256_digest(d->manifest, d->manifest_len,
                                d->manifest_digest)
           != SQUASH_OK)
    {
        return squash_job_err(j, SQUASH_ERROR, "out of memory");
    }

    return SQUASH_OK;
}


static int
squash_job_created_by(squash_job_t *j, const char *name, size_t name_len)
{
    size_t  len;

    if (j->created_by) {
        return SQUASH_OK;
    }

    len = sizeof("ngx_squash: squashed  layers of @") + 20 + name_len
          + SQUASH_DIGEST_LEN;

    j->created_by = malloc(len);
    if (j->created_by == NULL) {
        return squash_job_err(j, SQUASH_ERROR, "out of memory");
    }

    snprintf(j->created_by, len, "ngx_squash: squashed %zu layers of %.*s@%s",
             squash_job_merged_layers(j), (int) name_len, name, j->digest);

    return SQUASH_OK;
}


int
squash_job_start(squash_job_t *j, const char *name, size_t name_len,
    const char *repo, const char *tag, unsigned formats, uint64_t layer_size)
{
    squash_archive_t  *a;

    if (squash_job_created_by(j, name, name_len) != SQUASH_OK) {
        return SQUASH_ERROR;
    }

    a = &j->archive;

    a->v1id = j->v1id;
    a->repo = repo;
    a->tag = tag;
    a->formats = formats;
    a->created_by = j->created_by;
    a->config = j->config;
    a->mtime = squash_config_created(j->config);
    a->layer_size = layer_size;
    a->kept = j->manifest.layers;
    a->nkept = j->keep;

    if (squash_archive_start(a) != SQUASH_OK) {
        return squash_job_err(j, SQUASH_ERROR, "%s", a->err);
    }

    return SQUASH_OK;
}


int
squash_job_start_layer(squash_job_t *j, uint64_t layer_size)
{
    if (layer_size < 2 * SQUASH_TAR_BLOCK) {
        return squash_job_err(j, SQUASH_ERROR, "a layer of %llu bytes",
                              (unsigned long long) layer_size);
    }

    j->bare = 1;
    j->archive.layer_size = layer_size;
    j->archive.prefix.len = 0;
    j->archive.trailer.len = 0;
    j->archive.total = layer_size;

    return SQUASH_OK;
}


int
squash_job_set_diff_id(squash_job_t *j, const char *diff_id, int check)
{
    if (squash_reference_kind(diff_id, strlen(diff_id)) != SQUASH_REF_DIGEST)
    {
        return squash_job_err(j, SQUASH_ERROR, "\"%s\" is not a digest",
                              diff_id);
    }

    memcpy(j->diff_id, diff_id, SQUASH_DIGEST_LEN + 1);
    j->digest_known = !check;

    return SQUASH_OK;
}


int
squash_job_documents(squash_job_t *j, const char *name, size_t name_len,
    int docker, uint64_t layer_size)
{
    squash_job_docs_t  *d;

    d = &j->docs;

    if (j->diff_id[0] == '\0') {
        return squash_job_err(j, SQUASH_ERROR, "the layer digest is not "
                              "known");
    }

    if (squash_job_created_by(j, name, name_len) != SQUASH_OK) {
        return SQUASH_ERROR;
    }

    free(d->config);
    free(d->manifest);
    d->manifest = NULL;

    d->config = squash_doc_config(j->config, j->keep, j->diff_id + 7,
                                  j->created_by, &d->config_len);

    if (d->config == NULL
        || squash_sha256_digest(d->config, d->config_len, d->config_digest)
           != SQUASH_OK)
    {
        return squash_job_err(j, SQUASH_ERROR, "out of memory");
    }

    d->manifest_type = docker ? SQUASH_MT_DOCKER_MANIFEST
                              : SQUASH_MT_OCI_MANIFEST;
    d->manifest = squash_doc_image_manifest(docker, d->config_digest + 7,
                                            d->config_len,
                                            j->manifest.layers, j->keep,
                                            j->diff_id + 7, layer_size,
                                            &d->manifest_len);

    if (squash_job_docs_digest(j) != SQUASH_OK) {
        return SQUASH_ERROR;
    }

    return SQUASH_OK;
}


int
squash_job_etag(squash_job_t *j, char *hex)
{
    int                n;
    char               buf[1024], full[SQUASH_HEX_LEN + 1];
    squash_archive_t  *a;

    a = &j->archive;

    n = snprintf(buf, sizeof(buf), "%s %llu %u %s %s", j->key,
                 (unsigned long long) a->layer_size, a->formats, a->repo,
                 a->tag);

    if (n < 0 || (size_t) n >= sizeof(buf)
        || squash_sha256_hex(buf, n, full) != SQUASH_OK)
    {
        return squash_job_err(j, SQUASH_ERROR, "etag failed");
    }

    memcpy(hex, full, 32);
    hex[32] = '\0';

    return SQUASH_OK;
}


int
squash_job_layer_bytes(squash_job_t *j, const void *p, size_t n, int end)
{
    uint64_t  limit;

    limit = j->archive.layer_size;

    if (!end) {
        /* room for the end blocks */
        limit -= 2 * SQUASH_TAR_BLOCK;
    }

    if (n > limit - j->layer_bytes) {
        return squash_job_err(j, SQUASH_ERROR, "merged layer exceeds the "
                              "promised %llu bytes",
                              (unsigned long long) j->archive.layer_size);
    }

    if (!j->digest_known && squash_sha256_update(&j->sha, p, n) != SQUASH_OK)
    {
        return squash_job_err(j, SQUASH_ERROR, "sha256 failed");
    }

    j->layer_bytes += n;

    return SQUASH_OK;
}


/*
 * Directories that lower layers' entries went into after them, written
 * again (squash_merger_restate()), where the promised size has room: the
 * lower layers' own entries of those directories, dropped, and their end
 * blocks usually make it; if not, they are left out
 */

int
squash_job_restate(squash_job_t *j)
{
    uint64_t  room;

    if (squash_merger_restate(j->merger, &j->restate) != SQUASH_OK) {
        return squash_job_err(j, SQUASH_ERROR, "%s",
                              squash_merger_error(j->merger));
    }

    room = j->archive.layer_size - 2 * SQUASH_TAR_BLOCK - j->layer_bytes;

    if (j->restate.len > room) {
        squash_job_err(j, SQUASH_DECLINED, "%zu bytes of directories to "
                       "write again do not fit the promised size, left out",
                       j->restate.len);
        j->restate.len = 0;
        return SQUASH_DECLINED;
    }

    return SQUASH_OK;
}


int
squash_job_finish(squash_job_t *j)
{
    if (!j->digest_known && squash_sha256_final(&j->sha, j->diff_id)
                            != SQUASH_OK)
    {
        return squash_job_err(j, SQUASH_ERROR, "sha256 failed");
    }

    if (j->bare) {
        return SQUASH_OK;
    }

    if (squash_archive_finish(&j->archive, j->diff_id + 7) != SQUASH_OK) {
        return squash_job_err(j, SQUASH_ERROR, "%s", j->archive.err);
    }

    return SQUASH_OK;
}


void
squash_job_measure(squash_job_t *j)
{
    j->measuring = 1;

    /* no size to keep to, and no overflow in what is left of it */
    j->archive.layer_size = UINT64_MAX / 2;
}


int
squash_job_rewind(squash_job_t *j, uint64_t *size)
{
    static const unsigned char  ends[2 * SQUASH_TAR_BLOCK];

    /* the merged entries and two end blocks: layer.tar without padding */

    if (squash_job_layer_bytes(j, ends, sizeof(ends), 1) != SQUASH_OK
        || squash_sha256_final(&j->sha, j->diff_id) != SQUASH_OK
        || squash_sha256_init(&j->sha) != SQUASH_OK)
    {
        return squash_job_err(j, SQUASH_ERROR, "sha256 failed");
    }

    *size = j->layer_bytes;

    /* the archive makes layer.tar again at that size: the same bytes */
    j->digest_known = 1;

    squash_merger_destroy(j->merger);

    j->merger = squash_merger_create(j->merge_memory, j->warn, j->warn_data);
    if (j->merger == NULL) {
        return squash_job_err(j, SQUASH_ERROR, "out of memory");
    }

    if (j->keep) {
        squash_merger_set_diff(j->merger);
    }

    j->layer_bytes = 0;
    j->merged = 0;
    j->merged_known = 0;
    j->measuring = 0;
    j->restate.len = 0;
    j->archive.layer_size = 0;

    return SQUASH_OK;
}


static int
squash_job_err(squash_job_t *j, int rc, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(j->err, SQUASH_ERRLEN, fmt, args);
    va_end(args);

    return rc;
}
