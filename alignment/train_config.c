#include "alignment/train_config.h"

#include "models/json_util.h"
#include "runtime/dtype.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_STR, T_INT, T_I64, T_U64, T_DBL, T_BOOL, T_EXPLORE, T_ALGO } opt_type;

typedef struct opt {
    const char *name;      /* canonical, with '-' */
    const char *alias;     /* or NULL */
    opt_type type;
    size_t off;
    size_t size;           /* strings */
    const char *help;
} opt;

#define S(field) offsetof(sea_train_cfg, field), sizeof(((sea_train_cfg *)0)->field)
#define N(field) offsetof(sea_train_cfg, field), 0

static const opt opts[] = {
    {"policy", "pretrain", T_STR, S(policy), "HF directory of the SFT policy (required)"},
    {"ref", "ref-pretrain", T_STR, S(ref), "reference policy directory (default: a copy of --policy)"},
    {"feature-model", NULL, T_STR, S(feature_model), "ERM feature backbone (default: the reference policy)"},
    {"feature-concat", NULL, T_BOOL, N(feature_concat),
     "features = backbone states at the last prompt token and every response position (zero-padded to\n"
     "                         --max-new-tokens), concatenated, instead of the last token's state only"},
    {"prompt-data", NULL, T_STR, S(prompt_data), "JSONL prompts, or builtin:arith"},
    {"eval-data", NULL, T_STR, S(eval_data), "JSONL held-out prompts + references (default: builtin split)"},
    {"input-key", NULL, T_STR, S(input_key), "prompt field of the JSONL (prompt)"},
    {"output-key", NULL, T_STR, S(output_key), "reference-response field for win rate (\"\" = SFT greedy)"},
    {"oracle", NULL, T_STR, S(oracle), "builtin:TASK | rm:DIR | judge:COMMAND"},
    {"output-dir", "save-path", T_STR, S(output_dir), "where metrics, plots and checkpoints go"},
    {"resume", NULL, T_STR, S(resume), "continue the run in this output directory from its checkpoint"},
    {"device", NULL, T_STR, S(device), "cpu | cuda:0 | vulkan:0 | opencl:0 (default: best available)"},
    {"compute-dtype", NULL, T_STR, S(compute_dtype),
     "f32 | bf16: policy, reference and feature models compute in bf16 (f32 master weights, Adam\n"
     "                         state and gradients; f32 logits and log-probs). cpu and cuda (f32)"},
    {"exp-method", NULL, T_EXPLORE, N(exp_method),
     "passive (alias no) | enn-passive | enn-eets | enn-baits | enn-uncertainty | offline | apl | xpo"},
    {"explore-random-second", NULL, T_BOOL, N(explore_random_second), "enn-eets: random second when all agree"},
    {"baits-sigmoid", NULL, T_BOOL, N(baits_sigmoid), "enn-baits: variance of sigmoid(diff) (paper text)"},
    {"num-samples", NULL, T_INT, N(num_samples), "M responses per prompt for ERM methods (20)"},
    {"batch-size", "rollout-batch-size", T_INT, N(batch_size), "prompts per round (128)"},
    {"max-queries", NULL, T_I64, N(max_queries), "oracle query budget (50000)"},
    {"max-rounds", NULL, T_INT, N(max_rounds), "stop after this many rounds (0 = budget only)"},
    {"sync-params-every", NULL, T_INT, N(sync_params_every), "rounds between sampler weight syncs (1)"},
    {"max-new-tokens", "generate-max-length", T_INT, N(max_new_tokens), "response length cap (64)"},
    {"max-prompt-len", NULL, T_INT, N(max_prompt_len),
     "prompts longer keep their last this many tokens (0 = the policy's positions minus --max-new-tokens)"},
    {"temperature", NULL, T_DBL, N(temperature), "sampling temperature (0.7)"},
    {"top-p", NULL, T_DBL, N(top_p), "nucleus sampling (1.0)"},
    {"top-k", NULL, T_INT, N(top_k), "top-k sampling (0 = off)"},
    {"algo", "dap-algo", T_ALGO, N(algo), "dpo | ipo | slic | simpo"},
    {"beta", NULL, T_DBL, N(beta), "loss beta (default per algorithm: dpo 0.1, ipo 0.5, slic 0.2, simpo 2)"},
    {"simpo-gamma-ratio", NULL, T_DBL, N(simpo_gamma_ratio), "SimPO gamma/beta (0.5)"},
    {"learning-rate", NULL, T_DBL, N(learning_rate), "policy Adam lr (5e-7; tiny models need ~1e-3)"},
    {"warmup-ratio", NULL, T_DBL, N(warmup_ratio), "cosine warmup fraction (0.03)"},
    {"lr-floor-ratio", NULL, T_DBL, N(lr_floor_ratio), "cosine floor as a fraction of lr (0.1)"},
    {"max-norm", NULL, T_DBL, N(max_norm), "gradient clipping (1.0)"},
    {"adam-beta1", NULL, T_DBL, N(adam_beta1), "(0.9)"},
    {"adam-beta2", NULL, T_DBL, N(adam_beta2), "(0.95)"},
    {"adam-eps", NULL, T_DBL, N(adam_eps), "(1e-8)"},
    {"xpo-alpha", NULL, T_DBL, N(xpo_alpha), "XPO exploration weight (5e-6)"},
    {"apl-pool", NULL, T_DBL, N(apl_pool), "APL: candidate prompts per kept prompt (2)"},
    {"micro-pairs", NULL, T_INT, N(micro_pairs),
     "pairs per learner forward/backward micro-batch (16): memory vs speed; MPI learners split by micro-batch"},
    {"max-bad-steps", NULL, T_INT, N(max_bad_steps), "consecutive non-finite steps before stopping (3)"},
    {"recompute", "gradient-checkpointing", T_BOOL, N(recompute),
     "policy training keeps only each block's input and reruns the block in backward (less memory,\n"
     "                         one more forward of the blocks per step; same gradients)"},
    {"learn-rm", NULL, T_BOOL, N(learn_rm), "train the ERM (default on for enn-* methods)"},
    {"num-ensemble", NULL, T_INT, N(num_ensemble), "K ensemble members (20)"},
    {"rm-hidden", "enn-hidden", T_INT, N(rm_hidden), "ERM hidden width (128)"},
    {"rm-sgd-steps", NULL, T_INT, N(rm_sgd_steps), "ERM Adam steps per round (5)"},
    {"rm-batch", NULL, T_INT, N(rm_batch), "ERM batch B (128)"},
    {"rm-buffer", NULL, T_INT, N(rm_buffer), "ERM replay capacity (50000)"},
    {"rm-lr", NULL, T_DBL, N(rm_lr), "ERM Adam lr (1e-3)"},
    {"rm-l2", "rm-wd", T_DBL, N(rm_l2), "ERM L2 added to the gradient (5e-5)"},
    {"lambda", "enn-lambda", T_DBL, N(lambda), "anchor regularizer weight (0.5)"},
    {"rm-fixed-reg", NULL, T_BOOL, N(rm_fixed_reg), "regularizer lambda*B/B instead of lambda*B/N"},
    {"rm-stop-after", NULL, T_I64, N(rm_stop_after), "stop ERM training after this many queries (0 = never)"},
    {"gamma", NULL, T_DBL, N(gamma), "mixed preference learning (enn-* methods only): fraction of oracle pairs (0.7; 1 = off)"},
    {"burn-in", NULL, T_INT, N(burn_in), "rounds before mixing (5)"},
    {"mixed-oracle-label", NULL, T_BOOL, N(mixed_oracle_label), "mixed pairs labelled by the oracle, uncounted"},
    {"count-identical", NULL, T_BOOL, N(count_identical), "a pair of identical responses costs a query, as when every shown pair is scored (default: free)"},
    {"bt-sample", NULL, T_BOOL, N(bt_sample), "labels ~ Bernoulli(p) instead of [p > 0.5]"},
    {"label-flip", NULL, T_DBL, N(label_flip), "label noise: flip probability (0)"},
    {"judge-timeout", NULL, T_DBL, N(judge_timeout), "seconds per judge answer (30)"},
    {"eval-every", "eval-steps", T_INT, N(eval_every), "rounds between win-rate evaluations (5)"},
    {"eval-n", "eval-num", T_INT, N(eval_n), "held-out prompts per evaluation (all)"},
    {"eval-only", NULL, T_BOOL, N(eval_only),
     "evaluate --policy on the held-out prompts against the references (and --bon-n) and stop: no training"},
    {"bon-n", NULL, T_INT, N(bon_n), "best-of-N evaluation by ensemble mean, N samples at T 0.7 (0 = off)"},
    {"online-metric", NULL, T_BOOL, N(online_metric), "E&E metric: mean P(shown response > reference) per round (extra uncounted oracle calls)"},
    {"checkpoint-every", "save-steps", T_INT, N(checkpoint_every), "rounds between checkpoints (1; 0 = never)"},
    {"seed", NULL, T_U64, N(seed), "random seed (42)"},
    {"quiet", NULL, T_BOOL, N(quiet), "no progress line"},
    {"no-plot", NULL, T_BOOL, N(no_plot), "do not write the win-rate plot"},
    {"no-save-policy", NULL, T_BOOL, N(no_save_policy), "do not write the final policy as an HF directory (OUTPUT/policy)"},
    {"save-policy-every", NULL, T_INT, N(save_policy_every), "also write the policy as OUTPUT/policy-roundR every this many rounds (0 = off)"},
    {"save-dtype", NULL, T_STR, S(save_dtype), "weights of the written policy: f32 (the master weights, default), bf16 or f16"},
    {"kill-after-rounds", NULL, T_INT, N(kill_after_rounds), "testing: stop abruptly after N rounds (exit 3)"},
    {"broadcast-bucket-mb", NULL, T_INT, N(broadcast_bucket_mb), "MPI runs: weight broadcast bucket size in MiB (256)"},
    {"actors", NULL, T_INT, N(actors),
     "MPI runs: the first K ranks are actors (sampling, features, ERM, oracle), the others learners\n"
     "                         (data-parallel policy step); 0 = every rank does both (default; docs/distributed.md)"},
};
#define N_OPTS (sizeof opts / sizeof *opts)

