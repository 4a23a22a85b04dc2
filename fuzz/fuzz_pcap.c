/* fuzz_pcap.c — libFuzzer target: finack-ladder's capture reader
 * (programs/ladder/read_pcap.c, through libpcap) on any bytes as a file,
 * then the model's inference and the page: no crash, no hang, no leak;
 * the page is written to /dev/null. */
#include <stdio.h>
#include <stdlib.h>

#include "ladder/ladder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *in = fmemopen((void *)data, size ? size : 1, "rb");
    if (!in)
        return 0;
    struct lad_capture cap;
    char err[512];
    lad_init(&cap);
    if (lad_read_pcap_file(&cap, in, "fuzz", err, sizeof err) == 0) {
        lad_finish(&cap);
        FILE *out = fopen("/dev/null", "w");
        struct lad_html_opts o;
        lad_html_defaults(&o);
        o.max_arrows = 20;
        o.max_points = 20;
        if (out && lad_write_html(&cap, out, &o) < 0)
            abort();
        if (out)
            fclose(out);
    }
    lad_free(&cap);
    return 0;
}
