/* test_offload.c — the offloads a device may do for the stack (what a TAP
 * with its virtio-net header does): checksums completed by the device,
 * TSO super-frames cut by it, and checksum-partial or GRO frames
 * received, with their metadata checked like any other input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "iface/iface.h"
#include "pair.h"
#include "peer.h"
#include "wire/wire.h"

/* ---- a device that does what the kernel does with our super-frames ---- */

struct offl {
    struct fa_device inner;
    uint64_t metas, gso_frames, segments;
    int have_id;
    uint16_t next_id; /* IP ids run on across super-frames, as Linux's */
    uint8_t buf[2048];
};
static struct offl offl[2];

/* What fa_gso_segment made of a frame, to compare with the cut here. */
struct collected {
    size_t n, len[64];
    uint8_t frame[64][1600];
};
static int collect(void *ctx, const uint8_t *frame, size_t len)
{
    struct collected *c = ctx;
    assert_true(c->n < 64 && len <= sizeof c->frame[0]);
    memcpy(c->frame[c->n], frame, len);
    c->len[c->n++] = len;
    return 0;
}

/* The last super-frame the device saw, for the pcap tee's test. */
static uint8_t last_super[FA_GSO_FRAME_MAX];
static size_t last_super_len;
static struct fa_frame_meta last_super_meta;

/* Every IPv4 packet's id follows the previous packet's last segment. */
static void check_id(struct offl *o, const uint8_t *frame, size_t len, uint32_t segs)
{
    if (len < FA_ETH_HLEN + FA_IPV4_HLEN || fa_get16(frame + 12) != FA_ETHERTYPE_IPV4)
        return;
    uint16_t id = fa_get16(frame + FA_ETH_HLEN + 4);
    if (o->have_id)
        assert_int_equal(id, o->next_id);
    o->have_id = 1;
    o->next_id = (uint16_t)(id + segs);
}

static int offl_plain(void *ctx, const uint8_t *frame, size_t len)
{
    struct offl *o = ctx;
    check_id(o, frame, len, 1);
    return o->inner.transmit(o->inner.ctx, frame, len);
}

/* The TCP header length of the frame's segment. */
static size_t tcp_hlen_of(const uint8_t *frame)
{
    return (size_t)(frame[FA_ETH_HLEN + FA_IPV4_HLEN + 12] >> 4) * 4;
}

/* The partial checksum the stack left is what the device completes: the
 * sum from csum_start on, with the field as the stack wrote it, must be
 * the segment's true checksum. */
static void assert_partial_checksum_right(const uint8_t *frame, size_t len,
                                          const struct fa_frame_meta *m)
{
    assert_int_equal(m->flags, FA_META_CSUM_PARTIAL);
    assert_int_equal(m->csum_start, FA_ETH_HLEN + FA_IPV4_HLEN);
    assert_int_equal(m->csum_offset, 16);
    const uint8_t *seg = frame + m->csum_start;
    uint16_t completed = fa_csum_fold(fa_csum_add(0, seg, len - m->csum_start));
    static uint8_t copy[FA_GSO_FRAME_MAX];
    memcpy(copy, seg, len - m->csum_start);
    struct fa_ipv4_view ip;
    assert_int_equal(fa_ipv4_hdr_parse(frame + FA_ETH_HLEN, len - FA_ETH_HLEN, &ip), 0);
    fa_tcp_hdr_checksum(copy, len - m->csum_start, ip.src, ip.dst);
    assert_memory_equal(&completed, copy + 16, 2);
}

/* Cuts a super-frame as Linux's GSO does: the headers copied to every
 * segment, sequence numbers and IP ids advanced, PSH and FIN kept for
 * the last, every checksum computed. */
