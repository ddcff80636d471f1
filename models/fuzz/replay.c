/* Replay driver for the libFuzzer targets, so a plain (gcc, ASan/UBSan) build exercises them:
 * runs the target over the seed files, then over deterministic mutations of them (bit flips,
 * interesting integers, chunk deletion/duplication, truncation, JSON tokens) for a bounded time.
 *   replay_<target> [--seconds S] [--seed K] SEED_FILE...
 * Exit 0 when every input ran; a memory error or a harness abort() fails the test. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state;
static uint64_t rnd(void)
{
    /* xorshift64*: deterministic for a given --seed */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}
static size_t below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void reserve(buf *b, size_t n)
{
    if (n <= b->cap) return;
    size_t c = b->cap ? b->cap : 64;
    while (c < n) c *= 2;
    uint8_t *np = realloc(b->p, c);
    if (!np) {
        fprintf(stderr, "replay: out of memory\n");
        exit(1);
    }
    b->p = np;
    b->cap = c;
}

static void insert(buf *b, size_t at, const void *d, size_t n)
{
    reserve(b, b->n + n);
    memmove(b->p + at + n, b->p + at, b->n - at);
    memcpy(b->p + at, d, n);
    b->n += n;
}

static const char *const json_tokens[] = {"{", "}", "[", "]", "\"", ",", ":", "null", "true", "-1", "0", "1e308",
                                          "18446744073709551616", "\\u0000", "\"type\"", "\"Sequence\"", "[[]]", " "};

static void mutate(buf *b)
{
    int k = 1 + (int)below(4);
    for (int m = 0; m < k; m++) {
        switch (below(8)) {
        case 0: /* bit flip */
            if (b->n) b->p[below(b->n)] ^= (uint8_t)(1u << below(8));
            break;
        case 1: { /* interesting byte */
            static const uint8_t v[] = {0, 1, 0x7f, 0x80, 0xff, '"', '\\', 0xc3, 0xe2};
            if (b->n) b->p[below(b->n)] = v[below(sizeof v)];
            break;
        }
        case 2: { /* interesting little-endian u64 / u32 */
            static const uint64_t v[] = {0, 1, 8, 32, 0x7fffffff, 0xffffffff, 0x100000000ull, UINT64_MAX, INT64_MAX, 1ull << 40};
            uint64_t x = v[below(sizeof v / sizeof v[0])];
            size_t w = below(2) ? 8 : 4;
            if (b->n >= w) {
                size_t at = below(b->n - w + 1);
                for (size_t i = 0; i < w; i++) b->p[at + i] = (uint8_t)(x >> (8 * i));
            }
            break;
        }
        case 3: /* delete a chunk */
            if (b->n) {
                size_t at = below(b->n), len = 1 + below(b->n - at < 64 ? b->n - at : 64);
                memmove(b->p + at, b->p + at + len, b->n - at - len);
                b->n -= len;
            }
            break;
        case 4: /* duplicate a chunk */
            if (b->n && b->n < (1u << 22)) {
                size_t at = below(b->n), len = 1 + below(b->n - at < 64 ? b->n - at : 64);
                uint8_t tmp[64];
                memcpy(tmp, b->p + at, len);
                insert(b, below(b->n + 1), tmp, len);
            }
            break;
        case 5: /* truncate */
            b->n = below(b->n + 1);
            break;
        case 6: { /* JSON token */
            const char *t = json_tokens[below(sizeof json_tokens / sizeof json_tokens[0])];
            insert(b, below(b->n + 1), t, strlen(t));
            break;
        }
        default: /* random byte */
            if (b->n) b->p[below(b->n)] = (uint8_t)rnd();
            break;
        }
    }
}

static int read_file(const char *path, buf *b)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return -1;
    b->n = 0;
    uint8_t tmp[65536];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, fp)) > 0) {
        reserve(b, b->n + k);
        memcpy(b->p + b->n, tmp, k);
        b->n += k;
    }
    fclose(fp);
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    double seconds = 10;
    uint64_t seed = 1;
    buf seeds[256];
    int nseeds = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else if (nseeds < 256) {
            seeds[nseeds] = (buf){0};
            if (read_file(argv[i], &seeds[nseeds])) {
                fprintf(stderr, "replay: cannot read seed %s\n", argv[i]);
                return 1;
            }
            nseeds++;
        }
    }
    if (!nseeds) {
        fprintf(stderr, "usage: %s [--seconds S] [--seed K] SEED_FILE...\n", argv[0]);
        return 2;
    }
    rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int i = 0; i < nseeds; i++) {
        uint8_t *copy = malloc(seeds[i].n ? seeds[i].n : 1); /* exact-size copy so ASan sees overreads */
        memcpy(copy, seeds[i].p, seeds[i].n);
        LLVMFuzzerTestOneInput(copy, seeds[i].n);
        free(copy);
    }
    double t0 = now();
    long iters = 0;
    buf cur = {0};
    while (now() - t0 < seconds) {
        const buf *s = &seeds[below((size_t)nseeds)];
        cur.n = 0;
        reserve(&cur, s->n + 1);
        memcpy(cur.p, s->p, s->n);
        cur.n = s->n;
        mutate(&cur);
        uint8_t *copy = malloc(cur.n ? cur.n : 1);
        memcpy(copy, cur.p, cur.n);
        LLVMFuzzerTestOneInput(copy, cur.n);
        free(copy);
        iters++;
    }
    printf("%s: %d seeds, %ld mutated inputs in %.1f s, no crash\n", argv[0], nseeds, iters, now() - t0);
    for (int i = 0; i < nseeds; i++) free(seeds[i].p);
    free(cur.p);
    return 0;
}
