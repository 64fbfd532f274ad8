/* Fuzz target "number": tvk_parse_double on arbitrary bytes. It must accept exactly the JSON
 * number grammar and then agree with strtod to the bit. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_check_number((const char *)data, size);
    return 0;
}
