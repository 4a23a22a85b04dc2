/* udp.c — UDP (RFC 768): datagram arrival and demultiplexing to sockets,
 * sending, the socket calls of finack/udp.h, and ICMP errors reported to
 * connected sockets.
 *
 * Sockets come from a pool fixed at stack creation (udp_max_sockets);
 * each has a bounded receive queue (udp_rcvbuf bytes) allocated when the
 * socket opens: arriving datagrams are stored as [length, source address,
 * source port, data] records, never allocated one by one. The pool is
 * small and searched linearly by port. */
#include <errno.h>
#include <finack/tcp.h>
#include <finack/udp.h>
#include <stdlib.h>

#include "../iface/iface.h"
#include "../util/ring.h"

#define FA_UDP_HLEN 8
#define RECORD_HLEN 8 /* u16 length, u32 address, u16 port */

struct fa_udp {
    struct fa_stack *stack;
    int used;
    uint32_t laddr, raddr; /* laddr: bound to (0: any) */
    uint16_t lport, rport; /* rport != 0: connected */
    int reuse;             /* SO_REUSEADDR: may share its port */
    int err;               /* pending -errno (ICMP) */
    struct fa_ring queue;
};

struct fa_udp_stack {
    struct fa_udp *pool;
    uint32_t count;
};

int fa_udp_stack_init(struct fa_stack *s)
{
    struct fa_udp_stack *u = calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    s->udp = u;
    u->count = s->cfg.udp_max_sockets;
    u->pool = calloc(u->count, sizeof *u->pool);
    return u->pool ? 0 : -ENOMEM;
}

void fa_udp_stack_free(struct fa_stack *s)
{
    struct fa_udp_stack *u = s->udp;
    if (!u)
        return;
    for (uint32_t i = 0; u->pool && i < u->count; i++)
        fa_ring_free(&u->pool[i].queue);
    free(u->pool);
    free(u);
    s->udp = NULL;
}

static struct fa_udp *find_port(struct fa_stack *s, uint16_t port)
{
    for (uint32_t i = 0; i < s->udp->count; i++)
        if (s->udp->pool[i].used && s->udp->pool[i].lport == port)
            return &s->udp->pool[i];
    return NULL;
}

/* Would binding port clash? Sockets share a port only when every one of
 * them, the new one included, said SO_REUSEADDR (as Linux's UDP). */
static int port_taken(struct fa_stack *s, uint16_t port, int reuse)
{
    for (uint32_t i = 0; i < s->udp->count; i++) {
        const struct fa_udp *o = &s->udp->pool[i];
        if (o->used && o->lport == port && !(reuse && o->reuse))
            return 1;
    }
    return 0;
}

/* The socket a datagram is for: a connected one from exactly that peer
 * first, else one bound to the port and not connected elsewhere. */
static struct fa_udp *demux(struct fa_stack *s, uint32_t dst, uint16_t dport, uint32_t src,
                            uint16_t sport)
{
    struct fa_udp *loose = NULL;
    for (uint32_t i = 0; i < s->udp->count; i++) {
        struct fa_udp *u = &s->udp->pool[i];
        /* An unbound socket (port 0) takes nothing: a datagram to port 0
         * is for nobody. */
        if (!u->used || !u->lport || u->lport != dport)
            continue;
        /* Bound to our unicast address: not a broadcast (as Linux). */
        if (u->laddr && u->laddr != dst)
            continue;
        if (!u->rport)
            loose = u;
        else if (u->raddr == src && u->rport == sport)
            return u;
    }
    return loose;
}

/* Queues the datagram for u (source address and port in a record
 * before it), or counts it dropped when u's queue has no room. */
static void deliver(struct fa_stack *s, struct fa_udp *u, const struct fa_ipv4_view *ip,
                    uint16_t udp_len, uint16_t sport)
{
    uint32_t data_len = udp_len - FA_UDP_HLEN;
    if (fa_ring_space(&u->queue) < RECORD_HLEN + data_len) {
        fa_count(s, FA_CNT_UDP_QUEUE_FULL);
        return;
    }
    uint8_t rec[RECORD_HLEN];
    fa_put16(rec, (uint16_t)data_len);
    fa_put32(rec + 2, ip->src);
    fa_put16(rec + 6, sport);
    fa_ring_write(&u->queue, rec, RECORD_HLEN);
    fa_ring_write(&u->queue, ip->payload + FA_UDP_HLEN, data_len);
    fa_count(s, FA_CNT_UDP_DATAGRAMS_IN);
}

/* A broadcast goes to every socket on the port that takes it (bound to
 * no address, connected to its sender or to nobody), as Linux's
 * __udp4_lib_mcast_deliver (review: only one of two SO_REUSEADDR
 * sockets got it); never an ICMP error. */
