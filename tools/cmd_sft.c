/* `sea sft`: supervised fine-tuning (cross-entropy on response tokens).
 *
 *   sea sft --task arith --output-dir DIR [--steps N ...]     a fresh tiny GPT-NeoX on the
 *        built-in task's imperfect-teacher corpus (alignment/tasks/arith.h); writes an HF
 *        directory with tokenizer.json, and reports what its greedy answers look like
 *   sea sft --policy DIR --data FILE.jsonl --output-dir DIR    fine-tune a model on
 *        {"prompt": ..., "response": ...} lines (--input-key / --output-key rename the fields)
 *
 * The loss is the mean over response tokens of −log p(token | prefix); Adam (0.9, 0.98),
 * cosine schedule with warmup to 0.1 × lr, clip at 1.0, all over the flat parameter buffer. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "alignment/actor.h"
#include "alignment/prompts.h"
#include "alignment/tasks/arith.h"
#include "cli_number.h"
#include "commands.h"
#include "models/json_util.h"
#include "models/generate.h"
#include "models/hf_config.h"
#include "models/model.h"
#include "models/tokenizer.h"
#include "runtime/ops.h"
#include "runtime/rng.h"

typedef struct sft_opts {
    const char *task, *policy, *data, *out, *device, *input_key, *output_key;
    int steps, batch, hidden, layers, heads, inter, seed, log_every;
    double lr;
    bool quiet;
    const char *dtype;    /* --compute-dtype f32|bf16 */
    bool recompute;       /* --recompute: activation recomputation (less memory, same gradients) */
    bool exact_teacher;   /* --teacher exact: the true sums (a feature backbone for ablations) */
} sft_opts;

