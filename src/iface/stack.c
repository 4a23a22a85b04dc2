/* stack.c — the stack object: configuration and its defaults, creation,
 * the Ethernet demultiplexer that every received frame enters by, the
 * timer entry point, and counters. */
#include <errno.h>
#include <stdlib.h>

#include "iface.h"
#include "../tcp/tcp.h"

void fa_config_init(struct fa_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->prefix_len = 24;
    cfg->mtu = 1500;
    cfg->ttl = 64;
    cfg->arp_cache_size = 64;
    cfg->arp_queue_size = 16;
    cfg->arp_reachable_time = 60 * FA_NS_PER_S;
    cfg->arp_revalidate_time = 30 * FA_NS_PER_S;
    cfg->arp_retry_interval = 1 * FA_NS_PER_S;
    cfg->arp_max_requests = 3;
    cfg->arp_gratuitous = 1;
    cfg->icmp_error_rate = 100;
    cfg->icmp_error_burst = 10;
    cfg->tcp_max_conns = 1024;
    cfg->tcp_sb_max = 8192;
    cfg->tcp_max_timewait = 4096;
    cfg->tcp_max_half_open = 256;
    cfg->tcp_sndbuf = 64 * 1024;
    cfg->tcp_rcvbuf = 64 * 1024;
    cfg->tcp_rto_initial = FA_NS_PER_S;
    cfg->tcp_rto_min = 200 * FA_NS_PER_MS;
    cfg->tcp_rto_max = 120 * FA_NS_PER_S; /* Linux's TCP_RTO_MAX */
    cfg->tcp_syn_retries = 6;
    cfg->tcp_synack_retries = 5;
    cfg->tcp_data_retries = 15;
    cfg->tcp_msl = 30 * FA_NS_PER_S;
    cfg->tcp_fin_wait2_timeout = 60 * FA_NS_PER_S;
    cfg->tcp_orphan_retries = 8;
    cfg->tcp_delack = 40 * FA_NS_PER_MS;
    cfg->tcp_keep_idle = 2 * 3600 * FA_NS_PER_S;
    cfg->tcp_keep_intvl = 75 * FA_NS_PER_S;
    cfg->tcp_keep_cnt = 9;
    cfg->tcp_challenge_ack_rate = 1000;
    cfg->tcp_invalid_ratelimit = 500 * FA_NS_PER_MS;
    cfg->udp_max_sockets = 64;
    cfg->udp_rcvbuf = 64 * 1024;
    cfg->tcp_port_min = 49152;
    cfg->tcp_window_scaling = 1;
    cfg->tcp_sack = 1;
    cfg->tcp_timestamps = 1;
    cfg->tcp_syncookies = 1;
    cfg->tcp_congestion = FA_TCP_CC_CUBIC;
    cfg->tcp_port_max = 65535;
    cfg->loopback_queue = 64;
}

