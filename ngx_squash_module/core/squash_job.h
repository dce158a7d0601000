
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: one squash, from the image's documents to the archive.  It
 * owns the manifest, the config, the merger, the outer archive and the
 * digest of the merged layer; the nginx glue feeds it documents and the
 * bytes of layer.tar, and sends what it makes.
 */

#ifndef _SQUASH_JOB_H_INCLUDED_
#define _SQUASH_JOB_H_INCLUDED_


#include "squash_core.h"
#include "squash_digest.h"
#include "squash_image.h"
#include "squash_merger.h"
#include "squash_archive.h"


typedef struct {
    char               *config;
    size_t              config_len;
    char                config_digest[SQUASH_DIGEST_LEN + 1];
    char               *manifest;
    size_t              manifest_len;
    char                manifest_digest[SQUASH_DIGEST_LEN + 1];
    const char         *manifest_type;
} squash_job_docs_t;


typedef struct {
    squash_manifest_t   manifest;
    char                digest[SQUASH_DIGEST_LEN + 1];  /* the manifest's */
    char                key[SQUASH_DIGEST_LEN + 1];     /* what is made of
                                                           it: the digest,
                                                           and keep */
    char                v1id[SQUASH_HEX_LEN + 1];
    json_t             *config;
    squash_merger_t    *merger;
    squash_archive_t    archive;

    /* layer.tar: its digest and length so far; the merged entries */
    squash_sha256_t     sha;
    uint64_t            layer_bytes;
    uint64_t            merged;
    char                diff_id[SQUASH_DIGEST_LEN + 1];

    /* directories written again after the last layer */
    squash_bytes_t      restate;

    char               *created_by;
    unsigned            from_index:1;
    unsigned            merged_known:1;
    unsigned            measuring:1;
    unsigned            bare:1;             /* layer.tar alone */
    unsigned            plain_config:1;     /* no variant added */
    unsigned            whole_index:1;      /* an index: all its images */
    unsigned            digest_known:1;     /* diff_id given: layer.tar is
                                               not hashed */

    /* base layers kept as they are (squash_keep_layers): wanted, kept */
    size_t              keep_wanted;
    size_t              keep;

    /* an index served whole: its images, squashed one after another */
    squash_index_item_t *items;
    size_t              nitems;
    size_t              item;
    char                index_digest[SQUASH_DIGEST_LEN + 1];

    /* the squashed image's own documents, for the registry API */
    squash_job_docs_t   docs;

    /* to make the merger again */
    size_t              merge_memory;
    squash_warn_pt      warn;
    void               *warn_data;

    char                err[SQUASH_ERRLEN];
} squash_job_t;


int squash_job_init(squash_job_t *j, size_t merge_memory,
    squash_warn_pt warn, void *data);
void squash_job_free(squash_job_t *j);

/*
 * The manifest document for reference (a tag or a digest, which the
 * document must then have).  SQUASH_OK: an image manifest, with
 * j->manifest, j->digest and j->v1id set.  SQUASH_INDEX: an index;
 * j->manifest.chosen names the platform's manifest, whose document comes
 * here next.  SQUASH_NOT_FOUND (no manifest for the platform),
 * SQUASH_UNSUPPORTED or SQUASH_ERROR, with j->err set.
 */
int squash_job_manifest(squash_job_t *j, const char *data, size_t len,
    const char *reference, size_t reference_len,
    const squash_platform_t *platform, size_t max_layers);

/*
 * An index served whole (j->whole_index, set before its document): its
 * next image in j->manifest.chosen, SQUASH_DONE after the last.  Once an
 * image's documents are made, squash_job_index_add() puts its manifest in
 * the index and makes the job new for the next image;
 * squash_job_index_doc() makes the index (an OCI index, or a Docker
 * manifest list) in j->docs.manifest.
 */
int squash_job_index_next(squash_job_t *j);
int squash_job_index_add(squash_job_t *j);
int squash_job_index_doc(squash_job_t *j, int docker);

/*
 * The config document: it must have the digest the manifest names, and a
 * sha256 diff_id for each layer.  SQUASH_OK or SQUASH_ERROR.  Then the
 * layers kept are known (j->keep_wanted, all but the top one at most: the
 * layers above are merged as a diff over them), and j->key.
 */
int squash_job_config(squash_job_t *j, const char *data, size_t len,
    const squash_platform_t *platform);

/* the manifest's layers, bottom up; those merged, the top ones */
#define squash_job_layers(j)        ((j)->manifest.nlayers)
#define squash_job_merged_layers(j) ((j)->manifest.nlayers - (j)->keep)
#define squash_job_layer(j, i)      (&(j)->manifest.layers[i])
const char *squash_job_diff_id(squash_job_t *j, size_t i);

/*
 * The archive's prefix and a trailer of its final length, for layer.tar
 * of layer_size bytes (merged entries, end blocks, zeros).
 */
int squash_job_start(squash_job_t *j, const char *name, size_t name_len,
    const char *repo, const char *tag, unsigned formats,
    uint64_t layer_size);

/*
 * The registry API (squash_pull): layer.tar alone, of layer_size bytes,
 * with no archive around it
 */
int squash_job_start_layer(squash_job_t *j, uint64_t layer_size);

/*
 * The digest of layer.tar when it is known before (the size cache).  With
 * check, layer.tar is hashed still and j->diff_id is what it streamed as
 * after squash_job_finish(), for the caller to compare.  Without, it is
 * not hashed: layer.tar is a function of the image's blobs, each checked
 * against its digest as it streams, and of its size (the key and the size
 * the digest was cached with), so the digest made before holds.
 */
int squash_job_set_diff_id(squash_job_t *j, const char *diff_id, int check);

/*
 * The squashed image's config and manifest (OCI, or Docker schema 2 where
 * docker is set) in j->docs, with their digests, for layer.tar of
 * layer_size bytes and the digest j->diff_id
 */
int squash_job_documents(squash_job_t *j, const char *name, size_t name_len,
    int docker, uint64_t layer_size);

/* 32 hex digits naming everything the archive's bytes depend on */
int squash_job_etag(squash_job_t *j, char *hex);

/*
 * Bytes of layer.tar as they go out: hashed and counted.  SQUASH_ERROR
 * when they would exceed the size promised; the room for the end blocks
 * is kept until end is set.
 */
int squash_job_layer_bytes(squash_job_t *j, const void *p, size_t n,
    int end);

/*
 * After the last layer: the directories to write again, in j->restate.
 * SQUASH_DECLINED when they do not fit the promised size (j->restate is
 * then empty).
 */
int squash_job_restate(squash_job_t *j);

/* after the whole of layer.tar: the trailer, for its digest */
int squash_job_finish(squash_job_t *j);

/*
 * A counting pass before the archive starts (squash_layer_size exact):
 * the layers are merged as for the archive, with no size to keep to.
 * After the last layer and the directories written again,
 * squash_job_rewind() gives the exact size of layer.tar (no padding),
 * sets j->diff_id to its digest and makes the job new for the archive,
 * which makes the same bytes and does not hash them again.
 */
void squash_job_measure(squash_job_t *j);
int squash_job_rewind(squash_job_t *j, uint64_t *size);


#endif /* _SQUASH_JOB_H_INCLUDED_ */
