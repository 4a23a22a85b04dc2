/* ring.c — the byte ring (ring.h). */
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int fa_ring_init(struct fa_ring *r, uint32_t size)
{
    r->buf = malloc(size);
    if (!r->buf)
        return -ENOMEM;
    r->size = size;
    r->head = r->len = 0;
    return 0;
}

void fa_ring_free(struct fa_ring *r)
{
    free(r->buf);
    r->buf = NULL;
    r->size = r->head = r->len = 0;
}

void fa_ring_store(struct fa_ring *r, uint32_t off, const uint8_t *data,
                   uint32_t n)
{
    uint32_t pos = (r->head + off) % r->size;
    uint32_t first = r->size - pos < n ? r->size - pos : n;
    memcpy(r->buf + pos, data, first);
    memcpy(r->buf, data + first, n - first);
}

uint32_t fa_ring_write(struct fa_ring *r, const uint8_t *data, uint32_t n)
{
    if (n > fa_ring_space(r))
        n = fa_ring_space(r);
    if (n) {
        fa_ring_store(r, r->len, data, n);
        r->len += n;
    }
    return n;
}

void fa_ring_copy_out(const struct fa_ring *r, uint32_t off, uint8_t *out,
                      uint32_t n)
{
    uint32_t pos = (r->head + off) % r->size;
    uint32_t first = r->size - pos < n ? r->size - pos : n;
    memcpy(out, r->buf + pos, first);
    memcpy(out + first, r->buf, n - first);
}

void fa_ring_consume(struct fa_ring *r, uint32_t n)
{
    r->head = (r->head + n) % r->size;
    r->len -= n;
}
