
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the per-layer transformer.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squash_layer.h"


static int squash_layer_pass(squash_layer_t *l, const unsigned char **in,
    const unsigned char *in_end, int last, unsigned char **out,
    const unsigned char *out_end);
static int squash_layer_verify(squash_layer_t *l);
static int squash_layer_check_diff_id(squash_layer_t *l);
static int squash_layer_hash(squash_layer_t *l, squash_sha256_t *sha,
    const unsigned char *p, size_t n);


static const unsigned char  squash_layer_zeros[SQUASH_TAR_BLOCK];


int
squash_layer_init(squash_layer_t *l, squash_comp_e kind,
    const char *digest, const char *diff_id, squash_merger_t *merger,
    size_t scratch_size, size_t meta_limit, int refetch)
{
    memset(l, 0, sizeof(squash_layer_t));

    squash_tar_reader_init(&l->reader, meta_limit);

    l->merger = merger;
    l->scratch_size = scratch_size;
    l->scratch = malloc(scratch_size);

    if (l->scratch == NULL) {
        snprintf(l->err, SQUASH_ERRLEN, "out of memory");
        return SQUASH_ERROR;
    }

    l->sp = l->scratch;
    l->sl = l->scratch;

    l->want_digest = digest;
    l->want_diff_id = diff_id;

    if (squash_sha256_init(&l->blob_sha) != SQUASH_OK
        || squash_sha256_init(&l->diff_sha) != SQUASH_OK)
    {
        snprintf(l->err, SQUASH_ERRLEN, "out of memory");
        return SQUASH_ERROR;
    }

    if (squash_decomp_init(&l->decomp, kind) != SQUASH_OK) {
        memcpy(l->err, l->decomp.err, SQUASH_ERRLEN);
        return SQUASH_ERROR;
    }

    l->refetch = refetch ? 1 : 0;

    if (refetch) {
        squash_merger_begin_refetch(merger);

    } else {
        squash_merger_begin_layer(merger);
    }

    return SQUASH_OK;
}


int
squash_layer_init_kept(squash_layer_t *l, const char *digest, uint64_t size)
{
    memset(l, 0, sizeof(squash_layer_t));

    l->kept = 1;
    l->kept_size = size;
    l->want_digest = digest;

    /* the blob alone: its tar is not read, so diff_sha is not made */

    if (squash_sha256_init(&l->blob_sha) != SQUASH_OK) {
        snprintf(l->err, SQUASH_ERRLEN, "out of memory");
        return SQUASH_ERROR;
    }

    /* SQUASH_COMP_NONE copies, and counts */

    if (squash_decomp_init(&l->decomp, SQUASH_COMP_NONE) != SQUASH_OK) {
        memcpy(l->err, l->decomp.err, SQUASH_ERRLEN);
        return SQUASH_ERROR;
    }

    return SQUASH_OK;
}


void
squash_layer_free(squash_layer_t *l)
{
    squash_decomp_free(&l->decomp);
    squash_tar_reader_free(&l->reader);
    free(l->scratch);
    l->scratch = NULL;

    squash_sha256_free(&l->blob_sha);
    squash_sha256_free(&l->diff_sha);

    if (l->merger) {
        squash_merger_free_links(l->merger, l->rename);
        squash_merger_free_links(l->merger, l->after);
    }

    l->rename = NULL;
    l->after = NULL;
    squash_bytes_free(&l->hdr);
    squash_bytes_free(&l->post);
}


/* the hard links due after the entry whose data just ended */

static int
squash_layer_post(squash_layer_t *l)
{
    squash_link_t  *link;

    l->post.len = 0;

    for (link = l->after; link; link = link->next) {
        if (squash_tar_rewrite(&l->post, link->raw, link->raw_len, link->name,
                               l->after_target, l->err)
            != SQUASH_OK)
        {
            return SQUASH_ERROR;
        }
    }

    l->post_pending = (l->post.len != 0);

    squash_merger_free_links(l->merger, l->after);
    squash_merger_free_links(l->merger, l->rename);
    l->after = NULL;
    l->rename = NULL;

    return SQUASH_OK;
}


static int
squash_layer_event(squash_layer_t *l, squash_tar_event_t *ev)
{
    int                     rc;
    squash_merge_result_t   res;
    squash_tar_entry_t     *e;

    e = &l->reader.entry;

    switch (ev->type) {

    case SQUASH_TAR_EV_HEADER:
        if (l->refetch) {
            rc = squash_merger_refetch_entry(l->merger, e, &res);

        } else {
            rc = squash_merger_entry(l->merger, e, ev->data, ev->len, &res);
        }

        if (rc != SQUASH_OK) {
            snprintf(l->err, SQUASH_ERRLEN, "%s",
                     squash_merger_error(l->merger));
            return SQUASH_ERROR;
        }

        l->rename = res.rename;
        l->after = res.links;
        l->after_target = res.target;
        l->emitting = (res.action != SQUASH_MERGE_SKIP);

        switch (res.action) {

        case SQUASH_MERGE_EMIT:
            l->pend = ev->data;
            l->pend_len = ev->len;
            break;

        case SQUASH_MERGE_RENAME:
        case SQUASH_MERGE_RELINK:
            l->hdr.len = 0;

            if (squash_tar_rewrite(&l->hdr, ev->data, ev->len,
                                   res.action == SQUASH_MERGE_RENAME
                                   ? res.rename->name : e->path,
                                   res.action == SQUASH_MERGE_RELINK
                                   ? res.target : NULL,
                                   l->err)
                != SQUASH_OK)
            {
                return SQUASH_ERROR;
            }

            l->pend = l->hdr.data;
            l->pend_len = l->hdr.len;
            break;

        default:
            break;
        }

        break;

    case SQUASH_TAR_EV_DATA:
        if (l->emitting) {
            l->pend = ev->data;
            l->pend_len = ev->len;
        }

        break;

    default:
        return SQUASH_OK;
    }

    if (l->reader.data_left == 0 && l->reader.pad_left == 0
        && (l->after || l->rename))
    {
        return squash_layer_post(l);
    }

    return SQUASH_OK;
}


