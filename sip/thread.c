#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct sip_thread;
#define NTA_AGENT_MAGIC_T struct sip_thread
#define SU_ROOT_MAGIC_T	  struct sip_thread
#define SU_TIMER_ARG_T	  struct sip_thread
#define SU_MSG_ARG_T	  struct sip_cmd

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sresolv.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>

#include "daemon/handoff.h"
#include "daemon/log.h"
#include "daemon/thread.h"
#include "sip/dispatch.h"
#include "sip/grammar.h"
#include "sip/tcpguard.h"
#include "sip/thread.h"

#include "sip/dialog.h"

#define LOG_TAG "sip"

/*
 * Bytes preallocated in each message's memory home (received messages get
 * their length on top): the first headers come from one allocation. Every
 * message a finished transaction holds for 64*T1 keeps its preload, so it
 * is sized to what a message needs, not to the largest (bench/calls.sh:
 * 4096 held 769 MB at 700 calls/s, 1024 578 MB, 512 583 MB, with the same
 * CPU per call).
 */
#ifndef SIP_MSG_PRELOAD
#define SIP_MSG_PRELOAD 1024
#endif
/*
 * The largest message sipregd takes (sofia's default is 2 MB): larger ones
 * get 413 and their connection is closed. A Cisco bulk registration is
 * under 2 kB; a SIP message over UDP cannot exceed 64 kB anyway.
 */
#define SIP_MSG_MAX   (64 * 1024)
#define MAX_LISTENERS (2 * CONFIG_MAX_LISTEN + 4)
/*
 * UDP socket buffers: a burst (phones registering again after a power cut,
 * a pause of the SIP thread under load) waits in the kernel instead of
 * being dropped; the kernel caps them at net.core.rmem_max / wmem_max.
 */
#define SIP_UDP_RMEM (4 * 1024 * 1024)
#define SIP_UDP_WMEM (1024 * 1024)

enum sip_cmd_op {
	SIP_CMD_QUIT,
	SIP_CMD_TRACE,
	SIP_CMD_CALL,
};

struct sip_cmd {
	enum sip_cmd_op op;
	int value;
	void (*fn)(struct sip_thread *t, void *arg);
	void (*done)(void *arg);
	void *arg;
};

struct sip_thread {
	struct config cfg;
	pthread_t thread;
	su_root_t *root;
	nta_agent_t *agent;
	su_timer_t *tick;
	bool quit;	 /* the event loop ends (SIP thread only) */
	time_t trimmed;	 /* when trim_after_burst() last looked */
	size_t trx_peak; /* live transactions at most since memory was last handed back */
	sip_dispatch_t *dispatch;
	struct sip_hooks hooks;
	bool started; /* hooks.start succeeded: hooks.stop is due */
	tcp_guard_t *tcp_guard;
	time_t swept; /* when the TCP connections were last looked at */

	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* under lock */
	int state; /* 0 starting, 1 running, -1 failed, 2 stopped */
	char err[256];
	su_task_r task;
	char listeners[MAX_LISTENERS][96];
	unsigned n_listeners;

	handoff_t *done; /* completions, for the main thread */

	_Atomic bool trace;
	_Atomic unsigned long tcp_connections, tcp_closed;
};

/*
 * Binds UDP and TCP sockets to the listener and closes them again, to name
 * the reason when nta cannot listen (it keeps errno to itself).
 */
static int probe_bind(struct config_listen const *l)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int types[] = { SOCK_DGRAM, SOCK_STREAM };

	if (strchr(l->host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)l->port);
		inet_pton(AF_INET6, l->host, &a->sin6_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)l->port);
		inet_pton(AF_INET, l->host, &a->sin_addr);
		len = sizeof(*a);
	}
	for (unsigned i = 0; i < 2; i++) {
		int fd = socket(ss.ss_family, types[i] | SOCK_CLOEXEC, 0);
		int one = 1, err = 0;
		if (fd < 0)
			return errno;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&ss, len) < 0)
			err = errno;
		close(fd);
		if (err)
			return err;
	}
	return 0;
}

static void listen_error(sip_thread_t *t, struct config_listen const *l, bool tls)
{
	char name[96];
	int err = probe_bind(l);
	config_listen_format(l, name, sizeof(name));
	snprintf(t->err, sizeof(t->err), "cannot listen on %s (%s): %s", name,
		 tls ? "TLS" : "UDP and TCP", err ? strerror(err) : "see the log above");
}

static void url_for(char *buf, size_t len, struct config_listen const *l, bool tls)
{
	char const *scheme = tls ? "sips" : "sip";
	if (strchr(l->host, ':'))
		snprintf(buf, len, "%s:[%s]:%u", scheme, l->host, l->port);
	else
		snprintf(buf, len, "%s:%s:%u", scheme, l->host, l->port);
}