const char *fa_config_check(const struct fa_config *cfg)
{
    if (!cfg->device.transmit)
        return "device.transmit is required";
    if (!cfg->rng.next)
        return "rng.next is required";
    if (cfg->addr == 0 || cfg->addr == 0xffffffffu ||
        fa_ipv4_is_multicast(cfg->addr))
        return "addr must be a unicast IPv4 address";
    if (cfg->prefix_len < 1 || cfg->prefix_len > 32)
        return "prefix_len must be 1..32";
    /* A next hop on the subnet, not us and not a broadcast (as Linux's
     * "Nexthop has invalid gateway"; review: 255.255.255.255 sent every
     * off-subnet packet to the broadcast MAC). */
    uint32_t mask = fa_ipv4_mask(cfg->prefix_len);
    if (cfg->gateway && (cfg->gateway == cfg->addr || (cfg->gateway & mask) != (cfg->addr & mask) ||
                         fa_ipv4_is_broadcast(cfg->gateway, cfg->addr, cfg->prefix_len)))
        return "gateway must be another address on the subnet";
    if (cfg->mtu < 68 || cfg->mtu > 9000)
        return "mtu must be 68..9000";
    if (cfg->ttl == 0)
        return "ttl must be 1..255";
    if (cfg->arp_cache_size == 0 || cfg->arp_queue_size == 0)
        return "arp_cache_size and arp_queue_size must be at least 1";
    if (cfg->arp_max_requests == 0 || cfg->arp_retry_interval == 0)
        return "arp_max_requests and arp_retry_interval must be nonzero";
    if (cfg->arp_revalidate_time >= cfg->arp_reachable_time)
        return "arp_revalidate_time must be below arp_reachable_time";
    if (fa_mac_is_multicast(cfg->mac))
        return "mac must be unicast";
    if (cfg->tcp_keep_idle < FA_NS_PER_MS || cfg->tcp_keep_intvl < FA_NS_PER_MS ||
        cfg->tcp_keep_idle / FA_NS_PER_MS > FA_TCP_KEEP_MAX_MS ||
        cfg->tcp_keep_intvl / FA_NS_PER_MS > FA_TCP_KEEP_MAX_MS)
        return "tcp_keep_idle and tcp_keep_intvl must be 1 ms to 32767 s";
    if (cfg->tcp_sb_max < 4 || cfg->tcp_sb_max > 65535)
        return "tcp_sb_max must be 4 to 65535";
    if (cfg->tcp_max_conns == 0 || cfg->tcp_max_timewait == 0)
        return "tcp_max_conns and tcp_max_timewait must be at least 1";
    if (cfg->tcp_sndbuf < 64 || cfg->tcp_rcvbuf < 64)
        return "tcp_sndbuf and tcp_rcvbuf must be at least 64";
    if (cfg->tcp_rto_min == 0 || cfg->tcp_rto_min > cfg->tcp_rto_initial ||
        cfg->tcp_rto_initial > cfg->tcp_rto_max)
        return "tcp_rto_min <= tcp_rto_initial <= tcp_rto_max, nonzero";
    if (cfg->tcp_rto_max / FA_NS_PER_US > UINT32_MAX)
        return "tcp_rto_max must be at most 4294 s";
    if (cfg->udp_max_sockets == 0 || cfg->udp_rcvbuf < 64)
        return "udp_max_sockets must be at least 1 and udp_rcvbuf at least 64";
    if (cfg->tcp_delack > 200 * FA_NS_PER_MS)
        return "tcp_delack must be at most 200 ms (RFC 9293 §3.8.6.3)";
    if (cfg->tcp_msl == 0)
        return "tcp_msl must be nonzero";
    if (cfg->tcp_port_min == 0 || cfg->tcp_port_min > cfg->tcp_port_max)
        return "tcp_port_min..tcp_port_max must be a nonempty range";
    if (cfg->tcp_congestion != FA_TCP_CC_CUBIC && cfg->tcp_congestion != FA_TCP_CC_NEWRENO)
        return "tcp_congestion must be FA_TCP_CC_CUBIC or FA_TCP_CC_NEWRENO";
    if (cfg->loopback_queue == 0)
        return "loopback_queue must be at least 1";
    /* (Linux's MAX_TCP_SYNCNT; at 255 the saturating count never passed
     * the limit: a handshake resent for ever — review.) */
    if (cfg->tcp_syn_retries > 127 || cfg->tcp_synack_retries > 127)
        return "tcp_syn_retries and tcp_synack_retries must be 0..127";
    if (cfg->tcp_orphan_retries == 255)
        return "tcp_orphan_retries must be 0..254 (0: orphans probe for ever)";
    if (cfg->device.offloads & ~(FA_OFFLOAD_TX_CSUM | FA_OFFLOAD_TSO))
        return "device.offloads has an unknown bit";
    if (cfg->device.offloads && !cfg->device.transmit_meta)
        return "device.offloads needs device.transmit_meta";
    if ((cfg->device.offloads & FA_OFFLOAD_TSO) && !(cfg->device.offloads & FA_OFFLOAD_TX_CSUM))
        return "FA_OFFLOAD_TSO needs FA_OFFLOAD_TX_CSUM";
    return NULL;
}

static int alloc_tables(struct fa_stack *s)
{
    const struct fa_config *c = &s->cfg;
    s->arp = calloc(c->arp_cache_size, sizeof *s->arp);
    s->arp_wait = calloc(c->arp_queue_size, sizeof *s->arp_wait);
    /* A device that cuts super-frames (TSO) gets them built whole. */
    s->tx_cap = (c->device.offloads & FA_OFFLOAD_TSO) ? FA_GSO_FRAME_MAX : s->frame_max;
    s->tx = malloc(s->tx_cap);
    uint8_t *frames = malloc((size_t)c->arp_queue_size * s->frame_max);
    if (!s->arp || !s->arp_wait || !s->tx || !frames || fa_loopback_init(s) < 0) {
        free(frames);
        return -ENOMEM;
    }
    for (unsigned i = 0; i < c->arp_queue_size; i++)
        s->arp_wait[i].frame = frames + i * s->frame_max;
    return 0;
}

