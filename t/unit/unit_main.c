
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * Runs every unit test group; TAP with CMOCKA_MESSAGE_OUTPUT=TAP.
 */

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <archive.h>
#include <archive_entry.h>

#include "unit.h"


static la_ssize_t
unit_write_cb(struct archive *a, void *data, const void *buf, size_t n)
{
    (void) a;
    assert_int_equal(squash_bytes_append(data, buf, n, 1 << 30), SQUASH_OK);
    return (la_ssize_t) n;
}


squash_bytes_t
unit_tar(const unit_entry_t *e, int gnu)
{
    squash_bytes_t         out = { 0 };
    struct archive        *a;
    struct archive_entry  *ae;

    a = archive_write_new();
    if (gnu) {
        archive_write_set_format_gnutar(a);
    } else {
        archive_write_set_format_pax_restricted(a);
    }
    archive_write_set_bytes_per_block(a, 10240);
    archive_write_open(a, &out, NULL, unit_write_cb, NULL);

    for ( /* void */ ; e->path; e++) {
        ae = archive_entry_new();
        archive_entry_set_pathname(ae, e->path);
        archive_entry_set_mtime(ae, 1700000000, 0);
        archive_entry_set_perm(ae, 0644);

        switch (e->type) {
        case '1':
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_hardlink(ae, e->data);
            break;
        case '2':
            archive_entry_set_filetype(ae, AE_IFLNK);
            archive_entry_set_symlink(ae, e->data);
            break;
        case '5':
            archive_entry_set_filetype(ae, AE_IFDIR);
            break;
        default:
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_size(ae, e->data ? strlen(e->data) : 0);
        }

        assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);

        if (e->type == '0' && e->data) {
            archive_write_data(a, e->data, strlen(e->data));
        }

        archive_entry_free(ae);
    }

    archive_write_close(a);
    archive_write_free(a);

    return out;
}


squash_bytes_t
unit_gzip(const void *p, size_t n)
{
    squash_bytes_t  out = { 0 };
    z_stream        z;
    unsigned char   buf[4096];
    int             rc;

    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *) p;
    z.avail_in = n;

    do {
        z.next_out = buf;
        z.avail_out = sizeof(buf);
        rc = deflate(&z, Z_FINISH);
        squash_bytes_append(&out, buf, sizeof(buf) - z.avail_out, 1 << 30);
    } while (rc != Z_STREAM_END);

    deflateEnd(&z);

    return out;
}


int
main(void)
{
    int  failed = 0;

    failed += unit_tar_reader();
    failed += unit_merger();
    failed += unit_decomp();
    failed += unit_layer();
    failed += unit_image();
    failed += unit_archive();
    failed += unit_job();
    failed += unit_distribution();

    return failed ? 1 : 0;
}
