
/*
 * ngx_squash: the per-layer transformer.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squash_layer.h"


int
squash_layer_init(squash_layer_t *l, squash_comp_e kind,
    squash_merger_t *merger, size_t scratch_size, size_t meta_limit)
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

    if (squash_decomp_init(&l->decomp, kind) != SQUASH_OK) {
        memcpy(l->err, l->decomp.err, SQUASH_ERRLEN);
        return SQUASH_ERROR;
    }

    squash_merger_begin_layer(merger);

    return SQUASH_OK;
}


void
squash_layer_free(squash_layer_t *l)
{
    squash_decomp_free(&l->decomp);
    squash_tar_reader_free(&l->reader);
    free(l->scratch);
    l->scratch = NULL;
}


static int
squash_layer_event(squash_layer_t *l, squash_tar_event_t *ev)
{
    int  rc;

    switch (ev->type) {

    case SQUASH_TAR_EV_HEADER:
        rc = squash_merger_entry(l->merger, &l->reader.entry);

        if (rc == SQUASH_ERROR) {
            snprintf(l->err, SQUASH_ERRLEN, "%s",
                     squash_merger_error(l->merger));
            return SQUASH_ERROR;
        }

        l->emitting = (rc == SQUASH_MERGE_EMIT);
        break;

    case SQUASH_TAR_EV_DATA:
        break;

    default:
        return SQUASH_OK;
    }

    if (l->emitting) {
        l->pend = ev->data;
        l->pend_len = ev->len;
    }

    return SQUASH_OK;
}


int
squash_layer_run(squash_layer_t *l, const unsigned char **in,
    const unsigned char *in_end, int last, unsigned char **out,
    const unsigned char *out_end)
{
    size_t                n;
    const unsigned char  *sp;
    squash_tar_event_t    ev;

    if (l->done) {
        return SQUASH_DONE;
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

        if (*in == in_end) {

            if (!last) {
                return SQUASH_OK;
            }

            if (squash_decomp_finish(&l->decomp) != SQUASH_OK) {
                memcpy(l->err, l->decomp.err, SQUASH_ERRLEN);
                return SQUASH_ERROR;
            }

            if (!squash_tar_reader_at_boundary(&l->reader)) {
                snprintf(l->err, SQUASH_ERRLEN, "tar stream truncated "
                         "after %llu bytes",
                         (unsigned long long) l->reader.offset);
                return SQUASH_ERROR;
            }

            l->done = 1;
            return SQUASH_DONE;
        }

        if (squash_decomp_run(&l->decomp, in, in_end, &l->sl,
                              l->scratch + l->scratch_size)
            != SQUASH_OK)
        {
            memcpy(l->err, l->decomp.err, SQUASH_ERRLEN);
            return SQUASH_ERROR;
        }

        if (l->sl == l->sp && *in != in_end) {
            /* the decompressor wants more than this to make progress */
            return SQUASH_OK;
        }
    }
}
