/* pcap.c — writes frames to a classic pcap file (LINKTYPE_ETHERNET,
 * microsecond timestamps from the given clock), and the tee device that
 * records what passes through it: a super-frame or a checksum-partial
 * frame (offloads, finack/gso.h) as the frames a wire carries. */
#include <errno.h>
#include <finack/gso.h>
#include <finack/pcap.h>
#include <stdio.h>
#include <stdlib.h>

struct fa_pcap {
    FILE *file;
    struct fa_clock clock;
    uint64_t frames;
    int error;
    uint8_t scratch[FA_GSO_SCRATCH]; /* one wire frame cut from a super-frame */
};

int fa_pcap_open(const char *path, struct fa_clock clock, struct fa_pcap **out)
{
    struct fa_pcap *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->file = fopen(path, "wb");
    if (!p->file) {
        int err = -errno;
        free(p);
        return err;
    }
    p->clock = clock;
    /* Global header: magic, v2.4, zone 0, sigfigs 0, snaplen, Ethernet. */
    const uint32_t magic = 0xa1b2c3d4, snaplen = 262144, linktype = 1;
    const uint16_t major = 2, minor = 4;
    const int32_t zone = 0;
    const uint32_t sigfigs = 0;
    fwrite(&magic, 4, 1, p->file);
    fwrite(&major, 2, 1, p->file);
    fwrite(&minor, 2, 1, p->file);
    fwrite(&zone, 4, 1, p->file);
    fwrite(&sigfigs, 4, 1, p->file);
    fwrite(&snaplen, 4, 1, p->file);
    fwrite(&linktype, 4, 1, p->file);
    *out = p;
    return 0;
}

void fa_pcap_record(struct fa_pcap *p, const uint8_t *frame, size_t len)
{
    fa_time now = p->clock.now(p->clock.ctx);
    uint32_t rec[4] = {
        (uint32_t)(now / FA_NS_PER_S),
        (uint32_t)(now % FA_NS_PER_S / FA_NS_PER_US),
        (uint32_t)len,
        (uint32_t)len,
    };
    if (fwrite(rec, sizeof rec, 1, p->file) != 1 ||
        fwrite(frame, 1, len, p->file) != len)
        p->error = EIO;
    p->frames++;
}

uint64_t fa_pcap_frames(const struct fa_pcap *p)
{
    return p->frames;
}

int fa_pcap_close(struct fa_pcap *p)
{
    if (!p)
        return 0;
    int err = p->error ? -p->error : 0;
    if (fclose(p->file) != 0 && !err)
        err = -errno;
    free(p);
    return err;
}

static int tee_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    struct fa_pcap_tee *t = ctx;
    fa_pcap_record(t->pcap, frame, len);
    return t->next.transmit ? t->next.transmit(t->next.ctx, frame, len) : 0;
}

static int record(void *ctx, const uint8_t *frame, size_t len)
{
    fa_pcap_record(ctx, frame, len);
    return 0;
}

static int pass_on(void *ctx, const uint8_t *frame, size_t len)
{
    const struct fa_device *next = ctx;
    return next->transmit ? next->transmit(next->ctx, frame, len) : 0;
}

/* Recorded as the wire carries it (segments, checksums done); passed on
 * whole to a device that takes metadata, else as those segments. A frame
 * whose metadata does not fit is recorded as it is. */
static int tee_transmit_meta(void *ctx, const uint8_t *frame, size_t len,
                             const struct fa_frame_meta *meta)
{
    struct fa_pcap_tee *t = ctx;
    uint8_t *scratch = t->pcap->scratch;
    if (fa_gso_segment(frame, len, meta, scratch, FA_GSO_SCRATCH, record, t->pcap) < 0)
        fa_pcap_record(t->pcap, frame, len);
    if (t->next.transmit_meta)
        return t->next.transmit_meta(t->next.ctx, frame, len, meta);
    int n = fa_gso_segment(frame, len, meta, scratch, FA_GSO_SCRATCH, pass_on, &t->next);
    return n < 0 ? n : 0;
}

struct fa_device fa_pcap_tee_device(struct fa_pcap_tee *t)
{
    /* What the next device offloads, the tee passes through. */
    return (struct fa_device){ .ctx = t, .transmit = tee_transmit,
                               .offloads = t->next.offloads,
                               .transmit_meta = tee_transmit_meta };
}
