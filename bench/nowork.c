/* nowork — a TCP that does no work per segment, on a TAP, as the floor
 * the benchmarks compare against (bench/tap_compare.sh): the least a
 * userspace TCP must do over this device. No buffers, no timers to speak
 * of, no options but MSS and window scaling, no congestion control; it
 * trusts the link (a TAP in a namespace) and resends from the last ACK
 * only after 200 ms without progress. Not a TCP to use.
 *
 *   nowork recv TAP ADDR PORT           accept one connection, ACK what
 *                                       comes (one ACK per read batch; one
 *                                       at once for data out of order),
 *                                       drop it; print Gbit/s at its FIN
 *   nowork send TAP ADDR PEER PORT N    connect, send N bytes within the
 *                                       peer's window, FIN, wait for its
 *   nowork udpecho TAP ADDR PORT [S]    send every UDP datagram back, for
 *                                       S seconds (600)
 *   nowork echo TAP ADDR PORT [S [SPIN_US]]
 *                                       connection cycles (ksock crr): a
 *                                       SYN-ACK for a SYN, the bytes back
 *                                       for data, a FIN for a FIN; each
 *                                       answer written as its frame is
 *                                       read; for S seconds (600); with
 *                                       SPIN_US, polls without sleeping
 *                                       that long before it sleeps
 *
 * It answers ARP for ADDR and learns the peer's MAC from what arrives. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <finack/tap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MSS_MAX 1460
#define WSCALE 7

static struct fa_tap *tap;
static uint8_t my_mac[6] = { 0x02, 0x6e, 0x6f, 0x77, 0x6b, 0x01 }, peer_mac[6];
static uint32_t my_ip, peer_ip;
static int have_peer_mac;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
    uint64_t a = acc;
    for (; n >= 2; p += 2, n -= 2)
        a += get16(p);
    if (n)
        a += (uint32_t)p[0] << 8;
    while (a >> 16)
        a = (a & 0xffff) + (a >> 16);
    return (uint32_t)a;
}

static void send_frame(uint8_t *f, size_t len)
{
    struct fa_device d = fa_tap_device(tap);
    d.transmit(d.ctx, f, len);
}

/* Ethernet + IPv4 header for a payload of n bytes of protocol proto. */
static void ip_head(uint8_t *f, uint8_t proto, size_t n)
{
    memcpy(f, peer_mac, 6);
    memcpy(f + 6, my_mac, 6);
    put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(20 + n));
    put16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, my_ip);
    put32(ip + 16, peer_ip);
    put16(ip + 10, (uint16_t)~sum16(ip, 20, 0));
}

static uint32_t pseudo(uint8_t proto, size_t n)
{
    uint8_t ph[12];
    put32(ph, my_ip);
    put32(ph + 4, peer_ip);
    ph[8] = 0;
    ph[9] = proto;
    put16(ph + 10, (uint16_t)n);
    return sum16(ph, 12, 0);
}

struct conn {
    uint16_t lport, rport;
    uint32_t snd_una, snd_nxt, rcv_nxt, wnd;
    uint8_t snd_wscale;
    uint16_t mss;
    int established, fin_in, fin_sent;
};

/* A segment after the handshake: ACK, flags, n bytes of data; the
 * window field says 65535 << WSCALE (8 MB): everything is welcome. */
static void tcp_out(struct conn *c, uint32_t seq, uint8_t flags, const uint8_t *data, size_t n)
{
    static uint8_t f[14 + 20 + 20 + MSS_MAX];
    ip_head(f, 6, 20 + n);
    uint8_t *t = f + 34;
    memset(t, 0, 20);
    put16(t, c->lport);
    put16(t + 2, c->rport);
    put32(t + 4, seq);
    put32(t + 8, c->rcv_nxt);
    t[12] = 5 << 4;
    t[13] = flags | 0x10;
    put16(t + 14, 65535);
    if (n)
        memcpy(t + 20, data, n);
    put16(t + 16, (uint16_t)~sum16(t, 20 + n, pseudo(6, 20 + n)));
    send_frame(f, 54 + n);
}

