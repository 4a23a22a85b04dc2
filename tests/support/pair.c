/* pair.c — two stacks on a memlink, driven event by event; a segment log
 * and a state trace for each side; connection and transfer helpers. */
#include "pair.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wire/wire.h"

/* Logs TCP headers on the way out, then passes the frame on. */
static int log_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    struct pair_end *e = ctx;
    struct fa_ipv4_view ip;
    struct fa_tcp_view tcp;
    if (len > FA_ETH_HLEN && fa_get16(frame + 12) == FA_ETHERTYPE_IPV4 &&
        fa_ipv4_hdr_parse(frame + FA_ETH_HLEN, len - FA_ETH_HLEN, &ip) == 0 &&
        ip.proto == FA_IPPROTO_TCP &&
        fa_tcp_hdr_parse(ip.payload, ip.payload_len, ip.src, ip.dst, 0, &tcp) == 0 &&
        e->nsegs < SEG_LOG_MAX) {
        e->segs[e->nsegs++] = (struct seg_rec){
            .t = e->pair->now, .sport = tcp.sport, .dport = tcp.dport,
            .seq = tcp.seq, .ack = tcp.ack, .flags = tcp.flags, .wnd = tcp.wnd,
            .len = tcp.data_len,
        };
    }
    return e->next.transmit(e->next.ctx, frame, len);
}

static void trace_state(void *ctx, const struct fa_tcp *sock, int from, int to,
                        fa_time now)
{
    struct pair_end *e = ctx;
    struct fa_tcp_info info;
    fa_tcp_get_info(sock, &info);
    if (e->nstates < TRACE_MAX)
        e->states[e->nstates++] = (struct state_rec){
            .t = now, .lport = info.local_port, .rport = info.remote_port,
            .from = from, .to = to,
        };
}

void pair_init_ex(struct pair *p, const struct fa_memlink_config *link_cfg,
                  const struct fa_fault_config *fault_cfg, uint64_t seed,
                  void (*tweak)(int side, struct fa_config *cfg))
{
    memset(p, 0, sizeof *p);
    struct fa_clock clock = fa_clock_virtual(&p->now);
    struct fa_memlink_config lc;
    fa_memlink_config_init(&lc);
    assert_int_equal(fa_memlink_create(link_cfg ? link_cfg : &lc, clock, &p->link), 0);
    for (int i = 0; i < 2; i++) {
        struct pair_end *e = &p->end[i];
        e->pair = p;
        e->side = i;
        p->addr[i] = FA_IPV4(198, 18, 0, 1 + i);
        fa_prng_seed(&p->prng[i], seed * 2 + (uint64_t)i);
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.addr = p->addr[i];
        e->next = fa_memlink_tx(p->link, i);
        if (fault_cfg) {
            assert_int_equal(fa_fault_create(fault_cfg, seed + 100 + (uint64_t)i,
                                             e->next, clock, &p->fault[i]), 0);
            e->next = fa_fault_device(p->fault[i]);
        }
        cfg.device = (struct fa_device){ .ctx = e, .transmit = log_transmit };
        cfg.rng = fa_prng_rng(&p->prng[i]);
        cfg.tcp_trace = trace_state;
        cfg.tcp_trace_ctx = e;
        if (tweak)
            tweak(i, &cfg);
        assert_int_equal(fa_stack_create(&cfg, p->now, &p->stack[i]), 0);
        p->sink[i] = (struct fa_stack_sink){ p->stack[i], clock };
        fa_memlink_set_rx(p->link, i, fa_stack_sink_device(&p->sink[i]));
    }
}

void pair_init(struct pair *p, const struct fa_memlink_config *link,
               const struct fa_fault_config *fault, uint64_t seed)
{
    pair_init_ex(p, link, fault, seed, NULL);
}

void pair_destroy(struct pair *p)
{
    for (int i = 0; i < 2; i++) {
        fa_stack_destroy(p->stack[i]);
        fa_fault_destroy(p->fault[i]);
    }
    fa_memlink_destroy(p->link);
}

static fa_time pair_step(struct pair *p)
{
    fa_time next = fa_memlink_deliver(p->link, p->now);
    for (int i = 0; i < 2; i++) {
        fa_time t = p->fault[i] ? fa_fault_poll(p->fault[i], p->now) : FA_TIME_NEVER;
        if (t < next)
            next = t;
        t = fa_stack_poll(p->stack[i], p->now);
        if (t < next)
            next = t;
    }
    /* Polling may have sent frames into the link. */
    fa_time t = fa_memlink_deliver(p->link, p->now);
    return t < next ? t : next;
}

