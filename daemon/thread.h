/*
 * Which thread this is. Each of sipregd's three threads names itself when
 * it starts; modules owned by one thread check it at their entry points
 * with ASSERT_THREAD(SIP | MAIN | STORE), compiled in for the sanitizer and
 * ThreadSanitizer builds (SIPREG_THREAD_CHECKS). A thread that never named
 * itself (a unit test driving a module directly) passes every check.
 */
#ifndef SIPREG_DAEMON_THREAD_H
#define SIPREG_DAEMON_THREAD_H

enum thread_role {
	THREAD_ANY, /* not named: no checks */
	THREAD_MAIN,
	THREAD_SIP,
	THREAD_STORE,
};

void thread_set_role(enum thread_role role);
enum thread_role thread_role(void);
/* Logs where the wrong thread entered and aborts. */
void thread_wrong(enum thread_role want, char const *func, char const *file, int line)
	__attribute__((noreturn));

#ifdef SIPREG_THREAD_CHECKS
#define ASSERT_THREAD(role)                                                                        \
	do {                                                                                       \
		enum thread_role r_ = thread_role();                                               \
		if (r_ != THREAD_ANY && r_ != THREAD_##role)                                       \
			thread_wrong(THREAD_##role, __func__, __FILE__, __LINE__);                 \
	} while (0)
#else
#define ASSERT_THREAD(role) ((void)0)
#endif

#endif
