/* tcp_cc.c — congestion control behind one interface (tcp.h's
 * fa_tcp_cc_ops): each algorithm is pure window arithmetic on cwnd and
 * ssthresh (tcp_cc_newreno.c, tcp_cc_cubic.c); when to call it — an ACK
 * outside recovery, a loss, a timeout, an undo — is tcp_recovery.c's
 * business. Chosen per socket (FA_TCP_CONGESTION), by default from the
 * stack's config.tcp_congestion (CUBIC, as in Linux). */
#include "tcp.h"

const struct fa_tcp_cc_ops *fa_tcp_cc(const struct fa_tcp *c)
{
    return fa_tcp_so(c)->cc_algo == FA_TCP_CC_NEWRENO ? &fa_tcp_cc_newreno : &fa_tcp_cc_cubic;
}

uint32_t fa_tcp_initial_window(const struct fa_tcp *c)
{
    /* RFC 6928: IW = min(10 * MSS, max(2 * MSS, 14600)). */
    uint32_t iw = 14600 > 2u * c->mss ? 14600 : 2u * c->mss;
    return iw < 10u * c->mss ? iw : 10u * c->mss;
}

uint32_t fa_tcp_ca_growth(uint64_t num, uint32_t *frac, uint32_t cwnd)
{
    uint64_t total = num + *frac;
    *frac = (uint32_t)(total % cwnd);
    return (uint32_t)(total / cwnd);
}

void fa_tcp_cc_switch(struct fa_tcp *c)
{
    if (c->state == FA_TCP_CLOSED || c->state == FA_TCP_LISTEN)
        return; /* not opened yet: init comes with the handshake */
    uint32_t cwnd = c->cwnd, ssthresh = c->ssthresh;
    fa_tcp_cc(c)->init(c);
    c->cwnd = cwnd;
    c->ssthresh = ssthresh;
}
