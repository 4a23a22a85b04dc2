/* test_ladder_input.c — finack-ladder's readers take untrusted input:
 * a missing, empty or foreign file, a damaged header or record, frames
 * that are not IPv4 TCP, malformed or cut by the snaplen, and JSON lines
 * that do not parse give a clear error or are skipped and counted, and
 * 20,000 mutated captures and JSON files go through reading, inference
 * and the page without a crash (the test run's second build has ASan
 * and UBSan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <finack/prng.h>

#include "ladder/ladder.h"

static char path[64];

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); } /* little-endian host */

/* A pcap's global header: Ethernet, snaplen 65535. */
static size_t pcap_header(uint8_t *b, uint32_t link)
{
    put32(b, 0xa1b2c3d4);
    b[4] = 2; b[5] = 0; b[6] = 4; b[7] = 0;
    memset(b + 8, 0, 8);
    put32(b + 16, 65535);
    put32(b + 20, link);
    return 24;
}

static size_t record(uint8_t *b, const uint8_t *frame, uint32_t caplen, uint32_t len)
{
    put32(b, 1);
    put32(b + 4, 0);
    put32(b + 8, caplen);
    put32(b + 12, len);
    memcpy(b + 16, frame, caplen);
    return 16 + caplen;
}

/* An Ethernet frame with an IPv4 TCP segment: flags, 20-byte header
 * plus opts, dlen data bytes (all in the frame). */
static size_t tcp_frame(uint8_t *f, uint8_t flags, uint32_t seq, uint32_t ack,
                        const uint8_t *opts, size_t olen, size_t dlen)
{
    memset(f, 0, 14 + 20 + 20 + olen + dlen);
    f[12] = 0x08;
    uint8_t *ip = f + 14, *t = ip + 20;
    size_t total = 20 + 20 + olen + dlen;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(total >> 8);
    ip[3] = (uint8_t)total;
    ip[8] = 64;
    ip[9] = 6;
    ip[12] = 192; ip[13] = 0; ip[14] = 2; ip[15] = 1;
    ip[16] = 192; ip[17] = 0; ip[18] = 2; ip[19] = 2;
    t[0] = 0x9c; t[1] = 0x40; t[3] = 80;
    for (int i = 0; i < 4; i++) {
        t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
        t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
    }
    t[12] = (uint8_t)((5 + olen / 4) << 4);
    t[13] = flags;
    t[14] = 0xff;
    if (olen)
        memcpy(t + 20, opts, olen);
    return 14 + total;
}

/* The frame as B (192.0.2.2) sends it back: addresses and ports swapped. */
static void from_b(uint8_t *f)
{
    f[14 + 12 + 3] ^= 3;
    f[14 + 16 + 3] ^= 3;
    uint8_t port[2] = { f[34], f[35] };
    f[34] = f[36];
    f[35] = f[37];
    f[36] = port[0];
    f[37] = port[1];
}

