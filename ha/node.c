/*
 * The replication protocol and the node's role. Once a link's peer is
 * authenticated both sides say hello (role, epoch, schema, position); the
 * primary then feeds the backup: the journal from where it stands, or a
 * snapshot when the journal no longer reaches back, then each change as
 * it is stored. The backup applies them in batches (one new directory for
 * the SIP thread per batch) and sends its own changes up. Two primaries
 * meeting compare epochs: the lower one stands down.
 */
#include "autoconfig.h"

#include "ha/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/text.h"
#include "store/store.h"

#define LOG_TAG	    "ha"
#define CATCHUP_MAX 2000   /* journal entries read per store job */
#define QUEUE_MAX   100000 /* changes received on a backup, not yet applied */

char const *node_role_name(enum ha_role r)
{
	static char const *const names[] = { "standalone", "primary", "backup", "demoted" };
	return names[r];
}

/* ---- store jobs ---- */

struct kv {
	char key[32], value[HA_FP_MAX + 16];
};

static void kv_run(store_t *s, void *arg)
{
	struct kv *kv = arg;
	struct store_err e = { 0 };
	if (store_replica_set(s, kv->key, kv->value, &e) < 0)
		log_error("cannot record the replication state: %s", e.msg);
}

void node_save(ha_t *ha, char const *key, char const *value)
{
	struct kv *kv = calloc(1, sizeof(*kv));
	if (!kv)
		return;
	snprintf(kv->key, sizeof(kv->key), "%s", key);
	snprintf(kv->value, sizeof(kv->value), "%s", value);
	if (store_worker_submit(ha->store, kv_run, free, kv) < 0)
		free(kv);
}

struct mode_job {
	enum store_replica_mode mode;
	char node[HA_NODE_MAX];
};

static void mode_run(store_t *s, void *arg)
{
	struct mode_job *m = arg;
	struct store_err e = { 0 };
	if (store_replica_mode(s, m->mode, m->node, &e) < 0)
		log_error("cannot switch replication recording: %s", e.msg);
}

void node_set_role(ha_t *ha, enum ha_role r, uint64_t epoch)
{
	char v[32];
	ha->role = r;
	ha->epoch = epoch;
	node_save(ha, "role", node_role_name(r));
	snprintf(v, sizeof(v), "%llu", (unsigned long long)epoch);
	node_save(ha, "epoch", v);
	struct mode_job *m = calloc(1, sizeof(*m));
	if (!m)
		return;
	m->mode = r == ROLE_PRIMARY  ? REPLICA_SOURCE
		  : r == ROLE_BACKUP ? REPLICA_UPSTREAM
				     : REPLICA_OFF;
	snprintf(m->node, sizeof(m->node), "%s", ha->node);
	if (store_worker_submit(ha->store, mode_run, free, m) < 0)
		free(m);
}

/* ---- hello ---- */

static void send_hello(struct ha_conn *c)
{
	ha_t *ha = c->ha;
	struct ha_hello h = { .epoch = ha->epoch, .schema = ha->schema };
	snprintf(h.node, sizeof(h.node), "%s", ha->node);
	snprintf(h.role, sizeof(h.role), "%s", node_role_name(ha->role));
	h.seq = ha->role == ROLE_PRIMARY ? ha->head : ha->applied;
	h.snapshot = ha->role == ROLE_BACKUP && ha->need_snapshot;
	snprintf(h.config_fp, sizeof(h.config_fp), "%s", ha->config_fp);
	char *text = ha_hello_encode(&h);
	if (text)
		link_send(c, HA_HELLO, text, strlen(text));
	free(text);
}

void node_authed(struct ha_conn *c)
{
	send_hello(c);
}

static void set_note(ha_t *ha, char const *sentence)
{
	if (strcmp(ha->note, sentence)) {
		snprintf(ha->note, sizeof(ha->note), "%s", sentence);
		if (sentence[0])
			log_warning("%s", sentence);
	}
}

static void feed(struct ha_conn *c);
static void send_outbox(ha_t *ha);

