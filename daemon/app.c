/*
 * The SIP thread's modules, made, wired and ticked (see daemon/app.h). This
 * is the one file that knows every module on the SIP thread: which methods
 * each serves, who writes what behind, and what a new directory reaches.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/su.h>
#include <sofia-sip/tport.h>

#include "b2bua/b2bua.h"
#include "b2bua/features.h"
#include "daemon/app.h"
#include "daemon/cidr.h"
#include "daemon/log.h"
#include "daemon/settings.h"
#include "daemon/text.h"
#include "daemon/thread.h"
#include "registrar/registrar.h"
#include "sip/hosts.h"

#define LOG_TAG "sip"

struct app {
	struct app_start start; /* dir and bindings only until the SIP thread started */
	registrar_t *registrar;
	b2bua_t *b2bua;
	features_t *features;
	hosts_t *hosts;			       /* the trunks' hosts, kept resolved */
	nta_agent_t *agent;
	char allow[CONFIG_LIST_MAX];	       /* [sip] allow: "" any source */
	_Atomic unsigned long bindings, calls; /* for status, from any thread */
	_Atomic unsigned long not_allowed;     /* requests from outside [sip] allow */
};

/* The trunks' registrar and proxy hosts of dir, to keep resolved. */
static void sync_hosts(app_t *a, directory_t const *dir)
{
	size_t n = directory_count_trunks(dir), k = 0;
	char const **names = calloc(2 * n + 1, sizeof(*names));
	char const **owners = calloc(2 * n + 1, sizeof(*owners));
	if (names && owners) {
		for (size_t i = 0; i < n; i++) {
			struct dir_trunk const *t = directory_trunk_at(dir, i);
			names[k] = t->registrar, owners[k++] = t->name;
			if (t->proxy)
				names[k] = t->proxy, owners[k++] = t->name;
		}
		hosts_set(a->hosts, names, owners, k);
	}
	free(names);
	free(owners);
}

/* ---- write-behind: registrations and call records ---- */

enum batch_kind { BATCH_BINDINGS, BATCH_CDRS };

/* An array of changes handed to the store thread and written in one transaction. */
struct batch {
	enum batch_kind kind;
	void *items;
	size_t n;
};

static char const *batch_what(enum batch_kind kind)
{
	return kind == BATCH_BINDINGS ? "binding changes" : "call records";
}

static void batch_run(store_t *s, void *arg)
{
	struct batch *bt = arg;
	struct store_err e = { 0 };
	ASSERT_THREAD(STORE);
	int err = bt->kind == BATCH_BINDINGS ? store_binding_apply(s, bt->items, bt->n, &e)
					     : store_cdr_add(s, bt->items, bt->n, &e);
	if (err < 0)
		log_error("writing %zu %s: %s", bt->n, batch_what(bt->kind), e.msg);
	free(bt->items);
	free(bt);
}

/* Takes items (malloc'd) whatever happens. */
static void batch_submit(app_t *a, enum batch_kind kind, void *items, size_t n)
{
	struct batch *bt = malloc(sizeof(*bt));
	if (bt && a->start.changes.store) {
		*bt = (struct batch){ kind, items, n };
		if (store_worker_submit(a->start.changes.store, batch_run, NULL, bt) == 0)
			return;
		log_error("%zu %s lost: the store is stopping", n, batch_what(kind));
	}
	free(items);
	free(bt);
}

/* The lines of a batch of binding changes, each once, with what is registered now. */
static void regs_changed(app_t *a, struct store_binding const *b, size_t n)
{
	struct registrar_peer_reg *regs = calloc(n ? n : 1, sizeof(*regs));
	size_t k = 0;
	if (!regs)
		return;
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		for (size_t j = 0; j < k && !seen; j++)
			seen = !strcmp(regs[j].dn, b[i].dn);
		if (seen)
			continue;
		struct registrar_peer_reg *r = &regs[k++];
		char const *device;
		text_copy(r->dn, sizeof(r->dn), b[i].dn);
		r->expires_at = (long long)registrar_line_expires(a->registrar, b[i].dn, &device);
		text_copy(r->device, sizeof(r->device), device);
	}
	a->start.regs_changed(a->start.regs_arg, regs, k);
}

static void binding_sink(struct store_binding *b, size_t n, void *arg)
{
	app_t *a = arg;
	if (a->start.regs_changed && n)
		regs_changed(a, b, n);
	batch_submit(arg, BATCH_BINDINGS, b, n);
}

static void cdr_sink(struct store_cdr *c, size_t n, void *arg)
{
	batch_submit(arg, BATCH_CDRS, c, n);
}

/* ---- feature changes made by phones ---- */

struct feature_change {
	char dn[33];
	int dnd;
	char cfwd_all[33];
	bool set_all;
};

static int feature_apply(store_t *s, void *arg, struct store_err *e)
{
	struct feature_change *f = arg;
	struct store_line_features lf = {
		.dn = f->dn,
		.dnd = f->dnd,
		.cfwd_all = f->set_all ? f->cfwd_all : NULL,
		.noanswer_timeout = -1,
	};
	return store_line_set(s, &lf, e);
}

