/* finack/udp.h — UDP sockets on a finack stack (RFC 768), non-blocking,
 * in the BSD style: datagrams keep their boundaries, nothing is
 * retransmitted, a datagram to a port with no socket is answered with
 * ICMP port unreachable, and a connected socket that gets such an answer
 * reports ECONNREFUSED (as Linux does).
 *
 *   struct fa_udp *u;
 *   fa_udp_open(stack, &u);
 *   fa_udp_bind(u, 0, 7);
 *   long n = fa_udp_recvfrom(u, buf, sizeof buf, &from, &port, now);
 *   fa_udp_sendto(u, buf, n, from, port, now);
 *
 * Each socket's receive queue is bounded (config.udp_rcvbuf bytes); a
 * datagram that does not fit is dropped and counted (UDP_QUEUE_FULL). */
#ifndef FINACK_UDP_H
#define FINACK_UDP_H

#include <finack/stack.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only what these headers declare is exported from libfinack.so (the
 * library is built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

struct fa_udp;

/* -EMFILE when config.udp_max_sockets are open, -ENOMEM. */
int fa_udp_open(struct fa_stack *stack, struct fa_udp **out);
/* addr 0 or ours; port 0 = an ephemeral one. -EADDRINUSE, -EINVAL. */
int fa_udp_bind(struct fa_udp *sock, uint32_t addr, uint16_t port);
/* SO_REUSEADDR: sockets that all set it may bind one port (a server
 * that connects one socket to each client and keeps another bound, as
 * iperf3 does); a datagram goes to the socket connected to its sender,
 * else to one that is not connected. Before bind. */
int fa_udp_reuseaddr(struct fa_udp *sock, int on);
/* Sets the default peer: sends go there, only its datagrams are
 * received, and ICMP errors about it are reported. addr 0 disconnects. */
int fa_udp_connect(struct fa_udp *sock, uint32_t addr, uint16_t port);
/* addr 0: to the connected peer (-EDESTADDRREQ if none). Returns len,
 * -EMSGSIZE beyond the MTU, -ECONNREFUSED once after a port unreachable
 * on a connected socket, -ENETUNREACH without a route. */
long fa_udp_sendto(struct fa_udp *sock, const void *data, size_t len,
                   uint32_t addr, uint16_t port, fa_time now);
/* One datagram: its length (the rest is discarded if buf is shorter),
 * -EAGAIN when none waits, -ECONNREFUSED once after a port unreachable on
 * a connected socket. from/port may be NULL. */
long fa_udp_recvfrom(struct fa_udp *sock, void *buf, size_t len,
                     uint32_t *from, uint16_t *port, fa_time now);
/* FA_TCP_EV_READABLE | FA_TCP_EV_WRITABLE | FA_TCP_EV_ERROR, the same
 * bits as TCP's. */
unsigned fa_udp_events(const struct fa_udp *sock);
int fa_udp_close(struct fa_udp *sock);
uint16_t fa_udp_local_port(const struct fa_udp *sock);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
