
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * hashrate: how fast this machine's core checks bytes, in memory, for the
 * two ways issue 11 asked about.
 *
 * - SHA-256: OpenSSL's (what the module uses; SHA-NI where the CPU has
 *   it), and SHA-NI on 1, 2 and 4 independent streams interleaved in one
 *   loop (written here for this measurement only; each checked against
 *   OpenSSL).  A cold download without a pool makes two SHA-256 passes
 *   more than a warm one (the tar, for the diff_id; layer.tar); if two
 *   interleaved streams ran at twice one's rate, hashing both together
 *   would halve that cost.
 * - CRC-32 of gzip: ISA-L's crc32_gzip_refl(), what its inflate computes
 *   as it goes; what skipping it would save.
 *
 *   bench/hashrate [MiB]      (64 by default, hashed 8 times)
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <immintrin.h>
#include <isa-l/crc.h>
#include <openssl/evp.h>


#define LANES  4
#define TIMES  8

#define SHANI  __attribute__((target("sha,sse4.1,ssse3")))


static const uint32_t  k256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

static const uint32_t  h256[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
    0x1f83d9ab, 0x5be0cd19
};


/*
 * SHA-256's compression of `blocks` 64-byte blocks, on `lanes` streams at
 * once: state[i] (a..h) over data[i].  The rounds of the lanes alternate,
 * so that one lane's SHA-NI instructions run while another's wait.
 */

SHANI static inline __attribute__((always_inline)) void
sha256_lanes(uint32_t state[][8], const unsigned char **data, int lanes,
    size_t blocks)
{
    int            i, g;
    __m128i        abef[LANES], cdgh[LANES], save0[LANES], save1[LANES];
    __m128i        w[LANES][4], m[LANES], t, u, k;
    const __m128i  swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
                                         0x0405060700010203ULL);

    for (i = 0; i < lanes; i++) {
        /* a..h as SHA-NI holds them: ABEF and CDGH */
        t = _mm_shuffle_epi32(_mm_loadu_si128((__m128i *) state[i]), 0xB1);
        u = _mm_shuffle_epi32(_mm_loadu_si128((__m128i *) &state[i][4]),
                              0x1B);
        abef[i] = _mm_alignr_epi8(t, u, 8);
        cdgh[i] = _mm_blend_epi16(u, t, 0xF0);
    }

    while (blocks--) {

        for (i = 0; i < lanes; i++) {
            save0[i] = abef[i];
            save1[i] = cdgh[i];
        }

#pragma GCC unroll 16
        for (g = 0; g < 16; g++) {
            k = _mm_loadu_si128((const __m128i *) &k256[4 * g]);

#pragma GCC unroll 4
            for (i = 0; i < lanes; i++) {
                if (g < 4) {
                    w[i][g] = _mm_shuffle_epi8(
                        _mm_loadu_si128((const __m128i *) (data[i] + 16 * g)),
                        swap);

                } else {
                    /* w[t] from w[t-16], w[t-15], w[t-7] and w[t-2] */
                    t = _mm_sha256msg1_epu32(w[i][g & 3], w[i][(g + 1) & 3]);
                    t = _mm_add_epi32(t, _mm_alignr_epi8(w[i][(g + 3) & 3],
                                                         w[i][(g + 2) & 3],
                                                         4));
                    w[i][g & 3] = _mm_sha256msg2_epu32(t, w[i][(g + 3) & 3]);
                }

                m[i] = _mm_add_epi32(w[i][g & 3], k);
                cdgh[i] = _mm_sha256rnds2_epu32(cdgh[i], abef[i], m[i]);
            }

#pragma GCC unroll 4
            for (i = 0; i < lanes; i++) {
                m[i] = _mm_shuffle_epi32(m[i], 0x0E);
                abef[i] = _mm_sha256rnds2_epu32(abef[i], cdgh[i], m[i]);
            }
        }

        for (i = 0; i < lanes; i++) {
            abef[i] = _mm_add_epi32(abef[i], save0[i]);
            cdgh[i] = _mm_add_epi32(cdgh[i], save1[i]);
            data[i] += 64;
        }
    }

    for (i = 0; i < lanes; i++) {
        t = _mm_shuffle_epi32(abef[i], 0x1B);
        u = _mm_shuffle_epi32(cdgh[i], 0xB1);
        _mm_storeu_si128((__m128i *) state[i], _mm_blend_epi16(t, u, 0xF0));
        _mm_storeu_si128((__m128i *) &state[i][4], _mm_alignr_epi8(u, t, 8));
    }
}


