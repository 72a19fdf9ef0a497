/*
 * Invitations and joining. `ha invite` on the primary makes a one-time
 * token: 128 random bits (only their hash is kept, never logged) and the
 * SHA-256 fingerprint of the primary's lab CA. `ha join TOKEN` on the
 * backup makes its keys, connects, checks that the primary's certificate
 * comes from that CA before it sends anything, and sends the token with
 * its certificate requests. The primary signs them, pins the backup's new
 * certificate and answers with its CA, its own certificates, the SAST key
 * and the data key. Join attempts are taken only while an invitation is
 * open, a few a minute, and each is logged.
 */
#include "autoconfig.h"

#include "ha/internal.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/text.h"
#include "daemon/tlsd.h"
#include "tls/tls.h"

#define LOG_TAG		 "ha"
#define INVITE_SECONDS	 600
#define JOINS_PER_MINUTE 5
#define JOIN_SECONDS	 20 /* a join that has not finished by then fails */

struct ha_join_state {
	char secret[33];       /* hex */
	char ca_fp[HA_FP_MAX]; /* "SHA256:.." */
	char *node_key, *node_csr, *sip_key, *sip_csr;
	ha_join_done_f *done;
	void *arg;
	struct ha_conn *c;
	struct event *timeout;
};

static void sha256(void const *data, size_t len, uint8_t out[32])
{
	unsigned n = 32;
	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

/* "SHA256:AB:CD:.." from 64 hex digits, or from it 64 hex digits. */
static void fp_from_hex(char const *hex, char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, len, "SHA256");
	for (size_t i = 0; i + 1 < 64 && n + 4 < len; i += 2)
		n += (size_t)snprintf(out + n, len - n, ":%c%c", hex[i], hex[i + 1]);
}

