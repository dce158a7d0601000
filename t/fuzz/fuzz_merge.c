
/*
 * libFuzzer target: the tar reader and the merger behind the layer
 * transformer.  The input is a plain tar layer; its first two bytes pick
 * the input and output piece sizes, and the layer is merged twice (as a
 * top and a lower layer) so that whiteouts and shadowing meet real
 * bookkeeping.  Built by build.sh with clang -fsanitize=fuzzer,address.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "squash_layer.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                    rc, pass;
    size_t                 in_step, room, n;
    unsigned char          out[1024], *o;
    const unsigned char   *p, *last, *end;
    squash_layer_t         l;
    squash_merger_t       *m;

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
        if (squash_layer_init(&l, SQUASH_COMP_NONE, m, 4096, 1 << 16, 0)
            != SQUASH_OK)
        {
            squash_layer_free(&l);
            break;
        }

        p = data;
        end = data + size;

        for ( ;; ) {
            n = (size_t) (end - p) < in_step ? (size_t) (end - p) : in_step;
            last = p + n;
            o = out;

            rc = squash_layer_run(&l, &p, last, last == end, &o, out + room);

            if (rc != SQUASH_OK) {
                break;
            }

            if (o == out && p == last && last == end) {
                /* no progress with all input given: must not happen */
                abort();
            }
        }

        squash_layer_free(&l);

        if (rc == SQUASH_ERROR) {
            break;
        }
    }

    squash_merger_destroy(m);

    return 0;
}
