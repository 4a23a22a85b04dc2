/* tcp.h — TCP internals: the connection control block (RFC 9293 §3.3.1
 * names), the per-stack TCP state, and the calls between the parts:
 *
 *   tcp_in.c     segment arrival, in the RFC's §3.10.7 order
 *   tcp_out.c    building and sending segments, the output decision,
 *                Limited Transmit (RFC 3042)
 *   tcp_timer.c  the timer heap and each timer's expiry action
 *   tcp_table.c  connection pool, 4-tuple hash, listeners, ports, ISN
 *   tcp_tw.c     compact TIME-WAIT entries
 *   tcp_cc.c     RTT estimation (RFC 6298), NewReno (RFC 5681/6582) and
 *                Early Retransmit (RFC 5827)
 *   tcp_loss.c   lost retransmissions and the tail loss probe (RFC 8985)
 *   tcp_ratelimit.c  how often invalid segments and challenges are answered
 *   tcp_buf.c    out-of-order reassembly into the receive ring
 *   tcp_api.c    the socket API of finack/tcp.h
 */
#ifndef FA_TCP_INTERNAL_H
#define FA_TCP_INTERNAL_H

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
#define FA_TCP_OOO_MAX 8
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
    TF_RECOVERY = 1u << 11,  /* NewReno fast recovery */
    TF_WSCALE = 1u << 12,    /* window scaling agreed on (RFC 7323) */
    TF_BOUND = 1u << 13,     /* local port chosen */
    TF_QUEUED = 1u << 14,    /* in its listener's accept queue */
    TF_FIN_SEEN = 1u << 15,  /* peer's FIN seen, at fin_seq (maybe ahead) */
    TF_CLOSE_DONE = 1u << 16,/* lingering close finished */
    TF_ERROR_EOF = 1u << 17, /* the error was reported; recv gives 0 */
    TF_LISTENER = 1u << 18,  /* on the stack's listener list */
    TF_ACK_QUEUED = 1u << 19,/* on the batch's list of owed ACKs */
    TF_PROBED = 1u << 20,    /* a tail loss probe went since the last ACK */
    TF_ACK_AT_ONCE = 1u << 21, /* the owed ACK may not wait for a batch's
                                  end: a duplicate ACK (RFC 5681 §4.2) */
};

/* A segment's length in sequence space: data, SYN and FIN. */
static inline uint32_t fa_tcp_seg_len(const struct fa_tcp_view *seg)
{
    return seg->data_len + !!(seg->flags & FA_TCP_SYN) + !!(seg->flags & FA_TCP_FIN);
}

struct fa_tcp_range {
    uint32_t start, end; /* [start, end) in sequence space */
};

struct fa_tcp {
    struct fa_stack *stack;
    struct fa_tcp *hash_next;
    struct fa_tcp *parent;     /* listener, until accepted */
    struct fa_tcp *queue_next; /* accept queue, listener list, free list */
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    uint8_t state;
    uint8_t snd_wscale, rcv_wscale;
    uint8_t retries, keep_probes, dupacks, ooo_count, persist_shift, loss_shift;
    uint8_t persist_probes; /* zero-window probes since the peer last ACKed */
    uint32_t flags;
    int err; /* pending -errno */

    /* Send sequence variables (RFC 9293 §3.3.1). */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2;
    uint32_t max_snd_wnd;
    /* Receive sequence variables. rcv_adv: right edge last advertised. */
    uint32_t irs, rcv_nxt, rcv_adv, fin_seq;
    uint16_t mss;      /* effective send MSS */
    uint16_t user_mss; /* TCP_MAXSEG, 0 = from the MTU */

    struct fa_ring snd; /* bytes from snd_una on: unacked, then unsent */
    struct fa_ring rcv; /* unread bytes, then out-of-order ones */
    struct fa_tcp_range ooo[FA_TCP_OOO_MAX];

    /* RFC 6298 */
    fa_time srtt, rttvar, rto, rtt_start;
    uint32_t rtt_seq;
    /* RFC 5681 / 6582 */
    uint32_t cwnd, ssthresh, recover;
    fa_time rexmit_at; /* the last fast (or partial-ACK) retransmission */

