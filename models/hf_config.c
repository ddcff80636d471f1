/* config.json / generation_config.json / tokenizer_config.json. See hf_config.h. */
#include "hf_config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"

static void set_str(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

void sea_hf_config_init(sea_hf_config *cfg, const char *model_type)
{
    memset(cfg, 0, sizeof *cfg);
    bool neox = model_type && strcmp(model_type, "gpt_neox") == 0;
    bool llama = model_type && strcmp(model_type, "llama") == 0;
    set_str(cfg->model_type, sizeof cfg->model_type, model_type);
    cfg->max_position_embeddings = 2048;
    cfg->norm_eps = llama ? 1e-6 : 1e-5;
    cfg->norm_is_rms = llama;
    set_str(cfg->hidden_act, sizeof cfg->hidden_act, neox ? "gelu" : llama ? "silu" : "gelu");
    cfg->use_parallel_residual = neox;
    /* transformers' PretrainedConfig ties by default; GPT-NeoX and Llama override to false. */
    cfg->tie_word_embeddings = !(neox || llama);
    cfg->attention_bias = neox;
    cfg->mlp_bias = neox;
    cfg->partial_rotary_factor = neox ? 0.25 : 1.0;
    cfg->rope_theta = 10000.0;
    set_str(cfg->rope_type, sizeof cfg->rope_type, "default");
    cfg->rope_factor = 1.0;
    cfg->rope_low_freq_factor = 1.0;
    cfg->rope_high_freq_factor = 4.0;
    cfg->rope_original_max_position_embeddings = 0;
    cfg->num_labels = 2; /* PretrainedConfig's default when id2label is absent */
    cfg->bos_token_id = neox ? 0 : llama ? 1 : -1;
    cfg->pad_token_id = -1;
    cfg->n_eos = (neox || llama) ? 1 : 0;
    cfg->eos_token_ids[0] = neox || llama ? 2 : -1;
}

static sea_status req_pos(const cJSON *j, const char *key, const char *file, int64_t *out, bool required)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!it || cJSON_IsNull(it)) {
        if (required) return sea_error(SEA_ERR_FORMAT, "%s: missing field '%s'", file, key);
        return SEA_OK;
    }
    int64_t v;
    if (!sea_json_is_int(it, 1, INT32_MAX, &v))
        return sea_error(SEA_ERR_FORMAT, "%s: field '%s' must be a positive integer", file, key);
    *out = v;
    return SEA_OK;
}

/* A token id field: an integer, a list of integers (eos), or null. */
static sea_status token_ids(const cJSON *j, const char *key, const char *file, int32_t *ids, int cap, int *n,
                            bool *present)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, key);
    *present = false;
    if (!it) return SEA_OK;
    *present = true;
    int64_t v;
    if (cJSON_IsNull(it)) {
        *n = 0;
        return SEA_OK;
    }
    if (sea_json_is_int(it, 0, INT32_MAX, &v)) {
        ids[0] = (int32_t)v;
        *n = 1;
        return SEA_OK;
    }
    if (cJSON_IsArray(it) && cap > 1) {
        int k = 0;
        for (const cJSON *e = it->child; e; e = e->next) {
            if (!sea_json_is_int(e, 0, INT32_MAX, &v))
                return sea_error(SEA_ERR_FORMAT, "%s: field '%s' must hold non-negative integer token ids", file, key);
            if (k == cap) return sea_error(SEA_ERR_FORMAT, "%s: field '%s' lists more than %d token ids", file, key, cap);
            ids[k++] = (int32_t)v;
        }
        *n = k;
        return SEA_OK;
    }
    return sea_error(SEA_ERR_FORMAT, "%s: field '%s' must be a token id%s", file, key, cap > 1 ? " or a list of them" : "");
}