void sea_train_cfg_default(sea_train_cfg *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->input_key, "prompt");
    strcpy(c->oracle, "");
    c->exp_method = SEA_EXPLORE_ENN_BAITS;
    c->num_samples = 20;
    c->batch_size = 128;
    c->max_queries = 50000;
    c->sync_params_every = 1;
    c->max_new_tokens = 64;
    c->temperature = 0.7;
    c->top_p = 1.0;
    c->algo = SEA_ALGO_DPO;
    c->beta = -1;
    c->simpo_gamma_ratio = 0.5;
    c->learning_rate = 5e-7;
    c->warmup_ratio = 0.03;
    c->lr_floor_ratio = 0.1;
    c->max_norm = 1.0;
    c->adam_beta1 = 0.9;
    c->adam_beta2 = 0.95;
    c->adam_eps = 1e-8;
    c->xpo_alpha = 5e-6;
    c->apl_pool = 2;
    c->max_bad_steps = 3;
    c->micro_pairs = 16;
    c->learn_rm = true;
    c->num_ensemble = 20;
    c->rm_hidden = 128;
    c->rm_sgd_steps = 5;
    c->rm_batch = 128;
    c->rm_buffer = 50000;
    c->rm_lr = 1e-3;
    c->rm_l2 = 5e-5;
    c->lambda = 0.5;
    c->gamma = 0.7;
    c->burn_in = 5;
    c->judge_timeout = 30;
    c->eval_every = 5;
    c->checkpoint_every = 1;
    c->broadcast_bucket_mb = 256;
    c->seed = 42;
}

