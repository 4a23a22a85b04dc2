/* finack/tcp.h — TCP sockets on a finack stack: a non-blocking,
 * BSD-socket-like API. Every call takes the current time (the core reads
 * no clock) and returns 0 or a count on success, a negative errno on
 * failure, exactly where a POSIX call would set that errno.
 *
 *   struct fa_tcp *c;
 *   fa_tcp_open(stack, &c);
 *   fa_tcp_connect(c, FA_IPV4(198, 18, 0, 1), 80, now);  // -EINPROGRESS
 *   ... when fa_tcp_events(c) & FA_TCP_EV_WRITABLE: fa_tcp_send(...)
 *   ... fa_tcp_recv(...) returns bytes, 0 at end of stream, or -EAGAIN
 *   fa_tcp_close(c, now);
 *
 * A handle stays valid until fa_tcp_close() or fa_tcp_abort() releases
 * it; the connection itself may live on in the stack (FIN-WAIT, TIME-WAIT)
 * as it does in a kernel. fa_stack_poll() drives every TCP timer. */
#ifndef FINACK_TCP_H
#define FINACK_TCP_H

#include <finack/stack.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only what these headers declare is exported from libfinack.so (the
 * library is built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

/* RFC 9293 §3.3.2. */
enum fa_tcp_state {
    FA_TCP_CLOSED,
    FA_TCP_LISTEN,
    FA_TCP_SYN_SENT,
    FA_TCP_SYN_RECEIVED,
    FA_TCP_ESTABLISHED,
    FA_TCP_FIN_WAIT_1,
    FA_TCP_FIN_WAIT_2,
    FA_TCP_CLOSE_WAIT,
    FA_TCP_CLOSING,
    FA_TCP_LAST_ACK,
    FA_TCP_TIME_WAIT,
};
/* "SYN-SENT", "TIME-WAIT", ... as the RFC spells them. */
const char *fa_tcp_state_name(enum fa_tcp_state state);

struct fa_tcp;

/* Readiness, as poll(2) would report it. */
enum {
    FA_TCP_EV_READABLE = 1,  /* recv() will not say -EAGAIN (data, EOF or error) */
    FA_TCP_EV_WRITABLE = 2,  /* send() has room */
    FA_TCP_EV_ACCEPT = 4,    /* listener: accept() has a connection */
    FA_TCP_EV_HUP = 8,       /* peer sent FIN: no more data will come */
    FA_TCP_EV_ERROR = 16,    /* fa_tcp_error() has a pending error */
    FA_TCP_EV_CLOSED = 32,   /* lingering close finished: all data acknowledged */
};

int fa_tcp_open(struct fa_stack *stack, struct fa_tcp **out);
/* addr 0 = our address; port 0 = an ephemeral port at connect. */
int fa_tcp_bind(struct fa_tcp *sock, uint32_t addr, uint16_t port);
/* backlog bounds half-open plus not-yet-accepted connections. */
int fa_tcp_listen(struct fa_tcp *sock, int backlog, fa_time now);
/* -EAGAIN when none is ready; the new handle is ESTABLISHED (or later). */
int fa_tcp_accept(struct fa_tcp *listener, struct fa_tcp **out);
/* Sends the SYN; returns -EINPROGRESS. The outcome: WRITABLE when
 * established, or ERROR with -ECONNREFUSED / -ETIMEDOUT. */
int fa_tcp_connect(struct fa_tcp *sock, uint32_t addr, uint16_t port,
                   fa_time now);
/* Bytes queued (may be fewer than len), -EAGAIN when the buffer is full,
 * -EPIPE after shutdown(WR) or once the peer reset, -ENOTCONN before
 * connecting. Never raises a signal. */
long fa_tcp_send(struct fa_tcp *sock, const void *data, size_t len,
                 fa_time now);
/* Bytes read, 0 at end of stream, -EAGAIN, or -ECONNRESET / -ETIMEDOUT
 * once (then 0). */