/* ---- requests ---- */

static int on_message(sip_thread_t *t, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
	(void)agent;
	return sip_dispatch_message(t->dispatch, msg, sip);
}

/* Every request's connection: the TCP limits learn that a message ended on it. */
static void observe(void *ctx, msg_t *msg)
{
	sip_thread_t *t = ctx;
	tport_t *tp = tport_delivered_by(nta_agent_tports(t->agent), msg);
	if (tp && tport_is_reliable(tp))
		tcp_guard_message(t->tcp_guard, tp);
}

/*
 * Freed heap memory is handed back to the system once a burst of traffic
 * has drained: a burst of calls leaves many finished transactions to linger
 * (64*T1 = 32 s, RFC 3261 and 6026), and when they are gone their memory is
 * free but the allocator keeps it. Checked every TRIM_CHECK seconds: when the
 * live transactions have fallen to a quarter of their peak since the last
 * return (and that peak was worth it), the memory goes back.
 */
#define TRIM_CHECK 5
#define TRIM_WORTH 1000 /* transactions */

static void trim_after_burst(sip_thread_t *t, time_t now)
{
	usize_t irqs = 0, orqs = 0;
	nta_agent_get_stats(t->agent, NTATAG_S_IRQ_HASH_USED_REF(irqs),
			    NTATAG_S_ORQ_HASH_USED_REF(orqs), TAG_END());
	size_t live = irqs + orqs;
	if (live > t->trx_peak)
		t->trx_peak = live;
	if (now - t->trimmed < TRIM_CHECK)
		return;
	t->trimmed = now;
	if (t->trx_peak < TRIM_WORTH || live > t->trx_peak / 4)
		return;
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	t->trx_peak = live;
}

static void mark_one(tport_t *tp, void *arg)
{
	tcp_guard_mark_registered(arg, tp);
}

static void mark_registered(tcp_guard_t *g, void *arg)
{
	sip_thread_t *t = arg;
	if (t->hooks.connections)
		t->hooks.connections(t->hooks.arg, mark_one, g);
}

static void on_tick(su_root_magic_t *magic, su_timer_t *timer, sip_thread_t *t)
{
	(void)magic, (void)timer;
	time_t now = time(NULL);
	if (t->hooks.tick)
		t->hooks.tick(t->hooks.arg, now);
	if (now != t->swept) {
		t->swept = now;
		tcp_guard_sweep(t->tcp_guard, now, mark_registered, t);
		struct tcp_guard_stats st;
		tcp_guard_stats(t->tcp_guard, &st);
		atomic_store(&t->tcp_connections, st.connections);
		atomic_store(&t->tcp_closed, st.closed_message + st.closed_idle + st.closed_excess);
	}
	trim_after_burst(t, now);
}

/* ---- commands from other threads ---- */

static void on_cmd(sip_thread_t *t, su_msg_r msg, struct sip_cmd *cmd)
{
	(void)msg;
	switch (cmd->op) {
	case SIP_CMD_QUIT:
		t->quit = true;
		break;
	case SIP_CMD_TRACE:
		tport_set_params(nta_agent_tports(t->agent), TPTAG_LOG(cmd->value), TAG_END());
		atomic_store(&t->trace, cmd->value != 0);
		log_notice("SIP message trace %s", cmd->value ? "on" : "off");
		break;
	case SIP_CMD_CALL:
		cmd->fn(t, cmd->arg);
		if (t->hooks.after_call)
			t->hooks.after_call(t->hooks.arg);
		if (cmd->done && handoff_post(t->done, cmd->done, cmd->arg) < 0)
			log_error("out of memory: a completion is lost");
		break;
	}
}

static int send_cmd(sip_thread_t *t, struct sip_cmd const *cmd)
{
	su_msg_r m = SU_MSG_R_INIT;
	int err = -ESRCH;

	pthread_mutex_lock(&t->lock);
	if (t->state == 1 &&
	    su_msg_create(m, t->task, su_task_null, on_cmd, sizeof(struct sip_cmd)) == 0) {
		*(struct sip_cmd *)su_msg_data(m) = *cmd;
		err = su_msg_send(m) == 0 ? 0 : -EIO;
	}
	pthread_mutex_unlock(&t->lock);
	return err;
}

int sip_thread_call(sip_thread_t *t, void (*fn)(sip_thread_t *t, void *arg),
		    void (*done)(void *arg), void *arg)
{
	struct sip_cmd c = { .op = SIP_CMD_CALL, .fn = fn, .done = done, .arg = arg };
	return send_cmd(t, &c);
}

