/* tcp_table.c — where connections live: a pool of control blocks fixed
 * at stack creation (in 64 KiB chunks that name their stack: tcp.h), a
 * hash on the 4-tuple keyed by a secret (so a peer
 * cannot aim for one chain), the list of listeners, ephemeral ports
 * (RFC 6056 §3.3.3), initial sequence numbers (RFC 6528), and the birth
 * and death of a connection. */
#include <errno.h>
#include <stdlib.h>

#include "tcp.h"

/* ---- SipHash-c-d (Aumasson & Bernstein), from its specification ------ */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                               \
    do {                                                                       \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);               \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                 \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                 \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);               \
    } while (0)

struct sip {
    uint64_t v0, v1, v2, v3;
};

static inline void sip_init(struct sip *h, const uint64_t key[2])
{
    h->v0 = 0x736f6d6570736575ull ^ key[0];
    h->v1 = 0x646f72616e646f6dull ^ key[1];
    h->v2 = 0x6c7967656e657261ull ^ key[0];
    h->v3 = 0x7465646279746573ull ^ key[1];
}

/* One message word (the last carries the length in its top byte), with
 * c SipRounds. */
static inline void sip_word(struct sip *h, uint64_t m, int c)
{
    uint64_t v0 = h->v0, v1 = h->v1, v2 = h->v2, v3 = h->v3 ^ m;
    for (int i = 0; i < c; i++)
        SIPROUND;
    *h = (struct sip){ v0 ^ m, v1, v2, v3 };
}

/* Finalization with d SipRounds. */
static inline uint64_t sip_final(struct sip *h, int d)
{
    uint64_t v0 = h->v0, v1 = h->v1, v2 = h->v2 ^ 0xff, v3 = h->v3;
    for (int i = 0; i < d; i++)
        SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static inline uint64_t siphash_cd(const uint64_t key[2], const uint8_t *data, size_t len, int c, int d)
{
    struct sip h;
    sip_init(&h, key);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t m = 0;
        for (int k = 7; k >= 0; k--)
            m = m << 8 | data[i + (size_t)k];
        sip_word(&h, m, c);
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t k = 0; i + k < len; k++)
        b |= (uint64_t)data[i + k] << (8 * k);
    sip_word(&h, b, c);
    return sip_final(&h, d);
}

uint64_t fa_siphash_cd(const uint64_t key[2], const uint8_t *data, size_t len, int c, int d)
{
    return siphash_cd(key, data, len, c, d);
}

uint64_t fa_siphash(const uint64_t key[2], const uint8_t *data, size_t len)
{
    return siphash_cd(key, data, len, 2, 4); /* (constant rounds: unrolled) */
}

/* SipHash-1-3 of the 12 bytes laddr, raddr, lport, rport (little-endian),
 * built from the words directly: every segment's lookup pays it, and the
 * table needs only that a peer cannot aim for one chain — the variant
 * Rust's and Python's hash tables use against flooding; 5 SipRounds where
 * 2-4 takes 8 (2,880 of a connection cycle's 37,100 instructions went to
 * it in bench_inproc). ISNs and cookies keep SipHash-2-4. */
uint64_t fa_tcp_tuple_hash(const struct fa_stack *s, uint32_t laddr,
                           uint16_t lport, uint32_t raddr, uint16_t rport)
{
    struct sip h;
    sip_init(&h, s->tcp->secret);
    sip_word(&h, (uint64_t)laddr | (uint64_t)raddr << 32, 1);
    sip_word(&h, (uint64_t)12 << 56 | (uint64_t)rport << 16 | lport, 1);
    return sip_final(&h, 3);
}

/* ---- the stack's TCP tables ------------------------------------------ */
static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 16;
    while (p < n && p < (1u << 30))
        p <<= 1;
    return p;
}

