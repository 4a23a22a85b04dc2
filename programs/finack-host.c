/* finack-host — runs one finack stack on a TAP device: it answers ARP and
 * ping (and, with --udp-echo, echoes UDP datagrams in upper case),
 * optionally records a pcap and injects faults, and prints its counters
 * when it stops (SIGINT/SIGTERM or --seconds). Built on the public API.
 *
 *   finack-host --tap fa0 --addr 198.18.0.2/24 [--pcap run.pcap]
 *               [--fault drop=5%,dup=2%] [--seed N] [--seconds S]
 *               [--udp-echo PORT] */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

struct echo {
    struct fa_udp *sock;
};

/* Each datagram goes back to its sender in upper case. */
static fa_time udp_echo_turn(void *ctx, fa_time now)
{
    struct echo *e = ctx;
    uint8_t buf[2048];
    uint32_t from;
    uint16_t port;
    long n;
    while ((n = fa_udp_recvfrom(e->sock, buf, sizeof buf, &from, &port, now)) >= 0) {
        for (long i = 0; i < n; i++)
            if (buf[i] >= 'a' && buf[i] <= 'z')
                buf[i] = (uint8_t)(buf[i] - 32);
        fa_udp_sendto(e->sock, buf, (size_t)n, from, port, now);
    }
    return FA_TIME_NEVER;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: finack-host --tap NAME --addr A.B.C.D/PREFIX [options]\n"
                 "Runs a finack stack on a TAP device (answers ARP and ping).\n\n"
                 HOST_OPTIONS_HELP
                 "  --udp-echo PORT   echo UDP datagrams on PORT in upper case\n"
                 "  --help            this text\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        HOST_LONGOPTS, { "udp-echo", required_argument, 0, 'u' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    struct host_options o;
    host_options_init(&o);
    long udp_port = 0;
    int c, idx;
    while ((c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (c == 'u') {
            char *end;
            udp_port = strtol(optarg, &end, 10);
            if (*end || udp_port < 1 || udp_port > 65535) {
                fprintf(stderr, "finack-host: bad --udp-echo '%s'\n", optarg);
                return 2;
            }
            continue;
        }
        if (c != 0 || host_option(&o, longopts[idx].name, optarg) <= 0) {
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "finack-host: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    struct host h;
    struct echo echo = { NULL };
    int status = 1;
    if (host_start(&h, &o, "finack-host") == 0) {
        int err = 0;
        if (udp_port && ((err = fa_udp_open(h.stack, &echo.sock)) < 0 ||
                         (err = fa_udp_bind(echo.sock, 0, (uint16_t)udp_port)) < 0))
            fprintf(stderr, "finack-host: UDP port %ld: %s\n", udp_port, strerror(-err));
        else
            status = host_exit_status(host_run(&h, &o, udp_port ? udp_echo_turn : NULL, &echo));
    }
    if (h.stack)
        host_print_counters(&h, stdout);
    host_close(&h);
    return status;
}
