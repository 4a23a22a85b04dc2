/* stack_sink.c — a device that hands frames to a stack's input, with the
 * time read from a clock: the last stage of a receive pipeline. */
#include <finack/host.h>

static int sink_transmit(void *ctx, const uint8_t *frame, size_t len)
{
    struct fa_stack_sink *sink = ctx;
    fa_stack_input(sink->stack, frame, len, sink->clock.now(sink->clock.ctx));
    return 0;
}

static int sink_transmit_meta(void *ctx, const uint8_t *frame, size_t len,
                              const struct fa_frame_meta *meta)
{
    struct fa_stack_sink *sink = ctx;
    fa_stack_input_meta(sink->stack, frame, len, meta, sink->clock.now(sink->clock.ctx));
    return 0;
}

struct fa_device fa_stack_sink_device(struct fa_stack_sink *sink)
{
    return (struct fa_device){ .ctx = sink, .transmit = sink_transmit,
                               .transmit_meta = sink_transmit_meta };
}
