/* tcp.h — TCP internals: the connection control block (RFC 9293 §3.3.1
 * names), the per-stack TCP state, and the calls between the parts:
 *
 *   tcp_in.c     segment arrival, in the RFC's §3.10.7 order
 *   tcp_out.c    building and sending segments, the output decision,
 *                Limited Transmit (RFC 3042)
 *   tcp_timer.c  the timer heap and each timer's expiry action
 *   tcp_table.c  connection pool, 4-tuple hash, listeners, ports, ISN
 *   tcp_tw.c     compact TIME-WAIT entries
 *   tcp_rtt.c    RTT estimation and the retransmission timeout (RFC 6298)
 *   tcp_opts.c   options per segment: timestamps and PAWS (RFC 7323),
 *                SACK blocks and D-SACK (RFC 2018, RFC 2883)
 *   tcp_sb.c     the sender's scoreboard: one entry per segment in flight
 *   tcp_recovery.c  loss recovery, the one owner of its state: what an ACK
 *                means (SACK, duplicate ACKs), RACK-TLP (RFC 8985), PRR
 *                (RFC 6937), the RTO's marking (RFC 6675 §5.1), undo
 *   tcp_cc.c     the congestion control interface and the choice per socket
 *   tcp_cc_newreno.c  NewReno's window arithmetic (RFC 5681, RFC 6582)
 *   tcp_cc_cubic.c    CUBIC (RFC 9438)
 *   tcp_hystart.c     HyStart++ (RFC 9406), slow start's exit for both
 *   tcp_ratelimit.c  how often invalid segments and challenges are answered
 *   tcp_syncookie.c  SYN cookies (RFC 4987 §3.6): a SYN answered without
 *                state when the backlog is full, the cookie checked on return
 *   tcp_icmp.c   ICMP errors about our segments: PMTU (RFC 1191), hard and
 *                soft errors (RFC 1122 §4.2.3.9), checked (RFC 5927)
 *   tcp_buf.c    out-of-order reassembly into the receive ring
 *   tcp_mem.c    the rings' storage: attached when bytes need a place,
 *                given back when they empty (an idle connection holds
 *                none), cached per stack, within config.tcp_mem_max
 *   tcp_sockopt.c  a socket's options, one copy per distinct set
 *   tcp_api.c    the socket API of finack/tcp.h
 */
#ifndef FA_TCP_INTERNAL_H
#define FA_TCP_INTERNAL_H

#include <stddef.h>

#include <finack/tcp.h>

#include "../iface/iface.h"
#include "../util/ring.h"

/* ---- sequence space (RFC 9293 §3.4: arithmetic modulo 2^32) ---------- */
static inline int seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline int seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline int seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline int seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }

/* ---- the control block ----------------------------------------------- */
/* Out-of-order ranges held: 8, and one more per 8 KiB of receive buffer
 * (a hole per 2 % loss of a full window), at most 255. */
#define FA_TCP_OOO_MIN 8
#define FA_TCP_OOO_PER_BYTES 8192
/* The least reordering allowance before a retransmission counts as lost
 * (RFC 8985 §6.2 scales it with the RTT; a LAN's RTT is microseconds). */
#define FA_TCP_REO_WND_MIN (2 * FA_NS_PER_MS)

enum {
    TF_HANDLE = 1u << 0,     /* the application holds a handle */
    TF_PASSIVE = 1u << 1,    /* born from a listener */
    TF_SHUT_WR = 1u << 2,    /* application will send no more: FIN due */
    TF_FIN_SENT = 1u << 3,   /* our FIN has a sequence number */
    TF_SHUT_RD = 1u << 4,
    TF_NODELAY = 1u << 5,
    TF_KEEPALIVE = 1u << 6,
    TF_ACK_NOW = 1u << 7,    /* an ACK must go out */
    TF_ACK_DELAYED = 1u << 8,/* an ACK is owed, the delayed-ACK timer runs */
    TF_FIN_RCVD = 1u << 9,   /* the peer's FIN is in sequence: EOF */
    TF_LINGERING = 1u << 10, /* close() with SO_LINGER > 0 in progress */
    TF_TS = 1u << 11,        /* timestamps agreed on (RFC 7323) */
    TF_WSCALE = 1u << 12,    /* window scaling agreed on (RFC 7323) */
    TF_BOUND = 1u << 13,     /* local port chosen */
    TF_QUEUED = 1u << 14,    /* in its listener's accept queue */
    TF_FIN_SEEN = 1u << 15,  /* peer's FIN seen ahead of data still missing:
                                its place is kept with the receive ring
                                (fa_tcp_rcv_fin(), tcp_mem.c) */
    TF_CLOSE_DONE = 1u << 16,/* lingering close finished */
    TF_ERROR_EOF = 1u << 17, /* the error was reported; recv gives 0 */
    TF_LISTENER = 1u << 18,  /* on the stack's listener list */
    TF_ACK_QUEUED = 1u << 19,/* on the batch's list of owed ACKs */
    TF_ACK_AT_ONCE = 1u << 21, /* the owed ACK may not wait for a batch's
                                  end: a duplicate ACK (RFC 5681 §4.2) */
    TF_SACK = 1u << 22,      /* SACK agreed on (RFC 2018) */
    TF_REUSEADDR = 1u << 23, /* SO_REUSEADDR: bind beside connections on
                                the port, not beside a listener */
    TF_OPENED = 1u << 20,    /* set up to connect (tcp_table.c): SO_SNDBUF
                                and SO_RCVBUF (sndbuf, rcvbuf) are fixed */
    TF_MEM_WAIT = 1u << 24,  /* a send failed for want of memory (budget):
                                notify when some comes back (tcp_mem.c) */
    TF_SYN_TIMED = 1u << 25, /* our SYN (or SYN-ACK), sent once when the
                                state was entered (state_since), is timed
                                until its ACK gives an RTT sample */
    TF_DSACK = 1u << 26,     /* a D-SACK waits in the stack's table (tcp_opts.c) */
    TF_FREE = 1u << 27,      /* a pool entry not in use (tcp_table.c) */
    /* Loss recovery's and HyStart++'s lasting marks (their fields are in
     * c->keep; as bits here, the control block is 8 bytes smaller). */
    TF_REO_SEEN = 1u << 28,  /* RFC 8985 §6.2: reordering seen */
    TF_DSACK_SEEN = 1u << 29,/* the peer has sent a D-SACK: it reports
                                duplicates (tcp_out.c's probe relies on it) */
    TF_HS_DONE = 1u << 30,   /* HyStart++ has ended: slow start is plain
                                from here (tcp_hystart.c, tcp_cc_cubic.c) */
    TF_DSACK_IDLE = 1u << 31,/* a D-SACK widened RACK's window since the loss
                                state was given back (tcp_recovery.c) */
};

/* A segment's length in sequence space: data, SYN and FIN. */
static inline uint32_t fa_tcp_seg_len(const struct fa_tcp_view *seg)
{
    return seg->data_len + !!(seg->flags & FA_TCP_SYN) + !!(seg->flags & FA_TCP_FIN);
}

struct fa_tcp_range {
    uint32_t start, end; /* [start, end) in sequence space */
};

/* CUBIC (RFC 9438 §4), windows in bytes: what lasts between busy
 * periods. The epoch's curve is in c->loss (struct fa_tcp_cubic_epoch). */
struct fa_tcp_cubic {
    uint32_t w_max;
    uint32_t cwnd_prior;       /* the window when ssthresh was last set */
};
/* RTT figures kept for the connection's life, in ns, as 32 bits: an RTT
 * of 4.29 s or more is held as that (FA_TCP_RTT32_NONE: no sample). */