static void fp_to_hex(char const *fp, char *out, size_t len)
{
	size_t n = 0;
	for (char const *p = strchr(fp, ':'); p && *p && n + 1 < len; p++)
		if (*p != ':')
			out[n++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	out[n] = '\0';
}

/* ---- the primary ---- */

int ha_invite(ha_t *ha, unsigned seconds, json_t **data, char *err, size_t errlen)
{
	uint8_t secret[16];
	char hex[33], cafp[HA_FP_MAX], cahex[80], token[128];
	if (ha->role != ROLE_PRIMARY) {
		snprintf(err, errlen, "only the primary invites a backup (this node is %s)",
			 node_role_name(ha->role));
		return -1;
	}
	if (!ha->cfg.ha_listen.port) {
		snprintf(err, errlen, "[ha] listen is not set: a backup could not connect");
		return -1;
	}
	if (tls_node_ensure(ha->tls_dir, ha->node, err, errlen) < 0)
		return -1;
	SSL_CTX_free(ha->server_ctx); /* node.pem may be new */
	ha->server_ctx = NULL;
	if (tls_file_fingerprint(ha->tls_dir, TLS_CA, cafp, sizeof(cafp)) < 0) {
		snprintf(err, errlen, "%s/" TLS_CA " holds no certificate", ha->tls_dir);
		return -1;
	}
	if (RAND_bytes(secret, sizeof(secret)) != 1) {
		snprintf(err, errlen, "no random bytes");
		return -1;
	}
	text_hex(hex, secret, sizeof(secret));
	sha256(hex, 32, ha->invite_hash);
	fp_to_hex(cafp, cahex, sizeof(cahex));
	snprintf(token, sizeof(token), "%s.%s", hex, cahex);
	if (!seconds || seconds > INVITE_SECONDS)
		seconds = INVITE_SECONDS;
	ha->invite_until = time(NULL) + seconds;
	ha->invite = INVITE_OPEN;
	log_notice("an invitation for a backup is open for %u seconds (CA %s)", seconds, cafp);
	*data = json_pack("{s:s, s:i, s:s}", "token", token, "expires_in", (int)seconds,
			  "ca_fingerprint", cafp);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(hex, sizeof(hex));
	OPENSSL_cleanse(token, sizeof(token));
	return 0;
}

static bool rate_ok(ha_t *ha)
{
	time_t now = time(NULL);
	if (now - ha->join_window >= 60) {
		ha->join_window = now;
		ha->join_attempts = 0;
	}
	return ++ha->join_attempts <= JOINS_PER_MINUTE;
}

static char *file_text(char const *dir, char const *name)
{
	char path[2048];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 256 * 1024);
	size_t n = buf ? fread(buf, 1, 256 * 1024 - 1, f) : 0;
	fclose(f);
	if (buf && !n) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void cleanse_free(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

static void close_written(struct bufferevent *bev, void *arg)
{
	(void)bev;
	link_close(arg, "join answered");
}

/* The join request of a backup (no certificate yet) on the primary. */
static void on_join(struct ha_conn *c, struct ha_frame const *f)
{
	ha_t *ha = c->ha;
	struct ha_join j;
	void *root = NULL;
	char why[300] = "";
	char *node_cert = NULL, *sip_cert = NULL, *ca = NULL, *agent = NULL, *sast = NULL,
	     *ca_key = NULL;
	uint8_t h[32];

	if (!rate_ok(ha)) {
		log_warning("join attempt from %s refused: more than %d a minute", c->addr,
			    JOINS_PER_MINUTE);
		link_refuse(c, "too many join attempts: wait a minute");
		return;
	}
	if (ha_join_decode((char const *)f->body, f->len, &j, &root, why, sizeof(why)) < 0) {
		log_warning("join attempt from %s refused: %s", c->addr, why);
		link_refuse(c, "the join request is not valid");
		return;
	}
	sha256(j.token, strlen(j.token), h);
	bool token_ok = strlen(j.token) == 32 && !CRYPTO_memcmp(h, ha->invite_hash, 32);
	if (ha->role != ROLE_PRIMARY)
		snprintf(why, sizeof(why), "this node is not the primary");
	else if (ha->invite == INVITE_NONE)
		snprintf(why, sizeof(why), "no invitation is open (sipregctl ha invite)");
	else if (!token_ok)
		snprintf(why, sizeof(why), "the token is not the invitation's");
	else if (ha->invite == INVITE_USED)
		snprintf(why, sizeof(why), "the token was used already: it serves once");
	else if (time(NULL) >= ha->invite_until)
		snprintf(why, sizeof(why), "the invitation has expired");
	else if (j.schema != ha->schema)
		snprintf(why, sizeof(why),
			 "the backup runs database schema %d and this node %d: upgrade first",
			 j.schema, ha->schema);
	else if (!strcmp(j.node, ha->node))
		snprintf(why, sizeof(why), "the backup has this node's id %s: set [ha] node_id",
			 ha->node);
	if (why[0]) {
		log_warning("join attempt from %s as node %s refused: %s", c->addr, j.node, why);
		link_refuse(c, why);
		json_decref(root);
		return;
	}
	if (tls_node_sign(ha->tls_dir, j.csr_node, j.node, NULL, &node_cert, why, sizeof(why)) <
		    0 ||
	    tls_node_sign(ha->tls_dir, j.csr_sip, j.node, j.san[0] ? j.san : NULL, &sip_cert, why,
			  sizeof(why)) < 0 ||
	    !(ca = file_text(ha->tls_dir, TLS_CA)) || !(sast = file_text(ha->tls_dir, TLS_SAST)) ||
	    !(ca_key = file_text(ha->tls_dir, TLS_CA_KEY)) ||
	    tls_cert_pem(ha->tls_dir, TLS_AGENT, &agent, why, sizeof(why)) < 0) {
		if (!why[0])
			snprintf(why, sizeof(why), "the lab CA or the SAST key cannot be read");
		log_warning("join attempt from %s as node %s refused: %s", c->addr, j.node, why);
		link_refuse(c, why);
		goto out;
	}
	char backup_fp[HA_FP_MAX], own_fp[HA_FP_MAX], key[65];
	tls_pem_fingerprint(node_cert, strlen(node_cert), backup_fp, sizeof(backup_fp));
	tls_file_fingerprint(ha->tls_dir, TLS_NODE, own_fp, sizeof(own_fp));
	/* The backup's SIP certificate joins the trust list. */
	if (tls_node_write_pair(ha->tls_dir, TLS_PEER_AGENT, "", sip_cert, why, sizeof(why)) < 0 ||
	    tls_itl_write(ha->tls_dir, why, sizeof(why)) < 0)
		log_warning("the trust list does not list backup %s: %s", j.node, why);
	ha->invite = INVITE_USED; /* single use */
	snprintf(ha->peer_fp, sizeof(ha->peer_fp), "%s", backup_fp);
	snprintf(ha->peer_node, sizeof(ha->peer_node), "%s", j.node);
	node_save(ha, "peer_fp", backup_fp);
	node_save(ha, "peer_node", j.node);
	text_hex(key, ha->data_key, sizeof(ha->data_key));
	link_send_json(c, HA_JOINED,
		       json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "ca", ca,
				 "ca_key", ca_key, "node_cert", node_cert, "sip_cert", sip_cert,
				 "peer_agent", agent, "sast", sast, "data_key", key, "node",
				 ha->node, "fp", own_fp, "epoch", (json_int_t)ha->epoch));
	OPENSSL_cleanse(key, sizeof(key));
	log_notice("node %s joined from %s as the backup (certificate %s)", j.node, c->addr,
		   backup_fp);
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, close_written, NULL, c);
out:
	free(node_cert);
	free(sip_cert);
	free(ca);
	free(agent);
	cleanse_free(sast);
	cleanse_free(ca_key);
	json_decref(root);
}

