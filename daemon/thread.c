/*
 * The name of the running thread, for ASSERT_THREAD() (see daemon/thread.h):
 * a thread-local set once when each of sipregd's threads starts.
 */
#include "autoconfig.h"

#include <stdlib.h>

#include "daemon/log.h"
#include "daemon/thread.h"

#define LOG_TAG "main"

static _Thread_local enum thread_role role;

static char const *const names[] = {
	[THREAD_ANY] = "any",
	[THREAD_MAIN] = "main",
	[THREAD_SIP] = "SIP",
	[THREAD_STORE] = "store",
};

void thread_set_role(enum thread_role r)
{
	role = r;
}

enum thread_role thread_role(void)
{
	return role;
}

void thread_wrong(enum thread_role want, char const *func, char const *file, int line)
{
	log_error("%s (%s:%d) is for the %s thread and ran on the %s thread", func, file, line,
		  names[want], names[role]);
	abort();
}
