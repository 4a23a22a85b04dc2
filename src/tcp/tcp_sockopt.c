/* tcp_sockopt.c — a socket's options (buffer sizes, linger, keepalive,
 * MSS, congestion control) kept once per distinct set of values and
 * shared: a connection holds the set's index (c->so), so a million
 * connections with the stack's defaults, or their listener's, hold 4
 * bytes each, not 24. The sets live in a per-stack table that grows
 * when a new set appears (setsockopt, never per packet), with a hash on
 * the values, counted references, and entry 0 for config's defaults.
 *
 * Called by tcp_table.c (a new connection takes the defaults, a freed one
 * lets go), tcp_in.c (a child takes its listener's) and tcp_api.c
 * (setsockopt); everything else reads them through fa_tcp_so(). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp.h"

#define NONE UINT32_MAX

static uint32_t so_hash(const struct fa_tcp_sockopts *o)
{
    /* FNV-1a over the values: a table of a few sets, keyed by the
     * application's own choices, needs no keyed hash. */
    const uint8_t *p = (const uint8_t *)o;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < sizeof *o; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void link_set(struct fa_tcp_stack *t, uint32_t i)
{
    uint32_t b = so_hash(&t->so[i].o) & t->so_hash_mask;
    t->so[i].next = t->so_hash[b];
    t->so_hash[b] = i;
}

/* Room for one more set: the table and its hash double. */
static int grow(struct fa_tcp_stack *t)
{
    uint32_t cap = t->so_cap ? 2 * t->so_cap : 8;
    struct fa_tcp_optset *v = malloc(cap * sizeof *v);
    uint32_t *h = malloc(2 * cap * sizeof *h);
    if (!v || !h) {
        free(v);
        free(h);
        return -ENOMEM;
    }
    if (t->so_used)
        memcpy(v, t->so, t->so_used * sizeof *v);
    free(t->so);
    t->so = v;
    free(t->so_hash);
    t->so_hash = h;
    t->so_hash_mask = 2 * cap - 1;
    for (uint32_t b = 0; b <= t->so_hash_mask; b++)
        h[b] = NONE;
    for (uint32_t i = 0; i < t->so_used; i++)
        if (t->so[i].refs)
            link_set(t, i);
    t->so_cap = cap;
    return 0;
}

/* The index of the set holding o, made if new; NONE without memory. */
static uint32_t intern(struct fa_tcp_stack *t, const struct fa_tcp_sockopts *o)
{
    if (t->so_hash) {
        for (uint32_t i = t->so_hash[so_hash(o) & t->so_hash_mask]; i != NONE;
             i = t->so[i].next)
            if (!memcmp(&t->so[i].o, o, sizeof *o))
                return i;
    }
    uint32_t i = t->so_free;
    if (i != NONE) {
        t->so_free = t->so[i].next;
    } else {
        if (t->so_used == t->so_cap && grow(t) < 0)
            return NONE;
        i = t->so_used++;
    }
    t->so[i] = (struct fa_tcp_optset){ .o = *o };
    link_set(t, i);
    return i;
}

static void unlink_set(struct fa_tcp_stack *t, uint32_t i)
{
    uint32_t *pp = &t->so_hash[so_hash(&t->so[i].o) & t->so_hash_mask];
    while (*pp != i)
        pp = &t->so[*pp].next;
    *pp = t->so[i].next;
    t->so[i].next = t->so_free;
    t->so_free = i;
}

int fa_tcp_so_init(struct fa_tcp_stack *t, const struct fa_config *cfg)
{
    t->so_free = NONE;
    struct fa_tcp_sockopts d = {
        .sndbuf = cfg->tcp_sndbuf,
        .rcvbuf = cfg->tcp_rcvbuf,
        .linger_ms = -1,
        .keep_idle_ms = (uint32_t)(cfg->tcp_keep_idle / FA_NS_PER_MS),
        .keep_intvl_ms = (uint32_t)(cfg->tcp_keep_intvl / FA_NS_PER_MS),
        .keep_cnt = cfg->tcp_keep_cnt,
        .cc_algo = cfg->tcp_congestion,
    };
    if (intern(t, &d) != 0)
        return -ENOMEM;
    t->so[0].refs = 1; /* the defaults stay */
    return 0;
}

void fa_tcp_so_free(struct fa_tcp_stack *t)
{
    free(t->so);
    free(t->so_hash);
    t->so = NULL;
    t->so_hash = NULL;
}

void fa_tcp_so_take(struct fa_tcp *c, uint32_t i)
{
    c->so = i;
    fa_tcp_stack_of(c)->tcp->so[i].refs++;
}

void fa_tcp_so_drop(struct fa_tcp *c)
{
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
    if (--t->so[c->so].refs == 0)
        unlink_set(t, c->so);
    c->so = 0;
}

int fa_tcp_so_set(struct fa_tcp *c, const struct fa_tcp_sockopts *o)
{
    struct fa_tcp_stack *t = fa_tcp_stack_of(c)->tcp;
    uint32_t i = intern(t, o);
    if (i == NONE)
        return -ENOMEM;
    if (i == c->so)
        return 0;
    t->so[i].refs++; /* before letting go: c->so may be its last user */
    fa_tcp_so_drop(c);
    c->so = i;
    return 0;
}
