/*
 * A change's way from the store thread to the SIP thread (see
 * daemon/change.h). The directory is built in the same store job as the
 * change, so no other change can come between them; it is installed on the
 * SIP thread before the caller hears the result.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/app.h"
#include "daemon/change.h"
#include "daemon/log.h"
#include "daemon/thread.h"

#define LOG_TAG "main"

struct change {
	struct change_path path;
	change_apply_f *apply;
	change_done_f *done;
	void *arg;
	int err;
	struct store_err e;
	directory_t *dir;
};

static void change_free(struct change *c)
{
	directory_destroy(c->dir);
	free(c);
}

static void change_run(store_t *s, void *arg)
{
	struct change *c = arg;
	ASSERT_THREAD(STORE);
	c->err = c->apply(s, c->arg, &c->e);
	if (c->err < 0 && !c->e.code)
		c->e.code = c->err;
	if (c->err == 0) {
		struct store_err e = { 0 };
		if (store_directory_load(s, &c->dir, &e) < 0)
			log_error("the change is stored but the SIP thread keeps the old view: %s",
				  e.msg);
	}
}

/* Main thread: the SIP thread has installed the directory (or there was none to install). */
static void change_finish(void *arg)
{
	struct change *c = arg;
	c->done(c->arg, c->err, &c->e);
	change_free(c);
}

static void change_install(sip_thread_t *t, void *arg)
{
	struct change *c = arg;
	app_install_directory(t, c->dir);
	c->dir = NULL;
}

/* Main thread: stored; the new directory goes to the SIP thread. */
static void change_stored(void *arg)
{
	struct change *c = arg;
	sip_thread_t *t = c->path.sip ? c->path.sip(c->path.arg) : NULL;
	if (c->dir && t && sip_thread_call(t, change_install, change_finish, c) == 0)
		return;
	change_finish(c);
}

int change_submit(struct change_path const *p, change_apply_f *apply, change_done_f *done,
		  void *arg)
{
	struct change *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct change){ .path = *p, .apply = apply, .done = done, .arg = arg };
	if (!p->store || store_worker_submit(p->store, change_run, change_stored, c) < 0) {
		free(c);
		return -ESRCH;
	}
	return 0;
}