static int offl_meta(void *ctx, const uint8_t *frame, size_t len,
                     const struct fa_frame_meta *m)
{
    struct offl *o = ctx;
    o->metas++;
    assert_partial_checksum_right(frame, len, m);
    size_t hdr = m->csum_start + tcp_hlen_of(frame);
    size_t data = len - hdr;
    size_t step = m->gso_type ? m->gso_size : data;
    if (m->gso_type) {
        assert_int_equal(m->gso_type, FA_GSO_TCPV4);
        assert_true(data > m->gso_size); /* a super-frame has two or more */
        assert_int_equal(data % m->gso_size, 0); /* full segments only */
        assert_true(len <= FA_GSO_FRAME_MAX);
        o->gso_frames++;
    } else {
        assert_true(len <= 1514);
    }
    check_id(o, frame, len, m->gso_type ? (uint32_t)(data / step) : 1);
    /* The library's software GSO must cut it exactly as this does. */
    static struct collected lib;
    static uint8_t scratch[FA_GSO_SCRATCH];
    lib.n = 0;
    assert_true(fa_gso_segment(frame, len, m, scratch, sizeof scratch, collect, &lib) > 0);
    if (m->gso_type) {
        memcpy(last_super, frame, len);
        last_super_len = len;
        last_super_meta = *m;
    }
    uint32_t seq = fa_get32(frame + m->csum_start + 4);
    uint16_t id = fa_get16(frame + FA_ETH_HLEN + 4);
    struct fa_ipv4_view ip;
    assert_int_equal(fa_ipv4_hdr_parse(frame + FA_ETH_HLEN, len - FA_ETH_HLEN, &ip), 0);
    for (size_t off = 0, i = 0; off < data || (data == 0 && i == 0); off += step, i++) {
        size_t n = data - off < step ? data - off : step;
        uint8_t *b = o->buf;
        memcpy(b, frame, hdr);
        memcpy(b + hdr, frame + hdr + off, n);
        uint8_t *iph = b + FA_ETH_HLEN, *tcp = b + m->csum_start;
        fa_put16(iph + 2, (uint16_t)(hdr - FA_ETH_HLEN + n));
        fa_put16(iph + 4, (uint16_t)(id + i));
        iph[10] = iph[11] = 0;
        fa_csum_store(iph + 10, fa_csum_fold(fa_csum_add(0, iph, FA_IPV4_HLEN)));
        fa_put32(tcp + 4, seq + (uint32_t)off);
        if (off + n < data)
            tcp[13] &= (uint8_t)~(FA_TCP_PSH | FA_TCP_FIN);
        fa_tcp_hdr_checksum(tcp, hdr - m->csum_start + n, ip.src, ip.dst);
        assert_true(i < lib.n);
        assert_int_equal(lib.len[i], hdr + n);
        assert_memory_equal(lib.frame[i], b, hdr + n);
        o->segments++;
        o->inner.transmit(o->inner.ctx, b, hdr + n);
        if (data == 0)
            break;
    }
    return 0;
}

static void with_offloads(int side, struct fa_config *cfg)
{
    offl[side] = (struct offl){ .inner = cfg->device };
    cfg->device = (struct fa_device){
        .ctx = &offl[side], .transmit = offl_plain,
        .offloads = FA_OFFLOAD_TX_CSUM | FA_OFFLOAD_TSO, .transmit_meta = offl_meta,
    };
    cfg->tcp_sndbuf = cfg->tcp_rcvbuf = 1 << 20;
}

static void fill(uint8_t *b, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        b[i] = (uint8_t)(seed >> 16);
    }
}

/* Both directions through a device that completes checksums and cuts
 * super-frames: every byte arrives, and most data left as super-frames
 * whose layout and partial checksum are what a kernel expects. */
