/* scenarios.c — finack-sim's named scenarios: TCP as a textbook draws
 * it. Two hosts, A (198.18.0.1, the client) and B (198.18.0.2, the
 * server), 10 ms apart, on a clean link; each scenario scripts the
 * applications and, where it is the point, loses one chosen segment or
 * injects one. The timeline shows every segment as its sender sends it
 * (sequence numbers relative to each side's ISN, as in RFC 9293's
 * figures; lost ones marked) and every state change, in time order; or
 * one JSON object per line; and optionally a pcap. */
#include "scenario_core.h"
#include "forge.h"

#include <errno.h>
#include <string.h>

/* ---- the scenarios --------------------------------------------------- */
static void open_close(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *a = scen_connect_a(s, 80), *b = scen_accept_b(s, l);
    fa_tcp_send(a, "hello", 5, scen_now(s));
    scen_run_for(s, 30 * MS);
    char buf[16];
    fa_tcp_recv(b, buf, sizeof buf, scen_now(s));
    fa_tcp_send(b, "HELLO", 5, scen_now(s));
    scen_run_for(s, 30 * MS);
    fa_tcp_recv(a, buf, sizeof buf, scen_now(s)); /* unread data would mean RST */
    scen_note(s, "A closes");
    fa_tcp_close(a, scen_now(s));
    scen_run_for(s, 30 * MS);
    scen_note(s, "B sees end of stream and closes");
    fa_tcp_close(b, scen_now(s));
    scen_run_for(s, 30 * MS);
    scen_note(s, "A waits in TIME-WAIT for 2 MSL (MSL is 5 s here)");
    scen_run_for(s, 11 * S);
}

static void lost_syn(struct scen *s, struct fa_tcp *l)
{
    s->drop_host = 0, s->drop_mask = 0x12, s->drop_want = 0x02, s->drop_nth = 1;
    struct fa_tcp *a = scen_connect_a(s, 80), *b = scen_accept_b(s, l);
    (void)a;
    (void)b;
    scen_note(s, "the retransmitted SYN (RTO 1 s) got through");
}

static void lost_synack(struct scen *s, struct fa_tcp *l)
{
    s->drop_host = 1, s->drop_mask = 0x12, s->drop_want = 0x12, s->drop_nth = 1;
    struct fa_tcp *a = scen_connect_a(s, 80), *b = scen_accept_b(s, l);
    (void)a;
    (void)b;
    scen_note(s, "A's SYN retransmission made B resend its SYN-ACK at once");
}

static void lost_last_ack(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *a = scen_connect_a(s, 80), *b = scen_accept_b(s, l);
    scen_run_for(s, 30 * MS);
    scen_note(s, "A closes; B closes; A's final ACK is lost");
    fa_tcp_close(a, scen_now(s));
    scen_run_for(s, 30 * MS);
    /* A's segments so far: SYN, ACK, FIN; the next pure ACK is the last. */
    /* Counted from here: the first pure ACK A sends is the last one. */
    s->drop_host = 0, s->drop_mask = 0xff, s->drop_want = 0x10, s->drop_nth = 1;
    s->drop_seen = 0;
    fa_tcp_close(b, scen_now(s));
    scen_run_for(s, 3 * S);
    scen_note(s, "B's FIN came again: A, in TIME-WAIT, ACKed it again and restarted 2 MSL");
    scen_run_for(s, 11 * S);
}

static void simultaneous_open(struct scen *s, struct fa_tcp *l)
{
    (void)l;
    struct fa_tcp *a, *b;
    fa_tcp_open(s->st[0], &a);
    fa_tcp_bind(a, 0, 6000);
    fa_tcp_open(s->st[1], &b);
    fa_tcp_bind(b, 0, 7000);
    scen_note(s, "A and B each connect to the other at the same moment");
    fa_tcp_connect(a, ADDR_B, 7000, scen_now(s));
    fa_tcp_connect(b, ADDR_A, 6000, scen_now(s));
    scen_run_for(s, 100 * MS);
}

static void simultaneous_close(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *a = scen_connect_a(s, 80), *b = scen_accept_b(s, l);
    scen_run_for(s, 30 * MS);
    scen_note(s, "A and B close at the same moment");
    fa_tcp_close(a, scen_now(s));
    fa_tcp_close(b, scen_now(s));
    scen_run_for(s, 100 * MS);
}

static void half_close(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *a = scen_connect_a(s, 80), *b = scen_accept_b(s, l);
    fa_tcp_send(a, "GET /", 5, scen_now(s));
    scen_note(s, "A sends a request and shuts down its sending side");
    fa_tcp_shutdown(a, FA_SHUT_WR, scen_now(s));
    scen_run_for(s, 30 * MS);
    static char reply[3000];
    memset(reply, 'r', sizeof reply);
    char req[8];
    fa_tcp_recv(b, req, sizeof req, scen_now(s)); /* unread, a close would reset */
    scen_note(s, "B, in CLOSE-WAIT, still sends its 3000-byte reply");
    fa_tcp_send(b, reply, sizeof reply, scen_now(s));
    scen_run_for(s, 100 * MS);
    fa_tcp_close(b, scen_now(s));
    scen_run_for(s, 50 * MS);
    char buf[4096];
    while (fa_tcp_recv(a, buf, sizeof buf, scen_now(s)) > 0)
        ;
    fa_tcp_close(a, scen_now(s));
}

