/* dsock_opt.c — setsockopt/getsockopt on finackd's sockets, answered as
 * Linux answers them: the options finack has are passed to its TCP
 * (finack/tcp.h), SO_SNDBUF/SO_RCVBUF are doubled and floored as Linux
 * reports them, options Linux takes that have no effect here are kept
 * and read back (the README lists them), and anything else is
 * ENOPROTOOPT. SO_RCVTIMEO/SO_SNDTIMEO never come here: they live on
 * the program's own descriptor (preload.c). */
#include "dsock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* Linux's SO_SNDBUF/SO_RCVBUF: the value is doubled (for the kernel's
 * bookkeeping) with a floor; getsockopt reports the doubled value. */
static int kernel_buf(int64_t v, int rcv)
{
    int64_t floor = rcv ? 2304 : 4608; /* SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF */
    if (v > 8 * 1024 * 1024)
        v = 8 * 1024 * 1024;
    v = v * 2;
    return (int)(v < floor ? floor : v);
}

/* Options Linux takes for a TCP socket that finack does not act on:
 * their value is kept and read back. The default is what Linux reads
 * before any set. */
static const struct {
    int level, name, dflt;
} kept_opts[] = {
    { SOL_SOCKET, SO_DEBUG, 0 },        { SOL_SOCKET, SO_DONTROUTE, 0 },
    { SOL_SOCKET, SO_BROADCAST, 0 },    { SOL_SOCKET, SO_OOBINLINE, 0 },
    { SOL_SOCKET, SO_PRIORITY, 0 },     { SOL_SOCKET, SO_MARK, 0 },
    { SOL_SOCKET, SO_BUSY_POLL, 0 },    { SOL_SOCKET, SO_ZEROCOPY, 0 },
    { SOL_SOCKET, SO_INCOMING_CPU, -1 }, { IPPROTO_IP, IP_TOS, 0 },
    { IPPROTO_IP, IP_TTL, 64 },         { IPPROTO_IP, IP_RECVERR, 0 },
    { IPPROTO_IP, IP_MTU_DISCOVER, 1 }, { IPPROTO_IP, IP_FREEBIND, 0 },
    { IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 0 },
    { IPPROTO_TCP, TCP_CORK, 0 },       { IPPROTO_TCP, TCP_DEFER_ACCEPT, 0 },
    { IPPROTO_TCP, TCP_QUICKACK, 1 },   { IPPROTO_TCP, TCP_FASTOPEN, 0 },
    { IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 0 }, { IPPROTO_TCP, TCP_NOTSENT_LOWAT, 0 },
    { IPPROTO_TCP, TCP_USER_TIMEOUT, 0 }, { IPPROTO_TCP, TCP_LINGER2, 60 },
    { IPPROTO_TCP, TCP_WINDOW_CLAMP, 0 }, { IPPROTO_TCP, TCP_SYNCNT, 6 },
    { IPPROTO_IPV6, IPV6_V6ONLY, 0 },   { IPPROTO_IPV6, IPV6_TCLASS, 0 },
};

/* The index in kept_opts, or -1; IPv6 options only on AF_INET6 sockets,
 * IPv4 ones only on AF_INET sockets (as Linux: ENOPROTOOPT otherwise). */
static int kept_index(const struct dsock *s, int level, int name)
{
    if ((level == IPPROTO_IPV6 && !s->v6) || (level == IPPROTO_IP && s->v6))
        return -1;
    for (unsigned i = 0; i < sizeof kept_opts / sizeof *kept_opts; i++)
        if (kept_opts[i].level == level && kept_opts[i].name == name)
            return (int)i;
    return -1;
}

static int keep(struct dsock *s, int level, int name, int64_t val)
{
    unsigned i = 0;
    while (i < s->nkept && !(s->kept[i].level == level && s->kept[i].name == name))
        i++;
    if (i == s->nkept) {
        if (s->nkept == sizeof s->kept / sizeof *s->kept)
            return -ENOBUFS;
        s->nkept++;
    }
    s->kept[i].level = (int16_t)level;
    s->kept[i].name = (int16_t)name;
    s->kept[i].val = (int32_t)val;
    return 0;
}

static int64_t kept_value(const struct dsock *s, int level, int name, int dflt)
{
    for (unsigned i = 0; i < s->nkept; i++)
        if (s->kept[i].level == level && s->kept[i].name == name)
            return s->kept[i].val;
    return dflt;
}

