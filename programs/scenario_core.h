/* scenario_core.h — what finack-sim's named scenarios (scenarios.c) and
 * scenario files (scenario_file.c) share (scenario_core.c): two hosts A
 * and B on the simulator, the timeline printer, loss rules, and the
 * helpers scripts call. */
#ifndef FA_PROG_SCENARIO_CORE_H
#define FA_PROG_SCENARIO_CORE_H

#include "scenarios.h"

struct lad_rec;

#define MS FA_NS_PER_MS
#define S FA_NS_PER_S
#define ADDR_A FA_IPV4(198, 18, 0, 1)
#define ADDR_B FA_IPV4(198, 18, 0, 2)

/* Lose the nth (from 1) segment `host` sends whose flags, masked, equal
 * want; data: -1 any, 0 without data, 1 with data. */
struct loss_rule {
    int host, nth, seen, data;
    uint8_t mask, want;
};

#define SCEN_SENT_MEMORY 512
struct sent_rel {
    int used;
    uint32_t src, seq_abs, ack_abs;
    uint8_t flags;
    uint32_t len, seq, ack;
};

struct scen {
    struct fa_sim *sim;
    struct fa_stack *st[2];
    int json, printing;
    fa_time t0;
    uint32_t isn[2];
    int have_isn[2];
    struct fa_pcap *pcap;
    /* The loss rule: drop the nth (from 1) segment host sends whose
     * flags, masked, equal want. */
    int drop_host, drop_nth, drop_seen;
    uint8_t drop_mask, drop_want;
    struct loss_rule rules[8]; /* from scenario files */
    int nrules;
    int outage_host;
    fa_time outage_from;
    /* --html: the run recorded for finack-ladder's page. */
    struct lad_rec *rec;
    /* --json: segments' printed numbers, for their "arrive" lines. */
    struct sent_rel sent[SCEN_SENT_MEMORY];
    unsigned next_sent;
    const char *html, *title;
};

/* The two hosts: link (faults on each uplink only, so a path's loss is
 * what was asked) and configs. */
struct setup {
    struct fa_sim_link up, down;
    uint32_t rcvbuf[2], sndbuf[2];
    fa_time msl;
};

void scen_note(struct scen *s, const char *text);
void scen_run_for(struct scen *s, fa_time span);
fa_time scen_now(struct scen *s);
struct fa_tcp *scen_listen_b(struct scen *s, uint16_t port);
struct fa_tcp *scen_connect_a(struct scen *s, uint16_t port);
struct fa_tcp *scen_accept_b(struct scen *s, struct fa_tcp *l);
void scen_setup_defaults(struct setup *u);
/* Creates the two hosts (the timeline goes to stdout, a pcap and a page
 * where out says) and lets ARP settle unseen. Returns 0 or -errno. */
int scen_start(struct scen *s, const struct setup *u, uint64_t seed,
               const struct scen_out *out);
/* Runs 100 ms more, says whether the invariants held, writes the page,
 * frees all; returns 0, -EPROTO or -EIO (the page). */
int scen_end(struct scen *s);

#endif
