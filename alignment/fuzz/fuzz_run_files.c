/* libFuzzer target: the readers of what a run keeps or is handed as text, on arbitrary bytes.
 * Every input goes through each of them:
 * - a checkpoint's state.json (run_state.c); what parses must have every counter in range and
 *   must format and parse back to the same values;
 * - a judge's answer line (oracle_judge.c), for request id 7;
 * - a prompt file's JSONL line (prompts.c), with and without a reference field;
 * - a --config file (train_config.c), then the configuration's own checks;
 * - a checkpoint's replay.bin (replay.c), into a buffer of capacity 4 and dimension 3.
 * A harness abort() or a sanitizer report fails the replay test (models/fuzz/replay.c). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alignment/oracle.h"
#include "alignment/prompts.h"
#include "alignment/replay.h"
#include "alignment/run_state.h"
#include "alignment/train_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_state(const sea_run_state *a, const sea_run_state *b)
{
    if (a->round != b->round || a->queries != b->queries || a->epoch != b->epoch || a->pos != b->pos ||
        a->zero_query_rounds != b->zero_query_rounds || a->last_win_rate != b->last_win_rate ||
        a->metrics_offset != b->metrics_offset || a->n_evals != b->n_evals)
        return false;
    for (int i = 0; i < SEA_RUN_RNGS; i++)
        if (a->rng[i].seed != b->rng[i].seed || a->rng[i].stream != b->rng[i].stream || a->rng[i].counter != b->rng[i].counter)
            return false;
    for (int i = 0; i < a->n_evals; i++)
        if (a->eval_q[i] != b->eval_q[i] || a->eval_wr[i] != b->eval_wr[i]) return false;
    return true;
}

static void run_state(const char *text, size_t n)
{
    sea_run_state st, back;
    if (sea_run_state_parse(text, n, "state.json", &st) != SEA_OK) {
        if (st.eval_q || st.eval_wr || st.n_evals) abort();   /* an error holds nothing */
        return;
    }
    if (st.round < 0 || st.queries < 0 || st.epoch < 0 || st.pos < 0 || st.zero_query_rounds < 0 ||
        st.metrics_offset < 0 || !(st.last_win_rate >= 0 && st.last_win_rate <= 1))
        abort();
    for (int i = 0; i < st.n_evals; i++)
        if (st.eval_q[i] < 0 || !(st.eval_wr[i] >= 0 && st.eval_wr[i] <= 1)) abort();
    char *again = sea_run_state_format(&st);
    if (again) {
        if (sea_run_state_parse(again, strlen(again), "state.json (formatted)", &back) != SEA_OK) abort();
        if (!same_state(&st, &back)) abort();
        sea_run_state_free(&back);
    }
    free(again);
    sea_run_state_free(&st);
}

static void judge_answer(const char *line)
{
    double score = NAN;
    char why[300];
    if (sea_judge_answer_parse(line, 7, &score, why, sizeof why) && !isfinite(score)) abort();
}

static void prompt_line(const char *text, size_t n)
{
    for (int with_ref = 0; with_ref < 2; with_ref++) {
        char *prompt = NULL, *ref = NULL;
        sea_status st = sea_prompt_parse_line(text, n, "prompt", with_ref ? "reference" : "", "fuzz.jsonl:1", &prompt, &ref);
        if (st == SEA_OK && (!prompt || (with_ref && !ref))) abort();
        if (st != SEA_OK && (prompt || ref)) abort();
        free(prompt);
        free(ref);
    }
}

static void train_config(const char *text, size_t n)
{
    sea_train_cfg c;
    sea_train_cfg_default(&c);
    if (sea_train_cfg_load_json_text(&c, text, n, "fuzz-config.json") == SEA_OK) {
        sea_train_cfg_validate(&c);
        free(sea_train_cfg_to_json(&c));
    }
}

static void replay_file(const uint8_t *data, size_t size)
{
    sea_replay rb;
    if (size == 0 || sea_replay_init(&rb, 4, 3) != SEA_OK) return;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (f) {
        if (sea_replay_read(&rb, f) == SEA_OK && (rb.count < 0 || rb.count > 4 || rb.head < 0 || rb.head >= 4)) abort();
        fclose(f);
    }
    sea_replay_free(&rb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a NUL-terminated copy for the readers of a C string (a judge's line) */
    char *text = malloc(size + 1);
    if (!text) return 0;
    if (size) memcpy(text, data, size);
    text[size] = '\0';
    run_state(text, size);
    judge_answer(text);
    prompt_line(text, size);
    train_config(text, size);
    replay_file(data, size);
    free(text);
    sea_error_clear();
    return 0;
}