void pair_run_until(struct pair *p, fa_time until)
{
    for (int guard = 0; guard < 20000000; guard++) {
        fa_time next = pair_step(p);
        p->steps++;
        if (next > until) {
            p->now = until;
            pair_step(p);
            return;
        }
        assert_true(next >= p->now); /* nothing is due in the past */
        p->now = next;
    }
    fail_msg("pair_run_until: event loop did not settle");
}

void pair_run_for(struct pair *p, fa_time span)
{
    pair_run_until(p, p->now + span);
}

void pair_connect(struct pair *p, uint16_t port, struct fa_tcp **client,
                  struct fa_tcp **server, struct fa_tcp **listener,
                  void (*setup)(int side, struct fa_tcp *sock))
{
    struct fa_tcp *l, *c;
    assert_int_equal(fa_tcp_open(p->stack[1], &l), 0);
    if (setup)
        setup(1, l);
    assert_int_equal(fa_tcp_bind(l, 0, port), 0);
    assert_int_equal(fa_tcp_listen(l, 8, p->now), 0);
    assert_int_equal(fa_tcp_open(p->stack[0], &c), 0);
    if (setup)
        setup(0, c);
    assert_int_equal(fa_tcp_connect(c, p->addr[1], port, p->now), -EINPROGRESS);
    struct fa_tcp *s = NULL;
    /* Up to a minute: lost SYNs are retried after 1, 2, 4... s. */
    for (int i = 0; i < 60000 && !s; i++) {
        pair_run_for(p, FA_NS_PER_MS);
        if (fa_tcp_accept(l, &s) < 0)
            s = NULL;
    }
    assert_non_null(s);
    assert_int_equal(fa_tcp_state(c), FA_TCP_ESTABLISHED);
    *client = c;
    *server = s;
    if (listener)
        *listener = l;
    else
        fa_tcp_close(l, p->now);
}

size_t pair_drain(struct pair *p, struct fa_tcp *dst, uint8_t *out, size_t cap)
{
    size_t got = 0;
    for (;;) {
        long n = fa_tcp_recv(dst, out + got, cap - got, p->now);
        if (n <= 0)
            return got;
        got += (size_t)n;
        if (got == cap)
            return got;
    }
}

size_t pair_transfer(struct pair *p, struct fa_tcp *src, struct fa_tcp *dst,
                     const uint8_t *data, size_t len, uint8_t *out,
                     fa_time limit)
{
    size_t sent = 0, got = 0;
    fa_time end = p->now + limit;
    while (got < len && p->now < end) {
        if (sent < len) {
            long n = fa_tcp_send(src, data + sent, len - sent, p->now);
            if (n > 0)
                sent += (size_t)n;
        }
        got += pair_drain(p, dst, out + got, len - got);
        pair_run_for(p, 100 * FA_NS_PER_US);
    }
    return got;
}

const char *pair_states(const struct pair *p, int side, uint16_t lport,
                        uint16_t rport, char *out, size_t cap)
{
    const struct pair_end *e = &p->end[side];
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < e->nstates; i++) {
        const struct state_rec *r = &e->states[i];
        if (r->lport != lport || r->rport != rport)
            continue;
        if (n == 0)
            n += (size_t)snprintf(out + n, cap - n, "%s", fa_tcp_state_name(r->from));
        n += (size_t)snprintf(out + n, cap - n, ">%s", fa_tcp_state_name(r->to));
        if (n >= cap)
            break;
    }
    return out;
}

size_t pair_count_segs(const struct pair *p, int side, uint8_t flags)
{
    size_t n = 0;
    for (size_t i = 0; i < p->end[side].nsegs; i++)
        n += (p->end[side].segs[i].flags & flags) == flags;
    return n;
}

const struct seg_rec *pair_last_seg(const struct pair *p, int side, uint8_t flags)
{
    for (size_t i = p->end[side].nsegs; i-- > 0;)
        if ((p->end[side].segs[i].flags & flags) == flags)
            return &p->end[side].segs[i];
    return NULL;
}

int pair_conns(const struct pair *p, int side, int *time_wait)
{
    struct fa_tcp_usage u;
    fa_stack_tcp_usage(p->stack[side], &u);
    if (time_wait)
        *time_wait = (int)u.time_wait;
    return (int)(u.sockets + u.time_wait);
}

uint16_t sock_port(const struct fa_tcp *sock)
{
    struct fa_tcp_info info;
    fa_tcp_get_info(sock, &info);
    return info.local_port;
}
