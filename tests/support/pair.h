/* pair.h — two stacks joined by an in-memory link on a virtual clock,
 * optionally with a fault wrapper on each direction: the smallest
 * simulation, used by tests until the full simulator (issue 4). */
#ifndef FA_TEST_PAIR_H
#define FA_TEST_PAIR_H

#include <finack/finack.h>

struct pair {
    fa_time now;
    struct fa_prng prng[2];
    struct fa_memlink *link;
    struct fa_fault *fault[2]; /* fault[i] sits on stack i's send path */
    struct fa_stack_sink sink[2];
    struct fa_stack *stack[2];
    uint32_t addr[2];
    uint64_t steps;
};

/* Stack 0 is 198.18.0.1, stack 1 is 198.18.0.2, both /24. fault may be
 * NULL (no faults); link may be NULL (defaults). */
void pair_init(struct pair *p, const struct fa_memlink_config *link,
               const struct fa_fault_config *fault, uint64_t seed);
void pair_destroy(struct pair *p);
/* Advances virtual time to until, running every event due on the way. */
void pair_run_until(struct pair *p, fa_time until);

#endif