/*
 * The blob's digest was seen before to inflate to the config's diff_id:
 * inflation is deterministic, and the blob's digest is still checked, so
 * its tar is not hashed again.
 */

void
squash_layer_trust_diff_id(squash_layer_t *l)
{
    if (l->want_digest && l->want_diff_id) {
        l->diff_trusted = 1;
        l->diff_apart = 0;
    }
}


void
squash_layer_hash_apart(squash_layer_t *l)
{
    l->blob_apart = 1;
}


int
squash_layer_blob(squash_layer_t *l, const unsigned char *p, size_t n)
{
    return squash_layer_hash(l, &l->blob_sha, p, n);
}


void
squash_layer_diff_apart(squash_layer_t *l)
{
    if (!l->diff_trusted && !l->kept) {
        l->diff_apart = 1;
    }
}


int
squash_layer_diff(squash_layer_t *l, const unsigned char *p, size_t n)
{
    return squash_layer_hash(l, &l->diff_sha, p, n);
}


/* bytes the caller gives to a digest (l->err set when it fails) */

static int
squash_layer_hash(squash_layer_t *l, squash_sha256_t *sha,
    const unsigned char *p, size_t n)
{
    if (n && squash_sha256_update(sha, p, n) != SQUASH_OK) {
        snprintf(l->err, SQUASH_ERRLEN, "sha256 failed");
        return SQUASH_ERROR;
    }

    return SQUASH_OK;
}


int
squash_layer_diff_end(squash_layer_t *l)
{
    if (squash_sha256_final(&l->diff_sha, l->diff_id) != SQUASH_OK) {
        snprintf(l->err, SQUASH_ERRLEN, "sha256 failed");
        return SQUASH_ERROR;
    }

    return squash_layer_check_diff_id(l);
}


int
squash_layer_run(squash_layer_t *l, const unsigned char **in,
    const unsigned char *in_end, int last, unsigned char **out,
    const unsigned char *out_end)
{
    size_t                n;
    const unsigned char  *sp, *start;
    squash_tar_event_t    ev;

    if (l->done) {
        return SQUASH_DONE;
    }

    if (l->kept) {
        return squash_layer_pass(l, in, in_end, last, out, out_end);
    }

    for ( ;; ) {

        if (l->pend_len) {
            n = out_end - *out;
            if (n > l->pend_len) {
                n = l->pend_len;
            }

            memcpy(*out, l->pend, n);
            *out += n;
            l->pend += n;
            l->pend_len -= n;
            l->out_total += n;

            if (l->pend_len) {
                return SQUASH_OK;
            }
        }

        if (l->post_pending) {
            l->post_pending = 0;
            l->pend = l->post.data;
            l->pend_len = l->post.len;
            continue;
        }

        if (l->sp < l->sl) {
            sp = l->sp;

            if (squash_tar_read(&l->reader, &sp, l->sl, &ev) != SQUASH_OK) {
                memcpy(l->err, l->reader.err, SQUASH_ERRLEN);
                return SQUASH_ERROR;
            }

            l->sp = (unsigned char *) sp;

            if (squash_layer_event(l, &ev) != SQUASH_OK) {
                return SQUASH_ERROR;
            }

            continue;
        }

        l->sp = l->scratch;
        l->sl = l->scratch;

        if (*in == in_end && !l->decomp.more) {

            if (!last) {
                return SQUASH_OK;
            }

            if (squash_decomp_finish(&l->decomp) != SQUASH_OK) {
                memcpy(l->err, l->decomp.err, SQUASH_ERRLEN);
                return SQUASH_ERROR;
            }

            if (!squash_tar_is_at_boundary(&l->reader)) {
                snprintf(l->err, SQUASH_ERRLEN, "tar stream truncated "
                         "after %llu bytes",
                         (unsigned long long) l->reader.offset);
                return SQUASH_ERROR;
            }

            if (l->reader.pad_left) {
                /*
                 * the layer ends inside its last entry's padding (umoci
                 * writes such layers, Go reads them): the entry goes out
                 * padded, so that the merged tar stays aligned
                 */

                if (l->emitting) {
                    l->pend = squash_layer_zeros;
                    l->pend_len = (size_t) l->reader.pad_left;
                }

                l->reader.pad_left = 0;

                if ((l->after || l->rename)
                    && squash_layer_post(l) != SQUASH_OK)
                {
                    return SQUASH_ERROR;
                }

                continue;
            }

            if (squash_layer_verify(l) != SQUASH_OK) {
                return SQUASH_ERROR;
            }

            l->done = 1;
            return SQUASH_DONE;
        }

        start = *in;
        n = l->scratch_size;

        if (l->diff_apart) {
            if (l->tap == l->tap_end) {
                /* the caller hashes what it was given first */
                return SQUASH_OK;
            }

            if (n > (size_t) (l->tap_end - l->tap)) {
                n = l->tap_end - l->tap;
            }
        }

        if (squash_decomp_run(&l->decomp, in, in_end, &l->sl, l->scratch + n)
            != SQUASH_OK)
        {
            memcpy(l->err, l->decomp.err, SQUASH_ERRLEN);
            return SQUASH_ERROR;
        }

        if (l->diff_apart) {
            memcpy(l->tap, l->sp, l->sl - l->sp);
            l->tap += l->sl - l->sp;
        }

        if ((!l->blob_apart
             && squash_sha256_update(&l->blob_sha, start, *in - start)
                != SQUASH_OK)
            || (!l->diff_trusted && !l->diff_apart
                && squash_sha256_update(&l->diff_sha, l->sp, l->sl - l->sp)
                   != SQUASH_OK))
        {
            snprintf(l->err, SQUASH_ERRLEN, "sha256 failed");
            return SQUASH_ERROR;
        }

        if (l->sl == l->sp && *in != in_end) {
            /* the decompressor wants more than this to make progress */
            return SQUASH_OK;
        }

        if (l->sl == l->sp && *in == in_end && !last) {
            return SQUASH_OK;
        }
    }
}


