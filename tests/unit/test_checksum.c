/* test_checksum.c — the Internet checksum against RFC 1071's worked
 * example, a plain 16-bit reference loop at every length and alignment,
 * chunked sums, and the IPv4 header property (a correct header sums to 0). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "frames.h"

static uint16_t reference(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        uint16_t w;
        memcpy(&w, p + i, 2);
        sum += w;
    }
    if (len & 1) {
        uint8_t pad[2] = { p[len - 1], 0 };
        uint16_t w;
        memcpy(&w, pad, 2);
        sum += w;
    }
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void rfc1071_example(void **state)
{
    (void)state;
    /* RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (in network order),
     * so the checksum stored is ~ddf2 = 220d. */
    const uint8_t data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    uint8_t field[2];
    fa_csum_store(field, fa_csum_fold(fa_csum_add(0, data, sizeof data)));
    assert_int_equal(fa_get16(field), 0x220d);
}

static void matches_reference_all_lengths_and_alignments(void **state)
{
    (void)state;
    struct fa_prng prng;
    fa_prng_seed(&prng, 7);
    uint8_t buf[1100];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)fa_prng_next(&prng);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len <= 1024; len++)
            assert_int_equal(fa_csum_fold(fa_csum_add(0, buf + off, len)),
                             reference(buf + off, len));
}

static void all_ones_does_not_overflow(void **state)
{
    (void)state;
    static uint8_t buf[65536];
    memset(buf, 0xff, sizeof buf);
    assert_int_equal(fa_csum_fold(fa_csum_add(0, buf, sizeof buf)),
                     reference(buf, sizeof buf));
}

static void chunked_equals_whole(void **state)
{
    (void)state;
    uint8_t buf[3000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    uint16_t whole = fa_csum_fold(fa_csum_add(0, buf, sizeof buf));
    for (size_t cut = 0; cut < sizeof buf; cut += 2) {
        uint64_t acc = fa_csum_add(0, buf, cut);
        acc = fa_csum_add(acc, buf + cut, sizeof buf - cut);
        assert_int_equal(fa_csum_fold(acc), whole);
    }
}

static void ipv4_header_verifies_to_zero(void **state)
{
    (void)state;
    uint8_t hdr[20];
    fa_ipv4_hdr_emit(hdr, 84, 0x1234, FA_IPV4_DF, 64, FA_IPPROTO_ICMP,
                 FA_IPV4(198, 18, 0, 1), FA_IPV4(198, 18, 0, 2));
    assert_int_equal(fa_csum_fold(fa_csum_add(0, hdr, sizeof hdr)), 0);
    hdr[8] ^= 1;
    assert_int_not_equal(fa_csum_fold(fa_csum_add(0, hdr, sizeof hdr)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc1071_example),
        cmocka_unit_test(matches_reference_all_lengths_and_alignments),
        cmocka_unit_test(all_ones_does_not_overflow),
        cmocka_unit_test(chunked_equals_whole),
        cmocka_unit_test(ipv4_header_verifies_to_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
