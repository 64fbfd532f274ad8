/* A failed property in a fuzz target aborts, which libFuzzer reports as a crash (with the input
 * saved) and the standalone runner as a failed test. */
#ifndef TVK_FUZZ_CHECK_H
#define TVK_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz property failed: %s\n", __FILE__, __LINE__, #cond);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
