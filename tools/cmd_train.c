/* PLACEHOLDER: replaced by the owner of this command. */
#include <stdio.h>
#include "commands.h"
int sea_cmd_train(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "sea train: not built yet\n");
    return 1;
}
