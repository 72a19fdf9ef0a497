#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct sip_thread;
#define NTA_AGENT_MAGIC_T struct sip_thread
#define NTA_LEG_MAGIC_T	  struct sip_thread
#define SU_ROOT_MAGIC_T	  struct sip_thread
#define SU_MSG_ARG_T	  struct sip_cmd

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/tport_tag.h>

#include "daemon/log.h"
#include "sip/sip.h"

#define LOG_TAG "sip"

/* What this server answers; every other method gets 501. */
#define SIP_ALLOW     "OPTIONS"
#define SIP_ACCEPT    "application/sdp"
#define MAX_LISTENERS (2 * CONFIG_MAX_LISTEN + 4)

enum sip_cmd_op {
	SIP_CMD_QUIT,
	SIP_CMD_TRACE,
};

struct sip_cmd {
	enum sip_cmd_op op;
	int value;
};

struct sip_ctx {
	/* owned by the SIP thread */
	su_root_t *root;
	nta_agent_t *agent;
	nta_leg_t *leg;
};

struct sip_thread {
	struct config cfg;
	pthread_t thread;
	struct sip_ctx ctx;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* under lock */
	int state; /* 0 starting, 1 running, -1 failed, 2 stopped */
	char err[256];
	su_task_r task;
	char listeners[MAX_LISTENERS][96];
	unsigned n_listeners;