static sea_status special_ids(const cJSON *j, const char *file, sea_hf_config *cfg)
{
    int32_t ids[SEA_HF_MAX_EOS];
    int n = 0;
    bool present;
    SEA_TRY(token_ids(j, "bos_token_id", file, ids, 1, &n, &present));
    if (present) cfg->bos_token_id = n ? ids[0] : -1;
    SEA_TRY(token_ids(j, "pad_token_id", file, ids, 1, &n, &present));
    if (present) cfg->pad_token_id = n ? ids[0] : -1;
    SEA_TRY(token_ids(j, "eos_token_id", file, ids, SEA_HF_MAX_EOS, &n, &present));
    if (present) {
        memcpy(cfg->eos_token_ids, ids, (size_t)n * sizeof ids[0]);
        cfg->n_eos = n;
    }
    return SEA_OK;
}

static sea_status positive_double(const cJSON *j, const char *key, const char *file, double *out)
{
    bool present;
    double v = *out;
    SEA_TRY(sea_json_double(j, key, file, &v, &present));
    if (present && !(v > 0)) return sea_error(SEA_ERR_FORMAT, "%s: field '%s' must be positive", file, key);
    *out = v;
    return SEA_OK;
}

/* rope_parameters (new) or rope_scaling (old): same inner keys. */
static sea_status rope_object(const cJSON *r, const char *what, const char *file, sea_hf_config *cfg)
{
    if (!r || cJSON_IsNull(r)) return SEA_OK;
    if (!cJSON_IsObject(r)) return sea_error(SEA_ERR_FORMAT, "%s: field '%s' must be an object", file, what);
    bool present;
    char type[32] = "";
    SEA_TRY(sea_json_str(r, "rope_type", file, type, sizeof type, &present));
    if (!present) SEA_TRY(sea_json_str(r, "type", file, type, sizeof type, &present));
    if (present) set_str(cfg->rope_type, sizeof cfg->rope_type, type);
    double prf = cfg->partial_rotary_factor;
    SEA_TRY(sea_json_double(r, "partial_rotary_factor", file, &prf, &present));
    if (present && !(prf > 0 && prf <= 1))
        return sea_error(SEA_ERR_FORMAT, "%s: field '%s.partial_rotary_factor' must be in (0, 1]", file, what);
    cfg->partial_rotary_factor = prf;
    SEA_TRY(positive_double(r, "rope_theta", file, &cfg->rope_theta));
    SEA_TRY(positive_double(r, "factor", file, &cfg->rope_factor));
    SEA_TRY(positive_double(r, "low_freq_factor", file, &cfg->rope_low_freq_factor));
    SEA_TRY(positive_double(r, "high_freq_factor", file, &cfg->rope_high_freq_factor));
    SEA_TRY(req_pos(r, "original_max_position_embeddings", file, &cfg->rope_original_max_position_embeddings, false));
    return SEA_OK;
}

