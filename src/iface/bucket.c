/* bucket.c — the token bucket used to rate-limit ICMP errors (RFC 1812
 * §4.3.2.8) and TCP challenge ACKs (RFC 5961 §7). Credit is kept in
 * nanoseconds so that refill needs no division per packet. */
#include "iface.h"

void fa_bucket_init(struct fa_bucket *b, uint32_t rate, uint32_t burst,
                    fa_time now)
{
    b->credit = rate ? (fa_time)burst * (FA_NS_PER_S / rate) : 0;
    b->at = now;
}

int fa_bucket_take(struct fa_bucket *b, uint32_t rate, uint32_t burst,
                   fa_time now)
{
    if (rate == 0)
        return 0;
    fa_time cost = FA_NS_PER_S / rate;
    fa_time cap = cost * burst;
    if (now > b->at) {
        b->credit += now - b->at;
        b->at = now;
    }
    if (b->credit > cap)
        b->credit = cap;
    if (b->credit < cost)
        return 0;
    b->credit -= cost;
    return 1;
}
