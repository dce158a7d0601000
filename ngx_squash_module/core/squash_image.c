
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: image documents (manifests, indexes, configs).
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "squash_image.h"


#define SQUASH_JSON_FLAGS  (JSON_COMPACT | JSON_SORT_KEYS)


static int squash_err(char *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static json_t *squash_json_load(const char *data, size_t len, char *err);
static char *squash_json_dump(json_t *v, size_t *len);
static char *squash_doc_pack(size_t *len, const char *fmt, ...);
static int squash_index_items(json_t *root, squash_manifest_t *m,
    char *err);
static int squash_index_select(json_t *root, const squash_platform_t *p,
    squash_blob_t *chosen, char *err);


static int
squash_is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}


int
squash_is_name(const char *s, size_t len)
{
    size_t  i;
    int     after_alnum;

    /* [a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)* */

    if (len == 0 || len > 255) {
        return 0;
    }

    after_alnum = 0;

    for (i = 0; i < len; i++) {
        if (squash_is_lower_alnum(s[i])) {
            after_alnum = 1;
            continue;
        }

        if (!after_alnum
            || (s[i] != '.' && s[i] != '_' && s[i] != '-' && s[i] != '/'))
        {
            return 0;
        }

        after_alnum = 0;
    }

    return after_alnum;
}


