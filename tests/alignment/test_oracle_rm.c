/* The rm: oracle against Hugging Face transformers: a tiny GPTNeoXForSequenceClassification
 * saved by save_pretrained and its scores for a few texts, computed by transformers
 * (tests/alignment/make_rm_fixture.py). argv[1] = fixture dir, argv[2] = device (cpu). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alignment/oracle.h"

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/alignment/fixtures/arith_rm";
    const char *spec = argc > 2 ? argv[2] : "cpu";
    sea_device *dev;
    if (sea_device_open(spec, &dev)) {
        printf("skip: %s\n", sea_last_error());
        return 77;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/scores.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return 1; }
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *arr = cJSON_Parse(buf);
    int m = cJSON_GetArraySize(arr);
    const char *p[16], *r[16];
    double want[16], got[16];
    for (int i = 0; i < m && i < 16; i++) {
        cJSON *e = cJSON_GetArrayItem(arr, i);
        p[i] = cJSON_GetObjectItem(e, "prompt")->valuestring;
        r[i] = cJSON_GetObjectItem(e, "response")->valuestring;
        want[i] = cJSON_GetObjectItem(e, "score")->valuedouble;
    }
    char os[1100];
    snprintf(os, sizeof os, "rm:%s", dir);
    sea_oracle_opts oo = sea_oracle_opts_default();
    oo.device = dev;
    sea_oracle *o;
    int fails = 0;
    if (sea_oracle_open(os, &oo, &o)) {
        fprintf(stderr, "FAIL open: %s\n", sea_last_error());
        return 1;
    }
    if (sea_oracle_score(o, "test", m, p, r, got)) {
        fprintf(stderr, "FAIL score: %s\n", sea_last_error());
        return 1;
    }
    for (int i = 0; i < m; i++) {
        double err = fabs(got[i] - want[i]);
        if (!(err <= 1e-5 + 1e-4 * fabs(want[i]))) {
            fprintf(stderr, "FAIL '%s%s': sea %.8g, transformers %.8g\n", p[i], r[i], got[i], want[i]);
            fails++;
        }
    }
    sea_oracle_free(o);
    /* a causal LM is not a reward model: the message says so */
    char bad[1100];
    snprintf(bad, sizeof bad, "rm:%s/../../../../data/arith-sft", dir);
    if (sea_oracle_open(bad, &oo, &o) == SEA_OK) {
        fprintf(stderr, "FAIL: a causal LM was accepted as a reward model\n");
        sea_oracle_free(o);
        fails++;
    } else if (!strstr(sea_last_error(), "sequence-classification")) {
        fprintf(stderr, "FAIL: message '%s'\n", sea_last_error());
        fails++;
    }
    cJSON_Delete(arr);
    sea_device_close(dev);
    if (!fails) printf("oracle rm: %d scores match transformers\n", m);
    return fails ? 1 : 0;
}
