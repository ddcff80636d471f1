/* Helpers shared by the model commands (generate, logprobs, score): open a device, a model
 * and its tokenizer, parse id lists, write JSON strings. */
#ifndef SEA_TOOLS_MODEL_CLI_H
#define SEA_TOOLS_MODEL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "models/model.h"
#include "models/tokenizer.h"

typedef struct model_cli {
    sea_device *dev;
    sea_model *model;
    sea_tokenizer *tok;   /* NULL when the model directory has no tokenizer.json */
    double load_seconds;
} model_cli;

/* Open device `spec` (NULL = default), load the model, and its tokenizer when present.
 * Prints the error (naming what failed) and returns false on failure. */
bool model_cli_open(model_cli *c, const char *cmd, const char *model_path, const char *device_spec,
                    bool quiet);
void model_cli_close(model_cli *c);
/* --dtype NAME (NULL = f32): the model's compute dtype, f32 or bf16 (f32 master weights).
 * Prints the error and returns false when unknown or unsupported on the device. */
bool model_cli_set_dtype(model_cli *c, const char *cmd, const char *dtype);

/* "1,2,3" -> ids (malloc'ed). False with a message on bad input. */
bool model_cli_parse_ids(const char *cmd, const char *s, int32_t **ids, int *n);
/* Text -> ids with the model's tokenizer (add_special: BOS etc.). */
bool model_cli_encode(model_cli *c, const char *cmd, const char *text, bool add_special, int32_t **ids, int *n);
/* ids -> text (malloc'ed) or NULL when there is no tokenizer. */
char *model_cli_decode(model_cli *c, const int32_t *ids, int n);

void model_cli_json_string(FILE *f, const char *s);
double model_cli_now(void);

#endif
