#include "autoconfig.h"

#include "store/directory.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct directory {
	struct dir_user **users;
	size_t n_users, cap_users;
	struct dir_device **devices;
	size_t n_devices, cap_devices;
	struct dir_line **lines;
	size_t n_lines, cap_lines;
	/* device name per line, until sealed */
	char **line_device;
	struct dir_trunk **trunks;
	size_t n_trunks, cap_trunks;
	struct dir_did **dids;
	size_t n_dids, cap_dids;
	struct dir_route **routes;
	size_t n_routes, cap_routes;
	bool sealed;
};

directory_t *directory_create(void)
{
	return calloc(1, sizeof(struct directory));
}

static void trunk_free(struct dir_trunk *t)
{
	if (!t)
		return;
	if (t->password) {
		explicit_bzero(t->password, strlen(t->password));
		free(t->password);
	}
	free(t->name);
	free(t->registrar);
	free(t->proxy);
	free(t->user);
	free(t->auth_user);
	free(t->realm);
	free(t->transport);
	free(t->caller_id);
	free(t->default_dn);
	free(t->contact_user);
	free(t);
}

void directory_destroy(directory_t *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_trunks; i++)
		trunk_free(d->trunks[i]);
	for (size_t i = 0; i < d->n_dids; i++) {
		free(d->dids[i]->number);
		free(d->dids[i]->dn);
		free(d->dids[i]);
	}
	for (size_t i = 0; i < d->n_routes; i++) {
		free(d->routes[i]->pattern);
		free(d->routes[i]->prepend);
		free(d->routes[i]);
	}
	free(d->trunks);
	free(d->dids);
	free(d->routes);
	for (size_t i = 0; i < d->n_users; i++) {
		free(d->users[i]->name);
		free(d->users[i]);
	}
	for (size_t i = 0; i < d->n_devices; i++) {
		free(d->devices[i]->name);
		free(d->devices[i]->model);
		free(d->devices[i]->lines);
		free(d->devices[i]);
	}
	for (size_t i = 0; i < d->n_lines; i++) {
		free(d->lines[i]->dn);
		free(d->lines[i]->display);
		free(d->lines[i]->cfwd_all);
		free(d->lines[i]->cfwd_busy);
		free(d->lines[i]->cfwd_noanswer);
		free(d->lines[i]);
		if (d->line_device)
			free(d->line_device[i]);
	}
	free(d->users);
	free(d->devices);
	free(d->lines);
	free(d->line_device);
	free(d);
}

/* Appends p to a growing array of pointers. */
static int push(void ***arr, size_t *n, size_t *cap, void *p)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		void **na = realloc(*arr, nc * sizeof(void *));
		if (!na)
			return -ENOMEM;
		*arr = na;
		*cap = nc;
	}
	(*arr)[(*n)++] = p;
	return 0;
}

int directory_add_user(directory_t *d, char const *name, char const *ha1_md5,
		       char const *ha1_sha256)
{
	struct dir_user *u = calloc(1, sizeof(*u));
	if (!u || !(u->name = strdup(name)))
		goto fail;
	snprintf(u->ha1_md5, sizeof(u->ha1_md5), "%s", ha1_md5 ? ha1_md5 : "");
	snprintf(u->ha1_sha256, sizeof(u->ha1_sha256), "%s", ha1_sha256 ? ha1_sha256 : "");
	if (push((void ***)&d->users, &d->n_users, &d->cap_users, u) == 0)
		return 0;
fail:
	if (u)
		free(u->name);
	free(u);
	return -ENOMEM;
}

enum dir_transport directory_transport_from_text(char const *t)
{
	if (t && !strcmp(t, "udp"))
		return DIR_TP_UDP;
	if (t && !strcmp(t, "tcp"))
		return DIR_TP_TCP;
	if (t && !strcmp(t, "tls"))
		return DIR_TP_TLS;
	return DIR_TP_ANY;
}

char const *directory_transport_name(enum dir_transport t)
{
	static char const *const names[] = { "any", "udp", "tcp", "tls" };
	return t <= DIR_TP_TLS ? names[t] : "any";
}

