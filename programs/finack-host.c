/* finack-host — runs one finack stack on a TAP device: it answers ARP and
 * ping, optionally records a pcap and injects faults, and prints its
 * counters when it stops (SIGINT/SIGTERM or --seconds). Built on the
 * public API only.
 *
 *   finack-host --tap fa0 --addr 198.18.0.2/24 [--pcap run.pcap]
 *               [--fault drop=5%,dup=2%] [--seed N] [--seconds S] */
#include <getopt.h>
#include <stdlib.h>

#include "host.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: finack-host --tap NAME --addr A.B.C.D/PREFIX [options]\n"
                 "Runs a finack stack on a TAP device (answers ARP and ping).\n\n"
                 HOST_OPTIONS_HELP
                 "  --help            this text\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        HOST_LONGOPTS, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    struct host_options o;
    host_options_init(&o);
    int c, idx;
    while ((c = getopt_long(argc, argv, "", longopts, &idx)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
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
    int status = 1;
    if (host_start(&h, &o, "finack-host") == 0 && host_run(&h, &o, NULL, NULL) == 0)
        status = 0;
    if (h.stack)
        host_print_counters(&h, stdout);
    host_close(&h);
    return status;
}
