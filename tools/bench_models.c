/* Model benchmarks, the same work as ../shared/peers/cpu_peer.py so the numbers compare:
 *  - dpo_step: policy forward+backward and reference forward over B pairs (2B sequences of
 *    T tokens, the last T-P of them response), DPO loss on the host, AdamW on the flat buffers;
 *  - sample: KV-cached sampling, batch 8, prompt 32, 32 new tokens, temperature 0.7, warmed up
 *    with the identical call.
 * GPT-NeoX (Pythia layout) with random weights: tiny-8m, pythia-14m, pythia-70m, pythia-160m.
 * Each phase also reports the process's peak resident memory so far (getrusage ru_maxrss: the
 * dpo_step line is the training peak, the sample line the peak of both) and, for dpo_step, the
 * policy's activation and activation-gradient peaks (sea_model_memory).
 *
 * usage: bench_models [--model NAME] [--device SPEC] [--steps N] [--only dpo|sample] [--recompute]
 *                     [--dtype f32|bf16] [--head-chunk-mib N] [--separate-activations]
 *                     [--pairs 4 --seq 128] [--batch 8 --prompt 32 --new 32] [--graphs auto|on|off]
 *                     [--read-every N]   (decode steps between token reads; 0 = auto)
 *                     [--per-prompt M] [--prefill-each]   (M samples of each prompt, as SEA's
 *                     actor draws them; their prompt passes shared unless --prefill-each)
 * --head-chunk-mib: most f32 logits at once in the log-prob passes (sea_model_set_head_chunk_bytes;
 * 0 = the whole head; default the model's, 128). --separate-activations: the reference keeps
 * its own activation memory instead of sharing the policy's (sea_model_share_activations), as
 * before both existed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli_number.h"
#include "models/generate.h"
#include "models/hf_config.h"
#include "models/model.h"
#include "runtime/ops.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const struct { const char *name; int d, L, h, V; } shapes[] = {
    {"tiny-8m", 256, 4, 4, 4096},
    {"pythia-14m", 128, 6, 4, 50304},
    {"pythia-70m", 512, 6, 8, 50304},
    {"pythia-160m", 768, 12, 12, 50304},
    {"pythia-410m", 1024, 24, 16, 50304},
    {"pythia-1b", 2048, 16, 8, 50304},
};

/* Device memory in use now (total - free, as the driver reports it), MiB; -1 for host
 * devices. On CUDA this includes the context and the caching allocator's cached blocks, so
 * after the DPO steps it bounds the step's peak from above. */
static double device_used_mib(sea_device *dev)
{
    sea_device_props p;
    if (dev->props.kind == SEA_DEVICE_CPU || dev->backend->device_props(dev->index, &p) || !p.mem_total) return -1;
    return (double)(p.mem_total - p.mem_free) / 1048576.0;
}

/* The device allocator's peaks since it opened or the last reset, MiB: what live buffers and
 * op temporaries asked for (PyTorch's max_memory_allocated counts the same) and what their
 * size-class blocks hold. -1 where the backend keeps no counters (the CPU: see peak RSS). */
static void device_peaks_mib(sea_device *dev, bool reset, double *allocated, double *held)
{
    sea_device_memory m;
    if (sea_device_memory_stats(dev, reset, &m)) {
        *allocated = *held = -1;
        return;
    }
    *allocated = (double)m.allocated_peak / 1048576.0;
    *held = (double)m.held_peak / 1048576.0;
}

/* Peak resident set of this process so far, MiB (Linux reports ru_maxrss in KiB). */
static double peak_rss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return -1;
    return (double)ru.ru_maxrss / 1024.0;
}

