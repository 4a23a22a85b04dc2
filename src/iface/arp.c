/* arp.c — address resolution (RFC 826, RFC 1122 §2.3.2): answering
 * requests for our address, a bounded cache whose entries go stale and
 * are re-validated by unicast probes when used, and a bounded queue of
 * packets waiting for their next hop to answer.
 *
 * Called by the Ethernet demultiplexer (fa_arp_input), by IPv4 output
 * (fa_arp_output) and by the stack's timer entry (fa_arp_poll). The
 * cache is small (64 entries by default) and scanned linearly. */
#include "iface.h"

#include <errno.h>

static const uint8_t zero_mac[FA_ETH_ALEN];

/* An entry's timer moved to t: the next poll must not sleep past it. */
static void arp_note_deadline(struct fa_stack *s, fa_time t)
{
    if (t < s->arp_next)
        s->arp_next = t;
}

static struct fa_arp_entry *arp_find(struct fa_stack *s, uint32_t addr)
{
    for (unsigned i = 0; i < s->cfg.arp_cache_size; i++)
        if (s->arp[i].state != FA_ARP_FREE && s->arp[i].addr == addr)
            return &s->arp[i];
    return NULL;
}

static void arp_release(struct fa_stack *s, uint32_t addr, const uint8_t *mac,
                        unsigned drop_counter);

/* Which entry a new one replaces when none is free, best first:
 *   0  a resolved one no packet used for arp_revalidate_time (idle);
 *   1  one pending for arp_retry_interval or more (its queued packets
 *      are dropped, counted ARP_CACHE_FULL) — any pending one for a
 *      neighbour that proved itself by an ARP request to us (spoofed
 *      sources never send one).
 * A resolved one in use is never taken: an ARP request costs nothing to
 * forge on the link (review: four from made-up addresses pushed out the
 * gateway; Linux's forced collection spares entries in use too).
 * Within a rank, the one used (or begun) longest ago. None else: the
 * packet is dropped (ARP_CACHE_FULL). So a flood from spoofed sources,
 * each wanting a resolution that never comes, takes turns in the
 * pending and idle entries and never pushes out a neighbour in use
 * (more neighbours in use than entries: a bigger cache); and as each
 * entry is taken again at most once per arp_retry_interval, ARP
 * requests stay under two per entry per interval (a new one and a
 * retry), however fast the flood. */
enum { RANK_NONE = 3 };

static int arp_rank(const struct fa_stack *s, const struct fa_arp_entry *e, fa_time now,
                    int proven)
{
    if (e->state == FA_ARP_INCOMPLETE)
        return proven || now - e->confirmed >= s->cfg.arp_retry_interval ? 1 : RANK_NONE;
    if (now - e->used >= s->cfg.arp_revalidate_time)
        return 0;
    return RANK_NONE;
}

/* A free entry, else the best victim by arp_rank; NULL if none may go.
 * proven: for a neighbour whose ARP packet to us came. */
static struct fa_arp_entry *arp_alloc(struct fa_stack *s, fa_time now, int proven)
{
    struct fa_arp_entry *victim = NULL;
    int victim_rank = RANK_NONE;
    for (unsigned i = 0; i < s->cfg.arp_cache_size; i++) {
        struct fa_arp_entry *e = &s->arp[i];
        if (e->state == FA_ARP_FREE)
            return e;
        int rank = arp_rank(s, e, now, proven);
        if (rank < victim_rank || (rank == victim_rank && rank != RANK_NONE &&
                                   e->used < victim->used)) {
            victim = e;
            victim_rank = rank;
        }
    }
    if (victim && victim->state == FA_ARP_INCOMPLETE)
        arp_release(s, victim->addr, NULL, FA_CNT_ARP_CACHE_FULL);
    return victim;
}

