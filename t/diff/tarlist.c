
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * tarlist: lists tar layers the way ngx_squash's reader sees them, in
 * the lines t/diff/golist.go prints for Go's archive/tar.  Arguments are
 * files, or "-" for file names on standard input.  Input reaches the
 * reader in pieces of varying size, as blobs do in nginx.  A refusal
 * prints "error: " and the reason.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "squash_tar_reader.h"


static void
hex(FILE *out, const unsigned char *p, size_t n)
{
    while (n--) {
        fprintf(out, "%02x", *p++);
    }
}


static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


/* the entry's xattrs as Go's Header.PAXRecords has them, sorted */

static void
xattrs(FILE *out, const squash_tar_entry_t *e)
{
    char                  *list[256], *s;
    size_t                 n, i, j, klen, vlen, len;
    FILE                  *f;
    const unsigned char   *p, *last, *key, *val;

    n = 0;

    if (e->pax) {
        p = e->pax;
        last = p + e->pax_len;

        while (squash_tar_pax_next(&p, last, &key, &klen, &val, &vlen)
               == SQUASH_OK)
        {
            if (klen <= 13 || memcmp(key, "SCHILY.xattr.", 13) != 0) {
                continue;
            }

            f = open_memstream(&s, &len);
            hex(f, key + 13, klen - 13);
            fputc('=', f);
            hex(f, val, vlen);
            fclose(f);

            /* the last record of a key wins, an empty value deletes */

            for (i = 0; i < n; i++) {
                if (strncmp(list[i], s, strchr(s, '=') - s + 1) == 0) {
                    free(list[i]);
                    for (j = i + 1; j < n; j++) {
                        list[j - 1] = list[j];
                    }
                    n--;
                    break;
                }
            }

            if (vlen == 0 || n == 256) {
                free(s);
                continue;
            }

            list[n++] = s;
        }
    }

    qsort(list, n, sizeof(char *), cmp_str);

    fputs("x=[", out);

    for (i = 0; i < n; i++) {
        fprintf(out, "%s%s", i ? " " : "", list[i]);
        free(list[i]);
    }

    fputs("]\n", out);
}


static void
entry_done(FILE *out, const squash_tar_entry_t *e, uint64_t n,
    EVP_MD_CTX *sha)
{
    unsigned int   mdlen;
    unsigned char  md[EVP_MAX_MD_SIZE];

    EVP_DigestFinal_ex(sha, md, &mdlen);

    fprintf(out, "%d ", e->type);

    if (e->mode_raw < 0) {
        fprintf(out, "-%llo", (unsigned long long) -(uint64_t) e->mode_raw);

    } else {
        fprintf(out, "%llo", (unsigned long long) e->mode_raw);
    }

    fprintf(out, " %lld %lld %lld.%09ld %llu ", (long long) e->uid,
            (long long) e->gid, (long long) e->mtime, e->mtime_nsec,
            (unsigned long long) n);
    hex(out, md, mdlen);
    fputs(" n=", out);
    hex(out, (unsigned char *) e->path, strlen(e->path));
    fputs(" l=", out);
    hex(out, (unsigned char *) e->linkpath, strlen(e->linkpath));
    fputc(' ', out);
    xattrs(out, e);
}


static void
list(FILE *out, const char *name)
{
    int                    open_entry;
    long                   len;
    size_t                 step, n;
    uint64_t               got;
    unsigned               seed;
    FILE                  *f;
    EVP_MD_CTX            *sha;
    unsigned char         *data;
    const unsigned char   *p, *last, *end;
    squash_tar_reader_t    r;
    squash_tar_event_t     ev;
    squash_tar_entry_t     e;

    fprintf(out, "== %s\n", name);

    f = fopen(name, "rb");
    if (f == NULL) {
        fprintf(out, "error open\n");
        return;
    }

    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);

    data = malloc(len ? len : 1);
    if (data == NULL || fread(data, 1, len, f) != (size_t) len) {
        fprintf(out, "error read\n");
        fclose(f);
        free(data);
        return;
    }

    fclose(f);

    squash_tar_reader_init(&r, 1 << 24);
    sha = EVP_MD_CTX_new();

    seed = (unsigned) len * 2654435761u;
    p = data;
    end = data + len;
    open_entry = 0;
    got = 0;
    memset(&e, 0, sizeof(e));

    while (p < end) {
        seed = seed * 1103515245u + 12345u;
        step = (seed >> 16) % 700 + 1;
        n = (size_t) (end - p) < step ? (size_t) (end - p) : step;
        last = p + n;

        while (p < last) {
            if (squash_tar_read(&r, &p, last, &ev) != SQUASH_OK) {
                /* Go has listed the entry before, its data being whole */
                if (open_entry) {
                    entry_done(out, &e, got, sha);
                }

                fprintf(out, "error: %s\n", r.err);
                goto done;
            }

            switch (ev.type) {

            case SQUASH_TAR_EV_HEADER:
                if (open_entry) {
                    entry_done(out, &e, got, sha);
                }

                /* the strings stay valid until the next header */
                e = r.entry;
                e.path = strdup(e.path);
                e.linkpath = strdup(e.linkpath);
                if (e.pax) {
                    e.pax = memcpy(malloc(e.pax_len + 1), e.pax, e.pax_len);
                }

                open_entry = 1;
                got = 0;
                EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
                break;

            case SQUASH_TAR_EV_DATA:
                n = ev.len;
                if (got + n > e.size) {
                    n = (size_t) (e.size - got);
                }
                EVP_DigestUpdate(sha, ev.data, n);
                got += n;
                break;

            default:
                break;
            }
        }
    }

    if (!squash_tar_is_at_boundary(&r)) {
        if (open_entry && got == e.size) {
            /* cut in the next header: that entry was whole */
            entry_done(out, &e, got, sha);
        }

        fprintf(out, "error: truncated\n");
        goto done;
    }

    if (open_entry) {
        entry_done(out, &e, got, sha);
    }

    fprintf(out, "end\n");

done:

    free(e.path);
    free(e.linkpath);
    free((void *) e.pax);
    EVP_MD_CTX_free(sha);
    squash_tar_reader_free(&r);
    free(data);
}


int
main(int argc, char **argv)
{
    int     i;
    char    line[4096];
    size_t  n;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-") != 0) {
            list(stdout, argv[i]);
            continue;
        }

        while (fgets(line, sizeof(line), stdin)) {
            n = strlen(line);
            if (n && line[n - 1] == '\n') {
                line[n - 1] = '\0';
            }

            list(stdout, line);
        }
    }

    return 0;
}