#define FA_TCP_RTT32_NONE UINT32_MAX
static inline uint32_t fa_tcp_rtt32(fa_time rtt)
{
    return rtt >= FA_TCP_RTT32_NONE ? FA_TCP_RTT32_NONE - 1 : (uint32_t)rtt;
}
/* What loss recovery and congestion control keep for the connection's
 * life; the rest of their state (struct fa_tcp_loss) comes and goes with
 * the send side's storage, so an idle connection holds none of it. */
/* A listener has none of it: what only a connection needs lives here,
 * up to the size of struct fa_tcp_listen (32 bytes). */
struct fa_tcp_keep {
    struct fa_tcp_cubic cubic;
    uint32_t last_send;        /* RFC 5681 §4.1: idle since (fa_tcp_send_stamp()) */
    uint32_t min_rtt;          /* RFC 8985 §6.2's minimum RTT (rtt32) */
    uint32_t ts_recent_sec;    /* when TS.Recent was taken (24-day rule) */
    uint32_t invalid_stamp;    /* tcp_ratelimit.c: last answer to an invalid segment */
    /* HyStart++ (RFC 9406) across rounds, in units of 65.536 µs (its
     * thresholds are 4 to 16 ms; tcp_hystart.c): this and the last
     * round's least RTT, Conservative Slow Start's baseline; its rounds
     * below (0: not in CSS). */
    uint16_t hs_cur_round_min, hs_last_round_min, hs_css_baseline;
    uint8_t reo_mult;          /* RFC 8985 §6.2 (TF_REO_SEEN: reordering seen) */
    uint8_t reo_persist : 5;   /* up to 16 */
    uint8_t hs_css_rounds : 3; /* up to CSS_ROUNDS + 1 = 6 */
};
/* When data last went, as c->keep.last_send holds it: 2^16 ns (65.5 µs)
 * units in 32 bits, never 0 (0: nothing sent yet). It wraps after 78
 * hours: an idle period within an RTO of a multiple of that is taken for
 * none (the window is not cut back). */
static inline uint32_t fa_tcp_send_stamp(fa_time now)
{
    return (uint32_t)(now >> 16) | 1u;
}

/* A socket's options (tcp_sockopt.c keeps one copy of each distinct set
 * of values; c->so names it, fa_tcp_so() reads it). No padding: the
 * sets are compared and hashed as bytes. */
struct fa_tcp_sockopts {
    uint32_t sndbuf, rcvbuf;   /* SO_SNDBUF, SO_RCVBUF: the rings' sizes,
                                  fixed once set up (TF_OPENED) */
    int32_t linger_ms;         /* SO_LINGER: -1 off */
    uint32_t keep_idle_ms, keep_intvl_ms;
    uint16_t user_mss;         /* TCP_MAXSEG, 0 = from the MTU */
    uint8_t keep_cnt;
    uint8_t cc_algo;           /* enum fa_tcp_cc (tcp_cc.c) */
    uint32_t owner;            /* fa_tcp_set_owner()'s mark */
};
struct fa_tcp_optset {
    struct fa_tcp_sockopts o;
    uint32_t refs;             /* connections holding it; 0: free */
    uint32_t next;             /* hash chain, or free list */
};

/* A listener's own state (TF_LISTENER); a connection uses the same bytes
 * for c->keep. */
struct fa_tcp_listen {
    struct fa_tcp *accept_head, *accept_tail;
    /* When the last SYN cookie went (+1; 0: never): tcp_syncookie.c,
     * tcp_in.c. */
    fa_time cookie_sent;
    uint32_t pending;          /* half-open + queued */
    uint16_t backlog, queued;  /* limit; in the accept queue */
};

struct fa_tcp {
    /* ---- hot: what every segment in or out reads or writes (the
     * widest fields first: no padding). Its stack is not here: the pool's
     * chunk says it (fa_tcp_stack_of()). */
    /* The rings, each at the head of its storage block, attached only
     * while it holds bytes (tcp_mem.c; NULL otherwise: read their lengths
     * with fa_tcp_snd_len(), fa_tcp_rcv_len()). Their sizes are SO_SNDBUF
     * and SO_RCVBUF, fixed once the connection is set up (TF_OPENED). */
    struct fa_ring *snd; /* bytes from snd_una on: unacked, then unsent */
    struct fa_ring *rcv; /* unread bytes, then out-of-order ones */
    /* Loss recovery's and the scoreboard's state while something is to
     * send or in flight: attached with the send side's storage, given
     * back when it is idle (tcp_recovery.c owns it); NULL otherwise. */
    struct fa_tcp_loss *loss;
    /* Timer deadlines (FA_TIME_NEVER = off); the heap keeps their
     * minimum. Loss recovery's (RFC 8985's reordering timer or the tail
     * loss probe's) is c->loss->t_loss: fa_tcp_t_loss(); keepalive's
     * follows from last_rcv: fa_tcp_t_keep(). */
    fa_time t_rexmit, t_persist, t_delack, t_close;

    /* Links as pool index + 1 (0: none; fa_tcp_at()): the 4-tuple hash's
     * chain, the listener until accepted, the next in the accept queue,
     * the listener list or the free list (tcp_table.c). */
    uint32_t hash_next, parent, queue_next;
    uint32_t laddr, raddr;
    uint32_t flags;
    /* Send sequence variables (RFC 9293 §3.3.1). SND.NXT never moves
     * back: what is resent goes from the scoreboard (tcp_sb.c). */
    uint32_t snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2;
    uint32_t max_snd_wnd;
    /* Receive sequence variables. rcv_adv: right edge last advertised. */
    uint32_t rcv_nxt, rcv_adv;
    uint32_t so;       /* its options' set (tcp_sockopt.c): fa_tcp_so() */
    uint32_t heap_idx; /* in the timer heap (tcp_timer.c) */
    /* Out-of-order ranges held (ooo_count of fa_tcp_ooo_cap()) live after
     * the receive ring's bytes: fa_tcp_ooo(). A duplicate to report (RFC
     * 2883) waits in the stack's table till the next ACK (TF_DSACK). */
    /* RFC 7323 timestamps: our clock's offset, TS.Recent, Last.ACK.sent. */
    uint32_t ts_offset, ts_recent, last_ack_sent;
    /* Congestion window and slow start threshold (tcp_cc*.c, PRR). */
    uint32_t cwnd, ssthresh;
    /* RFC 6298 in 32 bits: SRTT and RTTVAR in eighths of a µs (125 ns, up
     * to 536 s), the RTO in µs; fa_tcp_srtt(), fa_tcp_rto() give ns;
     * tcp_rtt.c writes them. */
    uint32_t srtt8, rttvar8, rto_us;
    uint16_t lport, rport;
    uint16_t mss;      /* effective send MSS: data per segment, after the
                          timestamp option's 12 bytes (RFC 6691) */
    uint16_t orphan_acked; /* bytes acknowledged since orphan_probes last
                              restarted, up to an MSS (tcp_in.c) */
    int8_t err;        /* pending -errno (Linux's are below 128) */
    uint8_t state;
    uint8_t snd_wscale, rcv_wscale;
    uint8_t ooo_count;
    uint8_t segs_unacked;   /* data segments since our last ACK */
    uint8_t retries;        /* timeouts in a row (tcp_timer.c) */
    uint8_t keep_probes;

