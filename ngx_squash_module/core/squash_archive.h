
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: the outer archive.  Tar headers of the synthetic entries
 * are written with libarchive (pax format, pax records only where
 * needed: sizes over 8 GiB, long names); data and padding are ours.
 *
 * The archive is laid out as
 *
 *   repositories, <id>/, <id>/VERSION, <id>/json         (legacy)
 *   <id>/layer.tar (header with the promised size S, merged entries,
 *                   two zero blocks, zero padding up to S),
 *   for each base layer kept (squash_keep_layers), bottom up:
 *     <kid>/, <kid>/VERSION, <kid>/json                  (legacy)
 *     <kid>/layer.tar (the blob as the registry has it, compressed or
 *                      not, and tar padding),
 *   blobs/sha256/<config digest>,
 *   manifest.json                                        (docker)
 *   oci-layout, blobs/sha256/<layer digest> -> ../../<id>/layer.tar,
 *   blobs/sha256/<kept blob digest> -> ../../<kid>/layer.tar,
 *   blobs/sha256/<OCI manifest digest>, index.json       (oci)
 *   two zero blocks.
 *
 * Everything after the layer depends on its digest only through
 * fixed-length hex strings, so the whole length is known up front.  A
 * kept layer's id chains its diff_id to the id below it; the top layer's
 * legacy json names the top kept one as its parent.
 */

#ifndef _SQUASH_ARCHIVE_H_INCLUDED_
#define _SQUASH_ARCHIVE_H_INCLUDED_


#include "squash_core.h"
#include "squash_image.h"
#include "squash_tar_reader.h"


#define SQUASH_FORMAT_LEGACY    0x01    /* repositories, <id>/VERSION, json */
#define SQUASH_FORMAT_DOCKER    0x02    /* manifest.json */
#define SQUASH_FORMAT_OCI       0x04    /* oci-layout, index.json, blobs */
#define SQUASH_FORMAT_ALL       0x07


typedef struct {
    /* input */
    const char     *v1id;           /* 64 hex */
    const char     *repo;           /* "<host>/<name>" */
    const char     *tag;            /* "<tag>.squash" */
    unsigned        formats;        /* SQUASH_FORMAT_* */
    const char     *created_by;     /* history entry */
    json_t         *config;
    long long       mtime;
    uint64_t        layer_size;     /* S, a multiple of 512 */

    /* base layers kept as they are, bottom up; their diff_ids in config */
    const squash_blob_t  *kept;
    size_t                nkept;

    /* output */
    squash_bytes_t  prefix;
    squash_bytes_t *heads;          /* the entries before each kept blob */
    char          (*kept_ids)[SQUASH_HEX_LEN + 1];
    squash_bytes_t  trailer;
    uint64_t        total;          /* prefix + S + heads, kept blobs
                                       and their padding + trailer */

    char            err[SQUASH_ERRLEN];
} squash_archive_t;


/* builds the prefix and a trailer of the final length */
int squash_archive_start(squash_archive_t *a);

/* rebuilds the trailer for the layer digest; same length */
int squash_archive_finish(squash_archive_t *a, const char *diff_id_hex);

void squash_archive_free(squash_archive_t *a);

/* the tar padding after kept blob i */
#define squash_archive_kept_pad(a, i)                                         \
    ((SQUASH_TAR_BLOCK - (uint64_t) (a)->kept[i].size % SQUASH_TAR_BLOCK)     \
     % SQUASH_TAR_BLOCK)

/* one entry: header, data and padding, appended to out */
int squash_archive_entry(squash_bytes_t *out, const char *name, int type,
    const void *data, uint64_t size, long long mtime, char *err);
int squash_archive_symlink(squash_bytes_t *out, const char *name,
    const char *target, long long mtime, char *err);

/*
 * an entry's raw header records (pax, GNU, ustar) written again under
 * another path, or as a hard link to another path (size 0); xattrs, owners,
 * modes and times are kept
 */
int squash_tar_rewrite(squash_bytes_t *out, const unsigned char *raw,
    size_t raw_len, const char *path, const char *hardlink, char *err);


#endif /* _SQUASH_ARCHIVE_H_INCLUDED_ */
