/* sim_record.h — a simulation in the same process fills finack-ladder's
 * model as it runs (sim_record.c). */
#ifndef FA_LADDER_SIM_RECORD_H
#define FA_LADDER_SIM_RECORD_H

#include <finack/finack.h>

#include "ladder.h"

#define LAD_REC_MASK 65535u

struct pend;
struct lad_rec {
    struct lad_capture cap;           /* the model it fills */
    fa_time t0;                       /* time 0 of the page */
    struct pend *pend;                /* segments sent, by hash */
    uint32_t npend, pendcap;
    uint32_t bucket[LAD_REC_MASK + 1]; /* 1 + index of the newest, 0: none */
    int failed;                       /* out of memory: the page is not made */
};

/* A recorder with a model of its own (msl_ms: the runs' MSL, for
 * TIME-WAIT's bracket); NULL if out of memory. */
struct lad_rec *lad_rec_new(double msl_ms, fa_time t0);
/* Marks what never arrived lost and writes the page to path: 0, or -1
 * with a message on stderr. */
int lad_rec_write(struct lad_rec *r, const char *path, const char *title);
/* Frees a recorder from lad_rec_new and its model. */
void lad_rec_free(struct lad_rec *r);
/* For fa_sim_on_frame. */
void lad_rec_frame(void *ctx, int host, int dir, const uint8_t *f, size_t len, fa_time t);
/* For config.tcp_trace: the state sock moved to. */
void lad_rec_state(struct lad_rec *r, const struct fa_tcp *sock, int to, fa_time now);

#endif