static void arp_send(struct fa_stack *s, uint16_t op, const uint8_t *eth_dst,
                     const uint8_t *tha, uint32_t tpa)
{
    uint8_t frame[FA_ETH_HLEN + FA_ARP_LEN];
    fa_eth_emit(frame, eth_dst, s->cfg.mac, FA_ETHERTYPE_ARP);
    fa_arp_emit(frame + FA_ETH_HLEN, op, s->cfg.mac, s->cfg.addr, tha, tpa);
    if (op == FA_ARP_REQUEST)
        fa_count(s, FA_CNT_ARP_REQUESTS_OUT);
    /* The link pads to 60 bytes; a TAP or in-memory link does not need it. */
    fa_link_send(s, frame, sizeof frame);
}

void fa_arp_announce(struct fa_stack *s)
{
    /* RFC 5227 §3: an announcement is a request with SPA = TPA = ours. */
    arp_send(s, FA_ARP_REQUEST, fa_mac_broadcast, zero_mac, s->cfg.addr);
}

/* Sends the packets queued for addr, oldest first, now that mac is known;
 * with mac NULL, drops them, counting each in drop_counter (resolution
 * failed, or its entry was taken). */
static void arp_release(struct fa_stack *s, uint32_t addr, const uint8_t *mac,
                        unsigned drop_counter)
{
    for (;;) {
        struct fa_arp_waiting *oldest = NULL;
        for (unsigned i = 0; i < s->cfg.arp_queue_size; i++) {
            struct fa_arp_waiting *w = &s->arp_wait[i];
            if (w->len && w->next_hop == addr &&
                (!oldest || (int32_t)(w->seq - oldest->seq) < 0))
                oldest = w;
        }
        if (!oldest)
            return;
        if (mac) {
            memcpy(oldest->frame, mac, FA_ETH_ALEN);
            fa_link_send(s, oldest->frame, oldest->len);
        } else {
            fa_count(s, drop_counter);
        }
        oldest->len = 0;
    }
}

static void arp_confirm(struct fa_stack *s, struct fa_arp_entry *e,
                        const uint8_t *mac, fa_time now)
{
    memcpy(e->mac, mac, FA_ETH_ALEN);
    e->state = FA_ARP_REACHABLE;
    e->confirmed = now;
    e->requests = 0;
    e->next_request = now + s->cfg.arp_revalidate_time;
    arp_note_deadline(s, now + s->cfg.arp_reachable_time);
    arp_release(s, e->addr, e->mac, 0);
}

void fa_arp_input(struct fa_stack *s, const uint8_t *eth_src,
                  const uint8_t *pkt, size_t len, fa_time now)
{
    struct fa_arp_view arp;
    int drop = fa_arp_parse(pkt, len, &arp);
    /* ARP carries no checksum: a sender address that is not the frame's
     * Ethernet source is damage (or forgery), and learning it would send
     * our traffic nowhere until the entry expired. */
    if (!drop && (fa_mac_is_multicast(arp.sha) ||
                  memcmp(arp.sha, zero_mac, FA_ETH_ALEN) == 0 ||
                  memcmp(arp.sha, eth_src, FA_ETH_ALEN) != 0))
        drop = FA_CNT_ARP_BAD_SENDER;
    /* A sender address no host on the wire may have (multicast,
     * broadcast, loopback, 240/4, 0/8 but an RFC 5227 probe's 0): not
     * answered, not learnt (Linux: ip_route_input fails; review). */
    if (!drop && arp.spa && arp.spa != s->cfg.addr && fa_ipv4_bad_source(s, arp.spa))
        drop = FA_CNT_ARP_BAD_SENDER;
    if (drop) {
        fa_count(s, (unsigned)drop);
        return;
    }
    /* RFC 826 "packet reception": update the sender's entry if we have
     * one (this also takes gratuitous ARP), then act only if we are the
     * target. SPA 0 is an RFC 5227 probe: nothing to learn from it. */
    struct fa_arp_entry *e = arp.spa ? arp_find(s, arp.spa) : NULL;
    int merged = e != NULL;
    if (e)
        arp_confirm(s, e, arp.sha, now);
    if (arp.tpa != s->cfg.addr || arp.spa == s->cfg.addr) {
        if (!merged)
            fa_count(s, FA_CNT_ARP_NOT_FOR_US);
        return;
    }
    /* RFC 826 learns from a reply to us as from a request (Linux, with
     * arp_accept 0, only from requests: its failed entries linger and
     * take a late reply; finack frees them, and a reply that comes after
     * the resolution gave up — a path of seconds — is learnt here). */
    if (!merged && arp.spa && (e = arp_alloc(s, now, 1)) != NULL) {
        e->addr = arp.spa;
        e->used = now;
        arp_confirm(s, e, arp.sha, now);
    }
    if (arp.op == FA_ARP_REQUEST) {
        fa_count(s, FA_CNT_ARP_REQUESTS_IN);
        arp_send(s, FA_ARP_REPLY, arp.sha, arp.sha, arp.spa);
    } else {
        fa_count(s, FA_CNT_ARP_REPLIES_IN);
    }
}

