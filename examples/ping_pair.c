/* ping_pair.c — the smallest finack program: two stacks in one process
 * joined by an in-memory link on a virtual clock; A pings B. Built by the
 * install check with only `pkg-config --cflags --libs finack`. */
#include <finack/finack.h>
#include <stdio.h>

int main(void)
{
    fa_time now = 0;
    struct fa_clock clock = fa_clock_virtual(&now);
    struct fa_memlink_config lc;
    fa_memlink_config_init(&lc);
    struct fa_memlink *link;
    if (fa_memlink_create(&lc, clock, &link) < 0)
        return 1;
    struct fa_prng prng[2];
    struct fa_stack *stack[2];
    struct fa_stack_sink sink[2];
    for (int i = 0; i < 2; i++) {
        struct fa_config cfg;
        fa_config_init(&cfg);
        cfg.addr = FA_IPV4(198, 18, 0, 1 + i);
        cfg.device = fa_memlink_tx(link, i);
        fa_prng_seed(&prng[i], (uint64_t)i + 1);
        cfg.rng = fa_prng_rng(&prng[i]);
        if (fa_stack_create(&cfg, now, &stack[i]) < 0)
            return 1;
        sink[i] = (struct fa_stack_sink){ stack[i], clock };
        fa_memlink_set_rx(link, i, fa_stack_sink_device(&sink[i]));
    }
    fa_stack_ping(stack[0], FA_IPV4(198, 18, 0, 2), 1, 1, NULL, 0, now);
    /* Run the events: link deliveries and timers, in time order. */
    for (int step = 0; step < 1000 && now < FA_NS_PER_S; step++) {
        fa_time next = fa_memlink_deliver(link, now);
        for (int i = 0; i < 2; i++) {
            fa_time t = fa_stack_poll(stack[i], now);
            next = t < next ? t : next;
        }
        if (next == FA_TIME_NEVER)
            break;
        now = next;
    }
    unsigned long long replies = fa_stack_counter(stack[0], FA_CNT_ICMP_ECHO_REPLY_IN);
    printf("echo replies: %llu (virtual time %.3f ms)\n", replies, now / 1e6);
    for (int i = 0; i < 2; i++)
        fa_stack_destroy(stack[i]);
    fa_memlink_destroy(link);
    return replies == 1 ? 0 : 1;
}