static void abort_close(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *a = scen_connect_a(s, 80), *b = scen_accept_b(s, l);
    scen_run_for(s, 30 * MS);
    scen_note(s, "A closes with SO_LINGER 0: a reset, no FIN, no TIME-WAIT");
    fa_tcp_setopt(a, FA_SO_LINGER, 0);
    fa_tcp_close(a, scen_now(s));
    scen_run_for(s, 30 * MS);
    char buf[8];
    long r = fa_tcp_recv(b, buf, sizeof buf, scen_now(s));
    scen_note(s, r == -ECONNRESET ? "B's recv() fails with ECONNRESET" : "B saw no reset?");
    fa_tcp_close(b, scen_now(s));
}

static void keepalive(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *a = scen_connect_a(s, 80), *b = scen_accept_b(s, l);
    (void)b;
    fa_tcp_setopt(a, FA_SO_KEEPALIVE, 1);
    fa_tcp_setopt(a, FA_TCP_KEEPIDLE, 10000);
    fa_tcp_setopt(a, FA_TCP_KEEPINTVL, 2000);
    fa_tcp_setopt(a, FA_TCP_KEEPCNT, 3);
    scen_run_for(s, 30 * MS);
    scen_note(s, "A keeps alive (idle 10 s, every 2 s, 3 probes); B is cut off");
    s->outage_host = 1;
    s->outage_from = scen_now(s);
    scen_run_for(s, 20 * S);
    scen_note(s, fa_tcp_error(a) == -ETIMEDOUT ? "A's connection died with ETIMEDOUT"
                                         : "A's connection is still there?");
}

static void zero_window(struct scen *s, struct fa_tcp *l)
{
    struct fa_tcp *a = scen_connect_a(s, 80), *b = scen_accept_b(s, l);
    static char data[4000];
    scen_note(s, "B (1000-byte buffer) does not read; A sends 4000 bytes");
    fa_tcp_send(a, data, sizeof data, scen_now(s));
    scen_run_for(s, 5 * S);
    scen_note(s, "B reads: the window opens and the transfer resumes");
    char buf[4096];
    for (int i = 0; i < 100; i++) {
        while (fa_tcp_recv(b, buf, sizeof buf, scen_now(s)) > 0)
            ;
        scen_run_for(s, 20 * MS);
    }
}

/* A SYN from A's address and port with an old ISN, as from a previous
 * incarnation of the connection (RFC 9293 §3.5, figure 9). */
static void inject_old_syn(struct scen *s, uint32_t isn)
{
    uint8_t f[FORGE_FRAME_MAX];
    const struct fa_config *ca = fa_stack_config(s->st[0]), *cb = fa_stack_config(s->st[1]);
    struct forged g = { .dst_mac = cb->mac, .src_mac = ca->mac, .src = ADDR_A,
                        .dst = ADDR_B, .sport = 40000, .dport = 80, .seq = isn,
                        .flags = TCP_SYN, .wnd = 1000 };
    fa_sim_inject(s->sim, 1, f, forge_tcp(f, &g));
}

static void old_duplicate_syn(struct scen *s, struct fa_tcp *l)
{
    scen_note(s, "an old duplicate SYN (ISN 90 of a past connection) reaches B");
    inject_old_syn(s, 90);
    scen_note(s, "A's own SYN is slow (delayed here by losing its first copy)");
    s->drop_host = 0, s->drop_mask = 0x12, s->drop_want = 0x02, s->drop_nth = 1;
    struct fa_tcp *a = scen_connect_a(s, 80), *b = scen_accept_b(s, l);
    (void)a;
    (void)b;
    scen_note(s, "B's SYN-ACK to the old SYN drew A's RST; B went back to LISTEN; the new SYN won");
}

static const struct {
    const char *name, *what;
    void (*run)(struct scen *, struct fa_tcp *);
} scenarios[] = {
    { "open-close", "three-way handshake, data each way, close, TIME-WAIT", open_close },
    { "lost-syn", "the first SYN is lost and retransmitted", lost_syn },
    { "lost-synack", "the first SYN-ACK is lost", lost_synack },
    { "lost-last-ack", "the last ACK of the close is lost: TIME-WAIT ACKs again", lost_last_ack },
    { "simultaneous-open", "both ends send SYN at once", simultaneous_open },
    { "simultaneous-close", "both ends send FIN at once: CLOSING", simultaneous_close },
    { "half-close", "data keeps flowing in CLOSE-WAIT after one side shut down", half_close },
    { "abort", "SO_LINGER 0: the close is a reset", abort_close },
    { "keepalive", "the peer is cut off; keepalive probes, then ETIMEDOUT", keepalive },
    { "zero-window", "the reader stops: zero window, persist probes, resume", zero_window },
    { "old-duplicate-syn", "RFC 9293 figure 9: an old SYN is refused", old_duplicate_syn },
};

void scenario_list(FILE *out)
{
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        fprintf(out, "  %-20s %s\n", scenarios[i].name, scenarios[i].what);
}

int scenario_run(const char *name, uint64_t seed, const struct scen_out *out)
{
    size_t n = sizeof scenarios / sizeof scenarios[0], i;
    for (i = 0; i < n && strcmp(scenarios[i].name, name); i++)
        ;
    if (i == n)
        return -ENOENT;
    static struct scen sc;
    struct scen *s = &sc;
    struct setup u;
    scen_setup_defaults(&u);
    if (!strcmp(name, "zero-window"))
        u.rcvbuf[1] = 1000;
    int err = scen_start(s, &u, seed, out);
    if (err)
        return err;
    struct fa_tcp *l = scen_listen_b(s, 80);
    s->printing = 1;
    if (!out->json)
        printf("scenario %s: %s\n  A = %s (client), B = %s (server), 10 ms apart\n\n", name,
               scenarios[i].what, "198.18.0.1", "198.18.0.2");
    scenarios[i].run(s, l);
    return scen_end(s);
}