/* The SYN or SYN-ACK with MSS and window scale. */
static void tcp_syn(struct conn *c, uint32_t seq, int ack)
{
    static uint8_t f[14 + 20 + 28];
    ip_head(f, 6, 28);
    uint8_t *t = f + 34;
    memset(t, 0, 28);
    put16(t, c->lport);
    put16(t + 2, c->rport);
    put32(t + 4, seq);
    put32(t + 8, ack ? c->rcv_nxt : 0);
    t[12] = 7 << 4;
    t[13] = ack ? 0x12 : 0x02;
    put16(t + 14, 65535);
    t[20] = 2, t[21] = 4, put16(t + 22, MSS_MAX);
    t[24] = 1, t[25] = 3, t[26] = 3, t[27] = WSCALE;
    put16(t + 16, (uint16_t)~sum16(t, 28, pseudo(6, 28)));
    send_frame(f, 62);
}

static void arp_out(uint16_t op, const uint8_t *tha, uint32_t tpa)
{
    uint8_t f[42];
    memset(f, 0xff, 6);
    if (op == 2)
        memcpy(f, tha, 6);
    memcpy(f + 6, my_mac, 6);
    put16(f + 12, 0x0806);
    uint8_t *a = f + 14;
    put16(a, 1), put16(a + 2, 0x0800), a[4] = 6, a[5] = 4, put16(a + 6, op);
    memcpy(a + 8, my_mac, 6);
    put32(a + 14, my_ip);
    memcpy(a + 18, op == 2 ? tha : (const uint8_t *)"\0\0\0\0\0\0", 6);
    put32(a + 24, tpa);
    send_frame(f, sizeof f);
}

/* ARP in: answer a request for us, learn the peer. 1 if it was ARP. */
static int arp_in(const uint8_t *f, long n)
{
    if (n < 42 || get16(f + 12) != 0x0806)
        return 0;
    const uint8_t *a = f + 14;
    if (get32(a + 14) == peer_ip || !peer_ip) {
        memcpy(peer_mac, a + 8, 6);
        have_peer_mac = 1;
    }
    if (get16(a + 6) == 1 && get32(a + 24) == my_ip)
        arp_out(2, a + 8, get32(a + 14));
    return 1;
}

/* The TCP segment of an IPv4 frame to us, or NULL. */
static const uint8_t *tcp_of(const uint8_t *f, long n, uint8_t proto, size_t *len)
{
    if (n < 34 || get16(f + 12) != 0x0800 || f[23] != proto || get32(f + 30) != my_ip)
        return NULL;
    size_t ihl = (size_t)(f[14] & 15) * 4, tot = get16(f + 16);
    if (tot > (size_t)n - 14 || tot < ihl + 8)
        return NULL;
    if (!have_peer_mac || !peer_ip) {
        memcpy(peer_mac, f + 6, 6);
        have_peer_mac = 1;
        peer_ip = get32(f + 26);
    }
    *len = tot - ihl;
    return f + 14 + ihl;
}

/* The next frame from the TAP carrying a segment of protocol proto to our
 * port: its length (the frame is in f, the segment at *seg, len bytes),
 * or 0 when nothing waits. ARP is answered on the way, the rest skipped. */
static long next_segment(uint8_t *f, size_t cap, uint8_t proto, uint16_t port,
                         const uint8_t **seg, size_t *len)
{
    long n;
    while ((n = fa_tap_read(tap, f, cap)) > 0)
        if (!arp_in(f, n) && (*seg = tcp_of(f, n, proto, len)) && get16(*seg + 2) == port)
            return n;
    return 0;
}

static void wait_readable(int ms)
{
    struct pollfd p = { .fd = fa_tap_fd(tap), .events = POLLIN };
    poll(&p, 1, ms);
}

static int run_recv(uint16_t port)
{
    static uint8_t f[65536];
    struct conn c = { .lport = port };
    uint64_t bytes = 0;
    double t0 = 0;
    for (double end = now_s() + 120; now_s() < end;) {
        wait_readable(100);
        int got_data = 0;
        size_t len;
        const uint8_t *t;
        while (next_segment(f, sizeof f, 6, port, &t, &len) > 0) {
            uint8_t flags = t[13];
            size_t hl = (size_t)(t[12] >> 4) * 4;
            uint32_t seq = get32(t + 4);
            if (flags & 0x02) { /* SYN: answer, any number of times */
                c.rport = get16(t);
                c.rcv_nxt = seq + 1;
                c.snd_nxt = 1000;
                tcp_syn(&c, c.snd_nxt, 1);
                c.established = 1;
                t0 = now_s();
                continue;
            }
            size_t data = len - hl;
            if (seq == c.rcv_nxt && data) {
                c.rcv_nxt += (uint32_t)data;
                bytes += data;
            } else if (data) {
                /* Out of order (a frame lost, the TAP's queue full): a
                 * duplicate ACK at once (RFC 5681 §4.2), so the sender
                 * retransmits after three, not after its timeout. */
                tcp_out(&c, 1001, 0, NULL, 0);
            }
            if (seq + data == c.rcv_nxt && (flags & 0x01) && !c.fin_in) {
                c.rcv_nxt++;
                c.fin_in = 1;
            }
            got_data = 1;
        }
        if (got_data)
            tcp_out(&c, 1001, c.fin_in ? 0x01 : 0, NULL, 0); /* one ACK per batch */
        if (c.fin_in) {
            double dt = now_s() - t0;
            printf("received %llu bytes in %.3f s: %.2f Gbit/s\n", (unsigned long long)bytes, dt,
                   bytes * 8 / dt / 1e9);
            return 0;
        }
    }
    fprintf(stderr, "nowork: no end of stream in 120 s\n");
    return 1;
}

