/* test_fault.c — the fault wrapper: each fault at its rate, seeds that
 * replay exactly, reordering and delay through the held store, spec
 * parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "frames.h"

struct run {
    fa_time now;
    struct capture cap;
    struct fa_fault *f;
};

static void run_start(struct run *r, const char *spec, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    struct fa_fault_config c;
    fa_fault_config_init(&c);
    assert_int_equal(fa_fault_parse(spec, &c), 0);
    assert_int_equal(fa_fault_create(&c, seed, capture_device(&r->cap),
                                     fa_clock_virtual(&r->now), &r->f), 0);
}

/* Sends n numbered 64-byte frames 10 µs apart, then drains the store. */
static void run_frames(struct run *r, int n)
{
    struct fa_device d = fa_fault_device(r->f);
    for (int i = 0; i < n; i++) {
        uint8_t fr[64] = { 0 };
        fa_put32(fr, (uint32_t)i);
        r->now += 10 * FA_NS_PER_US;
        fa_fault_poll(r->f, r->now);
        d.transmit(d.ctx, fr, sizeof fr);
    }
    for (int guard = 0; guard < 100000; guard++) {
        fa_time next = fa_fault_poll(r->f, r->now);
        if (next == FA_TIME_NEVER)
            return;
        r->now = next;
    }
    fail();
}

static void drop_rate_is_as_asked(void **state)
{
    (void)state;
    static struct run r;
    run_start(&r, "drop=10%", 5);
    run_frames(&r, 20000);
    const struct fa_fault_stats *st = fa_fault_stats(r.f);
    assert_int_equal(st->frames, 20000);
    assert_true(st->dropped > 1800 && st->dropped < 2200);
    assert_int_equal(r.cap.count, 20000 - st->dropped);
    fa_fault_destroy(r.f);
}

static void same_seed_same_faults(void **state)
{
    (void)state;
    static struct run a, b;
    const char *spec = "drop=5%,dup=5%,reorder=10%,corrupt=5%";
    run_start(&a, spec, 77);
    run_start(&b, spec, 77);
    run_frames(&a, 200);
    run_frames(&b, 200);
    assert_int_equal(a.cap.count, b.cap.count);
    for (size_t i = 0; i < a.cap.count && i < CAP_MAX; i++)
        assert_memory_equal(a.cap.frame[i], b.cap.frame[i], 64);
    /* A different seed gives a different run. */
    static struct run c;
    run_start(&c, spec, 78);
    run_frames(&c, 200);
    int differs = c.cap.count != a.cap.count;
    for (size_t i = 0; !differs && i < a.cap.count && i < CAP_MAX; i++)
        differs = memcmp(a.cap.frame[i], c.cap.frame[i], 64) != 0;
    assert_true(differs);
    fa_fault_destroy(a.f);
    fa_fault_destroy(b.f);
    fa_fault_destroy(c.f);
}

static void duplicate_reorder_corrupt(void **state)
{
    (void)state;
    static struct run r;
    run_start(&r, "dup=100%", 1);
    run_frames(&r, 10);
    assert_int_equal(r.cap.count, 20);
    fa_fault_destroy(r.f);

    run_start(&r, "reorder=30%,reorder_delay=50us", 3);
    run_frames(&r, 100);
    assert_int_equal(r.cap.count, 100);
    int out_of_order = 0;
    for (size_t i = 1; i < r.cap.count; i++)
        out_of_order += fa_get32(r.cap.frame[i]) < fa_get32(r.cap.frame[i - 1]);
    assert_true(out_of_order > 5);
    fa_fault_destroy(r.f);

    run_start(&r, "corrupt=100%", 4);
    run_frames(&r, 50);
    for (size_t i = 0; i < 50; i++) {
        uint8_t clean[64] = { 0 };
        fa_put32(clean, (uint32_t)i);
        int bits = 0;
        for (int k = 0; k < 64; k++)
            bits += __builtin_popcount(clean[k] ^ r.cap.frame[i][k]);
        assert_int_equal(bits, 1);
    }
    fa_fault_destroy(r.f);
}

static void delay_holds_frames_until_due(void **state)
{
    (void)state;
    static struct run r;
    run_start(&r, "delay=2ms", 1);
    struct fa_device d = fa_fault_device(r.f);
    uint8_t fr[60] = { 0 };
    d.transmit(d.ctx, fr, sizeof fr);
    assert_int_equal(r.cap.count, 0);
    assert_true(fa_fault_poll(r.f, 0) == 2 * FA_NS_PER_MS);
    assert_true(fa_fault_poll(r.f, 2 * FA_NS_PER_MS - 1) == 2 * FA_NS_PER_MS);
    assert_int_equal(r.cap.count, 0);
    assert_true(fa_fault_poll(r.f, 2 * FA_NS_PER_MS) == FA_TIME_NEVER);
    assert_int_equal(r.cap.count, 1);
    fa_fault_destroy(r.f);
}

static void spec_parsing(void **state)
{
    (void)state;
    struct fa_fault_config c;
    fa_fault_config_init(&c);
    assert_int_equal(fa_fault_parse("drop=5%,dup=0.02,reorder=5%,corrupt=0.1%,delay=3ms,jitter=500us", &c), 0);
    assert_true(c.drop > 0.0499 && c.drop < 0.0501);
    assert_true(c.duplicate > 0.0199 && c.duplicate < 0.0201);
    assert_true(c.corrupt > 0.00099 && c.corrupt < 0.00101);
    assert_true(c.delay == 3 * FA_NS_PER_MS);
    assert_true(c.jitter == 500 * FA_NS_PER_US);
    static const char *const bad[] = { "drop", "drop=", "drop=150%", "drop=-1",
                                       "nosuch=1", "delay=3weeks", "drop=5%x", "," };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(fa_fault_parse(bad[i], &c), -EINVAL);
    /* A failed parse leaves the config as it was. */
    assert_true(c.delay == 3 * FA_NS_PER_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drop_rate_is_as_asked),
        cmocka_unit_test(same_seed_same_faults),
        cmocka_unit_test(duplicate_reorder_corrupt),
        cmocka_unit_test(delay_holds_frames_until_due),
        cmocka_unit_test(spec_parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