static int name_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '_' ? '-' : *a, y = *b == '_' ? '-' : *b;
        if (x != y) return 0;
    }
    return *a == *b;
}

static const opt *find_opt(const char *name)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (name_eq(name, opts[i].name) || (opts[i].alias && name_eq(name, opts[i].alias))) return &opts[i];
    return NULL;
}

static sea_status parse_bool(const char *name, const char *v, bool *out)
{
    if (!v || !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) *out = true;
    else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) *out = false;
    else return sea_error(SEA_ERR_INVALID, "--%s: '%s' is not a boolean (true/false)", name, v);
    return SEA_OK;
}

static sea_status set_opt(sea_train_cfg *c, const opt *o, const char *v)
{
    char *base = (char *)c + o->off;
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case T_STR:
        if (strlen(v) >= o->size) return sea_error(SEA_ERR_INVALID, "--%s: value longer than %zu bytes", o->name, o->size - 1);
        strcpy(base, v);
        return SEA_OK;
    case T_INT: {
        long x = strtol(v, &end, 10);
        if (end == v || *end || errno || x < -2147483647L || x > 2147483647L)
            return sea_error(SEA_ERR_INVALID, "--%s: '%s' is not an integer", o->name, v);
        *(int *)base = (int)x;
        return SEA_OK;
    }
    case T_I64: {
        long long x = strtoll(v, &end, 10);
        if (end == v || *end || errno) return sea_error(SEA_ERR_INVALID, "--%s: '%s' is not an integer", o->name, v);
        *(int64_t *)base = x;
        return SEA_OK;
    }
    case T_U64: {
        unsigned long long x = strtoull(v, &end, 10);
        if (end == v || *end || errno || v[0] == '-')
            return sea_error(SEA_ERR_INVALID, "--%s: '%s' is not a non-negative integer", o->name, v);
        *(uint64_t *)base = x;
        return SEA_OK;
    }
    case T_DBL: {
        double x = strtod(v, &end);
        if (end == v || *end || !isfinite(x)) return sea_error(SEA_ERR_INVALID, "--%s: '%s' is not a number", o->name, v);
        *(double *)base = x;
        return SEA_OK;
    }
    case T_BOOL: return parse_bool(o->name, v, (bool *)base);
    case T_EXPLORE: return sea_explore_parse(v, (sea_explore *)base);
    case T_ALGO: return sea_pref_algo_parse(v, (sea_pref_algo *)base);
    }
    return sea_error(SEA_ERR_INTERNAL, "option %s", o->name);
}

