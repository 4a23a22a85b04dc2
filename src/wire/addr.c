/* addr.c — text forms of IPv4 and MAC addresses, for configuration and
 * tools. Strict: no leading/trailing junk, each part in range. */
#include <errno.h>
#include <finack/types.h>

static int parse_uint(const char **s, unsigned max, int base, unsigned *out)
{
    unsigned v = 0;
    int digits = 0;
    for (;; (*s)++, digits++) {
        char c = **s;
        int d = (c >= '0' && c <= '9')               ? c - '0'
                : (base == 16 && c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (base == 16 && c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                       : -1;
        if (d < 0)
            break;
        v = v * (unsigned)base + (unsigned)d;
        if (v > max || digits > 3)
            return -EINVAL;
    }
    *out = v;
    return digits ? 0 : -EINVAL;
}

int fa_ipv4_parse(const char *text, uint32_t *out)
{
    uint32_t addr = 0;
    for (int i = 0; i < 4; i++) {
        unsigned part;
        if (parse_uint(&text, 255, 10, &part) < 0)
            return -EINVAL;
        if (*text != (i < 3 ? '.' : '\0'))
            return -EINVAL;
        text++;
        addr = addr << 8 | part;
    }
    *out = addr;
    return 0;
}

char *fa_ipv4_format(uint32_t addr, char *buf)
{
    char *p = buf;
    for (int i = 3; i >= 0; i--) {
        unsigned part = (addr >> (8 * i)) & 0xff;
        if (part >= 100)
            *p++ = (char)('0' + part / 100);
        if (part >= 10)
            *p++ = (char)('0' + part / 10 % 10);
        *p++ = (char)('0' + part % 10);
        *p++ = i ? '.' : '\0';
    }
    return buf;
}

int fa_mac_parse(const char *text, uint8_t out[FA_ETH_ALEN])
{
    uint8_t mac[FA_ETH_ALEN];
    for (int i = 0; i < FA_ETH_ALEN; i++) {
        unsigned part;
        const char *start = text;
        if (parse_uint(&text, 255, 16, &part) < 0 || text - start != 2)
            return -EINVAL;
        if (*text != (i < FA_ETH_ALEN - 1 ? ':' : '\0'))
            return -EINVAL;
        text++;
        mac[i] = (uint8_t)part;
    }
    for (int i = 0; i < FA_ETH_ALEN; i++)
        out[i] = mac[i];
    return 0;
}
