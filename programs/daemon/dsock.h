/* dsock.h — finackd's sockets: one record per socket a program holds,
 * tying a finack TCP socket (dsock.c) or UDP socket (dsock_udp.c) to
 * finackd's end of the program's socketpair (see proto.h), and the pump
 * that moves bytes between the two; options are dsock_opt.c. finackd.c
 * answers the programs' requests with these calls; the run loop (TCP and
 * UDP readiness) and epoll (the socketpair ends) drive the pumps. */
#ifndef FA_DAEMON_DSOCK_H
#define FA_DAEMON_DSOCK_H

#include <finack/finack.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

struct dsock_table;

/* What an epoll entry of finackd points at: a socket or an attachment. */
enum dwatch_kind { DW_SOCK, DW_ATTACH, DW_GONE /* freed at dsock_reap() */ };

struct dsock {
    enum dwatch_kind kind; /* DW_SOCK; first, for the epoll dispatch */
    struct dsock *next_gone;
    struct dsock_table *table;
    uint32_t id;
    int a;                 /* finackd's end of the socketpair */
    enum fad_sock_state st;
    struct fa_tcp *tcp;    /* NULL once the connection is gone */
    struct fa_udp *udp;    /* a UDP socket instead (dsock_udp.c) */
    uint32_t peer_addr;    /* UDP: the connected peer (0: none) */
    uint16_t peer_port;
    pid_t pid;             /* the process that made it (for finack-stat) */
    ino_t b_ino;           /* the program's end: is it still open? */
    uint64_t b_cookie;     /* ... and the kernel's cookie for it (SO_COOKIE) */
    int err;               /* pending SO_ERROR */
    long filler;           /* connect filler still to discard */
    /* Options kept as the kernel reports them (dsock_opt.c). */
    int sndbuf, rcvbuf, linger_ms; /* linger_ms -1: off */
    uint8_t v6, reuseaddr, reuseport;
    uint8_t bound_any;     /* bound to 0.0.0.0 (or not bound): so named */
    uint8_t reported;      /* connect() has said how the connect ended */
    struct { int16_t level, name; int32_t val; } kept[8]; /* no effect here */
    unsigned nkept;
    uint32_t laddr;        /* our name, kept when the TCP socket goes */
    uint16_t lport;
    /* Listener: connections accepted from the stack, not yet by the
     * program (one byte each waits in the program's end). */
    struct fa_tcp **queue;
    unsigned qhead, qlen, backlog;
    /* Bytes read from one side the other has not taken yet. */
    uint8_t *tx, *rx;       /* program -> TCP, TCP -> program */
    uint32_t tx_off, tx_len, rx_off, rx_len;
    unsigned a_eof : 1;     /* the program's side will write no more */
    unsigned a_reset : 1;   /* ... because it closed with data unread */
    unsigned a_hup : 1;     /* every copy of the program's end is closed
                               (the kernel says so: not only shut down) */
    unsigned a_rd_gone : 1; /* the program's end takes no more (SHUT_RD) */
    unsigned tcp_eof : 1;   /* the peer's FIN was passed on */
    unsigned wr_shut : 1;   /* our FIN is queued */
    unsigned dead : 1;      /* the connection failed; our end is shut */
    unsigned ending : 1;    /* it failed; what came before is still read */
    unsigned err_on_read : 1; /* recv() at end of stream says err (no FIN
                                 came before the failure) */
    unsigned pending : 1;   /* UDP: more to send than one turn takes */
    struct dsock *next_pending;
};

/* The table: at most max sockets; epfd is where socketpair ends go. */
struct dsock_table *dsock_table_create(struct fa_stack *stack, struct fa_loop *loop,
                                       int epfd, uint64_t instance, unsigned max);
/* Closes every socket as for a dead process, and frees the table. */
void dsock_table_destroy(struct dsock_table *t, fa_time now);
unsigned dsock_count(const struct dsock_table *t);

/* A new socket; *fd is the program's end (the caller sends, then closes
 * it). 0 or -errno. */
int dsock_new(struct dsock_table *t, pid_t pid, int v6, struct dsock **out, int *fd);
/* Does descriptor fd (sent along with a request) hold s's end? Whoever
 * holds a descriptor may use it, as with the kernel's sockets. */
int dsock_held(const struct dsock *s, int fd);
struct dsock *dsock_find(struct dsock_table *t, uint32_t id);

/* The program read end of stream: the error recv() says instead (Linux
 * reports a reset once where no FIN came first), taken; 0: none. */