    /* ---- cold: what outlives c->loss, the handshake, options, the
     * accept queue --------------------------------------------------- */
    union {
        struct fa_tcp_keep keep; /* a connection's: tcp_recovery.c, tcp_cc*.c */
        struct fa_tcp_listen lst; /* a listener's: tcp_api.c, tcp_in.c */
    };
    /* Keepalive counts from here: when the peer was last seen, moved on
     * if a probe went late (tcp_timer.c). */
    fa_time last_rcv;
    fa_time state_since;
    void *user;
    uint32_t retransmits;
    uint8_t persist_shift : 4; /* up to 10 (tcp_timer.c) */
    /* Quick-ACK mode at the start (tcp_in.c): ACKs of in-order data still
     * to go at once, not delayed (tcp_out.c spends them; a reply ends it). */
    uint8_t quick_acks : 4;
    uint8_t persist_probes; /* zero-window probes since the peer last ACKed */
    uint8_t orphan_probes;  /* zero-window probes since it became an orphan
                               or a segment's worth was last acknowledged
                               (tcp_timer.c, tcp_in.c) */
    int8_t soft_err;        /* RFC 1122 §4.2.3.9: the last soft ICMP error
                               (-errno), reported if the connection times out */
};
/* A million idle connections fit in 512 MB with two ends of this (the
 * issue's aim; bench/idle_conns measures it): a field added here must
 * take another's place. */
_Static_assert(sizeof(struct fa_tcp_keep) <= sizeof(struct fa_tcp_listen),
               "what only a connection keeps fits in the listener's bytes");
_Static_assert(sizeof(struct fa_tcp) <= 232, "the control block is at most 232 bytes");
/* RFC 9293's ISS and IRS are not kept (8 bytes a connection): until our
 * SYN is acknowledged SND.UNA is the ISS, and in SYN-RECEIVED (the one
 * state that asks for the IRS: a SYN again, a crossed SYN-ACK, a late
 * cookie) RCV.NXT is IRS + 1 — no data is taken before ESTABLISHED. */
static inline uint32_t fa_tcp_iss(const struct fa_tcp *c) { return c->snd_una; }
static inline uint32_t fa_tcp_irs(const struct fa_tcp *c) { return c->rcv_nxt - 1; }
/* RFC 6298's smoothed RTT and RTO in ns (0: no sample yet). */
static inline fa_time fa_tcp_srtt(const struct fa_tcp *c)
{
    return (fa_time)c->srtt8 * (FA_NS_PER_US / 8);
}
static inline fa_time fa_tcp_rto(const struct fa_tcp *c)
{
    return (fa_time)c->rto_us * FA_NS_PER_US;
}
/* The hot part's size (bench_inproc prints it; the aim is 256 bytes). */
#define FA_TCP_HOT_BYTES offsetof(struct fa_tcp, keep)

/* A connection in TIME-WAIT after its handle is gone (RFC 9293 §3.6):
 * all that is needed to re-ACK a retransmitted FIN and refuse reuse. */
struct fa_tcp_tw {
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    uint32_t snd_nxt, rcv_nxt;
    /* Timestamps, if the connection used them (RFC 7323): its clock's
     * offset and TS.Recent; RFC 6191 reopens the pair by them. */
    uint32_t ts_offset, ts_recent;
    uint8_t has_ts;
    fa_time expires;
    uint32_t hash_next, prev, next; /* indices; UINT32_MAX = none */
    uint32_t invalid_stamp;          /* tcp_ratelimit.c */
};

#define FA_TCP_BATCH_ACKS 64
/* Duplicates waiting to be reported (RFC 2883), stack-wide: a report is
 * gone with the next ACK the connection sends, so few wait at once; past
 * this many the oldest is not reported (counted). */
#define FA_TCP_DSACKS 64
struct fa_tcp_dsack {
    uint32_t ref;              /* the connection: pool index + 1; 0: free */
    uint32_t placed;           /* when, in the table's count (the oldest goes) */
    struct fa_tcp_range r;
};

/* A timer heap entry: the connection and its earliest deadline. */
struct fa_tcp_timer_slot {
    fa_time key;
    struct fa_tcp *c;
};

/* The pool (tcp_table.c) is one allocation of chunks, each FA_TCP_CHUNK
 * bytes and aligned to its size: a head naming the stack, then control
 * blocks. A block finds its stack by rounding its address down to the
 * chunk (fa_tcp_stack_of()), so none holds a pointer to it. */
#define FA_TCP_CHUNK (64u * 1024)
#define FA_TCP_CHUNK_HEAD 64u
#define FA_TCP_PER_CHUNK ((FA_TCP_CHUNK - FA_TCP_CHUNK_HEAD) / sizeof(struct fa_tcp))
struct fa_tcp_chunk_head {
    struct fa_stack *stack;
};
static inline struct fa_stack *fa_tcp_stack_of(const struct fa_tcp *c)
{
    uintptr_t chunk = (uintptr_t)c & ~(uintptr_t)(FA_TCP_CHUNK - 1);
    return ((const struct fa_tcp_chunk_head *)chunk)->stack;
}

struct mem_free;
struct fa_tcp_stack {
    uint8_t *pool;      /* the chunks */
    struct fa_tcp *free;
    uint32_t pool_used; /* entries handed out at least once (the rest
                           untouched: tcp_table.c) */
    /* Inside fa_stack_batch_begin/end: connections owing an ACK. */
    int batching;
    uint32_t owed_count;
    struct fa_tcp *owed[FA_TCP_BATCH_ACKS];
    uint32_t live;
    uint64_t buffer_bytes; /* ring bytes with storage attached (tcp_mem.c) */
    uint64_t snd_buffer_bytes; /* ...of them, send rings' */
    /* tcp_mem.c: storage given back, for reuse: [0] send, [1] receive. */
    struct mem_free *mem_cache[2];
    uint32_t mem_cached[2];
    uint32_t mem_waiting; /* sockets flagged TF_MEM_WAIT (a hint) */
    uint32_t *hash;         /* pool index + 1 (0: none) */
    uint32_t hash_mask;
    struct fa_tcp *listeners;
    struct fa_tcp_timer_slot *heap;
    uint32_t heap_len;
    struct fa_tcp_tw *tw;
    uint32_t *tw_hash;
    uint32_t tw_hash_mask, tw_free, tw_oldest, tw_newest, tw_count;
    uint64_t secret[2]; /* SipHash key for ISNs, ports, hashing */
    uint32_t port_counter;
    /* tcp_ratelimit.c: this second's challenge-ACK budget. */
    uint64_t challenge_second;
    uint32_t challenge_left;
    int challenge_started;
    /* tcp_recovery.c: loss-state blocks of ended connections, for reuse. */
    struct fa_tcp_loss *loss_cache;
    uint32_t loss_cached;
    uint32_t loss_live; /* connections holding one */
    uint32_t half_open; /* connections in SYN-RECEIVED (tcp_table.c) */
    /* tcp_opts.c: D-SACKs to report, and how many were ever placed. */
    struct fa_tcp_dsack dsack[FA_TCP_DSACKS];
    uint32_t dsack_placed;
    /* tcp_sockopt.c: the option sets, their hash and free list. */
    struct fa_tcp_optset *so;
    uint32_t *so_hash;
    uint32_t so_hash_mask, so_used, so_cap, so_free;
};

/* The socket's options (tcp_sockopt.c). */
static inline const struct fa_tcp_sockopts *fa_tcp_so(const struct fa_tcp *c)
{
    return &fa_tcp_stack_of(c)->tcp->so[c->so].o;
}

