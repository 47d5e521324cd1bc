/*
 * nop.c - not a workload: bench() returns 0 at once, so timing an engine CLI
 * on it measures that CLI's start-up (process, decoding, validation,
 * instantiation), the fixed cost included in every wasm time of the table.
 */
#include "rt.h"

long long bench(void) {
    return 0;
}
