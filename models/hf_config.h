/* Hugging Face config.json (plus generation_config.json and tokenizer_config.json).
 *
 * One flat struct covers the architectures sea runs (GPT-NeoX/Pythia, Llama family); fields
 * that a file leaves out get the defaults transformers would use, and the `has_*` flags say
 * whether the file set them. Rotary settings are read from any of the three spellings:
 *   old NeoX:   rotary_pct, rotary_emb_base
 *   new NeoX:   rope_parameters {partial_rotary_factor, rope_theta, rope_type}
 *   Llama:      rope_theta, rope_scaling {rope_type|type: "llama3", factor, low_freq_factor,
 *               high_freq_factor, original_max_position_embeddings}
 * Errors name the file and field: "config.json: field 'hidden_size' must be a positive integer". */
#ifndef SEA_MODELS_HF_CONFIG_H
#define SEA_MODELS_HF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SEA_HF_MAX_EOS 8

typedef struct sea_hf_config {
    char architecture[128]; /* architectures[0], e.g. "GPTNeoXForCausalLM"; "" when absent */
    char model_type[64];    /* "gpt_neox", "llama", ... (required) */

    int64_t hidden_size;             /* required */
    int64_t num_hidden_layers;       /* required */
    int64_t num_attention_heads;     /* required */
    int64_t num_key_value_heads;     /* default num_attention_heads */
    int64_t head_dim;                /* default hidden_size / num_attention_heads */
    int64_t intermediate_size;       /* default 4 * hidden_size */
    int64_t vocab_size;              /* required */
    int64_t max_position_embeddings; /* default 2048 */

    double norm_eps;         /* layer_norm_eps or rms_norm_eps, whichever the file has */
    bool norm_is_rms;        /* true when read from rms_norm_eps (or model_type llama) */
    char hidden_act[32];     /* "gelu", "gelu_new", "silu", ... default "gelu" (neox) / "silu" (llama) */
    bool use_parallel_residual; /* default true for gpt_neox, false otherwise */
    bool tie_word_embeddings;   /* default false for gpt_neox, false for llama (HF defaults) */
    bool attention_bias;        /* default true for gpt_neox, false for llama */
    bool mlp_bias;              /* default true for gpt_neox, false for llama */

    /* Rotary embedding. rotary_dim = head_dim * partial_rotary_factor (rounded down). */
    double partial_rotary_factor; /* default 1.0 (gpt_neox: 0.25 when the file gives nothing) */
    double rope_theta;            /* default 10000 */
    char rope_type[32];           /* "default", "llama3", "linear", ... */
    double rope_factor;           /* rope_scaling.factor (1 when absent) */
    double rope_low_freq_factor;  /* llama3 */
    double rope_high_freq_factor; /* llama3 */
    int64_t rope_original_max_position_embeddings; /* llama3 */

    int64_t num_labels;   /* sequence classification heads; default 1 when id2label absent */

    /* Special token ids; -1 when unknown. eos may be a list in the files. */
    int32_t bos_token_id;
    int32_t pad_token_id;
    int32_t eos_token_ids[SEA_HF_MAX_EOS];
    int n_eos;
    /* Special token strings from tokenizer_config.json ("" when absent); the tokenizer maps them. */
    char bos_token[64];
    char eos_token[64];
    char pad_token[64];

    char torch_dtype[16]; /* "float32", "bfloat16", "float16" (torch_dtype or dtype); "" absent */

    bool has_head_dim, has_tie_word_embeddings, has_num_labels;
} sea_hf_config;

/* Defaults for a model type before the file is applied ("gpt_neox", "llama", or NULL). */
void sea_hf_config_init(sea_hf_config *cfg, const char *model_type);

/* Load config.json. `path` is the file or a directory containing it; from a directory,
 * generation_config.json and tokenizer_config.json are read too when present (they override
 * bos/eos/pad ids as transformers' generate() does; tokenizer_config supplies the token strings). */
sea_status sea_hf_config_load(const char *path, sea_hf_config *cfg);

/* Parse config.json text (`name` is used in messages). Also used by the fuzzer. */
sea_status sea_hf_config_parse(const char *json, size_t len, const char *name, sea_hf_config *cfg);
/* Apply generation_config.json / tokenizer_config.json text on top of cfg. */
sea_status sea_hf_config_parse_generation(const char *json, size_t len, const char *name,
                                          sea_hf_config *cfg);
sea_status sea_hf_config_parse_tokenizer_config(const char *json, size_t len, const char *name,
                                                sea_hf_config *cfg);

/* Derived values. */
int64_t sea_hf_config_rotary_dim(const sea_hf_config *cfg);

/* Write a config.json that transformers' AutoConfig / AutoModelForCausalLM loads
 * (architectures, model_type and the keys of that model type; atomic write). */
sea_status sea_hf_config_write(const sea_hf_config *cfg, const char *path);

#ifdef __cplusplus
}
#endif
#endif
