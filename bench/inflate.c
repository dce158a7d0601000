
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * inflate: the zlib floor of bench/edge.sh.  Reads gzip members from
 * stdin (one after another, as `cat blobs` gives them) and writes what
 * they inflate to on stdout, with zlib's inflate() and 64 KiB buffers,
 * the trailer's CRC-32 and ISIZE checked: what the module does with
 * zlib, and nothing else.
 *
 *   cat blobs | bench/inflate >/dev/null
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>


#define BUF  65536


static int
write_all(const unsigned char *p, size_t n)
{
    ssize_t  w;

    while (n > 0) {
        w = write(STDOUT_FILENO, p, n);
        if (w < 0) {
            perror("inflate: write");
            return -1;
        }

        p += w;
        n -= (size_t) w;
    }

    return 0;
}


int
main(void)
{
    int            rc, full;
    ssize_t        n;
    z_stream       z;
    unsigned char  in[BUF], out[BUF];

    memset(&z, 0, sizeof(z));

    /* 16 + MAX_WBITS: a gzip wrapper, its CRC-32 and ISIZE checked */
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        fprintf(stderr, "inflate: inflateInit2 failed\n");
        return 1;
    }

    rc = Z_OK;
    full = 0;

    for ( ;; ) {
        /* a full output buffer may leave output pending without input */
        if (z.avail_in == 0 && !full) {
            n = read(STDIN_FILENO, in, BUF);
            if (n < 0) {
                perror("inflate: read");
                return 1;
            }

            if (n == 0) {
                break;
            }

            z.next_in = in;
            z.avail_in = (uInt) n;
        }

        if (rc == Z_STREAM_END) {
            /* the next member */
            if (inflateReset(&z) != Z_OK) {
                fprintf(stderr, "inflate: inflateReset failed\n");
                return 1;
            }
        }

        z.next_out = out;
        z.avail_out = BUF;

        rc = inflate(&z, Z_NO_FLUSH);

        if (rc != Z_OK && rc != Z_STREAM_END) {
            fprintf(stderr, "inflate: %s\n", z.msg ? z.msg : "error");
            return 1;
        }

        full = (z.avail_out == 0);

        if (write_all(out, BUF - z.avail_out) != 0) {
            return 1;
        }
    }

    if (rc != Z_STREAM_END) {
        fprintf(stderr, "inflate: the input ends inside a member\n");
        return 1;
    }

    inflateEnd(&z);

    return 0;
}