static void deliver_broadcast(struct fa_stack *s, const struct fa_ipv4_view *ip,
                              uint16_t udp_len, uint16_t sport, uint16_t dport)
{
    int taken = 0;
    for (uint32_t i = 0; i < s->udp->count; i++) {
        struct fa_udp *u = &s->udp->pool[i];
        if (!u->used || !u->lport || u->lport != dport || (u->laddr && u->laddr != ip->dst) ||
            (u->rport && (u->raddr != ip->src || u->rport != sport)))
            continue;
        deliver(s, u, ip, udp_len, sport);
        taken = 1;
    }
    if (!taken)
        fa_count(s, FA_CNT_UDP_NO_PORT);
}

void fa_udp_input(struct fa_stack *s, const struct fa_rx_ctx *rx, fa_time now)
{
    const struct fa_ipv4_view *ip = &rx->ip;
    if (ip->payload_len < FA_UDP_HLEN ||
        fa_get16(ip->payload + 4) < FA_UDP_HLEN ||
        fa_get16(ip->payload + 4) > ip->payload_len) {
        fa_count(s, FA_CNT_UDP_TOO_SHORT);
        return;
    }
    uint16_t udp_len = fa_get16(ip->payload + 4);
    /* A zero checksum field means the sender did not compute one; a
     * device may have vouched for it (fa_stack_input_meta). */
    if (!rx->hints.csum_ok && fa_get16(ip->payload + 6) != 0) {
        uint64_t sum = fa_csum_pseudo(ip->src, ip->dst, FA_IPPROTO_UDP, udp_len);
        if (fa_csum_fold(fa_csum_add(sum, ip->payload, udp_len)) != 0) {
            fa_count(s, FA_CNT_UDP_BAD_CHECKSUM);
            return;
        }
    }
    uint16_t sport = fa_get16(ip->payload), dport = fa_get16(ip->payload + 2);
    if (fa_ipv4_is_broadcast(ip->dst, s->cfg.addr, s->cfg.prefix_len)) {
        deliver_broadcast(s, ip, udp_len, sport, dport);
        return;
    }
    struct fa_udp *u = demux(s, ip->dst, dport, ip->src, sport);
    if (!u) {
        /* RFC 1122 §4.1.3.1: port unreachable. */
        fa_count(s, FA_CNT_UDP_NO_PORT);
        fa_icmp_send_unreach(s, rx, FA_ICMP_UNREACH_PORT, now);
        return;
    }
    deliver(s, u, ip, udp_len, sport);
}

/* The error an ICMP error gives a connected socket, as Linux's
 * __udp4_lib_err (icmp_err_convert's fatal codes; fragmentation needed is
 * EMSGSIZE, finack never fragmenting); 0 for the soft ones, which UDP
 * does not report. */
static int udp_error_of(uint8_t type, uint8_t code)
{
    if (type == FA_ICMP_PARAM_PROBLEM)
        return -EPROTO;
    if (type != FA_ICMP_UNREACH)
        return 0;
    switch (code) {
    case 2: return -ENOPROTOOPT;
    case 3: return -ECONNREFUSED;
    case 4: return -EMSGSIZE;
    case 6: case 9: return -ENETUNREACH;
    case 7: return -EHOSTDOWN;
    case 8: return -ENONET;
    case 10: case 13: case 14: case 15: return -EHOSTUNREACH;
    default: return 0;
    }
}

void fa_udp_icmp_error(struct fa_stack *s, uint8_t type, uint8_t code, const uint8_t *quote,
                       size_t len)
{
    /* The quote: the IPv4 header we sent and at least 8 bytes after it
     * (RFC 792). Linux reports only hard errors (port unreachable:
     * ECONNREFUSED), and only to connected sockets (RFC 1122 §4.1.3.3
     * leaves it open). */
    int err = udp_error_of(type, code);
    if (!err || len < FA_IPV4_HLEN)
        return;
    size_t hlen = (size_t)(quote[0] & 0x0f) * 4;
    if (quote[9] != FA_IPPROTO_UDP || hlen < FA_IPV4_HLEN || len < hlen + 4)
        return;
    uint32_t dst = fa_get32(quote + 16);
    uint16_t sport = fa_get16(quote + hlen), dport = fa_get16(quote + hlen + 2);
    for (uint32_t i = 0; i < s->udp->count; i++) {
        struct fa_udp *u = &s->udp->pool[i];
        if (u->used && u->rport && u->lport == sport && u->rport == dport && u->raddr == dst)
            u->err = err;
    }
}

/* ---- the socket calls ------------------------------------------------ */
int fa_udp_open(struct fa_stack *s, struct fa_udp **out)
{
    for (uint32_t i = 0; i < s->udp->count; i++) {
        struct fa_udp *u = &s->udp->pool[i];
        if (u->used)
            continue;
        *u = (struct fa_udp){ .stack = s };
        if (fa_ring_init(&u->queue, s->cfg.udp_rcvbuf) < 0)
            return -ENOMEM;
        u->used = 1;
        *out = u;
        return 0;
    }
    return -EMFILE;
}

