
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * gzlist: what the module's gzip reader (squash_decomp.c, with ISA-L or,
 * built -USQUASH_HAVE_ISAL, zlib) makes of each blob, in the lines
 * t/diff/gzlist.go prints for Go's compress/gzip: "ok LENGTH SHA256" or
 * "error".  Arguments are files, or "-" for file names on standard
 * input.  Input and output go in pieces of varying size, as in nginx.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "squash_decomp.h"


#define GZLIST_MAX  (64 << 20)


static const char *
list(const char *name, unsigned char *data, EVP_MD_CTX *md)
{
    int                   rc;
    FILE                 *f;
    size_t                len, i, step, room;
    uint64_t              total;
    unsigned char         out[4096], digest[EVP_MAX_MD_SIZE];
    unsigned char        *o;
    const unsigned char  *p, *last, *end, *start;
    squash_decomp_t       d;

    static char           line[128];
    static const size_t   steps[] = { 1, 7, 512, 4096, 65536 };

    f = fopen(name, "rb");
    if (f == NULL) {
        return "error";
    }

    len = fread(data, 1, GZLIST_MAX, f);
    fclose(f);

    if (squash_decomp_init(&d, SQUASH_COMP_GZIP) != SQUASH_OK
        || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
    {
        squash_decomp_free(&d);
        return "error";
    }

    p = data;
    end = data + len;
    total = 0;
    rc = SQUASH_OK;

    for (i = 0; rc == SQUASH_OK; i++) {
        start = p;
        step = steps[i % 5];
        room = steps[(i + 2) % 5] < sizeof(out) ? steps[(i + 2) % 5]
                                                 : sizeof(out);
        last = p + ((size_t) (end - p) < step ? (size_t) (end - p) : step);
        o = out;

        rc = squash_decomp_run(&d, &p, last, &o, out + room);

        EVP_DigestUpdate(md, out, o - out);
        total += o - out;

        if (p == end && !d.more && o == out) {
            break;
        }

        if (rc == SQUASH_OK && p == start && o == out && !d.more) {
            /* neither input taken nor output made: it would hang nginx */
            squash_decomp_free(&d);
            EVP_DigestFinal_ex(md, digest, NULL);
            return "stuck";
        }
    }

    if (rc == SQUASH_OK) {
        rc = squash_decomp_finish(&d);
    }

    squash_decomp_free(&d);
    EVP_DigestFinal_ex(md, digest, NULL);

    if (rc != SQUASH_OK) {
        return "error";
    }

    i = snprintf(line, sizeof(line), "ok %llu ", (unsigned long long) total);

    for (len = 0; len < 32; len++) {
        i += snprintf(line + i, sizeof(line) - i, "%02x", digest[len]);
    }

    return line;
}


int
main(int argc, char **argv)
{
    int             i;
    char            name[4096];
    size_t          n;
    EVP_MD_CTX     *md;
    unsigned char  *data;

    data = malloc(GZLIST_MAX);
    md = EVP_MD_CTX_new();

    if (data == NULL || md == NULL) {
        fprintf(stderr, "gzlist: out of memory\n");
        return 1;
    }

    if (argc == 2 && strcmp(argv[1], "-") == 0) {
        while (fgets(name, sizeof(name), stdin)) {
            n = strlen(name);
            if (n && name[n - 1] == '\n') {
                name[n - 1] = '\0';
            }

            printf("%s %s\n", name, list(name, data, md));
        }

    } else {
        for (i = 1; i < argc; i++) {
            printf("%s %s\n", argv[i], list(argv[i], data, md));
        }
    }

    EVP_MD_CTX_free(md);
    free(data);

    return 0;
}
