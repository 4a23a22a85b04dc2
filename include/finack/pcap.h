/* finack/pcap.h — records frames to a pcap file (readable by tcpdump,
 * tshark, Wireshark), as a tee: a struct fa_pcap_tee placed in front of
 * a device writes each frame to the file and passes it on. Put one on the
 * send path and one on the receive path to record both directions.
 *
 *   fa_pcap_open("run.pcap", clock, &pcap);
 *   struct fa_pcap_tee out = { pcap, tap_device };
 *   stack_cfg.device = fa_pcap_tee_device(&out);
 *
 * Writes are buffered; fa_pcap_close() flushes. With offloads (a TAP
 * with FA_TAP_OFFLOAD), the tee passes the next device's offloads on and
 * records TSO and GRO super-frames as the segments a wire would carry,
 * checksums completed (finack/gso.h). */
#ifndef FINACK_PCAP_H
#define FINACK_PCAP_H

#include <finack/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only what these headers declare is exported from libfinack.so (the
 * library is built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

struct fa_pcap;

/* Returns 0 or -errno (from creating the file). */
int fa_pcap_open(const char *path, struct fa_clock clock,
                 struct fa_pcap **out);
/* Flushes and closes; returns 0 or -errno if a write failed. */
int fa_pcap_close(struct fa_pcap *pcap);
void fa_pcap_record(struct fa_pcap *pcap, const uint8_t *frame, size_t len);
uint64_t fa_pcap_frames(const struct fa_pcap *pcap);

struct fa_pcap_tee {
    struct fa_pcap *pcap;
    struct fa_device next; /* may have a NULL transmit: record only */
};
struct fa_device fa_pcap_tee_device(struct fa_pcap_tee *tee);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