static int set_buffer(struct dsock *s, int rcv, int64_t val)
{
    int v = kernel_buf(val, rcv);
    *(rcv ? &s->rcvbuf : &s->sndbuf) = v;
    if (s->tcp) /* before connect/listen it sizes TCP's buffers */
        fa_tcp_setopt(s->tcp, rcv ? FA_SO_RCVBUF : FA_SO_SNDBUF, v);
    /* What may wait in the program's end (not a listener's: its end
     * carries one byte per connection, proto.h). */
    if (rcv && s->st != FAD_ST_LISTENING)
        setsockopt(s->a, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    return 0;
}

static int set_tcp(struct dsock *s, int name, int64_t val)
{
    struct fa_tcp *c = s->tcp;
    switch (name) {
    case TCP_NODELAY:
        return c ? fa_tcp_setopt(c, FA_TCP_NODELAY, val != 0) : 0;
    case TCP_MAXSEG:
        if (val < 88 || val > 32767)
            return -EINVAL;
        if (c) /* above our MTU, or too late: Linux takes it and clamps */
            fa_tcp_setopt(c, FA_TCP_MAXSEG, val);
        return 0;
    case TCP_KEEPIDLE:
    case TCP_KEEPINTVL:
        if (val < 1 || val > 32767)
            return -EINVAL;
        return c ? fa_tcp_setopt(c, name == TCP_KEEPIDLE ? FA_TCP_KEEPIDLE : FA_TCP_KEEPINTVL,
                                 val * 1000)
                 : 0;
    case TCP_KEEPCNT:
        if (val < 1 || val > 127)
            return -EINVAL;
        return c ? fa_tcp_setopt(c, FA_TCP_KEEPCNT, val) : 0;
    case TCP_CONGESTION:
        return c ? fa_tcp_setopt(c, FA_TCP_CONGESTION, val) : 0;
    case TCP_USER_TIMEOUT:
        if (val < 0)
            return -EINVAL;
        break;
    case TCP_QUICKACK: /* acted on, and kept: read back as set (Linux
                          reads 1 but in its interactive mode) */
        if (c) /* (-ENOTCONN before the handshake: Linux takes it) */
            fa_tcp_setopt(c, FA_TCP_QUICKACK, val != 0);
        break;
    }
    return kept_index(s, IPPROTO_TCP, name) >= 0 ? keep(s, IPPROTO_TCP, name, val)
                                                  : -ENOPROTOOPT;
}

int dsock_setopt(struct dsock *s, int level, int name, int64_t val)
{
    if (level == IPPROTO_TCP)
        return set_tcp(s, name, val);
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_SNDBUF:
        case SO_RCVBUF:
            return set_buffer(s, name == SO_RCVBUF, val);
        case SO_LINGER:
            if (val < -1 || val > 3600 * 1000)
                val = 3600 * 1000;
            s->linger_ms = (int)val;
            if (s->tcp)
                fa_tcp_setopt(s->tcp, FA_SO_LINGER, val);
            return 0;
        case SO_KEEPALIVE:
            return s->tcp ? fa_tcp_setopt(s->tcp, FA_SO_KEEPALIVE, val != 0) : 0;
        case SO_REUSEADDR:
            s->reuseaddr = val != 0;
            if (s->udp)
                fa_udp_reuseaddr(s->udp, val != 0);
            else if (s->tcp)
                fa_tcp_setopt(s->tcp, FA_SO_REUSEADDR, val != 0);
            return 0;
        case SO_REUSEPORT:
            s->reuseport = val != 0;
            return 0;
        }
    }
    return kept_index(s, level, name) >= 0 ? keep(s, level, name, val) : -ENOPROTOOPT;
}

static int get_tcp(struct dsock *s, int name, int64_t *val)
{
    enum fa_tcp_option o;
    long v = 0, scale = 1;
    switch (name) {
    case TCP_NODELAY: o = FA_TCP_NODELAY; break;
    case TCP_KEEPCNT: o = FA_TCP_KEEPCNT; break;
    case TCP_KEEPIDLE: o = FA_TCP_KEEPIDLE; scale = 1000; break;
    case TCP_KEEPINTVL: o = FA_TCP_KEEPINTVL; scale = 1000; break;
    case TCP_CONGESTION: o = FA_TCP_CONGESTION; break;
    case TCP_MAXSEG:
        if (s->tcp)
            fa_tcp_getopt(s->tcp, FA_TCP_MAXSEG, &v);
        *val = v ? v : 536; /* TCP_MSS_DEFAULT before it is known */
        return 0;
    default: {
        int i = kept_index(s, IPPROTO_TCP, name);
        if (i < 0)
            return -ENOPROTOOPT;
        *val = kept_value(s, IPPROTO_TCP, name, kept_opts[i].dflt);
        return 0;
    }
    }
    if (s->tcp)
        fa_tcp_getopt(s->tcp, o, &v);
    *val = v / scale;
    return 0;
}

int dsock_getopt(struct dsock *s, int level, int name, int64_t *val)
{
    long v = 0;
    if (level == IPPROTO_TCP)
        return get_tcp(s, name, val);
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_ERROR:
            *val = s->err;
            s->err = 0;
            return 0;
        case SO_TYPE: *val = s->udp ? SOCK_DGRAM : SOCK_STREAM; return 0;
        case SO_PROTOCOL: *val = s->udp ? IPPROTO_UDP : IPPROTO_TCP; return 0;
        case SO_DOMAIN: *val = s->v6 ? AF_INET6 : AF_INET; return 0;
        case SO_ACCEPTCONN: *val = s->st == FAD_ST_LISTENING; return 0;
        case SO_SNDBUF: *val = s->sndbuf; return 0;
        case SO_RCVBUF: *val = s->rcvbuf; return 0;
        case SO_LINGER: *val = s->linger_ms; return 0;
        case SO_REUSEADDR: *val = s->reuseaddr; return 0;
        case SO_REUSEPORT: *val = s->reuseport; return 0;
        case SO_KEEPALIVE:
            if (s->tcp)
                fa_tcp_getopt(s->tcp, FA_SO_KEEPALIVE, &v);
            *val = v;
            return 0;
        }
    }
    int i = kept_index(s, level, name);
    if (i < 0)
        return -ENOPROTOOPT;
    *val = kept_value(s, level, name, kept_opts[i].dflt);
    return 0;
}

int dsock_v6only(const struct dsock *s)
{
    return s->v6 && kept_value(s, IPPROTO_IPV6, IPV6_V6ONLY, 0);
}
