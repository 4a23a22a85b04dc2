/* proto.h — what finackd and libfinack-preload.so say to each other.
 *
 * A program attaches to finackd over a SOCK_SEQPACKET Unix socket (the
 * control path; one attachment per process, opened at its first finack
 * socket). Every request is one struct fad_req, every answer one struct
 * fad_rep; SOCKET and ACCEPT answers carry a descriptor (SCM_RIGHTS). A
 * request about a socket carries the program's descriptor of it
 * (SCM_RIGHTS): whoever holds a descriptor may use it, as with the
 * kernel's sockets (a forked child that dropped root, a descriptor
 * passed to another process), and nobody else (EPERM) — ids are easy to
 * guess, and the control socket is open to every user.
 *
 * That descriptor is the program's socket: one end of a SOCK_STREAM
 * socketpair (SOCK_SEQPACKET for UDP) whose other end finackd holds and
 * pumps to and from the TCP connection (the UDP socket). So read, write, poll, epoll, dup, fork, exec and close are
 * the kernel's own calls on a real descriptor, and when the last copy
 * of it is closed — by close(), exit or SIGKILL — finackd sees the
 * socketpair hang up and closes the connection as the kernel closes a
 * dead process's socket. finackd binds its end to the abstract name
 * FAD_NAME_PREFIX "<instance>/<id>[u][6]" (u: UDP, 6: AF_INET6), so
 * getpeername() on any descriptor — or the name a receive returns —
 * tells the library whether it is a finack socket, which one, and of
 * which run of finackd, after exec too, with no table to inherit.
 *
 * UDP: a datagram of a connected socket travels bare both ways, so
 * read() and write() work on it; one of an unconnected socket carries a
 * struct fad_dgram first (its destination going out, its source coming
 * in), which the library's sendto/sendmsg add and recv/recvfrom/recvmsg
 * take off.
 *
 * The readiness conventions on the program's end:
 *   - a listener's descriptor holds one byte per connection waiting to be
 *     accepted: readable (poll, epoll) exactly when accept() will not
 *     block; accept() reads one byte, then asks for the connection;
 *   - while a connect is in progress, the library has filled its end's
 *     send buffer with `filler` bytes (until EAGAIN), so it is not
 *     writable; finackd discards them when the handshake ends, which
 *     makes the descriptor writable as a kernel socket becomes writable
 *     (then SO_ERROR, or connect() again, says how it ended). A blocking
 *     connect waits in a blocking send of one more filler byte: the
 *     kernel restarts it (SA_RESTART) and times it (SO_SNDTIMEO) as it
 *     does Linux's connect. */
#ifndef FA_DAEMON_PROTO_H
#define FA_DAEMON_PROTO_H

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#define FAD_DEFAULT_CONTROL "/run/finackd.sock"
#define FAD_NAME_PREFIX "finack/"
#define FAD_VERSION 1

enum fad_op {
    FAD_HELLO = 1,     /* -> rep.val = instance, rep.a = largest UDP payload;
                          rep.ret = the version */
    FAD_SOCKET,        /* a = FAD_SOCK_V6 | FAD_SOCK_UDP bits; -> fd, rep.id */
    FAD_BIND,          /* addr, port */
    FAD_LISTEN,        /* a = backlog */
    FAD_CONNECT,       /* addr, port, val = filler bytes written */
    FAD_ACCEPT,        /* -> fd, rep.id, rep.addr/port = peer */
    FAD_NAME,          /* a = 0 own name, 1 peer's -> rep.addr/port */
    FAD_SETOPT,        /* a = level, b = name, val */
    FAD_GETOPT,        /* a = level, b = name -> rep.val */
    FAD_INFO,          /* -> rep.info (TCP_INFO) */
    FAD_STATE,         /* -> rep.val = fad_sock_state, rep.a = pending error
                          (read, not cleared) */
    FAD_SHUTDOWN,      /* a = how: 0, -ENOTCONN; a listener stops listening */
    FAD_UNFILL,        /* val: connect filler bytes never written after all */
    FAD_CLOSE,         /* the program closed a descriptor of it: if that
                          was the last, finackd closes it before answering */
    FAD_RECV_END,      /* recv() read end of stream: -> rep.val = the error
                          it should say instead (a reset or a timeout with
                          no FIN before it), taken; 0: end of stream */
};

enum { FAD_SOCK_V6 = 1, FAD_SOCK_UDP = 2 };

/* Before each datagram of an unconnected UDP socket, both ways. */
struct fad_dgram {
    uint64_t magic;  /* fad_magic(instance): a bare datagram is not one */
    uint32_t addr;   /* destination going out, source coming in (host order) */
    uint16_t port;
    uint16_t pad;
};
static inline uint64_t fad_magic(uint64_t instance)
{
    return instance * 0x9e3779b97f4a7c15ull | 1;
}

/* What a finack socket is, as the library needs to know it. */
enum fad_sock_state {
    FAD_ST_FRESH,      /* neither connected nor listening */
    FAD_ST_CONNECTING,
    FAD_ST_CONNECTED,  /* handshake done (or later) */
    FAD_ST_FAILED,     /* connect failed: SO_ERROR has why */
    FAD_ST_LISTENING,
};

struct fad_req {
    uint32_t op, id;
    int32_t a, b;
    uint32_t addr; /* IPv4, host order */
    uint16_t port;
    uint16_t pad;
    int64_t val;
};

/* The fields of TCP_INFO finack knows. */
struct fad_info {
    uint8_t state; /* Linux numbering: 1 ESTABLISHED ... 10 LISTEN */
    uint8_t snd_wscale, rcv_wscale, options;
    uint32_t rto_us, rtt_us, rttvar_us, snd_mss, rcv_mss;
    uint32_t snd_cwnd, snd_ssthresh, unacked, lost, sacked, retrans_total;
    uint32_t rcv_space, notsent;
};

struct fad_rep {
    int32_t ret; /* 0 or more, or -errno */
    uint32_t id;
    int32_t a;
    uint32_t addr;
    uint16_t port;
    uint16_t pad;
    int64_t val;
    struct fad_info info;
};

/* One descriptor in a message (SCM_RIGHTS), both ways of the control
 * socket. fad_put_fd points m's control data at c, holding fd (nothing
 * if fd < 0); fad_get_fd reads it back from a received m (-1: none). */
union fad_fd_space {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
};

static inline void fad_put_fd(struct msghdr *m, union fad_fd_space *c, int fd)
{
    if (fd < 0)
        return;
    memset(c, 0, sizeof *c);
    m->msg_control = c->buf;
    m->msg_controllen = sizeof c->buf;
    struct cmsghdr *h = CMSG_FIRSTHDR(m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &fd, sizeof fd);
}

static inline int fad_get_fd(struct msghdr *m)
{
    int fd = -1;
    for (struct cmsghdr *h = CMSG_FIRSTHDR(m); h; h = CMSG_NXTHDR(m, h))
        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
            memcpy(&fd, CMSG_DATA(h), sizeof fd);
    return fd;
}

#endif
