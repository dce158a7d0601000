
/*
 * ngx_squash: incremental (push) tar reader.
 *
 * Bytes are fed in pieces of any size; the reader returns one event at a
 * time: an entry header (with the raw bytes of all its header records,
 * pax and GNU long-name records included, so that it can be copied
 * verbatim), a slice of entry data (including the block padding), or the
 * end of the archive.  Nothing is buffered but the header records of the
 * current entry.
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


typedef enum {
    SQUASH_TAR_EV_NONE = 0,
    SQUASH_TAR_EV_HEADER,       /* r->entry is filled, r->raw holds it */
    SQUASH_TAR_EV_DATA,         /* data + padding slice of the input */
    SQUASH_TAR_EV_END,          /* end-of-archive blocks seen */
    SQUASH_TAR_EV_NEED_INPUT
} squash_tar_event_e;


typedef struct {
    char               *path;       /* NUL-terminated, as in the archive */
    char               *linkpath;   /* hard or symbolic link target */
    int                 type;       /* normalized typeflag */
    uint64_t            size;       /* data bytes (pax size wins) */
    uint32_t            mode;
    uint64_t            uid;
    uint64_t            gid;
} squash_tar_entry_t;


typedef struct {
    /* the current header block being collected */
    unsigned char       block[SQUASH_TAR_BLOCK];
    size_t              block_len;

    /* raw header records of the current entry */
    squash_bytes_t      raw;

    /* data of a meta record (pax, GNU long name) being collected */
    uint64_t            meta_left;
    int                 meta_type;
    size_t              meta_start;

    /* long names from meta records, applied to the next real header */
    squash_bytes_t      long_path;
    squash_bytes_t      long_link;
    squash_bytes_t      pax_path;
    squash_bytes_t      pax_link;
    int                 pax_has_size;
    uint64_t            pax_size;

    /* the entry handed out with SQUASH_TAR_EV_HEADER */
    squash_tar_entry_t  entry;
    squash_bytes_t      name_buf;
    squash_bytes_t      link_buf;

    /* data of the current entry still to come, padding included */
    uint64_t            data_left;

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


void squash_tar_reader_init(squash_tar_reader_t *r, size_t meta_limit);
void squash_tar_reader_free(squash_tar_reader_t *r);

/*
 * Consumes bytes from *pos up to last and returns SQUASH_OK with an event
 * in ev, or SQUASH_ERROR with r->err set.
 */
int squash_tar_read(squash_tar_reader_t *r, const unsigned char **pos,
    const unsigned char *last, squash_tar_event_t *ev);

/* true when the input may end here (between entries) */
int squash_tar_reader_at_boundary(squash_tar_reader_t *r);

int squash_tar_parse_number(const unsigned char *p, size_t n, uint64_t *v);
void squash_tar_checksum(const unsigned char *block, unsigned char *field);


#endif /* _SQUASH_TAR_READER_H_INCLUDED_ */
