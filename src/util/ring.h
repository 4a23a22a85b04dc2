/* ring.h — a byte ring of fixed size (internal): TCP's send and receive
 * buffers, UDP's receive queues. Allocated once, at creation. */
#ifndef FA_RING_H
#define FA_RING_H

#include <stdint.h>

struct fa_ring {
    uint8_t *buf;
    uint32_t size, head, len;
};
int fa_ring_init(struct fa_ring *r, uint32_t size);
void fa_ring_free(struct fa_ring *r);
uint32_t fa_ring_write(struct fa_ring *r, const uint8_t *data, uint32_t n);
/* Copies n bytes starting off bytes past head (off + n <= size). */
void fa_ring_copy_out(const struct fa_ring *r, uint32_t off, uint8_t *out,
                      uint32_t n);
/* Stores n bytes at off past head, beyond len if need be (reassembly). */
void fa_ring_store(struct fa_ring *r, uint32_t off, const uint8_t *data,
                   uint32_t n);
void fa_ring_consume(struct fa_ring *r, uint32_t n);
static inline uint32_t fa_ring_space(const struct fa_ring *r)
{
    return r->size - r->len;
}

#endif