int fa_tcp_stack_init(struct fa_stack *s)
{
    const struct fa_config *cfg = &s->cfg;
    struct fa_tcp_stack *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    s->tcp = t;
    /* The pool's chunks (tcp.h): allocated at once, aligned, touched only
     * as entries are handed out. */
    size_t chunks = (cfg->tcp_max_conns + FA_TCP_PER_CHUNK - 1) / FA_TCP_PER_CHUNK;
    t->pool = aligned_alloc(FA_TCP_CHUNK, chunks * FA_TCP_CHUNK);
    t->hash_mask = pow2_at_least(cfg->tcp_max_conns) - 1;
    t->hash = calloc(t->hash_mask + 1, sizeof *t->hash);
    t->heap = calloc(cfg->tcp_max_conns, sizeof *t->heap);
    t->tw = calloc(cfg->tcp_max_timewait, sizeof *t->tw);
    t->tw_hash_mask = pow2_at_least(cfg->tcp_max_timewait) - 1;
    t->tw_hash = malloc((t->tw_hash_mask + 1) * sizeof *t->tw_hash);
    if (!t->pool || !t->hash || !t->heap || !t->tw || !t->tw_hash ||
        fa_tcp_so_init(t, cfg) < 0)
        return -ENOMEM;
    /* The pool is handed out from the start (pool_used) and recycled
     * through the free list; entries never used are never touched, so a
     * stack sized for a million connections holding a thousand costs the
     * memory of a thousand. */
    for (uint32_t i = 0; i <= t->tw_hash_mask; i++)
        t->tw_hash[i] = UINT32_MAX;
    for (uint32_t i = 0; i < cfg->tcp_max_timewait; i++)
        t->tw[i].next = i + 1 < cfg->tcp_max_timewait ? i + 1 : UINT32_MAX;
    t->tw_free = 0;
    t->tw_oldest = t->tw_newest = UINT32_MAX;
    t->secret[0] = cfg->rng.next(cfg->rng.ctx);
    t->secret[1] = cfg->rng.next(cfg->rng.ctx);
    t->port_counter = (uint32_t)cfg->rng.next(cfg->rng.ctx);
    return 0;
}

void fa_tcp_stack_free(struct fa_stack *s)
{
    struct fa_tcp_stack *t = s->tcp;
    if (!t)
        return;
    t->mem_waiting = 0; /* no writer is told of memory coming back now */
    if (t->pool)
        for (uint32_t i = 0; i < t->pool_used; i++) {
            /* Blocks go back to the cache, freed next (tcp_mem.c). */
            struct fa_tcp *c = fa_tcp_pool_entry(t, i);
            if (!(c->flags & TF_FREE))
                fa_tcp_mem_release(c);
            free(c->loss);
        }
    fa_tcp_loss_cache_free(t);
    fa_tcp_mem_cache_free(t);
    free(t->pool);
    free(t->hash);
    free(t->heap);
    free(t->tw);
    free(t->tw_hash);
    fa_tcp_so_free(t);
    free(t);
    s->tcp = NULL;
}

struct fa_tcp *fa_tcp_alloc(struct fa_stack *s)
{
    struct fa_tcp_stack *t = s->tcp;
    struct fa_tcp *c = t->free;
    if (c) {
        t->free = fa_tcp_at(t, c->queue_next);
    } else if (t->pool_used < s->cfg.tcp_max_conns) {
        uint32_t i = t->pool_used++;
        if (i % FA_TCP_PER_CHUNK == 0) /* a chunk's first: name the stack */
            ((struct fa_tcp_chunk_head *)(t->pool + (size_t)(i / FA_TCP_PER_CHUNK) *
                                                       FA_TCP_CHUNK))->stack = s;
        c = fa_tcp_pool_entry(t, i);
    } else {
        return NULL;
    }
    t->live++;
    memset(c, 0, sizeof *c);
    c->state = FA_TCP_CLOSED;
    c->heap_idx = UINT32_MAX;
    c->t_rexmit = c->t_persist = c->t_delack = c->t_close = FA_TIME_NEVER;
    fa_tcp_so_take(c, 0); /* config's defaults */
    return c;
}

static void listener_remove(struct fa_tcp *c)
{
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
    struct fa_tcp *prev = NULL, *l = t->listeners;
    while (l && l != c) {
        prev = l;
        l = fa_tcp_at(t, l->queue_next);
    }
    if (!l)
        return;
    if (prev)
        prev->queue_next = c->queue_next;
    else
        t->listeners = fa_tcp_at(t, c->queue_next);
}

void fa_tcp_listener_unlink(struct fa_tcp *c)
{
    if (c->flags & TF_LISTENER)
        listener_remove(c);
    c->flags &= ~TF_LISTENER;
}

void fa_tcp_free(struct fa_tcp *c)
{
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
    fa_tcp_timer_remove(c);
    fa_tcp_batch_forget(c);
    if (c->flags & TF_LISTENER)
        listener_remove(c);
    else
        fa_tcp_hash_remove(c);
    if (c->parent)
        fa_tcp_parent(c)->lst.pending--;
    fa_tcp_mem_release(c);
    fa_tcp_loss_free(c);
    fa_tcp_so_drop(c); /* after the blocks, whose sizes it holds */
    fa_tcp_dsack_forget(c);
    if (c->state == FA_TCP_SYN_RECEIVED)
        t->half_open--;
    c->state = FA_TCP_CLOSED;
    c->flags = TF_FREE;
    c->queue_next = fa_tcp_ref(t, t->free);
    t->free = c;
    t->live--;
}