void *sip_thread_app(sip_thread_t *t)
{
	return t->hooks.arg;
}

static void tcp_guard_settings(struct tcp_guard_config *tc, struct config const *cfg)
{
	tc->message_timeout = cfg->tcp_message_timeout;
	tc->idle_timeout = cfg->tcp_idle_timeout;
	tc->max_per_source = cfg->tcp_max_per_source;
}

void sip_thread_apply_config(sip_thread_t *t, struct config const *cfg)
{
	ASSERT_THREAD(SIP);
	t->cfg = *cfg;
	struct tcp_guard_config tc;
	tcp_guard_settings(&tc, cfg);
	tcp_guard_set_config(t->tcp_guard, &tc);
	if (t->hooks.apply_config)
		t->hooks.apply_config(t->hooks.arg, cfg);
}

/* ---- the thread ---- */

static void record_listeners(sip_thread_t *t)
{
	tport_t *tp = tport_primaries(nta_agent_tports(t->agent));
	t->n_listeners = 0;
	for (; tp && t->n_listeners < MAX_LISTENERS; tp = tport_next(tp)) {
		tp_name_t const *n = tport_name(tp);
		if (tport_ident(tp) && !strcmp(tport_ident(tp), SIP_TRUNK_TLS))
			continue; /* sipregd's way out to TLS trunks, not for phones */
		char const *host = n->tpn_host ? n->tpn_host : "?";
		snprintf(t->listeners[t->n_listeners++], sizeof(t->listeners[0]),
			 strchr(host, ':') && host[0] != '[' ? "%s [%s]:%s" : "%s %s:%s",
			 n->tpn_proto, host, n->tpn_port);
	}
}