sea_status sea_hf_config_parse(const char *json, size_t len, const char *file, sea_hf_config *cfg)
{
    cJSON *j;
    SEA_TRY(sea_json_parse(json, len, file, &j));
    sea_status st = SEA_OK;
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return sea_error(SEA_ERR_FORMAT, "%s: not a JSON object", file);
    }
    char mt[64] = "";
    bool present;
    st = sea_json_str(j, "model_type", file, mt, sizeof mt, &present);
    if (!st && !present) st = sea_error(SEA_ERR_FORMAT, "%s: missing field 'model_type'", file);
    if (st) goto done;
    sea_hf_config_init(cfg, mt);

    const cJSON *arch = cJSON_GetObjectItemCaseSensitive(j, "architectures");
    if (arch && !cJSON_IsNull(arch)) {
        if (!cJSON_IsArray(arch) || (arch->child && !cJSON_IsString(arch->child))) {
            st = sea_error(SEA_ERR_FORMAT, "%s: field 'architectures' must be a list of strings", file);
            goto done;
        }
        if (arch->child) {
            if (strlen(arch->child->valuestring) >= sizeof cfg->architecture) {
                st = sea_error(SEA_ERR_FORMAT, "%s: field 'architectures' entry is too long", file);
                goto done;
            }
            set_str(cfg->architecture, sizeof cfg->architecture, arch->child->valuestring);
        }
    }
    if ((st = req_pos(j, "hidden_size", file, &cfg->hidden_size, true))) goto done;
    if ((st = req_pos(j, "num_hidden_layers", file, &cfg->num_hidden_layers, true))) goto done;
    if ((st = req_pos(j, "num_attention_heads", file, &cfg->num_attention_heads, true))) goto done;
    if ((st = req_pos(j, "vocab_size", file, &cfg->vocab_size, true))) goto done;
    cfg->num_key_value_heads = cfg->num_attention_heads;
    if ((st = req_pos(j, "num_key_value_heads", file, &cfg->num_key_value_heads, false))) goto done;
    if (cfg->num_attention_heads % cfg->num_key_value_heads) {
        st = sea_error(SEA_ERR_FORMAT, "%s: num_attention_heads %" PRId64 " is not a multiple of num_key_value_heads %" PRId64,
                       file, cfg->num_attention_heads, cfg->num_key_value_heads);
        goto done;
    }
    cfg->head_dim = 0;
    if ((st = req_pos(j, "head_dim", file, &cfg->head_dim, false))) goto done;
    cfg->has_head_dim = cfg->head_dim != 0;
    if (!cfg->has_head_dim) {
        if (cfg->hidden_size % cfg->num_attention_heads) {
            st = sea_error(SEA_ERR_FORMAT, "%s: hidden_size %" PRId64 " is not a multiple of num_attention_heads %" PRId64,
                           file, cfg->hidden_size, cfg->num_attention_heads);
            goto done;
        }
        cfg->head_dim = cfg->hidden_size / cfg->num_attention_heads;
    }
    cfg->intermediate_size = 4 * cfg->hidden_size;
    if ((st = req_pos(j, "intermediate_size", file, &cfg->intermediate_size, false))) goto done;
    if ((st = req_pos(j, "max_position_embeddings", file, &cfg->max_position_embeddings, false))) goto done;

    double eps = cfg->norm_eps;
    if ((st = sea_json_double(j, "rms_norm_eps", file, &eps, &present))) goto done;
    if (present) cfg->norm_is_rms = true;
    else {
        if ((st = sea_json_double(j, "layer_norm_eps", file, &eps, &present))) goto done;
        if (!present && (st = sea_json_double(j, "layer_norm_epsilon", file, &eps, &present))) goto done;
        if (present) cfg->norm_is_rms = false;
    }
    if (!(eps > 0 && eps < 1)) {
        st = sea_error(SEA_ERR_FORMAT, "%s: norm epsilon %g must be in (0, 1)", file, eps);
        goto done;
    }
    cfg->norm_eps = eps;
    if ((st = sea_json_str(j, "hidden_act", file, cfg->hidden_act, sizeof cfg->hidden_act, NULL))) goto done;
    if ((st = sea_json_bool(j, "use_parallel_residual", file, &cfg->use_parallel_residual, NULL))) goto done;
    if ((st = sea_json_bool(j, "tie_word_embeddings", file, &cfg->tie_word_embeddings, &cfg->has_tie_word_embeddings))) goto done;
    if ((st = sea_json_bool(j, "attention_bias", file, &cfg->attention_bias, NULL))) goto done;
    if ((st = sea_json_bool(j, "mlp_bias", file, &cfg->mlp_bias, NULL))) goto done;

    /* Rotary: old NeoX keys, then Llama's top-level rope_theta, then the structured objects
     * (newest spelling last so it wins when a file carries several). */
    double prf = cfg->partial_rotary_factor;
    if ((st = sea_json_double(j, "rotary_pct", file, &prf, &present))) goto done;
    if (!present && (st = sea_json_double(j, "partial_rotary_factor", file, &prf, &present))) goto done;
    if (present && !(prf > 0 && prf <= 1)) {
        st = sea_error(SEA_ERR_FORMAT, "%s: field 'rotary_pct' must be in (0, 1]", file);
        goto done;
    }
    cfg->partial_rotary_factor = prf;
    if ((st = positive_double(j, "rotary_emb_base", file, &cfg->rope_theta))) goto done;
    if ((st = positive_double(j, "rope_theta", file, &cfg->rope_theta))) goto done;
    if ((st = rope_object(cJSON_GetObjectItemCaseSensitive(j, "rope_scaling"), "rope_scaling", file, cfg))) goto done;
    if ((st = rope_object(cJSON_GetObjectItemCaseSensitive(j, "rope_parameters"), "rope_parameters", file, cfg))) goto done;

    const cJSON *id2label = cJSON_GetObjectItemCaseSensitive(j, "id2label");
    if (cJSON_IsObject(id2label)) {
        cfg->num_labels = cJSON_GetArraySize(id2label);
        cfg->has_num_labels = true;
    }
    if ((st = sea_json_int(j, "num_labels", file, &cfg->num_labels, &present))) goto done;
    if (present) cfg->has_num_labels = true;
    if (cfg->num_labels < 1 || cfg->num_labels > 1000000) {
        st = sea_error(SEA_ERR_FORMAT, "%s: field 'num_labels' must be a positive integer", file);
        goto done;
    }
    if ((st = special_ids(j, file, cfg))) goto done;
    if ((st = sea_json_str(j, "torch_dtype", file, cfg->torch_dtype, sizeof cfg->torch_dtype, &present))) goto done;
    if (!present && (st = sea_json_str(j, "dtype", file, cfg->torch_dtype, sizeof cfg->torch_dtype, NULL))) goto done;
