/* lwip_tap — lwIP (Debian's liblwip-dev, 2.1.3, as Debian builds it: its
 * lwipopts.h, a tcpip thread and core locking) on a TAP, through the raw
 * TCP API, for the benchmarks' side-by-side (bench/tap_compare.sh). Our
 * own small driver: frames read here are fed to ethernet_input under the
 * core lock, frames out are written from linkoutput; no copy we could
 * avoid (sends are not copied: TCP_WRITE_FLAG 0 from a constant buffer).
 *
 *   lwip_tap recv TAP ADDR PORT            accept one, count to its FIN
 *   lwip_tap send TAP ADDR PEER PORT N     connect, send N bytes, close
 *   lwip_tap echo TAP ADDR PORT [S [SPIN_US]]  echo every connection, S s;
 *                                          before sleeping, look for frames
 *                                          SPIN_US more (finack's --busy-poll)
 *
 * Prints "up on TAP" when ready, and Gbit/s as ksock does. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

static int tap_fd = -1;
static struct netif nif;
static volatile int done;
static uint64_t bytes, total, queued;
static double t0;
static uint8_t out_data[65536];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int tap_open(const char *name)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
    if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETOFFLOAD, 0) < 0)
        return -1;
    return fd;
}

static err_t linkoutput(struct netif *n, struct pbuf *p)
{
    (void)n;
    static uint8_t frame[1600];
    if (p->tot_len > sizeof frame)
        return ERR_BUF;
    const void *b = p->next ? (pbuf_copy_partial(p, frame, p->tot_len, 0), frame) : p->payload;
    return write(tap_fd, b, p->tot_len) == p->tot_len ? ERR_OK : ERR_IF;
}

static err_t nif_init(struct netif *n)
{
    n->name[0] = 't';
    n->name[1] = 'p';
    n->mtu = 1500;
    n->hwaddr_len = 6;
    static const uint8_t mac[6] = { 0x02, 0x6c, 0x77, 0x69, 0x70, 0x01 };
    memcpy(n->hwaddr, mac, 6);
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    n->output = etharp_output;
    n->linkoutput = linkoutput;
    return ERR_OK;
}

/* Every frame waiting, into lwIP. */
static void pump_input(void)
{
    static uint8_t buf[2048];
    ssize_t n;
    for (int i = 0; i < 64 && (n = read(tap_fd, buf, sizeof buf)) > 0; i++) {
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
        if (!p)
            continue;
        memcpy(p->payload, buf, (size_t)n);
        LOCK_TCPIP_CORE();
        if (ethernet_input(p, &nif) != ERR_OK)
            pbuf_free(p);
        UNLOCK_TCPIP_CORE();
    }
}

static err_t on_recv_count(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (!p) {
        double dt = now_s() - t0;
        printf("received %llu bytes in %.3f s: %.2f Gbit/s\n", (unsigned long long)bytes, dt,
               bytes * 8 / dt / 1e9);
        tcp_close(pcb);
        done = 1;
        return ERR_OK;
    }
    bytes += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static err_t on_recv_echo(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    (void)err;
    if (!p) {
        tcp_close(pcb);
        return ERR_OK;
    }
    for (struct pbuf *q = p; q; q = q->next)
        tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY);
    tcp_output(pcb);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static int echo_mode;
static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    tcp_nagle_disable(pcb);
    tcp_recv(pcb, echo_mode ? on_recv_echo : on_recv_count);
    if (!echo_mode)
        t0 = now_s();
    return ERR_OK;
}

/* Queues as much as lwIP's send buffer takes; the FIN after the last. */
static void push(struct tcp_pcb *pcb)
{
    while (queued < total) {
        u16_t room = tcp_sndbuf(pcb);
        uint64_t n = total - queued < sizeof out_data ? total - queued : sizeof out_data;
        if (n > room)
            n = room;
        if (n == 0 || tcp_write(pcb, out_data, (u16_t)n, 0) != ERR_OK)
            break;
        queued += n;
    }
    tcp_output(pcb);
    if (queued == total && !done) {
        tcp_close(pcb);
        done = 2; /* the FIN is queued: wait for the peer's end */
    }
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)arg;
    bytes += len;
    push(pcb);
    return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK)
        return err;
    t0 = now_s();
    tcp_sent(pcb, on_sent);
    push(pcb);
    return ERR_OK;
}

int main(int argc, char **argv)
{
    int send = argc >= 7 && !strcmp(argv[1], "send");
    echo_mode = argc >= 5 && !strcmp(argv[1], "echo");
    if (!send && !echo_mode && !(argc >= 5 && !strcmp(argv[1], "recv"))) {
        fprintf(stderr, "usage: lwip_tap recv|echo TAP ADDR PORT [S] | send TAP ADDR PEER PORT N\n");
        return 2;
    }
    ip4_addr_t addr, mask, gw;
    ip_addr_t peer;
    if (!ip4addr_aton(argv[3], &addr) || (send && !ipaddr_aton(argv[4], &peer)) ||
        (tap_fd = tap_open(argv[2])) < 0) {
        fprintf(stderr, "lwip_tap: bad address or cannot open %s\n", argv[2]);
        return 1;
    }
    IP4_ADDR(&mask, 255, 255, 255, 0);
    ip4_addr_set_zero(&gw);
    memset(out_data, 'l', sizeof out_data);
    tcpip_init(NULL, NULL);
    LOCK_TCPIP_CORE();
    netif_add(&nif, &addr, &mask, &gw, NULL, nif_init, tcpip_input);
    netif_set_default(&nif);
    netif_set_up(&nif);
    struct tcp_pcb *pcb = tcp_new();
    uint16_t port = (uint16_t)atoi(argv[send ? 5 : 4]);
    if (send) {
        total = strtoull(argv[6], NULL, 0);
        tcp_nagle_disable(pcb);
        tcp_connect(pcb, &peer, port, on_connected);
    } else {
        tcp_bind(pcb, IP_ADDR_ANY, port);
        struct tcp_pcb *l = tcp_listen(pcb);
        tcp_accept(l, on_accept);
    }
    UNLOCK_TCPIP_CORE();
    printf("lwip_tap: up on %s\n", argv[2]);
    fflush(stdout);
    double limit = echo_mode && argc > 5 ? atof(argv[5]) : 120, start = now_s();
    double spin = echo_mode && argc > 6 ? atof(argv[6]) / 1e6 : 0;
    struct pollfd pf = { .fd = tap_fd, .events = POLLIN };
    while (now_s() - start < limit && done != 1) {
        double spin_end = now_s() + spin;
        while (poll(&pf, 1, 0) == 0 && now_s() < spin_end)
            ;
        if (!(pf.revents & POLLIN))
            poll(&pf, 1, 10);
        pump_input();
        if (send && done == 2 && bytes >= total) {
            double dt = now_s() - t0;
            printf("sent %llu bytes in %.3f s: %.2f Gbit/s\n", (unsigned long long)total, dt,
                   total * 8 / dt / 1e9);
            done = 1;
        }
    }
    fflush(stdout);
    _exit(done == 1 || echo_mode ? 0 : 1); /* the tcpip thread is not ours to join */
}