/* the compiler unrolls each for its number of lanes */

SHANI static void
sha256_x1(uint32_t state[][8], const unsigned char **data, size_t blocks)
{
    sha256_lanes(state, data, 1, blocks);
}


SHANI static void
sha256_x2(uint32_t state[][8], const unsigned char **data, size_t blocks)
{
    sha256_lanes(state, data, 2, blocks);
}


SHANI static void
sha256_x4(uint32_t state[][8], const unsigned char **data, size_t blocks)
{
    sha256_lanes(state, data, 4, blocks);
}


/* the digest of n bytes (a multiple of 64) from a state after them */

static void
sha256_final(uint32_t state[8], size_t n, unsigned char *md)
{
    int                   i;
    unsigned char         pad[64];
    const unsigned char  *p;

    memset(pad, 0, sizeof(pad));
    pad[0] = 0x80;

    for (i = 0; i < 8; i++) {
        pad[56 + i] = (unsigned char) ((uint64_t) n * 8 >> (56 - 8 * i));
    }

    p = pad;
    sha256_x1((uint32_t (*)[8]) state, &p, 1);

    for (i = 0; i < 32; i++) {
        md[i] = (unsigned char) (state[i / 4] >> (24 - 8 * (i % 4)));
    }
}


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


int
main(int argc, char **argv)
{
    int             i, r, lanes;
    size_t          n, j;
    double          t, one;
    uint32_t        c, state[LANES][8];
    unsigned char  *buf[LANES], md[EVP_MAX_MD_SIZE], want[LANES][32];
    const unsigned char  *p[LANES];

    n = (size_t) (argc > 1 ? atoi(argv[1]) : 64) << 20;

    if (n == 0) {
        fprintf(stderr, "usage: hashrate [MiB]\n");
        return 2;
    }

    srand(1);

    for (i = 0; i < LANES; i++) {
        buf[i] = malloc(n);
        if (buf[i] == NULL) {
            perror("hashrate");
            return 1;
        }

        for (j = 0; j < n; j++) {
            buf[i][j] = (unsigned char) rand();
        }

        if (EVP_Digest(buf[i], n, want[i], NULL, EVP_sha256(), NULL) != 1) {
            fprintf(stderr, "hashrate: EVP_Digest failed\n");
            return 1;
        }
    }

    t = now();
    for (r = 0; r < TIMES; r++) {
        EVP_Digest(buf[0], n, md, NULL, EVP_sha256(), NULL);
    }
    one = TIMES * n / (now() - t) / 1e6;

    printf("SHA-256, OpenSSL, one stream: %.0f MB/s\n", one);

    if (!__builtin_cpu_supports("sha")) {
        printf("SHA-256 lanes: this CPU has no SHA-NI\n");

    } else {
        for (lanes = 1; lanes <= LANES; lanes *= 2) {
            t = now();

            for (r = 0; r < TIMES; r++) {
                for (i = 0; i < lanes; i++) {
                    memcpy(state[i], h256, sizeof(h256));
                    p[i] = buf[i];
                }

                if (lanes == 1) {
                    sha256_x1(state, p, n / 64);

                } else if (lanes == 2) {
                    sha256_x2(state, p, n / 64);

                } else {
                    sha256_x4(state, p, n / 64);
                }
            }

            t = lanes * (double) TIMES * n / (now() - t) / 1e6;

            for (i = 0; i < lanes; i++) {
                sha256_final(state[i], n, md);

                if (memcmp(md, want[i], 32) != 0) {
                    fprintf(stderr, "hashrate: lane %d of %d: wrong digest\n",
                            i, lanes);
                    return 1;
                }
            }

            printf("SHA-256, SHA-NI, %d %s: %.0f MB/s in all (%.2f times"
                   " OpenSSL's one)\n", lanes,
                   lanes > 1 ? "streams interleaved" : "stream", t, t / one);
        }
    }

    c = 0;
    t = now();
    for (r = 0; r < TIMES; r++) {
        for (j = 0; j < n; j += 65536) {
            c = crc32_gzip_refl(c, buf[0] + j, 65536);
        }
    }

    printf("CRC-32, ISA-L crc32_gzip_refl(), 64 KiB at a time: %.0f MB/s"
           " (%08x)\n", TIMES * n / (now() - t) / 1e6, c);

    return 0;
}
