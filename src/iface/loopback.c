/* loopback.c — IPv4 packets a stack sends to its own address (one
 * program on finackd connecting to another): queued, bounded, and
 * delivered at the next fa_stack_poll(), never inside the send that made
 * them — TCP would be re-entered in the middle of its own output. The
 * queue is allocated at create (config.loopback_queue packets); when it
 * is full the packet is dropped and counted, as a full device queue
 * would drop it, and TCP resends. RFC 1122 §3.3.6: a datagram to our own
 * address is passed back up, not put on the wire. */
#include <errno.h>
#include <stdlib.h>

#include "iface.h"

int fa_loopback_init(struct fa_stack *s)
{
    s->loop_cap = s->cfg.loopback_queue;
    s->loop_pkt = malloc((size_t)s->loop_cap * s->cfg.mtu);
    s->loop_len = calloc(s->loop_cap, sizeof *s->loop_len);
    return s->loop_pkt && s->loop_len ? 0 : -ENOMEM;
}

void fa_loopback_free(struct fa_stack *s)
{
    free(s->loop_pkt);
    free(s->loop_len);
}

int fa_loopback_send(struct fa_stack *s, const uint8_t *pkt, size_t len)
{
    if (s->loop_count == s->loop_cap) {
        fa_count(s, FA_CNT_IP_LOOP_FULL);
        return -ENOBUFS;
    }
    unsigned i = (s->loop_head + s->loop_count++) % s->loop_cap;
    memcpy(s->loop_pkt + (size_t)i * s->cfg.mtu, pkt, len);
    s->loop_len[i] = (uint16_t)len;
    fa_count(s, FA_CNT_IP_LOOPED);
    return 0;
}

int fa_loopback_poll(struct fa_stack *s, fa_time now)
{
    /* What is queued now; answers queued meanwhile wait for the next poll
     * (the loop comes back at once: the return says so). */
    for (unsigned n = s->loop_count; n; n--) {
        /* The slot leaves the queue only after its packet is handled: a
         * send meanwhile (an ACK) must not overwrite what is being read. */
        unsigned i = s->loop_head;
        fa_ipv4_input_local(s, s->loop_pkt + (size_t)i * s->cfg.mtu, s->loop_len[i], now);
        s->loop_head = (s->loop_head + 1) % s->loop_cap;
        s->loop_count--;
    }
    return s->loop_count != 0;
}
