
/*
 * Copyright (C) 2026 The ngx_squash authors
 *
 * ngx_squash: SHA-256 digests (OpenSSL), written the way the image
 * documents name them: "sha256:" and 64 lower-case hex digits.
 */

#ifndef _SQUASH_DIGEST_H_INCLUDED_
#define _SQUASH_DIGEST_H_INCLUDED_


#include "squash_core.h"


#define SQUASH_HEX_LEN          64
#define SQUASH_DIGEST_LEN       71      /* "sha256:" + 64 hex */
#define SQUASH_SHA256_LEN       32      /* its bytes */


/* a running digest; its state is OpenSSL's, allocated by init */

typedef struct {
    void           *md;
} squash_sha256_t;


int squash_sha256_init(squash_sha256_t *s);
int squash_sha256_update(squash_sha256_t *s, const void *p, size_t n);

/* "sha256:<hex>" into digest (SQUASH_DIGEST_LEN + 1 bytes) */
int squash_sha256_final(squash_sha256_t *s, char *digest);
void squash_sha256_free(squash_sha256_t *s);

/* "sha256:<hex>" of data */
int squash_sha256_digest(const void *data, size_t len, char *digest);

/* the 64 hex digits alone */
int squash_sha256_hex(const void *data, size_t len, char *hex);

void squash_hex(const unsigned char *p, size_t n, char *out);

/* true for "sha256:" and 64 lower-case hex digits, exactly len bytes */
int squash_is_digest(const char *s, size_t len);


#endif /* _SQUASH_DIGEST_H_INCLUDED_ */
