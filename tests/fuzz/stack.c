/*
 * The SIP side of sipregd in one process for the fuzz harnesses (see
 * stack.h): the same agent options, parser, router and modules as the SIP
 * thread sets up, stepped by hand so every input is handled before the
 * harness returns. Transaction timers are shortened so the state inputs
 * leave behind expires within seconds, as it would within 32 s in sipregd.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NTA_AGENT_MAGIC_T void

#include <event2/event.h>
#include <event2/thread.h>
#include <jansson.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/sresolv.h>
#include <sofia-sip/su_wait.h>

#include "daemon/app.h"
#include "daemon/config.h"
#include "daemon/digest.h"
#include "daemon/log.h"
#include "sip/dispatch.h"
#include "sip/thread.h"
#include "store/store.h"
#include "store/worker.h"
#include "tests/fuzz/stack.h"

static struct {
	char dir[64];
	struct config cfg;
	su_root_t *root;
	nta_agent_t *agent;
	sip_dispatch_t *dispatch;
	struct event_base *base;
	store_t *store;
	store_worker_t *worker;
	app_t *app;
	struct sip_hooks hooks;
	int fd[STACK_PEERS];
	int dns_fd; /* the resolver's server: takes queries, answers none */
	char addr[STACK_PEERS][32];
	char server[32];
	struct sockaddr_in server_sa;
	unsigned long calls;
} S;

static void die(char const *what, char const *why)
{
	fprintf(stderr, "fuzz stack: %s: %s\n", what, why);
	exit(1);
}

static void check(int rc, struct store_err const *e, char const *what)
{
	if (rc < 0)
		die(what, e->msg);
}

static int udp_socket(char const *ip, char *name, size_t len)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int big = 1 << 20;
	if (fd < 0 || inet_pton(AF_INET, ip, &sa.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) < 0)
		die(ip, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	snprintf(name, len, "%s:%u", ip, (unsigned)ntohs(sa.sin_port));
	return fd;
}

/* A port free on 127.0.0.1 for UDP and TCP now (nta binds both). */
static unsigned free_port(void)
{
	for (int i = 0; i < 50; i++) {
		char name[32];
		int u = udp_socket("127.0.0.1", name, sizeof(name));
		unsigned port = (unsigned)atoi(strchr(name, ':') + 1);
		int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons((uint16_t)port) };
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int ok = t >= 0 && bind(t, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(u);
		if (t >= 0)
			close(t);
		if (ok)
			return port;
	}
	die("listen", "no free port on 127.0.0.1");
	return 0;
}

/* The temporary directory goes when the process ends (files first, then it). */
static void remove_dir(void)
{
	char path[128];
	char const *files[] = { "sipreg.db", "sipreg.db-wal", "sipreg.db-shm", "sipreg.db.key",
				"resolv.conf" };
	if (!S.dir[0])
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", S.dir, files[i]);
		unlink(path);
	}
	rmdir(S.dir);
}