static void on_hello(struct ha_conn *c, struct ha_frame const *f)
{
	ha_t *ha = c->ha;
	char why[160], msg[320];
	struct ha_hello *p = &c->peer;
	if (c->hello_seen ||
	    ha_hello_decode((char const *)f->body, f->len, p, why, sizeof(why)) < 0) {
		link_close(c, c->hello_seen ? "a second hello" : why);
		return;
	}
	c->hello_seen = true;
	if (p->schema != ha->schema) {
		snprintf(msg, sizeof(msg),
			 "replication stopped: this node runs database schema %d and node %s "
			 "schema %d; upgrade the backup first, then the primary (docs/ha.md)",
			 ha->schema, p->node, p->schema);
		set_note(ha, msg);
		link_close(c, "schema mismatch");
		return;
	}
	if (strcmp(p->config_fp, ha->config_fp)) {
		snprintf(ha->config_warning, sizeof(ha->config_warning),
			 "the realm, [dialplan], [security] or [calls] differ from node %s's "
			 "(fingerprint %s here, %s there): calls may go differently after a "
			 "failover",
			 p->node, ha->config_fp, p->config_fp);
		log_warning("%s", ha->config_warning);
	} else {
		ha->config_warning[0] = '\0';
	}
	bool peer_primary = !strcmp(p->role, "primary"), peer_backup = !strcmp(p->role, "backup");
	if (ha->role == ROLE_PRIMARY && peer_primary) {
		if (p->epoch > ha->epoch) {
			snprintf(
				msg, sizeof(msg),
				"node %s was promoted (epoch %llu) while this node was away: this "
				"node is no longer the primary and refuses administrative changes; "
				"run sipregctl ha invite on %s, then sipregctl ha join here",
				p->node, (unsigned long long)p->epoch, p->node);
			node_set_role(ha, ROLE_DEMOTED, ha->epoch);
			set_note(ha, msg);
		} else {
			log_warning(
				"node %s also claims to be the primary (epoch %llu, here %llu): "
				"it must stand down",
				p->node, (unsigned long long)p->epoch,
				(unsigned long long)ha->epoch);
		}
		link_close(c, "two primaries");
		return;
	}
	if (ha->role == ROLE_PRIMARY && peer_backup) {
		if (c->outbound) {
			/* a probe for a promoted peer found the backup: it dials us itself */
			link_close(c, "the backup dials the primary");
			return;
		}
		if (ha->link && ha->link != c)
			link_close(ha->link, "replaced by a new link");
		ha->link = c;
		set_note(ha, "");
		snprintf(ha->peer_node, sizeof(ha->peer_node), "%s", p->node);
		log_notice("backup %s connected from %s at change %llu (here %llu)", p->node,
			   c->addr, (unsigned long long)p->seq, (unsigned long long)ha->head);
		ha->peer_applied = p->snapshot ? 0 : p->seq;
		c->sent = p->snapshot ? 0 : p->seq;
		c->need_snapshot = p->snapshot || p->seq > ha->head;
		c->feeding = true;
		feed(c);
		regs_link_up(ha);
		return;
	}
	if (ha->role == ROLE_BACKUP && peer_primary) {
		if (!c->outbound) {
			link_close(c, "the backup dials the primary");
			return;
		}
		if (p->epoch < ha->epoch) {
			link_close(c, "a primary of an older epoch");
			return;
		}
		if (ha->link && ha->link != c)
			link_close(ha->link, "replaced by a new link");
		ha->link = c;
		set_note(ha, "");
		if (p->epoch > ha->epoch) {
			char v[32];
			ha->epoch = p->epoch;
			snprintf(v, sizeof(v), "%llu", (unsigned long long)p->epoch);
			node_save(ha, "epoch", v);
		}
		snprintf(ha->peer_node, sizeof(ha->peer_node), "%s", p->node);
		ha->primary_head = p->seq;
		if (!ha->applying && !ha->n_queue)
			ha->received = ha->applied;
		log_notice("connected to primary %s at %s (its change %llu, applied here %llu)",
			   p->node, c->addr, (unsigned long long)p->seq,
			   (unsigned long long)ha->applied);
		ha->up_sent = 0;
		send_outbox(ha);
		regs_link_up(ha);
		return;
	}
	if (ha->role == ROLE_BACKUP && peer_backup)
		set_note(ha, "both nodes are backups: make one the primary with sipregctl ha "
			     "promote");
	link_close(c, "no replication between these roles");
}

/* ---- primary: feeding a backup ---- */

struct catchup {
	ha_t *ha;
	struct ha_conn *c;
	uint64_t after;
	bool snapshot;
	struct store_change *ch;
	size_t n;
	int err;
	char snap[1100];
	uint64_t snap_seq;
	uint8_t *snap_data;
	size_t snap_len;
};

