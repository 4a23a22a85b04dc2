/* scenarios.h — finack-sim's named scenarios (scenarios.c) and scenario
 * files (scenario_file.c). */
#ifndef FA_PROG_SCENARIOS_H
#define FA_PROG_SCENARIOS_H

#include <finack/finack.h>
#include <stdio.h>

/* "SYN,ACK" and the like into buf (at least 32 bytes); returns buf. */
const char *scenario_flags(uint8_t flags, char *buf);

void scenario_list(FILE *out);
/* Where a run's picture goes: the timeline as text or JSON lines on
 * stdout, a pcap, an HTML page (finack-ladder's, programs/ladder/). */
struct scen_out {
    int json;
    const char *pcap, *html;
    const char *title; /* the page's */
};
/* Runs one; prints its timeline (or JSON lines); writes a pcap and a
 * page if asked. Returns 0, -ENOENT (no such scenario), or -EPROTO if an
 * invariant broke. */
int scenario_run(const char *name, uint64_t seed, const struct scen_out *out);
/* Runs a scenario file (format: the comment at the top of
 * scenario_file.c's format section). Returns 0, -errno reading it, -EINVAL for a bad line, or
 * -EPROTO if an invariant broke. */
int scenario_file(const char *path, uint64_t seed, const struct scen_out *out);
/* Reads a scenario file from in without running it: 0 or -EINVAL (the
 * line said on stderr; name is for that message). */
int scenario_file_check(FILE *in, const char *name);

#endif
