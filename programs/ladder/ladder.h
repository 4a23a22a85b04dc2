/* ladder.h — finack-ladder's model of TCP connections as the textbook
 * pictures show them: per connection its two ends (A opened it), each
 * segment with when it was sent and, where known, when it arrived, and
 * each end's state changes. Filled from a capture (read_pcap.c), from
 * finack-sim's JSON lines (read_json.c) or by a simulation in the same
 * process (finack-sim --html, sim_record.c); model.c finds connections
 * (a hash on the 4-tuple, incarnations linked), marks retransmissions
 * and infers states a capture cannot show; html.c draws the page.
 *
 *   struct lad_capture cap; lad_init(&cap);
 *   lad_read_pcap(&cap, "x.pcap", err, sizeof err);  (or lad_add_segment...)
 *   lad_finish(&cap);
 *   lad_write_html(&cap, out, &opts);
 *   lad_free(&cap);
 */
#ifndef FA_LADDER_H
#define FA_LADDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <finack/sim.h>

/* One segment: header fields as on the wire (absolute numbers). */
struct lad_seg {
    double t_ms;      /* sent (simulation) or captured */
    double arrive_ms; /* arrived; < 0: unknown (a capture) or lost */
    uint8_t from;     /* 0: A, 1: B */
    uint8_t lost;     /* the simulation lost it */
    uint8_t retrans;  /* model.c: sequence space sent before */
    uint8_t cut;      /* the capture cut it short (snaplen) */
    struct fa_sim_segment g;
};

struct lad_state {
    double t_ms;
    long seg;         /* the segment that moved it, if known; -1 */
    uint8_t side;     /* 0: A, 1: B */
    uint8_t inferred; /* from the segments, not from a stack's trace */
    char name[16];
};

struct lad_note {
    double t_ms;
    char text[160];
};

struct lad_conn {
    uint32_t addr[2];
    uint16_t port[2];
    long older;            /* the previous incarnation on this 4-tuple: -1 none */
    size_t arrive_from;    /* read_json.c: the first segment not yet arrived */
    uint32_t isn[2];       /* relative numbers count from these: the ISN, or
                              a guess where the SYN went unseen */
    uint8_t have_isn[2];
    uint8_t synack_seen[2]; /* and what it acknowledged: a SYN that does */
    uint32_t synack_ack[2]; /* not fit it is another incarnation's */
    uint8_t fin_seen[2];
    uint8_t sent_any[2];   /* snd_max: the end of what each side sent */
    uint32_t snd_max[2];
    uint8_t closed;        /* a FIN each way, or an RST, was seen */
    uint8_t traced;        /* states came from a stack (simulation) */
    double msl_ms;         /* for TIME-WAIT's bracket; 0: unknown */
    struct lad_seg *seg;
    size_t nseg, segcap;
    struct lad_state *st;
    size_t nst, stcap;
};

/* The end of a traced state change: addr:port addr:port of a connection to
 * raddr:rport (rport 0: unknown, the newest on the end); snd_una
 * tells incarnations of one 4-tuple apart (have_una 0: unknown). */
struct lad_end {
    uint32_t addr, raddr;
    uint16_t port, rport;
    uint32_t snd_una;
    int have_una;
};

struct lad_capture {
    struct lad_conn *conn;
    size_t nconn, conncap;
    struct lad_note *note;
    size_t nnote, notecap;
    /* 4-tuple -> 1 + the newest connection's index (0: empty slot). */
    uint32_t *hash;
    size_t hashcap;
    double msl_ms;         /* 2 MSL's half, when the source knows it */
    /* What a capture held that is not drawn, counted. */
    uint64_t frames, not_tcp, malformed, cut_short;
    int timing_known;      /* arrivals known (simulation) */
    /* States traced before their connection's first segment (SYN-SENT
     * is traced as the SYN is built), until it comes. */
    struct { struct lad_end e; double t_ms; char name[16]; } early[16];
    int nearly;
};

void lad_init(struct lad_capture *cap);
void lad_free(struct lad_capture *cap);
/* Adds a segment sent at t_ms (arrive_ms < 0 if unknown): to its
 * connection by 4-tuple, a new one when a SYN opens a new incarnation.
 * Returns the connection's index, or -1 when out of memory. */
int lad_add_segment(struct lad_capture *cap, const struct fa_sim_segment *g, double t_ms,
                    double arrive_ms, int lost, int cut);
int lad_add_state(struct lad_capture *cap, const struct lad_end *e, double t_ms,
                  const char *name);
/* The newest connection on g's 4-tuple and which end sent g, or NULL. */
struct lad_conn *lad_find(struct lad_capture *cap, const struct fa_sim_segment *g, int *from);
int lad_add_note(struct lad_capture *cap, double t_ms, const char *text);
/* Marks retransmissions; infers states for connections that have none
 * traced (marked inferred). */
void lad_finish(struct lad_capture *cap);

/* "SYN,ACK" and the like (SYN first, as figures do; "" for none) into
 * buf (at least 32 bytes); returns buf. */
const char *lad_flags(uint8_t flags, char *buf);

/* Relative numbers, as RFC 9293's figures and Wireshark show them. */
static inline uint32_t lad_rel_seq(const struct lad_conn *c, const struct lad_seg *s)
{
    return s->g.seq - (c->have_isn[s->from] ? c->isn[s->from] : 0);
}
/* Without the ACK flag the field means nothing: shown raw (tshark). */
static inline uint32_t lad_rel_ack(const struct lad_conn *c, const struct lad_seg *s)
{
    return (s->g.flags & 0x10) ? s->g.ack - (c->have_isn[!s->from] ? c->isn[!s->from] : 0)
                               : s->g.ack;
}

/* read_pcap.c: a pcap or pcapng file, through libpcap. The file is
 * untrusted: frames that are not IPv4 TCP, malformed or cut short are
 * counted and skipped. 0, or -1 with a message in err. */
int lad_read_pcap(struct lad_capture *cap, const char *path, char *err, size_t errlen);
/* The same from an open file (closed here, whatever happens); name is
 * for messages. */
int lad_read_pcap_file(struct lad_capture *cap, FILE *in, const char *name, char *err,
                       size_t errlen);
/* The TCP segment in an Ethernet frame of caplen bytes (wire_len on the
 * wire): 1 and *g (*cut set if the capture cut data off), 0 if not IPv4
 * TCP, -1 if malformed. No checksum is checked (captures taken with
 * offloads carry partial ones). */
int lad_parse_frame(const uint8_t *f, size_t caplen, size_t wire_len,
                    struct fa_sim_segment *g, int *cut);

/* read_json.c: finack-sim's --json lines. Lines that do not parse are
 * counted as malformed. 0, or -1 with a message. */
int lad_read_json(struct lad_capture *cap, FILE *in, char *err, size_t errlen);

struct lad_html_opts {
    const char *title;
    long conn;            /* the connection to show; -1: all, with a list */
    size_t max_arrows;    /* the ladder summarises beyond this many */
    size_t max_points;    /* the graph samples beyond this many */
};
void lad_html_defaults(struct lad_html_opts *o);
int lad_write_html(const struct lad_capture *cap, FILE *out, const struct lad_html_opts *o);

#endif
