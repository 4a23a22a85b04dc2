/* test_pcap.c — the pcap tee writes a valid classic pcap: global header,
 * one record per frame with the clock's time and the exact bytes, and it
 * passes frames on unchanged. (The kernel ping test also opens a real
 * capture with tshark.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>

#include "frames.h"

static void records_and_passes_on(void **state)
{
    (void)state;
    const char *path = "test_pcap.out.pcap";
    fa_time now = 3 * FA_NS_PER_S + 250 * FA_NS_PER_US;
    struct capture cap = { 0 };
    struct fa_pcap *p;
    assert_int_equal(fa_pcap_open(path, fa_clock_virtual(&now), &p), 0);
    struct fa_pcap_tee tee = { p, capture_device(&cap) };
    struct fa_device d = fa_pcap_tee_device(&tee);
    uint8_t f1[60], f2[1514];
    memset(f1, 0x11, sizeof f1);
    memset(f2, 0x22, sizeof f2);
    assert_int_equal(d.transmit(d.ctx, f1, sizeof f1), 0);
    now += FA_NS_PER_S;
    fa_pcap_record(p, f2, sizeof f2);
    assert_int_equal(fa_pcap_frames(p), 2);
    assert_int_equal(fa_pcap_close(p), 0);
    assert_int_equal(cap.count, 1);
    assert_memory_equal(cap.frame[0], f1, sizeof f1);

    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    uint8_t buf[4096];
    size_t n = fread(buf, 1, sizeof buf, in);
    fclose(in);
    remove(path);
    assert_int_equal(n, 24 + 16 + 60 + 16 + 1514);
    uint32_t magic, linktype, rec[4];
    memcpy(&magic, buf, 4);
    memcpy(&linktype, buf + 20, 4);
    assert_int_equal(magic, 0xa1b2c3d4);
    assert_int_equal(linktype, 1);
    memcpy(rec, buf + 24, 16);
    assert_int_equal(rec[0], 3);
    assert_int_equal(rec[1], 250);
    assert_int_equal(rec[2], 60);
    assert_int_equal(rec[3], 60);
    assert_memory_equal(buf + 40, f1, 60);
    memcpy(rec, buf + 100, 16);
    assert_int_equal(rec[0], 4);
    assert_int_equal(rec[2], 1514);
    assert_memory_equal(buf + 116, f2, 1514);
}

static void open_failure_is_reported(void **state)
{
    (void)state;
    fa_time now = 0;
    struct fa_pcap *p;
    assert_int_equal(fa_pcap_open("/nonexistent-dir/x.pcap", fa_clock_virtual(&now), &p),
                     -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(records_and_passes_on),
        cmocka_unit_test(open_failure_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
