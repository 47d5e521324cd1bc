/*
 * obs_test.h - the CHECK macro shared by the obs unit tests: report and count
 * a failure, keep going (each test ends with "all passed" or "FAILED").
 */
#ifndef SLUICE_TESTS_OBS_TEST_H
#define SLUICE_TESTS_OBS_TEST_H

#include <stdio.h>

static int failures;
#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                                \
            printf(__VA_ARGS__);                                                                                       \
            printf("\n");                                                                                              \
            failures++;                                                                                                \
        }                                                                                                              \
    } while (0)

#endif