static void feature_done(void *arg, int err, struct store_err const *e)
{
	struct feature_change *f = arg;
	if (err < 0)
		log_error("storing a phone's feature change for DN %s: %s", f->dn, e->msg);
	free(f);
}

/* SIP thread: a phone changed DND or call forward all; stored, then the new directory. */
static void feature_changed(struct store_line_features const *lf, void *arg)
{
	app_t *a = arg;
	struct feature_change *f = calloc(1, sizeof(*f));
	if (!f)
		return;
	snprintf(f->dn, sizeof(f->dn), "%s", lf->dn);
	f->dnd = lf->dnd;
	if (lf->cfwd_all) {
		f->set_all = true;
		snprintf(f->cfwd_all, sizeof(f->cfwd_all), "%s", lf->cfwd_all);
	}
	if (change_submit(&a->start.changes, feature_apply, feature_done, f) < 0) {
		log_error("a phone's feature change for DN %s is lost: the store is stopping",
			  lf->dn);
		free(f);
	}
}

/* ---- handlers ---- */

/*
 * [sip] allow: a request from outside the ranges gets no answer; its
 * connection (TCP, TLS) is closed. The trunks' providers are always let in.
 */
static bool outside_allow(app_t *a, msg_t *msg)
{
	char ip[64] = "";
	su_addrinfo_t const *ai = msg_addrinfo(msg);
	su_sockaddr_t const *su = ai ? (su_sockaddr_t const *)ai->ai_addr : NULL;
	if (!a->allow[0])
		return false;
	if (!su || !su_inet_ntop(su->su_family, SU_ADDR(su), ip, sizeof(ip)))
		return true;
	if (cidr_list_match(a->allow, ip) || hosts_owner(a->hosts, ip))
		return false;
	unsigned long n = atomic_fetch_add(&a->not_allowed, 1) + 1;
	if (n == 1 || n % 1000 == 0)
		log_notice("a request from %s is outside [sip] allow: not answered (%lu so far)", ip,
			   n);
	tport_t *tp = tport_delivered_by(nta_agent_tports(a->agent), msg);
	if (tp && tport_is_reliable(tp) && tport_is_secondary(tp))
		tport_shutdown(tp, 2);
	return true;
}

static bool banned(void *ctx, msg_t *msg)
{
	app_t *a = ctx;
	return outside_allow(a, msg) || registrar_source_banned(a->registrar, msg);
}

static void on_register(void *ctx, msg_t *msg, sip_t *sip)
{
	app_t *a = ctx;
	registrar_handle(a->registrar, msg, sip);
}

static void on_invite(void *ctx, msg_t *msg, sip_t *sip)
{
	app_t *a = ctx;
	b2bua_invite(a->b2bua, msg, sip);
}

static void on_publish(void *ctx, msg_t *msg, sip_t *sip)
{
	app_t *a = ctx;
	features_publish(a->features, msg, sip);
}

static void on_refer(void *ctx, msg_t *msg, sip_t *sip)
{
	app_t *a = ctx;
	features_refer(a->features, msg, sip);
}

static void on_notify(void *ctx, msg_t *msg, sip_t *sip)
{
	app_t *a = ctx;
	features_notify(a->features, msg, sip);
}

static void on_registered(struct dir_device const *dev, char const *dn, void *arg)
{
	app_t *a = arg;
	if (a->features)
		features_registered(a->features, dev, dn);
}

/* ---- hooks ---- */

static int app_start(void *arg, struct sip_env const *env, char *err, size_t errlen)
{
	app_t *a = arg;
	struct app_start *st = &a->start;
	ASSERT_THREAD(SIP);
	if (hosts_create(&a->hosts, env->root, env->cfg->resolv_conf) < 0) {
		snprintf(err, errlen, "cannot create the DNS resolver for the trunks' hosts");
		return -1;
	}
	a->agent = env->agent;
	snprintf(a->allow, sizeof(a->allow), "%s", env->cfg->allow);
	struct registrar_config rc;
	app_registrar_settings(&rc, env->cfg);
	if (registrar_create(&a->registrar, env->agent, &rc, st->nonce_secret, binding_sink, a) <
	    0) {
		snprintf(err, errlen, "cannot create the registrar");
		return -1;
	}
	registrar_set_directory(a->registrar, st->dir);
	registrar_set_hosts(a->registrar, a->hosts);
	sync_hosts(a, st->dir);
	st->dir = NULL;
	for (size_t i = 0; i < st->n_bindings; i++)
		registrar_restore(a->registrar, &st->bindings[i]);
	if (st->n_bindings)
		log_notice("%zu registration%s restored from the database", st->n_bindings,
			   st->n_bindings == 1 ? "" : "s");
	st->bindings = NULL;
	st->n_bindings = 0;
	atomic_store(&a->bindings, registrar_count(a->registrar));
	struct b2bua_config bc;
	app_b2bua_settings(&bc, env->cfg);
	bc.trunks.standby = st->trunks_standby;
	if (b2bua_create(&a->b2bua, env->root, env->agent, a->registrar, &bc, cdr_sink,
			 feature_changed, a) < 0) {
		snprintf(err, errlen, "cannot create the call handling");
		return -1;
	}
	b2bua_set_call_prefix(a->b2bua, st->call_prefix ? st->call_prefix : "sipreg-0");
	b2bua_set_hosts(a->b2bua, a->hosts);
	b2bua_directory_changed(a->b2bua, registrar_directory(a->registrar));
	if (features_create(&a->features, env->agent, a->registrar, feature_changed, a) < 0) {
		snprintf(err, errlen, "cannot create the feature handling");
		return -1;
	}
	registrar_set_on_register(a->registrar, on_registered, a);

	sip_dispatch_t *d = env->dispatch;
	sip_dispatch_gate(d, banned, a);
	if (sip_dispatch_on(d, sip_method_register, on_register, a) < 0 ||
	    sip_dispatch_on(d, sip_method_invite, on_invite, a) < 0 ||
	    sip_dispatch_on(d, sip_method_publish, on_publish, a) < 0 ||
	    sip_dispatch_on(d, sip_method_refer, on_refer, a) < 0 ||
	    sip_dispatch_on(d, sip_method_notify, on_notify, a) < 0) {
		snprintf(err, errlen, "cannot register the request handlers");
		return -1;
	}
	return 0;
}