	_Atomic bool trace;
	_Atomic unsigned long requests;
	_Atomic unsigned long options;
	_Atomic unsigned long not_implemented;
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

static void listen_error(sip_thread_t *t, struct config_listen const *l)
{
	char name[96];
	int err = probe_bind(l);
	config_listen_format(l, name, sizeof(name));
	snprintf(t->err, sizeof(t->err), "cannot listen on %s (UDP and TCP): %s", name,
		 err ? strerror(err) : "see the log above");
}

static void url_for(char *buf, size_t len, struct config_listen const *l)
{
	if (strchr(l->host, ':'))
		snprintf(buf, len, "sip:[%s]:%u", l->host, l->port);
	else
		snprintf(buf, len, "sip:%s:%u", l->host, l->port);
}

/* Requests no dialog claims: answered here. */
static int on_request(sip_thread_t *t, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip)
{
	(void)leg;

	atomic_fetch_add(&t->requests, 1);
	switch (sip->sip_request->rq_method) {
	case sip_method_options:
		atomic_fetch_add(&t->options, 1);
		nta_incoming_treply(irq, SIP_200_OK, SIPTAG_ALLOW_STR(SIP_ALLOW),
				    SIPTAG_ACCEPT_STR(SIP_ACCEPT), SIPTAG_SUPPORTED_STR(""),
				    TAG_END());
		return 0;
	case sip_method_ack:
		return 0;
	default:
		atomic_fetch_add(&t->not_implemented, 1);
		log_debug("%s answered 501", sip->sip_request->rq_method_name);
		nta_incoming_treply(irq, SIP_501_NOT_IMPLEMENTED, SIPTAG_ALLOW_STR(SIP_ALLOW),
				    TAG_END());
		return 0;
	}
}

/* Messages that match no transaction or leg (stray responses). */
static int on_stray(sip_thread_t *t, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
	(void)t, (void)agent, (void)sip;
	msg_destroy(msg);
	return 0;
}

static void on_cmd(sip_thread_t *t, su_msg_r msg, struct sip_cmd *cmd)
{
	(void)msg;

	switch (cmd->op) {
	case SIP_CMD_QUIT:
		su_root_break(t->ctx.root);
		break;
	case SIP_CMD_TRACE:
		tport_set_params(nta_agent_tports(t->ctx.agent), TPTAG_LOG(cmd->value), TAG_END());
		atomic_store(&t->trace, cmd->value != 0);
		log_notice("SIP message trace %s", cmd->value ? "on" : "off");
		break;
	}
}

static int send_cmd(sip_thread_t *t, enum sip_cmd_op op, int value)
{
	su_msg_r m = SU_MSG_R_INIT;
	int err = -ESRCH;

	pthread_mutex_lock(&t->lock);
	if (t->state == 1 &&
	    su_msg_create(m, t->task, su_task_null, on_cmd, sizeof(struct sip_cmd)) == 0) {
		struct sip_cmd *c = su_msg_data(m);
		c->op = op;
		c->value = value;
		err = su_msg_send(m) == 0 ? 0 : -EIO;
	}
	pthread_mutex_unlock(&t->lock);
	return err;
}

static void record_listeners(sip_thread_t *t)
{
	tport_t *tp = tport_primaries(nta_agent_tports(t->ctx.agent));
	t->n_listeners = 0;
	for (; tp && t->n_listeners < MAX_LISTENERS; tp = tport_next(tp)) {
		tp_name_t const *n = tport_name(tp);
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

static void *sip_main(void *arg)
{
	sip_thread_t *t = arg;
	struct sip_ctx *ctx = &t->ctx;
	char url[128];
	char const *u = url; /* URL_STRING_MAKE() wants a pointer, not an array */

	su_init();
	ctx->root = su_root_create(t);
	if (!ctx->root) {
		snprintf(t->err, sizeof(t->err), "cannot create the SIP event loop");
		goto fail;
	}
	url_for(url, sizeof(url), &t->cfg.listen[0]);
	/* No transport parameter: nta binds UDP and TCP on the address. */
	ctx->agent = nta_agent_create(ctx->root, URL_STRING_MAKE(u), on_stray, t, NTATAG_UA(1),
				      NTATAG_SERVER_RPORT(1), TAG_END());
	if (!ctx->agent) {
		listen_error(t, &t->cfg.listen[0]);
		goto fail;
	}
	for (unsigned i = 1; i < t->cfg.n_listen; i++) {
		url_for(url, sizeof(url), &t->cfg.listen[i]);
		if (nta_agent_add_tport(ctx->agent, URL_STRING_MAKE(u), TAG_END()) < 0) {
			listen_error(t, &t->cfg.listen[i]);
			goto fail;
		}
	}
	ctx->leg = nta_leg_tcreate(ctx->agent, on_request, t, NTATAG_NO_DIALOG(1), TAG_END());
	if (!ctx->leg) {
		snprintf(t->err, sizeof(t->err), "cannot create the default SIP leg");
		goto fail;
	}

	pthread_mutex_lock(&t->lock);
	record_listeners(t);
	su_task_copy(t->task, su_root_task(ctx->root));
	pthread_mutex_unlock(&t->lock);
	set_state(t, 1);

	su_root_run(ctx->root);

	pthread_mutex_lock(&t->lock);
	t->state = 2;
	su_task_deinit(t->task);
	pthread_mutex_unlock(&t->lock);
	nta_leg_destroy(ctx->leg);
	nta_agent_destroy(ctx->agent);
	su_root_destroy(ctx->root);
	su_deinit();
	unsigned long dropped = sofia_log_dropped_transactions();
	if (dropped)
		log_info("%lu SIP transactions were still open at shutdown", dropped);
	return NULL;

fail:
	if (ctx->leg)
		nta_leg_destroy(ctx->leg);
	if (ctx->agent)
		nta_agent_destroy(ctx->agent);
	if (ctx->root)
		su_root_destroy(ctx->root);
	su_deinit();
	set_state(t, -1);
	return NULL;
}

int sip_thread_start(sip_thread_t **out, struct config const *cfg, char *err, size_t errlen)
{
	sip_thread_t *t = calloc(1, sizeof(*t));
	int ret = 0;

	if (!t)
		return -ENOMEM;
	t->cfg = *cfg;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
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
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
	return ret;
}

void sip_thread_stop(sip_thread_t *t)
{
	if (!t)
		return;
	if (send_cmd(t, SIP_CMD_QUIT, 0) < 0)
		log_error("cannot tell the SIP thread to stop");
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int sip_thread_set_trace(sip_thread_t *t, bool on)
{
	return send_cmd(t, SIP_CMD_TRACE, on);
}

bool sip_thread_trace(sip_thread_t *t)
{
	return atomic_load(&t->trace);
}

json_t *sip_thread_status(sip_thread_t *t)
{
	json_t *l = json_array();
	pthread_mutex_lock(&t->lock);
	for (unsigned i = 0; i < t->n_listeners; i++)
		json_array_append_new(l, json_string(t->listeners[i]));
	pthread_mutex_unlock(&t->lock);
	return json_pack("{s:o, s:b, s:I, s:I, s:I}", "listeners", l, "trace",
			 atomic_load(&t->trace), "requests", (json_int_t)atomic_load(&t->requests),
			 "options", (json_int_t)atomic_load(&t->options), "not_implemented",
			 (json_int_t)atomic_load(&t->not_implemented));
}