sea_status sea_train_cfg_set(sea_train_cfg *c, const char *name, const char *value)
{
    const opt *o = find_opt(name);
    if (!o) return sea_error(SEA_ERR_INVALID, "unknown option '%s' (see sea train --help)", name);
    return set_opt(c, o, value);
}

sea_status sea_train_cfg_load_json(sea_train_cfg *c, const char *path)
{
    char *text = NULL;
    size_t n = 0;
    sea_status st = sea_file_read(path, &text, &n);
    if (st) return sea_error_context(st, "--config");
    st = sea_train_cfg_load_json_text(c, text, n, path);
    free(text);
    return st;
}

sea_status sea_train_cfg_load_json_text(sea_train_cfg *c, const char *text, size_t n, const char *path)
{
    cJSON *root = cJSON_ParseWithLength(text, n);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return sea_error(SEA_ERR_FORMAT, "--config %s: not a JSON object", path);
    }
    sea_status st = SEA_OK;
    for (cJSON *it = root->child; it && !st; it = it->next) {
        char buf[64];
        const char *v = NULL;
        if (cJSON_IsString(it)) v = it->valuestring;
        else if (cJSON_IsBool(it)) v = cJSON_IsTrue(it) ? "true" : "false";
        else if (cJSON_IsNumber(it)) {
            if (it->valuedouble == floor(it->valuedouble) && fabs(it->valuedouble) < 9e15)
                snprintf(buf, sizeof buf, "%.0f", it->valuedouble);
            else
                snprintf(buf, sizeof buf, "%.17g", it->valuedouble);
            v = buf;
        } else {
            st = sea_error(SEA_ERR_FORMAT, "--config %s: key '%s' must be a string, number or boolean", path, it->string);
            break;
        }
        const opt *o = find_opt(it->string);
        if (!o) st = sea_error(SEA_ERR_INVALID, "--config %s: unknown key '%s'", path, it->string);
        else if (!strcmp(o->name, "resume")) continue;   /* a config never resumes by itself */
        else st = set_opt(c, o, v);
        if (st) st = sea_error_context(st, "--config %s", path);
    }
    cJSON_Delete(root);
    return st;
}

