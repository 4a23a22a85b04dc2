/* icmp.c — ICMP message parse and emit (RFC 792): the 8-byte header and
 * the checksum over the whole message. */
#include "wire.h"

int fa_icmp_parse(const uint8_t *msg, size_t len, struct fa_icmp_view *out)
{
    if (len < FA_ICMP_HLEN)
        return FA_CNT_ICMP_TOO_SHORT;
    if (fa_csum_fold(fa_csum_add(0, msg, len)) != 0)
        return FA_CNT_ICMP_BAD_CHECKSUM;
    out->type = msg[0];
    out->code = msg[1];
    out->rest = msg + 4;
    out->data = msg + FA_ICMP_HLEN;
    out->data_len = len - FA_ICMP_HLEN;
    return 0;
}

void fa_icmp_emit(uint8_t *msg, size_t len, uint8_t type, uint8_t code,
                  uint32_t rest)
{
    msg[0] = type;
    msg[1] = code;
    msg[2] = msg[3] = 0;
    fa_put32(msg + 4, rest);
    fa_csum_store(msg + 2, fa_csum_fold(fa_csum_add(0, msg, len)));
}