static void tso_transfer_both_ways(void **state)
{
    (void)state;
    static struct pair p;
    pair_init_ex(&p, NULL, NULL, 7, with_offloads);
    struct fa_tcp *c, *s, *l;
    pair_connect(&p, 80, &c, &s, &l, NULL);
    enum { N = 3 << 20 };
    static uint8_t in[N], out[N];
    for (int dir = 0; dir < 2; dir++) {
        fill(in, N, 11u + (uint32_t)dir);
        memset(out, 0, N);
        struct fa_tcp *src = dir ? s : c, *dst = dir ? c : s;
        assert_int_equal(pair_transfer(&p, src, dst, in, N, out, p.now + 60 * FA_NS_PER_S), N);
        assert_memory_equal(in, out, N);
        struct offl *o = &offl[dir];
        const struct fa_stack *st = p.stack[dir];
        assert_true(o->gso_frames > 0);
        assert_int_equal(fa_stack_counter(st, FA_CNT_TX_GSO_FRAMES), o->gso_frames);
        /* Fewer frames than segments: most data went in super-frames. */
        assert_true(o->gso_frames * 4 < o->segments);
        assert_int_equal(fa_stack_counter(p.stack[!dir], FA_CNT_TCP_BAD_CHECKSUM), 0);
    }
    /* The next hop forgotten (evicted, or its entry expired): no
     * super-frame is built while ARP resolves it — single segments wait
     * in ARP's queue, and the transfer completes. */
    for (unsigned i = 0; i < fa_stack_config(p.stack[0])->arp_cache_size; i++)
        p.stack[0]->arp[i].state = FA_ARP_FREE;
    fill(in, 20000, 5);
    assert_int_equal(pair_transfer(&p, c, s, in, 20000, out, p.now + 60 * FA_NS_PER_S), 20000);
    assert_memory_equal(in, out, 20000);
    assert_int_equal(fa_stack_counter(p.stack[0], FA_CNT_TX_OFFLOAD_UNSENT), 0);
    /* Nothing dropped but the other side's gratuitous ARP. */
    for (int i = 0; i < 2; i++)
        assert_int_equal(drops_total(p.stack[i]),
                         fa_stack_counter(p.stack[i], FA_CNT_ARP_NOT_FOR_US));
    pair_destroy(&p);
}

/* The pcap tee records a super-frame as the segments a wire carries and
 * passes it on whole to a device that takes metadata; the fault wrapper
 * in front of such a device cuts it and sends the segments on. */
static int count_plain(void *ctx, const uint8_t *frame, size_t len)
{
    (void)frame;
    (void)len;
    ++*(size_t *)ctx;
    return 0;
}
static int count_meta(void *ctx, const uint8_t *frame, size_t len, const struct fa_frame_meta *m)
{
    (void)frame;
    (void)len;
    (void)m;
    *(size_t *)ctx += 1000;
    return 0;
}

static void pcap_and_fault_see_segments(void **state)
{
    (void)state;
    assert_true(last_super_len > 0); /* from tso_transfer_both_ways */
    size_t segs = (last_super_len - FA_ETH_HLEN - FA_IPV4_HLEN - tcp_hlen_of(last_super)) /
                  last_super_meta.gso_size;
    fa_time now = 0;
    struct fa_clock clock = fa_clock_virtual(&now);
    char path[64];
    snprintf(path, sizeof path, "/tmp/finack-test-offload-%d.pcap", (int)getpid());
    struct fa_pcap *pcap;
    assert_int_equal(fa_pcap_open(path, clock, &pcap), 0);
    size_t got = 0;
    struct fa_pcap_tee tee = { pcap, { .ctx = &got, .transmit = count_plain,
                                       .offloads = FA_OFFLOAD_TX_CSUM | FA_OFFLOAD_TSO,
                                       .transmit_meta = count_meta } };
    struct fa_device d = fa_pcap_tee_device(&tee);
    assert_int_equal(d.offloads, FA_OFFLOAD_TX_CSUM | FA_OFFLOAD_TSO);
    assert_int_equal(d.transmit_meta(d.ctx, last_super, last_super_len, &last_super_meta), 0);
    assert_int_equal(fa_pcap_frames(pcap), segs);
    assert_int_equal(got, 1000); /* passed on whole */
    assert_int_equal(fa_pcap_close(pcap), 0);
    unlink(path);

    struct fa_fault_config fc;
    fa_fault_config_init(&fc);
    struct fa_fault *f;
    got = 0;
    assert_int_equal(fa_fault_create(&fc, 1, tee.next, clock, &f), 0);
    d = fa_fault_device(f);
    assert_int_equal(d.offloads, FA_OFFLOAD_TX_CSUM | FA_OFFLOAD_TSO);
    assert_int_equal(d.transmit_meta(d.ctx, last_super, last_super_len, &last_super_meta), 0);
    assert_int_equal(got, segs); /* cut, then on as plain frames */
    /* Metadata that does not fit the frame is refused, nothing sent. */
    struct fa_frame_meta bad = last_super_meta;
    bad.csum_start = 20;
    assert_int_equal(d.transmit_meta(d.ctx, last_super, last_super_len, &bad), -EINVAL);
    assert_int_equal(got, segs);
    fa_fault_destroy(f);
}

