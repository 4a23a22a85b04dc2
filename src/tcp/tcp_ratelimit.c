/* tcp_ratelimit.c — how often TCP may answer segments it will not take:
 * the ACK for an unacceptable segment (RFC 9293 §3.10.7.4 "first") and
 * RFC 5961's challenge ACK. Two limits, as current Linux keeps them:
 *
 *  - per connection (and per TIME-WAIT entry): one such ACK per
 *    tcp_invalid_ratelimit. Two ends that each find the other's ACKs
 *    unacceptable cannot ping-pong, and a flood at one connection gets
 *    one answer per interval;
 *  - per stack, for challenge ACKs: a budget per second drawn at random
 *    around tcp_challenge_ack_rate (rate/2 + [0, rate)). A fixed,
 *    shared budget is a side channel (CVE-2016-5696): an off-path host
 *    that spends it and counts what is left learns whether a guessed RST
 *    hit someone else's window.
 *
 * Called from tcp_in.c and tcp_tw.c; stamps are milliseconds, 0 = never. */
#include "tcp.h"

static uint32_t stamp_of(fa_time now)
{
    return (uint32_t)(now / FA_NS_PER_MS) | 1u; /* never 0 */
}

int fa_tcp_invalid_allowed(struct fa_stack *s, uint32_t *last, fa_time now)
{
    uint32_t t = stamp_of(now);
    uint32_t gap = (uint32_t)(s->cfg.tcp_invalid_ratelimit / FA_NS_PER_MS);
    if (*last && t - *last < gap) {
        fa_count(s, FA_CNT_TCP_INVALID_LIMITED);
        return 0;
    }
    *last = t;
    return 1;
}

static int stack_budget_take(struct fa_stack *s, fa_time now)
{
    struct fa_tcp_stack *t = s->tcp;
    uint64_t second = now / FA_NS_PER_S;
    uint32_t rate = s->cfg.tcp_challenge_ack_rate;
    if (second != t->challenge_second || !t->challenge_started) {
        t->challenge_second = second;
        t->challenge_started = 1;
        t->challenge_left = rate / 2 + (rate ? (uint32_t)(s->cfg.rng.next(s->cfg.rng.ctx) % rate) : 0);
    }
    if (!t->challenge_left)
        return 0;
    t->challenge_left--;
    return 1;
}

int fa_tcp_challenge_allowed(struct fa_stack *s, uint32_t *last, fa_time now)
{
    uint32_t saved = *last;
    if (!fa_tcp_invalid_allowed(s, last, now))
        return 0;
    if (!stack_budget_take(s, now)) {
        *last = saved; /* not sent: the connection's interval does not start */
        fa_count(s, FA_CNT_TCP_CHALLENGE_LIMITED);
        return 0;
    }
    fa_count(s, FA_CNT_TCP_CHALLENGE_ACKS);
    return 1;
}
