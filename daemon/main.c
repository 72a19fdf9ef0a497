/*
 * sipregd: start-up, the main thread's event loop (control socket, signals)
 * and orderly shutdown. See docs/design.md for the threads.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config.h"
#include "daemon/log.h"
#include "daemon/pair.h"
#include "ctl/server.h"
#include "daemon/app.h"
#include "daemon/thread.h"
#include "daemon/tlsd.h"
#include "ha/ha.h"
#include "tls/tls.h"
#include "sip/thread.h"
#include "store/store.h"
#include "store/worker.h"

#define LOG_TAG "main"

struct daemon {
	struct config cfg;
	char const *config_path; /* NULL: embedded defaults */
	char store_path[PATH_MAX];
	char ctl_path[PATH_MAX];
	time_t started;
	int schema;
	struct event_base *base;
	store_worker_t *store_worker;
	sip_thread_t *sip;
	app_t *app;
	ctl_server_t *ctl;
	struct event *tls_daily; /* the certificates' expiry, looked at once a day */
	ha_t *ha;		 /* the node of a pair; NULL alone */
	pair_t *pair;		 /* its link and its SIP thread wired together; NULL alone */
};

static char const usage_text[] =
	"usage: sipregd [-c FILE] [-f] [--check-config]\n"
	"\n"
	"  -c, --config FILE   read FILE (default: embedded defaults, no file)\n"
	"  -f, --foreground    stay in the foreground and log to the configured target\n"
	"      --check-config  check the configuration and exit (opens no sockets)\n"
	"  -V, --version       print the version\n"
	"  -h, --help          this text\n";

