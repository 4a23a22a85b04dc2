/* tcp_mem.c — where a connection's bytes live. A ring's size (SO_SNDBUF,
 * SO_RCVBUF) is set when the connection is, and is what the windows
 * count; its storage is attached only when bytes need a place and given
 * back when the ring empties, so an idle connection holds none:
 *   - the send side's block: the ring's bytes, then the scoreboard's
 *     entries (one per segment in flight, tcp_sb.c); loss recovery's
 *     state (c->loss, tcp_recovery.c) is attached with it and given back
 *     with it when recovery has nothing running;
 *   - the receive side's: the ring's bytes, then the out-of-order ranges
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

static size_t snd_block(const struct fa_tcp *c)
{
    return round8(c->snd.size) + (size_t)fa_tcp_sb_cap(c) * sizeof(struct fa_tcp_sent);
}

static size_t rcv_block(const struct fa_tcp *c)
{
    return round8(c->rcv.size) + (size_t)c->ooo_cap * sizeof(struct fa_tcp_range);
}

/* Sends may hold at most half the budget, so the other half always
 * takes what arrives: two ends whose sends filled their budgets would
 * otherwise wait on each other for ever, neither able to take the data
 * (and so the ACKs) that would free the other (seen: apps seed 2867). */
static int budget_allows(const struct fa_tcp *c, int side, uint32_t size)
{
    const struct fa_tcp_stack *t = c->stack->tcp;
    uint64_t max = c->stack->cfg.tcp_mem_max;
    return !max || (t->buffer_bytes + size <= max &&
                    (side == 1 || t->snd_buffer_bytes + size <= max / 2));
}

int fa_tcp_snd_room(const struct fa_tcp *c)
{
    return c->snd.buf || budget_allows(c, 0, c->snd.size);
}

/* A block of size bytes for ring r (side 0 send, 1 receive), within the
 * budget unless told otherwise; NULL, counted by the caller, when there
 * is none. */
static uint8_t *block_get(struct fa_tcp *c, int side, struct fa_ring *r, size_t size,
                          int budget)
{
    struct fa_tcp_stack *t = c->stack->tcp;
    if (budget && !budget_allows(c, side, r->size))
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
    t->buffer_bytes += r->size;
    if (side == 0)
        t->snd_buffer_bytes += r->size;
    return b;
}

/* Memory came back: the sockets a send refused (ENOBUFS) may write now.
 * Only after a refusal, and a walk of the sockets in use: the budget is
 * for bounding memory under pressure, not for the common case. */
static void wake_writers(struct fa_tcp_stack *t)
{
    t->mem_waiting = 0;
    for (uint32_t i = 0; i < t->pool_used; i++) {
        struct fa_tcp *o = &t->pool[i];
        if (o->stack && (o->flags & TF_MEM_WAIT)) {
            o->flags &= ~TF_MEM_WAIT;
            fa_tcp_notify(o);
        }
    }
}

static void block_put(struct fa_tcp *c, int side, struct fa_ring *r, size_t size)
{
    struct fa_tcp_stack *t = c->stack->tcp;
    struct mem_free *f = (struct mem_free *)r->buf;
    t->buffer_bytes -= r->size;
    if (side == 0)
        t->snd_buffer_bytes -= r->size;
    r->buf = NULL;
    r->head = r->len = 0;
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
    return c->loss && c->snd.buf == (const uint8_t *)&c->loss->fin_entry;
}

/* Storage for the send side. The ring stays empty if the application
 * has shut its side and nothing is out: only a FIN can go, and its one
 * scoreboard entry is in c->loss (the ring is never read: nothing can be
 * written after the FIN). */
static uint8_t *snd_storage(struct fa_tcp *c, int budget)
{
    if (!c->loss && fa_tcp_loss_alloc(c) < 0)
        return NULL;
    if ((c->flags & TF_SHUT_WR) && !c->snd.len && c->snd_una == c->snd_nxt &&
        !c->loss->sb.count) {
        c->loss->sb.cap = 1;
        return (uint8_t *)&c->loss->fin_entry;
    }
    return block_get(c, 0, &c->snd, snd_block(c), budget);
}

int fa_tcp_snd_attach(struct fa_tcp *c, int budget)
{
    if (c->snd.buf)
        return 0;
    uint8_t *b = snd_storage(c, budget);
    if (!b) {
        fa_tcp_loss_put_idle(c); /* not kept for a send that failed */
        if (!(c->flags & TF_MEM_WAIT)) {
            c->flags |= TF_MEM_WAIT;
            c->stack->tcp->mem_waiting++;
        }
        return -ENOBUFS;
    }
    c->snd.buf = b;
    c->snd.head = 0;
    c->loss->sb.e = fin_only(c) ? &c->loss->fin_entry
                                : (struct fa_tcp_sent *)(b + round8(c->snd.size));
    return 0;
}

int fa_tcp_rcv_attach(struct fa_tcp *c)
{
    if (c->rcv.buf)
        return 0;
    size_t size = rcv_block(c);
    uint8_t *b = block_get(c, 1, &c->rcv, size, 1);
    if (!b)
        return -ENOBUFS;
    c->rcv.buf = b;
    c->rcv.head = 0;
    return 0;
}

static void snd_put(struct fa_tcp *c)
{
    if (fin_only(c)) {
        c->snd.buf = NULL;
        c->snd.head = c->snd.len = 0;
        return;
    }
    block_put(c, 0, &c->snd, snd_block(c));
}

void fa_tcp_snd_detach_idle(struct fa_tcp *c)
{
    if (c->snd.len || (c->loss && c->loss->sb.count))
        return;
    if (c->snd.buf) {
        snd_put(c);
        c->loss->sb.e = NULL;
        c->loss->sb.head = 0;
    }
    fa_tcp_loss_put_idle(c); /* and the loss state, if nothing runs */
}

void fa_tcp_rcv_detach_idle(struct fa_tcp *c)
{
    if (!c->rcv.buf || c->rcv.len || c->ooo_count)
        return;
    block_put(c, 1, &c->rcv, rcv_block(c));
}

void fa_tcp_snd_discard(struct fa_tcp *c)
{
    c->snd.len = 0;
    if (c->loss) {
        struct fa_tcp_sb *sb = &c->loss->sb;
        sb->count = sb->sacked = sb->lost = sb->retrans = 0;
    }
    fa_tcp_snd_detach_idle(c);
}

void fa_tcp_mem_release(struct fa_tcp *c)
{
    if (c->snd.buf)
        snd_put(c);
    if (c->rcv.buf)
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
