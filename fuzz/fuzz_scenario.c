/* fuzz_scenario.c — libFuzzer target: finack-sim's scenario-file parser
 * (programs/scenario_file.c) on any text: it reads or refuses with a
 * line number, never crashes; a file it reads is not run here. */
#include <stdio.h>

#include "scenarios.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *in = fmemopen((void *)data, size ? size : 1, "r");
    if (!in)
        return 0;
    scenario_file_check(in, "fuzz");
    fclose(in);
    return 0;
}
