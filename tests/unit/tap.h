/*
 * Runs the registered CUnit suites and reports each test as a TAP line, so
 * the test harness counts tests one by one.
 */
#ifndef SIPREG_TAP_H
#define SIPREG_TAP_H

#include <CUnit/CUnit.h>

/** Initialises the registry, calls add_suites(), runs everything; returns the exit code. */
int tap_main(void (*add_suites)(void));

/** Adds a suite with its tests from a NULL-terminated array. */
void tap_add_suite(char const *name, CU_InitializeFunc init, CU_CleanupFunc clean,
		   CU_TestInfo const *tests);

#endif
