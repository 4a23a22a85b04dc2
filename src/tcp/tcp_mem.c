/* tcp_mem.c — where a connection's bytes live. A ring's size (SO_SNDBUF,
 * SO_RCVBUF) is set when the connection is, and is what the windows
 * count; its storage is attached only when bytes need a place and given
 * back when the ring empties, so an idle connection holds none:
 *   - the send side's block: the ring (its header, which c->snd points
 *     to, and its bytes), then the scoreboard's
 *     entries (one per segment in flight, tcp_sb.c); loss recovery's
 *     state (c->loss, tcp_recovery.c) is attached with it and given back
 *     with it when recovery has nothing running;
 *   - the receive side's: the ring (c->rcv), then the out-of-order ranges
 *     (tcp_buf.c).
 * Blocks given back wait in a small per-stack cache for the next
 * connection that needs the same size, so steady traffic, and connections
 * that come and go, allocate nothing; a block is allocated when a
 * connection turns busy and the cache has none. The stack-wide budget
 * (config.tcp_mem_max) bounds the ring bytes attached at once (not the
 * entries and ranges beside them, nor the cache: at most 64 blocks a
 * side); send rings may take half of it. A FIN is never refused for it:
 * a closing connection must be able to finish, and a lone FIN (nothing
 * else to send or in flight) takes no ring at all, only the one
 * scoreboard entry inside c->loss — a thousand connections closed at
 * once under an exhausted budget must not each take a 64 KiB block
 * past it. A send refused is told when memory comes back.
 *
 * Called by tcp_api.c (send, recv), tcp_in.c (ACKs), tcp_buf.c (data),
 * tcp_out.c (the FIN's scoreboard entry) and tcp_table.c (free). */
#include <errno.h>
#include <stdlib.h>

#include "tcp.h"

/* Blocks kept for reuse, per side; larger ones go back to the allocator. */
#define MEM_CACHE_MAX 64
#define MEM_CACHE_BLOCK_MAX (4u << 20)

struct mem_free {
    struct mem_free *next;
    size_t size;
};

static size_t round8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* A block: the ring's header (the receive side's holds a FIN's place
 * too: struct fa_tcp_rcvq), its bytes, then the entries or ranges. */
#define RING_HDR round8(sizeof(struct fa_tcp_rcvq))

static size_t snd_block(const struct fa_tcp *c)
{
    return RING_HDR + round8(fa_tcp_so(c)->sndbuf) + (size_t)fa_tcp_sb_cap(c) * sizeof(struct fa_tcp_sent);
}

static size_t rcv_block(const struct fa_tcp *c)
{
    return RING_HDR + round8(fa_tcp_so(c)->rcvbuf) + (size_t)fa_tcp_ooo_cap(c) * sizeof(struct fa_tcp_range);
}

/* Sends may hold at most half the budget, so the other half always
 * takes what arrives: two ends whose sends filled their budgets would
 * otherwise wait on each other for ever, neither able to take the data
 * (and so the ACKs) that would free the other (seen: apps seed 2867). */
static int budget_allows(const struct fa_tcp *c, int side, uint32_t size)
{
    const struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
    uint64_t max = fa_tcp_stack_of(c)->cfg.tcp_mem_max;
    return !max || (t->buffer_bytes + size <= max &&
                    (side == 1 || t->snd_buffer_bytes + size <= max / 2));
}

int fa_tcp_snd_room(const struct fa_tcp *c)
{
    return c->snd || budget_allows(c, 0, fa_tcp_so(c)->sndbuf);
}

/* A block of size bytes for a ring of ring_size (side 0 send, 1 receive),
 * within the budget unless told otherwise, its header set: an empty ring.
 * NULL, counted by the caller, when there is none. */
static struct fa_ring *block_get(struct fa_tcp *c, int side, uint32_t ring_size, size_t size,
                                 int budget)
{
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
    if (budget && !budget_allows(c, side, ring_size))
        return NULL;
    struct mem_free *f = t->mem_cache[side];
    uint8_t *b;
    if (f && f->size == size) {
        t->mem_cache[side] = f->next;
        t->mem_cached[side]--;
        b = (uint8_t *)f;
    } else {
        b = malloc(size < sizeof *f ? sizeof *f : size);
        if (!b)
            return NULL;
    }
    t->buffer_bytes += ring_size;
    if (side == 0)
        t->snd_buffer_bytes += ring_size;
    struct fa_ring *r = (struct fa_ring *)b;
    *r = (struct fa_ring){ .buf = b + RING_HDR, .size = ring_size };
    return r;
}

/* Memory came back: the sockets a send refused (ENOBUFS) may write now.
 * Only after a refusal, and a walk of the sockets in use: the budget is
 * for bounding memory under pressure, not for the common case. */
