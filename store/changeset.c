/*
 * A peer's changeset checked before SQLite sees it. SQLite's own reader
 * trusts the structure it is given (a crafted length made it spin for
 * seconds on one input in the fuzzer), and a changeset may name any table.
 * So every byte is walked here first: table headers must name a table the
 * sender may change, with this schema's column count and primary key; each
 * record has a known operation and well-formed values that end where the
 * changeset ends. A backup may send only what phones change there: DND on
 * a device, a line's forwards, and new call records.
 */
#include "autoconfig.h"

#include "store/db.h"
#include "store/replica.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_COLS 64

struct table_info {
	char name[16];
	int ncol;
	uint8_t pk[MAX_COLS];
	char col[MAX_COLS][24];
};

struct reader {
	uint8_t const *p, *end;
};

static int bad(char *why, size_t len, char const *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(char *why, size_t len, char const *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* SQLite's varint: 7 bits a byte, high bit set to go on, the ninth byte whole. */
static int varint(struct reader *r, uint64_t *v)
{
	*v = 0;
	for (int i = 0; i < 9; i++) {
		if (r->p >= r->end)
			return -1;
		uint8_t b = *r->p++;
		if (i == 8) {
			*v = *v << 8 | b;
			return 0;
		}
		*v = *v << 7 | (b & 0x7f);
		if (!(b & 0x80))
			return 0;
	}
	return 0;
}

/* One value; *defined false for "not in this record" (type 0). */
static int value(struct reader *r, bool *defined)
{
	if (r->p >= r->end)
		return -1;
	uint8_t type = *r->p++;
	uint64_t n;
	*defined = type != 0;
	switch (type) {
	case 0: /* undefined */
	case 5: /* NULL */
		return 0;
	case 1: /* integer */
	case 2: /* real */
		if (r->end - r->p < 8)
			return -1;
		r->p += 8;
		return 0;
	case 3: /* text */
	case 4: /* blob */
		if (varint(r, &n) < 0 || n > (uint64_t)(r->end - r->p))
			return -1;
		r->p += n;
		return 0;
	default:
		return -1;
	}
}

static int table_info(store_t *s, char const *name, struct table_info *t)
{
	char sql[96];
	sqlite3_stmt *st;
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(sql, sizeof(sql), "SELECT name, pk FROM pragma_table_info('%s') ORDER BY cid",
		 name);
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW && t->ncol < MAX_COLS) {
		snprintf(t->col[t->ncol], sizeof(t->col[0]), "%s",
			 (char const *)sqlite3_column_text(st, 0));
		t->pk[t->ncol++] = (uint8_t)sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	return t->ncol ? 0 : -1;
}

static bool listed(char const *name, char const *const *list)
{
	for (; *list; list++)
		if (!strcmp(name, *list))
			return true;
	return false;
}

/* What a backup may send up: which operations on which tables, which columns of a device. */
static int upstream_allows(struct table_info const *t, int op, bool const *set, char *why,
			   size_t len)
{
	static char const *const device_cols[] = { "dnd", "updated_at", "changed_at", "changed_by",
						   NULL };
	if (!strcmp(t->name, "cdr") && op == SQLITE_INSERT)
		return 0;
	if (!strcmp(t->name, "feature") && (op == SQLITE_INSERT || op == SQLITE_UPDATE))
		return 0;
	if (!strcmp(t->name, "device") && op == SQLITE_UPDATE) {
		for (int i = 0; i < t->ncol; i++)
			if (set[i] && !t->pk[i] && !listed(t->col[i], device_cols))
				return bad(why, len, "a backup may not change a device's %s",
					   t->col[i]);
		return 0;
	}
	return bad(why, len, "a backup may not %s rows of %s",
		   op == SQLITE_INSERT	 ? "insert"
		   : op == SQLITE_DELETE ? "delete"
					 : "update",
		   t->name);
}

int store_changeset_check(store_t *s, uint8_t const *data, size_t len, bool from_primary, char *why,
			  size_t whylen)
{
	static char const *const replicated[] = { "user",      "device", "line", "feature", "trunk",
						  "trunk_did", "route",	 "cdr",	 NULL };
	static char const *const upstream[] = { "device", "feature", "cdr", NULL };
	struct reader r = { data, data + len };
	struct table_info t = { .ncol = 0 };
	bool set[MAX_COLS];
	unsigned records = 0;

	if (!len)
		return bad(why, whylen, "an empty change");
	while (r.p < r.end) {
		if (*r.p == 'T') {
			uint64_t ncol;
			r.p++;
			if (varint(&r, &ncol) < 0 || ncol < 1 || ncol > MAX_COLS ||
			    (uint64_t)(r.end - r.p) < ncol)
				return bad(why, whylen, "a table header is cut short");
			uint8_t const *pk = r.p;
			r.p += ncol;
			uint8_t const *nul = memchr(r.p, 0, (size_t)(r.end - r.p));
			if (!nul || nul - r.p < 1 || nul - r.p >= (long)sizeof(t.name))
				return bad(why, whylen, "a table name is not valid");
			char name[sizeof(t.name)];
			memcpy(name, r.p, (size_t)(nul - r.p) + 1);
			r.p = nul + 1;
			if (!listed(name, from_primary ? replicated : upstream))
				return bad(why, whylen,
					   "a change of a table not replicated that way");
			if (table_info(s, name, &t) < 0 || (uint64_t)t.ncol != ncol)
				return bad(why, whylen,
					   "table %s has %d columns here, %u in the change", name,
					   t.ncol, (unsigned)ncol);
			for (int i = 0; i < t.ncol; i++)
				if ((pk[i] != 0) != (t.pk[i] != 0))
					return bad(why, whylen, "table %s's primary key differs",
						   name);
			continue;
		}
		if (!t.ncol)
			return bad(why, whylen, "a record before any table header");
		int op = *r.p++;
		if (op != SQLITE_INSERT && op != SQLITE_DELETE && op != SQLITE_UPDATE)
			return bad(why, whylen, "an unknown operation %d", op);
		if (r.p >= r.end || *r.p > 1)
			return bad(why, whylen, "a record is cut short");
		r.p++; /* indirect */
		int n_records = op == SQLITE_UPDATE ? 2 : 1;
		bool old[MAX_COLS];
		for (int k = 0; k < n_records; k++)
			for (int i = 0; i < t.ncol; i++) {
				bool defined;
				if (value(&r, &defined) < 0)
					return bad(why, whylen, "a value of table %s is not valid",
						   t.name);
				/* an update's old values, then (last) its new ones or an insert's
				 */
				if (k == 0)
					old[i] = defined;
				set[i] = defined;
			}
		/*
		 * SQLite reads the key of every record and an insert's or a
		 * delete's every column without looking; an update changes
		 * what it had: new and old values come in pairs.
		 */
		bool changes = false;
		for (int i = 0; i < t.ncol; i++) {
			if (op != SQLITE_UPDATE && !set[i])
				return bad(why, whylen, "a record of table %s lacks a column",
					   t.name);
			if (op != SQLITE_UPDATE)
				continue;
			if (t.pk[i] && (!old[i] || set[i]))
				return bad(why, whylen, "an update of table %s without its key",
					   t.name);
			if (!t.pk[i] && set[i] != old[i])
				return bad(why, whylen,
					   "an update of table %s with unpaired values", t.name);
			changes |= !t.pk[i] && set[i];
		}
		if (op == SQLITE_UPDATE && !changes)
			return bad(why, whylen, "an update of table %s that changes nothing",
				   t.name);
		if (!from_primary && upstream_allows(&t, op, set, why, whylen) < 0)
			return -1;
		records++;
	}
	return records ? 0 : bad(why, whylen, "a change without records");
}