static int refuse_emit(void *ctx, const uint8_t *frame, size_t len)
{
    (void)frame;
    (void)len;
    ++*(size_t *)ctx;
    return -EMSGSIZE;
}

/* fa_gso_segment takes its frame as untrusted input: a UDP datagram's
 * partial checksum is completed; a super-frame marked only DATA_VALID is
 * cut; lying headers are refused with nothing emitted; CWR stays on the
 * first segment only; a device that refuses a segment is heard. */
static void software_gso_checks_its_input(void **state)
{
    (void)state;
    assert_true(last_super_len > 0);
    static uint8_t f[FA_GSO_FRAME_MAX], scratch[FA_GSO_SCRATCH];
    static struct collected out;
    /* UDP, checksum partial (offset 6), as the kernel hands it. */
    size_t ulen = build_udp(f, mac_a, IP_PEER, IP_US, 1000, 2000, (const uint8_t *)"hello", 5);
    uint8_t *u = f + FA_ETH_HLEN + FA_IPV4_HLEN;
    fa_csum_store(u + 6, (uint16_t)~fa_csum_fold(fa_csum_pseudo(IP_PEER, IP_US, FA_IPPROTO_UDP, 13)));
    struct fa_frame_meta um = { .flags = FA_META_CSUM_PARTIAL, .csum_start = 34, .csum_offset = 6 };
    out.n = 0;
    assert_int_equal(fa_gso_segment(f, ulen, &um, scratch, sizeof scratch, collect, &out), 1);
    uint8_t *cu = out.frame[0] + 34;
    assert_int_equal(fa_csum_fold(fa_csum_add(fa_csum_pseudo(IP_PEER, IP_US, FA_IPPROTO_UDP, 13),
                                              cu, 13)), 0);
    /* A super-frame with DATA_VALID only: cut all the same. */
    size_t segs = (last_super_len - 34 - tcp_hlen_of(last_super)) / last_super_meta.gso_size;
    struct fa_frame_meta vm = last_super_meta;
    vm.flags = FA_META_CSUM_VALID;
    out.n = 0;
    assert_int_equal(fa_gso_segment(last_super, last_super_len, &vm, scratch, sizeof scratch,
                                    collect, &out), (int)segs);
    /* CWR on the first segment only. */
    memcpy(f, last_super, last_super_len);
    f[34 + 13] |= 0x80;
    out.n = 0;
    assert_true(fa_gso_segment(f, last_super_len, &last_super_meta, scratch, sizeof scratch,
                               collect, &out) > 1);
    assert_true(out.frame[0][34 + 13] & 0x80);
    assert_false(out.frame[1][34 + 13] & 0x80);
    /* Lies: IHL 0, TCP data offset 0, a total length past the frame. */
    for (int lie = 0; lie < 3; lie++) {
        memcpy(f, last_super, last_super_len);
        if (lie == 0)
            f[14] = 0x40;
        if (lie == 1)
            f[34 + 12] = 0;
        if (lie == 2)
            fa_put16(f + 16, (uint16_t)(last_super_len - 14 + 1));
        out.n = 0;
        assert_int_equal(fa_gso_segment(f, last_super_len, &last_super_meta, scratch,
                                        sizeof scratch, collect, &out), -EINVAL);
        assert_int_equal(out.n, 0);
    }
    /* The device refuses: its error comes back, after the first try. */
    size_t tries = 0;
    assert_int_equal(fa_gso_segment(last_super, last_super_len, &last_super_meta, scratch,
                                    sizeof scratch, refuse_emit, &tries), -EMSGSIZE);
    assert_int_equal(tries, 1);
}