long fa_tcp_recv(struct fa_tcp *sock, void *buf, size_t len, fa_time now);
enum { FA_SHUT_RD = 0, FA_SHUT_WR = 1, FA_SHUT_RDWR = 2 };
/* SHUT_WR queues our FIN after the data. SHUT_RD drops what is queued;
 * data that arrives later is acknowledged and dropped (as BSD does —
 * the peer's writes neither stall nor reset) and recv returns 0. As
 * Linux: on a listener, SHUT_RD (or RDWR) stops it (its queued
 * connections are reset; accept says -EINVAL). 0, -EINVAL, or -ENOTCONN
 * (not connected; in SYN-SENT too, where Linux cancels the connect). */
int fa_tcp_shutdown(struct fa_tcp *sock, int how, fa_time now);
/* Releases the handle and closes the connection: FIN (or RST if received
 * data is unread, RFC 9293 §3.10.4; or with SO_LINGER 0). With SO_LINGER
 * t > 0 it returns -EINPROGRESS and keeps the handle until the close
 * completes (EV_CLOSED: our FIN acknowledged) or t runs out (RST,
 * EV_ERROR); call it again to release: it returns 0, -ETIMEDOUT if the
 * linger ran out, or the error that ended the connection first (a reset:
 * -ECONNRESET). (Linux's close() says 0 in every case.) */
int fa_tcp_close(struct fa_tcp *sock, fa_time now);
/* Sends RST and releases the handle. */
int fa_tcp_abort(struct fa_tcp *sock, fa_time now);

/* The longest keepalive idle time or interval, in ms (as Linux). */
#define FA_TCP_KEEP_MAX_MS (32767L * 1000)

enum fa_tcp_option {
    FA_SO_SNDBUF,     /* bytes; before connect/listen; 64..16 MiB */
    FA_SO_RCVBUF,     /* bytes; before connect/listen; decides window scale */
    FA_SO_LINGER,     /* -1 off (default), else milliseconds (0 = abort) */
    FA_SO_KEEPALIVE,  /* 0/1; turned on, the idle time counts from then
                       * (the stack's latest time) or the last segment
                       * received, whichever is later, as Linux's */
    FA_TCP_KEEPIDLE,  /* ms of idle before the first probe */
    FA_TCP_KEEPINTVL, /* ms between probes (each 1..FA_TCP_KEEP_MAX_MS,
                         Linux's 32,767 s, else EINVAL) */
    FA_TCP_KEEPCNT,   /* unanswered probes before abort */
    FA_TCP_NODELAY,   /* 0/1: disable Nagle (Minshall's form, as Linux's);
                         turned on, it sends what Nagle holds at the
                         next fa_stack_poll(), due at once */
    FA_TCP_MAXSEG,    /* our MSS, 88..(mtu - 40); before connect/listen */
    FA_TCP_CONGESTION, /* enum fa_tcp_cc; any time (state starts afresh) */
    FA_SO_REUSEADDR,  /* 0/1, before bind: a port whose connections are still
                         open or closing may be bound again (not one with a
                         listener), as Linux's SO_REUSEADDR */
    FA_TCP_QUICKACK,  /* 0/1 on a synchronized connection, as Linux's: 1
                         sends an ACK owed at the next fa_stack_poll(); 0
                         ends quick-ACK mode — every connection starts in
                         it, its first 2 to 15 ACKs sent at once, until it
                         replies — and ACKs are delayed (RFC 9293
                         §3.8.6.3). Reads 1 while the mode lasts;
                         -ENOTCONN before the handshake */
};
int fa_tcp_setopt(struct fa_tcp *sock, enum fa_tcp_option opt, long value);
int fa_tcp_getopt(const struct fa_tcp *sock, enum fa_tcp_option opt,
                  long *value);

unsigned fa_tcp_events(const struct fa_tcp *sock);
/* The pending error (as SO_ERROR): returns it and clears it; 0 if none. */
int fa_tcp_error(struct fa_tcp *sock);
enum fa_tcp_state fa_tcp_state(const struct fa_tcp *sock);