/* ---- the backup ---- */

void join_free(ha_t *ha)
{
	struct ha_join_state *js = ha->joining;
	if (!js)
		return;
	ha->joining = NULL;
	if (js->c)
		js->c->joining = false;
	cleanse_free(js->node_key);
	cleanse_free(js->sip_key);
	free(js->node_csr);
	free(js->sip_csr);
	if (js->timeout)
		event_free(js->timeout);
	OPENSSL_cleanse(js->secret, sizeof(js->secret));
	free(js);
}

static void join_finish(ha_t *ha, int rc, json_t *data, char const *err)
{
	struct ha_join_state *js = ha->joining;
	if (!js)
		return;
	ha_join_done_f *done = js->done;
	void *arg = js->arg;
	struct ha_conn *c = js->c;
	js->c = NULL;
	join_free(ha);
	if (c)
		link_close(c, rc == 0 ? "joined" : "join failed");
	if (rc < 0)
		log_warning("joining: %s", err);
	done(arg, rc, data, err);
}

static void on_join_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	ha_t *ha = arg;
	char why[160];
	char where[96];
	config_listen_format(&ha->cfg.ha_peer, where, sizeof(where));
	snprintf(why, sizeof(why), "the primary at %s did not answer within %d seconds", where,
		 JOIN_SECONDS);
	join_finish(ha, -1, NULL, why);
}

int ha_join(ha_t *ha, char const *token, ha_join_done_f *done, void *arg, char *err, size_t errlen)
{
	char const *dot = token ? strchr(token, '.') : NULL;
	if (ha->role == ROLE_PRIMARY || ha->role == ROLE_STANDALONE) {
		snprintf(err, errlen,
			 "this node is the %s: only a node with [ha] role = backup (or a "
			 "former primary that stood down) joins",
			 node_role_name(ha->role));
		return -1;
	}
	if (!ha->cfg.ha_peer.port) {
		snprintf(err, errlen, "[ha] peer is not set: there is no primary to join");
		return -1;
	}
	if (ha->joining) {
		snprintf(err, errlen, "a join is already under way");
		return -1;
	}
	if (!dot || dot - token != 32 || strlen(dot + 1) != 64 ||
	    strspn(token, "0123456789abcdef") != 32 || strspn(dot + 1, "0123456789abcdef") != 64) {
		snprintf(err, errlen, "this is not a token from sipregctl ha invite");
		return -1;
	}
	struct ha_join_state *js = calloc(1, sizeof(*js));
	if (!js) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(js->secret, token, 32);
	fp_from_hex(dot + 1, js->ca_fp, sizeof(js->ca_fp));
	for (char *p = js->ca_fp; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	js->done = done;
	js->arg = arg;
	ha->joining = js;
	if (tls_node_request(ha->node, false, &js->node_key, &js->node_csr, err, errlen) < 0 ||
	    tls_node_request(ha->node, true, &js->sip_key, &js->sip_csr, err, errlen) < 0) {
		join_free(ha);
		return -1;
	}
	js->c = link_dial(ha, true);
	if (!js->c) {
		snprintf(err, errlen, "cannot connect to the primary");
		join_free(ha);
		return -1;
	}
	js->timeout = evtimer_new(ha->base, on_join_timeout, ha);
	struct timeval tv = { JOIN_SECONDS, 0 };
	if (js->timeout)
		evtimer_add(js->timeout, &tv);
	return 0;
}

/* Backup: TLS is up; is this the primary the token names? */
void join_authed(struct ha_conn *c)
{
	ha_t *ha = c->ha;
	struct ha_join_state *js = ha->joining;
	char why[300], san[256];
	if (!js || js->c != c) {
		link_close(c, "no join under way");
		return;
	}
	if (tls_peer_issued_by(c->ssl, js->ca_fp) < 0) {
		snprintf(why, sizeof(why),
			 "the node at %s is not the one the token names: its certificate is not "
			 "from the CA %s",
			 c->addr, js->ca_fp);
		join_finish(ha, -1, NULL, why);
		return;
	}
	tlsd_default_san(&ha->cfg, ha->node, san, sizeof(san));
	json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "token", js->secret, "node",
			      ha->node, "schema", ha->schema, "san", san, "csr_node", js->node_csr,
			      "csr_sip", js->sip_csr);
	link_send_json(c, HA_JOIN, o);
}

