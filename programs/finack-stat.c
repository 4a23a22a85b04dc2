/* finack-stat — the connection table of a running finack program (L23),
 * like `ss -tanp`: state, bytes queued to read and to send, local and
 * remote address, time in the current state, retransmissions, and for
 * finackd the process whose socket it is ("-": none, or orphaned). A
 * connection in CLOSE-WAIT for longer than the threshold is flagged: the
 * peer closed and the application has not called close().
 *
 *   finack-stat --socket PATH [--close-wait SECONDS]
 *
 * PATH is what the program was started with as --stat PATH. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: finack-stat --socket PATH [--close-wait SECONDS]\n"
                 "Lists the connections of a finack program started with --stat PATH.\n"
                 "  --socket PATH       the program's --stat socket\n"
                 "  --close-wait S      flag CLOSE-WAIT older than S seconds (default 60)\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "socket", required_argument, 0, 's' }, { "close-wait", required_argument, 0, 'c' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    const char *path = NULL;
    double threshold = 60;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 's': path = optarg; break;
        case 'c':
            threshold = strtod(optarg, &end);
            if (*end || threshold < 0) {
                fprintf(stderr, "finack-stat: bad --close-wait '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!path || optind < argc) {
        usage(stderr);
        return 2;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "finack-stat: socket path too long\n");
        return 2;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "finack-stat: cannot reach %s: %s (is the program running with "
                        "--stat %s?)\n", path, strerror(errno), path);
        return 1;
    }
    FILE *in = fdopen(fd, "r");
    printf("%-12s %6s %6s %-22s %-22s %9s %7s %7s\n", "State", "Recv-Q", "Send-Q",
           "Local Address:Port", "Peer Address:Port", "In state", "Retrans", "Process");
    char line[256], state[16], local[32], remote[32], age[32];
    unsigned sendq, recvq, owner;
    unsigned long long retrans;
    int flagged = 0;
    while (fgets(line, sizeof line, in)) {
        int n = sscanf(line, "%15s %31s %31s %u %u %31s %llu %u", state, local, remote, &sendq,
                       &recvq, age, &retrans, &owner);
        if (n < 7)
            continue;
        char pid[16] = "-";
        if (n == 8)
            snprintf(pid, sizeof pid, "%u", owner);
        char shown[32] = "-";
        double secs = -1;
        if (strcmp(age, "-")) {
            secs = atof(age);
            snprintf(shown, sizeof shown, "%.1fs", secs);
        }
        printf("%-12s %6u %6u %-22s %-22s %9s %7llu %7s", state, recvq, sendq, local, remote,
               shown, retrans, pid);
        if (!strcmp(state, "CLOSE-WAIT") && secs > threshold) {
            printf("  <- CLOSE-WAIT for %.1f s: the application has not called close()", secs);
            flagged++;
        }
        printf("\n");
    }
    fclose(in);
    if (flagged)
        printf("%d connection%s flagged\n", flagged, flagged > 1 ? "s" : "");
    return 0;
}
