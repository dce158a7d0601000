
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: incremental (push) tar reader.
 *
 * Bytes are fed in pieces of any size; the reader returns one event at a
 * time: an entry header (with the raw bytes of all its header records,
 * pax and GNU long-name records included, so that it can be copied
 * verbatim), a slice of entry data or padding, or the end of the
 * archive.  Nothing is buffered but the header records of the current
 * entry.
 *
 * The reader sees a layer as Go's archive/tar does (docker, podman,
 * containerd, buildah, skopeo and umoci read layers with it): the same
 * entry boundaries, the same names, sizes and types, the same errors.
 * Where the two could differ, the reader refuses the layer for a reason
 * docs/design.md names ("Reading layers").
 */

#ifndef _SQUASH_TAR_READER_H_INCLUDED_
#define _SQUASH_TAR_READER_H_INCLUDED_


#include "squash_core.h"


#define SQUASH_TAR_BLOCK        512

#define SQUASH_TAR_REG          '0'
#define SQUASH_TAR_LNK          '1'
#define SQUASH_TAR_SYM          '2'
#define SQUASH_TAR_CHR          '3'
#define SQUASH_TAR_BLK          '4'
#define SQUASH_TAR_DIR          '5'
#define SQUASH_TAR_FIFO         '6'
#define SQUASH_TAR_CONT         '7'

/* Go's maxSpecialFileSize: pax and GNU long-name records */
#define SQUASH_TAR_SPECIAL_MAX  (1 << 20)


typedef enum {
    SQUASH_TAR_EV_NONE = 0,
    SQUASH_TAR_EV_HEADER,       /* r->entry is filled, r->raw holds it */
    SQUASH_TAR_EV_DATA,         /* data or padding: a slice of the input */
    SQUASH_TAR_EV_END,          /* end-of-archive blocks seen */
    SQUASH_TAR_EV_NEED_INPUT
} squash_tar_event_e;


typedef struct {
    char               *path;       /* NUL-terminated, as the reader sees
                                       it (pax, GNU, prefix applied) */
    char               *linkpath;   /* hard or symbolic link target */
    int                 type;       /* the typeflag; '\0' reads as '0',
                                       or '5' for a name ending in '/' */
    uint64_t            size;       /* data bytes that follow: 0 for the
                                       header-only types */
    uint32_t            mode;       /* permission bits */
    int64_t             mode_raw;   /* the whole mode field */
    int64_t             uid;
    int64_t             gid;
    int64_t             mtime;      /* seconds, and nanoseconds (pax) */
    long                mtime_nsec;
    const unsigned char *pax;       /* the entry's pax records, if any */
    size_t              pax_len;
} squash_tar_entry_t;


typedef struct {
    /* the current header block being collected */
    unsigned char       block[SQUASH_TAR_BLOCK];
    size_t              block_len;

    /* raw header records of the current entry */
    squash_bytes_t      raw;

    /* data of a meta record (pax, GNU long name) being collected */
    uint64_t            meta_left;
    uint64_t            meta_pad;
    uint64_t            meta_size;
    int                 meta_type;
    size_t              meta_start;

    /* meta records, applied to the next real header */
    squash_bytes_t      long_path;
    squash_bytes_t      long_link;
    squash_bytes_t      pax;            /* the last 'x' record's data */
    unsigned            has_long_path:1;
    unsigned            has_long_link:1;
    unsigned            has_pax:1;
    unsigned            meta_discard:1; /* a global record: not copied */

    /* the entry handed out with SQUASH_TAR_EV_HEADER */
    squash_tar_entry_t  entry;
    squash_bytes_t      name_buf;
    squash_bytes_t      link_buf;

    /* the current entry's data, then its padding, still to come */
    uint64_t            data_left;
    uint64_t            pad_left;

    unsigned            zero_blocks;
    unsigned            ended:1;
    unsigned            failed:1;

    size_t              meta_limit;
    uint64_t            offset;        /* input bytes consumed so far */

    char                err[SQUASH_ERRLEN];
} squash_tar_reader_t;


typedef struct {
    squash_tar_event_e   type;
    const unsigned char *data;
    size_t               len;
} squash_tar_event_t;


/* meta_limit: all header records of one entry together */
void squash_tar_reader_init(squash_tar_reader_t *r, size_t meta_limit);
void squash_tar_reader_free(squash_tar_reader_t *r);

/*
 * Consumes bytes from *pos up to last and returns SQUASH_OK with an event
 * in ev, or SQUASH_ERROR with r->err set.
 */
int squash_tar_read(squash_tar_reader_t *r, const unsigned char **pos,
    const unsigned char *last, squash_tar_event_t *ev);

/*
 * True when the input may end here: between entries, after one end
 * block, or inside an entry's padding (as Go reads it, the archive then
 * ends with that entry).
 */
int squash_tar_is_at_boundary(squash_tar_reader_t *r);

/*
 * The next record of pax data: SQUASH_OK with key and value, SQUASH_DONE
 * at the end, SQUASH_ERROR for a record Go would refuse.
 */
int squash_tar_pax_next(const unsigned char **p, const unsigned char *last,
    const unsigned char **key, size_t *klen, const unsigned char **val,
    size_t *vlen);

/* a numeric header field as Go's parseNumeric reads it: octal or base-256 */
int squash_tar_parse_numeric(const unsigned char *p, size_t n, int64_t *v);

void squash_tar_checksum(const unsigned char *block, unsigned char *field);


#endif /* _SQUASH_TAR_READER_H_INCLUDED_ */
