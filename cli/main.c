/* tvkit: the command line lives in dispatch.c so that tests can drive it in-process. */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
