/* finack/tap.h — a Linux TAP device (outside the core): finack is the
 * "wire" side of a kernel network interface. Frames written go to the
 * kernel as received on that interface; frames the kernel sends are read.
 *
 *   struct fa_tap *tap;
 *   if (fa_tap_open_flags("fa0", FA_TAP_OFFLOAD, &tap) < 0) ...;
 *   config.device = fa_tap_device(tap);   // its offloads included
 *   ... fa_tap_read_meta(tap, buf, sizeof buf, &meta) in a loop, each
 *       frame to fa_stack_input_meta (see loop.h, host.h) ...
 *
 * The device is IFF_TAP | IFF_NO_PI and non-blocking.
 *  - Plain (fa_tap_open, flags 0): every offload switched off
 *    (TUNSETOFFLOAD 0), since a TAP keeps its offload settings after its
 *    fd closes and a stale one hands over 64 KB frames.
 *  - FA_TAP_OFFLOAD: each frame travels behind a virtio-net header
 *    (IFF_VNET_HDR) and the kernel may send checksum-partial frames and
 *    GRO super-frames of up to FA_GSO_FRAME_MAX bytes (TUN_F_CSUM,
 *    TUN_F_TSO4): read them with fa_tap_read_meta into a buffer that big.
 *    The device then completes our checksums and cuts our TSO
 *    super-frames (FA_OFFLOAD_TX_CSUM | FA_OFFLOAD_TSO). A kernel that
 *    refuses falls back to the plain device: fa_tap_offloads() says which. */
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
/* The same with flags: 0 or FA_TAP_OFFLOAD. -EINVAL for others. */
#define FA_TAP_OFFLOAD 1u
int fa_tap_open_flags(const char *name, unsigned flags, struct fa_tap **out);
/* FA_OFFLOAD_TX_CSUM | FA_OFFLOAD_TSO when opened with the offloads on. */
unsigned fa_tap_offloads(const struct fa_tap *tap);
void fa_tap_close(struct fa_tap *tap);
int fa_tap_fd(const struct fa_tap *tap);
const char *fa_tap_name(const struct fa_tap *tap);
/* The device to give a stack (or a wrapper) for sending. */
struct fa_device fa_tap_device(struct fa_tap *tap);
/* One frame into buf: its length, -EAGAIN when none is waiting, or
 * another -errno. On a TAP with offloads the metadata is dropped: use
 * fa_tap_read_meta there. */
long fa_tap_read(struct fa_tap *tap, uint8_t *buf, size_t cap);
/* One frame and what its virtio-net header says (all zero on a plain
 * TAP). The header is read as untrusted: a flag or GSO type finack does
 * not know is passed on as one fa_stack_input_meta refuses. */
long fa_tap_read_meta(struct fa_tap *tap, uint8_t *buf, size_t cap,
                      struct fa_frame_meta *meta);
/* Frames both reads dropped: longer than cap (the kernel copies only what
 * fits and reports the whole length), empty, or shorter than the
 * virtio-net header. */
uint64_t fa_tap_dropped(const struct fa_tap *tap);

/* io_uring batching (built with Debian's liburing; -ENOSYS without;
 * Linux 6.1 or later, -EOPNOTSUPP before): frames read into buffers
 * registered once, frames sent queued and submitted together with the
 * wait for the next, so one system call a turn moves every frame each
 * way. From create on the TAP's frames go through the ring only, and
 * the ring belongs to the thread that first flushes or waits (a single
 * issuer: another thread's calls fail).
 *
 *   fa_tap_uring_create(tap, &u);
 *   config.device = fa_tap_uring_device(u);
 *   loop_config.fd = fa_tap_uring_fd(u);
 *   loop_config.next_frame = fa_tap_uring_next;   // frames in place
 *   loop_config.flush = fa_tap_uring_flush;       // sends (when the loop does not wait)
 *   loop_config.wait = fa_tap_uring_wait;         // or with the wait (fa_loop_run)
 *   loop_config.read_ctx = u;
 */
struct fa_tap_uring;
int fa_tap_uring_create(struct fa_tap *tap, struct fa_tap_uring **out);
void fa_tap_uring_destroy(struct fa_tap_uring *u);
/* Polls readable when a frame waits to be taken (the TAP's own: call
 * fa_tap_uring_wait(u, 0) before sleeping in poll(2) on it, as
 * fa_loop_run does, so that what is already done is collected). */
int fa_tap_uring_fd(const struct fa_tap_uring *u);
/* The next frame received, in place (valid until the next flush or
 * wait): its length and metadata, -EAGAIN when none waits, or another
 * -errno (the TAP failed). */
long fa_tap_uring_next(void *u, const uint8_t **frame, struct fa_frame_meta *meta);
/* Submits the frames queued since the last call (fa_tap_uring_wait also
 * does: the event loop calls this only when it does not wait next). */
void fa_tap_uring_flush(void *u);
/* Submits what is queued and waits up to timeout ns for frames, in one
 * system call. With 0, a look: it does not wait for frames that have not
 * come (one system call when none came, none before the first frame;
 * when one came, a second that collects the reads already under way).
 * 1 if a frame waits to be taken, 0 if none came (timed out or
 * interrupted), or -errno. */
int fa_tap_uring_wait(void *u, fa_time timeout);
/* Sending queues the frame (copied); its offloads are the TAP's. */
struct fa_device fa_tap_uring_device(struct fa_tap_uring *u);
/* Frames the kernel refused to take (asynchronous errors). */
uint64_t fa_tap_uring_tx_errors(const struct fa_tap_uring *u);
/* Waits so far: system calls that asked the kernel for completions not
 * yet there, and so could sleep (a look that found nothing makes none). */
uint64_t fa_tap_uring_waits(const struct fa_tap_uring *u);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
