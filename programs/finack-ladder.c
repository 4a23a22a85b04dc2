/* finack-ladder — draws TCP connections as the textbook ladder diagram
 * and tcptrace's time-sequence graph, in one self-contained HTML page
 * (inline SVG, no script, nothing fetched), from a capture (pcap or
 * pcapng: finack's --pcap, tcpdump's, Wireshark's) or from finack-sim's
 * --json lines. Segments that are not IPv4 TCP, malformed or cut short
 * are counted (and the last kept when their header is whole); a damaged
 * file ends the reading with a message, keeping what came before.
 *
 *   finack-ladder [-o PAGE.html] [--conn N] [--title T] [--max-arrows N]
 *                 [--max-points N] CAPTURE.pcap|RUN.json|-
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ladder/ladder.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: finack-ladder [-o PAGE.html] [--conn N] [--title T] [--max-arrows N]\n"
            "                     [--max-points N] CAPTURE.pcap|CAPTURE.pcapng|RUN.json|-\n"
            "Draws each TCP connection as a ladder diagram (segments between two\n"
            "lifelines, states beside them) and a time-sequence graph, in one HTML\n"
            "file. Input: a capture, or finack-sim's --json lines ('-': stdin).\n"
            "  -o FILE          the page (default: standard output)\n"
            "  --conn N         only connection N (default: all, with a list)\n"
            "  --max-arrows N   the ladder summarises plain data beyond N (600)\n"
            "  --max-points N   the graph merges data bars beyond N (4000)\n");
}

/* JSON lines start with '{'; anything else goes to libpcap. */
static int looks_json(const char *path)
{
    if (!strcmp(path, "-"))
        return 1;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    int c;
    while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t')
        ;
    fclose(f);
    return c == '{';
}

static int read_input(struct lad_capture *cap, const char *path, char *err, size_t n)
{
    if (!looks_json(path))
        return lad_read_pcap(cap, path, err, n);
    FILE *in = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!in) {
        snprintf(err, n, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = lad_read_json(cap, in, err, n);
    if (in != stdin)
        fclose(in);
    return rc;
}

static int parse_count(const char *s, long min, long *v)
{
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return !errno && end != s && !*end && *v >= min;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "conn", required_argument, 0, 'c' }, { "title", required_argument, 0, 't' },
        { "max-arrows", required_argument, 0, 'a' }, { "max-points", required_argument, 0, 'p' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
    };
    struct lad_html_opts o;
    lad_html_defaults(&o);
    const char *outpath = NULL;
    long v;
    int ch;
    while ((ch = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
        switch (ch) {
        case 'o': outpath = optarg; break;
        case 't': o.title = optarg; break;
        case 'c':
        case 'a':
        case 'p':
            if (!parse_count(optarg, ch == 'c' ? 0 : 10, &v)) {
                fprintf(stderr, "finack-ladder: bad number '%s'\n", optarg);
                return 2;
            }
            if (ch == 'c') o.conn = v;
            else if (ch == 'a') o.max_arrows = (size_t)v;
            else o.max_points = (size_t)v;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    const char *path = argv[optind];
    struct lad_capture cap;
    lad_init(&cap);
    char err[512] = "";
    int rc = read_input(&cap, path, err, sizeof err);
    if (rc < 0 || (err[0] && !cap.nconn)) {
        fprintf(stderr, "finack-ladder: %s\n", err[0] ? err : "cannot read the input");
        lad_free(&cap);
        return 1;
    }
    if (err[0])
        fprintf(stderr, "finack-ladder: warning: %s\n", err);
    lad_finish(&cap);
    if (o.conn >= 0 && (size_t)o.conn >= cap.nconn) {
        fprintf(stderr, "finack-ladder: no connection %ld (%zu in %s)\n", o.conn, cap.nconn, path);
        lad_free(&cap);
        return 1;
    }
    if (!strcmp(o.title, "TCP connections"))
        o.title = path;
    FILE *out = outpath ? fopen(outpath, "w") : stdout;
    if (!out) {
        fprintf(stderr, "finack-ladder: %s: %s\n", outpath, strerror(errno));
        lad_free(&cap);
        return 1;
    }
    rc = lad_write_html(&cap, out, &o);
    if (out != stdout && fclose(out) != 0)
        rc = -1;
    fprintf(stderr, "finack-ladder: %s: %zu connection%s from %llu records (%llu not IPv4 TCP, "
                    "%llu malformed, %llu cut short)%s%s\n",
            path, cap.nconn, cap.nconn == 1 ? "" : "s", (unsigned long long)cap.frames,
            (unsigned long long)cap.not_tcp, (unsigned long long)cap.malformed,
            (unsigned long long)cap.cut_short, outpath ? " -> " : "", outpath ? outpath : "");
    lad_free(&cap);
    if (rc < 0) {
        fprintf(stderr, "finack-ladder: cannot write the page\n");
        return 1;
    }
    return 0;
}
