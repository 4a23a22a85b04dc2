/* read_pcap.c — captures into finack-ladder's model (ladder.h): pcap and
 * pcapng through libpcap (finack's --pcap, tcpdump's, Wireshark's), on
 * Ethernet (VLAN and QinQ tags too), Linux cooked (SLL, and SLL2 as
 * tcpdump -i any writes) or raw IPv4 links. Every frame is
 * untrusted: what is not IPv4 TCP is counted and skipped, what is
 * malformed is counted and skipped, what the snaplen cut is kept when
 * its TCP header is whole (and counted). No checksum is checked: a
 * capture taken before the NIC's offloads holds partial ones. */
#include "ladder.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <string.h>

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* TCP options (RFC 9293 §3.2): MSS, window scale, SACK-permitted, SACK
 * blocks, timestamps. A malformed list ends the walk; what was read
 * stays. */
static void parse_options(const uint8_t *o, size_t n, struct fa_sim_segment *g)
{
    size_t i = 0;
    while (i < n) {
        uint8_t kind = o[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n)
            break;
        uint8_t len = o[i + 1];
        if (kind == 2 && len == 4)
            g->mss = be16(o + i + 2);
        else if (kind == 3 && len == 3)
            g->ws = o[i + 2];
        else if (kind == 4 && len == 2)
            g->sack_ok = 1;
        else if (kind == 5 && len >= 10 && (len - 2) % 8 == 0)
            for (size_t b = 0; b < (size_t)(len - 2) / 8 && g->sack_blocks < 4; b++) {
                g->sack[g->sack_blocks][0] = be32(o + i + 2 + 8 * b);
                g->sack[g->sack_blocks][1] = be32(o + i + 6 + 8 * b);
                g->sack_blocks++;
            }
        else if (kind == 8 && len == 10) {
            g->has_ts = 1;
            g->ts_val = be32(o + i + 2);
            g->ts_ecr = be32(o + i + 6);
        }
        i += len;
    }
}

/* An IPv4 packet of caplen bytes captured (wire_len on the wire). */
static int parse_ipv4(const uint8_t *p, size_t caplen, size_t wire_len,
                      struct fa_sim_segment *g, int *cut)
{
    if (caplen < 20 || (p[0] >> 4) != 4)
        return caplen < 20 ? -1 : 0;
    size_t ihl = (size_t)(p[0] & 15) * 4;
    size_t total = be16(p + 2);
    if (total == 0 || total > wire_len)
        total = wire_len; /* a TSO super-frame's zero length, or a lie */
    if (ihl < 20 || total < ihl || caplen < ihl)
        return -1;
    if (p[9] != 6)
        return 0;
    if ((be16(p + 6) & 0x1fff) != 0)
        return 0; /* a later fragment: no TCP header */
    if (caplen < ihl + 20)
        return -1;
    const uint8_t *t = p + ihl;
    size_t doff = (size_t)(t[12] >> 4) * 4;
    if (doff < 20 || ihl + doff > total || caplen < ihl + doff)
        return -1;
    memset(g, 0, sizeof *g);
    g->ws = -1;
    g->src = be32(p + 12);
    g->dst = be32(p + 16);
    g->sport = be16(t);
    g->dport = be16(t + 2);
    g->seq = be32(t + 4);
    g->ack = be32(t + 8);
    g->flags = t[13] & 0x3f;
    g->win = be16(t + 14);
    g->len = (uint32_t)(total - ihl - doff);
    parse_options(t + 20, doff - 20, g);
    *cut = caplen < total;
    return 1;
}

int lad_parse_frame(const uint8_t *f, size_t caplen, size_t wire_len,
                    struct fa_sim_segment *g, int *cut)
{
    if (caplen < 14)
        return -1;
    size_t off = 12;
    uint16_t type = be16(f + off);
    /* VLAN tags: 802.1Q, and 802.1ad's (QinQ) outer ones. */
    while ((type == 0x8100 || type == 0x88a8 || type == 0x9100) && caplen >= off + 6) {
        off += 4;
        type = be16(f + off);
    }
    if (type != 0x0800)
        return 0;
    off += 2;
    if (wire_len < off)
        return -1;
    return parse_ipv4(f + off, caplen - off, wire_len - off, g, cut);
}

/* Linux cooked captures: SLL (16 bytes, protocol at 14) and SLL2
 * (tcpdump -i any since 4.99: 20 bytes, protocol at 0). */
static int parse_sll(const uint8_t *f, size_t caplen, size_t wire_len,
                     struct fa_sim_segment *g, int *cut, int v2)
{
    size_t hl = v2 ? 20 : 16;
    if (caplen < hl || wire_len < hl)
        return -1;
    if (be16(f + (v2 ? 0 : 14)) != 0x0800)
        return 0;
    return parse_ipv4(f + hl, caplen - hl, wire_len - hl, g, cut);
}

int lad_read_pcap(struct lad_capture *cap, const char *path, char *err, size_t errlen)
{
    FILE *in = fopen(path, "rb");
    if (!in) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    return lad_read_pcap_file(cap, in, path, err, errlen);
}

int lad_read_pcap_file(struct lad_capture *cap, FILE *in, const char *path, char *err,
                       size_t errlen)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_fopen_offline(in, perr); /* closes in with p */
    if (!p) {
        fclose(in);
        snprintf(err, errlen, "%s: not a capture libpcap can read (%s)", path, perr);
        return -1;
    }
    int link = pcap_datalink(p);
    if (link != DLT_EN10MB && link != DLT_RAW && link != DLT_IPV4 && link != DLT_LINUX_SLL &&
        link != DLT_LINUX_SLL2) {
        snprintf(err, errlen, "%s: link type %s is not Ethernet, Linux cooked or raw IPv4",
                 path, pcap_datalink_val_to_name(link) ? pcap_datalink_val_to_name(link) : "?");
        pcap_close(p);
        return -1;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    double t0 = -1;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        cap->frames++;
        struct fa_sim_segment g;
        int cut = 0, r;
        size_t caplen = h->caplen, wire = h->len < h->caplen ? h->caplen : h->len;
        if (link == DLT_EN10MB)
            r = lad_parse_frame(data, caplen, wire, &g, &cut);
        else if (link == DLT_LINUX_SLL || link == DLT_LINUX_SLL2)
            r = parse_sll(data, caplen, wire, &g, &cut, link == DLT_LINUX_SLL2);
        else
            r = parse_ipv4(data, caplen, wire, &g, &cut);
        if (r == 0) {
            cap->not_tcp++;
            continue;
        }
        if (r < 0) {
            cap->malformed++;
            continue;
        }
        cap->cut_short += (uint64_t)cut;
        double t = (double)h->ts.tv_sec * 1e3 + (double)h->ts.tv_usec / 1e3;
        if (t0 < 0)
            t0 = t;
        if (lad_add_segment(cap, &g, t - t0, -1, 0, cut) < 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            pcap_close(p);
            return -1;
        }
    }
    if (rc == -1) {
        /* A damaged record ends the reading; what came before stays. */
        snprintf(err, errlen, "%s: %s (after %llu frames)", path, pcap_geterr(p),
                 (unsigned long long)cap->frames);
        cap->malformed++;
    }
    pcap_close(p);
    return 0;
}
