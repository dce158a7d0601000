
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * libFuzzer target: the tar reader and the merger behind the layer
 * transformer.  The input is a plain tar layer; its first two bytes pick
 * the input and output piece sizes, and the layer is merged twice (as a
 * top and a lower layer) so that whiteouts and shadowing meet real
 * bookkeeping, with the second pass over the layer that held hard links
 * need, the end of the image and its restated directories.  Whatever
 * the input, what the merger writes must be a tar that reads back entry
 * by entry with the reader (which t/diff/run holds to Go's archive/tar,
 * and where Go reads the merged streams of the corpus too).  Built by
 * build.sh with clang -fsanitize=fuzzer,address.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squash_layer.h"


/* SQUASH_FUZZ_MAIN: where the merged stream of an input is written */
static FILE  *fuzz_dump;


#define FUZZ_OUT_MAX  (4 << 20)


static int
fuzz_pass(const uint8_t *data, size_t size, size_t in_step, size_t room,
    squash_merger_t *m, int refetch, squash_bytes_t *merged)
{
    int                    rc;
    size_t                 n;
    unsigned char          out[1024], *o;
    const unsigned char   *p, *last, *end;
    squash_layer_t         l;

    if (squash_layer_init(&l, SQUASH_COMP_NONE, NULL, NULL, m, 4096, 1 << 16,
                          refetch)
        != SQUASH_OK)
    {
        squash_layer_free(&l);
        return SQUASH_ERROR;
    }

    p = data;
    end = data + size;

    for ( ;; ) {
        n = (size_t) (end - p) < in_step ? (size_t) (end - p) : in_step;
        last = p + n;
        o = out;

        rc = squash_layer_run(&l, &p, last, last == end, &o, out + room);

        if (o > out
            && squash_bytes_append(merged, out, o - out, FUZZ_OUT_MAX)
               != SQUASH_OK)
        {
            rc = SQUASH_ERROR;
        }

        if (rc != SQUASH_OK) {
            break;
        }

        if (o == out && p == last && last == end) {
            /* no progress with all input given: must not happen */
            abort();
        }
    }

    squash_layer_free(&l);

    return rc == SQUASH_DONE ? SQUASH_OK : SQUASH_ERROR;
}


/* the merged stream, with end blocks, must read back to its end */

static void
fuzz_read_back(squash_bytes_t *merged)
{
    static const unsigned char  zeros[2 * SQUASH_TAR_BLOCK];

    int                    ended;
    const unsigned char   *p, *last;
    squash_tar_reader_t    r;
    squash_tar_event_t     ev;

    if (merged->len % SQUASH_TAR_BLOCK) {
        /* every entry goes out padded */
        abort();
    }

    if (squash_bytes_append(merged, zeros, sizeof(zeros), (size_t) -1 / 2)
        != SQUASH_OK)
    {
        return;
    }

    squash_tar_reader_init(&r, 1 << 20);

    p = merged->data;
    last = p + merged->len;
    ended = 0;

    while (p < last) {
        if (squash_tar_read(&r, &p, last, &ev) != SQUASH_OK) {
            abort();
        }

        if (ev.type == SQUASH_TAR_EV_END) {
            ended = 1;
        }
    }

    if (!ended || p != last) {
        abort();
    }

    squash_tar_reader_free(&r);

    if (fuzz_dump) {
        fwrite(merged->data, 1, merged->len, fuzz_dump);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int               pass;
    size_t            in_step, room;
    squash_bytes_t    merged = { 0 };
    squash_merger_t  *m;

    if (size < 2) {
        return 0;
    }

    in_step = data[0] % 97 + 1;
    room = data[1] % 1024 + 1;
    data += 2;
    size -= 2;

    m = squash_merger_create(1 << 22, NULL, NULL);
    if (m == NULL) {
        return 0;
    }

    for (pass = 0; pass < 2; pass++) {
        /* squash_layer_init() begins the layer, or its second pass */

        if (fuzz_pass(data, size, in_step, room, m, 0, &merged)
            != SQUASH_OK)
        {
            goto done;
        }

        if (squash_merger_refetch_pending(m)) {
            if (fuzz_pass(data, size, in_step, room, m, 1, &merged)
                != SQUASH_OK)
            {
                goto done;
            }
        }
    }

    squash_merger_finish(m);

    /* directories restated at the end: header records as they were */
    if (squash_merger_restate(m, &merged) != SQUASH_OK) {
        goto done;
    }

    fuzz_read_back(&merged);

done:

    squash_bytes_free(&merged);
    squash_merger_destroy(m);

    return 0;
}


#ifdef SQUASH_FUZZ_MAIN

/*
 * squash-fuzz-merged OUTDIR FILE...: without libFuzzer, each input's
 * merged stream (with its end blocks) as OUTDIR/<name>.tar, for Go's
 * archive/tar to read back (t/diff/run); inputs the merger refuses
 * write nothing
 */

int
main(int argc, char **argv)
{
    int             i;
    long            len;
    char            path[4096];
    const char     *base;
    FILE           *f;
    unsigned char  *data;

    for (i = 2; i < argc; i++) {
        f = fopen(argv[i], "rb");
        if (f == NULL) {
            perror(argv[i]);
            return 1;
        }

        fseek(f, 0, SEEK_END);
        len = ftell(f);
        fseek(f, 0, SEEK_SET);

        data = malloc(len ? len : 1);
        if (data == NULL || fread(data, 1, len, f) != (size_t) len) {
            return 1;
        }

        fclose(f);

        base = strrchr(argv[i], '/');
        base = base ? base + 1 : argv[i];
        snprintf(path, sizeof(path), "%s/%s.tar", argv[1], base);

        fuzz_dump = fopen(path, "wb");
        if (fuzz_dump == NULL) {
            perror(path);
            return 1;
        }

        LLVMFuzzerTestOneInput(data, (size_t) len);

        fclose(fuzz_dump);
        fuzz_dump = NULL;
        free(data);
    }

    return 0;
}

#endif