static void wake_writers(struct fa_tcp_stack *t)
{
    t->mem_waiting = 0;
    for (uint32_t i = 0; i < t->pool_used; i++) {
        struct fa_tcp *o = fa_tcp_pool_entry(t, i);
        if (!(o->flags & TF_FREE) && (o->flags & TF_MEM_WAIT)) {
            o->flags &= ~TF_MEM_WAIT;
            fa_tcp_notify(o);
        }
    }
}

static void block_put(struct fa_tcp *c, int side, struct fa_ring **rp, size_t size)
{
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
    struct fa_ring *r = *rp;
    struct mem_free *f = (struct mem_free *)r;
    t->buffer_bytes -= r->size;
    if (side == 0)
        t->snd_buffer_bytes -= r->size;
    *rp = NULL;
    if (t->mem_waiting)
        wake_writers(t);
    if (t->mem_cached[side] >= MEM_CACHE_MAX || size > MEM_CACHE_BLOCK_MAX) {
        free(f);
        return;
    }
    *f = (struct mem_free){ t->mem_cache[side], size };
    t->mem_cache[side] = f;
    t->mem_cached[side]++;
}

/* The send side's storage is the lone FIN's entry in c->loss. */
static int fin_only(const struct fa_tcp *c)
{
    return c->loss && c->snd == &c->loss->fin_ring;
}

/* Storage for the send side. The ring stays empty if the application
 * has shut its side and nothing is out: only a FIN can go, and its one
 * scoreboard entry is in c->loss, with an empty ring of no bytes there
 * (never read: nothing can be written after the FIN). */
static struct fa_ring *snd_storage(struct fa_tcp *c, int budget)
{
    if (!c->loss && fa_tcp_loss_alloc(c) < 0)
        return NULL;
    if ((c->flags & TF_SHUT_WR) && c->snd_una == c->snd_nxt && !c->loss->sb.count) {
        c->loss->sb.cap = 1;
        c->loss->fin_ring = (struct fa_ring){ 0 };
        return &c->loss->fin_ring;
    }
    return block_get(c, 0, fa_tcp_so(c)->sndbuf, snd_block(c), budget);
}

int fa_tcp_snd_attach(struct fa_tcp *c, int budget)
{
    if (c->snd)
        return 0;
    struct fa_ring *r = snd_storage(c, budget);
    if (!r) {
        fa_tcp_loss_put_idle(c); /* not kept for a send that failed */
        if (!(c->flags & TF_MEM_WAIT)) {
            c->flags |= TF_MEM_WAIT;
            fa_tcp_stack_of(c)->tcp->mem_waiting++;
        }
        return -ENOBUFS;
    }
    c->snd = r;
    c->loss->sb.e = fin_only(c) ? &c->loss->fin_entry
                                : (struct fa_tcp_sent *)(r->buf + round8(fa_tcp_so(c)->sndbuf));
    return 0;
}

int fa_tcp_rcv_attach(struct fa_tcp *c)
{
    if (c->rcv)
        return 0;
    struct fa_ring *r = block_get(c, 1, fa_tcp_so(c)->rcvbuf, rcv_block(c), 1);
    if (!r)
        return -ENOBUFS;
    c->rcv = r;
    return 0;
}

static void snd_put(struct fa_tcp *c)
{
    if (fin_only(c)) {
        c->snd = NULL;
        return;
    }
    block_put(c, 0, &c->snd, snd_block(c));
}

void fa_tcp_snd_detach_idle(struct fa_tcp *c)
{
    if (fa_tcp_snd_len(c) || (c->loss && c->loss->sb.count))
        return;
    if (c->snd) {
        snd_put(c);
        c->loss->sb.e = NULL;
        c->loss->sb.head = 0;
    }
    fa_tcp_loss_put_idle(c); /* and the loss state, if nothing runs */
}

void fa_tcp_rcv_detach_idle(struct fa_tcp *c)
{
    if (!c->rcv || c->rcv->len || c->ooo_count || (c->flags & TF_FIN_SEEN))
        return;
    block_put(c, 1, &c->rcv, rcv_block(c));
}

void fa_tcp_snd_discard(struct fa_tcp *c)
{
    if (c->snd)
        c->snd->len = 0;
    if (c->loss) {
        struct fa_tcp_sb *sb = &c->loss->sb;
        sb->count = sb->sacked = sb->lost = sb->retrans = 0;
    }
    fa_tcp_snd_detach_idle(c);
}

void fa_tcp_mem_release(struct fa_tcp *c)
{
    if (c->snd)
        snd_put(c);
    if (c->rcv)
        block_put(c, 1, &c->rcv, rcv_block(c));
    if (c->loss) {
        c->loss->sb.e = NULL;
        c->loss->sb.count = 0;
    }
    c->ooo_count = 0;
}

void fa_tcp_mem_cache_free(struct fa_tcp_stack *t)
{
    for (int side = 0; side < 2; side++) {
        while (t->mem_cache[side]) {
            struct mem_free *f = t->mem_cache[side];
            t->mem_cache[side] = f->next;
            free(f);
        }
        t->mem_cached[side] = 0;
    }
}
