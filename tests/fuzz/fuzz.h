/* Shared by the fuzz targets: CHECK aborts on a broken invariant, so libFuzzer records the
 * input as a crash and the replay test fails. Not compiled out: the invariant is the test. */
#ifndef HEARKEN_TESTS_FUZZ_H
#define HEARKEN_TESTS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
