
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: SHA-256 digests.
 */


#include <string.h>

#include <openssl/evp.h>

#include "squash_digest.h"


int
squash_sha256_init(squash_sha256_t *s)
{
    EVP_MD_CTX  *md;

    md = s->md;

    if (md == NULL) {
        md = EVP_MD_CTX_new();
        if (md == NULL) {
            return SQUASH_ERROR;
        }

        s->md = md;
    }

    return EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? SQUASH_OK
                                                          : SQUASH_ERROR;
}


int
squash_sha256_update(squash_sha256_t *s, const void *p, size_t n)
{
    if (n == 0) {
        return SQUASH_OK;
    }

    return EVP_DigestUpdate(s->md, p, n) == 1 ? SQUASH_OK : SQUASH_ERROR;
}


int
squash_sha256_final(squash_sha256_t *s, char *digest)
{
    unsigned int   n;
    unsigned char  md[EVP_MAX_MD_SIZE];

    if (EVP_DigestFinal_ex(s->md, md, &n) != 1) {
        return SQUASH_ERROR;
    }

    memcpy(digest, "sha256:", 7);
    squash_hex(md, n, digest + 7);

    return SQUASH_OK;
}


void
squash_sha256_free(squash_sha256_t *s)
{
    EVP_MD_CTX_free(s->md);
    s->md = NULL;
}


int
squash_sha256_digest(const void *data, size_t len, char *digest)
{
    memcpy(digest, "sha256:", 7);

    return squash_sha256_hex(data, len, digest + 7);
}


int
squash_sha256_hex(const void *data, size_t len, char *hex)
{
    unsigned int   n;
    unsigned char  md[EVP_MAX_MD_SIZE];

    if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1) {
        return SQUASH_ERROR;
    }

    squash_hex(md, n, hex);

    return SQUASH_OK;
}


void
squash_hex(const unsigned char *p, size_t n, char *out)
{
    static const char  hex[] = "0123456789abcdef";

    while (n--) {
        *out++ = hex[*p >> 4];
        *out++ = hex[*p++ & 0xf];
    }

    *out = '\0';
}


int
squash_is_digest(const char *s, size_t len)
{
    size_t  i;

    if (len != SQUASH_DIGEST_LEN || strncmp(s, "sha256:", 7) != 0) {
        return 0;
    }

    for (i = 7; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }

    return 1;
}