int fa_stack_create(const struct fa_config *cfg, fa_time now,
                    struct fa_stack **out)
{
    if (fa_config_check(cfg))
        return -EINVAL;
    struct fa_stack *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->cfg = *cfg;
    s->mask = fa_ipv4_mask(cfg->prefix_len);
    s->frame_max = (size_t)cfg->mtu + FA_ETH_HLEN;
    s->arp_next = FA_TIME_NEVER;
    if (alloc_tables(s) < 0) {
        fa_stack_destroy(s);
        return -ENOMEM;
    }
    static const uint8_t zero_mac[FA_ETH_ALEN];
    if (memcmp(s->cfg.mac, zero_mac, FA_ETH_ALEN) == 0) {
        uint64_t r = cfg->rng.next(cfg->rng.ctx);
        memcpy(s->cfg.mac, &r, FA_ETH_ALEN);
        /* Locally administered (bit 1), unicast (bit 0 clear). */
        s->cfg.mac[0] = (uint8_t)((s->cfg.mac[0] & 0xfc) | 0x02);
    }
    s->ip_id = (uint16_t)cfg->rng.next(cfg->rng.ctx);
    fa_bucket_init(&s->icmp_errors, cfg->icmp_error_rate,
                   cfg->icmp_error_burst, now);
    if (fa_tcp_stack_init(s) < 0 || fa_udp_stack_init(s) < 0) {
        fa_stack_destroy(s);
        return -ENOMEM;
    }
    if (cfg->arp_gratuitous)
        fa_arp_announce(s);
    *out = s;
    return 0;
}

void fa_stack_destroy(struct fa_stack *s)
{
    if (!s)
        return;
    fa_tcp_stack_free(s);
    fa_udp_stack_free(s);
    if (s->arp_wait)
        free(s->arp_wait[0].frame);
    free(s->arp_wait);
    free(s->arp);
    free(s->tx);
    fa_loopback_free(s);
    free(s);
}

void fa_link_send(struct fa_stack *s, const uint8_t *frame, size_t len)
{
    /* Only the frame being built in s->tx has s->tx_meta (tcp_out.c). */
    const struct fa_device *d = &s->cfg.device;
    int meta = frame == s->tx && (s->tx_meta.flags || s->tx_meta.gso_type);
    int err = meta ? d->transmit_meta(d->ctx, frame, len, &s->tx_meta)
                   : d->transmit(d->ctx, frame, len);
    if (err < 0) {
        fa_count(s, FA_CNT_TX_DEVICE_ERRORS);
        return;
    }
    fa_count(s, FA_CNT_TX_FRAMES);
    if (meta && s->tx_meta.gso_type)
        fa_count(s, FA_CNT_TX_GSO_FRAMES);
    s->counters[FA_CNT_TX_BYTES] += len;
}

int fa_tx_meta_resolve(struct fa_stack *s, uint8_t *frame, size_t len)
{
    struct fa_frame_meta *m = &s->tx_meta;
    if (m->gso_type) {
        fa_count(s, FA_CNT_TX_OFFLOAD_UNSENT);
        return -EMSGSIZE;
    }
    if (m->flags & FA_META_CSUM_PARTIAL) /* what the device would do */
        fa_csum_complete(frame + m->csum_start, len - m->csum_start, m->csum_offset,
                         m->csum_offset == 6);
    *m = (struct fa_frame_meta){ 0 };
    return 0;
}

/* The offload metadata a frame came with, checked against the packet
 * (the IPv4 header is parsed by then): what ipv4.c passes on. */
