/* src/wasm/cli/cli.h - shared helpers of the sluice-wasm CLI. */
#ifndef SLUICE_WASM_CLI_H
#define SLUICE_WASM_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "sluice/wasm.h"

/* The tier chosen with --engine (default: the interpreter). */
extern wasm_engine swcli_engine;

/* Reads a whole file (at most 256 MiB); returns a heap buffer the caller
 * frees, or NULL with errno set. */
uint8_t *swcli_read_file(const char *path, size_t *len);
/* `sluice-wasm spec FILE.json`: returns the process exit status. */
int swcli_spec(const char *json_path);

#endif
