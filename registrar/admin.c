/*
 * What the administrator sees and does through the control socket: the
 * bindings, their removal, the bans and their lifting.
 *
 * Thread: SIP (called through sip_thread_call()).
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/thread.h"
#include "registrar/internal.h"

struct list_ctx {
	registrar_t *r;
	json_t *arr;
	char const *device;
	time_t now;
};

static void list_one(struct binding *b, void *arg)
{
	struct list_ctx *l = arg;
	if (l->device && (!b->device || strcmp(b->device, l->device) != 0))
		return;
	struct dir_line const *line = directory_line(l->r->dir, b->dn);
	long left = (long)(b->expires - l->now);
	json_array_append_new(
		l->arr, json_pack("{s:s?, s:s?, s:i, s:s, s:s, s:s, s:s, s:s?, s:I, s:b}", "node",
				  l->r->peer.self[0] ? l->r->peer.self : NULL, "device", b->device,
				  "index", line ? (int)line->index : 0, "dn", b->dn,
				  "contact", b->contact, "transport", b->transport, "source",
				  b->source, "user_agent", b->user_agent, "expires_in",
				  (json_int_t)(left > 0 ? left : 0), "derived", b->derived));
}

static int cmp_entries(void const *a, void const *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(json_string_value(json_object_get(x, "device")) ?: "",
		       json_string_value(json_object_get(y, "device")) ?: "");
	if (c)
		return c;
	c = (int)(json_integer_value(json_object_get(x, "index")) -
		  json_integer_value(json_object_get(y, "index")));
	if (c)
		return c;
	return strcmp(json_string_value(json_object_get(x, "contact")),
		      json_string_value(json_object_get(y, "contact")));
}

json_t *registrar_list(registrar_t *r, char const *device)
{
	ASSERT_THREAD(SIP);
	struct list_ctx l = { r, json_array(), device, time(NULL) };
	binding_foreach(r->bindings, list_one, &l);
	reg_peer_list(r, l.arr, device);
	/* Sorted by device and line, for people reading it. */
	size_t n = json_array_size(l.arr);
	json_t **items = calloc(n ? n : 1, sizeof(*items));
	json_t *sorted = json_array();
	if (!items)
		return l.arr;
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(l.arr, i));
	qsort(items, n, sizeof(*items), cmp_entries);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(sorted, items[i]);
	free(items);
	json_decref(l.arr);
	return sorted;
}

int registrar_flush(registrar_t *r, char const *what, size_t *removed)
{
	ASSERT_THREAD(SIP);
	*removed = 0;
	struct dir_device const *dev = directory_device(r->dir, what);
	struct dir_line const *line = dev ? NULL : directory_line(r->dir, what);
	if (dev)
		*removed = binding_remove_device(r->bindings, dev->name);
	else if (line)
		*removed = binding_remove_aor(r->bindings, line->dn);
	else
		return -ENOENT;
	/*
	 * The removals go to the store before the answer does, so whatever the
	 * administrator asks next (line list, line show) counts without them.
	 */
	reg_flush_changes(r);
	return 0;
}

static void ban_one(char const *key, unsigned failures, long left, char const *reason, void *arg)
{
	bool user = strncmp(key, "user:", 5) == 0;
	json_array_append_new(arg, json_pack("{s:s, s:s, s:i, s:I, s:s}", "kind",
					     user ? "user" : "address", "what",
					     user ? key + 5 : key, "failures", (int)failures,
					     "seconds_left", (json_int_t)left, "reason", reason));
}

json_t *registrar_bans(registrar_t *r)
{
	ASSERT_THREAD(SIP);
	json_t *arr = json_array();
	ban_foreach(r->bans, time(NULL), ban_one, arr);
	return arr;
}

bool registrar_unban(registrar_t *r, char const *address)
{
	ASSERT_THREAD(SIP);
	char key[128];
	if (strncmp(address, "user:", 5) == 0)
		return ban_lift(r->bans, address);
	if (ban_lift(r->bans, address))
		return true;
	snprintf(key, sizeof(key), "user:%s", address);
	return ban_lift(r->bans, key);
}

size_t registrar_count(registrar_t *r)
{
	ASSERT_THREAD(SIP);
	return binding_count(r->bindings);
}
