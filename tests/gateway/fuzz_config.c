/*
 * fuzz_config.c - libFuzzer target for the configuration loader: any bytes
 * must give either a configuration (freed again) or an error message, never
 * a crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cfg_config cfg;
    char err[1024];
    err[0] = '\0';
    if (cfg_load_text("fuzz.json", (const char *)data, size, NULL, &cfg, err, sizeof(err)) == 0)
        cfg_free(&cfg);
    else if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
        __builtin_trap(); /* an error must always say something */
    return 0;
}
