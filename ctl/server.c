/*
 * The control socket: JSON lines over a Unix socket, one request at a
 * time per connection. Each request becomes a job run on the thread its
 * command names (ctl/commands.c): the main thread at once, the store
 * thread as a store job (a change takes the change path, daemon/change.h),
 * the SIP thread through sip_thread_call(); the answer is sent from the main
 * thread when the job is done. Reading stops while a job is under way.
 */
#include "autoconfig.h"

#include "ctl/server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl/commands.h"
#include "daemon/change.h"
#include "ha/ha.h"
#include "daemon/log.h"
#include "daemon/thread.h"
#include "store/store.h"

#define LOG_TAG "ctl"

/* A request line longer than this closes the connection. */
#define MAX_REQUEST (64 * 1024)

struct ctl_server {
	struct event_base *base;
	struct evconnlistener *listener;
	store_worker_t *store;
	struct ctl_handlers h;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct conn *conns;
};

struct conn {
	struct conn *next, *prev;
	ctl_server_t *srv;
	struct bufferevent *bev;
	bool busy;   /* a store job for this connection is under way */
	bool closed; /* the peer went away while busy */
};

/* ---- replies ---- */

static char const *code_name(int code)
{
	switch (code) {
	case -EEXIST:
		return "exists";
	case -ENOENT:
		return "not_found";
	case -EINVAL:
		return "invalid";
	case -EBUSY:
		return "in_use";
	default:
		return "internal";
	}
}

static void send_json(struct conn *c, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);
	if (text) {
		struct evbuffer *out = bufferevent_get_output(c->bev);
		evbuffer_add(out, text, strlen(text));
		evbuffer_add(out, "\n", 1);
		free(text);
	}
	json_decref(reply);
}

static void reply_ok(struct conn *c, json_t *data)
{
	send_json(c, json_pack("{s:b, s:o}", "ok", 1, "data", data ? data : json_null()));
}

static void reply_err(struct conn *c, char const *code, char const *msg)
{
	send_json(c, json_pack("{s:b, s:s, s:s}", "ok", 0, "code", code, "error", msg));
}

/* ---- jobs ---- */

static void conn_free(struct conn *c);
static void conn_process(struct conn *c);

static void job_free(struct ctl_job *j)
{
	json_decref(j->args);
	json_decref(j->data);
	free(j);
}

/* Main thread: logs a finished job, answers its client (if still there) and frees it. */
static void job_answer(struct ctl_job *j)
{
	struct conn *c = j->conn;
	char what[512];

	if (j->def->thread != THREAD_MAIN) {
		ctl_describe(what, sizeof(what), j->cmd, j->args);
		if (j->err.code < 0)
			log_info("%s: refused: %s", what, j->err.msg);
		else if (j->def->changes)
			log_notice("%s: done", what);
	}
	if (!c->closed) {
		if (j->err.code < 0) {
			reply_err(c, code_name(j->err.code), j->err.msg);
		} else {
			if (j->def->status && c->srv->h.status) {
				json_t *st = c->srv->h.status(c->srv->h.arg);
				json_object_set_new(st, "counts",
						    j->data ? j->data : json_object());
				j->data = st;
			}
			reply_ok(c, j->data);
			j->data = NULL;
		}
	}
	job_free(j);
}

/* Main thread: a job handed to another thread is done; the connection reads on. */
static void job_finish(void *arg)
{
	struct ctl_job *j = arg;
	struct conn *c = j->conn;
	job_answer(j);
	c->busy = false;
	if (c->closed) {
		conn_free(c);
		return;
	}
	bufferevent_enable(c->bev, EV_READ);
	conn_process(c);
}

void ctl_job_resume(struct ctl_job *j)
{
	job_finish(j);
}

static void job_run_store(store_t *s, void *arg)
{
	struct ctl_job *j = arg;
	ASSERT_THREAD(STORE);
	int err = j->def->store(s, j);
	if (err < 0 && !j->err.code)
		j->err.code = err;
}

/* A change: run on the store thread by the change path (daemon/change.h). */
static int job_apply(store_t *s, void *arg, struct store_err *e)
{
	struct ctl_job *j = arg;
	job_run_store(s, j);
	*e = j->err;
	return j->err.code;
}

/*
 * A change has been stored and the SIP thread has its new directory: the
 * client hears "done" only now, so a phone registering right after sees it.
 */
static void job_changed(void *arg, int err, struct store_err const *e)
{
	(void)err, (void)e;
	job_finish(arg);
}

static void job_run_sip(sip_thread_t *t, void *arg)
{
	struct ctl_job *j = arg;
	ASSERT_THREAD(SIP);
	j->def->sip(j, t);
}

