/* eth.c — Ethernet II header parse and emit (IEEE 802.3 framing with an
 * EtherType; no VLAN tags: a tagged frame shows EtherType 0x8100 and is
 * dropped as unknown). */
#include "wire.h"

const uint8_t fa_mac_broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

int fa_eth_parse(const uint8_t *frame, size_t len, struct fa_eth_view *out)
{
    if (len < FA_ETH_HLEN)
        return FA_CNT_ETH_TOO_SHORT;
    out->dst = frame;
    out->src = frame + 6;
    out->type = fa_get16(frame + 12);
    return 0;
}

void fa_eth_emit(uint8_t *frame, const uint8_t dst[6], const uint8_t src[6],
                 uint16_t type)
{
    memcpy(frame, dst, 6);
    memcpy(frame + 6, src, 6);
    fa_put16(frame + 12, type);
}