/* The hash's buckets and chains hold pool links (fa_tcp_ref: index plus
 * one, 0: none), so a bucket costs 4 bytes and a table never filled is
 * never touched. */
static uint32_t hash_bucket(const struct fa_tcp *c)
{
    return (uint32_t)fa_tcp_tuple_hash(fa_tcp_stack_of(c), c->laddr, c->lport, c->raddr, c->rport) &
           fa_tcp_stack_of(c)->tcp->hash_mask;
}

void fa_tcp_hash_insert(struct fa_tcp *c)
{
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
    uint32_t b = hash_bucket(c);
    c->hash_next = t->hash[b];
    t->hash[b] = fa_tcp_ref(t, c);
}

void fa_tcp_hash_remove(struct fa_tcp *c)
{
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
    uint32_t *pp = &t->hash[hash_bucket(c)], me = fa_tcp_ref(t, c);
    while (*pp && *pp != me)
        pp = &fa_tcp_at(t, *pp)->hash_next;
    if (*pp)
        *pp = c->hash_next;
    c->hash_next = 0;
}

struct fa_tcp *fa_tcp_lookup(struct fa_stack *s, uint32_t laddr, uint16_t lport,
                             uint32_t raddr, uint16_t rport)
{
    struct fa_tcp_stack *t = s->tcp;
    uint32_t b = (uint32_t)fa_tcp_tuple_hash(s, laddr, lport, raddr, rport) & t->hash_mask;
    for (uint32_t i = t->hash[b]; i; i = fa_tcp_at(t, i)->hash_next) {
        struct fa_tcp *c = fa_tcp_at(t, i);
        if (c->lport == lport && c->rport == rport && c->raddr == raddr &&
            c->laddr == laddr)
            return c;
    }
    return NULL;
}

struct fa_tcp *fa_tcp_find_listener(struct fa_stack *s, uint32_t laddr,
                                    uint16_t lport)
{
    for (struct fa_tcp *l = s->tcp->listeners; l; l = fa_tcp_at(s->tcp, l->queue_next))
        if (l->lport == lport && (l->laddr == laddr || l->laddr == 0))
            return l;
    return NULL;
}

int fa_tcp_port_in_use(struct fa_stack *s, uint16_t lport, int reuse)
{
    struct fa_tcp_stack *t = s->tcp;
    for (uint32_t i = 0; i < t->pool_used; i++) {
        const struct fa_tcp *c = fa_tcp_pool_entry(t, i);
        if ((c->flags & TF_FREE) || !(c->flags & TF_BOUND) || c->lport != lport)
            continue;
        /* Linux's rule: with SO_REUSEADDR on both, only a listener (or
         * a socket bound and not yet connected) is in the way — a server
         * restarts while its old connections close. */
        if (!reuse || !(c->flags & (TF_REUSEADDR | TF_PASSIVE)) ||
            c->state == FA_TCP_LISTEN || c->state == FA_TCP_CLOSED)
            return 1; /* (an accepted connection has its listener's say) */
    }
    return 0;
}

uint16_t fa_tcp_ephemeral_port(struct fa_stack *s, uint32_t raddr,
                               uint16_t rport)
{
    /* RFC 6056 §3.3.3, algorithm 3: a secret hash of the remote end picks
     * where to start, a counter moves on; unused tuples are taken. */
    const struct fa_config *cfg = &s->cfg;
    uint32_t count = (uint32_t)cfg->tcp_port_max - cfg->tcp_port_min + 1;
    uint8_t key[6];
    fa_put32(key, raddr);
    fa_put16(key + 4, rport);
    uint32_t offset = (uint32_t)fa_siphash(s->tcp->secret, key, sizeof key);
    for (uint32_t i = 0; i < count; i++) {
        uint16_t port = (uint16_t)(cfg->tcp_port_min +
                                   (offset + s->tcp->port_counter + i) % count);
        if (!fa_tcp_lookup(s, cfg->addr, port, raddr, rport) &&
            !fa_tcp_tw_lookup(s, cfg->addr, port, raddr, rport) &&
            !fa_tcp_find_listener(s, cfg->addr, port)) {
            s->tcp->port_counter += i + 1;
            return port;
        }
    }
    return 0;
}

uint32_t fa_tcp_isn(struct fa_stack *s, const struct fa_tcp *c, fa_time now,
                    uint32_t *ts_offset)
{
    uint8_t t[12];
    fa_put32(t, c->laddr);
    fa_put16(t + 4, c->lport);
    fa_put32(t + 6, c->raddr);
    fa_put16(t + 10, c->rport);
    /* RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
     * secretkey), M a timer ticking every 4 µs. */
    uint32_t m = (uint32_t)(now / (4 * FA_NS_PER_US));
    uint64_t h = fa_siphash(s->tcp->secret, t, sizeof t);
    /* RFC 7323 §5.4: the timestamp clock's offset per connection, from
     * the same keyed hash's other half. */
    *ts_offset = (uint32_t)(h >> 32);
    return m + (uint32_t)h;
}

