/* uring_batch.c — the TAP's io_uring device against the kernel: what
 * one wait brings in. Run by uring_batch.sh inside a namespace of its
 * own, where the kernel holds 198.18.0.1 on the TAP and a static
 * neighbour 198.18.0.2 (so it sends without asking ARP). The script
 * sends a burst of datagrams when this program says "ready"; the program
 * then asserts, for each of two ways of waiting:
 *   wait    — one fa_tap_uring_wait(500 ms), as fa_loop_run does,
 *   poll    — fa_tap_uring_wait(u, 0) before the burst, then poll(2)
 *             on fa_tap_uring_fd, as fa_loop_run does with another
 *             descriptor to watch,
 *   look    — fa_tap_uring_wait(u, 0) only, as busy polling does,
 * that every frame of the burst is then taken by fa_tap_uring_next
 * without another wait, in the order sent (the datagrams count up),
 * and that a frame sent back goes out (the kernel counts it). A look
 * (a wait of 0) must never wait in the kernel when nothing came, with a
 * frame to send or after frames were taken (fa_tap_uring_waits): such a
 * wait arms a timer already expired and sleeps until it fires, 13 us on
 * the test machine, and made busy polling and the loop with another
 * descriptor watched slower than read/write; one leaving io_uring's
 * TASKRUN flag set (a wait does) made later looks wait 1 ms.
 *
 *   uring_batch TAP BURST wait|poll|look
 * Prints "ready", reads a line from stdin (the burst is in), checks,
 * prints "ok N frames in 1 wait" or a failure; exit 0 or 1. */
#include <errno.h>
#include <finack/tap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, long v)
{
    printf("FAIL: %s (%ld)\n", what, v);
    return 1;
}

/* The UDP payload's counter of an IPv4 frame (the script sends "n=%d"),
 * or -1 for another frame. */
static int counter_of(const uint8_t *f, long len)
{
    if (len < 14 + 20 + 8 + 3 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != 17)
        return -1;
    size_t ihl = (size_t)(f[14] & 0x0f) * 4;
    const char *p = (const char *)f + 14 + ihl + 8;
    long left = len - 14 - (long)ihl - 8;
    if (left < 3 || memcmp(p, "n=", 2))
        return -1;
    return atoi(p + 2);
}

/* A gratuitous ARP reply to the kernel's MAC (dropped by it, but counted
 * as received on the TAP). */
static const uint8_t arp[42] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 2,
                                 0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 2, 0x02, 0, 0, 0, 0, 2,
                                 198, 18, 0, 2, 0, 0, 0, 0, 0, 0, 198, 18, 0, 2 };

/* Stray frames taken before the burst (IGMP and the like): each makes the
 * next chain shorter (twice what the last took), so the burst may then
 * take more than one look. */
static int strays;

/* A look that finds nothing must not wait in the kernel: with a frame
 * queued to send (a turn's end), or right after a look that took
 * frames. 0, or 1 after printing the failure. A stray frame from the
 * kernel is taken and the look tried again. */
static int look_without_wait(struct fa_tap_uring *u, int send, const char *when)
{
    struct fa_device d = fa_tap_uring_device(u);
    for (int tries = 0; tries < 3; tries++) {
        if (send && d.transmit(d.ctx, arp, sizeof arp) < 0)
            return fail("queue a frame", 0);
        uint64_t w0 = fa_tap_uring_waits(u);
        int r = fa_tap_uring_wait(u, 0);
        if (r < 0)
            return fail("a look failed", r);
        if (r == 0) {
            if (fa_tap_uring_waits(u) == w0)
                return 0;
            printf("FAIL: a look that found nothing (%s) waited in the kernel\n", when);
            return 1;
        }
        const uint8_t *f;
        struct fa_frame_meta m;
        long len;
        while ((len = fa_tap_uring_next(u, &f, &m)) > 0) {
            if (counter_of(f, len) >= 0)
                return fail("a datagram before the burst", 0);
            strays++;
        }
    }
    return fail("frames keep coming before the burst", 0);
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return fail("usage: uring_batch TAP BURST wait|poll|look", 0);
    int burst = atoi(argv[2]), by_poll = !strcmp(argv[3], "poll");
    int by_look = !strcmp(argv[3], "look");
    struct fa_tap *tap;
    struct fa_tap_uring *u;
    int err = fa_tap_open_flags(argv[1], 0, &tap);
    if (err < 0)
        return fail("open the TAP", err);
    err = fa_tap_uring_create(tap, &u);
    if (err == -ENOSYS || err == -EOPNOTSUPP) {
        printf("SKIP: no io_uring here (%d)\n", err);
        return 77;
    }
    if (err < 0)
        return fail("create the ring", err);
    fa_tap_uring_flush(u); /* arms the receive chain */
    if (by_poll && (err = fa_tap_uring_wait(u, 0)) != 0)
        return fail("a frame before the burst", err);
    if (by_look && (look_without_wait(u, 1, "a frame to send") ||
                    look_without_wait(u, 0, "nothing to send")))
        return 1;
    printf("ready\n");
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof line, stdin))
        return fail("no go from the script", 0);
    if (by_poll) { /* the frames wait in the TAP: its descriptor says so */
        struct pollfd p = { .fd = fa_tap_uring_fd(u), .events = POLLIN };
        if (poll(&p, 1, 500) != 1)
            return fail("poll(2) of the TAP did not wake", 0);
    } else if (!by_look && (err = fa_tap_uring_wait(u, 500 * FA_NS_PER_MS)) != 1) {
        return fail("the wait brought no frame", err);
    }
    int seen = 0, next = 0, looks = 0;
    do {
        if (by_look) { /* each look waits at most once, for reads under way */
            uint64_t w0 = fa_tap_uring_waits(u);
            if ((err = fa_tap_uring_wait(u, 0)) != 1)
                return fail("the look brought no frame", err);
            if (fa_tap_uring_waits(u) > w0 + 1)
                return fail("the look waited more than once", (long)(fa_tap_uring_waits(u) - w0));
            looks++;
        }
        const uint8_t *f;
        struct fa_frame_meta m;
        long len;
        while ((len = fa_tap_uring_next(u, &f, &m)) > 0) {
            int n = counter_of(f, len);
            if (n < 0)
                continue; /* IGMP or the like */
            if (n != next)
                return fail("a datagram out of order or lost: got", n);
            next++;
            seen++;
        }
        if (len != -EAGAIN)
            return fail("fa_tap_uring_next failed", len);
    } while (by_look && strays && seen < burst && looks < burst);
    if (strays)
        fprintf(stderr, "(%d stray frame%s before the burst: %d looks)\n", strays,
                strays > 1 ? "s" : "", looks);
    if (seen != burst) {
        printf("FAIL: %d of %d frames after one wait\n", seen, burst);
        return 1;
    }
    /* After a look that took frames: io_uring's TASKRUN flag may be left
     * set with nothing pending. */
    if (by_look && look_without_wait(u, 0, "after frames were taken"))
        return 1;
    /* A frame out, counted by the kernel. */
    struct fa_device d = fa_tap_uring_device(u);
    if ((err = d.transmit(d.ctx, arp, sizeof arp)) < 0)
        return fail("queue a frame", err);
    if ((err = fa_tap_uring_wait(u, 0)) < 0)
        return fail("send it", err);
    printf("ok %d frames in 1 wait (%s), 1 sent\n", seen, argv[3]);
    fa_tap_uring_destroy(u);
    fa_tap_close(tap);
    return 0;
}