/* The queue is full and a packet for next_hop needs a place: the next
 * hop with the most packets waiting — another one, or this one if it
 * holds more than one — gives its oldest, as Linux's per-neighbour queue
 * drops its head (review: one neighbour that never answered kept every
 * slot, and a packet to any other new neighbour was refused). Returns
 * the freed slot, or NULL (next_hop holds the one packet waiting). */
static struct fa_arp_waiting *arp_queue_evict_for(struct fa_stack *s, uint32_t next_hop)
{
    uint32_t top = 0;
    unsigned top_n = 0;
    for (unsigned i = 0; i < s->cfg.arp_queue_size; i++) {
        unsigned n = 0;
        for (unsigned j = 0; j < s->cfg.arp_queue_size; j++)
            n += s->arp_wait[j].len && s->arp_wait[j].next_hop == s->arp_wait[i].next_hop;
        if (n > top_n) {
            top_n = n;
            top = s->arp_wait[i].next_hop;
        }
    }
    if (top == next_hop)
        return NULL; /* its own packets: the new one is refused, as before */
    struct fa_arp_waiting *oldest = NULL;
    for (unsigned i = 0; i < s->cfg.arp_queue_size; i++) {
        struct fa_arp_waiting *w = &s->arp_wait[i];
        if (w->len && w->next_hop == top && (!oldest || (int32_t)(w->seq - oldest->seq) < 0))
            oldest = w;
    }
    oldest->len = 0;
    fa_count(s, FA_CNT_ARP_QUEUE_FULL);
    return oldest;
}

static int arp_enqueue(struct fa_stack *s, uint32_t next_hop,
                       const uint8_t *frame, size_t len)
{
    struct fa_arp_waiting *w = NULL;
    for (unsigned i = 0; i < s->cfg.arp_queue_size && !w; i++)
        if (s->arp_wait[i].len == 0)
            w = &s->arp_wait[i];
    if (!w && !(w = arp_queue_evict_for(s, next_hop))) {
        fa_count(s, FA_CNT_ARP_QUEUE_FULL);
        return -ENOBUFS;
    }
    memcpy(w->frame, frame, len);
    w->len = (uint16_t)len;
    w->next_hop = next_hop;
    w->seq = s->arp_wait_seq++;
    return 0;
}

int fa_arp_resolved(struct fa_stack *s, uint32_t next_hop)
{
    if (next_hop == 0xffffffffu)
        return 1;
    struct fa_arp_entry *e = arp_find(s, next_hop);
    return e && e->state == FA_ARP_REACHABLE;
}

