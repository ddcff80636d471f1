/* The `sea` command line: dispatch to one subcommand per file (tools/cmd_*.c). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "sea_config.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"devices", sea_cmd_devices, "list compute devices (hwloc + every backend) and the default"},
    {"selftest", sea_cmd_selftest, "run the op suite on a device against a float64 reference"},
    {"bench", sea_cmd_bench, "benchmarks: matmul GFLOP/s, per-op timings, models"},
    {"tokenize", sea_cmd_tokenize, "encode text with a tokenizer.json (or decode ids)"},
    {"generate", sea_cmd_generate, "sample from a model (HF directory or GGUF)"},
    {"logprobs", sea_cmd_logprobs, "per-token and sequence log-probs of a text under a model"},
    {"score", sea_cmd_score, "reward-model score of a (prompt, response)"},
    {"sft", sea_cmd_sft, "supervised fine-tuning (cross-entropy) on a JSONL corpus"},
    {"train", sea_cmd_train, "online alignment: SEA and its baselines"},
    {"demo", sea_cmd_demo, "the built-in task: online DPO vs SEA, several seeds, table + plot"},
};

static void usage(FILE *f)
{
    fprintf(f, "sea %s: sample-efficient alignment of language models\n\nusage: sea COMMAND [options]\n\n",
            SEA_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'sea COMMAND --help' describes each command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("sea %s\n", SEA_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sea: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