void sea_train_cfg_usage(FILE *f)
{
    fprintf(f, "usage: sea train --policy DIR --prompt-data FILE|builtin:TASK --oracle SPEC --output-dir DIR [options]\n"
               "       sea train --resume DIR\n\noptions (--name VALUE or --name=VALUE; '_' works for '-'):\n"
               "  --config FILE        JSON object with any of the keys below\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%s", opts[i].name, opts[i].type == T_BOOL ? "" : " V");
        fprintf(f, "  --%-22s %s%s%s%s\n", name, opts[i].help, opts[i].alias ? " [alias --" : "",
                opts[i].alias ? opts[i].alias : "", opts[i].alias ? "]" : "");
    }
}

sea_status sea_train_cfg_parse_argv(sea_train_cfg *c, int argc, char **argv, bool *help_shown)
{
    if (help_shown) *help_shown = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            sea_train_cfg_usage(stdout);
            if (help_shown) *help_shown = true;
            sea_error_clear();
            return SEA_ERR_INVALID;
        }
        if (strncmp(a, "--", 2)) return sea_error(SEA_ERR_INVALID, "unexpected argument '%s'", a);
        char name[128];
        const char *eq = strchr(a + 2, '=');
        const char *val = NULL;
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a - 2), a + 2);
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a + 2);
        }
        if (name_eq(name, "config")) {
            if (!val) {
                if (i + 1 >= argc) return sea_error(SEA_ERR_INVALID, "--config needs a file");
                val = argv[++i];
            }
            SEA_TRY(sea_train_cfg_load_json(c, val));
            continue;
        }
        bool neg = false;
        const opt *o = find_opt(name);
        if (!o && !strncmp(name, "no-", 3)) {
            o = find_opt(name + 3);
            neg = o && o->type == T_BOOL;
            if (!neg) o = NULL;
        }
        if (!o) return sea_error(SEA_ERR_INVALID, "unknown option '--%s' (see sea train --help)", name);
        if (o->type == T_BOOL && !val) {
            /* a bare boolean flag, unless the next word is an explicit boolean */
            bool b = true;
            if (i + 1 < argc && parse_bool(o->name, argv[i + 1], &b) == SEA_OK && strncmp(argv[i + 1], "--", 2)) i++;
            else b = true;
            *(bool *)((char *)c + o->off) = neg ? !b : b;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) return sea_error(SEA_ERR_INVALID, "--%s needs a value", name);
            val = argv[++i];
        }
        SEA_TRY(set_opt(c, o, val));
    }
    return SEA_OK;
}

char *sea_train_cfg_to_json(const sea_train_cfg *c)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    for (size_t i = 0; i < N_OPTS; i++) {
        const opt *p = &opts[i];
        const char *base = (const char *)c + p->off;
        char key[64];
        snprintf(key, sizeof key, "%s", p->name);
        for (char *k = key; *k; k++)
            if (*k == '-') *k = '_';
        switch (p->type) {
        case T_STR: cJSON_AddStringToObject(o, key, base); break;
        case T_INT: cJSON_AddNumberToObject(o, key, *(const int *)base); break;
        case T_I64: cJSON_AddNumberToObject(o, key, (double)*(const int64_t *)base); break;
        case T_U64: cJSON_AddNumberToObject(o, key, (double)*(const uint64_t *)base); break;
        case T_DBL: cJSON_AddNumberToObject(o, key, *(const double *)base); break;
        case T_BOOL: cJSON_AddBoolToObject(o, key, *(const bool *)base); break;
        case T_EXPLORE: cJSON_AddStringToObject(o, key, sea_explore_name(*(const sea_explore *)base)); break;
        case T_ALGO: cJSON_AddStringToObject(o, key, sea_pref_algo_name(*(const sea_pref_algo *)base)); break;
        }
    }
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    return s;
}

