
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: image documents.  Parses manifests, indexes and configs
 * (jansson) and writes the JSON documents of the squashed archive.
 * Everything written is compact with sorted keys: the same image gives
 * the same bytes.
 */

#ifndef _SQUASH_IMAGE_H_INCLUDED_
#define _SQUASH_IMAGE_H_INCLUDED_


#include <jansson.h>

#include "squash_core.h"
#include "squash_decomp.h"
#include "squash_digest.h"




#define SQUASH_MT_OCI_MANIFEST                                                \
    "application/vnd.oci.image.manifest.v1+json"
#define SQUASH_MT_OCI_INDEX                                                   \
    "application/vnd.oci.image.index.v1+json"
#define SQUASH_MT_DOCKER_MANIFEST                                             \
    "application/vnd.docker.distribution.manifest.v2+json"
#define SQUASH_MT_DOCKER_LIST                                                 \
    "application/vnd.docker.distribution.manifest.list.v2+json"

#define SQUASH_MT_OCI_CONFIG                                                  \
    "application/vnd.oci.image.config.v1+json"
#define SQUASH_MT_OCI_LAYER                                                   \
    "application/vnd.oci.image.layer.v1.tar"
#define SQUASH_MT_DOCKER_CONFIG                                               \
    "application/vnd.docker.container.image.v1+json"
#define SQUASH_MT_DOCKER_LAYER                                                \
    "application/vnd.docker.image.rootfs.diff.tar"

#define SQUASH_MANIFEST_ACCEPT                                                \
    SQUASH_MT_OCI_MANIFEST ", " SQUASH_MT_OCI_INDEX ", "                      \
    SQUASH_MT_DOCKER_MANIFEST ", " SQUASH_MT_DOCKER_LIST


typedef enum {
    SQUASH_DOC_IMAGE = 1,
    SQUASH_DOC_INDEX
} squash_doc_e;


typedef struct {
    char            digest[SQUASH_DIGEST_LEN + 1];
    int64_t         size;
    squash_comp_e   comp;
} squash_blob_t;


/* an image of an index, and the manifest it is served as squashed */

typedef struct {
    squash_blob_t   source;
    json_t         *platform;
    char            digest[SQUASH_DIGEST_LEN + 1];
    size_t          size;
} squash_index_item_t;


typedef struct {
    squash_doc_e          kind;
    squash_blob_t         chosen;   /* an index: the platform's manifest */
    squash_blob_t         config;
    squash_blob_t        *layers;
    size_t                nlayers;

    /* an index: its images, those of known platforms */
    squash_index_item_t  *items;
    size_t                nitems;
} squash_manifest_t;


typedef struct {
    const char     *os;
    const char     *arch;
    const char     *variant;    /* NULL: any */
} squash_platform_t;


/* repository name: lower-case components, at most 255 bytes */
int squash_is_name(const char *s, size_t len);

/*
 * The domain of an image reference (distribution's reference grammar):
 * components of [A-Za-z0-9] with inner "-", separated by ".", or an
 * IPv6 address in brackets; then an optional ":port"
 */
int squash_is_host(const char *s, size_t len);

/* SQUASH_REF_TAG, SQUASH_REF_DIGEST, or 0 when invalid */
#define SQUASH_REF_TAG      1
#define SQUASH_REF_DIGEST   2
int squash_reference_kind(const char *s, size_t len);

/* "os/arch[/variant]"; s is cut in place */
int squash_platform_parse(char *s, squash_platform_t *p);

/*
 * Parses a manifest or an index, in one pass.  SQUASH_OK for an image
 * manifest; SQUASH_INDEX for an index, with m->items its image manifests
 * (not attestations: their platform is "unknown") and m->chosen the one
 * for the platform (one without a variant wins where none is asked for;
 * none chosen where platform is NULL); SQUASH_NOT_FOUND when the index
 * has none; SQUASH_UNSUPPORTED (schema1 and other kinds, err says which)
 * or SQUASH_ERROR.
 */
int squash_manifest_parse(const char *data, size_t len,
    const squash_platform_t *platform, size_t max_layers,
    squash_manifest_t *m, char *err);
void squash_manifest_free(squash_manifest_t *m);

/* the config, checked to be a JSON object */
json_t *squash_config_parse(const char *data, size_t len, char *err);
long long squash_config_created(json_t *config);

/* rootfs.diff_ids[i], or NULL */
const char *squash_config_diff_id(json_t *config, size_t i);
size_t squash_config_diff_ids(json_t *config);

/* documents of the archive; malloc()ed, NUL-terminated, length in *len */
/*
 * the legacy json of the top layer: the config with our id, and the id of
 * the layer below it (parent, NULL for none)
 */
char *squash_doc_v1_json(json_t *config, const char *v1id, const char *parent,
    size_t *len);
/* the legacy json of a base layer kept below it */
char *squash_doc_v1_base(json_t *config, const char *v1id,
    const char *parent, size_t *len);
/*
 * The config of the squashed image: rootfs.diff_ids and history those of
 * the keep base layers kept, then the one merged layer's
 */
char *squash_doc_config(json_t *config, size_t keep, const char *diff_id_hex,
    const char *created_by, size_t *len);
char *squash_doc_repositories(const char *repo, const char *tag,
    const char *v1id, size_t *len);
/* manifest.json: the layers' paths, bottom up */
char *squash_doc_manifest(const char *config_path, const char *repo_tag,
    const char *const *layer_paths, size_t nlayers, size_t *len);
/*
 * An image manifest, OCI or (docker) Docker schema 2: the kept layers as
 * they are, then the merged layer, uncompressed
 */
char *squash_doc_image_manifest(int docker, const char *config_hex,
    size_t config_size, const squash_blob_t *kept, size_t nkept,
    const char *layer_hex, uint64_t layer_size, size_t *len);
/* an index (OCI, or a Docker manifest list) of the items' manifests */
char *squash_doc_index(int docker, const squash_index_item_t *items,
    size_t n, size_t *len);
char *squash_doc_oci_index(const char *manifest_hex, size_t manifest_size,
    const char *image_name, const char *ref_name, size_t *len);


#endif /* _SQUASH_IMAGE_H_INCLUDED_ */