static void usage(FILE *f)
{
    fprintf(f, "usage: sea sft --task arith --output-dir DIR [options]\n"
               "       sea sft --policy DIR --data FILE.jsonl --output-dir DIR [options]\n\n"
               "  --steps N            optimizer steps (3000)\n"
               "  --batch-size N       sequences per step (64)\n"
               "  --learning-rate X    peak Adam lr (3e-3)\n"
               "  --seed N             init and data order (1)\n"
               "  --device SPEC        cpu | cuda:0 | vulkan:0 | opencl:0\n"
               "  --hidden-size N / --layers N / --heads N / --intermediate-size N\n"
               "                       shape of a fresh model (--task only; 64 / 2 / 4 / 256)\n"
               "  --input-key K / --output-key K   JSONL fields (prompt / response)\n"
               "  --teacher biased|exact  --task arith: the imperfect teacher (default) or the true sums\n"
               "  --recompute          keep only each block's input in training and rerun the block in\n"
               "                       backward: less activation memory, one more forward of the blocks\n"
               "  --compute-dtype f32|bf16  compute in bf16 over f32 master weights, Adam state and\n"
               "                       gradients (cpu, cuda; f32 default)\n"
               "  --quiet\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct example {
    int32_t *prompt;
    int plen;
    int32_t *resp;
    int rlen;
} example;

/* A JSONL corpus as (prompt ids, response ids + eos). */
static sea_status load_corpus(const char *path, const char *ik, const char *ok, const sea_codec *codec, example **out, int *n)
{
    sea_prompt_set ps;
    SEA_TRY(sea_prompt_set_load(&ps, path, false, ik, ok, codec));
    example *ex = calloc((size_t)ps.n, sizeof *ex);
    if (!ex) {
        sea_prompt_set_free(&ps);
        return sea_error(SEA_ERR_OOM, "corpus");
    }
    sea_status st = SEA_OK;
    for (int i = 0; i < ps.n && !st; i++) {
        ex[i].prompt = ps.items[i].ids;
        ex[i].plen = ps.items[i].n_ids;
        ps.items[i].ids = NULL;
        int32_t *r = NULL;
        int rn = 0;
        /* the response is encoded on its own (no special tokens added), then the end token */
        if (codec->tok) {
            size_t k = 0;
            st = sea_tokenizer_encode(codec->tok, ps.items[i].reference, strlen(ps.items[i].reference), false, &r, &k);
            rn = (int)k;
        } else {
            st = sea_codec_encode(codec, ps.items[i].reference, &r, &rn);
        }
        if (st) break;
        int32_t *rr = realloc(r, sizeof(int32_t) * (size_t)(rn + 1));
        if (!rr) {
            free(r);
            st = sea_error(SEA_ERR_OOM, "corpus");
            break;
        }
        if (codec->eos >= 0) rr[rn++] = codec->eos;
        ex[i].resp = rr;
        ex[i].rlen = rn;
    }
    *n = ps.n;
    sea_prompt_set_free(&ps);
    *out = ex;
    return st;
}

/* An example longer than the model's positions: the prompt keeps its last tokens so that the
 * whole response fits; a response that alone does not fit keeps its first tokens after the
 * prompt's last one. Returns whether it was cut. */
static bool fit_example(example *e, int positions)
{
    if (e->plen + e->rlen <= positions) return false;
    int keep_p = e->rlen <= positions - 1 ? positions - e->rlen : 1;
    if (keep_p > e->plen) keep_p = e->plen;
    memmove(e->prompt, e->prompt + (e->plen - keep_p), sizeof(int32_t) * (size_t)keep_p);
    e->plen = keep_p;
    if (e->plen + e->rlen > positions) e->rlen = positions - e->plen;
    return true;
}

static sea_status arith_example(const sea_arith_task *t, char (*prompts)[SEA_ARITH_PROMPT_BUF], int n_prompts, sea_rng *rng,
                                bool exact, example *ex)
{
    int i = (int)sea_rng_next_below(rng, (uint32_t)n_prompts);
    int a, b;
    sscanf(prompts[i], "%d+%d=", &a, &b);
    (void)t;
    char ans[16];
    snprintf(ans, sizeof ans, "%d", exact ? a + b : sea_arith_teacher_answer(a, b, rng));
    ex->plen = sea_arith_encode(prompts[i], ex->prompt, SEA_ARITH_MAX_PROMPT);
    ex->rlen = sea_arith_encode(ans, ex->resp, SEA_ARITH_MAX_ANSWER);   /* <= 4 digits */
    if (ex->plen < 0 || ex->rlen < 0) return sea_error(SEA_ERR_INTERNAL, "arith example '%s%s'", prompts[i], ans);
    ex->resp[ex->rlen++] = SEA_ARITH_EOS;
    return SEA_OK;
}

/* Greedy answers of the built-in task's held-out prompts, classified against the truth. */
static sea_status arith_report(sea_model *m, FILE *f)
{
    sea_codec codec;
    sea_codec_open(&codec, NULL, true);
    sea_prompt_set ps;
    SEA_TRY(sea_prompt_set_load(&ps, "builtin:arith", true, "prompt", NULL, &codec));
    sea_prompt **pp = malloc(sizeof(sea_prompt *) * (size_t)ps.n);
    if (!pp) return sea_error(SEA_ERR_OOM, "report");
    for (int i = 0; i < ps.n; i++) pp[i] = &ps.items[i];
    sea_gen_params gp = sea_gen_params_default();
    gp.max_new_tokens = SEA_ARITH_MAX_ANSWER;
    gp.greedy = true;
    gp.temperature = 0;
    gp.n_eos = 1;
    gp.eos_ids[0] = SEA_ARITH_EOS;
    sea_candidates c;
    sea_status st = sea_actor_sample(m, &gp, pp, ps.n, 1, 0, &codec, &c);
    if (!st) {
        int hist[5] = {0};   /* exact, +1, -1, other well-formed, malformed */
        for (int i = 0; i < ps.n; i++) {
            double s;
            sea_arith_score(ps.items[i].text, c.text[i], &s);
            int a, b;
            sscanf(ps.items[i].text, "%d+%d=", &a, &b);
            long y = strtol(c.text[i], NULL, 10);
            if (s <= -12) hist[4]++;
            else if (y == a + b) hist[0]++;
            else if (y == a + b + 1) hist[1]++;
            else if (y == a + b - 1) hist[2]++;
            else hist[3]++;
        }
        fprintf(f, "held-out greedy answers (%d prompts): exact %.1f%%, +1 %.1f%%, -1 %.1f%%, other %.1f%%, malformed %.1f%%\n",
                ps.n, 100.0 * hist[0] / ps.n, 100.0 * hist[1] / ps.n, 100.0 * hist[2] / ps.n, 100.0 * hist[3] / ps.n,
                100.0 * hist[4] / ps.n);
        sea_candidates_free(&c);
    }
    free(pp);
    sea_prompt_set_free(&ps);
    return st;
}

static int parse(int argc, char **argv, sft_opts *o)
{
    memset(o, 0, sizeof *o);
    o->steps = 3000;
    o->batch = 64;
    o->lr = 3e-3;
    o->seed = 1;
    o->hidden = 64;
    o->layers = 2;
    o->heads = 4;
    o->inter = 256;
    o->log_every = 100;
    o->input_key = "prompt";
    o->output_key = "response";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define STR(name, field) if (!strcmp(a, name)) { if (!v) goto missing; o->field = v; i++; continue; }
#define INT(name, field) if (!strcmp(a, name)) { if (!v) goto missing; if (!cli_int("sea sft", a, v, INT32_MIN, INT32_MAX, &o->field)) return 2; i++; continue; }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!strcmp(a, "--quiet")) { o->quiet = true; continue; }
        if (!strcmp(a, "--recompute")) { o->recompute = true; continue; }
        if (!strcmp(a, "--teacher")) {
            if (!v || (strcmp(v, "exact") && strcmp(v, "biased"))) { fprintf(stderr, "sea sft: --teacher exact|biased\n"); return 2; }
            o->exact_teacher = !strcmp(v, "exact");
            i++;
            continue;
        }
        STR("--task", task) STR("--policy", policy) STR("--data", data) STR("--output-dir", out) STR("--output_dir", out)
        STR("--device", device) STR("--compute-dtype", dtype) STR("--input-key", input_key) STR("--output-key", output_key)
        INT("--steps", steps) INT("--batch-size", batch) INT("--seed", seed) INT("--hidden-size", hidden)
        INT("--layers", layers) INT("--heads", heads) INT("--intermediate-size", inter) INT("--log-every", log_every)
        if (!strcmp(a, "--learning-rate") || !strcmp(a, "--learning_rate")) { if (!v) goto missing; if (!cli_double("sea sft", a, v, 0, DBL_MAX, &o->lr)) return 2; i++; continue; }
        fprintf(stderr, "sea sft: unknown option '%s'\n", a);
        usage(stderr);
        return 2;
    missing:
        fprintf(stderr, "sea sft: %s needs a value\n", a);
        return 2;
    }
    if (!o->out || (!o->task && !(o->policy && o->data)) || o->steps < 1 || o->batch < 1 || !(o->lr > 0)) {
        fprintf(stderr, "sea sft: need --output-dir and either --task arith or --policy DIR --data FILE "
                        "(positive --steps, --batch-size, --learning-rate)\n");
        return 2;
    }
    if (o->task && strcmp(o->task, "arith")) {
        fprintf(stderr, "sea sft: unknown --task '%s' (known: arith)\n", o->task);
        return 2;
    }
    return -1;
}