    /* Timer deadlines (FA_TIME_NEVER = off); heap_key is their minimum. */
    fa_time t_rexmit, t_persist, t_delack, t_keep, t_close;
    /* RFC 8985: in recovery, when the retransmission counts as lost
     * (tcp_loss.c); otherwise the tail loss probe's timeout. */
    fa_time t_loss;
    fa_time heap_key;
    uint32_t heap_idx;
    fa_time state_since, last_rcv;

    uint32_t sndbuf, rcvbuf;
    int32_t linger_ms;
    fa_time keep_idle, keep_intvl;
    uint8_t keep_cnt;
    uint16_t backlog, pending; /* listener: limit, half-open + queued */
    struct fa_tcp *accept_head, *accept_tail;
    uint32_t owner;
    uint32_t invalid_stamp; /* tcp_ratelimit.c: last answer to an invalid segment */
    void *user;
    uint64_t retransmits;
};

/* A connection in TIME-WAIT after its handle is gone (RFC 9293 §3.6):
 * all that is needed to re-ACK a retransmitted FIN and refuse reuse. */
struct fa_tcp_tw {
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    uint32_t snd_nxt, rcv_nxt;
    fa_time expires;
    uint32_t hash_next, prev, next; /* indices; UINT32_MAX = none */
    uint32_t invalid_stamp;          /* tcp_ratelimit.c */
};

#define FA_TCP_BATCH_ACKS 64

struct fa_tcp_stack {
    struct fa_tcp *pool, *free;
    /* Inside fa_stack_batch_begin/end: connections owing an ACK. */
    int batching;
    uint32_t owed_count;
    struct fa_tcp *owed[FA_TCP_BATCH_ACKS];
    uint32_t live;
    uint64_t buffer_bytes; /* send and receive rings allocated */
    struct fa_tcp **hash;
    uint32_t hash_mask;
    struct fa_tcp *listeners;
    struct fa_tcp **heap;
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
};

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
    const struct fa_config *cfg = &c->stack->cfg;
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
void fa_tcp_hash_insert(struct fa_tcp *c);
void fa_tcp_hash_remove(struct fa_tcp *c);
struct fa_tcp *fa_tcp_lookup(struct fa_stack *s, uint32_t laddr, uint16_t lport,
                             uint32_t raddr, uint16_t rport);
struct fa_tcp *fa_tcp_find_listener(struct fa_stack *s, uint32_t laddr,
                                    uint16_t lport);
int fa_tcp_port_in_use(struct fa_stack *s, uint16_t lport);
/* RFC 6056 §3.3.3: a port for this remote end; 0 if none is free. */
uint16_t fa_tcp_ephemeral_port(struct fa_stack *s, uint32_t raddr,
                               uint16_t rport);
/* RFC 6528: ISN = 4 µs clock + SipHash(4-tuple, secret). */
uint32_t fa_tcp_isn(struct fa_stack *s, const struct fa_tcp *c, fa_time now);
/* The keyed hash of a 4-tuple, for the connection and TIME-WAIT tables. */
uint64_t fa_tcp_tuple_hash(const struct fa_stack *s, uint32_t laddr,
                           uint16_t lport, uint32_t raddr, uint16_t rport);
uint64_t fa_siphash(const uint64_t key[2], const uint8_t *data, size_t len);
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
fa_time fa_tcp_tw_poll(struct fa_stack *s, fa_time now);
void fa_tcp_tw_remove(struct fa_stack *s, struct fa_tcp_tw *tw);

/* ---- tcp_out.c ------------------------------------------------------- */
/* Sends whatever the state, windows and Nagle allow, and owed ACKs. */
void fa_tcp_output(struct fa_tcp *c, fa_time now);
void fa_tcp_send_ack(struct fa_tcp *c, fa_time now);
void fa_tcp_send_syn(struct fa_tcp *c, fa_time now);
/* RST from a connection (abort) at snd_nxt. */
void fa_tcp_send_rst(struct fa_tcp *c, fa_time now);
/* RST for a segment with no connection (RFC 9293 §3.10.7.1). */
void fa_tcp_reset_for(struct fa_stack *s, uint32_t laddr, uint32_t raddr,
                      const struct fa_tcp_view *seg, fa_time now);