static void app_figures(void *arg)
{
	app_t *a = arg;
	atomic_store(&a->bindings, registrar_count(a->registrar));
	atomic_store(&a->calls, b2bua_count(a->b2bua));
}

static void app_tick(void *arg, time_t now)
{
	app_t *a = arg;
	registrar_tick(a->registrar, now);
	b2bua_tick(a->b2bua);
	app_figures(a);
}

static void app_connections(void *arg, void (*each)(tport_t *tp, void *ctx), void *ctx)
{
	app_t *a = arg;
	registrar_foreach_conn(a->registrar, each, ctx);
}

static void app_apply_config(void *arg, struct config const *cfg)
{
	app_t *a = arg;
	struct registrar_config rc;
	app_registrar_settings(&rc, cfg);
	registrar_set_config(a->registrar, &rc);
	struct b2bua_config bc;
	app_b2bua_settings(&bc, cfg);
	b2bua_set_config(a->b2bua, &bc);
	snprintf(a->allow, sizeof(a->allow), "%s", cfg->allow);
}

static void app_status(void *arg, json_t *obj)
{
	app_t *a = arg;
	json_object_set_new(obj, "bindings", json_integer((json_int_t)atomic_load(&a->bindings)));
	json_object_set_new(obj, "calls", json_integer((json_int_t)atomic_load(&a->calls)));
	json_object_set_new(obj, "not_allowed",
			    json_integer((json_int_t)atomic_load(&a->not_allowed)));
}

static void app_stop(void *arg)
{
	app_t *a = arg;
	ASSERT_THREAD(SIP);
	features_destroy(a->features);
	a->features = NULL;
	b2bua_destroy(a->b2bua);
	a->b2bua = NULL;
	a->start.regs_changed = NULL; /* the registrar's last batch is its teardown's */
	registrar_destroy(a->registrar);
	a->registrar = NULL;
	hosts_destroy(a->hosts);
	a->hosts = NULL;
}

/* ---- life ---- */

int app_create(app_t **out, struct app_start const *start)
{
	app_t *a = calloc(1, sizeof(*a));
	if (!a) {
		directory_destroy(start->dir);
		return -ENOMEM;
	}
	a->start = *start;
	*out = a;
	return 0;
}

void app_hooks(app_t *a, struct sip_hooks *h)
{
	*h = (struct sip_hooks){
		.start = app_start,
		.tick = app_tick,
		.connections = app_connections,
		.apply_config = app_apply_config,
		.after_call = app_figures,
		.status = app_status,
		.stop = app_stop,
		.arg = a,
	};
}

void app_destroy(app_t *a)
{
	if (!a)
		return;
	directory_destroy(a->start.dir); /* when the SIP thread never took it */
	free(a);
}

nta_agent_t *app_agent(sip_thread_t *t)
{
	ASSERT_THREAD(SIP);
	return ((app_t *)sip_thread_app(t))->agent;
}

registrar_t *app_registrar(sip_thread_t *t)
{
	ASSERT_THREAD(SIP);
	return ((app_t *)sip_thread_app(t))->registrar;
}

b2bua_t *app_b2bua(sip_thread_t *t)
{
	ASSERT_THREAD(SIP);
	return app_b2bua_of(sip_thread_app(t));
}

b2bua_t *app_b2bua_of(app_t *a)
{
	return a->b2bua;
}

void app_install_directory(sip_thread_t *t, directory_t *d)
{
	ASSERT_THREAD(SIP);
	app_t *a = sip_thread_app(t);
	directory_t *old = registrar_swap_directory(a->registrar, d);
	sync_hosts(a, d);
	b2bua_directory_changed(a->b2bua, d);
	if (a->features)
		features_directory_changed(a->features, old, d);
	directory_destroy(old);
	atomic_store(&a->bindings, registrar_count(a->registrar));
}