done:
    cJSON_Delete(j);
    return st;
}

sea_status sea_hf_config_parse_generation(const char *json, size_t len, const char *file, sea_hf_config *cfg)
{
    cJSON *j;
    SEA_TRY(sea_json_parse(json, len, file, &j));
    sea_status st = cJSON_IsObject(j) ? special_ids(j, file, cfg) : sea_error(SEA_ERR_FORMAT, "%s: not a JSON object", file);
    cJSON_Delete(j);
    return st;
}

/* tokenizer_config.json writes special tokens as a string or as {"content": "..."} (AddedToken). */
static sea_status token_string(const cJSON *j, const char *key, const char *file, char *buf, size_t cap)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!it || cJSON_IsNull(it)) return SEA_OK;
    if (cJSON_IsObject(it)) it = cJSON_GetObjectItemCaseSensitive(it, "content");
    if (!cJSON_IsString(it))
        return sea_error(SEA_ERR_FORMAT, "%s: field '%s' must be a string or {\"content\": string}", file, key);
    if (strlen(it->valuestring) >= cap)
        return sea_error(SEA_ERR_FORMAT, "%s: field '%s' is too long", file, key);
    set_str(buf, cap, it->valuestring);
    return SEA_OK;
}

sea_status sea_hf_config_parse_tokenizer_config(const char *json, size_t len, const char *file, sea_hf_config *cfg)
{
    cJSON *j;
    SEA_TRY(sea_json_parse(json, len, file, &j));
    sea_status st = SEA_OK;
    if (!cJSON_IsObject(j)) st = sea_error(SEA_ERR_FORMAT, "%s: not a JSON object", file);
    if (!st) st = token_string(j, "bos_token", file, cfg->bos_token, sizeof cfg->bos_token);
    if (!st) st = token_string(j, "eos_token", file, cfg->eos_token, sizeof cfg->eos_token);
    if (!st) st = token_string(j, "pad_token", file, cfg->pad_token, sizeof cfg->pad_token);
    cJSON_Delete(j);
    return st;
}

typedef sea_status (*parse_fn)(const char *, size_t, const char *, sea_hf_config *);

static sea_status parse_file(const char *path, parse_fn fn, sea_hf_config *cfg)
{
    char *text;
    size_t len;
    SEA_TRY(sea_file_read(path, &text, &len));
    sea_status st = fn(text, len, path, cfg);
    free(text);
    return st;
}