/* Keepalive runs where nothing else would notice a dead peer: in
 * ESTABLISHED, CLOSE-WAIT, and FIN-WAIT-2 while the application holds the
 * socket (a half-close waiting for the peer's data and FIN; as in Linux);
 * the other states have a retransmission or close timer running. Its
 * deadline: the idle time after the peer was last seen, then an interval
 * per probe sent since (RFC 1122 §4.2.3.6). */
static inline fa_time fa_tcp_t_keep(const struct fa_tcp *c)
{
    /* Not while data is out or waits to go: the retransmission or the
     * persist timer watches the peer then (as Linux's keepalive timer;
     * review: probes beside the resends ended it in 3 s). */
    if (!(c->flags & TF_KEEPALIVE) || c->snd_una != c->snd_nxt || (c->snd && c->snd->len) ||
        !(c->state == FA_TCP_ESTABLISHED || c->state == FA_TCP_CLOSE_WAIT ||
          (c->state == FA_TCP_FIN_WAIT_2 && (c->flags & TF_HANDLE))))
        return FA_TIME_NEVER;
    const struct fa_tcp_sockopts *o = fa_tcp_so(c);
    return c->last_rcv + ((fa_time)o->keep_idle_ms + (fa_time)c->keep_probes * o->keep_intvl_ms) *
                             FA_NS_PER_MS;
}

/* How many out-of-order ranges the receive side holds: 8, and one more
 * per 8 KiB of SO_RCVBUF, at most 255. */
static inline uint32_t fa_tcp_ooo_cap(const struct fa_tcp *c)
{
    uint32_t n = FA_TCP_OOO_MIN + fa_tcp_so(c)->rcvbuf / FA_TCP_OOO_PER_BYTES;
    return n > 255 ? 255 : n;
}

/* The receive block's head (tcp_mem.c): its ring, and where the peer's
 * FIN is when it came ahead of data still missing (TF_FIN_SEEN). */
struct fa_tcp_rcvq {
    struct fa_ring ring;       /* first: c->rcv points here */
    uint32_t fin_seq;
};
static inline uint32_t *fa_tcp_rcv_fin(const struct fa_tcp *c)
{
    return &((struct fa_tcp_rcvq *)c->rcv)->fin_seq;
}

/* Bytes in the send ring (from SND.UNA: unacknowledged, then unsent)
 * and in the receive ring (unread); 0 without storage. */
static inline uint32_t fa_tcp_snd_len(const struct fa_tcp *c)
{
    return c->snd ? c->snd->len : 0;
}
static inline uint32_t fa_tcp_rcv_len(const struct fa_tcp *c)
{
    return c->rcv ? c->rcv->len : 0;
}

/* The out-of-order ranges, the most recently changed first: the order
 * SACK blocks report them in (RFC 2018 §4). They follow the receive
 * ring's bytes in its storage (tcp_mem.c); none while it has none. */
static inline struct fa_tcp_range *fa_tcp_ooo(const struct fa_tcp *c)
{
    if (!c->rcv)
        return NULL;
    return (struct fa_tcp_range *)(c->rcv->buf + ((fa_tcp_so(c)->rcvbuf + 7u) & ~7u));
}

/* Pool entry i (i < pool_used; TF_FREE if not in use). */
static inline struct fa_tcp *fa_tcp_pool_entry(const struct fa_tcp_stack *t, uint32_t i)
{
    return (struct fa_tcp *)(t->pool + (size_t)(i / FA_TCP_PER_CHUNK) * FA_TCP_CHUNK +
                             FA_TCP_CHUNK_HEAD) + i % FA_TCP_PER_CHUNK;
}
/* Pool links (index + 1, 0: none) and what they point to. */
static inline struct fa_tcp *fa_tcp_at(const struct fa_tcp_stack *t, uint32_t ref)
{
    return ref ? fa_tcp_pool_entry(t, ref - 1) : NULL;
}
static inline uint32_t fa_tcp_ref(const struct fa_tcp_stack *t, const struct fa_tcp *c)
{
    if (!c)
        return 0;
    size_t off = (size_t)((const uint8_t *)c - t->pool);
    size_t chunk = off / FA_TCP_CHUNK, in = off % FA_TCP_CHUNK - FA_TCP_CHUNK_HEAD;
    return (uint32_t)(chunk * FA_TCP_PER_CHUNK + in / sizeof *c) + 1;
}
static inline struct fa_tcp *fa_tcp_parent(const struct fa_tcp *c)
{
    return fa_tcp_at(fa_tcp_stack_of(c)->tcp, c->parent);
}

/* Nobody will read or write it again: the application closed it (a
 * connection still waiting in an accept queue is not an orphan). */
static inline int fa_tcp_orphan(const struct fa_tcp *c)
{
    return !(c->flags & TF_HANDLE) && !c->parent;
}

/* Tells the application (config.tcp_notify) that c's readiness may
 * have changed; only for sockets it holds (and listeners). */
static inline void fa_tcp_notify(struct fa_tcp *c)
{
    const struct fa_config *cfg = &fa_tcp_stack_of(c)->cfg;
    if (cfg->tcp_notify && (c->flags & (TF_HANDLE | TF_LISTENER)))
        cfg->tcp_notify(cfg->tcp_notify_ctx, c);
}

/* RFC 9293 §3.10.5 ABORT: an RST only where the peer may still hold the
 * connection open; in CLOSING, LAST-ACK and TIME-WAIT "delete the TCB"
 * and nothing more — an RST there could kill the peer's own TIME-WAIT
 * (RFC 1337). Also for a lingering close that runs out. */
static inline int fa_tcp_rst_on_abort(const struct fa_tcp *c)
{
    switch (c->state) {
    case FA_TCP_SYN_RECEIVED:
    case FA_TCP_ESTABLISHED:
    case FA_TCP_FIN_WAIT_1:
    case FA_TCP_FIN_WAIT_2:
    case FA_TCP_CLOSE_WAIT:
        return 1;
    default:
        return 0;
    }
}

/* ---- tcp_table.c ----------------------------------------------------- */
int fa_tcp_stack_init(struct fa_stack *s);
void fa_tcp_stack_free(struct fa_stack *s);
struct fa_tcp *fa_tcp_alloc(struct fa_stack *s);
/* Frees the block and its buffers; unhashes it. */
void fa_tcp_free(struct fa_tcp *c);
/* Takes a listener off the stack's list (it may stay, CLOSED). */
void fa_tcp_listener_unlink(struct fa_tcp *c);
void fa_tcp_hash_insert(struct fa_tcp *c);
void fa_tcp_hash_remove(struct fa_tcp *c);
struct fa_tcp *fa_tcp_lookup(struct fa_stack *s, uint32_t laddr, uint16_t lport,
                             uint32_t raddr, uint16_t rport);
struct fa_tcp *fa_tcp_find_listener(struct fa_stack *s, uint32_t laddr,
                                    uint16_t lport);
/* Is lport taken for a new bind? reuse: the binding socket set
 * SO_REUSEADDR (then only listeners and unconnected sockets are). */
int fa_tcp_port_in_use(struct fa_stack *s, uint16_t lport, int reuse);
/* RFC 6056 §3.3.3: a port for this remote end; 0 if none is free. */
uint16_t fa_tcp_ephemeral_port(struct fa_stack *s, uint32_t raddr,
                               uint16_t rport);
/* RFC 6528: ISN = 4 µs clock + SipHash(4-tuple, secret); the hash's
 * other half is the timestamp offset (RFC 7323 §5.4). */