/* Makes a path absolute against the start directory, so a detached daemon keeps it. */
static int absolute_path(char *out, size_t len, char const *path)
{
	char cwd[PATH_MAX];
	if (path[0] == '/') {
		snprintf(out, len, "%s", path);
		return 0;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	if ((size_t)snprintf(out, len, "%s/%s", cwd, path) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* ---- the control socket's view of the daemon ---- */

static json_t *on_status(void *arg)
{
	struct daemon *d = arg;
	return json_pack("{s:s, s:I, s:I, s:s, s:s, s:i, s:s, s:o, s:o, s:o}", "version",
			 PACKAGE_VERSION, "pid", (json_int_t)getpid(), "uptime",
			 (json_int_t)(time(NULL) - d->started), "realm", d->cfg.realm, "store",
			 d->store_path, "schema", d->schema, "log_level",
			 log_level_name(log_get_level()), "sip",
			 d->sip ? sip_thread_status(d->sip) : json_object(), "tls",
			 tlsd_status(&d->cfg), "ha", ha_status(d->ha));
}

static ha_t *on_ha(void *arg)
{
	struct daemon *d = arg;
	return d->ha;
}

static json_t *on_config(void *arg)
{
	struct daemon *d = arg;
	json_t *listen = json_array();
	for (unsigned i = 0; i < d->cfg.n_listen; i++) {
		char buf[96];
		config_listen_format(&d->cfg.listen[i], buf, sizeof(buf));
		json_array_append_new(listen, json_string(buf));
	}
	static char const *const algs[] = { "default", "md5", "sha256", "both" };
	json_t *o = json_pack(
		"{s:s?, s:{s:o, s:s}, s:{s:s, s:i}, s:{s:s}, s:{s:s, s:s}, "
		"s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i, s:i, s:i, s:s, s:i}}",
		"file", d->config_path, "sip", "listen", listen, "realm", d->cfg.realm, "store",
		"path", d->store_path, "flush_interval_ms", (int)d->cfg.store_flush_ms, "ctl",
		"socket", d->ctl_path, "log", "level", log_level_name(log_get_level()), "target",
		d->cfg.log_target == LOG_TARGET_SYSLOG ? "syslog" : "stderr", "security",
		"ban_failures", (int)d->cfg.ban_failures, "ban_window", (int)d->cfg.ban_window,
		"ban_time", (int)d->cfg.ban_time, "registrar", "min_expires",
		(int)d->cfg.min_expires, "max_expires", (int)d->cfg.max_expires, "default_expires",
		(int)d->cfg.default_expires, "cucm_max_expires", (int)d->cfg.cucm_max_expires,
		"nonce_lifetime", (int)d->cfg.nonce_lifetime, "digest_algs",
		algs[d->cfg.digest_algs & 3], "max_contacts", (int)d->cfg.max_contacts);
	if (!o)
		return NULL;
	json_object_set_new(json_object_get(o, "registrar"), "device_contacts",
			    json_integer(d->cfg.device_contacts));
	json_object_set_new(json_object_get(o, "sip"), "resolv_conf",
			    json_string(d->cfg.resolv_conf[0] ? d->cfg.resolv_conf : "(system)"));
	json_t *sip = json_object_get(o, "sip");
	json_object_set_new(sip, "tcp_message_timeout", json_integer(d->cfg.tcp_message_timeout));
	json_object_set_new(sip, "tcp_idle_timeout", json_integer(d->cfg.tcp_idle_timeout));
	json_object_set_new(sip, "tcp_max_per_source", json_integer(d->cfg.tcp_max_per_source));
	json_object_set_new(sip, "tcp_backlog", json_integer(d->cfg.tcp_backlog));
	json_object_set_new(json_object_get(o, "registrar"), "identify_from",
			    json_string(d->cfg.identify_from));
	json_object_set_new(json_object_get(o, "security"), "ban_exempt",
			    json_string(d->cfg.ban_exempt));
	json_object_set_new(json_object_get(o, "sip"), "server_header",
			    json_string(d->cfg.server_header));
	json_object_set_new(json_object_get(o, "sip"), "advertise",
			    d->cfg.advertise[0] ? json_string(d->cfg.advertise) : json_null());
	json_object_set_new(
		o, "calls",
		json_pack("{s:i, s:i, s:i, s:i}", "ring_timeout", (int)d->cfg.ring_timeout,
			  "line_calls", (int)d->cfg.line_calls, "dnd_response",
			  (int)d->cfg.dnd_response, "max_forks", (int)d->cfg.max_forks));
	json_object_set_new(o, "trunks",
			    json_pack("{s:i, s:i, s:i}", "retry_min", (int)d->cfg.trunk_retry_min,
				      "retry_max", (int)d->cfg.trunk_retry_max, "keepalive",
				      (int)d->cfg.trunk_keepalive));
	json_object_set_new(o, "dialplan",
			    json_pack("{s:s, s:s}", "emergency", d->cfg.emergency, "restricted",
				      d->cfg.restricted));
	return o;
}

static void set_level(enum log_level level)
{
	log_set_level(level);
	sofia_log_set_level(level);
}

static void on_set_log_level(void *arg, enum log_level level)
{
	(void)arg;
	set_level(level);
}

static int on_set_trace(void *arg, bool on)
{
	struct daemon *d = arg;
	return d->sip ? sip_thread_set_trace(d->sip, on) : -ESRCH;
}

static sip_thread_t *on_sip(void *arg)
{
	struct daemon *d = arg;
	return d->sip;
}

static struct config const *on_settings(void *arg)
{
	struct daemon *d = arg;
	return &d->cfg;
}

static void apply_config(sip_thread_t *t, void *arg)
{
	sip_thread_apply_config(t, arg);
}

/* ---- bindings read back at start ---- */

struct restored {
	struct store_binding *b;
	size_t n, cap;
};

static void collect_binding(struct store_binding const *b, void *arg)
{
	struct restored *r = arg;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 256;
		struct store_binding *nb = realloc(r->b, nc * sizeof(*nb));
		if (!nb)
			return;
		r->b = nb;
		r->cap = nc;
	}
	r->b[r->n++] = *b;
}

/* ---- signals ---- */

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	(void)what;
	log_notice("%s received: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	event_base_loopexit(d->base, NULL);
}

/*
 * SIGHUP: reads the file again and applies what can change at run time.
 * The realm cannot: every stored HA1 is bound to it.
 */
static void on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct config next;
	char err[600];
	(void)sig, (void)what;

	if (!d->config_path) {
		log_notice("SIGHUP received: running on embedded defaults, nothing to reload");
		return;
	}
	config_defaults(&next);
	if (config_load(&next, d->config_path, err, sizeof(err)) < 0) {
		log_error("reload refused, configuration unchanged: %s", err);
		return;
	}
	if (strcmp(next.realm, d->cfg.realm) != 0) {
		log_error("reload: [sip] realm cannot change at run time (stored digests depend on "
			  "it); still using '%s', restart sipregd to use '%s'",
			  d->cfg.realm, next.realm);
		snprintf(next.realm, sizeof(next.realm), "%s", d->cfg.realm);
	}
	bool listen_same = next.n_listen == d->cfg.n_listen &&
			   memcmp(next.listen, d->cfg.listen, sizeof(next.listen)) == 0;
	char resolv[CONFIG_PATH_MAX] = "";
	if (next.resolv_conf[0] && absolute_path(resolv, sizeof(resolv), next.resolv_conf) == 0)
		snprintf(next.resolv_conf, sizeof(next.resolv_conf), "%s", resolv);
	if (!listen_same || strcmp(next.store_path, d->cfg.store_path) ||
	    strcmp(next.ctl_socket, d->cfg.ctl_socket) ||
	    strcmp(next.resolv_conf, d->cfg.resolv_conf) ||
	    next.store_flush_ms != d->cfg.store_flush_ms || next.tcp_backlog != d->cfg.tcp_backlog)
		log_warning("reload: changes to [sip] listen, tcp_backlog and resolv_conf, [store] "
			    "and [ctl] take effect at the next restart");
	/* Keep what runs now for the keys that need a restart. */
	memcpy(next.listen, d->cfg.listen, sizeof(next.listen));
	next.n_listen = d->cfg.n_listen;
	snprintf(next.store_path, sizeof(next.store_path), "%s", d->cfg.store_path);
	snprintf(next.ctl_socket, sizeof(next.ctl_socket), "%s", d->cfg.ctl_socket);
	next.store_flush_ms = d->cfg.store_flush_ms;
	next.tcp_backlog = d->cfg.tcp_backlog;
	snprintf(next.resolv_conf, sizeof(next.resolv_conf), "%s", d->cfg.resolv_conf);
	if (next.n_listen_tls != d->cfg.n_listen_tls ||
	    memcmp(next.listen_tls, d->cfg.listen_tls, sizeof(next.listen_tls)) ||
	    next.tls_legacy != d->cfg.tls_legacy ||
	    strcmp(next.tls_trunk_ca, d->cfg.tls_trunk_ca))
		log_warning("reload: changes to [sip] listen_tls and [tls] take effect at the next "
			    "restart");
	memcpy(next.listen_tls, d->cfg.listen_tls, sizeof(next.listen_tls));
	next.n_listen_tls = d->cfg.n_listen_tls;
	next.tls_legacy = d->cfg.tls_legacy;
	snprintf(next.tls_dir, sizeof(next.tls_dir), "%s", d->cfg.tls_dir);
	snprintf(next.tls_trunk_ca, sizeof(next.tls_trunk_ca), "%s", d->cfg.tls_trunk_ca);
	if (next.ha_role != d->cfg.ha_role || memcmp(&next.ha_listen, &d->cfg.ha_listen,
						     sizeof(next.ha_listen)) ||
	    memcmp(&next.ha_peer, &d->cfg.ha_peer, sizeof(next.ha_peer)) ||
	    strcmp(next.ha_node_id, d->cfg.ha_node_id) ||
	    next.ha_journal_keep != d->cfg.ha_journal_keep ||
	    next.ha_journal_age != d->cfg.ha_journal_age ||
	    memcmp(&next.ha_sip, &d->cfg.ha_sip, sizeof(next.ha_sip)))
		log_warning("reload: changes to [ha] (but token_rate and trunk_takeover) take "
			    "effect at the next restart");
	next.ha_role = d->cfg.ha_role;
	next.ha_listen = d->cfg.ha_listen;
	next.ha_peer = d->cfg.ha_peer;
	memcpy(next.ha_node_id, d->cfg.ha_node_id, sizeof(next.ha_node_id));
	next.ha_journal_keep = d->cfg.ha_journal_keep;
	next.ha_journal_age = d->cfg.ha_journal_age;
	next.ha_sip = d->cfg.ha_sip;

	d->cfg = next;
	ha_config_reloaded(d->ha, &next);
	log_set_target(next.log_target);
	set_level(next.log_level);
	/*
	 * The SIP thread gets a copy of its own, freed on the main thread once
	 * applied: d->cfg may change again (another SIGHUP) while it reads.
	 */
	struct config *copy = malloc(sizeof(*copy));
	if (copy)
		*copy = next;
	if (!copy || sip_thread_call(d->sip, apply_config, free, copy) < 0) {
		free(copy);
		log_error("reload: the SIP thread did not take the new settings");
	}
	log_notice("configuration reloaded from %s: log level %s, ban after %u failure%s in %u s "
		   "for %u s",
		   d->config_path, log_level_name(next.log_level), next.ban_failures,
		   next.ban_failures == 1 ? "" : "s", next.ban_window, next.ban_time);
}

static void on_tls_daily(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	(void)fd, (void)what;
	tlsd_expiry_check(d->cfg.tls_dir);
}

/* ---- start and stop ---- */

/*
 * Every TCP phone holds a connection, so a descriptor: the soft limit on
 * open files (often 1,024) goes up to the hard one. sofia and libevent
 * wait with epoll, which has no descriptor ceiling of its own.
 */
static void raise_open_files(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rlim_t was = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warning("cannot raise the open files limit from %llu: %s",
			    (unsigned long long)was, strerror(errno));
	else
		log_info("open files limit raised from %llu to %llu", (unsigned long long)was,
			 (unsigned long long)rl.rlim_cur);
}

/*
 * This node's name in call ids: the host name's first label, letters,
 * digits and '-' only, at most 32 characters ("sipreg" when there is none).
 */
static void node_name(char *out, size_t len)
{
	char host[256] = "";
	size_t n = 0;
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	for (char const *p = host; *p && *p != '.' && n + 1 < len; p++)
		if (isalnum((unsigned char)*p) || *p == '-')
			out[n++] = *p;
	out[n] = '\0';
	if (!n)
		snprintf(out, len, "%s", "sipreg");
}

static int detach(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return chdir("/") < 0 ? -errno : 0;
}

static int run(struct daemon *d, bool foreground)
{
	struct store_err serr = { 0 };
	store_t *store = NULL;
	char err[600];
	int rc = 1;
	struct event *ev_term = NULL, *ev_int = NULL, *ev_hup = NULL;
	directory_t *dir = NULL;
	struct restored restored = { 0 };
	char secret[80];
	int rc_sip;

	if (absolute_path(d->store_path, sizeof(d->store_path), d->cfg.store_path) < 0 ||
	    absolute_path(d->ctl_path, sizeof(d->ctl_path), d->cfg.ctl_socket) < 0) {
		log_error("cannot resolve the store and control socket paths");
		return 1;
	}
	if (d->cfg.resolv_conf[0]) {
		char resolv[CONFIG_PATH_MAX];
		if (absolute_path(resolv, sizeof(resolv), d->cfg.resolv_conf) < 0 ||
		    access(resolv, R_OK) < 0) {
			log_error("[sip] resolv_conf %s cannot be read: %s", d->cfg.resolv_conf,
				  strerror(errno));
			return 1;
		}
		snprintf(d->cfg.resolv_conf, sizeof(d->cfg.resolv_conf), "%s", resolv);
	}
	char warn[400];
	if (tlsd_prepare(&d->cfg, err, sizeof(err), warn, sizeof(warn)) < 0) {
		log_error("%s", err);
		return 1;
	}
	if (warn[0])
		log_warning("%s", warn);
	if (d->cfg.tls_legacy)
		log_warning("[tls] legacy = yes: TLS 1.0 and OpenSSL security level 0 are allowed on "
			    "the SIP TLS listener and toward TLS trunks (sipregd's own TLS clients "
			    "keep TLS 1.2 and level 2)");
	if (!foreground) {
		if (d->cfg.log_target == LOG_TARGET_STDERR)
			log_set_target(LOG_TARGET_SYSLOG);
		if (detach() < 0) {
			log_error("cannot detach: %s", strerror(errno));
			return 1;
		}
	}
	d->started = time(NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_open_files();
	if (evthread_use_pthreads() < 0 || !(d->base = event_base_new())) {
		log_error("cannot create the event loop");
		return 1;
	}
	if (store_open(&store, d->store_path, d->cfg.realm, &serr) < 0) {
		log_error("%s", serr.msg);
		goto out;
	}
	d->schema = store_schema_version(store);
	/* Read what the SIP thread starts with while the store is still ours alone. */
	if (store_directory_load(store, &dir, &serr) < 0 ||
	    store_nonce_secret(store, secret, sizeof(secret), &serr) < 0 ||
	    store_binding_load(store, (long long)time(NULL), collect_binding, &restored, &serr) <
		    0) {
		log_error("%s", serr.msg);
		goto out;
	}
	char node[33], call_prefix[64];
	unsigned long long run = 0;
	if (d->cfg.ha_node_id[0])
		snprintf(node, sizeof(node), "%s", d->cfg.ha_node_id);
	else
		node_name(node, sizeof(node));
	if (ha_create(&d->ha, &d->cfg, node, store, d->store_path, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	if (store_next_run(store, node, &run, &serr) < 0) {
		log_error("%s", serr.msg);
		goto out;
	}
	snprintf(call_prefix, sizeof(call_prefix), "%s-%llu", node, run);
	if (store_worker_start(&d->store_worker, store, d->base) < 0) {
		log_error("cannot start the store thread");
		goto out;
	}
	sofia_log_redirect();
	sofia_log_set_level(log_get_level());
	struct app_start as = {
		.changes = { d->store_worker, on_sip, d },
		.dir = dir,
		.bindings = restored.b,
		.n_bindings = restored.n,
		.nonce_secret = secret,
		.call_prefix = call_prefix,
	};
	if (d->ha) {
		if (pair_create(&d->pair, d->base, d->ha, on_sip, d) < 0) {
			log_error("out of memory");
			goto out;
		}
		as.trunks_standby = ha_trunks_held(d->ha);
		as.regs_changed = pair_regs_changed;
		as.regs_arg = d->pair;
	}
	dir = NULL; /* the application's now, even if it cannot be made */
	if (app_create(&d->app, &as) < 0) {
		log_error("out of memory");
		goto out;
	}
	tlsd_prepare_trunks(&d->cfg);
	struct sip_start start = { .cfg = &d->cfg, .base = d->base };
	app_hooks(d->app, &start.hooks);
	rc_sip = sip_thread_start(&d->sip, &start, err, sizeof(err));
	tlsd_forget_trunks(&d->cfg); /* read by sofia: nothing stays behind */
	free(restored.b);
	restored.b = NULL;
	if (rc_sip < 0) {
		log_error("%s", err);
		goto out;
	}
	if (ha_run(d->ha, d->base, d->store_worker, &as.changes, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	struct ctl_handlers h = { on_status, on_config,	  on_set_log_level, on_set_trace,
				  on_sip,    on_settings, on_ha,	    d };
	if (ctl_server_start(&d->ctl, d->base, d->ctl_path, d->store_worker, &h, err, sizeof(err)) <
	    0) {
		log_error("%s", err);
		goto out;
	}
	ev_term = evsignal_new(d->base, SIGTERM, on_stop_signal, d);
	ev_int = evsignal_new(d->base, SIGINT, on_stop_signal, d);
	ev_hup = evsignal_new(d->base, SIGHUP, on_reload_signal, d);
	if (!ev_term || !ev_int || !ev_hup || evsignal_add(ev_term, NULL) < 0 ||
	    evsignal_add(ev_int, NULL) < 0 || evsignal_add(ev_hup, NULL) < 0) {
		log_error("cannot watch signals");
		goto out;
	}

	d->tls_daily = event_new(d->base, -1, EV_PERSIST, on_tls_daily, d);
	struct timeval day = { 86400, 0 };
	if (d->tls_daily)
		event_add(d->tls_daily, &day);
	tlsd_expiry_check(d->cfg.tls_dir);

	json_t *st = sip_thread_status(d->sip);
	char *listeners = json_dumps(json_object_get(st, "listeners"), JSON_COMPACT);
	log_notice("sipregd %s ready: SIP %s, realm %s, database %s (schema %d), control %s",
		   PACKAGE_VERSION, listeners ? listeners : "?", d->cfg.realm, d->store_path,
		   d->schema, d->ctl_path);
	free(listeners);
	json_decref(st);

	event_base_dispatch(d->base);
	rc = 0;
out:
	/*
	 * Order matters: no new SIP work, then every queued store job runs and
	 * is answered, then the control socket goes, then the database closes.
	 */
	sip_thread_stop(d->sip);
	/* Store jobs still finishing must not reach the stopped SIP thread. */
	d->sip = NULL;
	app_destroy(d->app);
	d->app = NULL;
	store_worker_stop(d->store_worker);
	pair_destroy(d->pair); /* after the SIP thread: what it posted reaches the link */
	d->pair = NULL;
	ha_destroy(d->ha); /* after the store thread: its last completions may reach it */
	d->ha = NULL;
	ctl_server_stop(d->ctl);
	store_close(store);
	directory_destroy(dir);
	free(restored.b);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (ev_term)
		event_free(ev_term);
	if (ev_int)
		event_free(ev_int);
	if (ev_hup)
		event_free(ev_hup);
	if (d->tls_daily)
		event_free(d->tls_daily);
	if (d->base)
		event_base_free(d->base);
	libevent_global_shutdown();
	if (rc == 0)
		log_notice("stopped; database closed");
	return rc;
}

int main(int argc, char **argv)
{
	static struct option const longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	thread_set_role(THREAD_MAIN);
	struct daemon d = { 0 };
	bool foreground = false, check = false;
	int c;

	/*
	 * Nothing sipregd creates is for the group or others: the database and
	 * its journal hold password digests. The control socket alone is opened
	 * to the admin group, explicitly (0660).
	 */
	umask(077);

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:fVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'C':
			check = true;
			break;
		case 'V':
			printf("sipregd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case ':':
			fprintf(stderr, "sipregd: option %s needs a value\n\n%s", argv[optind - 1],
				usage_text);
			return 2;
		default:
			fprintf(stderr, "sipregd: unknown option %s\n\n%s", argv[optind - 1],
				usage_text);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sipregd: unexpected argument '%s'\n\n%s", argv[optind],
			usage_text);
		return 2;
	}

	char err[600];
	config_defaults(&d.cfg);
	if (d.config_path && config_load(&d.cfg, d.config_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "sipregd: %s\n", err);
		return 1;
	}
	/* Before anything initialises OpenSSL (the digest code, sofia's TLS). */
	if (d.cfg.tls_legacy && tls_legacy_enable(err, sizeof(err)) < 0) {
		fprintf(stderr, "sipregd: %s\n", err);
		return 1;
	}
	if (check) {
		char warn[400];
		if (tlsd_prepare(&d.cfg, err, sizeof(err), warn, sizeof(warn)) < 0) {
			fprintf(stderr, "sipregd: %s\n", err);
			return 1;
		}
		if (warn[0])
			fprintf(stderr, "sipregd: warning: %s\n", warn);
		printf("%s: configuration OK\n",
		       d.config_path ? d.config_path : "embedded defaults");
		return 0;
	}
	log_open("sipregd", d.cfg.log_target, d.cfg.log_level);
	int rc = run(&d, foreground);
	log_close();
	return rc;
}