uint16_t fa_tcp_mss_for_mtu(const struct fa_stack *s)
{
    return (uint16_t)(s->cfg.mtu - FA_IPV4_HLEN - FA_TCP_HLEN);
}

uint8_t fa_tcp_rcv_wscale_for(const struct fa_stack *s, uint32_t rcvbuf)
{
    /* RFC 7323 §2.3: the smallest shift that lets the window cover the
     * whole receive buffer; offered in our SYN. */
    uint8_t ws = 0;
    while (s->cfg.tcp_window_scaling && ws < 14 && (rcvbuf >> ws) > 65535)
        ws++;
    return ws;
}

int fa_tcp_conn_setup(struct fa_tcp *c, fa_time now)
{
    struct fa_stack *s = fa_tcp_stack_of(c);
    /* The rings' sizes are fixed now; their storage comes with bytes
     * (tcp_mem.c). */
    c->flags |= TF_OPENED;
    fa_tcp_rec_init(c); /* c->loss comes with something to send (tcp_mem.c) */
    c->snd_una = c->snd_nxt = fa_tcp_isn(s, c, now, &c->ts_offset); /* ISS */
    c->mss = fa_tcp_so(c)->user_mss ? fa_tcp_so(c)->user_mss : fa_tcp_mss_for_mtu(s);
    c->rcv_wscale = fa_tcp_rcv_wscale_for(s, fa_tcp_so(c)->rcvbuf);
    fa_tcp_set_rto(c, s->cfg.tcp_rto_initial);
    c->last_rcv = now;
    fa_tcp_cc(c)->init(c);
    return 0;
}

void fa_tcp_set_state(struct fa_tcp *c, uint8_t state, fa_time now)
{
    uint8_t old = c->state;
    if (old == state)
        return;
    c->state = state;
    /* The half-open gauge (config.tcp_max_half_open). */
    if (old == FA_TCP_SYN_RECEIVED)
        fa_tcp_stack_of(c)->tcp->half_open--;
    if (state == FA_TCP_SYN_RECEIVED)
        fa_tcp_stack_of(c)->tcp->half_open++;
    c->state_since = now; /* (a crossed SYN's SYN-RECEIVED keeps SYN-SENT's: tcp_in.c) */
    const struct fa_config *cfg = &fa_tcp_stack_of(c)->cfg;
    if (cfg->tcp_trace)
        cfg->tcp_trace(cfg->tcp_trace_ctx, c, old, state, now);
    fa_tcp_notify(c);
}

void fa_tcp_terminate(struct fa_tcp *c, int err, fa_time now)
{
    /* RFC 1122 §4.2.3.9: a connection that times out after soft ICMP
     * errors reports the error (as Linux reports sk_err_soft). */
    if (err == -ETIMEDOUT && c->soft_err)
        err = c->soft_err;
    if (err && !c->err)
        c->err = err; /* set before the state change notifies */
    c->t_rexmit = c->t_persist = c->t_delack = c->t_close = FA_TIME_NEVER;
    /* Nothing more goes out for it: not an ACK owed in a batch either. */
    c->flags &= ~(TF_ACK_NOW | TF_ACK_DELAYED | TF_ACK_AT_ONCE);
    fa_tcp_batch_forget(c);
    /* What it would have sent is gone (as Linux purges its write queue):
     * the memory goes back now, not at close(). Unread data stays. */
    fa_tcp_snd_discard(c);
    fa_tcp_loss_free(c); /* nothing of it is recovered any more */
    fa_tcp_set_state(c, FA_TCP_CLOSED, now);
    if (c->flags & TF_HANDLE) {
        /* The application still holds it: keep the block (and any unread
         * data) until close(); out of the hash so nothing finds it. */
        fa_tcp_timer_update(c);
        fa_tcp_hash_remove(c);
        return;
    }
    if (c->flags & TF_QUEUED) {
        /* Reset while waiting in the accept queue: unlink it. */
        struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
        struct fa_tcp_listen *q = &fa_tcp_parent(c)->lst;
        struct fa_tcp *prev = NULL, *e = q->accept_head;
        while (e && e != c) {
            prev = e;
            e = fa_tcp_at(t, e->queue_next);
        }
        if (e && prev)
            prev->queue_next = c->queue_next;
        else if (e)
            q->accept_head = fa_tcp_at(t, c->queue_next);
        if (q->accept_tail == c)
            q->accept_tail = prev;
        q->queued--;
    }
    fa_tcp_free(c);
}