static void write_file(const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* Reads path; returns lad_read_pcap's result, the capture in *cap. */
static int read_it(struct lad_capture *cap, char *err, size_t n)
{
    lad_init(cap);
    err[0] = 0;
    return lad_read_pcap(cap, path, err, n);
}

static int setup(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/fa-ladder-%d.pcap", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    remove(path);
    return 0;
}

static void files_that_are_no_capture(void **state)
{
    (void)state;
    struct lad_capture cap;
    char err[512];
    remove(path);
    assert_int_equal(read_it(&cap, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    write_file((const uint8_t *)"", 0);
    assert_int_equal(read_it(&cap, err, sizeof err), -1);
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    write_file(junk, sizeof junk);
    assert_int_equal(read_it(&cap, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a capture"));
    uint8_t b[64];
    pcap_header(b, 1);
    write_file(b, 10); /* the global header cut short */
    assert_int_equal(read_it(&cap, err, sizeof err), -1);
    pcap_header(b, 189); /* USB: not a link finack-ladder reads */
    write_file(b, 24);
    assert_int_equal(read_it(&cap, err, sizeof err), -1);
    assert_non_null(strstr(err, "link type"));
    lad_free(&cap);
}

static void frames_are_counted_and_skipped(void **state)
{
    (void)state;
    static uint8_t b[8192], f[2048];
    size_t n = pcap_header(b, 1);
    static const uint8_t mss[] = { 2, 4, 5, 0xb4 };
    size_t fl = tcp_frame(f, 0x02, 1000, 0, mss, sizeof mss, 0);
    n += record(b + n, f, (uint32_t)fl, (uint32_t)fl); /* a SYN: kept */
    uint8_t arp[60] = { [12] = 0x08, [13] = 0x06 };
    n += record(b + n, arp, sizeof arp, sizeof arp); /* not IPv4 */
    fl = tcp_frame(f, 0x10, 1001, 0, NULL, 0, 0);
    f[14 + 9] = 17;
    n += record(b + n, f, (uint32_t)fl, (uint32_t)fl); /* UDP */
    fl = tcp_frame(f, 0x10, 1001, 0, NULL, 0, 0);
    f[14] = 0x43;
    n += record(b + n, f, (uint32_t)fl, (uint32_t)fl); /* IHL 3: malformed */
    fl = tcp_frame(f, 0x10, 1001, 0, NULL, 0, 0);
    f[14 + 20 + 12] = 0x30;
    n += record(b + n, f, (uint32_t)fl, (uint32_t)fl); /* data offset 3 */
    fl = tcp_frame(f, 0x10, 1001, 0, NULL, 0, 0);
    f[14 + 2] = 0;
    f[14 + 3] = 10;
    n += record(b + n, f, (uint32_t)fl, (uint32_t)fl); /* total length 10 */
    fl = tcp_frame(f, 0x18, 1001, 0, NULL, 0, 1000);
    n += record(b + n, f, 80, (uint32_t)fl); /* snaplen cut the data: kept */
    fl = tcp_frame(f, 0x10, 2001, 0, NULL, 0, 0);
    n += record(b + n, f, 40, (uint32_t)fl); /* cut inside the TCP header */
    fl = tcp_frame(f, 0x02, 1000, 0, mss, 3, 0); /* an option list cut short */
    n += record(b + n, f, (uint32_t)fl, (uint32_t)fl);
    write_file(b, n);
    struct lad_capture cap;
    char err[512];
    assert_int_equal(read_it(&cap, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(cap.frames, 9);
    assert_int_equal(cap.not_tcp, 2);
    assert_int_equal(cap.malformed, 4);
    assert_int_equal(cap.cut_short, 1);
    assert_int_equal(cap.nconn, 1);
    assert_int_equal(cap.conn[0].nseg, 3);
    assert_int_equal(cap.conn[0].seg[0].g.mss, 1460);
    assert_int_equal(cap.conn[0].seg[1].g.len, 1000); /* from the IP header */
    assert_int_equal(cap.conn[0].seg[1].cut, 1);
    lad_free(&cap);
    /* A record whose length is absurd ends the reading, with a message;
     * what came before stays. */
    put32(b + 24 + 8, 0x7fffffff);
    write_file(b, n);
    int rc = read_it(&cap, err, sizeof err);
    assert_true(rc == 0 || rc == -1);
    assert_true(err[0] != 0);
    lad_free(&cap);
    /* A record cut short by the end of the file. */
    n = pcap_header(b, 1);
    fl = tcp_frame(f, 0x02, 1000, 0, NULL, 0, 0);
    n += record(b + n, f, (uint32_t)fl, (uint32_t)fl);
    n += record(b + n, f, (uint32_t)fl, (uint32_t)fl);
    write_file(b, n - 10);
    assert_int_equal(read_it(&cap, err, sizeof err), 0);
    assert_true(err[0] != 0);
    assert_int_equal(cap.conn[0].nseg, 1);
    lad_free(&cap);
}

static void whole_path(const uint8_t *b, size_t n, int json);

/* Found by fuzz_pcap: a window scale of 141 in both SYNs made the page's
 * scaled window a shift past 64 bits (RFC 7323 §2.3: use 14). */
static void window_scale_beyond_14(void **state)
{
    (void)state;
    static uint8_t b[4096], f[256];
    static const uint8_t ws[] = { 1, 3, 3, 141 };
    size_t n = pcap_header(b, 1);
    size_t fl = tcp_frame(f, 0x02, 1000, 0, ws, sizeof ws, 0);
    n += record(b + n, f, (uint32_t)fl, (uint32_t)fl);
    fl = tcp_frame(f, 0x12, 5000, 1001, ws, sizeof ws, 0);
    from_b(f);
    n += record(b + n, f, (uint32_t)fl, (uint32_t)fl);
    fl = tcp_frame(f, 0x10, 1001, 5001, NULL, 0, 0);
    n += record(b + n, f, (uint32_t)fl, (uint32_t)fl);
    whole_path(b, n, 0);
}

/* The review of finack-ladder: one check per finding the readers and
 * the model answer for (the pages' findings are in ladder_page.sh). */
static void review_findings(void **state)
{
    (void)state;
    struct lad_capture cap;
    char err[256];
    /* A state name is never markup; NaN is no time. */
    static const char js[] =
        "{\"t_ms\":0,\"event\":\"state\",\"host\":\"A\",\"port\":1,\"state\":\"<script>/*\"}\n"
        "{\"t_ms\":nan,\"event\":\"segment\",\"from\":\"A\",\"flags\":\"SYN\",\"seq\":0,"
        "\"ack\":0,\"win\":1,\"len\":0}\n"
        "{\"t_ms\":1,\"event\":\"segment\",\"from\":\"A\",\"flags\":\"SYN\",\"seq\":1e300,"
        "\"ack\":0,\"win\":1,\"len\":0}\n";
    FILE *in = fmemopen((void *)js, sizeof js - 1, "r");
    lad_init(&cap);
    assert_int_equal(lad_read_json(&cap, in, err, sizeof err), 0);
    fclose(in);
    assert_int_equal(cap.malformed, 3);
    assert_int_equal(cap.nconn, 0);
    assert_int_equal(cap.nearly, 0);
    lad_free(&cap);
    /* A capture that starts mid-connection counts from 1, as Wireshark
     * does, and shows both ends open; a TSO super-frame's IP length of 0
     * means the frame's; Linux cooked v2 (tcpdump -i any) is read. */
    static uint8_t b[16384], f[4096];
    size_t n = pcap_header(b, 276); /* LINUX_SLL2 */
    size_t fl = tcp_frame(f, 0x18, 5000, 9000, NULL, 0, 10);
    uint8_t sll[4096] = { 0x08, 0x00 };
    memcpy(sll + 20, f + 14, fl - 14);
    n += record(b + n, sll, (uint32_t)(fl - 14 + 20), (uint32_t)(fl - 14 + 20));
    fl = tcp_frame(f, 0x10, 9000, 5010, NULL, 0, 3000);
    from_b(f);
    f[14 + 2] = f[14 + 3] = 0; /* IP total length 0: a super-frame */
    memcpy(sll + 20, f + 14, fl - 14);
    n += record(b + n, sll, (uint32_t)(fl - 14 + 20), (uint32_t)(fl - 14 + 20));
    write_file(b, n);
    assert_int_equal(read_it(&cap, err, sizeof err), 0);
    assert_int_equal(cap.malformed, 0);
    assert_int_equal(cap.nconn, 1);
    assert_int_equal(cap.conn[0].nseg, 2);
    const struct lad_conn *c = &cap.conn[0];
    assert_int_equal(lad_rel_seq(c, &c->seg[0]), 1);
    assert_int_equal(lad_rel_ack(c, &c->seg[0]), 1);
    assert_int_equal(lad_rel_seq(c, &c->seg[1]), 1);
    assert_int_equal(lad_rel_ack(c, &c->seg[1]), 11);
    assert_int_equal(c->seg[1].g.len, 3000);
    lad_finish(&cap);
    assert_int_equal(cap.conn[0].nst, 2); /* ESTABLISHED? on both sides */
    assert_string_equal(cap.conn[0].st[0].name, "ESTABLISHED");
    lad_free(&cap);
}

/* An RST outside the receiver's window is ignored (RFC 9293 §3.10.7.4):
 * the inferred states go on to the close that follows. */
static void rst_outside_the_window(void **state)
{
    (void)state;
    struct lad_capture cap;
    lad_init(&cap);
    struct fa_sim_segment g = { .src = 1, .dst = 2, .sport = 10, .dport = 20, .ws = -1 };
    struct { int from; uint8_t flags; uint32_t seq, ack; } seq[] = {
        { 0, 0x02, 100, 0 }, { 1, 0x12, 500, 101 }, { 0, 0x10, 101, 501 },
        { 1, 0x04, 500 + (1u << 30), 0 }, /* forged, far outside */
        { 0, 0x11, 101, 501 }, { 1, 0x10, 501, 102 }, { 1, 0x11, 501, 102 },
        { 0, 0x10, 102, 502 },
    };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        struct fa_sim_segment x = g;
        if (seq[i].from) {
            x.src = 2; x.dst = 1; x.sport = 20; x.dport = 10;
        }
        x.flags = seq[i].flags;
        x.seq = seq[i].seq;
        x.ack = seq[i].ack;
        x.win = 1000;
        assert_true(lad_add_segment(&cap, &x, (double)i, -1, 0, 0) >= 0);
    }
    lad_finish(&cap);
    const struct lad_conn *c = &cap.conn[0];
    const char *want[] = { "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "ESTABLISHED",
                           "FIN-WAIT-1", "CLOSE-WAIT", "FIN-WAIT-2", "LAST-ACK",
                           "TIME-WAIT", "CLOSED" };
    assert_int_equal(c->nst, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < c->nst; i++)
        assert_string_equal(c->st[i].name, want[i]);
    lad_free(&cap);
}

static void json_lines_that_do_not_parse(void **state)
{
    (void)state;
    static const char text[] =
        "{\"t_ms\":0.000,\"event\":\"state\",\"host\":\"A\",\"port\":40000,\"state\":\"SYN-SENT\"}\n"
        "{\"t_ms\":0.000,\"event\":\"segment\",\"from\":\"A\",\"to\":\"B\",\"sport\":40000,"
        "\"dport\":80,\"flags\":\"SYN\",\"seq\":0,\"ack\":0,\"win\":65535,\"len\":0,\"lost\":false}\n"
        "not json at all\n"
        "{\"t_ms\":1,\"event\":\"segment\",\"from\":\"A\"}\n"
        "{\"t_ms\":1,\"event\":\"warp\"}\n"
        "{\"event\":\"note\"}\n";
    FILE *in = fmemopen((void *)text, sizeof text - 1, "r");
    struct lad_capture cap;
    char err[128] = "";
    lad_init(&cap);
    assert_int_equal(lad_read_json(&cap, in, err, sizeof err), 0);
    fclose(in);
    assert_int_equal(cap.frames, 6);
    assert_int_equal(cap.malformed, 4);
    assert_int_equal(cap.nconn, 1);
    assert_int_equal(cap.conn[0].nst, 1);
    lad_free(&cap);
}

/* Reading, inference and the page for one input: must not crash. */
static void whole_path(const uint8_t *b, size_t n, int json)
{
    struct lad_capture cap;
    char err[512];
    lad_init(&cap);
    int rc;
    if (json) {
        FILE *in = fmemopen((void *)b, n ? n : 1, "r");
        rc = in ? lad_read_json(&cap, in, err, sizeof err) : -1;
        if (in)
            fclose(in);
    } else {
        write_file(b, n);
        rc = lad_read_pcap(&cap, path, err, sizeof err);
    }
    if (rc == 0) {
        lad_finish(&cap);
        FILE *out = fopen("/dev/null", "w");
        struct lad_html_opts o;
        lad_html_defaults(&o);
        o.max_arrows = 10;
        o.max_points = 10;
        assert_int_equal(lad_write_html(&cap, out, &o), 0);
        fclose(out);
    }
    lad_free(&cap);
}

static void mutated_inputs(void **state)
{
    (void)state;
    /* A valid capture of a small connection, and its JSON. */
    static uint8_t base[16384], b[16384], f[2048];
    size_t n = pcap_header(base, 1);
    static const uint8_t opts[] = { 2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 1, 1,
                                    5, 10, 0, 0, 0, 9, 0, 0, 0, 20, 1, 1 };
    size_t fl = tcp_frame(f, 0x02, 1000, 0, opts, 12, 0);
    n += record(base + n, f, (uint32_t)fl, (uint32_t)fl);
    for (int i = 0; i < 12; i++) {
        uint8_t flags = i == 11 ? 0x11 : i % 3 == 0 ? 0x12 : 0x18;
        fl = tcp_frame(f, flags, 1000 + 100u * (uint32_t)i, 2000, opts + (i % 2 ? 12 : 0),
                       i % 2 ? 12 : 0, (size_t)(i % 4) * 30);
        if (i % 2)
            memcpy(f + 14 + 40, "\x01\x01\x05\x0a\x00\x00\x00\x09\x00\x00\x00\x14", 12);
        f[14 + 12 + 3] ^= (uint8_t)(i & 1); /* the two directions */
        f[14 + 16 + 3] ^= (uint8_t)(i & 1);
        n += record(base + n, f, (uint32_t)fl, (uint32_t)fl);
    }
    static const char json[] =
        "{\"t_ms\":0,\"event\":\"segment\",\"from\":\"A\",\"sport\":1,\"dport\":2,\"flags\":"
        "\"SYN\",\"seq\":0,\"ack\":0,\"win\":9,\"len\":0,\"sack\":\"1-2 3-4\",\"lost\":false}\n"
        "{\"t_ms\":5,\"event\":\"arrive\",\"from\":\"A\",\"sport\":1,\"dport\":2,\"flags\":"
        "\"SYN\",\"seq\":0,\"ack\":0,\"win\":9,\"len\":0}\n"
        "{\"t_ms\":5,\"event\":\"state\",\"host\":\"B\",\"port\":2,\"state\":\"SYN-RECEIVED\"}\n"
        "{\"t_ms\":6,\"event\":\"note\",\"text\":\"<b>&\\\"x\"}\n";
    struct fa_prng p;
    fa_prng_seed(&p, 42);
    for (int round = 0; round < 20000; round++) {
        int as_json = round % 4 == 3;
        size_t len = as_json ? sizeof json - 1 : n;
        memcpy(b, as_json ? (const uint8_t *)json : base, len);
        int edits = 1 + (int)fa_prng_below(&p, 8);
        for (int e = 0; e < edits; e++) {
            size_t at = (size_t)fa_prng_below(&p, (uint32_t)len);
            switch (fa_prng_below(&p, 4)) {
            case 0: b[at] ^= (uint8_t)(1u << fa_prng_below(&p, 8)); break;
            case 1: b[at] = (uint8_t)fa_prng_below(&p, 256); break;
            case 2: len = at; break; /* cut the file */
            default: b[at] = (uint8_t)(as_json ? "{}\":,\n-9"[fa_prng_below(&p, 8)] : 0xff);
            }
            if (!len)
                break;
        }
        whole_path(b, len, as_json);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(files_that_are_no_capture, setup, teardown),
        cmocka_unit_test_setup_teardown(frames_are_counted_and_skipped, setup, teardown),
        cmocka_unit_test(json_lines_that_do_not_parse),
        cmocka_unit_test(rst_outside_the_window),
        cmocka_unit_test_setup_teardown(review_findings, setup, teardown),
        cmocka_unit_test_setup_teardown(window_scale_beyond_14, setup, teardown),
        cmocka_unit_test_setup_teardown(mutated_inputs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