int directory_add_device(directory_t *d, struct dir_device_spec const *spec)
{
	char const *name = spec->name, *model = spec->model, *digest_user = spec->digest_user;
	unsigned lines = spec->lines;
	struct dir_device *dev = calloc(1, sizeof(*dev));
	if (!dev || lines == 0 || lines > 64)
		goto fail;
	dev->name = strdup(name);
	dev->model = strdup(model);
	dev->lines = calloc(lines, sizeof(*dev->lines));
	/* The user is linked at seal time; keep its name in a temporary user. */
	dev->user = calloc(1, sizeof(*dev->user));
	if (!dev->name || !dev->model || !dev->lines || !dev->user ||
	    !(dev->user->name = strdup(digest_user)))
		goto fail;
	dev->model_lines = lines;
	dev->cisco = spec->cisco;
	dev->cucm_mode = spec->cucm_mode;
	dev->identify = spec->identify;
	dev->qop_required = spec->qop_required;
	dev->algs = spec->algs;
	dev->dnd = spec->dnd;
	dev->transport = spec->transport;
	if (push((void ***)&d->devices, &d->n_devices, &d->cap_devices, dev) == 0)
		return 0;
fail:
	if (dev) {
		free(dev->name);
		free(dev->model);
		free(dev->lines);
		if (dev->user)
			free(dev->user->name);
		free(dev->user);
	}
	free(dev);
	return -ENOMEM;
}

int directory_add_line(directory_t *d, char const *dn, char const *device, unsigned index,
		       char const *display, struct dir_forward const *fwd)
{
	struct dir_line *l = calloc(1, sizeof(*l));
	char *devname = strdup(device);
	size_t cap = d->cap_lines;
	if (!l || !devname || !(l->dn = strdup(dn)))
		goto fail;
	if (display && !(l->display = strdup(display)))
		goto fail;
	if (fwd) {
		if ((fwd->all && fwd->all[0] && !(l->cfwd_all = strdup(fwd->all))) ||
		    (fwd->busy && fwd->busy[0] && !(l->cfwd_busy = strdup(fwd->busy))) ||
		    (fwd->noanswer && fwd->noanswer[0] &&
		     !(l->cfwd_noanswer = strdup(fwd->noanswer))))
			goto fail;
		l->noanswer_timeout = fwd->noanswer_timeout;
	}
	l->index = index;
	if (push((void ***)&d->lines, &d->n_lines, &d->cap_lines, l) < 0)
		goto fail;
	if (d->cap_lines != cap || !d->line_device) {
		char **nd = realloc(d->line_device, d->cap_lines * sizeof(char *));
		if (!nd) {
			d->n_lines--;
			goto fail;
		}
		d->line_device = nd;
	}
	d->line_device[d->n_lines - 1] = devname;
	return 0;
fail:
	if (l) {
		free(l->dn);
		free(l->display);
		free(l->cfwd_all);
		free(l->cfwd_busy);
		free(l->cfwd_noanswer);
	}
	free(l);
	free(devname);
	return -ENOMEM;
}

/* A copy of s, or NULL; *bad is set when s was given and could not be copied. */
static char *dup_opt(char const *s, bool *bad)
{
	char *c = s ? strdup(s) : NULL;
	if (s && !c)
		*bad = true;
	return c;
}

int directory_add_trunk(directory_t *d, struct dir_trunk const *src)
{
	bool bad = false;
	struct dir_trunk *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct dir_trunk){
		.name = dup_opt(src->name, &bad),
		.registrar = dup_opt(src->registrar, &bad),
		.proxy = dup_opt(src->proxy, &bad),
		.user = dup_opt(src->user, &bad),
		.auth_user = dup_opt(src->auth_user, &bad),
		.password = dup_opt(src->password, &bad),
		.realm = dup_opt(src->realm, &bad),
		.transport = dup_opt(src->transport ? src->transport : "udp", &bad),
		.caller_id = dup_opt(src->caller_id, &bad),
		.default_dn = dup_opt(src->default_dn, &bad),
		.contact_user = dup_opt(src->contact_user, &bad),
		.expires = src->expires,
		.do_register = src->do_register,
		.emergency = src->emergency,
	};
	if (!t->name || !t->registrar)
		bad = true;
	if (bad || push((void ***)&d->trunks, &d->n_trunks, &d->cap_trunks, t) < 0) {
		trunk_free(t);
		return -ENOMEM;
	}
	return 0;
}

/* Trunks are looked up by name while the snapshot is built: the list is short. */
static struct dir_trunk *trunk_named(directory_t const *d, char const *name)
{
	for (size_t i = 0; name && i < d->n_trunks; i++)
		if (!strcmp(d->trunks[i]->name, name))
			return d->trunks[i];
	return NULL;
}