static int run_send(uint16_t port, uint64_t total)
{
    static uint8_t f[65536], data[MSS_MAX];
    memset(data, 'n', sizeof data);
    struct conn c = { .lport = 40000, .rport = port, .snd_una = 5000, .snd_nxt = 5001, .mss = 536 };
    for (int i = 0; i < 50 && !have_peer_mac; i++) {
        arp_out(1, NULL, peer_ip);
        wait_readable(100);
        long n;
        while ((n = fa_tap_read(tap, f, sizeof f)) > 0)
            arp_in(f, n);
    }
    double t0 = now_s(), last_progress = t0;
    tcp_syn(&c, 5000, 0);
    uint64_t sent = 0;
    uint32_t base = 5001;
    while (now_s() - t0 < 120) {
        size_t len;
        const uint8_t *t;
        while (next_segment(f, sizeof f, 6, c.lport, &t, &len) > 0) {
            uint8_t flags = t[13];
            if ((flags & 0x12) == 0x12 && !c.established) {
                c.rcv_nxt = get32(t + 4) + 1;
                c.snd_una = c.snd_nxt = 5001;
                for (size_t o = 20; o + 1 < (size_t)(t[12] >> 4) * 4;) {
                    uint8_t k = t[o];
                    if (k == 0) break;
                    if (k == 1) { o++; continue; }
                    if (k == 2) c.mss = get16(t + o + 2);
                    if (k == 3) c.snd_wscale = t[o + 2];
                    o += t[o + 1] ? t[o + 1] : 1;
                }
                c.established = 1;
                c.wnd = get16(t + 14);
                tcp_out(&c, c.snd_nxt, 0, NULL, 0);
                continue;
            }
            uint32_t ack = get32(t + 8);
            if ((int32_t)(ack - c.snd_una) > 0) {
                c.snd_una = ack;
                last_progress = now_s();
            }
            c.wnd = (uint32_t)get16(t + 14) << c.snd_wscale;
            if ((flags & 0x01) && c.fin_sent) {
                c.rcv_nxt = get32(t + 4) + 1;
                tcp_out(&c, c.snd_nxt, 0, NULL, 0);
                double dt = now_s() - t0;
                printf("sent %llu bytes in %.3f s: %.2f Gbit/s\n", (unsigned long long)total, dt,
                       total * 8 / dt / 1e9);
                return 0;
            }
        }
        if (!c.established) {
            wait_readable(100);
            continue;
        }
        if (now_s() - last_progress > 0.2) { /* go back to the last ACK */
            c.snd_nxt = c.snd_una;
            c.fin_sent = 0;
            last_progress = now_s();
        }
        sent = c.snd_nxt - base;
        while (sent < total && (int32_t)(c.snd_una + c.wnd - c.snd_nxt) >= (int32_t)c.mss) {
            size_t m = total - sent < c.mss ? (size_t)(total - sent) : c.mss;
            tcp_out(&c, c.snd_nxt, 0, data, m);
            c.snd_nxt += (uint32_t)m;
            sent += m;
        }
        if (sent == total && !c.fin_sent) {
            tcp_out(&c, c.snd_nxt, 0x01, NULL, 0);
            c.snd_nxt++;
            c.fin_sent = 1;
        }
        wait_readable(1);
    }
    fprintf(stderr, "nowork: not done in 120 s\n");
    return 1;
}