/* Our MSS for the interface's MTU; the window scale a receive buffer
 * needs (RFC 7323 §2.3). */
uint16_t fa_tcp_mss_for_mtu(const struct fa_stack *s);
uint8_t fa_tcp_rcv_wscale_for(const struct fa_stack *s, uint32_t rcvbuf);
uint32_t fa_tcp_isn(struct fa_stack *s, const struct fa_tcp *c, fa_time now,
                    uint32_t *ts_offset);
/* The keyed hash of a 4-tuple (SipHash-1-3), for the connection and
 * TIME-WAIT tables. */
uint64_t fa_tcp_tuple_hash(const struct fa_stack *s, uint32_t laddr,
                           uint16_t lport, uint32_t raddr, uint16_t rport);
/* SipHash-2-4; and SipHash-c-d, which fa_tcp_tuple_hash (1-3) equals. */
uint64_t fa_siphash(const uint64_t key[2], const uint8_t *data, size_t len);
uint64_t fa_siphash_cd(const uint64_t key[2], const uint8_t *data, size_t len, int c, int d);
/* Buffers and initial values for a connection about to send a SYN. */
int fa_tcp_conn_setup(struct fa_tcp *c, fa_time now);
void fa_tcp_set_state(struct fa_tcp *c, uint8_t state, fa_time now);
/* Ends a connection: with err, reports it to a handle holder; frees it
 * if nobody holds a handle. */
void fa_tcp_terminate(struct fa_tcp *c, int err, fa_time now);

/* ---- tcp_tw.c -------------------------------------------------------- */
/* Moves c (TIME-WAIT, no handle) into the compact table and frees it. */
void fa_tcp_tw_enter(struct fa_tcp *c, fa_time now);
struct fa_tcp_tw *fa_tcp_tw_lookup(struct fa_stack *s, uint32_t laddr,
                                   uint16_t lport, uint32_t raddr,
                                   uint16_t rport);
void fa_tcp_tw_input(struct fa_stack *s, struct fa_tcp_tw *tw,
                     const struct fa_tcp_view *seg, fa_time now);
/* Ends the entries expired by now (fa_tcp_tw_next says when the next is). */
void fa_tcp_tw_poll(struct fa_stack *s, fa_time now);
/* When the oldest entry expires (FA_TIME_NEVER: none); removes nothing. */
fa_time fa_tcp_tw_next(const struct fa_stack *s);
void fa_tcp_tw_remove(struct fa_stack *s, struct fa_tcp_tw *tw);
/* 1 if a SYN may reopen the pair of a TIME-WAIT entry (RFC 6191). */
int fa_tcp_tw_reopens(const struct fa_tcp_tw *tw, const struct fa_tcp_view *seg);

/* ---- tcp_out.c ------------------------------------------------------- */
/* Sends whatever the state, windows and Nagle allow, and owed ACKs. */
void fa_tcp_output(struct fa_tcp *c, fa_time now);
void fa_tcp_send_ack(struct fa_tcp *c, fa_time now);
void fa_tcp_send_syn(struct fa_tcp *c, int again, fa_time now);
/* RST from a connection (abort) at snd_nxt. */
void fa_tcp_send_rst(struct fa_tcp *c, fa_time now);
/* RST for a segment with no connection (RFC 9293 §3.10.7.1). */
void fa_tcp_reset_for(struct fa_stack *s, uint32_t laddr, uint32_t raddr,
                      const struct fa_tcp_view *seg, fa_time now);
/* A bare segment on a 4-tuple, for resets and TIME-WAIT (opts: NULL, or
 * the options to carry). */
void fa_tcp_send_bare(struct fa_stack *s, uint32_t laddr, uint16_t lport,
                      uint32_t raddr, uint16_t rport, uint32_t seq,
                      uint32_t ack, uint8_t flags, uint16_t wnd,
                      const struct fa_tcp_opts *opts, fa_time now);
/* The window field for a segment sent now (scaled, RFC 7323 §2.3), with
 * receiver silly-window avoidance (RFC 9293 §3.8.6.2.2); records the
 * right edge it advertises in rcv_adv. */
uint16_t fa_tcp_window_field(struct fa_tcp *c);
/* Free receive space from rcv_nxt on: what we may accept. */
static inline uint32_t fa_tcp_rcv_space(const struct fa_tcp *c)
{
    return fa_tcp_so(c)->rcvbuf - fa_tcp_rcv_len(c);
}
/* Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): the right edge moves
 * only by at least min(buffer / 2, MSS). */
static inline uint32_t fa_tcp_rcv_sws_step(const struct fa_tcp *c)
{
    return fa_tcp_so(c)->rcvbuf / 2 < c->mss ? fa_tcp_so(c)->rcvbuf / 2 : c->mss;
}
/* 1 if the right edge we could offer now is an SWS step past the one
 * advertised (RFC 9293 §3.8.6.2.2): a window update is worth sending. */
int fa_tcp_window_update_due(const struct fa_tcp *c);
/* How far past snd_nxt the peer's window reaches (from SND.WL2). */
uint32_t fa_tcp_window_room(const struct fa_tcp *c);
/* The SWS override: one segment of what the small window allows. */
void fa_tcp_send_small(struct fa_tcp *c, fa_time now);
/* Counts one retransmitted segment (per connection and stack). */
void fa_tcp_count_retransmit(struct fa_tcp *c);
/* The tail loss probe: one new segment beyond cwnd (unless resend_only),
 * else the last one not SACKed again; returns 1 if it was a resend. */
int fa_tcp_send_probe(struct fa_tcp *c, fa_time now, int resend_only);
/* A bare ACK numbered seq (zero-window and keepalive probes), with the
 * connection's options. */
void fa_tcp_send_keep_probe(struct fa_tcp *c, uint32_t seq, fa_time now);

/* Batches (tcp_out.c): owed ACKs go out at the batch's end. */
void fa_tcp_batch_end(struct fa_stack *s, fa_time now);
void fa_tcp_batch_forget(struct fa_tcp *c);

/* ---- tcp_in.c -------------------------------------------------------- */
void fa_tcp_input(struct fa_stack *s, const struct fa_rx_ctx *rx, fa_time now);
/* Quick-ACK mode at a connection's start: its next in-order data
 * segments are ACKed at once. */
void fa_tcp_quick_ack_mode(struct fa_tcp *c);

/* ---- tcp_timer.c ----------------------------------------------------- */
/* Re-files c in the heap after any of its t_* changed. */
void fa_tcp_timer_update(struct fa_tcp *c);
/* Keepalive's idle time counts from t at the earliest (tcp_timer.c). */
void fa_tcp_keepalive_from(struct fa_tcp *c, fa_time t);
void fa_tcp_timer_remove(struct fa_tcp *c);
/* The earliest deadline the heap holds for c (FA_TIME_NEVER: none). */
fa_time fa_tcp_next_timer(const struct fa_tcp *c);
fa_time fa_tcp_poll(struct fa_stack *s, fa_time now);
/* What fa_tcp_poll would return next, running nothing. */
fa_time fa_tcp_next_due(const struct fa_stack *s);
void fa_tcp_arm_rexmit(struct fa_tcp *c, fa_time now);

/* ---- tcp_rtt.c ------------------------------------------------------- */
void fa_tcp_rtt_sample(struct fa_tcp *c, fa_time rtt, int source, fa_time now);
/* RACK's least RTT (keep.min_rtt) takes rtt if it is less: its one writer
 * besides the connection's start. */
