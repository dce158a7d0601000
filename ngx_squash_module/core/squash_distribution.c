
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the distribution API's routes, media types and errors.
 */


#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "squash_distribution.h"
#include "squash_image.h"


#define SQUASH_API_PREFIX  "/v2/"


static int squash_api_refuse(squash_api_path_t *p, int rc,
    const char *error);


int
squash_api_path(const char *uri, size_t len, squash_api_path_t *p)
{
    size_t       n, plen;
    const char  *slash, *end, *kind;

    memset(p, 0, sizeof(squash_api_path_t));

    plen = sizeof(SQUASH_API_PREFIX) - 1;

    if (len < plen || memcmp(uri, SQUASH_API_PREFIX, plen) != 0) {
        return squash_api_refuse(p, SQUASH_NOT_FOUND, "UNSUPPORTED");
    }

    if (len == plen) {
        p->route = SQUASH_API_BASE;
        return SQUASH_OK;
    }

    end = uri + len;

    /* "<name>/<kind>/<reference>": the reference has no "/" */

    for (slash = end - 1; slash > uri + plen && *slash != '/'; slash--) {
        /* void */
    }

    p->reference = slash + 1;
    p->reference_len = end - p->reference;

    for (kind = slash - 1; kind > uri + plen && *kind != '/'; kind--) {
        /* void */
    }

    if (kind <= uri + plen) {
        return squash_api_refuse(p, SQUASH_NOT_FOUND, "UNSUPPORTED");
    }

    n = slash - (kind + 1);

    if (n == sizeof("manifests") - 1
        && memcmp(kind + 1, "manifests", n) == 0)
    {
        p->route = SQUASH_API_MANIFEST;

    } else if (n == sizeof("blobs") - 1 && memcmp(kind + 1, "blobs", n) == 0)
    {
        p->route = SQUASH_API_BLOB;

    } else if (n == sizeof("tags") - 1 && memcmp(kind + 1, "tags", n) == 0
               && p->reference_len == sizeof("list") - 1
               && memcmp(p->reference, "list", p->reference_len) == 0)
    {
        p->route = SQUASH_API_TAGS;

    } else {
        return squash_api_refuse(p, SQUASH_NOT_FOUND, "UNSUPPORTED");
    }

    p->name = uri + plen;
    p->name_len = kind - p->name;

    if (!squash_is_name(p->name, p->name_len)) {
        return squash_api_refuse(p, SQUASH_ERROR, "NAME_INVALID");
    }

    if (p->route == SQUASH_API_TAGS) {
        return SQUASH_OK;
    }

    switch (squash_reference_kind(p->reference, p->reference_len)) {

    case SQUASH_REF_DIGEST:
        return SQUASH_OK;

    case SQUASH_REF_TAG:
        if (p->route == SQUASH_API_MANIFEST) {
            return SQUASH_OK;
        }

        /* fall through */

    default:
        return squash_api_refuse(p, SQUASH_ERROR,
                                 p->route == SQUASH_API_MANIFEST
                                 ? "MANIFEST_INVALID" : "DIGEST_INVALID");
    }
}


int
squash_api_tags_args(const char *args, size_t len, char *out, size_t size,
    const char **error)
{
    size_t       i, klen, n_len, last_len;
    const char  *p, *end, *amp, *eq, *n, *last;

    n = NULL;
    last = NULL;
    n_len = 0;
    last_len = 0;
    end = args + len;

    for (p = args; p < end; p = amp + 1) {
        amp = memchr(p, '&', end - p);
        if (amp == NULL) {
            amp = end;
        }

        eq = memchr(p, '=', amp - p);
        klen = (eq ? eq : amp) - p;

        if (klen == 1 && p[0] == 'n') {
            n = eq ? eq + 1 : amp;
            n_len = amp - n;

        } else if (klen == 4 && memcmp(p, "last", 4) == 0) {
            last = eq ? eq + 1 : amp;
            last_len = amp - last;
        }
    }

    if (n) {
        for (i = 0; i < n_len; i++) {
            if (n[i] < '0' || n[i] > '9') {
                break;
            }
        }

        if (n_len == 0 || n_len > 10 || i < n_len) {
            *error = "PAGINATION_NUMBER_INVALID";
            return SQUASH_ERROR;
        }
    }

    if (last && squash_reference_kind(last, last_len) != SQUASH_REF_TAG) {
        *error = "TAG_INVALID";
        return SQUASH_ERROR;
    }

    snprintf(out, size, "%s%.*s%s%s%.*s",
             n ? "n=" : "", (int) n_len, n ? n : "",
             n && last ? "&" : "",
             last ? "last=" : "", (int) last_len, last ? last : "");

    return SQUASH_OK;
}


static int
squash_api_refuse(squash_api_path_t *p, int rc, const char *error)
{
    p->error = error;
    return rc;
}


int
squash_api_accepts(const char *accept, size_t len, const char *media_type)
{
    size_t       n;
    const char  *p, *end, *item;

    n = strlen(media_type);
    p = accept;
    end = accept + len;

    while (p < end) {
        /* one item of a comma separated list, its parameters after ";" */

        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        item = p;

        while (p < end && *p != ',' && *p != ';' && *p != ' '
               && *p != '\t')
        {
            p++;
        }

        if ((size_t) (p - item) == n && strncasecmp(item, media_type, n) == 0)
        {
            return 1;
        }

        while (p < end && *p != ',') {
            p++;
        }
    }

    return 0;
}


char *
squash_api_error(const char *code, const char *message, size_t *len)
{
    char    *s;
    json_t  *v;

    v = json_pack("{s:[{s:s, s:s}]}", "errors", "code", code, "message",
                  message);
    if (v == NULL) {
        return NULL;
    }

    s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(v);

    if (s) {
        *len = strlen(s);
    }

    return s;
}