int directory_add_did(directory_t *d, char const *number, char const *trunk, char const *dn)
{
	bool bad = false;
	struct dir_trunk const *t = trunk_named(d, trunk);
	if (!t)
		return -EINVAL;
	struct dir_did *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->number = dup_opt(number, &bad);
	x->dn = dup_opt(dn, &bad);
	x->trunk = t;
	if (bad || !x->number || push((void ***)&d->dids, &d->n_dids, &d->cap_dids, x) < 0) {
		free(x->number);
		free(x->dn);
		free(x);
		return -ENOMEM;
	}
	return 0;
}

int directory_add_route(directory_t *d, long long id, char const *pattern, char const *trunk,
			unsigned strip, char const *prepend, int priority, bool allow_restricted)
{
	bool bad = false;
	struct dir_trunk const *t = NULL;
	if (trunk && !(t = trunk_named(d, trunk)))
		return -EINVAL;
	struct dir_route *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->id = id;
	r->pattern = dup_opt(pattern, &bad);
	r->prepend = dup_opt(prepend ? prepend : "", &bad);
	r->trunk = t;
	r->strip = strip;
	r->priority = priority;
	r->allow_restricted = allow_restricted;
	if (bad || !r->pattern || push((void ***)&d->routes, &d->n_routes, &d->cap_routes, r) < 0) {
		free(r->pattern);
		free(r->prepend);
		free(r);
		return -ENOMEM;
	}
	return 0;
}

static int cmp_trunk(void const *a, void const *b)
{
	return strcmp((*(struct dir_trunk *const *)a)->name, (*(struct dir_trunk *const *)b)->name);
}

static int cmp_did(void const *a, void const *b)
{
	return strcmp((*(struct dir_did *const *)a)->number, (*(struct dir_did *const *)b)->number);
}