static void send_change(struct ha_conn *c, struct store_change const *ch)
{
	uint8_t hdr[16];
	ha_wire_put_u64(hdr, ch->seq);
	ha_wire_put_u64(hdr + 8, (uint64_t)ch->at_ms);
	uint8_t *body = malloc(16 + ch->len);
	if (!body)
		return;
	memcpy(body, hdr, 16);
	memcpy(body + 16, ch->data, ch->len);
	link_send(c, HA_CHANGE, body, 16 + ch->len);
	free(body);
	c->sent = ch->seq;
}

static void catchup_run(store_t *s, void *arg)
{
	struct catchup *k = arg;
	struct store_err e = { 0 };
	k->err = k->snapshot
			 ? -ERANGE
			 : store_replica_journal_read(s, k->after, CATCHUP_MAX, &k->ch, &k->n, &e);
	if (k->err != -ERANGE)
		return;
	/* The journal no longer reaches: a snapshot, read back whole and removed. */
	snprintf(k->snap, sizeof(k->snap), "%s.snapshot-out", k->ha->store_path);
	unlink(k->snap);
	if ((k->err = store_replica_snapshot(s, k->snap, &k->snap_seq, &e)) < 0) {
		log_error("snapshot for the backup: %s", e.msg);
		return;
	}
	int fd = open(k->snap, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0 &&
	    (size_t)st.st_size <= HA_FRAME_MAX - 8 && (k->snap_data = malloc((size_t)st.st_size))) {
		ssize_t r = read(fd, k->snap_data, (size_t)st.st_size);
		k->snap_len = r == st.st_size ? (size_t)r : 0;
	}
	if (fd >= 0)
		close(fd);
	unlink(k->snap);
	k->err = k->snap_len ? 1 : -EIO;
}

static void catchup_done(void *arg)
{
	struct catchup *k = arg;
	ha_t *ha = k->ha;
	struct ha_conn *c = link_alive(ha, k->c) ? k->c : NULL;
	if (c) {
		c->catching_up = false;
		if (k->err == 1) {
			uint8_t *body = malloc(8 + k->snap_len);
			if (body) {
				ha_wire_put_u64(body, k->snap_seq);
				memcpy(body + 8, k->snap_data, k->snap_len);
				link_send(c, HA_SNAPSHOT, body, 8 + k->snap_len);
				free(body);
				c->sent = k->snap_seq;
				log_notice("sent backup %s a snapshot at change %llu (%zu bytes)",
					   c->peer.node, (unsigned long long)k->snap_seq,
					   k->snap_len);
			}
		} else if (k->err < 0) {
			link_close(c, "the journal cannot be read");
		} else {
			for (size_t i = 0; i < k->n; i++)
				if (k->ch[i].seq == c->sent + 1)
					send_change(c, &k->ch[i]);
		}
		if (c->sent < ha->head && link_alive(ha, c))
			feed(c);
	}
	store_changes_free(k->ch, k->n);
	free(k->snap_data);
	free(k);
}

/* Sends what the backup lacks, from the journal (or a snapshot). */
static void feed(struct ha_conn *c)
{
	ha_t *ha = c->ha;
	if (c->catching_up || (c->sent >= ha->head && !c->need_snapshot))
		return;
	struct catchup *k = calloc(1, sizeof(*k));
	if (!k)
		return;
	k->ha = ha;
	k->c = c;
	k->after = c->sent;
	k->snapshot = c->need_snapshot;
	c->need_snapshot = false;
	c->catching_up = true;
	if (store_worker_submit(ha->store, catchup_run, catchup_done, k) < 0) {
		c->catching_up = false;
		free(k);
	}
}

/* Store thread, after every job: what it changed goes to the journal or the outbox. */
static void on_captured(void *arg);

struct captured {
	ha_t *ha;
	struct store_change ch;
};

void node_after_job(store_t *s, void *arg)
{
	ha_t *ha = arg;
	struct store_change ch = { 0 };
	struct store_err e = { 0 };
	int rc = store_replica_capture(s, &ch, &e);
	if (rc < 0)
		log_error("a change is not replicated: %s", e.msg);
	if (rc <= 0)
		return;
	if (ch.seq % 256 == 0)
		store_replica_journal_trim(s, ha->cfg.ha_journal_keep,
					   (long long)ha->cfg.ha_journal_age);
	struct captured *cp = malloc(sizeof(*cp));
	if (cp)
		*cp = (struct captured){ ha, ch };
	if (!cp || handoff_post(ha->from_store, on_captured, cp) < 0) {
		free(ch.data);
		free(cp);
	}
}