static int run_udpecho(uint16_t port, double seconds)
{
    static uint8_t f[65536], out[65536];
    for (double end = now_s() + seconds; now_s() < end;) {
        wait_readable(100);
        size_t len;
        const uint8_t *u;
        while (next_segment(f, sizeof f, 17, port, &u, &len) > 0) {
            peer_ip = get32(f + 26);
            memcpy(peer_mac, f + 6, 6);
            ip_head(out, 17, len);
            uint8_t *o = out + 34;
            memcpy(o, u, len);
            put16(o, get16(u + 2));
            put16(o + 2, get16(u));
            put16(o + 6, 0);
            put16(o + 6, (uint16_t)~sum16(o, len, pseudo(17, len)));
            send_frame(out, 34 + len);
        }
    }
    return 0;
}

/* The floor for connection cycles over this device: one connection a
 * peer port, nothing kept but its sequence numbers, no timers, no
 * windows, no retransmission; each answer is written as soon as its frame
 * is read (as lwIP's driver does), before the next read. Pure ACKs and
 * what is not in order need nothing. */
static int run_echo(uint16_t port, double seconds, double spin)
{
    static uint8_t f[65536];
    static struct conn conns[65536]; /* by the peer's port */
    struct pollfd p = { .fd = fa_tap_fd(tap), .events = POLLIN };
    for (double end = now_s() + seconds; now_s() < end;) {
        for (double spin_end = now_s() + spin; poll(&p, 1, 0) == 0 && now_s() < spin_end;)
            ;
        if (!(p.revents & POLLIN))
            wait_readable(100);
        size_t len;
        const uint8_t *t;
        while (next_segment(f, sizeof f, 6, port, &t, &len) > 0) {
            struct conn *c = &conns[get16(t)];
            uint8_t flags = t[13];
            size_t hl = (size_t)(t[12] >> 4) * 4;
            uint32_t seq = get32(t + 4);
            if (hl < 20 || hl > len)
                continue;
            if (flags & 0x04) { /* RST */
                c->established = 0;
                continue;
            }
            if (flags & 0x02) { /* SYN: a new connection (or its SYN again) */
                *c = (struct conn){ .lport = port, .rport = get16(t), .rcv_nxt = seq + 1,
                                    .snd_nxt = 1001, .established = 1 };
                tcp_syn(c, 1000, 1);
                continue;
            }
            if (!c->established || seq != c->rcv_nxt)
                continue;
            size_t data = len - hl;
            if (data > MSS_MAX)
                continue; /* more than the MSS we gave: not for echoing */
            c->rcv_nxt += (uint32_t)data + (flags & 0x01);
            if (data) {
                tcp_out(c, c->snd_nxt, 0, t + hl, data);
                c->snd_nxt += (uint32_t)data;
            }
            if (flags & 0x01) { /* the peer closed: so do we */
                tcp_out(c, c->snd_nxt, 0x01, NULL, 0);
                c->established = 0;
            }
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5 || (strcmp(argv[1], "recv") && strcmp(argv[1], "send") &&
                     strcmp(argv[1], "udpecho") && strcmp(argv[1], "echo")) ||
        (!strcmp(argv[1], "send") && argc < 7)) {
        fprintf(stderr, "usage: nowork recv|udpecho|echo TAP ADDR PORT | send TAP ADDR PEER PORT BYTES\n");
        return 2;
    }
    struct in_addr a;
    if (inet_pton(AF_INET, argv[3], &a) != 1 || fa_tap_open(argv[2], &tap) < 0) {
        fprintf(stderr, "nowork: bad address or cannot open %s\n", argv[2]);
        return 1;
    }
    my_ip = ntohl(a.s_addr);
    printf("nowork: up on %s\n", argv[2]);
    fflush(stdout);
    if (!strcmp(argv[1], "recv"))
        return run_recv((uint16_t)atoi(argv[4]));
    if (!strcmp(argv[1], "udpecho"))
        return run_udpecho((uint16_t)atoi(argv[4]), argc > 5 ? atof(argv[5]) : 600);
    if (!strcmp(argv[1], "echo"))
        return run_echo((uint16_t)atoi(argv[4]), argc > 5 ? atof(argv[5]) : 600,
                        argc > 6 ? atof(argv[6]) / 1e6 : 0);
    if (inet_pton(AF_INET, argv[4], &a) != 1)
        return 2;
    peer_ip = ntohl(a.s_addr);
    return run_send((uint16_t)atoi(argv[5]), strtoull(argv[6], NULL, 0));
}