static size_t peer_data_frame(struct peer *pe, uint8_t *buf, size_t n);

/* Emits nothing anywhere: checks that each frame lies in the scratch. */
struct bounds {
    const uint8_t *scratch;
    size_t cap, frames;
};
static int check_bounds(void *ctx, const uint8_t *frame, size_t len)
{
    struct bounds *b = ctx;
    b->frames++;
    /* Either the frame as given (no metadata to act on) or a cut one. */
    if (frame >= b->scratch && frame < b->scratch + b->cap)
        assert_true(frame + len <= b->scratch + b->cap);
    return 0;
}

/* The machine for this untrusted input: 100,000 frames and metadata,
 * mutated from real ones (a TSO super-frame, a data segment of an open
 * connection, a UDP datagram, an ARP frame) — bytes flipped, lengths cut
 * and stretched, every metadata field drawn with a bias to the values
 * that pass the first checks — through fa_gso_segment and into a stack
 * with a connection (fa_stack_input_meta). Under ASan and UBSan (the
 * test run's second build) any read or write out of bounds fails it; the
 * stack must count every frame it is given. */
static void offload_metadata_mutations(void **state)
{
    (void)state;
    assert_true(last_super_len > 0);
    static struct peer pe;
    peer_init(&pe, NULL, 4010);
    struct fa_tcp *c = peer_connected(&pe);
    static uint8_t base[4][FA_GSO_FRAME_MAX], f[FA_GSO_FRAME_MAX + 64];
    size_t blen[4];
    memcpy(base[0], last_super, last_super_len);
    blen[0] = last_super_len;
    blen[1] = peer_data_frame(&pe, base[1], 3 * 1448);
    blen[2] = build_udp(base[2], mac_a, IP_PEER, IP_US, 1, 7, (const uint8_t *)"udp!", 4);
    blen[3] = build_arp(base[3], mac_a, FA_ARP_REQUEST, mac_peer, IP_PEER, mac_a, IP_US);
    static uint8_t scratch[FA_GSO_SCRATCH];
    struct bounds b = { scratch, sizeof scratch, 0 };
    struct fa_prng r;
    fa_prng_seed(&r, 12);
    uint64_t given = fa_stack_counter(pe.s, FA_CNT_RX_FRAMES);
    enum { N = 100000 };
    for (int i = 0; i < N; i++) {
        int k = (int)fa_prng_below(&r, 4);
        size_t len = blen[k];
        memcpy(f, base[k], len);
        for (int m = (int)fa_prng_below(&r, 4); m > 0; m--)
            f[fa_prng_below(&r, len)] ^= (uint8_t)(1u << fa_prng_below(&r, 8));
        switch (fa_prng_below(&r, 4)) {
        case 0: len = fa_prng_below(&r, len + 1); break;            /* cut */
        case 1: len += fa_prng_below(&r, 64); break;                 /* stretched */
        default: break;
        }
        struct fa_frame_meta m = {
            .flags = (uint8_t)(fa_prng_below(&r, 4) ? FA_META_CSUM_PARTIAL : fa_prng_next(&r)),
            .gso_type = (uint8_t)(fa_prng_below(&r, 3) ? fa_prng_below(&r, 2) : fa_prng_next(&r)),
            .gso_size = (uint16_t)(fa_prng_below(&r, 2) ? 1448 : fa_prng_next(&r)),
            .csum_start = (uint16_t)(fa_prng_below(&r, 2) ? 34 : fa_prng_below(&r, len + 16)),
            .csum_offset = (uint16_t)(fa_prng_below(&r, 2) ? (k == 2 ? 6 : 16) : fa_prng_below(&r, 32)),
        };
        fa_gso_segment(f, len, &m, scratch, sizeof scratch, check_bounds, &b);
        fa_stack_input_meta(pe.s, f, len, &m, pe.now);
    }
    print_message("mutations: %zu frames emitted, %llu refused for their metadata\n", b.frames, (unsigned long long)fa_stack_counter(pe.s, FA_CNT_RX_BAD_OFFLOAD));
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_RX_FRAMES) - given, N);
    assert_true(b.frames > N / 4);                     /* much got through */
    assert_true(fa_stack_counter(pe.s, FA_CNT_RX_BAD_OFFLOAD) > N / 10); /* much did not */
    uint8_t buf[256];
    while (fa_tcp_recv(c, buf, sizeof buf, pe.now) > 0)
        ;
    peer_destroy(&pe);
}

