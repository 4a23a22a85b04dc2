/* peer_opts.h — TCP options for the hand-driven peer (peer.h): the bytes
 * of timestamps, SACK blocks and a SYN's offers, a connection with SACK
 * and timestamps agreed, the peer's SACK ACKs and its ICMP errors. */
#ifndef FA_TEST_PEER_OPTS_H
#define FA_TEST_PEER_OPTS_H

#include "peer.h"

/* Each writes at o and returns the bytes written (a multiple of 4 but
 * for SACK blocks: NOP, NOP, kind, length, 8 bytes a block). */
size_t opt_ts(uint8_t *o, uint32_t val, uint32_t ecr);
size_t opt_sack(uint8_t *o, unsigned n, const uint32_t (*b)[2]);
/* SYN options: MSS 1460, SACK-permitted if sack, timestamps if ts. */
size_t opt_syn(uint8_t *o, int sack, int ts, uint32_t val, uint32_t ecr);
/* finack connects; the peer answers (PEER_RTT on) with SACK and
 * timestamps from its clock *ts; checks finack's ACK echoes it. */
struct fa_tcp *peer_connected_modern(struct peer *pe, uint32_t *ts);
/* The peer ACKs with window wnd, the next tick of *ts (echoing nothing)
 * and n SACK blocks. */
void peer_sack_wnd(struct peer *pe, uint32_t *ts, uint32_t ack, uint16_t wnd,
                   unsigned n, const uint32_t (*b)[2]);

/* finack sends n full segments; the peer takes the first `expect` of
 * them; returns the first one's sequence number and the MSS in *mss. */
uint32_t peer_take_segments(struct peer *pe, struct fa_tcp *c, unsigned n,
                            unsigned expect, uint32_t *mss);
/* finack listens on port; the peer's SYN carries `o` (n bytes) and the
 * SYN-ACK is returned; the listener in *l. */
struct fa_tcp_view peer_syn_to_listener(struct peer *pe, uint16_t port,
                                        const uint8_t *o, size_t n, struct fa_tcp **l);
/* HyStart++ driven by hand (tcp_hystart.c): one ACK of one segment with
 * RTT rtt; a round spans n ACKs — the ACK that reaches the round's end
 * starts the next one (the data sent meanwhile is n segments). c->loss
 * must be attached. */
void peer_hystart_ack(struct fa_tcp *c, fa_time rtt, uint32_t n);
/* An ICMP destination unreachable (code, next-hop mtu) from the peer,
 * quoting a segment finack sent from our_port with sequence number seq. */
void peer_icmp_unreach(struct peer *pe, uint8_t code, uint16_t mtu, uint32_t seq);
/* Any ICMP error (type, code) quoting our segment at seq. */
void peer_icmp_error(struct peer *pe, uint8_t type, uint8_t code, uint16_t mtu, uint32_t seq);

#endif