void fa_tcp_min_rtt_take(struct fa_tcp *c, fa_time rtt);
/* Sets the RTO (ns, rounded up to the µs it is kept in). */
void fa_tcp_set_rto(struct fa_tcp *c, fa_time rto);
/* SND.UNA moved on: the RTO backoff ends. */
void fa_tcp_rto_progress(struct fa_tcp *c);

/* ---- tcp_opts.c ------------------------------------------------------ */
/* Our TSval now (RFC 7323 §4.1: a millisecond clock plus an offset). */
uint32_t fa_tcp_ts_val(const struct fa_tcp *c, fa_time now);
/* The options of a non-SYN segment carrying data_len bytes: timestamps
 * if agreed, SACK blocks if there is room and something to report. */
void fa_tcp_opts_for(struct fa_tcp *c, struct fa_tcp_opts *o, uint32_t data_len,
                     fa_time now);
/* The options of our SYN or SYN-ACK (seg: the peer's SYN, or NULL). */
void fa_tcp_opts_for_syn(struct fa_tcp *c, struct fa_tcp_opts *o, fa_time now);
/* Takes what the peer's SYN offers (MSS, scale, SACK, timestamps). */
void fa_tcp_opts_take_syn(struct fa_tcp *c, const struct fa_tcp_view *seg,
                          fa_time now);
/* RFC 7323 §5.3 R1 (PAWS): 1 if the segment's TSval is older than
 * TS.Recent and TS.Recent is not 24 days old: unacceptable. */
int fa_tcp_paws_reject(const struct fa_tcp *c, const struct fa_tcp_view *seg,
                       fa_time now);
/* RFC 7323 §4.3 R3: an acceptable segment may update TS.Recent. */
void fa_tcp_ts_update(struct fa_tcp *c, const struct fa_tcp_view *seg, fa_time now);
/* RFC 2883: report [start, end) as duplicate in the next ACK. */
void fa_tcp_dsack_note(struct fa_tcp *c, uint32_t start, uint32_t end);
/* Drops c's D-SACK waiting in the stack's table, if any (c goes). */
void fa_tcp_dsack_forget(struct fa_tcp *c);

/* ---- tcp_sb.c: the scoreboard ---------------------------------------- */
enum {
    SB_SACKED = 1,       /* the peer holds it (a SACK block covered it) */
    SB_LOST = 2,         /* counts as lost: to be (or being) resent */
    SB_RETRANS = 4,      /* resent and that copy in flight */
    SB_EVER_RETRANS = 8, /* sent more than once: ambiguous for RTT (Karn) */
    SB_FIN = 16,         /* its last sequence number is the FIN */
    SB_PIECE = 32,       /* a part of a segment resent before (split since):
                            a D-SACK of it alone shows no needless resend */
};
struct fa_tcp_sent {
    fa_time xmit;  /* the last time it went */
    uint32_t end;  /* it runs from the previous entry's end (SND.UNA for
                      the first) to here */
    uint8_t flags;
};
struct fa_tcp_sb {
    struct fa_tcp_sent *e; /* a ring of cap entries from head */
    uint32_t head, count, cap;
    uint32_t una;          /* where the first entry starts: SND.UNA */
    uint32_t sacked, lost, retrans; /* bytes with each flag */
};
/* Entry i (0 = oldest) and where it starts. */
static inline struct fa_tcp_sent *fa_tcp_sb_at(const struct fa_tcp_sb *sb, uint32_t i)
{
    uint32_t k = sb->head + i;
    return &sb->e[k >= sb->cap ? k - sb->cap : k];
}
static inline uint32_t fa_tcp_sb_start(const struct fa_tcp_sb *sb, uint32_t i)
{
    return i == 0 ? sb->una : fa_tcp_sb_at(sb, i - 1)->end;
}
/* A new segment [start, end) went at now (start: the last entry's end, or
 * SND.UNA in an empty table); -1 if the table is full. */
int fa_tcp_sb_append(struct fa_tcp_sb *sb, uint32_t start, uint32_t end, int fin,
                     fa_time now);
/* Sets or clears flag on entry i of len bytes, keeping the counts. */
void fa_tcp_sb_set(struct fa_tcp_sb *sb, uint32_t i, uint32_t len, uint8_t flag);
void fa_tcp_sb_clear(struct fa_tcp_sb *sb, uint32_t i, uint32_t len, uint8_t flag);
/* Splits entry i at seq (inside it): 0, or -1 if the table is full. */
int fa_tcp_sb_split(struct fa_tcp_sb *sb, uint32_t i, uint32_t seq);
/* Entries i and i + 1 become one (i + 1 < count), keeping what holds for
 * all of it (tcp_sb.c says how): room when the table is full
 * (fa_tcp_rec_split). */
void fa_tcp_sb_merge(struct fa_tcp_sb *sb, uint32_t i);
/* Moves the boundary between entries i and i + 1 (i + 1 < count) to seq,
 * inside one of them and short of i + 1's FIN: the bytes that change
 * entry take the kinds of the one they join (a SACK block that reaches
 * into a neighbour of a SACKed entry, with no room to split). */
void fa_tcp_sb_shift(struct fa_tcp_sb *sb, uint32_t i, uint32_t seq);
/* SND.UNA moves to ack: drops the entries wholly acknowledged and takes
 * the acked part of a partly acknowledged first one off the counts.
 * Calls seen(ctx, entry, start) for each entry that leaves (before it
 * goes). */
void fa_tcp_sb_ack(struct fa_tcp_sb *sb, uint32_t ack,
                   void (*seen)(void *ctx, const struct fa_tcp_sent *e, uint32_t start),
                   void *ctx);
/* The ACK of entries none of which is SACKed, lost or resent: drops
 * those wholly acknowledged; returns 1 with the first and last of them
 * (last->flags: the union of their flags), 0 if none left. */
int fa_tcp_sb_pop(struct fa_tcp_sb *sb, uint32_t ack, struct fa_tcp_sent *first,
                  struct fa_tcp_sent *last);
/* The first entry at or after index from holding seq; count if none. */
uint32_t fa_tcp_sb_find(const struct fa_tcp_sb *sb, uint32_t from, uint32_t seq);

/* Per-connection state of loss recovery and slow start while the send
 * side is busy (c->loss): given back with its storage when all is
 * acknowledged and nothing waits (what lasts: c->keep). */
struct fa_tcp_hystart {        /* RFC 9406: this round's (the rest: keep) */
    uint32_t window_end;       /* the round ends when this is ACKed */
    uint16_t samples;
};
enum { REC_OPEN, REC_FAST, REC_RTO };
enum { LT_NONE, LT_REORDER, LT_TLP };
/* CUBIC's congestion avoidance epoch (RFC 9438 §4.2-4.3): it starts
 * afresh with each busy period, so time spent idle or limited by the
 * application does not grow the curve (§5.8). */
