/* sha256.h — SHA-256 (FIPS 180-4) for the programs' transfer checks. */
#ifndef FA_PROG_SHA256_H
#define FA_PROG_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
    uint32_t h[8];
    uint64_t bytes;
    uint8_t block[64];
    size_t fill;
};
void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
/* Writes 64 hex digits and a NUL into hex. */
void sha256_hex(struct sha256 *s, char hex[65]);

#endif
