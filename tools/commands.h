/* One `sea` subcommand per file: tools/cmd_<name>.c defines sea_cmd_<name>.
 * Each returns the process exit status (0 ok, 1 failure, 2 bad usage) and prints its own
 * errors, naming what was wrong (the library's sea_last_error()). */
#ifndef SEA_TOOLS_COMMANDS_H
#define SEA_TOOLS_COMMANDS_H

int sea_cmd_devices(int argc, char **argv);
int sea_cmd_selftest(int argc, char **argv);
int sea_cmd_bench(int argc, char **argv);
int sea_cmd_tokenize(int argc, char **argv);
int sea_cmd_generate(int argc, char **argv);
int sea_cmd_logprobs(int argc, char **argv);
int sea_cmd_score(int argc, char **argv);
int sea_cmd_sft(int argc, char **argv);
int sea_cmd_train(int argc, char **argv);
int sea_cmd_demo(int argc, char **argv);

#endif