/* A bare segment on a 4-tuple, for TIME-WAIT and probes. */
void fa_tcp_send_bare(struct fa_stack *s, uint32_t laddr, uint16_t lport,
                      uint32_t raddr, uint16_t rport, uint32_t seq,
                      uint32_t ack, uint8_t flags, uint16_t wnd, fa_time now);
/* The window field for a segment sent now (scaled, RFC 7323 §2.3), with
 * receiver silly-window avoidance (RFC 9293 §3.8.6.2.2); records the
 * right edge it advertises in rcv_adv. */
uint16_t fa_tcp_window_field(struct fa_tcp *c);
/* Free receive space from rcv_nxt on: what we may accept. */
static inline uint32_t fa_tcp_rcv_space(const struct fa_tcp *c)
{
    return c->rcv.size - c->rcv.len;
}
/* Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): the right edge moves
 * only by at least min(buffer / 2, MSS). */
static inline uint32_t fa_tcp_rcv_sws_step(const struct fa_tcp *c)
{
    return c->rcv.size / 2 < c->mss ? c->rcv.size / 2 : c->mss;
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
/* Retransmits from snd_una (RTO or fast retransmit). */
void fa_tcp_retransmit_first(struct fa_tcp *c, fa_time now);
/* The tail loss probe: one new segment beyond cwnd, else the last one. */
void fa_tcp_send_probe(struct fa_tcp *c, fa_time now);

/* Batches (tcp_out.c): owed ACKs go out at the batch's end. */
void fa_tcp_batch_end(struct fa_stack *s, fa_time now);
void fa_tcp_batch_forget(struct fa_tcp *c);

/* ---- tcp_in.c -------------------------------------------------------- */
void fa_tcp_input(struct fa_stack *s, const struct fa_rx_ctx *rx, fa_time now);

/* ---- tcp_timer.c ----------------------------------------------------- */
/* Re-files c in the heap after any of its t_* changed. */
void fa_tcp_timer_update(struct fa_tcp *c);
void fa_tcp_timer_remove(struct fa_tcp *c);
fa_time fa_tcp_poll(struct fa_stack *s, fa_time now);
void fa_tcp_arm_rexmit(struct fa_tcp *c, fa_time now);
void fa_tcp_arm_keepalive(struct fa_tcp *c, fa_time now);

/* ---- tcp_cc.c -------------------------------------------------------- */
void fa_tcp_rtt_sample(struct fa_tcp *c, fa_time rtt);
/* SND.UNA moved on: the RTO backoff ends. */
void fa_tcp_rto_progress(struct fa_tcp *c);
void fa_tcp_cc_init(struct fa_tcp *c);
/* An ACK advanced snd_una by acked bytes. */
void fa_tcp_cc_ack(struct fa_tcp *c, uint32_t acked, fa_time now);
/* A duplicate ACK (RFC 5681 §2 definition). */
void fa_tcp_cc_dupack(struct fa_tcp *c, fa_time now);

/* ---- tcp_loss.c: loss detection beyond RFC 5681 (RACK-TLP, RFC 8985) -- */
void fa_tcp_loss_retransmitted(struct fa_tcp *c, fa_time now);
void fa_tcp_loss_dupack_in_recovery(struct fa_tcp *c, fa_time now);
void fa_tcp_loss_arm_probe(struct fa_tcp *c, fa_time now);
void fa_tcp_loss_timeout(struct fa_tcp *c, fa_time now);
void fa_tcp_cc_timeout(struct fa_tcp *c);

/* ---- tcp_ratelimit.c ------------------------------------------------ */
/* 1 if an ACK answering an unacceptable segment may go now; *last is the
 * connection's (or TIME-WAIT entry's) stamp. */
int fa_tcp_invalid_allowed(struct fa_stack *s, uint32_t *last, fa_time now);
/* 1 if a challenge ACK may go now (per connection and stack-wide);
 * counts it, or counts why not. */
int fa_tcp_challenge_allowed(struct fa_stack *s, uint32_t *last, fa_time now);

/* ---- tcp_buf.c: receive side ----------------------------------------- */
/* Places in-window data; returns bytes newly in order (rcv_nxt moved),
 * or -1 when an out-of-order piece could not be held. */
long fa_tcp_rcv_data(struct fa_tcp *c, uint32_t seq, const uint8_t *data,
                     uint32_t len);

#endif