/* Hands the job to its command's thread; -1 (answered) when it cannot be. */
static int job_start(struct conn *c, struct ctl_job *j)
{
	ctl_server_t *srv = c->srv;
	struct ctl_command const *def = j->def;
	int err = 0;
	if (def->thread == THREAD_STORE && def->changes && srv->h.ha) {
		char const *why = ha_write_refusal(srv->h.ha(srv->h.arg));
		if (why) {
			char what[512];
			ctl_describe(what, sizeof(what), j->cmd, j->args);
			log_info("%s: refused: %s", what, why);
			reply_err(c, "refused", why);
			job_free(j);
			return -1;
		}
	}
	if (def->thread == THREAD_MAIN) {
		if (def->local(j, &srv->h) == CTL_PENDING) {
			c->busy = true;
			bufferevent_disable(c->bev, EV_READ);
			return 0;
		}
		job_answer(j);
		return 0;
	}
	if (def->thread == THREAD_SIP) {
		sip_thread_t *t = srv->h.sip ? srv->h.sip(srv->h.arg) : NULL;
		if (!t) {
			reply_err(c, "internal", "the SIP thread is not running");
			job_free(j);
			return -1;
		}
		err = sip_thread_call(t, job_run_sip, job_finish, j);
	} else if (def->changes) {
		struct change_path path = { srv->store, srv->h.sip, srv->h.arg };
		err = change_submit(&path, job_apply, job_changed, j);
	} else {
		err = store_worker_submit(srv->store, job_run_store, job_finish, j);
	}
	if (err < 0) {
		reply_err(c, "internal", "sipregd is shutting down");
		job_free(j);
		return -1;
	}
	c->busy = true;
	bufferevent_disable(c->bev, EV_READ);
	return 0;
}

static void handle_line(struct conn *c, char const *line, size_t len)
{
	char msg[128];
	char const *code;
	struct ctl_job *j = ctl_request_parse(line, len, &code, msg, sizeof(msg));
	if (!j) {
		reply_err(c, code, msg);
		return;
	}
	j->conn = c;
	job_start(c, j);
}

/* Handles buffered request lines, one at a time. */
static void conn_process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	while (!c->busy) {
		size_t len;
		char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
		if (!line) {
			if (evbuffer_get_length(in) > MAX_REQUEST) {
				reply_err(c, "invalid", "request too long");
				bufferevent_disable(c->bev, EV_READ);
				evbuffer_drain(in, evbuffer_get_length(in));
			}
			return;
		}
		if (len > MAX_REQUEST)
			reply_err(c, "invalid", "request too long");
		else if (len > 0)
			handle_line(c, line, len);
		free(line);
	}
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_process(arg);
}

static void conn_free(struct conn *c)
{
	ctl_server_t *srv = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void conn_close(struct conn *c)
{
	if (c->bev) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (c->busy) {
		/* The job still points here: free once it completes. */
		c->closed = true;
		return;
	}
	conn_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_close(arg);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	ctl_server_t *srv = arg;
	(void)l, (void)sa, (void)salen;
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev) {
		close(fd);
		free(c);
		return;
	}
	c->next = srv->conns;
	if (c->next)
		c->next->prev = c;
	srv->conns = c;
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* True when something already answers on the socket path. */
static bool socket_alive(struct sockaddr_un const *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool alive = connect(fd, (struct sockaddr const *)sun, sizeof(*sun)) == 0;
	close(fd);
	return alive;
}

int ctl_server_start(ctl_server_t **out, struct event_base *base, char const *path,
		     store_worker_t *store, struct ctl_handlers const *h, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path %s is longer than %zu characters", path,
			 sizeof(sun.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", path);
			return -EEXIST;
		}
		if (socket_alive(&sun)) {
			snprintf(err, errlen, "another sipregd already serves control socket %s",
				 path);
			return -EADDRINUSE;
		}
		unlink(path); /* left over from a sipregd that did not stop cleanly */
	}

	ctl_server_t *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->base = base;
	srv->store = store;
	srv->h = *h;
	snprintf(srv->path, sizeof(srv->path), "%s", path);

	mode_t old = umask(0117);
	srv->listener = evconnlistener_new_bind(base, on_accept, srv,
						LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
						(struct sockaddr *)&sun, sizeof(sun));
	int e = errno;
	umask(old);
	if (!srv->listener) {
		snprintf(err, errlen, "cannot listen on control socket %s: %s", path, strerror(e));
		free(srv);
		return -e;
	}
	chmod(path, 0660);
	*out = srv;
	return 0;
}

void ctl_server_stop(ctl_server_t *srv)
{
	if (!srv)
		return;
	evconnlistener_free(srv->listener);
	unlink(srv->path);
	struct conn *c = srv->conns;
	while (c) {
		struct conn *next = c->next;
		conn_close(c);
		c = next;
	}
	/* Busy connections are freed by their job's completion. */
	free(srv);
}
