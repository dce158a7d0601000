
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the per-layer transformer.  A compressed layer blob goes
 * in, in pieces of any size; the entries the merger keeps come out,
 * byte for byte as the layer holds them, without the layer's end blocks.
 * Input and output pointers advance as in z_stream; memory is the
 * scratch buffer plus the header records of one entry.
 */

#ifndef _SQUASH_LAYER_H_INCLUDED_
#define _SQUASH_LAYER_H_INCLUDED_


#include "squash_core.h"
#include "squash_decomp.h"
#include "squash_tar_reader.h"
#include "squash_merger.h"
#include "squash_archive.h"
#include "squash_digest.h"


typedef struct {
    squash_decomp_t        decomp;
    squash_tar_reader_t    reader;
    squash_merger_t       *merger;

    unsigned char         *scratch;
    size_t                 scratch_size;
    unsigned char         *sp;
    unsigned char         *sl;

    const unsigned char   *pend;
    size_t                 pend_len;

    /* rewritten headers, and hard links due after the current entry */
    squash_bytes_t         hdr;
    squash_bytes_t         post;
    squash_link_t         *rename;
    squash_link_t         *after;
    const char            *after_target;

    uint64_t               out_total;

    /* checked once the blob ends; NULL: not checked */
    const char            *want_digest;
    const char            *want_diff_id;
    squash_sha256_t        blob_sha;    /* of the blob as it came */
    squash_sha256_t        diff_sha;    /* of the uncompressed tar */
    char                   diff_id[SQUASH_DIGEST_LEN + 1];
    /* squash_layer_diff_apart(): where the tar goes as it is inflated */
    unsigned char         *tap;
    unsigned char         *tap_end;

    /* a kept base layer: its blob goes out as it is (squash_keep_layers) */
    uint64_t               kept_size;

    unsigned               kept:1;
    unsigned               diff_trusted:1;
    unsigned               blob_apart:1;
    unsigned               diff_apart:1;
    unsigned               emitting:1;
    unsigned               post_pending:1;
    unsigned               refetch:1;
    unsigned               done:1;

    char                   err[SQUASH_ERRLEN];
} squash_layer_t;


/*
 * digest: the blob's, as its descriptor names it; diff_id: its tar's, as
 * the config names it; either NULL when not to be checked.  Both must
 * outlive the transformer.  refetch: the second pass over the layer, for
 * held hard links.
 */
int squash_layer_init(squash_layer_t *l, squash_comp_e kind,
    const char *digest, const char *diff_id, squash_merger_t *merger,
    size_t scratch_size, size_t meta_limit, int refetch);
void squash_layer_free(squash_layer_t *l);

/*
 * A base layer kept as it is: the blob goes out byte for byte, checked to
 * be size bytes long and to have the digest its descriptor names (its
 * tar is not read, nor its diff_id checked: a client loading it does)
 */
int squash_layer_init_kept(squash_layer_t *l, const char *digest,
    uint64_t size);

/* the blob was seen to inflate to the diff_id: its tar is not hashed */
void squash_layer_trust_diff_id(squash_layer_t *l);

/*
 * The caller hashes the blob itself, each byte once and in order, as it
 * comes (squash_layer_blob()), possibly in another thread than the one
 * that runs squash_layer_run(): the transformer reads the blob's digest
 * only when the blob ends, so every byte must have been given before the
 * run with last set.
 */
void squash_layer_hash_apart(squash_layer_t *l);
int squash_layer_blob(squash_layer_t *l, const unsigned char *p, size_t n);

/*
 * The caller hashes the tar itself, possibly in another thread than the
 * one that runs squash_layer_run(): before each run it gives room
 * (squash_layer_tap()), the run copies there what it inflates and stops
 * inflating when it is full (squash_layer_tap_full(), with more input or
 * output space perhaps still to use), and the caller hashes those bytes
 * (squash_layer_diff()), each once and in order.  SQUASH_DONE then says
 * that the blob was checked; once the caller has hashed all the tar,
 * squash_layer_diff_end() checks the diff_id.  Nothing is tapped for a
 * trusted diff_id (squash_layer_trust_diff_id() before) or a kept layer.
 */
void squash_layer_diff_apart(squash_layer_t *l);
int squash_layer_diff(squash_layer_t *l, const unsigned char *p, size_t n);
int squash_layer_diff_end(squash_layer_t *l);

#define squash_layer_tap(l, p, end)                                           \
    ((l)->tap = (p), (l)->tap_end = (end))

#define squash_layer_tap_full(l)                                              \
    ((l)->diff_apart && (l)->tap == (l)->tap_end)

/*
 * Returns SQUASH_OK when more input or output space is needed,
 * SQUASH_DONE once the blob ended (last set, all input used), all output
 * was written and both digests matched (l->diff_id then holds the tar's),
 * SQUASH_ERROR with l->err set.
 */
int squash_layer_run(squash_layer_t *l, const unsigned char **in,
    const unsigned char *in_end, int last, unsigned char **out,
    const unsigned char *out_end);


#endif /* _SQUASH_LAYER_H_INCLUDED_ */