/* a kept layer's blob, copied as it comes */

static int
squash_layer_pass(squash_layer_t *l, const unsigned char **in,
    const unsigned char *in_end, int last, unsigned char **out,
    const unsigned char *out_end)
{
    const unsigned char  *start;

    start = *in;

    if (squash_decomp_run(&l->decomp, in, in_end, out, out_end) != SQUASH_OK) {
        memcpy(l->err, l->decomp.err, SQUASH_ERRLEN);
        return SQUASH_ERROR;
    }

    if (!l->blob_apart
        && squash_sha256_update(&l->blob_sha, start, *in - start)
           != SQUASH_OK)
    {
        snprintf(l->err, SQUASH_ERRLEN, "sha256 failed");
        return SQUASH_ERROR;
    }

    l->out_total = l->decomp.out_total;

    if (l->out_total > l->kept_size) {
        snprintf(l->err, SQUASH_ERRLEN, "the blob is longer than the %llu "
                 "bytes its descriptor says",
                 (unsigned long long) l->kept_size);
        return SQUASH_ERROR;
    }

    if (last && *in == in_end && l->out_total != l->kept_size) {
        snprintf(l->err, SQUASH_ERRLEN, "the blob has %llu bytes, its "
                 "descriptor says %llu", (unsigned long long) l->out_total,
                 (unsigned long long) l->kept_size);
        return SQUASH_ERROR;
    }

    if (!last || *in != in_end) {
        return SQUASH_OK;
    }

    if (squash_layer_verify(l) != SQUASH_OK) {
        return SQUASH_ERROR;
    }

    l->done = 1;

    return SQUASH_DONE;
}


/*
 * The blob must be the one its descriptor names, and its tar the one the
 * config's diff_ids name (a kept layer's tar is not read).
 */

static int
squash_layer_verify(squash_layer_t *l)
{
    char  digest[SQUASH_DIGEST_LEN + 1];

    if (squash_sha256_final(&l->blob_sha, digest) != SQUASH_OK) {
        snprintf(l->err, SQUASH_ERRLEN, "sha256 failed");
        return SQUASH_ERROR;
    }

    if (l->diff_trusted) {
        /* the blob is the one that was seen to inflate to it */
        memcpy(l->diff_id, l->want_diff_id, SQUASH_DIGEST_LEN + 1);
    }

    if (l->want_digest && strcmp(digest, l->want_digest) != 0) {
        snprintf(l->err, SQUASH_ERRLEN, "the blob's digest is %s", digest);
        return SQUASH_ERROR;
    }

    if (l->diff_apart) {
        /* the caller's, when it has hashed all the tar */
        return SQUASH_OK;
    }

    if (!l->diff_trusted && !l->kept) {
        return squash_layer_diff_end(l);
    }

    return squash_layer_check_diff_id(l);
}


static int
squash_layer_check_diff_id(squash_layer_t *l)
{
    if (l->want_diff_id && strcmp(l->diff_id, l->want_diff_id) != 0) {
        snprintf(l->err, SQUASH_ERRLEN, "its tar is %s, not the diff_id %s "
                 "of the config", l->diff_id, l->want_diff_id);
        return SQUASH_ERROR;
    }

    return SQUASH_OK;
}