struct fa_tcp_info {
    enum fa_tcp_state state;
    fa_time state_since;
    uint32_t local_addr, remote_addr;
    uint16_t local_port, remote_port;
    uint32_t snd_una, snd_nxt, snd_wnd, rcv_nxt, rcv_wnd;
    uint8_t snd_wscale, rcv_wscale;
    uint16_t mss;
    uint32_t cwnd, ssthresh;
    fa_time srtt, rttvar, rto;
    uint32_t send_queued;  /* bytes not yet acknowledged */
    uint32_t recv_queued;  /* bytes not yet read */
    uint64_t retransmits;
    fa_time next_timer;    /* FA_TIME_NEVER if none armed */
    uint8_t sack, timestamps; /* agreed on with the peer */
    uint8_t congestion;    /* enum fa_tcp_cc */
    uint8_t recovery;      /* 0 open, 1 fast recovery, 2 after an RTO */
    uint32_t pipe;         /* bytes in flight (RFC 6675) */
    uint32_t sacked, lost; /* bytes SACKed, bytes marked lost */
    uint8_t loss_state;    /* holds loss-recovery state: only while
                              something is to send, in flight or being
                              recovered (an idle connection does not) */
    uint32_t owner;        /* fa_tcp_set_owner's mark (0: none) */
    uint8_t ack_owed;      /* an ACK is due and will go: now, at the
                              batch's end, or by the delayed-ACK timer */
    uint32_t lost_hidden;  /* bytes marked lost, not yet resent, where loss
                              recovery's next resend (RFC 6675 NextSeg)
                              does not look: always 0 (the simulator
                              checks it) */
    uint8_t rcv_ooo;       /* out-of-order ranges held beyond RCV.NXT (a FIN
                              that came ahead of missing data counts as one) */
    fa_time rexmit_at;     /* the retransmission timer's deadline (RFC 6298);
                              FA_TIME_NEVER: not running */
    fa_time probe_at;      /* the tail loss probe's (RFC 8985 §7.2);
                              FA_TIME_NEVER: not armed */
    uint8_t probe_out;     /* a tail loss probe is out, unanswered */
    uint8_t reorder_wait;  /* RACK's reordering timer runs (RFC 8985 §6.3) */
    uint32_t accept_queued, backlog; /* a listener: connections waiting
                              for accept (never more than the backlog:
                              the simulator checks it) and its backlog,
                              as ss shows them; 0 for others */
};
void fa_tcp_get_info(const struct fa_tcp *sock, struct fa_tcp_info *info);

/* An opaque pointer for the application. */
void fa_tcp_set_user(struct fa_tcp *sock, void *user);
void *fa_tcp_user(const struct fa_tcp *sock);
/* Marks which application owns a socket (default 0; a child takes its
 * listener's); when it goes away, fa_stack_close_owner() closes each of
 * its sockets as an OS closes a dead process's: FIN, or RST where
 * received data is unread, and returns how many were closed. The mark is
 * kept with the socket's options: 0, or -ENOMEM if a new set of them
 * found no memory (the mark is then unchanged). */
int fa_tcp_set_owner(struct fa_tcp *sock, uint32_t owner);
unsigned fa_stack_close_owner(struct fa_stack *stack, uint32_t owner,
                              fa_time now);

/* What TCP holds right now: sockets and connections in the pool,
 * compact TIME-WAIT entries, and bytes of send/receive buffers that hold
 * data (a buffer takes memory only while it holds bytes: an idle
 * connection counts none). */
struct fa_tcp_usage {
    uint32_t sockets, time_wait;
    uint64_t buffer_bytes;
    uint32_t loss_states;  /* connections holding loss-recovery state */
    uint32_t half_open;    /* connections in SYN-RECEIVED */
};
void fa_stack_tcp_usage(const struct fa_stack *stack, struct fa_tcp_usage *u);

/* Connections in the stack (live and TIME-WAIT), for tools like
 * finack-stat; visit() is called once each. */
void fa_stack_tcp_walk(const struct fa_stack *stack,
                       void (*visit)(void *ctx, const struct fa_tcp_info *),
                       void *ctx);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