static void fixture(void)
{
	struct store_err e = { 0 };
	char path[128];
	snprintf(path, sizeof(path), "%s/sipreg.db", S.dir);
	check(store_open(&S.store, path, STACK_REALM, &e), &e, "store");
	check(store_user_add(S.store, "alice", STACK_PASSWORD, &e), &e, "user alice");
	check(store_user_add(S.store, "bob", STACK_PASSWORD, &e), &e, "user bob");
	check(store_user_add(S.store, "carol", STACK_PASSWORD, &e), &e, "user carol");
	struct store_device_spec d1 = { .name = "SEP001122334455",
					.model = "cisco-7965",
					.digest_user = "alice" };
	struct store_device_spec d2 = { .name = "bob-phone",
					.model = "third-party-advanced",
					.digest_user = "bob",
					.digest_algs = "both",
					.qop = "optional" };
	struct store_device_spec d3 = { .name = "SEP00AABBCCDDEE",
					.model = "cisco-7960",
					.digest_user = "carol",
					.auth = "identify" };
	check(store_device_add(S.store, &d1, &e), &e, "device 1");
	check(store_device_add(S.store, &d2, &e), &e, "device 2");
	check(store_device_add(S.store, &d3, &e), &e, "device 3");
	struct store_line_spec l[] = {
		{ .device = "SEP001122334455", .dn = "100", .display = "Alice" },
		{ .device = "SEP001122334455", .dn = "101", .label = "Second" },
		{ .device = "bob-phone", .dn = "200", .display = "Bob" },
		{ .device = "SEP00AABBCCDDEE", .dn = "300" },
	};
	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++)
		check(store_line_add(S.store, &l[i], NULL, &e), &e, "line");
	char const *dids[] = { "5550100=200", "5550101" };
	struct store_trunk_spec t = {
		.name = "provider",
		.registrar = S.addr[STACK_TRUNK],
		.user = "5550100",
		.password = STACK_PASSWORD,
		.do_register = 0,
		.default_dn = "100",
		.caller_id = "5550100",
		.emergency = 1,
		.dids = dids,
		.n_dids = 2,
	};
	check(store_trunk_add(S.store, &t, &e), &e, "trunk");
	char const *dids2[] = { "5559999=300" };
	struct store_trunk_spec t2 = {
		.name = "itsp",
		.registrar = S.addr[STACK_REGISTRAR],
		.user = "5559999",
		.password = STACK_PASSWORD,
		.do_register = 1,
		.dids = dids2,
		.n_dids = 1,
	};
	check(store_trunk_add(S.store, &t2, &e), &e, "trunk 2");
	long long id;
	struct store_route_spec r = { .pattern = "0.", .trunk = "provider", .strip = 1 };
	check(store_route_add(S.store, &r, &id, &e), &e, "route");
}

static void binding(struct store_binding *b, char const *dn, char const *dev, enum stack_peer p,
		    bool derived)
{
	*b = (struct store_binding){ .op = STORE_BINDING_UPSERT, .cseq = 1, .derived = derived };
	snprintf(b->dn, sizeof(b->dn), "%s", dn);
	snprintf(b->device, sizeof(b->device), "%s", dev);
	snprintf(b->contact, sizeof(b->contact), "sip:%s@%s", dn, S.addr[p]);
	snprintf(b->source, sizeof(b->source), "%s", S.addr[p]);
	snprintf(b->transport, sizeof(b->transport), "udp");
	snprintf(b->call_id, sizeof(b->call_id), "fixture-%s@fuzz", dn);
	b->expires_at = (long long)time(NULL) + 86400;
}

static int on_message(void *arg, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
	(void)arg;
	(void)agent;
	return sip_dispatch_message(S.dispatch, msg, sip);
}

static sip_thread_t *no_sip_thread(void *arg)
{
	(void)arg;
	return NULL; /* changes are stored; there is no SIP thread to install them on */
}