sea_status sea_hf_config_load(const char *path, sea_hf_config *cfg)
{
    bool dir = sea_path_is_dir(path);
    char *cfg_path = dir ? sea_path_join(path, "config.json") : strdup(path);
    char *d = dir ? strdup(path) : sea_path_dirname(path);
    sea_status st = SEA_OK;
    if (!cfg_path || !d) st = sea_error(SEA_ERR_OOM, "%s: out of memory", path);
    if (!st) st = parse_file(cfg_path, sea_hf_config_parse, cfg);
    /* Companion files are read only for a directory: a lone config.json path means just it. */
    if (!st && dir) {
        char *gen = sea_path_join(d, "generation_config.json");
        char *tc = sea_path_join(d, "tokenizer_config.json");
        if (!gen || !tc) st = sea_error(SEA_ERR_OOM, "%s: out of memory", path);
        if (!st && sea_file_exists(gen)) st = parse_file(gen, sea_hf_config_parse_generation, cfg);
        if (!st && sea_file_exists(tc)) st = parse_file(tc, sea_hf_config_parse_tokenizer_config, cfg);
        free(gen);
        free(tc);
    }
    free(cfg_path);
    free(d);
    return st;
}

int64_t sea_hf_config_rotary_dim(const sea_hf_config *cfg)
{
    return (int64_t)floor((double)cfg->head_dim * cfg->partial_rotary_factor + 1e-9);
}

/* ---------------------------------------------------------------- writing */

static void put_ids(FILE *fp, const char *key, const int32_t *ids, int n, bool list)
{
    fprintf(fp, "  \"%s\": ", key);
    if (n == 0) fprintf(fp, "null");
    else if (n == 1 && !list) fprintf(fp, "%d", ids[0]);
    else {
        fprintf(fp, "[");
        for (int i = 0; i < n; i++) fprintf(fp, "%s%d", i ? ", " : "", ids[i]);
        fprintf(fp, "]");
    }
    fprintf(fp, ",\n");
}

static bool safe_token(const char *s)
{
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20) return false;
    return true;
}

