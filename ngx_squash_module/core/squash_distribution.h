
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the distribution (registry) API as the edge serves it
 * (squash_pull): its routes, the manifest media type a client accepts,
 * and its JSON errors.
 */

#ifndef _SQUASH_DISTRIBUTION_H_INCLUDED_
#define _SQUASH_DISTRIBUTION_H_INCLUDED_


#include "squash_core.h"


typedef enum {
    SQUASH_API_BASE = 1,        /* /v2/ */
    SQUASH_API_MANIFEST,        /* /v2/<name>/manifests/<tag or digest> */
    SQUASH_API_BLOB,            /* /v2/<name>/blobs/<digest> */
    SQUASH_API_TAGS             /* /v2/<name>/tags/list */
} squash_api_route_e;


typedef struct {
    squash_api_route_e   route;
    const char          *name;
    size_t               name_len;
    const char          *reference;
    size_t               reference_len;

    /* where the path is refused: the API's error code for it */
    const char          *error;
} squash_api_path_t;


/*
 * A request path (not decoded: the API's names and references need no
 * escapes).  SQUASH_OK with p->route set; SQUASH_NOT_FOUND for a route the
 * edge does not serve (p->error "UNSUPPORTED"), SQUASH_ERROR for a bad
 * name, tag or digest (p->error NAME_INVALID, MANIFEST_INVALID or
 * DIGEST_INVALID).
 */
int squash_api_path(const char *uri, size_t len, squash_api_path_t *p);

/*
 * Whether an Accept header value lists media_type (by itself or with
 * parameters; wildcards do not count)
 */
int squash_api_accepts(const char *accept, size_t len,
    const char *media_type);

/*
 * The arguments of a tags list passed on to the registry: "n=<count>" and
 * "last=<tag>" of the query args (len bytes, not decoded: neither needs
 * escapes), in that order, written to out (size bytes, NUL-terminated);
 * others are dropped.  SQUASH_OK, or SQUASH_ERROR with *error the API's
 * code (PAGINATION_NUMBER_INVALID, TAG_INVALID).
 */
#define SQUASH_API_TAGS_ARGS_LEN  (sizeof("n=&last=") + 10 + 128)
int squash_api_tags_args(const char *args, size_t len, char *out,
    size_t size, const char **error);

/* {"errors":[{"code":...,"message":...}]}; malloc()ed, length in *len */
char *squash_api_error(const char *code, const char *message, size_t *len);


#endif /* _SQUASH_DISTRIBUTION_H_INCLUDED_ */
