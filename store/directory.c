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
	bool sealed;
};

directory_t *directory_create(void)
{
	return calloc(1, sizeof(struct directory));
}

void directory_destroy(directory_t *d)
{
	if (!d)
		return;
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

int directory_add_device(directory_t *d, char const *name, char const *model, unsigned lines,
			 bool cisco, bool cucm_mode, char const *digest_user, bool identify,
			 bool qop_required, enum dir_algs algs, bool dnd)
{
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
	dev->cisco = cisco;
	dev->cucm_mode = cucm_mode;
	dev->identify = identify;
	dev->qop_required = qop_required;
	dev->algs = algs;
	dev->dnd = dnd;
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

size_t directory_count_lines(directory_t const *d)
{
	return d ? d->n_lines : 0;
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