void stack_open(void)
{
	if (S.root)
		return;
	char err[512];
	char const *ips[STACK_PEERS] = { "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5" };
	for (int p = 0; p < STACK_PEERS; p++)
		S.fd[p] = udp_socket(ips[p], S.addr[p], sizeof(S.addr[p]));
	snprintf(S.dir, sizeof(S.dir), "/tmp/sipreg-fuzz-XXXXXX");
	if (!mkdtemp(S.dir))
		die("mkdtemp", strerror(errno));
	atexit(remove_dir);
	unsigned port = free_port();
	snprintf(S.server, sizeof(S.server), "127.0.0.1:%u", port);
	S.server_sa =
		(struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	S.server_sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	log_set_level(getenv("FUZZ_LOG") ? LOG_LVL_DEBUG : LOG_LVL_ERROR);
	sofia_log_redirect();
	sofia_log_set_level(log_get_level());
	char conf[1024];
	snprintf(conf, sizeof(conf),
		 "[sip]\nlisten = %s\nrealm = " STACK_REALM "\n"
		 "[store]\npath = %s/sipreg.db\n"
		 "[security]\nban_failures = 1000000\n"
		 "[registrar]\ndigest_algs = both\n"
		 "[trunks]\nretry_min = 1\n",
		 S.server, S.dir);
	/*
	 * Names in fuzzed URIs go to a DNS server of the harness that never
	 * answers: no real DNS, and no ICMP errors either (a resolver error
	 * report once read freed memory inside sofia's sres; see
	 * docs/design.md, Hardening).
	 */
	char resolv[128], dns[32];
	S.dns_fd = udp_socket("127.0.0.9", dns, sizeof(dns));
	snprintf(resolv, sizeof(resolv), "%s/resolv.conf", S.dir);
	FILE *rf = fopen(resolv, "w");
	if (!rf ||
	    fprintf(rf, "nameserver 127.0.0.9\nport %s\noptions timeout:1 attempts:1\n",
		    strchr(dns, ':') + 1) < 0 ||
	    fclose(rf) != 0)
		die(resolv, "cannot write it");
	config_defaults(&S.cfg);
	if (config_load_string(&S.cfg, "fuzz.conf", conf, err, sizeof(err)) < 0)
		die("config", err);
	snprintf(S.cfg.resolv_conf, sizeof(S.cfg.resolv_conf), "%s", resolv);
	fixture();

	struct store_err e = { 0 };
	directory_t *dir = NULL;
	char secret[80];
	check(store_directory_load(S.store, &dir, &e), &e, "directory");
	check(store_nonce_secret(S.store, secret, sizeof(secret), &e), &e, "nonce secret");
	struct store_binding b[4];
	binding(&b[0], "100", "SEP001122334455", STACK_PHONE, false);
	binding(&b[1], "101", "SEP001122334455", STACK_PHONE, true);
	binding(&b[2], "200", "bob-phone", STACK_CALLEE, false);
	binding(&b[3], "300", "SEP00AABBCCDDEE", STACK_PHONE, false);

	if (evthread_use_pthreads() < 0 || !(S.base = event_base_new()))
		die("event loop", "cannot create it");
	if (store_worker_start(&S.worker, S.store, S.base) < 0)
		die("store thread", "cannot start it");
	struct app_start as = {
		.changes = { S.worker, no_sip_thread, NULL },
		.dir = dir,
		.bindings = b,
		.n_bindings = 4,
		.nonce_secret = secret,
		.call_prefix = "fuzz-1",
	};
	if (app_create(&S.app, &as) < 0)
		die("application", "out of memory");
	app_hooks(S.app, &S.hooks);

	su_init();
	S.root = su_root_create(NULL);
	if (!S.root)
		die("sofia", "no root");
	sip_parser_extend();
	char url[64];
	char const *u = url; /* URL_STRING_MAKE() wants a pointer, not an array */
	snprintf(url, sizeof(url), "sip:%s", S.server);
	/*
	 * Short timers: what an input leaves behind lingers 2 s, not 32 s.
	 * Responses go to the port a request came from even without rport
	 * (sipregd: only with it), so the seeds' Via ports need not match.
	 */
	S.agent =
		nta_agent_create(S.root, URL_STRING_MAKE(u), on_message, NULL, NTATAG_UA(1), TPTAG_STUN_SERVER(0),
				 NTATAG_SERVER_RPORT(2), NTATAG_CLIENT_RPORT(1), NTATAG_SIP_T1(30),
				 NTATAG_SIP_T1X64(64 * 30), NTATAG_SIP_T2(120), NTATAG_SIP_T4(150),
				 SRESTAG_RESOLV_CONF(S.cfg.resolv_conf), TAG_END());
	if (!S.agent)
		die("sofia", "the agent cannot listen");
	if (sip_dispatch_create(&S.dispatch, S.agent) < 0)
		die("router", "cannot create it");
	struct sip_env env = { S.root, S.agent, S.dispatch, &S.cfg };
	if (S.hooks.start(S.hooks.arg, &env, err, sizeof(err)) < 0)
		die("modules", err);
	stack_run();
	stack_drain();
}

char const *stack_server(void)
{
	return S.server;
}

char const *stack_peer_addr(enum stack_peer p)
{
	return S.addr[p];
}

static usize_t received(void)
{
	usize_t n = 0;
	nta_agent_get_stats(S.agent, NTATAG_S_RECV_MSG_REF(n), TAG_END());
	return n;
}

void stack_send(enum stack_peer from, void const *data, size_t len)
{
	if (len > 65000)
		len = 65000;
	usize_t before = received();
	if (sendto(S.fd[from], data, len, 0, (struct sockaddr *)&S.server_sa, sizeof(S.server_sa)) <
	    0)
		return;
	/* Loopback delivers before sendto() returns: steps without waiting take it. */
	for (int i = 0; i < 4 && received() == before; i++)
		su_root_step(S.root, 0);
	su_root_step(S.root, 0);
}

void stack_run(void)
{
	for (int i = 0; i < 4; i++)
		su_root_step(S.root, 0);
}

size_t stack_recv(enum stack_peer p, char *buf, size_t len)
{
	ssize_t n = recv(S.fd[p], buf, len - 1, 0);
	if (n <= 0) {
		buf[0] = '\0';
		return 0;
	}
	buf[n] = '\0';
	return (size_t)n;
}

void stack_drain(void)
{
	char buf[2048];
	for (int p = 0; p < STACK_PEERS; p++)
		for (int i = 0;
		     p != STACK_REGISTRAR && i < 256 && recv(S.fd[p], buf, sizeof(buf), 0) > 0; i++)
			;
}

void stack_tick(void)
{
	if (++S.calls % 64)
		return;
	S.hooks.tick(S.hooks.arg, time(NULL));
	event_base_loop(S.base, EVLOOP_NONBLOCK);
	stack_run();
}

bool stack_header(char const *msg, char const *name, char *out, size_t len)
{
	size_t nl = strlen(name);
	for (char const *p = strstr(msg, "\n"); p && p[1] && p[1] != '\r' && p[1] != '\n';
	     p = strchr(p + 1, '\n')) {
		if (!strncasecmp(p + 1, name, nl) && p[1 + nl] == ':') {
			char const *v = p + 2 + nl;
			while (*v == ' ')
				v++;
			size_t n = strcspn(v, "\r\n");
			if (n >= len)
				n = len - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return true;
		}
	}
	return false;
}

void stack_vias(char const *msg, char *out, size_t len)
{
	size_t used = 0;
	out[0] = '\0';
	for (char const *p = strstr(msg, "\n"); p && p[1] && p[1] != '\r' && p[1] != '\n';
	     p = strchr(p + 1, '\n')) {
		if (strncasecmp(p + 1, "Via:", 4) && strncasecmp(p + 1, "v:", 2))
			continue;
		size_t n = strcspn(p + 1, "\r\n");
		if (used + n + 3 > len)
			break;
		memcpy(out + used, p + 1, n);
		used += n;
		memcpy(out + used, "\r\n", 3);
		used += 2;
	}
}

/* The nonce, realm, algorithm and qop of the first challenge in a response. */
struct challenge {
	char nonce[256], realm[128], alg[16], opaque[128];
	bool qop, proxy;
};

static bool param(char const *h, char const *name, char *out, size_t len)
{
	size_t nl = strlen(name);
	for (char const *p = h; (p = strcasestr(p, name)); p += nl) {
		if (p != h && p[-1] != ' ' && p[-1] != ',')
			continue;
		char const *v = p + nl;
		if (*v != '=')
			continue;
		v++;
		bool quoted = *v == '"';
		v += quoted;
		size_t n = quoted ? strcspn(v, "\"") : strcspn(v, ", \r\n");
		if (n >= len)
			return false;
		memcpy(out, v, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

static bool challenge_of(char const *resp, struct challenge *c)
{
	char h[1024];
	*c = (struct challenge){ 0 };
	if (stack_header(resp, "WWW-Authenticate", h, sizeof(h)))
		c->proxy = false;
	else if (stack_header(resp, "Proxy-Authenticate", h, sizeof(h)))
		c->proxy = true;
	else
		return false;
	char q[32] = "";
	if (!param(h, "nonce", c->nonce, sizeof(c->nonce)) ||
	    !param(h, "realm", c->realm, sizeof(c->realm)))
		return false;
	if (!param(h, "algorithm", c->alg, sizeof(c->alg)))
		snprintf(c->alg, sizeof(c->alg), "MD5");
	param(h, "opaque", c->opaque, sizeof(c->opaque));
	c->qop = param(h, "qop", q, sizeof(q)) && strstr(q, "auth");
	return true;
}

/* Request line's method and URI of a raw request. */
static bool request_line(char const *req, char *method, size_t ml, char *uri, size_t ul)
{
	size_t m = strcspn(req, " \r\n");
	if (!m || m >= ml || req[m] != ' ')
		return false;
	char const *u = req + m + 1;
	size_t n = strcspn(u, " \r\n");
	if (!n || n >= ul)
		return false;
	memcpy(method, req, m);
	method[m] = '\0';
	memcpy(uri, u, n);
	uri[n] = '\0';
	return true;
}

size_t stack_send_auth(enum stack_peer from, char const *user, void const *data, size_t len)
{
	static unsigned long branch;
	char resp[8192];
	struct challenge ch;
	char method[32], uri[512];
	bool challenged = false;

	stack_send(from, data, len);
	while (stack_recv(from, resp, sizeof(resp)))
		if ((!strncmp(resp, "SIP/2.0 401 ", 12) || !strncmp(resp, "SIP/2.0 407 ", 12)) &&
		    challenge_of(resp, &ch))
			challenged = true;
	if (!challenged || len > 60000)
		return 0;
	/* The same request again, with credentials; a Via of its own makes it a new transaction. */
	char *text = malloc(len + 1);
	if (!text)
		return 0;
	memcpy(text, data, len);
	text[len] = '\0';
	if (!request_line(text, method, sizeof(method), uri, sizeof(uri))) {
		free(text);
		return 0;
	}
	enum digest_alg alg;
	if (digest_alg_parse(&alg, ch.alg) < 0)
		alg = DIGEST_MD5;
	char ha1[DIGEST_HEX_SIZE], rsp[DIGEST_HEX_SIZE];
	char const *cnonce = "0a4f113b", *nc = "00000001";
	if (digest_ha1(ha1, alg, user, ch.realm, STACK_PASSWORD) < 0 ||
	    digest_response(rsp, alg, ha1, ch.nonce, nc, cnonce, ch.qop ? "auth" : NULL, method,
			    uri) < 0) {
		free(text);
		return 0;
	}
	size_t first = strcspn(text, "\n");
	size_t cap = len + 2048;
	char *out = malloc(cap);
	if (!out) {
		free(text);
		return 0;
	}
	int n = snprintf(out, cap,
			 "%.*s\nVia: SIP/2.0/UDP %s;rport;branch=z9hG4bK-fz%lu\r\n"
			 "%s: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
			 "response=\"%s\", algorithm=%s%s%s%s%s\r\n",
			 (int)first, text, S.addr[from], ++branch,
			 ch.proxy ? "Proxy-Authorization" : "Authorization", user, ch.realm,
			 ch.nonce, uri, rsp, digest_alg_name(alg),
			 ch.qop ? ", qop=auth, nc=00000001, cnonce=\"0a4f113b\"" : "",
			 ch.opaque[0] ? ", opaque=\"" : "", ch.opaque, ch.opaque[0] ? "\"" : "");
	size_t used = n > 0 && (size_t)n < cap ? (size_t)n : 0;
	if (used && first < len) {
		size_t rest = len - first - 1;
		if (used + rest <= cap) {
			memcpy(out + used, text + first + 1, rest);
			used += rest;
		}
	}
	if (used)
		stack_send(from, out, used);
	free(out);
	free(text);
	return used;
}

void stack_hangup_all(void)
{
	b2bua_t *b = app_b2bua_of(S.app);
	json_t *list = b2bua_list(b);
	json_t *calls = json_is_array(list) ? list : json_object_get(list, "calls");
	size_t i;
	json_t *c;
	json_array_foreach (calls, i, c) {
		char const *id = json_string_value(json_object_get(c, "id"));
		if (id)
			b2bua_hangup(b, id);
	}
	json_decref(list);
	stack_run();
}
