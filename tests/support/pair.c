/* pair.c — two stacks on a memlink, driven event by event. */
#include "pair.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

void pair_init(struct pair *p, const struct fa_memlink_config *link_cfg,
               const struct fa_fault_config *fault_cfg, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    struct fa_clock clock = fa_clock_virtual(&p->now);
    struct fa_memlink_config lc;
    fa_memlink_config_init(&lc);
    assert_int_equal(fa_memlink_create(link_cfg ? link_cfg : &lc, clock, &p->link), 0);
    for (int i = 0; i < 2; i++) {
        p->addr[i] = FA_IPV4(198, 18, 0, 1 + i);
        fa_prng_seed(&p->prng[i], seed * 2 + (uint64_t)i);
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.addr = p->addr[i];
        cfg.device = fa_memlink_tx(p->link, i);
        cfg.rng = fa_prng_rng(&p->prng[i]);
        if (fault_cfg) {
            assert_int_equal(fa_fault_create(fault_cfg, seed + 100 + (uint64_t)i,
                                             cfg.device, clock, &p->fault[i]), 0);
            cfg.device = fa_fault_device(p->fault[i]);
        }
        assert_int_equal(fa_stack_create(&cfg, p->now, &p->stack[i]), 0);
        p->sink[i] = (struct fa_stack_sink){ p->stack[i], clock };
        fa_memlink_set_rx(p->link, i, fa_stack_sink_device(&p->sink[i]));
    }
}

void pair_destroy(struct pair *p)
{
    for (int i = 0; i < 2; i++) {
        fa_stack_destroy(p->stack[i]);
        fa_fault_destroy(p->fault[i]);
    }
    fa_memlink_destroy(p->link);
}

static fa_time pair_step(struct pair *p)
{
    fa_time next = fa_memlink_deliver(p->link, p->now);
    for (int i = 0; i < 2; i++) {
        fa_time t = p->fault[i] ? fa_fault_poll(p->fault[i], p->now) : FA_TIME_NEVER;
        if (t < next)
            next = t;
        t = fa_stack_poll(p->stack[i], p->now);
        if (t < next)
            next = t;
    }
    /* Polling may have sent frames into the link. */
    fa_time t = fa_memlink_deliver(p->link, p->now);
    return t < next ? t : next;
}

void pair_run_until(struct pair *p, fa_time until)
{
    for (int guard = 0; guard < 10000000; guard++) {
        fa_time next = pair_step(p);
        p->steps++;
        if (next > until) {
            p->now = until;
            pair_step(p);
            return;
        }
        /* Deadlines never lie in the past after a step has run them. */
        assert_true(next >= p->now); /* nothing is due in the past */
        p->now = next;
    }
    fail_msg("pair_run_until: event loop did not settle");
}