struct joined_job {
	ha_t *ha;
	uint8_t key[32];
	char peer_fp[HA_FP_MAX], peer_node[HA_NODE_MAX], epoch[32];
	int err;
	struct store_err e;
};

static void joined_run(store_t *s, void *arg)
{
	struct joined_job *jj = arg;
	(void)((jj->err = store_replica_set_key(s, jj->key, &jj->e)) < 0 ||
	       (jj->err = store_replica_set(s, "peer_fp", jj->peer_fp, &jj->e)) < 0 ||
	       (jj->err = store_replica_set(s, "peer_node", jj->peer_node, &jj->e)) < 0 ||
	       (jj->err = store_replica_set(s, "applied", "0", &jj->e)) < 0 ||
	       (jj->err = store_replica_set(s, "need_snapshot", "1", &jj->e)) < 0);
	OPENSSL_cleanse(jj->key, sizeof(jj->key));
}

static void joined_done(void *arg)
{
	struct joined_job *jj = arg;
	ha_t *ha = jj->ha;
	if (jj->err < 0) {
		join_finish(ha, -1, NULL, jj->e.msg);
		free(jj);
		return;
	}
	snprintf(ha->peer_fp, sizeof(ha->peer_fp), "%s", jj->peer_fp);
	snprintf(ha->peer_node, sizeof(ha->peer_node), "%s", jj->peer_node);
	ha->applied = ha->received = 0;
	ha->need_snapshot = true;
	node_set_role(ha, ROLE_BACKUP, strtoull(jj->epoch, NULL, 10));
	SSL_CTX_free(ha->client_ctx);
	SSL_CTX_free(ha->server_ctx);
	ha->client_ctx = ha->server_ctx = NULL;
	ha->next_dial = 0;
	ha->note[0] = '\0';
	log_notice("joined primary %s (certificate %s): this node is its backup", jj->peer_node,
		   jj->peer_fp);
	json_t *data = json_pack("{s:s, s:s, s:s}", "primary", jj->peer_node, "fingerprint",
				 jj->peer_fp, "role", "backup");
	free(jj);
	join_finish(ha, 0, data, NULL);
}

