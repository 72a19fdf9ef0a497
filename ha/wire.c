/*
 * The node link's framing and the checks of its JSON messages (see
 * ha/wire.h). Kept apart from the connections so the fuzzer reaches every
 * byte a peer can send without a TLS session.
 */
#include "autoconfig.h"

#include "ha/wire.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t type_max(uint8_t type)
{
	switch (type) {
	case HA_SNAPSHOT:
		return HA_FRAME_MAX;
	case HA_CHANGE:
	case HA_UP:
		return HA_CHANGE_MAX;
	case HA_HELLO:
	case HA_JOIN:
	case HA_JOINED:
	case HA_ACK:
	case HA_UPACK:
	case HA_PING:
	case HA_ERROR:
		return HA_SMALL_MAX;
	case HA_REGS:
		return HA_CHANGE_MAX;
	default:
		return 0;
	}
}

int ha_wire_frame(uint8_t const *buf, size_t len, struct ha_frame *f, size_t *used, char *why,
		  size_t whylen)
{
	if (len < 5)
		return 0;
	size_t n = (size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];
	size_t max = type_max(buf[4]);
	if (!max) {
		snprintf(why, whylen, "unknown message type 0x%02x", buf[4]);
		return -1;
	}
	if (n < 1 || n - 1 > max) {
		snprintf(why, whylen, "message of type %c %zu bytes long", buf[4], n);
		return -1;
	}
	if (len - 4 < n)
		return 0;
	f->type = buf[4];
	f->body = buf + 5;
	f->len = n - 1;
	*used = 4 + n;
	return 1;
}

void ha_wire_header(uint8_t out[5], uint8_t type, size_t len)
{
	size_t n = len + 1;
	out[0] = (uint8_t)(n >> 24);
	out[1] = (uint8_t)(n >> 16);
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	out[4] = type;
}

void ha_wire_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

int ha_wire_u64(struct ha_frame const *f, unsigned n, uint64_t *v)
{
	if (f->len < 8 * (size_t)(n + 1))
		return -1;
	uint64_t x = 0;
	for (unsigned i = 0; i < 8; i++)
		x = x << 8 | f->body[8 * n + i];
	*v = x;
	return 0;
}

bool ha_node_ok(char const *s)
{
	size_t n = strlen(s);
	return n >= 1 && n < HA_NODE_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n;
}

/* A string member of at most max - 1 bytes, printable ASCII. */
static int get_str(json_t *o, char const *key, char *out, size_t max, bool required, char *why,
		   size_t whylen)
{
	json_t *v = json_object_get(o, key);
	out[0] = '\0';
	if (!v && !required)
		return 0;
	char const *s = json_string_value(v);
	if (!s || strlen(s) >= max || json_string_length(v) != strlen(s)) {
		snprintf(why, whylen, "'%s' is missing or not a short string", key);
		return -1;
	}
	for (char const *p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e) {
			snprintf(why, whylen, "'%s' holds a control character", key);
			return -1;
		}
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int get_u64(json_t *o, char const *key, uint64_t *out, char *why, size_t whylen)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(why, whylen, "'%s' is missing or not a whole number", key);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static json_t *parse(char const *json, size_t len, char *why, size_t whylen)
{
	json_error_t e;
	json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &e);
	if (!json_is_object(o)) {
		snprintf(why, whylen, "not a JSON object");
		json_decref(o);
		return NULL;
	}
	return o;
}

int ha_hello_decode(char const *json, size_t len, struct ha_hello *h, char *why, size_t whylen)
{
	uint64_t schema = 0;
	json_t *o = parse(json, len, why, whylen);
	int rc = -1;
	memset(h, 0, sizeof(*h));
	if (!o)
		return -1;
	if (get_str(o, "node", h->node, sizeof(h->node), true, why, whylen) < 0 ||
	    get_str(o, "role", h->role, sizeof(h->role), true, why, whylen) < 0 ||
	    get_u64(o, "epoch", &h->epoch, why, whylen) < 0 ||
	    get_u64(o, "schema", &schema, why, whylen) < 0 ||
	    get_u64(o, "seq", &h->seq, why, whylen) < 0 ||
	    get_str(o, "config", h->config_fp, sizeof(h->config_fp), false, why, whylen) < 0)
		goto out;
	if (!ha_node_ok(h->node)) {
		snprintf(why, whylen, "the node id is not letters, digits and '-'");
		goto out;
	}
	if (strcmp(h->role, "primary") && strcmp(h->role, "backup") && strcmp(h->role, "demoted")) {
		snprintf(why, whylen, "the role is not primary, backup or demoted");
		goto out;
	}
	if (schema > 100000) {
		snprintf(why, whylen, "schema version out of range");
		goto out;
	}
	h->schema = (int)schema;
	h->snapshot = json_is_true(json_object_get(o, "snapshot"));
	rc = 0;
out:
	json_decref(o);
	return rc;
}