static void on_captured(void *arg)
{
	struct captured *cp = arg;
	ha_t *ha = cp->ha;
	if (ha->role == ROLE_PRIMARY) {
		ha->head = cp->ch.seq;
		struct ha_conn *c = ha->link;
		if (c && c->feeding) {
			if (!c->catching_up && cp->ch.seq == c->sent + 1)
				send_change(c, &cp->ch);
			else
				feed(c);
		}
	} else if (ha->role == ROLE_BACKUP) {
		send_outbox(ha);
	}
	free(cp->ch.data);
	free(cp);
}

/* ---- backup: applying ---- */

struct batch {
	ha_t *ha;
	struct store_change *ch;
	size_t n;
	bool snapshot;
	char path[1100];
	uint64_t applied;
	unsigned conflicts;
	char origin[HA_NODE_MAX];
};

static void conflict_logged(void *arg, char const *sentence)
{
	struct batch *b = arg;
	b->conflicts++;
	log_warning("%s", sentence);
}

static int batch_apply(store_t *s, void *arg, struct store_err *e)
{
	struct batch *b = arg;
	if (b->snapshot) {
		int err = store_replica_restore(s, b->path, b->ch[0].seq, e);
		unlink(b->path);
		if (err == 0)
			b->applied = b->ch[0].seq;
		return err;
	}
	for (size_t i = 0; i < b->n; i++) {
		int err = store_replica_apply(s, true, b->ch[i].data, b->ch[i].len, b->ch[i].seq,
					      b->origin, conflict_logged, b, e);
		if (err < 0)
			return b->applied ? 0 : err;
		b->applied = b->ch[i].seq;
	}
	return 0;
}

static void apply_next(ha_t *ha);

static void batch_done(void *arg, int err, struct store_err const *e)
{
	struct batch *b = arg;
	ha_t *ha = b->ha;
	int64_t now = store_now_ms();
	ha->applying = false;
	if (err < 0)
		log_error("a replicated change cannot be applied: %s", e->msg);
	if (err == 0 && (b->applied > ha->applied || b->snapshot)) {
		for (size_t i = 0; i < b->n && !b->snapshot; i++) {
			int64_t lag = now - b->ch[i].at_ms;
			ha->lag_ms[ha->lag_pos] = lag < 0 ? 0 : (unsigned)lag;
			ha->lag_pos = (ha->lag_pos + 1) % LAG_RING;
			if (ha->n_lag < LAG_RING)
				ha->n_lag++;
		}
		ha->applied_total += b->snapshot ? 0 : b->n;
		ha->applied = b->applied;
		if (b->snapshot) {
			log_notice("snapshot applied: this backup is at change %llu",
				   (unsigned long long)ha->applied);
			ha->need_snapshot = false;
			node_save(ha, "need_snapshot", "0");
		}
		if (ha->link)
			link_send_u64(ha->link, HA_ACK, ha->applied);
	}
	if (err < 0) {
		store_changes_free(ha->queue, ha->n_queue);
		ha->queue = NULL;
		ha->n_queue = ha->cap_queue = 0;
		ha->received = ha->applied;
		if (ha->link)
			link_close(ha->link, "a change could not be applied");
	}
	store_changes_free(b->ch, b->snapshot ? 1 : b->n);
	free(b);
	apply_next(ha);
}

static void apply_next(ha_t *ha)
{
	if (ha->applying || !ha->n_queue)
		return;
	struct batch *b = calloc(1, sizeof(*b));
	if (!b)
		return;
	b->ha = ha;
	snprintf(b->origin, sizeof(b->origin), "%s", ha->peer_node);
	b->ch = ha->queue;
	b->n = ha->n_queue;
	ha->queue = NULL;
	ha->n_queue = ha->cap_queue = 0;
	ha->applying = true;
	if (change_submit(&ha->changes, batch_apply, batch_done, b) < 0) {
		ha->applying = false;
		store_changes_free(b->ch, b->n);
		free(b);
	}
}

static int enqueue(ha_t *ha, uint64_t seq, int64_t at, uint8_t const *data, size_t len)
{
	if (ha->n_queue == ha->cap_queue) {
		size_t cap = ha->cap_queue ? ha->cap_queue * 2 : 64;
		struct store_change *q = realloc(ha->queue, cap * sizeof(*q));
		if (!q)
			return -ENOMEM;
		ha->queue = q;
		ha->cap_queue = cap;
	}
	struct store_change *ch = &ha->queue[ha->n_queue];
	if (!(ch->data = malloc(len ? len : 1)))
		return -ENOMEM;
	memcpy(ch->data, data, len);
	ch->len = len;
	ch->seq = seq;
	ch->at_ms = at;
	ha->n_queue++;
	return 0;
}

