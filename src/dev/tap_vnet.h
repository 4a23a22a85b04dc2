/* tap_vnet.h — the virtio-net header and finack's frame metadata, both
 * ways (tap.c), for the TAP's two paths: read/write (tap.c) and io_uring
 * (tap_uring.c). Internal to libfinack. */
#ifndef FA_TAP_VNET_H
#define FA_TAP_VNET_H

#include <finack/types.h>

/* The header at hdr (struct virtio_net_hdr, any alignment) as metadata;
 * a flag or GSO type finack does not know becomes one the stack refuses. */
void fa_tap_meta_from_vnet(const uint8_t *hdr, struct fa_frame_meta *meta);
/* The header for sending frame with meta (NULL: nothing asked), at out. */
void fa_tap_vnet_from_meta(const uint8_t *frame, size_t len,
                           const struct fa_frame_meta *meta, uint8_t *out);

#endif