struct fa_tcp_cubic_epoch {
    fa_time epoch;             /* congestion avoidance began; 0 = not yet */
    uint32_t k_ms;             /* time to reach w_max again */
    uint32_t cwnd_epoch, w_est;
    uint32_t w_est_frac;       /* W_est's growth below a byte, times cwnd */
};
struct fa_tcp_loss {
    struct fa_tcp_sb sb;
    fa_time t_loss;            /* what timer says (FA_TIME_NEVER: none) */
    /* When what times out was first sent (0: no timeout in this run):
     * R2 counts from it (tcp_timer.c; Linux's retrans_stamp). */
    fa_time rexmit_since;
    struct fa_tcp_cubic_epoch cubic;
    struct fa_tcp_loss *next_free; /* in the stack's cache (tcp_recovery.c) */
    uint8_t state;             /* REC_OPEN, REC_FAST (RFC 6675 fast
                                  recovery) or REC_RTO (after a timeout) */
    uint8_t dupacks;           /* RFC 5681 duplicate ACKs in a row */
    uint8_t rack_valid;        /* rack_xmit/rack_end hold a delivery */
    uint8_t tlp_out, tlp_retrans; /* a probe is out, up to tlp_end; it
                                     resent old data */
    uint8_t undo_ok;           /* the reduction may still be undone */
    uint8_t undo_sent;         /* something was resent in this episode */
    uint8_t timer;             /* what t_loss is: LT_NONE, LT_REORDER, LT_TLP */
    uint8_t reno_shift;        /* without SACK: backoff of the lost-
                                  retransmission check */
    uint32_t rexmit_from;      /* no lost entry to resend below this */
    uint32_t ca_frac;          /* NewReno's growth below a byte, times cwnd */
    uint32_t snd_sml;          /* end of the last sub-MSS segment of new
                                  data sent (Minshall's Nagle: tcp_out.c) */
    /* RecoveryPoint (RFC 6675) / recover (RFC 6582): attached just below
     * SND.UNA (as the ISS is at the start), for all before it was
     * acknowledged. */
    uint32_t recover;
    uint32_t dsack_round;      /* RFC 8985 §6.2 step 4: once per round trip
                                  (0: none yet; idle, one has passed) */
    uint32_t undo_marker;      /* SND.UNA when the episode began */
    uint32_t tlp_end;
    uint32_t reno_sacked;      /* without SACK: bytes duplicate ACKs say
                                  have left the network (RFC 6675 §2 est.) */
    uint32_t prr_delivered, prr_out, recover_fs; /* RFC 6937 */
    fa_time rack_xmit, rack_rtt;                  /* RFC 8985 §6 */
    uint32_t rack_end, fack;
    uint32_t prior_cwnd, prior_ssthresh, undo_retrans, undo_tsval;
    uint32_t prior_w_max;      /* CUBIC's W_max before the episode, for undo */
    struct fa_tcp_hystart hs;
    /* A lone FIN's scoreboard (sb.cap 1) and so its send storage, an
     * empty ring with no bytes: closing takes no buffer memory (tcp_mem.c). */
    struct fa_tcp_sent fin_entry;
    struct fa_ring fin_ring;
};

/* Loss recovery's timer deadline: none without c->loss. */
static inline fa_time fa_tcp_t_loss(const struct fa_tcp *c)
{
    return c->loss ? c->loss->t_loss : FA_TIME_NEVER;
}

/* ---- tcp_sockopt.c --------------------------------------------------- */
/* Entry 0: config's defaults. 0 or -ENOMEM. */
int fa_tcp_so_init(struct fa_tcp_stack *t, const struct fa_config *cfg);
void fa_tcp_so_free(struct fa_tcp_stack *t);
/* c takes set i (a new connection: 0, or its listener's); drop lets go. */
void fa_tcp_so_take(struct fa_tcp *c, uint32_t i);
void fa_tcp_so_drop(struct fa_tcp *c);
/* c's options become o (setsockopt): 0 or -ENOMEM. */
int fa_tcp_so_set(struct fa_tcp *c, const struct fa_tcp_sockopts *o);

/* ---- tcp_recovery.c -------------------------------------------------- */
/* The connection's starting values (at setup: it has no c->loss yet). */
void fa_tcp_rec_init(struct fa_tcp *c);
/* Attaches c->loss, its scoreboard sized for the send buffer (the
 * entries' storage comes with the send ring's, tcp_mem.c): 0 or -ENOMEM.
 * Blocks given back wait in a small per-stack cache. */
int fa_tcp_loss_alloc(struct fa_tcp *c);
/* Gives c->loss back if it holds nothing that matters: no entry, no
 * recovery episode, no timer (what lasts is in c->keep). */
void fa_tcp_loss_put_idle(struct fa_tcp *c);
void fa_tcp_loss_free(struct fa_tcp *c);
void fa_tcp_loss_cache_free(struct fa_tcp_stack *t);
/* Scoreboard entries for the send buffer's size. */
uint32_t fa_tcp_sb_cap(const struct fa_tcp *c);
/* The SYN exchange is done: recovery's starting values. */
void fa_tcp_rec_start(struct fa_tcp *c);
/* RFC 6675 §2 "pipe": what was sent and is neither acknowledged, SACKed
 * nor lost, plus what was resent (never negative); from una on. */
static inline uint32_t fa_tcp_pipe_from(const struct fa_tcp *c, uint32_t una)
{
    const struct fa_tcp_loss *l = c->loss;
    uint32_t out = c->snd_nxt - una + l->sb.retrans;
    uint32_t gone = l->sb.sacked + l->reno_sacked + l->sb.lost;
    return out > gone ? out - gone : 0;
}
static inline uint32_t fa_tcp_pipe(const struct fa_tcp *c)
{
    return c->loss ? fa_tcp_pipe_from(c, c->snd_una) : c->snd_nxt - c->snd_una;
}
/* The ACK field (and SACK blocks) of an acceptable segment, before
 * SND.UNA moves: what was delivered, what is lost, the windows. dup: an
 * RFC 5681 duplicate ACK. */
void fa_tcp_rec_ack(struct fa_tcp *c, const struct fa_tcp_view *seg, int dup,
                    fa_time now);
/* After SND.UNA moved (or an ACK arrived): the tail loss probe's timer. */
void fa_tcp_rec_arm_probe(struct fa_tcp *c, fa_time now);
/* The peer's window opened from 0 with no new ACK: the tail loss probe a
 * shut window kept from going is armed again, if no loss timer runs. */
void fa_tcp_rec_window_opened(struct fa_tcp *c, fa_time now);
/* New data [.., end) went; fin if it carries the FIN. -1: table full. */
int fa_tcp_rec_sent_new(struct fa_tcp *c, uint32_t end, int fin, fa_time now);
/* The next lost segment to resend (RFC 6675 NextSeg rule 1), as index
 * into the scoreboard; -1 if none. */
long fa_tcp_rec_next_lost(const struct fa_tcp *c);
/* A resend cuts entry i at seq (the MSS fell or the window shrank): 0 or
 * more, i's index after (a full table merges two entries first), or -1
 * if no room can be made. */
int fa_tcp_rec_split(struct fa_tcp *c, uint32_t i, uint32_t seq);
/* Bytes lost and waiting to be resent below where NextSeg looks: 0
 * unless recovery's bookkeeping is wrong (fa_tcp_info.lost_hidden). */
uint32_t fa_tcp_rec_lost_hidden(const struct fa_tcp *c);
/* Entry i was resent now (len bytes). */
void fa_tcp_rec_resent(struct fa_tcp *c, uint32_t i, uint32_t len, fa_time now);
/* The retransmission timer expired (RFC 6298 §5.4-5.7, RFC 6675 §5.1). */
void fa_tcp_rec_rto(struct fa_tcp *c, fa_time now);
/* The MSS fell (RFC 1191): segments out that are larger are lost, to go
 * again at the new size, without a congestion signal. */
void fa_tcp_rec_mss_lowered(struct fa_tcp *c);
/* The peer's window closed on what was sent: all is to be resent,
 * without a congestion signal. */
void fa_tcp_rec_window_closed(struct fa_tcp *c);
/* t_loss expired: the reordering timer or the tail loss probe. */
void fa_tcp_rec_timeout(struct fa_tcp *c, fa_time now);
/* The tail loss probe is due, no later than the RTO: it goes first, in
 * the RTO's place (RFC 8985 §7.2). */