int fa_rx_meta_check(const struct fa_frame_meta *m, const struct fa_ipv4_view *ip,
                     struct fa_rx_hints *out)
{
    *out = (struct fa_rx_hints){ 0 };
    if (!m || (!m->flags && !m->gso_type))
        return 0;
    if (m->flags & ~(FA_META_CSUM_PARTIAL | FA_META_CSUM_VALID))
        return -1;
    unsigned l4 = FA_ETH_HLEN + (unsigned)ip->hlen;
    if (m->flags & FA_META_CSUM_PARTIAL) {
        unsigned at = ip->proto == FA_IPPROTO_TCP ? 16 : ip->proto == FA_IPPROTO_UDP ? 6 : 0;
        if (!at || m->csum_start != l4 || m->csum_offset != at ||
            ip->payload_len < at + 2u)
            return -1;
    }
    if (m->gso_type != FA_GSO_NONE) {
        if (m->gso_type != FA_GSO_TCPV4 || ip->proto != FA_IPPROTO_TCP || m->gso_size == 0)
            return -1;
        out->gso_size = m->gso_size;
    }
    out->csum_ok = m->flags != 0;
    return 0;
}

void fa_stack_input(struct fa_stack *s, const uint8_t *frame, size_t len,
                    fa_time now)
{
    fa_stack_input_meta(s, frame, len, NULL, now);
}

void fa_stack_input_meta(struct fa_stack *s, const uint8_t *frame, size_t len,
                         const struct fa_frame_meta *meta, fa_time now)
{
    struct fa_eth_view eth;
    if (now > s->clock)
        s->clock = now;
    fa_count(s, FA_CNT_RX_FRAMES);
    s->counters[FA_CNT_RX_BYTES] += len;

    int drop = fa_eth_parse(frame, len, &eth);
    /* A GRO super-frame may exceed the MTU; nothing else may. */
    size_t most = meta && meta->gso_type ? FA_GSO_FRAME_MAX : s->frame_max;
    if (!drop && len > most)
        drop = FA_CNT_ETH_OVERSIZE;
    if (!drop && meta && (meta->flags || meta->gso_type) && eth.type != FA_ETHERTYPE_IPV4)
        drop = FA_CNT_RX_BAD_OFFLOAD;
    int to_broadcast = !drop && memcmp(eth.dst, fa_mac_broadcast, 6) == 0;
    if (!drop && !to_broadcast && memcmp(eth.dst, s->cfg.mac, 6) != 0)
        drop = FA_CNT_ETH_NOT_FOR_US;
    if (drop) {
        fa_count(s, (unsigned)drop);
        return;
    }
    const uint8_t *payload = frame + FA_ETH_HLEN;
    size_t payload_len = len - FA_ETH_HLEN;
    switch (eth.type) {
    case FA_ETHERTYPE_ARP:
        fa_arp_input(s, eth.src, payload, payload_len, now);
        break;
    case FA_ETHERTYPE_IPV4:
        fa_ipv4_input(s, payload, payload_len, to_broadcast, meta, now);
        break;
    default:
        fa_count(s, FA_CNT_ETH_UNKNOWN_TYPE);
    }
}

fa_time fa_stack_poll(struct fa_stack *s, fa_time now)
{
    if (now > s->clock)
        s->clock = now;
    int more = s->loop_count && fa_loopback_poll(s, now);
    fa_time arp = fa_arp_poll(s, now);
    fa_time tcp = fa_tcp_poll(s, now);
    fa_time next = arp < tcp ? arp : tcp;
    /* Timers may have sent to ourselves too. */
    return more || s->loop_count ? now : next;
}

fa_time fa_stack_next_due(const struct fa_stack *s)
{
    if (s->loop_count)
        return 0;
    fa_time tcp = fa_tcp_next_due(s);
    return s->arp_next < tcp ? s->arp_next : tcp;
}

void fa_stack_batch_begin(struct fa_stack *s)
{
    s->tcp->batching = 1;
}

void fa_stack_batch_end(struct fa_stack *s, fa_time now)
{
    fa_tcp_batch_end(s, now);
}

uint64_t fa_stack_counter(const struct fa_stack *s, unsigned id)
{
    return id < FA_CNT_COUNT ? s->counters[id] : 0;
}

const struct fa_config *fa_stack_config(const struct fa_stack *s)
{
    return &s->cfg;
}

void fa_stack_set_tcp_notify(struct fa_stack *s,
                             void (*notify)(void *ctx, struct fa_tcp *sock), void *ctx)
{
    s->cfg.tcp_notify = notify;
    s->cfg.tcp_notify_ctx = ctx;
}