static void on_change(struct ha_conn *c, struct ha_frame const *f)
{
	ha_t *ha = c->ha;
	uint64_t seq, at;
	if (ha_wire_u64(f, 0, &seq) < 0 || ha_wire_u64(f, 1, &at) < 0) {
		link_close(c, "a change too short");
		return;
	}
	if (seq <= ha->received)
		return; /* already here, or on its way to the store */
	if (seq != ha->received + 1) {
		link_close(c, "a change out of order");
		return;
	}
	if (seq > ha->primary_head)
		ha->primary_head = seq;
	if (ha->n_queue >= QUEUE_MAX) {
		/* the store falls behind: stop reading; the journal resumes us later */
		link_close(c, "too many changes waiting to be applied");
		return;
	}
	if (enqueue(ha, seq, (int64_t)at, f->body + 16, f->len - 16) < 0) {
		link_close(c, "out of memory");
		return;
	}
	ha->received = seq;
	apply_next(ha);
}

static void on_snapshot(struct ha_conn *c, struct ha_frame const *f)
{
	ha_t *ha = c->ha;
	uint64_t seq;
	char path[1100];
	if (ha_wire_u64(f, 0, &seq) < 0 || ha->applying || ha->n_queue) {
		link_close(c, "a snapshot out of place");
		return;
	}
	snprintf(path, sizeof(path), "%s.snapshot-in", ha->store_path);
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	ssize_t w = fd >= 0 ? write(fd, f->body + 8, f->len - 8) : -1;
	if (fd < 0 || w != (ssize_t)(f->len - 8) || fsync(fd) < 0) {
		log_error("cannot write the snapshot to %s", path);
		if (fd >= 0)
			close(fd);
		unlink(path);
		link_close(c, "the snapshot cannot be written");
		return;
	}
	close(fd);
	struct batch *b = calloc(1, sizeof(*b));
	struct store_change *one = calloc(1, sizeof(*one));
	if (!b || !one) {
		free(b);
		free(one);
		unlink(path);
		return;
	}
	one->seq = seq;
	*b = (struct batch){ .ha = ha, .ch = one, .n = 1, .snapshot = true };
	snprintf(b->path, sizeof(b->path), "%s", path);
	if (seq > ha->primary_head)
		ha->primary_head = seq;
	ha->received = seq;
	ha->applying = true;
	if (change_submit(&ha->changes, batch_apply, batch_done, b) < 0) {
		ha->applying = false;
		unlink(path);
		free(one);
		free(b);
	}
}

/* ---- backup: its own changes, sent up ---- */

struct outbox_read {
	ha_t *ha;
	uint64_t after;
	struct store_change *ch;
	size_t n;
};

static void outbox_run(store_t *s, void *arg)
{
	struct outbox_read *o = arg;
	struct store_err e = { 0 };
	if (store_replica_outbox(s, o->after, 500, &o->ch, &o->n, &e) < 0)
		log_error("reading the changes for the primary: %s", e.msg);
}

static void outbox_done(void *arg)
{
	struct outbox_read *o = arg;
	ha_t *ha = o->ha;
	ha->up_reading = false;
	for (size_t i = 0; ha->link && ha->role == ROLE_BACKUP && i < o->n; i++) {
		uint8_t *body = malloc(8 + o->ch[i].len);
		if (!body)
			break;
		ha_wire_put_u64(body, o->ch[i].seq);
		memcpy(body + 8, o->ch[i].data, o->ch[i].len);
		link_send(ha->link, HA_UP, body, 8 + o->ch[i].len);
		free(body);
		ha->up_sent = o->ch[i].seq;
	}
	bool more = o->n == 500 || ha->up_again;
	ha->up_again = false;
	store_changes_free(o->ch, o->n);
	free(o);
	if (more)
		send_outbox(ha);
}

static void send_outbox(ha_t *ha)
{
	if (ha->up_reading)
		ha->up_again = true; /* the read under way may have missed the newest */
	if (!ha->link || ha->up_reading || ha->role != ROLE_BACKUP)
		return;
	struct outbox_read *o = calloc(1, sizeof(*o));
	if (!o)
		return;
	o->ha = ha;
	o->after = ha->up_sent;
	ha->up_reading = true;
	if (store_worker_submit(ha->store, outbox_run, outbox_done, o) < 0) {
		ha->up_reading = false;
		free(o);
	}
}

