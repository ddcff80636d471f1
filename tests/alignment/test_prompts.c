/* Prompt files (alignment/prompts.c): a JSONL line's prompt as a string or TRL's chat form,
 * the reference field, the errors naming file:line and field; and prompts cut to fit the
 * policy's positions keep their last tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alignment/prompts.h"

static int failures;
#include "tests/test_check.h"

static void line_ok(const char *line, const char *out_key, const char *want_text, const char *want_ref)
{
    char *text = NULL, *ref = NULL;
    sea_status st = sea_prompt_parse_line(line, strlen(line), "prompt", out_key, "f.jsonl:1", &text, &ref);
    CHECK(st == SEA_OK, "%s: %s", line, sea_last_error());
    CHECK(text && !strcmp(text, want_text), "%s: prompt '%s', want '%s'", line, text ? text : "(null)", want_text);
    CHECK(want_ref ? ref && !strcmp(ref, want_ref) : !ref, "%s: reference '%s'", line, ref ? ref : "(null)");
    free(text);
    free(ref);
}

static void line_bad(const char *line, const char *out_key, const char *want)
{
    char *text = (char *)1, *ref = (char *)1;
    sea_status st = sea_prompt_parse_line(line, strlen(line), "prompt", out_key, "f.jsonl:7", &text, &ref);
    CHECK(st != SEA_OK && !text && !ref, "%s: accepted", line);
    CHECK(strstr(sea_last_error(), want) != NULL, "%s: error '%s' does not say '%s'", line, sea_last_error(), want);
}

int main(void)
{
    line_ok("{\"prompt\": \"1+2=\"}", "", "1+2=", NULL);
    line_ok("{\"prompt\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"there\"}]}", "",
            "hi\nthere", NULL);
    line_ok("{\"prompt\": \"x\", \"ref\": \"y\", \"other\": 3}", "ref", "x", "y");
    line_bad("{\"text\": \"1+2=\"}", "", "f.jsonl:7: field 'prompt' missing");
    line_bad("{\"prompt\": 12}", "", "field 'prompt' missing or not a string");
    line_bad("{\"prompt\": [{\"role\": \"user\"}]}", "", "field 'prompt' missing or not a string / chat message list");
    line_bad("{\"prompt\": \"x\"}", "ref", "f.jsonl:7: field 'ref' (--output-key) missing");
    line_bad("[1, 2]", "", "f.jsonl:7: not a JSON object");
    line_bad("{\"prompt\": \"x\"", "", "not a JSON object");

    /* keep_last: the built-in vocabulary, prompts of 4, 8 and 12 characters cut to 6 */
    sea_codec codec;
    REQUIRE_OK(sea_codec_open(&codec, NULL, true));
    char path[] = "/tmp/sea_test_prompts_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    REQUIRE_OK(f ? SEA_OK : sea_error(SEA_ERR_IO, "temporary file"));
    fputs("{\"prompt\": \"1+2=\"}\n\n{\"prompt\": \"11+22=33\"}\n{\"prompt\": \"12+34=4+5=67\"}\n", f);
    fclose(f);
    sea_prompt_set ps;
    REQUIRE_OK(sea_prompt_set_load(&ps, path, false, "prompt", NULL, &codec));
    CHECK(ps.n == 3, "%d prompts, want 3 (blank lines skipped)", ps.n);
    int32_t *last[3] = {NULL, NULL, NULL};
    int n_before[3] = {0, 0, 0};
    for (int i = 0; i < ps.n && i < 3; i++) {
        n_before[i] = ps.items[i].n_ids;
        last[i] = malloc(sizeof(int32_t) * 6);
        int k = n_before[i] < 6 ? n_before[i] : 6;
        memcpy(last[i], ps.items[i].ids + n_before[i] - k, sizeof(int32_t) * (size_t)k);
    }
    int cut = sea_prompt_set_keep_last(&ps, 6);
    CHECK(cut == 2, "%d prompts cut, want 2", cut);
    for (int i = 0; i < ps.n && i < 3; i++) {
        int want = n_before[i] < 6 ? n_before[i] : 6;
        CHECK(ps.items[i].n_ids == want, "prompt %d: %d ids, want %d", i, ps.items[i].n_ids, want);
        CHECK(!memcmp(ps.items[i].ids, last[i], sizeof(int32_t) * (size_t)want), "prompt %d: not its last %d ids", i, want);
        CHECK(strlen(ps.items[i].text) == (size_t)n_before[i], "prompt %d: its text was cut too", i);
        free(last[i]);
    }
    sea_prompt_set_free(&ps);
    sea_codec_free(&codec);
    remove(path);

    if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
    else printf("prompts: all checks passed\n");
    return failures != 0;
}