int dsock_recv_end(struct dsock *s);
int dsock_bind(struct dsock_table *t, struct dsock *s, uint32_t addr, uint16_t port);
int dsock_listen(struct dsock_table *t, struct dsock *s, int backlog, fa_time now);
/* -EINPROGRESS, or an error (the filler is then discarded). */
int dsock_connect(struct dsock_table *t, struct dsock *s, uint32_t addr, uint16_t port,
                  long filler, fa_time now);
/* The next waiting connection as a new socket; *fd as for dsock_new. */
int dsock_accept(struct dsock_table *t, struct dsock *l, pid_t pid, struct dsock **out,
                 int *fd, fa_time now);
/* shutdown() of a socket not connected: -ENOTCONN. Of a listener,
 * for reading: it stops listening (Linux's inet_shutdown): accept()
 * says EINVAL, new connections are refused. Else 0 (the kernel does the
 * rest on the descriptor). */
int dsock_shutdown(struct dsock_table *t, struct dsock *s, int how, fa_time now);
/* The program's blocking connect gave up waiting for the last filler
 * byte it meant to write: n fewer bytes to discard. */
void dsock_unfill(struct dsock *s, long n);
int dsock_name(struct dsock *s, int peer, uint32_t *addr, uint16_t *port);
/* dsock_opt.c: setsockopt/getsockopt as Linux answers them. */
int dsock_setopt(struct dsock *s, int level, int name, int64_t val);
int dsock_getopt(struct dsock *s, int level, int name, int64_t *val);
/* An AF_INET6 socket set IPV6_V6ONLY: it wants IPv6 alone, which finack
 * does not have yet: binding it to :: says EAFNOSUPPORT; v4-mapped
 * addresses get Linux's answers (bind EINVAL, connect ENETUNREACH). */
int dsock_v6only(const struct dsock *s);
void dsock_info(struct dsock *s, struct fad_info *info);
/* The name of a socket finackd has let go of lately (its program may
 * still hold the descriptor): 0, or -ENOTCONN if it is not remembered. */
int dsock_tomb(const struct dsock_table *t, uint32_t id, uint32_t *addr, uint16_t *port,
               int *v6);

/* For dsock_udp.c: a record and its socketpair (SOCK_SEQPACKET for UDP),
 * named for the library; forgetting it; the kernel's word on whether
 * the program's end is still open; the table's loop and scratch buffer
 * (64 KiB). */
int dsock_make(struct dsock_table *t, pid_t pid, int udp, int v6, struct dsock **out, int *fd);
void dsock_free(struct dsock_table *t, struct dsock *s);
int dsock_end_alive(struct dsock_table *t, const struct dsock *s);
struct fa_loop *dsock_loop(struct dsock_table *t);
struct fa_stack *dsock_stack(struct dsock_table *t);
uint8_t *dsock_scratch(struct dsock_table *t);
uint64_t dsock_instance(const struct dsock_table *t);
/* UDP sockets with datagrams left for the next turn (dsock_udp_turn). */
struct dsock **dsock_pending(struct dsock_table *t);

/* dsock_udp.c: UDP sockets. */
int dsock_udp_new(struct dsock_table *t, pid_t pid, int v6, struct dsock **out, int *fd);
int dsock_udp_bind(struct dsock *s, uint32_t addr, uint16_t port);
/* addr 0: disconnect (connect(AF_UNSPEC)). */
int dsock_udp_connect(struct dsock *s, uint32_t addr, uint16_t port);
int dsock_udp_name(struct dsock *s, int peer, uint32_t *addr, uint16_t *port);
void dsock_udp_pump(struct dsock_table *t, struct dsock *s, fa_time now);
/* Sends what the program wrote so far: before a request about the
 * socket is served, so the request sees them sent (as Linux would). */
void dsock_udp_flush(struct dsock_table *t, struct dsock *s, fa_time now);
void dsock_udp_release(struct dsock_table *t, struct dsock *s);
/* Every turn of the run loop: UDP sockets that had more to send than
 * one turn takes go on. Returns when it must run again (FA_TIME_NEVER). */
fa_time dsock_udp_turn(struct dsock_table *t, fa_time now);

/* epoll said something about s's end (EPOLLIN/OUT/RDHUP/HUP bits);
 * nothing for a socket already let go of (DW_GONE). */
void dsock_on_epoll(struct dsock_table *t, struct dsock *s, uint32_t events, fa_time now);
/* The program closed a descriptor of s: if it was the last, the close
 * happens now, before close() returns to the program (a port it
 * listened on is free at once, as on Linux). */
void dsock_closed(struct dsock_table *t, struct dsock *s, fa_time now);
/* Frees the records let go of since the last call: epoll may still hold
 * events for them in the batch being dispatched, so they live till then. */
void dsock_reap(struct dsock_table *t);

#endif