sea_status sea_hf_config_write(const sea_hf_config *cfg, const char *path)
{
    bool neox = strcmp(cfg->model_type, "gpt_neox") == 0;
    bool llama = strcmp(cfg->model_type, "llama") == 0;
    if (!neox && !llama)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: writing config for model_type '%s' is not supported (gpt_neox, llama)",
                         path, cfg->model_type);
    if (!safe_token(cfg->architecture) || !safe_token(cfg->hidden_act) || !safe_token(cfg->rope_type) ||
        !safe_token(cfg->torch_dtype))
        return sea_error(SEA_ERR_INVALID, "%s: config strings may not contain quotes, backslashes or control characters", path);
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    if (!fp) return sea_error(SEA_ERR_OOM, "%s: out of memory", path);
    const char *arch = cfg->architecture[0] ? cfg->architecture : neox ? "GPTNeoXForCausalLM" : "LlamaForCausalLM";
    fprintf(fp, "{\n  \"architectures\": [\"%s\"],\n  \"model_type\": \"%s\",\n", arch, cfg->model_type);
    fprintf(fp, "  \"hidden_size\": %" PRId64 ",\n", cfg->hidden_size);
    fprintf(fp, "  \"num_hidden_layers\": %" PRId64 ",\n", cfg->num_hidden_layers);
    fprintf(fp, "  \"num_attention_heads\": %" PRId64 ",\n", cfg->num_attention_heads);
    fprintf(fp, "  \"intermediate_size\": %" PRId64 ",\n", cfg->intermediate_size);
    fprintf(fp, "  \"vocab_size\": %" PRId64 ",\n", cfg->vocab_size);
    fprintf(fp, "  \"max_position_embeddings\": %" PRId64 ",\n", cfg->max_position_embeddings);
    fprintf(fp, "  \"hidden_act\": \"%s\",\n", cfg->hidden_act);
    fprintf(fp, "  \"tie_word_embeddings\": %s,\n", cfg->tie_word_embeddings ? "true" : "false");
    fprintf(fp, "  \"attention_bias\": %s,\n", cfg->attention_bias ? "true" : "false");
    /* Both the current rope_parameters and the older keys, with equal values, so transformers 4.x
     * and 5.x read the same thing. */
    if (neox) {
        fprintf(fp, "  \"layer_norm_eps\": %.17g,\n", cfg->norm_eps);
        fprintf(fp, "  \"use_parallel_residual\": %s,\n", cfg->use_parallel_residual ? "true" : "false");
        fprintf(fp, "  \"rotary_pct\": %.17g,\n", cfg->partial_rotary_factor);
        fprintf(fp, "  \"rotary_emb_base\": %.17g,\n", cfg->rope_theta);
        fprintf(fp, "  \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": %.17g, "
                    "\"partial_rotary_factor\": %.17g},\n", cfg->rope_theta, cfg->partial_rotary_factor);
    } else {
        fprintf(fp, "  \"num_key_value_heads\": %" PRId64 ",\n", cfg->num_key_value_heads);
        fprintf(fp, "  \"head_dim\": %" PRId64 ",\n", cfg->head_dim);
        fprintf(fp, "  \"rms_norm_eps\": %.17g,\n", cfg->norm_eps);
        fprintf(fp, "  \"mlp_bias\": %s,\n", cfg->mlp_bias ? "true" : "false");
        fprintf(fp, "  \"rope_theta\": %.17g,\n", cfg->rope_theta);
        if (strcmp(cfg->rope_type, "llama3") == 0) {
            char scaling[512];
            snprintf(scaling, sizeof scaling,
                     "{\"rope_type\": \"llama3\", \"factor\": %.17g, \"low_freq_factor\": %.17g, "
                     "\"high_freq_factor\": %.17g, \"original_max_position_embeddings\": %" PRId64,
                     cfg->rope_factor, cfg->rope_low_freq_factor, cfg->rope_high_freq_factor,
                     cfg->rope_original_max_position_embeddings);
            fprintf(fp, "  \"rope_scaling\": %s},\n", scaling);
            fprintf(fp, "  \"rope_parameters\": %s, \"rope_theta\": %.17g},\n", scaling, cfg->rope_theta);
        } else {
            fprintf(fp, "  \"rope_scaling\": null,\n");
            fprintf(fp, "  \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": %.17g},\n", cfg->rope_theta);
        }
    }
    if (cfg->has_num_labels || cfg->num_labels != 2) {
        fprintf(fp, "  \"id2label\": {");
        for (int64_t i = 0; i < cfg->num_labels; i++) fprintf(fp, "%s\"%" PRId64 "\": \"LABEL_%" PRId64 "\"", i ? ", " : "", i, i);
        fprintf(fp, "},\n  \"label2id\": {");
        for (int64_t i = 0; i < cfg->num_labels; i++) fprintf(fp, "%s\"LABEL_%" PRId64 "\": %" PRId64, i ? ", " : "", i, i);
        fprintf(fp, "},\n");
    }
    int32_t one;
    one = cfg->bos_token_id;
    put_ids(fp, "bos_token_id", &one, one >= 0, false);
    one = cfg->pad_token_id;
    put_ids(fp, "pad_token_id", &one, one >= 0, false);
    put_ids(fp, "eos_token_id", cfg->eos_token_ids, cfg->n_eos, cfg->n_eos > 1);
    if (cfg->torch_dtype[0]) fprintf(fp, "  \"torch_dtype\": \"%s\",\n", cfg->torch_dtype);
    fprintf(fp, "  \"use_cache\": true\n}\n");
    if (fclose(fp) != 0 || !text) {
        free(text);
        return sea_error(SEA_ERR_OOM, "%s: out of memory", path);
    }
    sea_status st = sea_file_write_atomic(path, text, len);
    free(text);
    return st;
}
