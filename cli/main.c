/* tvkit: the command line lives in dispatch.c so that tests can drive it in-process. */
#include <stdlib.h> /* defines __GLIBC__ on glibc */
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli.h"
#include "interrupt.h"

int main(int argc, char **argv)
{
#ifdef __GLIBC__
    /* Bar arrays and message buffers of a few hundred KiB come and go once per symbol. With
     * glibc's defaults each is a fresh mmap whose every page faults in (a quarter of the CPU of
     * a 100-symbol download on a VM); kept in the heap they are reused. The process is short
     * lived or holds steady, so keeping freed memory is what we want. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
    cli_interrupt_init();
    int st = cli_main(argc, argv);
    /* A stream that ended on its own (--count) and was interrupted while closing was still
     * interrupted: the shell's convention, 128 + the signal. */
    int sig = cli_interrupted();
    return sig && st == 0 ? 128 + sig : st;
}