/* ---- receiving what the kernel hands a TAP with offloads ---------- */

static struct fa_frame_meta partial_tcp(uint16_t gso)
{
    return (struct fa_frame_meta){
        .flags = FA_META_CSUM_PARTIAL, .gso_type = gso ? FA_GSO_TCPV4 : FA_GSO_NONE,
        .gso_size = gso, .csum_start = FA_ETH_HLEN + FA_IPV4_HLEN, .csum_offset = 16,
    };
}

/* A data segment of n bytes from the peer, its checksum left partial (as
 * the kernel's are when the TAP takes checksum offload). */
static size_t peer_data_frame(struct peer *pe, uint8_t *buf, size_t n)
{
    uint8_t *tcp = buf + FA_ETH_HLEN + FA_IPV4_HLEN;
    size_t hlen = fa_tcp_hdr_emit(tcp, pe->port, pe->our_port, pe->snd_nxt, pe->rcv_nxt,
                                  FA_TCP_ACK, 65535, &(struct fa_tcp_opts){ 0 });
    fill(tcp + hlen, n, 3);
    fa_tcp_hdr_checksum_partial(tcp, hlen + n, IP_PEER, IP_US);
    fa_eth_emit(buf, mac_a, mac_peer, FA_ETHERTYPE_IPV4);
    fa_ipv4_hdr_emit(buf + FA_ETH_HLEN, (uint16_t)(FA_IPV4_HLEN + hlen + n), 1, FA_IPV4_DF,
                     64, FA_IPPROTO_TCP, IP_PEER, IP_US);
    return FA_ETH_HLEN + FA_IPV4_HLEN + hlen + n;
}

static void gro_frame_received(void **state)
{
    (void)state;
    static struct peer pe;
    static uint8_t frame[FA_GSO_FRAME_MAX];
    peer_init(&pe, NULL, 4000);
    struct fa_tcp *c = peer_connected(&pe);
    size_t len = peer_data_frame(&pe, frame, 6 * 1448);
    /* Without metadata the frame is too big and its checksum wrong. */
    fa_stack_input(pe.s, frame, len, pe.now);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_ETH_OVERSIZE), 1);
    /* As a GRO super-frame: six segments' worth, one ACK at once. */
    struct fa_frame_meta m = partial_tcp(1448);
    uint64_t segs_before = fa_stack_counter(pe.s, FA_CNT_TCP_SEGS_IN);
    fa_stack_input_meta(pe.s, frame, len, &m, pe.now);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_RX_GSO_FRAMES), 1);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_TCP_SEGS_IN) - segs_before, 6);
    uint8_t got[6 * 1448], want[6 * 1448];
    fill(want, sizeof want, 3);
    assert_int_equal(fa_tcp_recv(c, got, sizeof got, pe.now), sizeof got);
    assert_memory_equal(got, want, sizeof got);
    struct fa_tcp_view v = peer_expect(&pe);
    assert_int_equal(v.ack, pe.snd_nxt + 6 * 1448);
    pe.snd_nxt += 6 * 1448;
    assert_int_equal(drops_total(pe.s), 1);
    peer_destroy(&pe);
}

/* Metadata that does not fit its frame is refused and counted, and the
 * data is not taken. */