int sea_cmd_sft(int argc, char **argv)
{
    sft_opts o;
    int rc = parse(argc, argv, &o);
    if (rc >= 0) return rc;
    sea_device *dev = NULL;
    sea_model *m = NULL;
    sea_codec codec;
    memset(&codec, 0, sizeof codec);
    example *corpus = NULL;
    int n_corpus = 0;
    sea_arith_task task = sea_arith_default();
    char(*prompts)[SEA_ARITH_PROMPT_BUF] = NULL;
    int n_prompts = 0;
    sea_status st = sea_device_open(o.device, &dev);
    if (st) goto fail;
    sea_stream *s = sea_device_stream(dev);
    if (mkdir(o.out, 0755) != 0 && errno != EEXIST) {
        st = sea_error(SEA_ERR_IO, "--output-dir %s: %s", o.out, strerror(errno));
        goto fail;
    }
    if (o.task) {
        sea_codec_open(&codec, NULL, true);
        n_prompts = sea_arith_prompts(&task, false, NULL, 0);
        prompts = malloc(sizeof *prompts * (size_t)n_prompts);
        if (!prompts) { st = sea_error(SEA_ERR_OOM, "prompts"); goto fail; }
        sea_arith_prompts(&task, false, prompts, n_prompts);
        if (o.policy) st = sea_model_load(dev, o.policy, NULL, &m);
        else {
            sea_hf_config cfg;
            sea_hf_config_init(&cfg, "gpt_neox");
            snprintf(cfg.architecture, sizeof cfg.architecture, "GPTNeoXForCausalLM");
            cfg.hidden_size = o.hidden;
            cfg.num_hidden_layers = o.layers;
            cfg.num_attention_heads = o.heads;
            cfg.num_key_value_heads = o.heads;
            cfg.head_dim = o.hidden / o.heads;
            cfg.intermediate_size = o.inter;
            cfg.vocab_size = SEA_ARITH_VOCAB;
            cfg.max_position_embeddings = 32;
            cfg.partial_rotary_factor = 0.5;
            cfg.bos_token_id = SEA_ARITH_EOS;
            cfg.pad_token_id = SEA_ARITH_EOS;
            cfg.n_eos = 1;
            cfg.eos_token_ids[0] = SEA_ARITH_EOS;
            st = sea_model_create(dev, &cfg, (uint64_t)o.seed, 0.02f, &m);
        }
    } else {
        st = sea_codec_open(&codec, o.policy, false);
        if (!st) st = load_corpus(o.data, o.input_key, o.output_key, &codec, &corpus, &n_corpus);
        if (!st) st = sea_model_load(dev, o.policy, NULL, &m);
        if (!st) {
            int64_t positions = sea_model_config(m)->max_position_embeddings, cut = 0;
            int pos = positions < INT32_MAX ? (int)positions : INT32_MAX;
            if (pos < 2) st = sea_error(SEA_ERR_INVALID, "--policy %s: %lld positions", o.policy, (long long)positions);
            for (int i = 0; !st && i < n_corpus; i++) cut += fit_example(&corpus[i], pos);
            if (cut && !o.quiet)
                fprintf(stderr, "sea sft: %lld of %d examples are longer than the policy's %d positions: the prompt keeps "
                                "its last tokens (and a response longer than them its first)\n", (long long)cut, n_corpus, pos);
        }
    }
    if (st) goto fail;
    sea_model_set_recompute(m, o.recompute);
    if (o.dtype && strcmp(o.dtype, "f32") && strcmp(o.dtype, "bf16")) {
        st = sea_error(SEA_ERR_INVALID, "--compute-dtype %s: need f32 or bf16", o.dtype);
        goto fail;
    }
    if (o.dtype && !strcmp(o.dtype, "bf16") && (st = sea_model_set_compute_dtype(m, SEA_BF16))) goto fail;

    sea_tensor params, grads, mom, vel, norm;
    memset(&mom, 0, sizeof mom);
    memset(&vel, 0, sizeof vel);
    memset(&norm, 0, sizeof norm);
    st = sea_model_params(m, &params, &grads);
    int64_t P = sea_tensor_numel(&params), one = 1;
    if (!st) st = sea_tensor_alloc(dev, SEA_F32, 1, &P, &mom);
    if (!st) st = sea_tensor_alloc(dev, SEA_F32, 1, &P, &vel);
    if (!st) st = sea_tensor_alloc(dev, SEA_F32, 1, &one, &norm);
    if (!st) st = sea_fill(s, &mom, 0);
    if (!st) st = sea_fill(s, &vel, 0);
    if (st) goto fail;
    if (!o.quiet) fprintf(stderr, "sea sft: %lld parameters on %s, %d steps of %d sequences\n", (long long)P, sea_device_label(dev), o.steps, o.batch);

    sea_rng rng = sea_rng_make((uint64_t)o.seed, 77);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)o.batch * 512), *valid = malloc(sizeof(int32_t) * (size_t)o.batch * 512);
    float *resp = malloc(sizeof(float) * (size_t)o.batch * 512), *dsum = malloc(sizeof(float) * (size_t)o.batch);
    float *lsum = malloc(sizeof(float) * (size_t)o.batch);
    if (!ids || !valid || !resp || !dsum || !lsum) { st = sea_error(SEA_ERR_OOM, "sft batch"); goto fail_batch; }
    double t0 = now_s(), run_loss = 0;
    int run_n = 0;
    int warm = o.steps / 20 > 0 ? o.steps / 20 : 1;
    for (int step = 0; step < o.steps && !st; step++) {
        example ex[512];
        int B = o.batch > 512 ? 512 : o.batch;
        int T = 1;
        for (int b = 0; b < B; b++) {
            if (o.task) {
                /* one allocation per row: prompt then response (freed after batching) */
                ex[b].prompt = malloc(sizeof(int32_t) * (SEA_ARITH_MAX_PROMPT + SEA_ARITH_MAX_ANSWER + 2));
                if (!ex[b].prompt) { st = sea_error(SEA_ERR_OOM, "sft"); B = b; break; }
                ex[b].resp = ex[b].prompt + SEA_ARITH_MAX_PROMPT;
                st = arith_example(&task, prompts, n_prompts, &rng, o.exact_teacher, &ex[b]);
                if (st) { B = b + 1; break; }
            } else {
                ex[b] = corpus[sea_rng_next_below(&rng, (uint32_t)n_corpus)];
            }
            int L = ex[b].plen + ex[b].rlen;
            if (L > 512) L = 512;
            if (L > T) T = L;
        }
        if (st) {
            if (o.task) for (int b = 0; b < B; b++) free(ex[b].prompt);
            break;
        }
        int ntok = 0;
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                int32_t id = 0;
                int v = 0;
                float rm = 0;
                if (t < ex[b].plen) { id = ex[b].prompt[t]; v = 1; }
                else if (t < ex[b].plen + ex[b].rlen && t < 512) { id = ex[b].resp[t - ex[b].plen]; v = 1; rm = 1; }
                ids[(size_t)b * T + t] = id;
                valid[(size_t)b * T + t] = v;
                resp[(size_t)b * T + t] = rm;
                ntok += rm > 0;
            }
            if (o.task) free(ex[b].prompt);
        }
        st = sea_model_zero_grad(m, s);
        if (!st) st = sea_model_forward_logprobs(m, s, ids, valid, resp, B, T, true, lsum, NULL, NULL);
        double loss = 0;
        for (int b = 0; b < B; b++) {
            loss -= lsum[b];
            dsum[b] = -1.0f / (float)(ntok > 0 ? ntok : 1);
        }
        loss /= ntok > 0 ? ntok : 1;
        if (!st) st = sea_model_backward_logprobs(m, s, dsum, NULL);
        if (!st) st = sea_global_norm(s, &grads, &norm);
        if (!st) st = sea_clip(s, &grads, &norm, 1.0f);
        double lr = step < warm ? o.lr * (step + 1) / warm
                                : 0.1 * o.lr + 0.9 * o.lr * 0.5 * (1 + cos(M_PI * (double)(step - warm) / (o.steps - warm > 0 ? o.steps - warm : 1)));
        if (!st && !isfinite(loss)) st = sea_error(SEA_ERR_NUMERIC, "sft: loss %g at step %d (lower --learning-rate?)", loss, step);
        if (!st) st = sea_adamw(s, &params, &grads, &mom, &vel, (float)lr, 0.9f, 0.98f, 1e-8f, 0.0f, 0.0f, step + 1);
        run_loss += loss;
        run_n++;
        if (!o.quiet && ((step + 1) % o.log_every == 0 || step + 1 == o.steps)) {
            fprintf(stderr, "step %5d  loss %.4f  lr %.2e  %.1f s\n", step + 1, run_loss / run_n, lr, now_s() - t0);
            run_loss = 0;
            run_n = 0;
        }
    }
    if (!st) st = sea_model_save_hf(m, o.out, 0);
    if (!st && o.task) st = sea_arith_write_tokenizer(o.out);
    else if (!st) st = sea_hf_copy_tokenizer_files(o.policy, o.out);   /* the output loads as a whole HF directory */
    if (!st && o.task) {
        char p[2048];
        snprintf(p, sizeof p, "%s/sft_command.txt", o.out);
        sea_atomic_file af;
        st = sea_atomic_open(p, &af);
        if (!st) {
            fprintf(af.fp, "sea");
            for (int i = 0; i < argc; i++) fprintf(af.fp, " %s", argv[i]);
            fprintf(af.fp, "\n");
            st = arith_report(m, af.fp);
            if (st) sea_atomic_abort(&af);
            else st = sea_atomic_commit(&af);
        }
        if (!st) st = arith_report(m, stderr);
    }
    if (!st && !o.quiet) fprintf(stderr, "sea sft: wrote %s (%.1f s)\n", o.out, now_s() - t0);
fail_batch:
    free(ids); free(valid); free(resp); free(dsum); free(lsum);
    sea_tensor_free(&mom);
    sea_tensor_free(&vel);
    sea_tensor_free(&norm);
fail:
    free(prompts);
    for (int i = 0; i < n_corpus; i++) { free(corpus[i].prompt); free(corpus[i].resp); }
    free(corpus);
    sea_model_free(m);
    sea_codec_free(&codec);
    if (dev) sea_device_close(dev);
    if (st) {
        fprintf(stderr, "sea sft: %s\n", sea_last_error());
        return 1;
    }
    return 0;
}