int fa_arp_output(struct fa_stack *s, uint32_t next_hop, uint8_t *frame,
                  size_t len, fa_time now)
{
    if (next_hop == 0xffffffffu) {
        memcpy(frame, fa_mac_broadcast, FA_ETH_ALEN);
        fa_link_send(s, frame, len);
        return 0;
    }
    struct fa_arp_entry *e = arp_find(s, next_hop);
    if (e && e->state == FA_ARP_REACHABLE) {
        /* RFC 1122 §2.3.2.1: re-validate an entry in use by unicast
         * requests before it expires, so traffic never stalls on it. */
        if (now >= e->next_request &&
            e->requests < s->cfg.arp_max_requests) {
            e->requests++;
            e->next_request = now + s->cfg.arp_retry_interval;
            arp_note_deadline(s, e->next_request); /* the last unanswered frees it */
            arp_send(s, FA_ARP_REQUEST, e->mac, zero_mac, next_hop);
        }
        e->used = now;
        memcpy(frame, e->mac, FA_ETH_ALEN);
        fa_link_send(s, frame, len);
        return 0;
    }
    if (!e) {
        e = arp_alloc(s, now, 0);
        if (!e) {
            fa_count(s, FA_CNT_ARP_CACHE_FULL);
            return -ENOBUFS;
        }
        e->addr = next_hop;
        e->state = FA_ARP_INCOMPLETE;
        e->confirmed = e->used = now; /* (when the resolution began) */
        e->requests = 1;
        e->next_request = now + s->cfg.arp_retry_interval;
        arp_note_deadline(s, e->next_request);
        arp_send(s, FA_ARP_REQUEST, fa_mac_broadcast, zero_mac, next_hop);
    }
    /* The queue keeps bytes, not offload requests. */
    if (frame == s->tx && fa_tx_meta_resolve(s, frame, len) < 0)
        return -EMSGSIZE;
    return arp_enqueue(s, next_hop, frame, len);
}

int fa_stack_arp_lookup(const struct fa_stack *s, uint32_t addr,
                        uint8_t mac[FA_ETH_ALEN])
{
    for (unsigned i = 0; i < s->cfg.arp_cache_size; i++) {
        const struct fa_arp_entry *e = &s->arp[i];
        if (e->state == FA_ARP_REACHABLE && e->addr == addr) {
            memcpy(mac, e->mac, FA_ETH_ALEN);
            return 0;
        }
    }
    return -ENOENT;
}

/* Runs one entry's timer; returns its next deadline. */
static fa_time arp_entry_timer(struct fa_stack *s, struct fa_arp_entry *e,
                               fa_time now)
{
    if (e->state == FA_ARP_INCOMPLETE) {
        if (now >= e->next_request) {
            if (e->requests >= s->cfg.arp_max_requests) {
                arp_release(s, e->addr, NULL, FA_CNT_ARP_UNRESOLVED);
                e->state = FA_ARP_FREE;
                return FA_TIME_NEVER;
            }
            e->requests++;
            e->next_request = now + s->cfg.arp_retry_interval;
            arp_send(s, FA_ARP_REQUEST, fa_mac_broadcast, zero_mac, e->addr);
        }
        return e->next_request;
    }
    fa_time expiry = e->confirmed + s->cfg.arp_reachable_time;
    if (now < expiry)
        return expiry;
    /* Past its reachable time an entry is stale, as Linux's NUD_STALE:
     * its address still serves, and the next packet that uses it
     * re-validates it by unicast requests (fa_arp_output). It goes once
     * those went unanswered, or when the cache needs room (arp_alloc:
     * idle). Freed at once, a packet after a quiet spell (a probe backed
     * off to 120 s) waited for a fresh resolution — which, on a link of
     * seconds, never came in arp_max_requests tries (apps seed 3391: a
     * window update lost, then every zero-window probe dropped unresolved). */
    if (e->requests < s->cfg.arp_max_requests)
        return FA_TIME_NEVER; /* packets that use it drive its requests */
    if (now >= e->next_request) {
        e->state = FA_ARP_FREE;
        return FA_TIME_NEVER;
    }
    return e->next_request;
}

fa_time fa_arp_poll(struct fa_stack *s, fa_time now)
{
    if (now < s->arp_next)
        return s->arp_next;
    fa_time next = FA_TIME_NEVER;
    for (unsigned i = 0; i < s->cfg.arp_cache_size; i++) {
        struct fa_arp_entry *e = &s->arp[i];
        if (e->state == FA_ARP_FREE)
            continue;
        fa_time t = arp_entry_timer(s, e, now);
        if (t < next)
            next = t;
    }
    s->arp_next = next;
    return next;
}
