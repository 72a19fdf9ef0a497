#include "autoconfig.h"

#include "tests/unit/tap.h"

#include <CUnit/TestRun.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned tap_n;
static unsigned tap_failed;

static void on_test_complete(const CU_pTest test, const CU_pSuite suite,
			     const CU_pFailureRecord failure)
{
	tap_n++;
	if (!failure) {
		printf("ok %u - %s: %s\n", tap_n, suite->pName, test->pName);
		return;
	}
	tap_failed++;
	printf("not ok %u - %s: %s\n", tap_n, suite->pName, test->pName);
	for (CU_pFailureRecord f = failure; f; f = f->pNext)
		printf("# %s:%u: %s\n", f->strFileName ? f->strFileName : "?", f->uiLineNumber,
		       f->strCondition ? f->strCondition : "?");
}

static void on_suite_init_failure(const CU_pSuite suite)
{
	for (CU_pTest t = suite->pTest; t; t = t->pNext) {
		tap_n++;
		tap_failed++;
		printf("not ok %u - %s: %s # suite set-up failed\n", tap_n, suite->pName, t->pName);
	}
}

void tap_add_suite(char const *name, CU_InitializeFunc init, CU_CleanupFunc clean,
		   CU_TestInfo const *tests)
{
	CU_pSuite s = CU_add_suite(name, init, clean);
	if (!s) {
		fprintf(stderr, "cannot add suite %s\n", name);
		exit(99);
	}
	for (; tests->pName; tests++) {
		if (!CU_add_test(s, tests->pName, tests->pTestFunc)) {
			fprintf(stderr, "cannot add test %s\n", tests->pName);
			exit(99);
		}
	}
}

int tap_main(void (*add_suites)(void))
{
	unsigned total = 0;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	add_suites();
	for (CU_pSuite s = CU_get_registry()->pSuite; s; s = s->pNext)
		total += s->uiNumberOfTests;
	printf("1..%u\n", total);
	fflush(stdout);
	CU_set_test_complete_handler(on_test_complete);
	CU_set_suite_init_failure_handler(on_suite_init_failure);
	CU_run_all_tests();
	CU_cleanup_registry();
	return tap_failed || tap_n != total ? 1 : 0;
}