sea_status sea_train_cfg_validate(const sea_train_cfg *c)
{
    if (!c->policy[0]) return sea_error(SEA_ERR_INVALID, "--policy is required (HF directory of the SFT policy)");
    if (!c->prompt_data[0]) return sea_error(SEA_ERR_INVALID, "--prompt-data is required (JSONL or builtin:arith)");
    if (!c->oracle[0]) return sea_error(SEA_ERR_INVALID, "--oracle is required (builtin:TASK, rm:DIR or judge:CMD)");
    if (!c->output_dir[0]) return sea_error(SEA_ERR_INVALID, "--output-dir is required");
    if (c->compute_dtype[0] && strcmp(c->compute_dtype, "f32") && strcmp(c->compute_dtype, "bf16"))
        return sea_error(SEA_ERR_INVALID, "--compute-dtype %s: need f32 or bf16", c->compute_dtype);
    if (c->num_samples < 2) return sea_error(SEA_ERR_INVALID, "--num-samples %d: need >= 2", c->num_samples);
    if (c->batch_size < 1) return sea_error(SEA_ERR_INVALID, "--batch-size %d: need >= 1", c->batch_size);
    if (c->max_queries < 1 && c->max_rounds < 1) return sea_error(SEA_ERR_INVALID, "--max-queries %lld: need >= 1", (long long)c->max_queries);
    if (c->sync_params_every < 1) return sea_error(SEA_ERR_INVALID, "--sync-params-every %d: need >= 1", c->sync_params_every);
    if (c->max_new_tokens < 1) return sea_error(SEA_ERR_INVALID, "--max-new-tokens %d: need >= 1", c->max_new_tokens);
    sea_dtype save_dtype;
    if (c->save_dtype[0] && (sea_dtype_from_name(c->save_dtype, &save_dtype) || !sea_dtype_is_float(save_dtype)))
        return sea_error(SEA_ERR_INVALID, "--save-dtype %s: need f32, bf16 or f16", c->save_dtype);
    if (c->eval_only && c->resume[0]) return sea_error(SEA_ERR_INVALID, "--eval-only with --resume: evaluate a saved policy instead (OUTPUT/policy)");
    if (c->save_policy_every < 0) return sea_error(SEA_ERR_INVALID, "--save-policy-every %d: need >= 0", c->save_policy_every);
    if (c->max_prompt_len < 0) return sea_error(SEA_ERR_INVALID, "--max-prompt-len %d: need >= 0 (0: from the policy)", c->max_prompt_len);
    if (c->temperature < 0) return sea_error(SEA_ERR_INVALID, "--temperature %g: need >= 0", c->temperature);
    if (!(c->top_p > 0 && c->top_p <= 1)) return sea_error(SEA_ERR_INVALID, "--top-p %g: need (0, 1]", c->top_p);
    if (!(c->learning_rate > 0)) return sea_error(SEA_ERR_INVALID, "--learning-rate %g: need > 0", c->learning_rate);
    if (c->num_ensemble < 2 && sea_explore_uses_erm(c->exp_method))
        return sea_error(SEA_ERR_INVALID, "--num-ensemble %d: %s needs >= 2 members", c->num_ensemble, sea_explore_name(c->exp_method));
    if (c->rm_hidden < 1 || c->rm_batch < 1 || c->rm_buffer < c->rm_batch)
        return sea_error(SEA_ERR_INVALID, "--rm-hidden %d / --rm-batch %d / --rm-buffer %d: need >= 1 and buffer >= batch",
                         c->rm_hidden, c->rm_batch, c->rm_buffer);
    if (!(c->gamma > 0 && c->gamma <= 1)) return sea_error(SEA_ERR_INVALID, "--gamma %g: need (0, 1]", c->gamma);
    if (c->label_flip < 0 || c->label_flip > 1) return sea_error(SEA_ERR_INVALID, "--label-flip %g: need [0, 1]", c->label_flip);
    if (c->apl_pool < 1) return sea_error(SEA_ERR_INVALID, "--apl-pool %g: need >= 1", c->apl_pool);
    if (c->bon_n < 0 || (c->bon_n > 0 && !sea_explore_uses_erm(c->exp_method)))
        return sea_error(SEA_ERR_INVALID, "--bon-n %d: needs >= 0 and an enn-* method (the ensemble picks the best)", c->bon_n);
    if (c->micro_pairs < 1) return sea_error(SEA_ERR_INVALID, "--micro-pairs %d: need >= 1", c->micro_pairs);
    if (c->actors < 0) return sea_error(SEA_ERR_INVALID, "--actors %d: need >= 0", c->actors);
    if (c->broadcast_bucket_mb < 1 || c->broadcast_bucket_mb > 2047)
        return sea_error(SEA_ERR_INVALID, "--broadcast-bucket-mb %d: need 1..2047", c->broadcast_bucket_mb);
    return SEA_OK;
}