int fa_tcp_rec_probe_first(const struct fa_tcp *c, fa_time now);
/* Nothing more is to be sent or recovered (TIME-WAIT): its timer stops. */
void fa_tcp_rec_stop(struct fa_tcp *c);
/* Sending after an idle time (RFC 5681 §4.1). */
void fa_tcp_rec_before_send(struct fa_tcp *c, fa_time now);
/* RFC 6937 (PRR with PRR-SSRB): how much may go on this ACK. */
struct fa_tcp_prr_in {
    uint32_t prr_delivered, prr_out, recover_fs, ssthresh, pipe, delivered;
    uint16_t mss;
};
uint32_t fa_tcp_prr_sndcnt(const struct fa_tcp_prr_in *in);
/* 1 in fast recovery or after an RTO, until the recovery point is ACKed. */
int fa_tcp_in_recovery(const struct fa_tcp *c);

/* ---- tcp_cc.c: congestion control, pure window arithmetic ------------ */
struct fa_tcp_cc_ops {
    const char *name;
    void (*init)(struct fa_tcp *c);
    /* acked bytes newly acknowledged outside recovery; rtt the sample of
     * this ACK (0: none). Grows cwnd. */
    void (*on_ack)(struct fa_tcp *c, uint32_t acked, fa_time rtt, fa_time now);
    /* A congestion signal (loss found): sets ssthresh; PRR (tcp_recovery.c)
     * brings cwnd down to it. */
    void (*on_loss)(struct fa_tcp *c, fa_time now);
    /* The retransmission timer expired: cwnd to one MSS, and ssthresh
     * unless reduce is 0 (a timeout in fast recovery keeps the reduction
     * the loss made, as Linux's tcp_enter_loss). */
    void (*on_rto)(struct fa_tcp *c, int reduce, fa_time now);
    /* The signal was spurious (undo): state back to before it. */
    void (*on_undo)(struct fa_tcp *c);
    /* Sending resumes after idle (cwnd already restarted). */
    void (*on_idle)(struct fa_tcp *c, fa_time now);
};
const struct fa_tcp_cc_ops *fa_tcp_cc(const struct fa_tcp *c);
/* FA_TCP_CONGESTION: another algorithm from now on; its own state starts
 * afresh, the window in use stays. */
void fa_tcp_cc_switch(struct fa_tcp *c);
/* RFC 6928's initial window for c's MSS. */
uint32_t fa_tcp_initial_window(const struct fa_tcp *c);
/* Congestion avoidance's byte counting (RFC 3465): growth num / cwnd
 * bytes, the remainder carried in *frac to the next ACK, never rounded
 * up (ACK division). Returns the whole bytes. */
uint32_t fa_tcp_ca_growth(uint64_t num, uint32_t *frac, uint32_t cwnd);
/* RFC 5681 eq. (4)'s floor: 2 * SMSS. */
static inline uint32_t fa_tcp_cwnd_floor(const struct fa_tcp *c)
{
    return 2u * c->mss;
}
extern const struct fa_tcp_cc_ops fa_tcp_cc_newreno, fa_tcp_cc_cubic;
/* Slow start's growth for acked bytes with HyStart++ (tcp_hystart.c). */
void fa_tcp_hystart_ack(struct fa_tcp *c, uint32_t acked, fa_time rtt);
void fa_tcp_hystart_reset(struct fa_tcp *c);
/* A busy period begins (c->loss is new): rounds start afresh. */
void fa_tcp_hystart_rounds(struct fa_tcp *c);

/* ---- tcp_icmp.c: fa_tcp_icmp_error, declared in iface.h -------------- */

/* ---- tcp_syncookie.c: SYN cookies (RFC 4987 §3.6) -------------------- */
/* What a valid cookie ACK holds: the peer's MSS (from a table), and,
 * where timestamps carried them, its window scale and SACK. */
struct fa_tcp_cookie {
    uint32_t irs;  /* the peer's ISN */
    uint16_t mss;
    int8_t wscale; /* -1: none */
    uint8_t sack, ts;
};
/* Answers a SYN to listener l without keeping any state: a SYN-ACK
 * whose ISS is the cookie. */
void fa_tcp_cookie_synack(struct fa_tcp *l, uint32_t laddr, uint32_t raddr,
                          const struct fa_tcp_view *seg, fa_time now);
/* 0 and *out if seg (an ACK to l) returns a cookie we made in the last
 * three periods (128 to 192 s), with a timestamp echo (if any) that our
 * SYN-ACK could have carried; else -1. */
int fa_tcp_cookie_check(const struct fa_tcp *l, uint32_t laddr, uint32_t raddr,
                        const struct fa_tcp_view *seg, fa_time now, struct fa_tcp_cookie *out);
/* 1 if seg, which fa_tcp_cookie_check refused, returns a cookie we made
 * in an older period (up to 33 minutes back): one past its life, not a
 * forgery or a broken check (counted TCP_SYNCOOKIES_EXPIRED). */
int fa_tcp_cookie_expired(const struct fa_tcp *l, uint32_t laddr, uint32_t raddr,
                          const struct fa_tcp_view *seg, fa_time now);

/* ---- tcp_ratelimit.c ------------------------------------------------ */
/* 1 if an ACK answering an unacceptable segment may go now; *last is the
 * connection's (or TIME-WAIT entry's) stamp. */
int fa_tcp_invalid_allowed(struct fa_stack *s, uint32_t *last, fa_time now);
/* 1 if a challenge ACK may go now (per connection and stack-wide);
 * counts it, or counts why not. */
int fa_tcp_challenge_allowed(struct fa_stack *s, uint32_t *last, fa_time now);

/* ---- tcp_mem.c ------------------------------------------------------- */
/* Storage for the send ring and the scoreboard's entries, or for the
 * receive ring and the out-of-order ranges: 0, or -ENOBUFS (out of
 * memory, or config.tcp_mem_max reached). Nothing if already there. */
int fa_tcp_snd_attach(struct fa_tcp *c, int budget); /* budget 0: past it (a FIN) */
int fa_tcp_rcv_attach(struct fa_tcp *c);
/* 1 if a send could get storage now (it has some, or the budget room). */
int fa_tcp_snd_room(const struct fa_tcp *c);
/* The connection is over: what it would have sent goes, storage back. */
void fa_tcp_snd_discard(struct fa_tcp *c);
/* Gives the storage back if the side holds nothing: no bytes and no
 * scoreboard entry (send), no bytes and no out-of-order range (receive). */
void fa_tcp_snd_detach_idle(struct fa_tcp *c);
void fa_tcp_rcv_detach_idle(struct fa_tcp *c);
/* Both sides' storage back, whatever they hold (the connection ends). */
void fa_tcp_mem_release(struct fa_tcp *c);
void fa_tcp_mem_cache_free(struct fa_tcp_stack *t);

/* ---- tcp_buf.c: receive side ----------------------------------------- */
/* Places in-window data; returns bytes newly in order (rcv_nxt moved),
 * -1 when an out-of-order piece could not be held, or -ENOBUFS when the
 * receive ring could get no storage. */
long fa_tcp_rcv_data(struct fa_tcp *c, uint32_t seq, const uint8_t *data,
                     uint32_t len);
/* The peer's FIN is in order: nothing beyond it can be delivered, so the
 * ranges held past it go (as Linux's tcp_fin purges its queue). */
void fa_tcp_ooo_clear(struct fa_tcp *c);

#endif