struct up {
	ha_t *ha;
	struct ha_conn *c;
	char origin[HA_NODE_MAX];
	uint64_t id;
	uint8_t *data;
	size_t len;
	unsigned conflicts;
};

static void up_conflict(void *arg, char const *sentence)
{
	struct up *u = arg;
	u->conflicts++;
	log_warning("%s", sentence);
}

static int up_apply(store_t *s, void *arg, struct store_err *e)
{
	struct up *u = arg;
	return store_replica_apply(s, false, u->data, u->len, 0, u->origin, up_conflict, u, e);
}

static void up_done(void *arg, int err, struct store_err const *e)
{
	struct up *u = arg;
	u->ha->conflicts += u->conflicts;
	if (err < 0)
		log_error("a change from backup %s cannot be applied: %s", u->c->peer.node, e->msg);
	else if (link_alive(u->ha, u->c))
		link_send_u64(u->c, HA_UPACK, u->id);
	free(u->data);
	free(u);
}

static void on_up(struct ha_conn *c, struct ha_frame const *f)
{
	uint64_t id;
	struct up *u = calloc(1, sizeof(*u));
	if (!u || ha_wire_u64(f, 0, &id) < 0 || !(u->data = malloc(f->len - 8 + 1))) {
		free(u);
		link_close(c, "a change from the backup too short");
		return;
	}
	u->ha = c->ha;
	u->c = c;
	snprintf(u->origin, sizeof(u->origin), "%s", c->peer.node);
	u->id = id;
	u->len = f->len - 8;
	memcpy(u->data, f->body + 8, u->len);
	if (change_submit(&c->ha->changes, up_apply, up_done, u) < 0) {
		free(u->data);
		free(u);
	}
}

struct upack {
	uint64_t id;
};

static void upack_run(store_t *s, void *arg)
{
	struct upack *a = arg;
	struct store_err e = { 0 };
	store_replica_outbox_ack(s, a->id, &e);
}

void node_frame(struct ha_conn *c, struct ha_frame const *f)
{
	ha_t *ha = c->ha;
	uint64_t v;
	if (f->type == HA_HELLO) {
		on_hello(c, f);
		return;
	}
	if (!c->hello_seen) {
		link_close(c, "a message before hello");
		return;
	}
	bool backup = ha->role == ROLE_BACKUP, primary = ha->role == ROLE_PRIMARY;
	switch (f->type) {
	case HA_CHANGE:
		if (backup)
			on_change(c, f);
		break;
	case HA_SNAPSHOT:
		if (backup)
			on_snapshot(c, f);
		break;
	case HA_ACK:
		if (primary && ha_wire_u64(f, 0, &v) == 0 && v <= ha->head)
			ha->peer_applied = v;
		break;
	case HA_UP:
		if (primary)
			on_up(c, f);
		break;
	case HA_UPACK:
		if (backup && ha_wire_u64(f, 0, &v) == 0) {
			struct upack *a = malloc(sizeof(*a));
			if (a &&
			    (a->id = v, store_worker_submit(ha->store, upack_run, free, a) < 0))
				free(a);
		}
		break;
	case HA_PING:
		if (ha_wire_u64(f, 0, &v) == 0) {
			if (backup && v > ha->primary_head)
				ha->primary_head = v;
			if (primary && v <= ha->head)
				ha->peer_applied = v;
		}
		break;
	case HA_REGS:
		regs_frame(c, f);
		break;
	case HA_ERROR: {
		/* the peer's words, quoted and escaped: they reach the log */
		char text[301];
		size_t n = f->len < sizeof(text) - 1 ? f->len : sizeof(text) - 1;
		memcpy(text, f->body, n);
		text[n] = '\0';
		log_warning("node %s refused: %s", c->peer.node, LOGQ(text));
		link_close(c, "the peer refused");
		break;
	}
	default:
		link_close(c, "an unexpected message");
	}
}

void node_closed(struct ha_conn *c)
{
	ha_t *ha = c->ha;
	if (ha->link == c) {
		ha->link = NULL;
		log_notice("the link to node %s is down", c->peer.node[0] ? c->peer.node : c->addr);
		regs_link_down(ha);
	}
}