int
squash_is_host(const char *s, size_t len)
{
    size_t  i, start;
    char    c;

    if (len == 0 || len > 255) {
        return 0;
    }

    i = 0;

    if (s[0] == '[') {
        /* [IPv6] */
        for (i = 1; i < len && s[i] != ']'; i++) {
            c = s[i];

            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
                  || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
            {
                return 0;
            }
        }

        if (i == len || i == 1) {
            return 0;
        }

        i++;

    } else {
        for ( ;; ) {
            start = i;

            while (i < len
                   && ((s[i] >= 'a' && s[i] <= 'z')
                       || (s[i] >= 'A' && s[i] <= 'Z')
                       || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            {
                i++;
            }

            if (i == start || s[start] == '-' || s[i - 1] == '-') {
                return 0;
            }

            if (i < len && s[i] == '.') {
                i++;
                continue;
            }

            break;
        }
    }

    if (i == len) {
        return 1;
    }

    if (s[i] != ':' || i + 1 == len) {
        return 0;
    }

    for (i++; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    return 1;
}


int
squash_reference_kind(const char *s, size_t len)
{
    size_t  i;
    char    c;

    if (squash_is_digest(s, len)) {
        return SQUASH_REF_DIGEST;
    }

    /* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */

    if (len == 0 || len > 128) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = s[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_')
        {
            continue;
        }

        if (i == 0 || (c != '.' && c != '-')) {
            return 0;
        }
    }

    return SQUASH_REF_TAG;
}


int
squash_platform_parse(char *s, squash_platform_t *p)
{
    char  *part[3], *c;
    int    n;

    n = 0;
    part[0] = s;

    for (c = s; *c; c++) {
        if (*c == '/') {
            if (n == 2) {
                return SQUASH_ERROR;
            }

            *c = '\0';
            part[++n] = c + 1;
            continue;
        }

        if (!squash_is_lower_alnum(*c) && *c != '.' && *c != '_'
            && *c != '-')
        {
            return SQUASH_ERROR;
        }
    }

    if (n < 1) {
        return SQUASH_ERROR;
    }

    for (int i = 0; i <= n; i++) {
        if (*part[i] == '\0') {
            return SQUASH_ERROR;
        }
    }

    p->os = part[0];
    p->arch = part[1];
    p->variant = (n == 2) ? part[2] : NULL;

    return SQUASH_OK;
}


static int
squash_comp_from_media_type(const char *mt, squash_comp_e *comp)
{
    size_t  n;

    static const struct {
        const char     *suffix;
        squash_comp_e   comp;
    } types[] = {
        { "tar", SQUASH_COMP_NONE },
        { "tar+gzip", SQUASH_COMP_GZIP },
        { "tar+zstd", SQUASH_COMP_ZSTD },
        { "tar.gzip", SQUASH_COMP_GZIP },
        { "tar.zstd", SQUASH_COMP_ZSTD },
        { NULL, SQUASH_COMP_NONE }
    };

    static const char  *prefixes[] = {
        "application/vnd.oci.image.layer.v1.",
        "application/vnd.oci.image.layer.nondistributable.v1.",
        "application/vnd.docker.image.rootfs.diff.",
        "application/vnd.docker.image.rootfs.foreign.diff.",
        NULL
    };

    const char  **p;
    int           i;

    for (p = prefixes; *p; p++) {
        n = strlen(*p);

        if (strncmp(mt, *p, n) != 0) {
            continue;
        }

        for (i = 0; types[i].suffix; i++) {
            if (strcmp(mt + n, types[i].suffix) == 0) {
                *comp = types[i].comp;
                return SQUASH_OK;
            }
        }
    }

    return SQUASH_ERROR;
}


static int
squash_blob_parse(json_t *desc, squash_blob_t *b, const char *what,
    size_t index, char *err)
{
    json_t      *digest, *size;
    const char  *s;

    digest = json_object_get(desc, "digest");
    size = json_object_get(desc, "size");

    if (!json_is_string(digest)
        || !squash_is_digest(json_string_value(digest),
                                json_string_length(digest)))
    {
        return squash_err(err, "%s %zu has no valid sha256 digest", what,
                          index);
    }

    if (!json_is_integer(size) || json_integer_value(size) < 0) {
        return squash_err(err, "%s %zu has no valid size", what, index);
    }

    s = json_string_value(digest);
    memcpy(b->digest, s, SQUASH_DIGEST_LEN + 1);
    b->size = json_integer_value(size);
    b->comp = SQUASH_COMP_NONE;

    return SQUASH_OK;
}


int
squash_manifest_parse(const char *data, size_t len,
    const squash_platform_t *platform, size_t max_layers,
    squash_manifest_t *m, char *err)
{
    int          rc;
    size_t       i;
    json_t      *root, *mt, *layers, *layer, *lmt, *config;
    const char  *type;

    memset(m, 0, sizeof(squash_manifest_t));

    root = squash_json_load(data, len, err);
    if (root == NULL) {
        return SQUASH_ERROR;
    }

    rc = SQUASH_ERROR;

    if (json_integer_value(json_object_get(root, "schemaVersion")) == 1) {
        squash_err(err, "schema1 manifests are not supported; "
                   "push the image again with a current client");
        rc = SQUASH_UNSUPPORTED;
        goto done;
    }

    mt = json_object_get(root, "mediaType");
    type = json_is_string(mt) ? json_string_value(mt) : NULL;

    if (json_is_array(json_object_get(root, "manifests"))
        && (type == NULL || strcmp(type, SQUASH_MT_OCI_INDEX) == 0
            || strcmp(type, SQUASH_MT_DOCKER_LIST) == 0))
    {
        m->kind = SQUASH_DOC_INDEX;

        if (squash_index_items(root, m, err) != SQUASH_OK) {
            goto done;
        }

        rc = (platform == NULL)
             ? SQUASH_INDEX
             : squash_index_select(root, platform, &m->chosen, err);
        goto done;
    }

    if (type && strcmp(type, SQUASH_MT_OCI_MANIFEST) != 0
        && strcmp(type, SQUASH_MT_DOCKER_MANIFEST) != 0)
    {
        squash_err(err, "unsupported manifest media type \"%s\"", type);
        rc = SQUASH_UNSUPPORTED;
        goto done;
    }

    config = json_object_get(root, "config");
    layers = json_object_get(root, "layers");

    if (!json_is_object(config) || !json_is_array(layers)) {
        squash_err(err, "manifest has no config or layers");
        goto done;
    }

    if (squash_blob_parse(config, &m->config, "config", 0, err) != SQUASH_OK) {
        goto done;
    }

    if (json_array_size(layers) == 0) {
        squash_err(err, "manifest has no layers");
        goto done;
    }

    if (json_array_size(layers) > max_layers) {
        squash_err(err, "manifest has %zu layers, more than the limit of %zu",
                   json_array_size(layers), max_layers);
        rc = SQUASH_UNSUPPORTED;
        goto done;
    }

    m->nlayers = json_array_size(layers);
    m->layers = calloc(m->nlayers, sizeof(squash_blob_t));
    if (m->layers == NULL) {
        squash_err(err, "out of memory");
        goto done;
    }

    json_array_foreach(layers, i, layer) {
        if (squash_blob_parse(layer, &m->layers[i], "layer", i, err)
            != SQUASH_OK)
        {
            goto done;
        }

        lmt = json_object_get(layer, "mediaType");

        if (!json_is_string(lmt)
            || squash_comp_from_media_type(json_string_value(lmt),
                                           &m->layers[i].comp)
               != SQUASH_OK)
        {
            squash_err(err, "layer %zu has unsupported media type \"%s\"",
                       i, json_is_string(lmt) ? json_string_value(lmt) : "");
            rc = SQUASH_UNSUPPORTED;
            goto done;
        }
    }

    m->kind = SQUASH_DOC_IMAGE;
    rc = SQUASH_OK;

done:

    json_decref(root);

    if (rc != SQUASH_OK && rc != SQUASH_INDEX) {
        squash_manifest_free(m);
    }

    return rc;
}


void
squash_manifest_free(squash_manifest_t *m)
{
    size_t  i;

    free(m->layers);
    m->layers = NULL;
    m->nlayers = 0;

    for (i = 0; i < m->nitems; i++) {
        json_decref(m->items[i].platform);
    }

    free(m->items);
    m->items = NULL;
    m->nitems = 0;
}


static int
squash_str_eq(json_t *v, const char *s)
{
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}


static int
squash_index_items(json_t *root, squash_manifest_t *m, char *err)
{
    size_t   i, n;
    json_t  *list, *item, *pl, *mt;

    list = json_object_get(root, "manifests");
    n = json_array_size(list);

    m->items = calloc(n ? n : 1, sizeof(squash_index_item_t));
    if (m->items == NULL) {
        return squash_err(err, "out of memory");
    }

    json_array_foreach(list, i, item) {
        pl = json_object_get(item, "platform");
        mt = json_object_get(item, "mediaType");

        if (!json_is_string(json_object_get(pl, "os"))
            || !json_is_string(json_object_get(pl, "architecture"))
            || squash_str_eq(json_object_get(pl, "os"), "unknown")
            || (mt && !squash_str_eq(mt, SQUASH_MT_OCI_MANIFEST)
                && !squash_str_eq(mt, SQUASH_MT_DOCKER_MANIFEST)))
        {
            continue;
        }

        if (squash_blob_parse(item, &m->items[m->nitems].source, "manifest",
                              i, err)
            != SQUASH_OK)
        {
            return SQUASH_ERROR;
        }

        m->items[m->nitems].platform = json_incref(pl);
        m->nitems++;
    }

    return SQUASH_OK;
}


static int
squash_index_select(json_t *root, const squash_platform_t *p,
    squash_blob_t *chosen, char *err)
{
    size_t   i;
    json_t  *item, *pl, *v, *best;

    best = NULL;

    json_array_foreach(json_object_get(root, "manifests"), i, item) {
        pl = json_object_get(item, "platform");

        if (!squash_str_eq(json_object_get(pl, "os"), p->os)
            || !squash_str_eq(json_object_get(pl, "architecture"), p->arch))
        {
            continue;
        }

        v = json_object_get(pl, "variant");

        if (p->variant) {
            if (squash_str_eq(v, p->variant)) {
                best = item;
                break;
            }

            continue;
        }

        /* without a variant asked for, one without a variant wins */

        if (v == NULL) {
            best = item;
            break;
        }

        if (best == NULL) {
            best = item;
        }
    }

    if (best == NULL) {
        squash_err(err, "no manifest for platform %s/%s%s%s in the index",
                   p->os, p->arch, p->variant ? "/" : "",
                   p->variant ? p->variant : "");
        return SQUASH_NOT_FOUND;
    }

    if (squash_blob_parse(best, chosen, "manifest", 0, err) != SQUASH_OK) {
        return SQUASH_ERROR;
    }

    return SQUASH_INDEX;
}


json_t *
squash_config_parse(const char *data, size_t len, char *err)
{
    json_t  *root;

    root = squash_json_load(data, len, err);
    if (root == NULL) {
        return NULL;
    }

    if (!json_is_object(root)) {
        squash_err(err, "image config is not a JSON object");
        json_decref(root);
        return NULL;
    }

    return root;
}


size_t
squash_config_diff_ids(json_t *config)
{
    return json_array_size(json_object_get(json_object_get(config, "rootfs"),
                                           "diff_ids"));
}


const char *
squash_config_diff_id(json_t *config, size_t i)
{
    json_t  *id;

    id = json_array_get(json_object_get(json_object_get(config, "rootfs"),
                                        "diff_ids"), i);

    if (!json_is_string(id)
        || !squash_is_digest(json_string_value(id), json_string_length(id)))
    {
        return NULL;
    }

    return json_string_value(id);
}


long long
squash_config_created(json_t *config)
{
    int          y, mo, d, h, mi, s;
    struct tm    tm;
    json_t      *created;

    created = json_object_get(config, "created");

    if (!json_is_string(created)
        || sscanf(json_string_value(created), "%4d-%2d-%2dT%2d:%2d:%2d",
                  &y, &mo, &d, &h, &mi, &s) != 6
        || y < 1970)
    {
        return 0;
    }

    memset(&tm, 0, sizeof(struct tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;

    return (long long) timegm(&tm);
}


static void
squash_set_image_id(json_t *obj, const char *key, const char *v1id)
{
    json_t  *c;

    c = json_object_get(obj, key);

    if (json_is_object(c) && json_object_get(c, "Image")) {
        json_object_set_new(c, "Image", json_string(v1id));
    }
}


char *
squash_doc_v1_json(json_t *config, const char *v1id, const char *parent,
    size_t *len)
{
    char    *s;
    json_t  *v1;

    /* as Quay did: the leaf config with our id, without parent */

    v1 = json_deep_copy(config);
    if (v1 == NULL) {
        return NULL;
    }

    json_object_del(v1, "rootfs");
    json_object_del(v1, "history");
    json_object_del(v1, "parent");
    json_object_set_new(v1, "id", json_string(v1id));

    if (parent) {
        json_object_set_new(v1, "parent", json_string(parent));
    }

    squash_set_image_id(v1, "config", v1id);
    squash_set_image_id(v1, "container_config", v1id);

    s = squash_json_dump(v1, len);
    json_decref(v1);

    return s;
}


char *
squash_doc_v1_base(json_t *config, const char *v1id, const char *parent,
    size_t *len)
{
    char        *s;
    size_t       i;
    json_t      *v1;
    const char  *key;

    static const char  *keys[] = { "created", "os", "architecture" };

    /* as docker save writes a lower layer's: no config of its own */

    v1 = json_pack("{s:s}", "id", v1id);
    if (v1 == NULL) {
        return NULL;
    }

    if (parent) {
        json_object_set_new(v1, "parent", json_string(parent));
    }

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        key = keys[i];

        if (json_is_string(json_object_get(config, key))) {
            json_object_set(v1, key, json_object_get(config, key));
        }
    }

    s = squash_json_dump(v1, len);
    json_decref(v1);

    return s;
}


char *
squash_doc_config(json_t *config, size_t keep, const char *diff_id_hex,
    const char *created_by, size_t *len)
{
    char    *s, id[SQUASH_DIGEST_LEN + 1];
    size_t   i, layers;
    json_t  *c, *rootfs, *diff_ids, *history, *entry, *created, *item;

    c = json_deep_copy(config);
    if (c == NULL) {
        return NULL;
    }

    snprintf(id, sizeof(id), "sha256:%s", diff_id_hex);

    /* the kept layers' diff_ids and history, then the merged layer's */

    diff_ids = json_array();
    history = json_array();
    entry = json_pack("{s:s, s:s}", "created_by", created_by,
                      "comment", "squashed by ngx_squash");

    if (diff_ids == NULL || history == NULL || entry == NULL) {
        goto failed;
    }

    for (i = 0; i < keep; i++) {
        if (json_array_append_new(diff_ids,
                                  json_string(squash_config_diff_id(config,
                                                                    i)))
            != 0)
        {
            goto failed;
        }
    }

    layers = 0;

    json_array_foreach(json_object_get(config, "history"), i, item) {
        if (layers == keep) {
            break;
        }

        if (!json_is_true(json_object_get(item, "empty_layer"))) {
            layers++;
        }

        if (json_array_append(history, item) != 0) {
            goto failed;
        }
    }

    if (json_array_append_new(diff_ids, json_string(id)) != 0) {
        goto failed;
    }

    rootfs = json_pack("{s:s, s:o}", "type", "layers", "diff_ids", diff_ids);
    diff_ids = NULL;

    if (rootfs == NULL) {
        goto failed;
    }

    created = json_object_get(config, "created");
    if (json_is_string(created)) {
        json_object_set(entry, "created", created);
    }

    json_array_append_new(history, entry);
    entry = NULL;
    json_object_set_new(c, "rootfs", rootfs);
    json_object_set_new(c, "history", history);

    s = squash_json_dump(c, len);
    json_decref(c);

    return s;

failed:

    json_decref(diff_ids);
    json_decref(history);
    json_decref(entry);
    json_decref(c);

    return NULL;
}


/* a document from a json_pack() format, dumped compact and sorted */

static char *
squash_doc_pack(size_t *len, const char *fmt, ...)
{
    char     *s;
    json_t   *v;
    va_list   args;

    va_start(args, fmt);
    v = json_vpack_ex(NULL, 0, fmt, args);
    va_end(args);

    if (v == NULL) {
        return NULL;
    }

    s = squash_json_dump(v, len);
    json_decref(v);

    return s;
}


char *
squash_doc_repositories(const char *repo, const char *tag, const char *v1id,
    size_t *len)
{
    return squash_doc_pack(len, "{s:{s:s}}", repo, tag, v1id);
}


char *
squash_doc_manifest(const char *config_path, const char *repo_tag,
    const char *const *layer_paths, size_t nlayers, size_t *len)
{
    size_t   i;
    json_t  *layers;

    layers = json_array();
    if (layers == NULL) {
        return NULL;
    }

    for (i = 0; i < nlayers; i++) {
        if (json_array_append_new(layers, json_string(layer_paths[i])) != 0)
        {
            json_decref(layers);
            return NULL;
        }
    }

    return squash_doc_pack(len, "[{s:s, s:[s], s:o}]",
                           "Config", config_path, "RepoTags", repo_tag,
                           "Layers", layers);
}


/* a kept layer's media type, in the manifest's kind */

static const char *
squash_layer_media_type(squash_comp_e comp, int docker)
{
    switch (comp) {

    case SQUASH_COMP_GZIP:
        return docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
                      : "application/vnd.oci.image.layer.v1.tar+gzip";

    case SQUASH_COMP_ZSTD:
        return "application/vnd.oci.image.layer.v1.tar+zstd";

    default:
        return docker ? SQUASH_MT_DOCKER_LAYER : SQUASH_MT_OCI_LAYER;
    }
}


char *
squash_doc_image_manifest(int docker, const char *config_hex,
    size_t config_size, const squash_blob_t *kept, size_t nkept,
    const char *layer_hex, uint64_t layer_size, size_t *len)
{
    char    *s;
    size_t   i;
    json_t  *layers, *layer, *root;

    layers = json_array();
    if (layers == NULL) {
        return NULL;
    }

    for (i = 0; i <= nkept; i++) {
        if (i < nkept) {
            layer = json_pack("{s:s, s:s, s:I}",
                              "mediaType",
                              squash_layer_media_type(kept[i].comp, docker),
                              "digest", kept[i].digest,
                              "size", (json_int_t) kept[i].size);

        } else {
            layer = json_pack("{s:s, s:s+, s:I}",
                              "mediaType", docker ? SQUASH_MT_DOCKER_LAYER
                                                  : SQUASH_MT_OCI_LAYER,
                              "digest", "sha256:", layer_hex,
                              "size", (json_int_t) layer_size);
        }

        if (layer == NULL || json_array_append_new(layers, layer) != 0) {
            json_decref(layers);
            return NULL;
        }
    }

    root = json_pack("{s:i, s:s, s:{s:s, s:s+, s:I}, s:o}",
                     "schemaVersion", 2,
                     "mediaType", docker ? SQUASH_MT_DOCKER_MANIFEST
                                         : SQUASH_MT_OCI_MANIFEST,
                     "config", "mediaType", docker ? SQUASH_MT_DOCKER_CONFIG
                                                   : SQUASH_MT_OCI_CONFIG,
                     "digest", "sha256:", config_hex,
                     "size", (json_int_t) config_size,
                     "layers", layers);
    if (root == NULL) {
        return NULL;
    }

    s = squash_json_dump(root, len);
    json_decref(root);

    return s;
}


char *
squash_doc_index(int docker, const squash_index_item_t *items, size_t n,
    size_t *len)
{
    char    *s;
    size_t   i;
    json_t  *list, *entry, *root;

    list = json_array();
    if (list == NULL) {
        return NULL;
    }

    for (i = 0; i < n; i++) {
        entry = json_pack("{s:s, s:s, s:I, s:O}",
                          "mediaType", docker ? SQUASH_MT_DOCKER_MANIFEST
                                              : SQUASH_MT_OCI_MANIFEST,
                          "digest", items[i].digest,
                          "size", (json_int_t) items[i].size,
                          "platform", items[i].platform);

        if (entry == NULL || json_array_append_new(list, entry) != 0) {
            json_decref(list);
            return NULL;
        }
    }

    root = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2,
                     "mediaType", docker ? SQUASH_MT_DOCKER_LIST
                                         : SQUASH_MT_OCI_INDEX,
                     "manifests", list);
    if (root == NULL) {
        return NULL;
    }

    s = squash_json_dump(root, len);
    json_decref(root);

    return s;
}


char *
squash_doc_oci_index(const char *manifest_hex, size_t manifest_size,
    const char *image_name, const char *ref_name, size_t *len)
{
    return squash_doc_pack(len,
                           "{s:i, s:s, s:[{s:s, s:s+, s:I, s:{s:s, s:s}}]}",
                           "schemaVersion", 2,
                           "mediaType", SQUASH_MT_OCI_INDEX,
                           "manifests", "mediaType", SQUASH_MT_OCI_MANIFEST,
                           "digest", "sha256:", manifest_hex,
                           "size", (json_int_t) manifest_size,
                           "annotations",
                           "io.containerd.image.name", image_name,
                           "org.opencontainers.image.ref.name", ref_name);
}


static json_t *
squash_json_load(const char *data, size_t len, char *err)
{
    json_t        *root;
    json_error_t   e;

    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &e);

    if (root == NULL) {
        squash_err(err, "invalid JSON at line %d column %d: %s", e.line,
                   e.column, e.text);
    }

    return root;
}


static char *
squash_json_dump(json_t *v, size_t *len)
{
    char  *s;

    s = json_dumps(v, SQUASH_JSON_FLAGS);

    if (s) {
        *len = strlen(s);
    }

    return s;
}


static int
squash_err(char *err, const char *fmt, ...)
{
    va_list  args;

    va_start(args, fmt);
    vsnprintf(err, SQUASH_ERRLEN, fmt, args);
    va_end(args);

    return SQUASH_ERROR;
}
