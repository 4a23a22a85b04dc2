/* tcp_cc_cubic.c — CUBIC (RFC 9438), the default as in Linux. Windows are
 * bytes, time nanoseconds, and the cubic is computed in integers (no FPU
 * needed): C = 0.4 segments/s^3, beta_cubic = 0.7, the Reno-friendly
 * alpha_cubic = 3 (1 - beta) / (1 + beta) = 9/17. */
#include "tcp.h"

#define BETA_NUM 7 /* beta_cubic = 7/10 (§4.6) */
#define BETA_DEN 10
#define MAX_DT_MS 100000 /* |t - K| beyond 100 s changes nothing useful */

static uint64_t icbrt(uint64_t v)
{
    uint64_t lo = 0, hi = 1u << 21; /* (2^21)^3 = 2^63 */
    while (lo < hi) {
        uint64_t mid = (lo + hi + 1) / 2;
        if (mid * mid * mid <= v)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* §4.2 eq. (2): K = cbrt((W_max - cwnd_epoch) / C), in ms. With windows
 * in bytes, W in segments is bytes / MSS; 1/C = 2.5 s^3 per segment. */
static uint32_t cubic_k(uint32_t w_max, uint32_t cwnd_epoch, uint16_t mss)
{
    if (w_max <= cwnd_epoch)
        return 0;
    uint64_t d = w_max - cwnd_epoch;
    /* K in ms = cbrt(d / mss * 2.5e9) */
    return (uint32_t)icbrt(d * 2500000000ull / mss);
}

/* §4.2 eq. (1): W_cubic(t) = C (t - K)^3 + W_max, in bytes. */
static uint32_t w_cubic(const struct fa_tcp *c, fa_time t)
{
    const struct fa_tcp_cubic *k = &c->keep.cubic;
    int64_t kns = (int64_t)c->loss->cubic.k_ms * (int64_t)FA_NS_PER_MS;
    int64_t d = ((int64_t)t - kns) / (int64_t)FA_NS_PER_MS;
    if (d > MAX_DT_MS) d = MAX_DT_MS;
    if (d < -MAX_DT_MS) d = -MAX_DT_MS;
    /* C d^3 with d in ms: 0.4 d^3 / 1e9 segments = 4 d^3 / 1e7 thousandths. */
    int64_t milli = 4 * d * d * d / 10000000;
    int64_t w = (int64_t)k->w_max + milli * c->mss / 1000;
    if (w < (int64_t)fa_tcp_cwnd_floor(c))
        w = fa_tcp_cwnd_floor(c);
    return w > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)w;
}

static void cubic_init(struct fa_tcp *c)
{
    c->cwnd = fa_tcp_initial_window(c);
    c->ssthresh = UINT32_MAX;
    c->keep.cubic = (struct fa_tcp_cubic){ 0 };
    if (c->loss) /* a switch while busy: the old epoch goes too */
        c->loss->cubic = (struct fa_tcp_cubic_epoch){ 0 };
    fa_tcp_hystart_reset(c);
}

/* A congestion avoidance epoch starts (§4.2, §4.3). */
static void epoch_start(struct fa_tcp *c, struct fa_tcp_cubic_epoch *k, fa_time now)
{
    k->epoch = now;
    k->cwnd_epoch = c->cwnd;
    k->w_est = c->cwnd;
    k->w_est_frac = 0;
    if (c->keep.cubic.w_max < c->cwnd)
        c->keep.cubic.w_max = c->cwnd; /* no loss yet (or it grew past): convex from here */
    k->k_ms = cubic_k(c->keep.cubic.w_max, k->cwnd_epoch, c->mss);
}

/* An ACK of new data: c->loss is attached (it holds the data's entries). */
static void cubic_on_ack(struct fa_tcp *c, uint32_t acked, fa_time rtt, fa_time now)
{
    struct fa_tcp_cubic_epoch *k = &c->loss->cubic;
    if (c->cwnd < c->ssthresh) {
        fa_tcp_hystart_ack(c, acked, rtt);
        return;
    }
    if (k->epoch == 0)
        epoch_start(c, k, now);
    /* §4.3: the Reno-friendly estimate; alpha 1 once W_est reaches
     * cwnd_prior, the window when ssthresh was last set. */
    int past = k->w_est >= c->keep.cubic.cwnd_prior;
    uint64_t a_num = past ? 1 : 9, a_den = past ? 1 : 17;
    /* In bytes, the remainder carried: never rounded up (ACK division). */
    k->w_est += fa_tcp_ca_growth((uint64_t)acked * c->mss * a_num / a_den, &k->w_est_frac, c->cwnd);
    /* §4.4-4.5: aim at W_cubic one RTT ahead, within [cwnd, 1.5 cwnd]. */
    fa_time t = now - k->epoch + fa_tcp_srtt(c);
    uint32_t target = w_cubic(c, t);
    if (target < k->w_est) {
        c->cwnd = k->w_est; /* §4.3: the Reno-friendly region */
        return;
    }
    if (target < c->cwnd)
        target = c->cwnd;
    if (target > c->cwnd + c->cwnd / 2)
        target = c->cwnd + c->cwnd / 2;
    uint64_t grow = (uint64_t)(target - c->cwnd) * acked / c->cwnd;
    c->cwnd += (uint32_t)grow;
}

/* §4.6 and §4.7 (fast convergence). The window reduced is the flight at
 * the loss, as RFC 5681 reduces it (cwnd may exceed what was in use). */
static void cubic_on_loss(struct fa_tcp *c, fa_time now)
{
    (void)now;
    struct fa_tcp_cubic *k = &c->keep.cubic;
    uint32_t flight = c->snd_nxt - c->snd_una;
    uint32_t w = flight < c->cwnd ? flight : c->cwnd;
    if (c->loss) /* an episode to undo, perhaps */
        c->loss->prior_w_max = k->w_max;
    k->cwnd_prior = w;
    if (w < k->w_max)
        k->w_max = (uint32_t)((uint64_t)w * (BETA_DEN + BETA_NUM) / (2 * BETA_DEN));
    else
        k->w_max = w;
    uint32_t s = (uint32_t)((uint64_t)w * BETA_NUM / BETA_DEN);
    c->ssthresh = s > fa_tcp_cwnd_floor(c) ? s : fa_tcp_cwnd_floor(c);
    if (c->loss)
        c->loss->cubic.epoch = 0;
    c->flags |= TF_HS_DONE;
}

/* §4.8: a timeout reduces as a loss does, and cwnd to one segment; the
 * first congestion avoidance after it starts with K = 0 and W_max the
 * cwnd it starts at (epoch_start; review: the old W_max and a concave K
 * were kept). */
static void cubic_on_rto(struct fa_tcp *c, int reduce, fa_time now)
{
    if (reduce)
        cubic_on_loss(c, now);
    c->keep.cubic.w_max = 0; /* epoch_start takes the cwnd it starts at */
    if (c->loss)
        c->loss->cubic.epoch = 0;
    c->cwnd = c->mss;
}

static void cubic_on_undo(struct fa_tcp *c)
{
    struct fa_tcp_cubic *k = &c->keep.cubic;
    if (c->loss && c->loss->prior_w_max > k->w_max)
        k->w_max = c->loss->prior_w_max;
    if (c->loss)
        c->loss->cubic.epoch = 0;
}

/* §5.8: after idle the curve does not jump; a new epoch starts (one
 * starts with every busy period anyway: struct fa_tcp_cubic_epoch). */
static void cubic_on_idle(struct fa_tcp *c, fa_time now)
{
    (void)now;
    if (c->loss)
        c->loss->cubic.epoch = 0;
}

const struct fa_tcp_cc_ops fa_tcp_cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .on_ack = cubic_on_ack,
    .on_loss = cubic_on_loss,
    .on_rto = cubic_on_rto,
    .on_undo = cubic_on_undo,
    .on_idle = cubic_on_idle,
};
