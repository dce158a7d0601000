
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * floor: what a download of the bench image must compute, on one core, in
 * one process, with no network and no output: the floor under the
 * module's time without a thread pool.  For each blob, read from the
 * page cache in 64 KiB reads, the SHA-256 of the blob (its digest) and
 * ISA-L's inflate into a 64 KiB buffer (CRC-32 and ISIZE checked), as
 * the module does; "cold" also hashes the tar twice, for the layer's
 * diff_id and for the squashed layer.tar (as large as the layers' tars:
 * the squashed layer is padded up to their sum, ../shared/DESIGN.md), the
 * two SHA-256 passes that a warm download, whose sizes and digests the
 * size cache knows, does not make.  OpenSSL's SHA-256, as the module.
 * Prints each blob's digest, and when cold its diff_id, a line a blob.
 *
 *   bench/floor warm|cold BLOB...
 */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <isa-l/igzip_lib.h>
#include <openssl/evp.h>


#define BUF  65536


static int
hash(EVP_MD_CTX *md, const unsigned char *p, size_t n)
{
    if (EVP_DigestUpdate(md, p, n) != 1) {
        fprintf(stderr, "floor: EVP_DigestUpdate failed\n");
        return -1;
    }

    return 0;
}


static int
blob(const char *path, int cold, EVP_MD_CTX **md)
{
    int                    fd, rc, i, done, full;
    size_t                 n;
    ssize_t                got;
    uint8_t               *next;
    uint32_t               avail;
    unsigned char          in[BUF], out[BUF], digest[3][EVP_MAX_MD_SIZE];
    struct inflate_state   st;

    fd = open(path, O_RDONLY);
    if (fd == -1) {
        perror(path);
        return -1;
    }

    for (i = 0; i < 3; i++) {
        if (EVP_DigestInit_ex(md[i], EVP_sha256(), NULL) != 1) {
            fprintf(stderr, "floor: EVP_DigestInit_ex failed\n");
            close(fd);
            return -1;
        }
    }

    isal_inflate_init(&st);
    st.crc_flag = ISAL_GZIP;
    st.avail_in = 0;
    done = 0;
    full = 0;

    for ( ;; ) {
        /* a full output buffer may leave output pending without input */
        if (st.avail_in == 0 && !full) {
            got = read(fd, in, BUF);
            if (got < 0) {
                perror(path);
                close(fd);
                return -1;
            }

            if (got == 0) {
                break;
            }

            if (hash(md[0], in, (size_t) got) != 0) {
                close(fd);
                return -1;
            }

            st.next_in = in;
            st.avail_in = (uint32_t) got;
        }

        if (done) {
            /* the next gzip member, in what is left of the input */
            next = st.next_in;
            avail = st.avail_in;
            isal_inflate_reset(&st);
            st.crc_flag = ISAL_GZIP;
            st.next_in = next;
            st.avail_in = avail;
            done = 0;
        }

        st.next_out = out;
        st.avail_out = BUF;

        rc = isal_inflate(&st);

        if (rc != ISAL_DECOMP_OK) {
            fprintf(stderr, "floor: %s: isal_inflate: %d\n", path, rc);
            close(fd);
            return -1;
        }

        n = BUF - st.avail_out;
        full = (st.avail_out == 0);
        done = (st.block_state == ISAL_BLOCK_FINISH);

        if (cold && (hash(md[1], out, n) != 0 || hash(md[2], out, n) != 0)) {
            close(fd);
            return -1;
        }
    }

    close(fd);

    if (!done) {
        fprintf(stderr, "floor: %s ends inside a gzip member\n", path);
        return -1;
    }

    for (i = 0; i < 3; i++) {
        if (EVP_DigestFinal_ex(md[i], digest[i], NULL) != 1) {
            fprintf(stderr, "floor: EVP_DigestFinal_ex failed\n");
            return -1;
        }
    }

    /* the blob's digest, and its diff_id when cold: to check by hand */

    for (i = 0; i < (cold ? 2 : 1); i++) {
        printf("%s", i ? " sha256:" : "sha256:");

        for (n = 0; n < 32; n++) {
            printf("%02x", digest[i][n]);
        }
    }

    printf("\n");

    return 0;
}


int
main(int argc, char **argv)
{
    int          i, cold, rc;
    EVP_MD_CTX  *md[3];

    if (argc < 3 || (strcmp(argv[1], "warm") && strcmp(argv[1], "cold"))) {
        fprintf(stderr, "usage: floor warm|cold BLOB...\n");
        return 2;
    }

    cold = (strcmp(argv[1], "cold") == 0);

    for (i = 0; i < 3; i++) {
        md[i] = EVP_MD_CTX_new();
        if (md[i] == NULL) {
            fprintf(stderr, "floor: EVP_MD_CTX_new failed\n");
            return 1;
        }
    }

    rc = 0;

    for (i = 2; i < argc && rc == 0; i++) {
        rc = blob(argv[i], cold, md);
    }

    for (i = 0; i < 3; i++) {
        EVP_MD_CTX_free(md[i]);
    }

    return rc == 0 ? 0 : 1;
}