static int pick_port(struct fa_udp *u)
{
    struct fa_stack *s = u->stack;
    uint32_t span = (uint32_t)s->cfg.tcp_port_max - s->cfg.tcp_port_min + 1;
    /* RFC 6056 §3.3.1: a random starting point each time, so the next
     * port cannot be guessed from the last (off-path answers). */
    uint32_t start = (uint32_t)(s->cfg.rng.next(s->cfg.rng.ctx) % span);
    for (uint32_t i = 0; i < span; i++) {
        uint16_t p = (uint16_t)(s->cfg.tcp_port_min + (start + i) % span);
        if (!find_port(s, p)) {
            u->lport = p;
            return 0;
        }
    }
    return -EADDRINUSE;
}

int fa_udp_bind(struct fa_udp *u, uint32_t addr, uint16_t port)
{
    struct fa_stack *s = u->stack;
    if (u->lport)
        return -EINVAL;
    if (addr && addr != s->cfg.addr)
        return -EADDRNOTAVAIL;
    u->laddr = addr; /* 0: any of ours, broadcasts included */
    if (!port)
        return pick_port(u);
    if (port_taken(s, port, u->reuse))
        return -EADDRINUSE;
    u->lport = port;
    return 0;
}

int fa_udp_reuseaddr(struct fa_udp *u, int on)
{
    u->reuse = !!on;
    return 0;
}

int fa_udp_connect(struct fa_udp *u, uint32_t addr, uint16_t port)
{
    if (!addr) {
        u->raddr = 0;
        u->rport = 0;
        return 0;
    }
    if (!port)
        return -EINVAL;
    if (!u->lport && fa_udp_bind(u, 0, 0) < 0)
        return -EAGAIN; /* no ephemeral port left: Linux's autobind */
    u->raddr = addr;
    u->rport = port;
    u->err = 0;
    return 0;
}

long fa_udp_sendto(struct fa_udp *u, const void *data, size_t len, uint32_t addr,
                   uint16_t port, fa_time now)
{
    struct fa_stack *s = u->stack;
    if (u->err) {
        int e = u->err;
        u->err = 0;
        return e;
    }
    if (!addr) {
        if (!u->rport)
            return -EDESTADDRREQ;
        addr = u->raddr;
        port = u->rport;
    }
    if (!port)
        return -EINVAL;
    if (len > fa_ip_payload_max(s) - FA_UDP_HLEN)
        return -EMSGSIZE;
    if (!u->lport && fa_udp_bind(u, 0, 0) < 0)
        return -EAGAIN; /* no ephemeral port left: Linux's autobind */
    uint8_t *p = fa_ip_payload(s);
    uint16_t ulen = (uint16_t)(FA_UDP_HLEN + len);
    fa_put16(p, u->lport);
    fa_put16(p + 2, port);
    fa_put16(p + 4, ulen);
    p[6] = p[7] = 0;
    if (len)
        memcpy(p + FA_UDP_HLEN, data, len);
    uint16_t c = fa_csum_fold(fa_csum_add(
        fa_csum_pseudo(s->cfg.addr, addr, FA_IPPROTO_UDP, ulen), p, ulen));
    fa_csum_store(p + 6, c ? c : 0xffff); /* RFC 768: 0 means "none" */
    int err = fa_ip_send(s, addr, FA_IPPROTO_UDP, ulen, now);
    if (err < 0 && err != -ENOBUFS)
        return err;
    fa_count(s, FA_CNT_UDP_DATAGRAMS_OUT);
    return (long)len;
}

long fa_udp_recvfrom(struct fa_udp *u, void *buf, size_t len, uint32_t *from,
                     uint16_t *port, fa_time now)
{
    (void)now;
    if (u->err) { /* before what is queued, as Linux's sock_error() */
        int e = u->err;
        u->err = 0;
        return e;
    }
    if (!u->queue.len)
        return -EAGAIN;
    uint8_t rec[RECORD_HLEN];
    fa_ring_copy_out(&u->queue, 0, rec, RECORD_HLEN);
    uint16_t dlen = fa_get16(rec);
    uint32_t n = dlen < len ? dlen : (uint32_t)len;
    if (n)
        fa_ring_copy_out(&u->queue, RECORD_HLEN, buf, n);
    fa_ring_consume(&u->queue, RECORD_HLEN + dlen);
    if (from)
        *from = fa_get32(rec + 2);
    if (port)
        *port = fa_get16(rec + 6);
    return (long)n;
}

unsigned fa_udp_events(const struct fa_udp *u)
{
    unsigned ev = FA_TCP_EV_WRITABLE;
    if (u->queue.len || u->err)
        ev |= FA_TCP_EV_READABLE;
    if (u->err)
        ev |= FA_TCP_EV_ERROR;
    return ev;
}

int fa_udp_close(struct fa_udp *u)
{
    fa_ring_free(&u->queue);
    *u = (struct fa_udp){ 0 };
    return 0;
}

uint16_t fa_udp_local_port(const struct fa_udp *u)
{
    return u->lport;
}