#define TRY(x)                                                                                 \
    do {                                                                                       \
        if (x) {                                                                               \
            fprintf(stderr, "bench_models: %s: %s\n", #x, sea_last_error());                   \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

int main(int argc, char **argv)
{
    const char *name = "tiny-8m", *device = "cpu";
    int B = 4, T = 128, SB = 8, SP = 32, SN = 32; /* DPO pairs x tokens; sampling batch, prompt, new */
    int steps = 3;
    const char *only = "";   /* "dpo" or "sample": run one part */
    bool recompute = false;
    const char *dtype = "f32";   /* compute dtype: f32 or bf16 (f32 master weights) */
    const char *graphs = "auto"; /* captured decode steps: auto (native graphs only), on, off */
    int read_every = 0;          /* decode steps between host reads of the tokens (0 = auto) */
    int per_prompt = 1;          /* consecutive sequences sharing one prompt */
    bool prefill_each = false;   /* a prompt pass per sequence even when shared */
    int head_chunk_mib = -1;     /* -1: the model's default */
    bool separate = false;       /* the reference keeps its own activation memory */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--recompute")) {
            recompute = true;
            continue;
        }
        if (!strcmp(a, "--prefill-each")) {
            prefill_each = true;
            continue;
        }
        if (!strcmp(a, "--separate-activations")) {
            separate = true;
            continue;
        }
        i++;   /* every other flag takes a value */
        if (!v) a = "";
        if (!strcmp(a, "--model")) name = v;
        else if (!strcmp(a, "--device")) device = v;
        else if (!strcmp(a, "--steps")) { if (!cli_int("bench_models", a, v, 1, INT32_MAX, &steps)) return 2; }
        else if (!strcmp(a, "--only")) only = v;
        else if (!strcmp(a, "--dtype")) dtype = v;
        else if (!strcmp(a, "--pairs")) { if (!cli_int("bench_models", a, v, 1, INT32_MAX, &B)) return 2; }
        else if (!strcmp(a, "--seq")) { if (!cli_int("bench_models", a, v, 1, INT32_MAX, &T)) return 2; }
        else if (!strcmp(a, "--batch")) { if (!cli_int("bench_models", a, v, 1, INT32_MAX, &SB)) return 2; }
        else if (!strcmp(a, "--prompt")) { if (!cli_int("bench_models", a, v, 1, INT32_MAX, &SP)) return 2; }
        else if (!strcmp(a, "--new")) { if (!cli_int("bench_models", a, v, 1, INT32_MAX, &SN)) return 2; }
        else if (!strcmp(a, "--graphs")) graphs = v;
        else if (!strcmp(a, "--read-every")) { if (!cli_int("bench_models", a, v, 0, INT32_MAX, &read_every)) return 2; }
        else if (!strcmp(a, "--per-prompt")) { if (!cli_int("bench_models", a, v, 1, INT32_MAX, &per_prompt)) return 2; }
        else if (!strcmp(a, "--head-chunk-mib")) {   /* MiB, 0 = the whole head */
            if (!cli_int("bench_models", a, v, 0, 1L << 20, &head_chunk_mib)) return 2;
        }
        else {
            fprintf(stderr, "usage: bench_models [--model tiny-8m|pythia-14m|pythia-70m|pythia-160m] "
                            "[--device SPEC] [--steps N] [--only dpo|sample] [--recompute] [--dtype f32|bf16] "
                            "[--pairs 4 --seq 128] [--batch 8 --prompt 32 --new 32] [--graphs auto|on|off] "
                            "[--read-every N] [--per-prompt M] [--prefill-each] [--head-chunk-mib N] "
                            "[--separate-activations]\n");
            return 2;
        }
    }
    int si = -1;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (!strcmp(shapes[i].name, name)) si = (int)i;
    if (si < 0) {
        fprintf(stderr, "bench_models: unknown model '%s'\n", name);
        return 2;
    }
    if (strcmp(graphs, "auto") && strcmp(graphs, "on") && strcmp(graphs, "off")) {
        fprintf(stderr, "bench_models: --graphs '%s': auto, on or off\n", graphs);
        return 2;
    }
    sea_device *dev;
    TRY(sea_device_open(device, &dev));
    sea_stream *s = sea_device_stream(dev);
    sea_hf_config cfg;
    sea_hf_config_init(&cfg, "gpt_neox");
    snprintf(cfg.architecture, sizeof cfg.architecture, "GPTNeoXForCausalLM");
    cfg.hidden_size = shapes[si].d;
    cfg.num_hidden_layers = shapes[si].L;
    cfg.num_attention_heads = shapes[si].h;
    cfg.num_key_value_heads = shapes[si].h;
    cfg.head_dim = shapes[si].d / shapes[si].h;
    cfg.intermediate_size = 4 * shapes[si].d;
    cfg.vocab_size = shapes[si].V;
    cfg.partial_rotary_factor = 0.25;
    cfg.use_parallel_residual = true;
    cfg.norm_eps = 1e-5;
    cfg.rope_theta = 10000;
    sea_model *pol, *ref;
    TRY(sea_model_create(dev, &cfg, 1, 0.02f, &pol));
    TRY(sea_model_create(dev, &cfg, 2, 0.02f, &ref));
    sea_model_set_recompute(pol, recompute);
    if (head_chunk_mib >= 0) {
        sea_model_set_head_chunk_bytes(pol, (size_t)head_chunk_mib << 20);
        sea_model_set_head_chunk_bytes(ref, (size_t)head_chunk_mib << 20);
    }
    /* The reference's passes run before the policy's train forward: one arena serves both. */
    if (!separate) TRY(sea_model_share_activations(ref, pol));
    if (strcmp(dtype, "f32") && strcmp(dtype, "bf16")) {
        fprintf(stderr, "bench_models: --dtype %s: need f32 or bf16\n", dtype);
        return 2;
    }
    sea_dtype cdt = !strcmp(dtype, "bf16") ? SEA_BF16 : SEA_F32;
    TRY(sea_model_set_compute_dtype(pol, cdt));
    TRY(sea_model_set_compute_dtype(ref, cdt));
    /* The reference is never trained: in bf16 it keeps only its bf16 weights, as PyTorch's
     * bf16 reference does (its f32 master would be dead weight, 4 bytes a parameter). */
    if (cdt == SEA_BF16) TRY(sea_model_freeze_bf16(ref, s));
    int64_t n = sea_model_num_params(pol);
    printf("{\"device\": \"%s\", \"model\": \"%s\", \"params\": %lld, \"dtype\": \"%s\"}\n", sea_device_label(dev), name,
           (long long)n, dtype);
    fflush(stdout);

    /* DPO step. */
    const int P = T / 2; /* the first half of each sequence is prompt */
    int32_t *ids = malloc(2 * B * T * sizeof *ids);
    float *mask = calloc(2 * B * T, sizeof *mask);
    srand(0);
    for (int i = 0; i < 2 * B * T; i++) {
        ids[i] = rand() % shapes[si].V;
        mask[i] = (i % T) >= P;
    }
    sea_tensor fp, fg, am, av;
    sea_model_params(pol, &fp, &fg);
    int64_t shape1 = n;
    TRY(sea_tensor_alloc(dev, SEA_F32, 1, &shape1, &am));
    TRY(sea_tensor_alloc(dev, SEA_F32, 1, &shape1, &av));
    TRY(sea_fill(s, &am, 0));
    TRY(sea_fill(s, &av, 0));
    float *pl = malloc(sizeof(float) * 2 * B), *rl = malloc(sizeof(float) * 2 * B), *dsum = malloc(sizeof(float) * 2 * B);
    const float beta = 0.1f;
    double t0 = 0;
    for (int it = 0; it <= steps && strcmp(only, "sample"); it++) {
        if (it == 1) {
            TRY(sea_stream_sync(s));
            t0 = now();
        }
        TRY(sea_model_forward_logprobs(ref, s, ids, NULL, mask, 2 * B, T, false, rl, NULL, NULL));
        TRY(sea_model_forward_logprobs(pol, s, ids, NULL, mask, 2 * B, T, true, pl, NULL, NULL));
        for (int b = 0; b < B; b++) {
            float z = beta * ((pl[b] - rl[b]) - (pl[B + b] - rl[B + b]));
            float g = -beta / (1.0f + expf(z)) / B;   /* d(-logsigmoid(z))/dz = -sigmoid(-z) */
            dsum[b] = g;
            dsum[B + b] = -g;
        }
        TRY(sea_model_backward_logprobs(pol, s, dsum, NULL));
        TRY(sea_adamw(s, &fp, &fg, &am, &av, 1e-5f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.0f, it + 1));
        TRY(sea_model_zero_grad(pol, s));
    }
    TRY(sea_stream_sync(s));
    double dt = (now() - t0) / steps;
    if (strcmp(only, "sample")) {
        sea_model_memory_stats pm, rm;
        sea_model_memory(pol, &pm);
        sea_model_memory(ref, &rm);
        double peak_alloc, peak_held;   /* since the device opened: loading, warm-up and the steps */
        device_peaks_mib(dev, false, &peak_alloc, &peak_held);
        printf("{\"bench\": \"dpo_step\", \"model\": \"%s\", \"dtype\": \"%s\", \"params\": %lld, \"pairs\": %d, "
               "\"seq\": %d, \"recompute\": %s, \"head_chunk_mib\": %.0f, \"shared_activations\": %s, \"step_s\": %.4f, \"tokens_per_s\": %.1f, \"gflops\": %.1f, "
               "\"peak_rss_mib\": %.0f, \"policy_act_peak_mib\": %.1f, \"policy_grad_peak_mib\": %.1f, "
               "\"ref_act_peak_mib\": %.1f, \"ref_weights_mib\": %.1f, \"device_used_mib\": %.0f, "
               "\"device_peak_alloc_mib\": %.0f, \"device_peak_held_mib\": %.0f}\n",
               name, dtype, (long long)n, B, T, recompute ? "true" : "false",
               sea_model_get_head_chunk_bytes(pol) / 1048576.0, separate ? "false" : "true", dt, 2 * B * T / dt,
               8.0 * (double)n * 2 * B * T / dt / 1e9, peak_rss_mib(), pm.act_peak / 1048576.0,
               pm.grad_peak / 1048576.0, rm.act_peak / 1048576.0, rm.weights_reserved / 1048576.0,
               device_used_mib(dev), peak_alloc, peak_held);
    }
    fflush(stdout);

    if (!strcmp(only, "dpo")) goto done;
    /* Sampling. */
    int32_t *pr = malloc((size_t)SB * SP * sizeof *pr);
    const int32_t **prompts = malloc(sizeof(int32_t *) * SB);
    int *lens = malloc(sizeof(int) * SB);
    if (per_prompt < 1) per_prompt = 1;
    for (int b = 0; b < SB; b++) {
        for (int t = 0; t < SP; t++) pr[b * SP + t] = rand() % shapes[si].V;
        prompts[b] = pr + (b - b % per_prompt) * SP;   /* groups of per_prompt share a prompt */
        lens[b] = SP;
    }
    sea_gen_params gp = sea_gen_params_default();
    gp.max_new_tokens = SN;
    gp.temperature = 0.7f;
    gp.seed = 7;
    gp.read_every = read_every;
    gp.prefill_each = prefill_each;
    gp.graphs = !strcmp(graphs, "on") ? SEA_GEN_GRAPHS_ON : !strcmp(graphs, "off") ? SEA_GEN_GRAPHS_OFF : SEA_GEN_GRAPHS_AUTO;
    sea_gen_output out;
    TRY(sea_gen_output_alloc(SB, SN, &out));
    double peak_alloc, peak_held;
    device_peaks_mib(dev, true, &peak_alloc, &peak_held);   /* the sampling calls' own peak from here */
    TRY(sea_generate(pol, s, &gp, prompts, lens, SB, NULL, &out));
    double t1 = now();
    TRY(sea_generate(pol, s, &gp, prompts, lens, SB, NULL, &out));
    double ds = now() - t1;
    device_peaks_mib(dev, false, &peak_alloc, &peak_held);
    long total = 0;
    for (int b = 0; b < SB; b++) total += out.lengths[b];
    printf("{\"bench\": \"sample\", \"model\": \"%s\", \"dtype\": \"%s\", \"batch\": %d, \"prompt\": %d, \"new\": %d, \"s\": %.3f, "
           "\"new_tokens_per_s\": %.1f, \"prefill_s\": %.4f, \"decode_new_tokens_per_s\": %.1f, \"graph_captures\": %d, "
           "\"graph_launches\": %d, \"read_every\": %d, \"decode_steps\": %d, \"per_prompt\": %d, \"prompt_passes\": %d, "
           "\"peak_rss_mib\": %.0f, \"device_peak_alloc_mib\": %.0f, \"device_peak_held_mib\": %.0f}\n", name,
           dtype, SB, SP, SN, ds, total / ds, out.prefill_s, (total - SB) / (ds - out.prefill_s), out.graph_captures,
           out.graph_launches, read_every, out.decode_steps, per_prompt, out.prompts_prefilled, peak_rss_mib(),
           peak_alloc, peak_held);
    sea_gen_output_free(&out);
    free(pr);
    free(prompts);
    free(lens);
done:
    free(pl);
    free(rl);
    free(dsum);
    free(ids);
    free(mask);
    sea_tensor_free(&am);
    sea_tensor_free(&av);
    sea_model_free(pol);
    sea_model_free(ref);
    sea_device_close(dev);
    return 0;
}
