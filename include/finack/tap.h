/* finack/tap.h — a Linux TAP device (outside the core): finack is the
 * "wire" side of a kernel network interface. Frames written go to the
 * kernel as received on that interface; frames the kernel sends are read.
 *
 *   struct fa_tap *tap;
 *   if (fa_tap_open("fa0", &tap) < 0) ...;   // opens or creates
 *   config.device = fa_tap_device(tap);
 *   ... fa_tap_read(tap, buf, sizeof buf) in a loop (see host.h) ...
 *
 * The device is IFF_TAP | IFF_NO_PI, non-blocking, with every offload
 * switched off (TUNSETOFFLOAD 0): a TAP keeps its offload settings after
 * its fd closes, and a stale one hands over 64 KB frames. */
#ifndef FINACK_TAP_H
#define FINACK_TAP_H

#include <finack/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only what these headers declare is exported from libfinack.so (the
 * library is built with -fvisibility=hidden). */
#pragma GCC visibility push(default)

struct fa_tap;

/* Opens the TAP called name (created if missing, which needs
 * CAP_NET_ADMIN). Returns 0 or -errno: -EPERM without privilege, -EBUSY
 * when another process holds it, -ENOENT without /dev/net/tun. */
int fa_tap_open(const char *name, struct fa_tap **out);
void fa_tap_close(struct fa_tap *tap);
int fa_tap_fd(const struct fa_tap *tap);
const char *fa_tap_name(const struct fa_tap *tap);
/* The device to give a stack (or a wrapper) for sending. */
struct fa_device fa_tap_device(struct fa_tap *tap);
/* One frame into buf: its length, -EAGAIN when none is waiting, or
 * another -errno. */
long fa_tap_read(struct fa_tap *tap, uint8_t *buf, size_t cap);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