char *ha_hello_encode(struct ha_hello const *h)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:i, s:I, s:s, s:b}", "node", h->node, "role",
			      h->role, "epoch", (json_int_t)h->epoch, "schema", h->schema, "seq",
			      (json_int_t)h->seq, "config", h->config_fp, "snapshot", h->snapshot);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

int ha_join_decode(char const *json, size_t len, struct ha_join *j, void **root, char *why,
		   size_t whylen)
{
	uint64_t schema = 0;
	json_t *o = parse(json, len, why, whylen);
	memset(j, 0, sizeof(*j));
	*root = NULL;
	if (!o)
		return -1;
	if (get_str(o, "token", j->token, sizeof(j->token), true, why, whylen) < 0 ||
	    get_str(o, "node", j->node, sizeof(j->node), true, why, whylen) < 0 ||
	    get_u64(o, "schema", &schema, why, whylen) < 0 ||
	    get_str(o, "san", j->san, sizeof(j->san), false, why, whylen) < 0)
		goto fail;
	j->csr_node = json_string_value(json_object_get(o, "csr_node"));
	j->csr_sip = json_string_value(json_object_get(o, "csr_sip"));
	if (!j->csr_node || !j->csr_sip || strlen(j->csr_node) > 16384 ||
	    strlen(j->csr_sip) > 16384) {
		snprintf(why, whylen, "the certificate requests are missing or too long");
		goto fail;
	}
	if (!ha_node_ok(j->node) || schema > 100000) {
		snprintf(why, whylen, "the node id or schema version is not valid");
		goto fail;
	}
	j->schema = (int)schema;
	*root = o;
	return 0;
fail:
	json_decref(o);
	return -1;
}

/* ---- R ---- */

static bool numeric_host(char const *h)
{
	return h[0] && strlen(h) < 64 && strspn(h, "0123456789abcdefABCDEF.:") == strlen(h);
}

int ha_regs_decode(char const *json, size_t len, struct ha_regs *r, char *why, size_t whylen)
{
	memset(r, 0, sizeof(*r));
	r->port = -1;
	json_error_t je;
	json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	json_t *arr = json_object_get(o, "regs");
	json_t *full = json_object_get(o, "full");
	size_t n = json_array_size(arr);
	int rc = -1;
	if (!json_is_object(o) || !json_is_array(arr) || !json_is_boolean(full)) {
		snprintf(why, whylen, "a malformed list of registrations");
		goto out;
	}
	if (n > HA_REGS_MAX) {
		snprintf(why, whylen, "%zu registrations in one message, more than %u", n,
			 HA_REGS_MAX);
		goto out;
	}
	r->full = json_is_true(full);
	if (r->full) {
		json_t *h = json_object_get(o, "host"), *p = json_object_get(o, "port");
		char const *hs = json_string_value(h);
		if (!json_is_integer(p) || json_integer_value(p) < 0 ||
		    json_integer_value(p) > 65535 || (h && !hs) || (hs && hs[0] && !numeric_host(hs))) {
			snprintf(why, whylen, "a malformed address of the node transport");
			goto out;
		}
		r->port = (int)json_integer_value(p);
		snprintf(r->host, sizeof(r->host), "%s", hs ? hs : "");
	}
	r->regs = calloc(n ? n : 1, sizeof(*r->regs));
	if (!r->regs) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(arr, i);
		char const *dn = json_string_value(json_array_get(e, 0));
		char const *dev = json_string_value(json_array_get(e, 1));
		json_t *at = json_array_get(e, 2);
		if (!json_is_array(e) || json_array_size(e) != 3 || !dn || !dev ||
		    !json_is_integer(at) || !dn[0] || strlen(dn) >= sizeof(r->regs[i].dn) ||
		    strlen(dev) >= sizeof(r->regs[i].device) || json_integer_value(at) < 0) {
			snprintf(why, whylen, "registration %zu is malformed", i);
			free(r->regs);
			r->regs = NULL;
			goto out;
		}
		snprintf(r->regs[i].dn, sizeof(r->regs[i].dn), "%s", dn);
		snprintf(r->regs[i].device, sizeof(r->regs[i].device), "%s", dev);
		r->regs[i].expires_at = (long long)json_integer_value(at);
	}
	r->n = n;
	rc = 0;
out:
	json_decref(o);
	return rc;
}

char *ha_regs_encode(struct ha_regs const *r)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < r->n; i++)
		json_array_append_new(arr, json_pack("[s, s, I]", r->regs[i].dn, r->regs[i].device,
						     (json_int_t)r->regs[i].expires_at));
	json_t *o = json_pack("{s:b, s:o}", "full", r->full, "regs", arr);
	if (o && r->full) {
		json_object_set_new(o, "host", json_string(r->host));
		json_object_set_new(o, "port", json_integer(r->port > 0 ? r->port : 0));
	}
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}
