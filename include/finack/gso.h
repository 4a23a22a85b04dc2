/* finack/gso.h — segmentation offload in software (outside the core):
 * turns a frame with offload metadata (struct fa_frame_meta, finack/
 * types.h) into the frames a wire would carry, as a NIC or the kernel's
 * GSO would. The pcap tee records super-frames this way, the fault
 * wrapper injects its faults into the segments, the simulator runs TSO
 * through it, and a device without the offloads could take them so.
 *
 *   uint8_t scratch[FA_GSO_SCRATCH];
 *   fa_gso_segment(frame, len, &meta, scratch, sizeof scratch, emit, ctx);
 *
 * A TCPv4 super-frame (FA_GSO_TCPV4) becomes segments of gso_size data
 * bytes each: the headers copied, IP total length, id (+1 per segment)
 * and checksum redone, the TCP sequence number advanced, FIN and PSH kept
 * for the last segment only and CWR for the first, every TCP checksum
 * computed. A frame with a partial checksum (FA_META_CSUM_PARTIAL: TCP,
 * UDP) alone gets it completed. A frame with no metadata, or only
 * FA_META_CSUM_VALID, goes as it is. The frame and metadata are checked
 * as untrusted input. */
#ifndef FINACK_GSO_H
#define FINACK_GSO_H

#include <finack/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

/* Scratch big enough for one segment of an MTU of 9000, or one frame. */
#define FA_GSO_SCRATCH 9216u

/* Hands each resulting frame to emit (which copies what it needs).
 * Returns the number of frames emitted; -EINVAL when the metadata does
 * not fit the frame (a malformed IPv4 or TCP header, csum_start or
 * csum_offset elsewhere, a segment larger than the scratch), nothing
 * emitted then; or the first error emit returned, where it stopped. */
int fa_gso_segment(const uint8_t *frame, size_t len, const struct fa_frame_meta *meta,
                   uint8_t *scratch, size_t scratch_len,
                   int (*emit)(void *ctx, const uint8_t *frame, size_t len), void *ctx);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