static void bad_metadata_dropped(void **state)
{
    (void)state;
    static struct peer pe;
    static uint8_t frame[FA_GSO_FRAME_MAX];
    peer_init(&pe, NULL, 4001);
    struct fa_tcp *c = peer_connected(&pe);
    size_t len = peer_data_frame(&pe, frame, 1000);
    struct fa_frame_meta bad[] = {
        partial_tcp(0), partial_tcp(0), partial_tcp(0), partial_tcp(0), partial_tcp(0),
    };
    bad[0].csum_start += 2;                          /* not the TCP header */
    bad[1].csum_offset = 6;                          /* UDP's field in TCP */
    bad[2].flags |= 0x80;                            /* a flag nobody knows */
    bad[3].gso_type = 0xff;                          /* a GSO type nobody knows */
    bad[4].gso_type = FA_GSO_TCPV4;                  /* GSO of 0-byte segments */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        fa_stack_input_meta(pe.s, frame, len, &bad[i], pe.now);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_RX_BAD_OFFLOAD), 5);
    /* GSO on a UDP datagram, metadata on an ARP frame. */
    uint8_t udp[128], arp[64];
    size_t ulen = build_udp(udp, mac_a, IP_PEER, IP_US, 1, 2, (const uint8_t *)"x", 1);
    struct fa_frame_meta um = partial_tcp(100);
    um.csum_offset = 6;
    fa_stack_input_meta(pe.s, udp, ulen, &um, pe.now);
    size_t alen = build_arp(arp, mac_a, FA_ARP_REQUEST, mac_peer, IP_PEER, mac_a, IP_US);
    struct fa_frame_meta am = { .flags = FA_META_CSUM_VALID };
    fa_stack_input_meta(pe.s, arp, alen, &am, pe.now);
    assert_int_equal(fa_stack_counter(pe.s, FA_CNT_RX_BAD_OFFLOAD), 7);
    uint8_t got[16];
    assert_int_equal(fa_tcp_recv(c, got, sizeof got, pe.now), -EAGAIN);
    /* The same frame with fitting metadata is taken. */
    struct fa_frame_meta good = partial_tcp(0);
    fa_stack_input_meta(pe.s, frame, len, &good, pe.now);
    assert_int_equal(fa_tcp_recv(c, got, sizeof got, pe.now), sizeof got);
    peer_destroy(&pe);
}

/* A frame that cannot go out as built (it waits for ARP): a partial
 * checksum is completed in software; a super-frame is dropped, counted. */
static void unsent_offload_resolved(void **state)
{
    (void)state;
    static struct peer pe;
    peer_init(&pe, NULL, 4002);
    struct fa_stack *s = pe.s;
    uint8_t *seg = fa_ip_payload(s);
    size_t hlen = fa_tcp_hdr_emit(seg, 1, 2, 100, 200, FA_TCP_ACK, 1000, &(struct fa_tcp_opts){ 0 });
    memset(seg + hlen, 0x5a, 301);
    size_t tcplen = hlen + 301;
    fa_tcp_hdr_checksum_partial(seg, tcplen, IP_US, IP_PEER);
    s->tx_meta = partial_tcp(0);
    size_t len = FA_ETH_HLEN + FA_IPV4_HLEN + tcplen;
    assert_int_equal(fa_tx_meta_resolve(s, s->tx, len), 0);
    assert_int_equal(fa_csum_fold(fa_csum_add(fa_csum_pseudo(IP_US, IP_PEER, FA_IPPROTO_TCP,
                                                             (uint16_t)tcplen),
                                              seg, tcplen)),
                     0);
    assert_int_equal(s->tx_meta.flags, 0);
    s->tx_meta = partial_tcp(100);
    assert_int_equal(fa_tx_meta_resolve(s, s->tx, len), -EMSGSIZE);
    assert_int_equal(fa_stack_counter(s, FA_CNT_TX_OFFLOAD_UNSENT), 1);
    s->tx_meta = (struct fa_frame_meta){ 0 };
    peer_destroy(&pe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tso_transfer_both_ways),
        cmocka_unit_test(pcap_and_fault_see_segments),
        cmocka_unit_test(software_gso_checks_its_input),
        cmocka_unit_test(offload_metadata_mutations),
        cmocka_unit_test(gro_frame_received),
        cmocka_unit_test(bad_metadata_dropped),
        cmocka_unit_test(unsent_offload_resolved),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