/* Priority first; then the longer pattern (the more specific); then the older route. */
static int cmp_route(void const *a, void const *b)
{
	struct dir_route const *x = *(struct dir_route *const *)a;
	struct dir_route const *y = *(struct dir_route *const *)b;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	size_t lx = strlen(x->pattern), ly = strlen(y->pattern);
	if (lx != ly)
		return lx > ly ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_user(void const *a, void const *b)
{
	return strcmp((*(struct dir_user *const *)a)->name, (*(struct dir_user *const *)b)->name);
}

static int cmp_device(void const *a, void const *b)
{
	return strcmp((*(struct dir_device *const *)a)->name,
		      (*(struct dir_device *const *)b)->name);
}

static int cmp_line(void const *a, void const *b)
{
	return strcmp((*(struct dir_line *const *)a)->dn, (*(struct dir_line *const *)b)->dn);
}

static struct dir_user *find_user(directory_t const *d, char const *name)
{
	struct dir_user key = { .name = (char *)name }, *kp = &key, **r;
	if (!d->n_users)
		return NULL;
	r = bsearch(&kp, d->users, d->n_users, sizeof(*d->users), cmp_user);
	return r ? *r : NULL;
}

static struct dir_device *find_device(directory_t const *d, char const *name)
{
	struct dir_device key = { .name = (char *)name }, *kp = &key, **r;
	if (!d->n_devices)
		return NULL;
	r = bsearch(&kp, d->devices, d->n_devices, sizeof(*d->devices), cmp_device);
	return r ? *r : NULL;
}

int directory_seal(directory_t *d)
{
	if (d->sealed)
		return -EINVAL;
	if (d->n_users)
		qsort(d->users, d->n_users, sizeof(*d->users), cmp_user);
	if (d->n_devices)
		qsort(d->devices, d->n_devices, sizeof(*d->devices), cmp_device);
	for (size_t i = 0; i < d->n_devices; i++) {
		struct dir_device *dev = d->devices[i];
		struct dir_user *tmp = dev->user;
		dev->user = find_user(d, tmp->name);
		free(tmp->name);
		free(tmp);
		if (dev->user)
			dev->user->device = dev;
	}
	for (size_t i = 0; i < d->n_lines; i++) {
		struct dir_line *l = d->lines[i];
		l->device = find_device(d, d->line_device[i]);
		free(d->line_device[i]);
		d->line_device[i] = NULL;
		if (l->device && l->index >= 1 && l->index <= l->device->model_lines)
			l->device->lines[l->index - 1] = l;
	}
	free(d->line_device);
	d->line_device = NULL;
	if (d->n_lines)
		qsort(d->lines, d->n_lines, sizeof(*d->lines), cmp_line);
	if (d->n_trunks)
		qsort(d->trunks, d->n_trunks, sizeof(*d->trunks), cmp_trunk);
	if (d->n_dids)
		qsort(d->dids, d->n_dids, sizeof(*d->dids), cmp_did);
	if (d->n_routes)
		qsort(d->routes, d->n_routes, sizeof(*d->routes), cmp_route);
	d->sealed = true;
	return 0;
}

struct dir_user const *directory_user(directory_t const *d, char const *name)
{
	return d && name ? find_user(d, name) : NULL;
}

struct dir_device const *directory_device(directory_t const *d, char const *name)
{
	return d && name ? find_device(d, name) : NULL;
}

struct dir_line const *directory_line(directory_t const *d, char const *dn)
{
	if (!d || !dn)
		return NULL;
	struct dir_line key = { .dn = (char *)dn }, *kp = &key, **r;
	if (!d->n_lines)
		return NULL;
	r = bsearch(&kp, d->lines, d->n_lines, sizeof(*d->lines), cmp_line);
	return r ? *r : NULL;
}

size_t directory_count_devices(directory_t const *d)
{
	return d ? d->n_devices : 0;
}

struct dir_device const *directory_device_at(directory_t const *d, size_t i)
{
	return d && i < d->n_devices ? d->devices[i] : NULL;
}

struct dir_line const *directory_first_line(struct dir_device const *dev)
{
	for (unsigned i = 0; i < dev->model_lines; i++)
		if (dev->lines[i])
			return dev->lines[i];
	return NULL;
}

/* ---- trunks and the dial plan ---- */

size_t directory_count_trunks(directory_t const *d)
{
	return d ? d->n_trunks : 0;
}

struct dir_trunk const *directory_trunk_at(directory_t const *d, size_t i)
{
	return d && i < d->n_trunks ? d->trunks[i] : NULL;
}

struct dir_trunk const *directory_trunk(directory_t const *d, char const *name)
{
	return d ? trunk_named(d, name) : NULL;
}

struct dir_trunk const *directory_trunk_by_contact(directory_t const *d, char const *user)
{
	for (size_t i = 0; d && user && i < d->n_trunks; i++)
		if (d->trunks[i]->contact_user && !strcmp(d->trunks[i]->contact_user, user))
			return d->trunks[i];
	return NULL;
}

struct dir_did const *directory_did(directory_t const *d, char const *number)
{
	if (!d || !number || !d->n_dids)
		return NULL;
	struct dir_did key = { .number = (char *)number }, *kp = &key, **r;
	r = bsearch(&kp, d->dids, d->n_dids, sizeof(*d->dids), cmp_did);
	return r ? *r : NULL;
}

struct dir_did const *directory_did_of_line(directory_t const *d, struct dir_trunk const *t,
					    char const *dn)
{
	for (size_t i = 0; d && dn && i < d->n_dids; i++) {
		struct dir_did const *x = d->dids[i];
		char const *to = x->dn ? x->dn : t->default_dn;
		if (x->trunk == t && to && !strcmp(to, dn))
			return x;
	}
	return NULL;
}

size_t directory_count_dids(directory_t const *d)
{
	return d ? d->n_dids : 0;
}

struct dir_did const *directory_did_at(directory_t const *d, size_t i)
{
	return d && i < d->n_dids ? d->dids[i] : NULL;
}

size_t directory_count_routes(directory_t const *d)
{
	return d ? d->n_routes : 0;
}

struct dir_route const *directory_route_at(directory_t const *d, size_t i)
{
	return d && i < d->n_routes ? d->routes[i] : NULL;
}

static bool is_dial_char(char c)
{
	return (c >= '0' && c <= '9') || c == '*' || c == '#' || c == '+';
}

bool dialplan_pattern_valid(char const *p)
{
	size_t n = p ? strlen(p) : 0;
	if (n == 0 || n > 32 || !strcmp(p, "."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '.' && i == n - 1)
			continue;
		if (!is_dial_char(c) && c != 'X' && c != 'Z' && c != 'N')
			return false;
	}
	return true;
}

bool dialplan_match(char const *p, char const *n)
{
	if (!p || !n)
		return false;
	for (; *p; p++, n++) {
		if (p[0] == '.' && !p[1])
			return *n != '\0';
		if (!*n)
			return false;
		bool digit = *n >= '0' && *n <= '9';
		switch (*p) {
		case 'X':
			if (!digit)
				return false;
			break;
		case 'Z':
			if (!digit || *n == '0')
				return false;
			break;
		case 'N':
			if (!digit || *n < '2')
				return false;
			break;
		default:
			if (*p != *n)
				return false;
		}
	}
	return *n == '\0';
}