static int install(ha_t *ha, json_t *o, struct joined_job *jj, char *why, size_t whylen)
{
	struct ha_join_state *js = ha->joining;
	char const *ca = json_string_value(json_object_get(o, "ca"));
	char const *node_cert = json_string_value(json_object_get(o, "node_cert"));
	char const *sip_cert = json_string_value(json_object_get(o, "sip_cert"));
	char const *agent = json_string_value(json_object_get(o, "peer_agent"));
	char const *sast = json_string_value(json_object_get(o, "sast"));
	char const *ca_key = json_string_value(json_object_get(o, "ca_key"));
	char const *key = json_string_value(json_object_get(o, "data_key"));
	char const *node = json_string_value(json_object_get(o, "node"));
	char const *fp = json_string_value(json_object_get(o, "fp"));
	json_t *epoch = json_object_get(o, "epoch");
	char cafp[HA_FP_MAX];
	if (!ca || !ca_key || !node_cert || !sip_cert || !agent || !sast || !key ||
	    strlen(key) != 64 || !node || !ha_node_ok(node) || !fp || !json_is_integer(epoch) ||
	    text_unhex(jj->key, sizeof(jj->key), key) != 32)
		return snprintf(why, whylen, "the primary's answer is incomplete"), -1;
	if (tls_pem_fingerprint(ca, strlen(ca), cafp, sizeof(cafp)) < 0 || strcmp(cafp, js->ca_fp))
		return snprintf(why, whylen, "the primary sent another CA than the token's"), -1;
	if (strcmp(fp, js->c->peer_fp))
		return snprintf(why, whylen, "the primary's certificate is not the one it names"),
		       -1;
	if (mkdir(ha->tls_dir, 0700) < 0 && errno != EEXIST)
		return snprintf(why, whylen, "cannot create %.200s: %s", ha->tls_dir,
				strerror(errno)),
		       -1;
	if (tls_node_write_pair(ha->tls_dir, TLS_NODE, js->node_key, node_cert, why, whylen) < 0 ||
	    tls_node_write_pair(ha->tls_dir, TLS_AGENT, js->sip_key, sip_cert, why, whylen) < 0 ||
	    tls_node_write_pair(ha->tls_dir, TLS_SAST, "", sast, why, whylen) < 0 ||
	    tls_node_write_pair(ha->tls_dir, TLS_CAFILE, "", ca, why, whylen) < 0 ||
	    tls_node_write_pair(ha->tls_dir, TLS_CA, "", ca, why, whylen) < 0 ||
	    tls_node_write_pair(ha->tls_dir, TLS_PEER_AGENT, "", agent, why, whylen) < 0 ||
	    tls_node_write_pair(ha->tls_dir, TLS_CA_KEY, ca_key, "", why, whylen) < 0 ||
	    tls_itl_write(ha->tls_dir, why, whylen) < 0)
		return -1;
	snprintf(jj->peer_fp, sizeof(jj->peer_fp), "%s", fp);
	snprintf(jj->peer_node, sizeof(jj->peer_node), "%s", node);
	snprintf(jj->epoch, sizeof(jj->epoch), "%lld", (long long)json_integer_value(epoch));
	return 0;
}

void join_frame(struct ha_conn *c, struct ha_frame const *f)
{
	ha_t *ha = c->ha;
	char why[300];
	if (!c->outbound) {
		if (f->type == HA_JOIN)
			on_join(c, f);
		else
			link_close(c, "a message other than a join request without a certificate");
		return;
	}
	struct ha_join_state *js = ha->joining;
	if (!js || js->c != c) {
		link_close(c, "no join under way");
		return;
	}
	if (f->type == HA_ERROR) {
		json_t *o = json_loadb((char const *)f->body, f->len, 0, NULL);
		char const *s = json_string_value(json_object_get(o, "error"));
		/* the primary's sentence, escaped: it reaches the log and the terminal */
		snprintf(why, sizeof(why), "the primary refused: %s", s ? LOGQ(s) : "no reason given");
		json_decref(o);
		join_finish(ha, -1, NULL, why);
		return;
	}
	if (f->type != HA_JOINED) {
		join_finish(ha, -1, NULL, "the primary answered something else");
		return;
	}
	json_t *o = json_loadb((char const *)f->body, f->len, 0, NULL);
	struct joined_job *jj = calloc(1, sizeof(*jj));
	if (!jj || !o || install(ha, o, jj, why, sizeof(why)) < 0) {
		if (!jj || !o)
			snprintf(why, sizeof(why), "the primary's answer cannot be read");
		free(jj);
		json_decref(o);
		join_finish(ha, -1, NULL, why);
		return;
	}
	json_decref(o);
	jj->ha = ha;
	/* Answered: the connection has served its purpose. */
	js->c = NULL;
	link_close(c, "join answered");
	if (store_worker_submit(ha->store, joined_run, joined_done, jj) < 0) {
		free(jj);
		join_finish(ha, -1, NULL, "sipregd is stopping");
	}
}

void join_stop(ha_t *ha)
{
	join_finish(ha, -1, NULL, "sipregd is stopping");
}

void join_closed(struct ha_conn *c)
{
	ha_t *ha = c->ha;
	if (ha->joining && ha->joining->c == c) {
		ha->joining->c = NULL;
		join_finish(ha, -1, NULL, "the primary closed the connection");
	}
}
