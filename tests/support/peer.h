/* peer.h — a hand-driven TCP peer for one finack stack: the test crafts
 * every segment the "remote" end sends and reads every segment finack
 * sends (captured), for checks down to the sequence number. Virtual time
 * is pe->now; the stack knows the peer's MAC from the start. */
#ifndef FA_TEST_PEER_H
#define FA_TEST_PEER_H

#include "frames.h"

struct peer {
    struct capture cap;
    struct fa_prng prng;
    struct fa_config cfg;
    struct fa_stack *s;
    fa_time now;
    uint16_t port;      /* the peer's port */
    uint16_t our_port;  /* finack's port */
    uint32_t snd_nxt;   /* the peer's next sequence number */
    uint32_t rcv_nxt;   /* what the peer has received from finack */
    size_t seen;        /* captured frames already looked at */
    fa_time arp_fresh_until;
};

/* cfg may be NULL (defaults); the peer is IP_PEER:port. */
void peer_init(struct peer *pe, const struct fa_config *cfg, uint16_t port);
void peer_destroy(struct peer *pe);
/* A teardown's work: destroys the stack if there is one (a case may have
 * used none), and zeroes pe for the next case. */
void peer_reset(struct peer *pe);
/* c's fa_tcp_info, by value, for assertions. */
struct fa_tcp_info peer_info(const struct fa_tcp *c);
/* Takes every frame the stack has sent and not yet looked at, unread. */
void peer_drain(struct peer *pe);
/* Injects a segment from the peer. */
void peer_send(struct peer *pe, uint8_t flags, uint32_t seq, uint32_t ack,
               uint16_t wnd, const void *data, size_t len);
/* The same with TCP options (olen a multiple of 4). */
void peer_send_opts(struct peer *pe, uint8_t flags, uint32_t seq, uint32_t ack,
                    uint16_t wnd, const uint8_t *opts, size_t olen,
                    const void *data, size_t len);
/* Injects a segment with the peer's current numbers and advances them. */
void peer_send_next(struct peer *pe, uint8_t flags, const void *data, size_t len);
/* The next segment finack sent that the test has not looked at, or
 * fails the test if there is none. */
struct fa_tcp_view peer_expect(struct peer *pe);
/* The next segment finack sent that the test has not looked at: 1 and
 * *v, or 0 when there is none (the capture then starts over, so a long
 * test can go on reading). */
int peer_next(struct peer *pe, struct fa_tcp_view *v);
/* 1 if finack sent nothing new. */
int peer_quiet(struct peer *pe);
/* Runs the stack's timers up to until. */
void peer_run_until(struct peer *pe, fa_time until);
/* finack connects to the peer (from our_port, or any if 0); returns the
 * socket in SYN-SENT and its SYN in *syn. */
struct fa_tcp *peer_connecting(struct peer *pe, uint16_t our_port, struct fa_tcp_view *syn);
/* The round trip of the helpers' handshakes: the peer answers a SYN or
 * SYN-ACK this long after it was sent, as a path would (an answer at
 * the same instant would time the handshake at 0: an RTO at its floor,
 * a tail loss probe at 10 ms and no reordering window). The SYN's
 * sample makes the RTO 210 ms (10 ms + the 200 ms floor), not the
 * untimed 1 s. */
#define PEER_RTT (10 * FA_NS_PER_MS)
/* finack connects to the peer; the peer completes the handshake,
 * PEER_RTT after the SYN. */
struct fa_tcp *peer_connected(struct peer *pe);
/* finack listens on our_port (backlog 4), where the peer's segments go. */
struct fa_tcp *peer_listening(struct peer *pe, uint16_t our_port);
/* The same with the backlog given. */
struct fa_tcp *peer_listening_backlog(struct peer *pe, uint16_t our_port, int backlog);
/* finack listens on our_port; the peer connects (its ACK PEER_RTT after
 * the SYN-ACK); returns the accepted socket (listener in *listener if
 * not NULL, else closed). */
struct fa_tcp *peer_accepted(struct peer *pe, uint16_t our_port,
                             struct fa_tcp **listener);

#endif