static void set_state(sip_thread_t *t, int state)
{
	pthread_mutex_lock(&t->lock);
	t->state = state;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

/*
 * The parser also knows the extension headers (Remote-Party-ID,
 * P-Asserted-Identity, Replaces, ...) and sipreg's method grammar. Once per
 * process, before any message is made; the class stays for the life of the
 * process.
 */
void sip_parser_extend(void)
{
	static bool extended;
	if (extended)
		return;
	msg_mclass_t *mc = sip_extend_mclass(NULL);
	if (mc && sip_grammar_install(mc) < 0)
		log_warning("the SIP parser keeps sofia's method grammar");
	if (!mc || sip_update_default_mclass(mc) < 0)
		log_warning("the SIP parser is not extended: extension headers stay opaque");
	extended = true;
}

static int setup(sip_thread_t *t)
{
	char url[128];
	char const *u = url; /* URL_STRING_MAKE() wants a pointer, not an array */

	t->root = su_root_create(t);
	if (!t->root) {
		snprintf(t->err, sizeof(t->err), "cannot create the SIP event loop");
		return -1;
	}
	sip_parser_extend();
	/*
	 * sofia's queue size is both the TCP listen backlog and the length of
	 * each connection's send queue; it takes at most 1000.
	 */
	unsigned backlog = t->cfg.tcp_backlog > 1000 ? 1000 : t->cfg.tcp_backlog;
	url_for(url, sizeof(url), &t->cfg.listen[0], false);
	/*
	 * No transport parameter: nta binds UDP and TCP on the address.
	 * TPTAG_STUN_SERVER(0): sofia's built-in STUN answer to a datagram
	 * starting with a zero byte leaks 12 bytes each time (send_stun_error);
	 * without it sofia answers such datagrams from its stack instead.
	 */
	t->agent = nta_agent_create(
		t->root, URL_STRING_MAKE(u), on_message, t, TPTAG_IDENT(SIP_PHONES), NTATAG_UA(1),
		NTATAG_SERVER_RPORT(1), TPTAG_STUN_SERVER(0),
		NTATAG_CLIENT_RPORT(1), NTATAG_PRELOAD(SIP_MSG_PRELOAD),
		NTATAG_MAXSIZE(SIP_MSG_MAX), TPTAG_UDP_RMEM(SIP_UDP_RMEM),
		TPTAG_UDP_WMEM(SIP_UDP_WMEM), TPTAG_QUEUESIZE(backlog), TPTAG_PONG2PING(1),
		TAG_IF(t->cfg.resolv_conf[0], SRESTAG_RESOLV_CONF(t->cfg.resolv_conf)), TAG_END());
	if (!t->agent) {
		listen_error(t, &t->cfg.listen[0], false);
		return -1;
	}
	for (unsigned i = 1; i < t->cfg.n_listen; i++) {
		url_for(url, sizeof(url), &t->cfg.listen[i], false);
		if (nta_agent_add_tport(t->agent, URL_STRING_MAKE(u), TPTAG_IDENT(SIP_PHONES),
					TPTAG_UDP_RMEM(SIP_UDP_RMEM),
					TPTAG_UDP_WMEM(SIP_UDP_WMEM), TPTAG_QUEUESIZE(backlog),
					TPTAG_PONG2PING(1), TAG_END()) < 0) {
			listen_error(t, &t->cfg.listen[i], false);
			return -1;
		}
	}
	/*
	 * TLS: sofia reads agent.pem and cafile.pem from the directory (checked
	 * by tls_check_dir() before the thread starts). Phones present no
	 * certificate sipregd could check against anything (their
	 * manufacturer's CA is not ours): incoming connections are not asked
	 * for one; digest authenticates the phone, TLS the server.
	 */
	for (unsigned i = 0; i < t->cfg.n_listen_tls; i++) {
		url_for(url, sizeof(url), &t->cfg.listen_tls[i], true);
		if (nta_agent_add_tport(t->agent, URL_STRING_MAKE(u), TPTAG_IDENT(SIP_PHONES),
					TPTAG_CERTIFICATE(t->cfg.tls_dir),
					TPTAG_TLS_VERIFY_POLICY(TPTLS_VERIFY_NONE),
					TPTAG_QUEUESIZE(backlog), TPTAG_PONG2PING(1),
					TAG_END()) < 0) {
			listen_error(t, &t->cfg.listen_tls[i], true);
			return -1;
		}
	}
	/*
	 * TLS toward trunks: a transport of its own, after the listeners for
	 * phones (sofia takes the first TLS transport for a request that names
	 * none: requests to phones find their connections there). Requests to
	 * TLS trunks name it (SIP_TRUNK_TLS); its connections verify the
	 * provider's chain against [tls] trunk_ca and its name against the host
	 * the request was sent to.
	 */
	if (t->cfg.tls_trunk_dir[0]) {
		char const *dir = t->cfg.tls_trunk_dir;
		struct config_listen any = t->cfg.listen[0];
		any.port = 0;
		url_for(url, sizeof(url), &any, true);
		if (nta_agent_add_tport(t->agent, URL_STRING_MAKE(u), TPTAG_CERTIFICATE(dir),
					TPTAG_IDENT(SIP_TRUNK_TLS),
					TPTAG_TLS_VERIFY_POLICY(TPTLS_VERIFY_SUBJECTS_OUT),
					TPTAG_TLS_VERIFY_DATE(1), TPTAG_QUEUESIZE(backlog),
					TAG_END()) < 0)
			log_warning("cannot open the TLS transport toward trunks: TLS trunks "
				    "cannot be reached");
	}
	struct tcp_guard_config tc;
	tcp_guard_settings(&tc, &t->cfg);
	if (tcp_guard_create(&t->tcp_guard, t->agent, &tc) < 0) {
		snprintf(t->err, sizeof(t->err), "cannot create the TCP connection limits");
		return -1;
	}
	if (sip_dispatch_create(&t->dispatch, t->agent) < 0) {
		snprintf(t->err, sizeof(t->err), "cannot create the method router");
		return -1;
	}
	sip_dispatch_observe(t->dispatch, observe, t);
	struct sip_env env = { t->root, t->agent, t->dispatch, &t->cfg };
	if (t->hooks.start && t->hooks.start(t->hooks.arg, &env, t->err, sizeof(t->err)) < 0)
		return -1;
	t->started = true;
	t->tick = su_timer_create(su_root_task(t->root), t->cfg.store_flush_ms);
	if (!t->tick || su_timer_set_for_ever(t->tick, on_tick, t) < 0) {
		snprintf(t->err, sizeof(t->err), "cannot start the SIP thread's timer");
		return -1;
	}
	return 0;
}

static void teardown(sip_thread_t *t)
{
	if (t->tick)
		su_timer_destroy(t->tick);
	if (t->started && t->hooks.stop)
		t->hooks.stop(t->hooks.arg);
	tcp_guard_destroy(t->tcp_guard);
	if (t->agent)
		nta_agent_destroy(t->agent);
	sip_dispatch_destroy(t->dispatch);
	if (t->root)
		su_root_destroy(t->root);
}

/*
 * The event loop, step by step. sofia computes the wait until its next
 * timer in whole milliseconds rounded down, so with a timer due in under a
 * millisecond it polls without waiting, again and again until the timer is
 * due. Under call load there is a transaction timer nearly every
 * millisecond, and the thread would spin. A step that received no message
 * and has a timer under a millisecond away is followed by a nap of NAP_US
 * instead, which is all the lateness it adds to anything; a step that
 * received a message never naps.
 */
#define NAP_US 200

static void run(sip_thread_t *t)
{
	struct timespec nap = { 0, NAP_US * 1000L };
	usize_t seen = 0;
	while (!t->quit) {
		su_duration_t next = su_root_step(t->root, 1000);
		usize_t recv = 0;
		nta_agent_get_stats(t->agent, NTATAG_S_RECV_MSG_REF(recv), TAG_END());
		if (next == 0 && recv == seen)
			nanosleep(&nap, NULL);
		seen = recv;
	}
}

static void *sip_main(void *arg)
{
	sip_thread_t *t = arg;

	thread_set_role(THREAD_SIP);
	su_init();
	if (setup(t) < 0) {
		teardown(t);
		su_deinit();
		set_state(t, -1);
		return NULL;
	}
	pthread_mutex_lock(&t->lock);
	record_listeners(t);
	su_task_copy(t->task, su_root_task(t->root));
	pthread_mutex_unlock(&t->lock);
	set_state(t, 1);

	run(t);

	pthread_mutex_lock(&t->lock);
	t->state = 2;
	su_task_deinit(t->task);
	pthread_mutex_unlock(&t->lock);
	/* Messages sent before the state changed are still in the mailbox. */
	su_root_step(t->root, 0);
	teardown(t);
	su_deinit();
	unsigned long dropped = sofia_log_dropped_transactions();
	if (dropped)
		log_info("%lu SIP transactions were still open at shutdown", dropped);
	return NULL;
}

int sip_thread_start(sip_thread_t **out, struct sip_start const *start, char *err, size_t errlen)
{
	sip_thread_t *t = calloc(1, sizeof(*t));
	int ret = 0;

	if (!t)
		return -ENOMEM;
	t->cfg = *start->cfg;
	t->hooks = start->hooks;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	if ((ret = handoff_create(&t->done, start->base)) < 0)
		goto fail;
	if ((ret = -pthread_create(&t->thread, NULL, sip_main, t)) < 0) {
		snprintf(err, errlen, "cannot start the SIP thread: %s", strerror(-ret));
		goto fail;
	}
	pthread_mutex_lock(&t->lock);
	while (t->state == 0)
		pthread_cond_wait(&t->cond, &t->lock);
	int state = t->state;
	pthread_mutex_unlock(&t->lock);
	if (state < 0) {
		pthread_join(t->thread, NULL);
		snprintf(err, errlen, "%s", t->err);
		ret = -EADDRINUSE;
		goto fail;
	}
	*out = t;
	return 0;
fail:
	handoff_destroy(t->done);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
	return ret;
}

void sip_thread_stop(sip_thread_t *t)
{
	struct sip_cmd quit = { .op = SIP_CMD_QUIT };
	if (!t)
		return;
	if (send_cmd(t, &quit) < 0)
		log_error("cannot tell the SIP thread to stop");
	pthread_join(t->thread, NULL);
	handoff_destroy(t->done); /* runs the completions not yet delivered */
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int sip_thread_set_trace(sip_thread_t *t, bool on)
{
	struct sip_cmd c = { .op = SIP_CMD_TRACE, .value = on };
	return send_cmd(t, &c);
}

json_t *sip_thread_status(sip_thread_t *t)
{
	json_t *l = json_array();
	pthread_mutex_lock(&t->lock);
	for (unsigned i = 0; i < t->n_listeners; i++)
		json_array_append_new(l, json_string(t->listeners[i]));
	sip_dispatch_t *d = t->state == 1 ? t->dispatch : NULL;
	pthread_mutex_unlock(&t->lock);
	json_t *st = json_pack(
		"{s:o, s:I, s:I, s:b, s:I, s:I, s:I, s:I, s:I}", "listeners", l, "tcp_connections",
		(json_int_t)atomic_load(&t->tcp_connections), "tcp_closed",
		(json_int_t)atomic_load(&t->tcp_closed), "trace", atomic_load(&t->trace),
		"requests", (json_int_t)(d ? sip_dispatch_count(d, sip_method_invalid) : 0),
		"options", (json_int_t)(d ? sip_dispatch_count(d, sip_method_options) : 0),
		"registers", (json_int_t)(d ? sip_dispatch_count(d, sip_method_register) : 0),
		"not_implemented", (json_int_t)(d ? sip_dispatch_count(d, sip_method_unknown) : 0),
		"invites", (json_int_t)(d ? sip_dispatch_count(d, sip_method_invite) : 0));
	if (t->hooks.status)
		t->hooks.status(t->hooks.arg, st);
	return st;
}
