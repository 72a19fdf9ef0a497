/*
 * ha.status, ha.invite, ha.join and ha.promote over the control socket
 * (see ctl/cmd_ha.h). Each is a thin call into ha/: the node's state is
 * the main thread's, as these handlers are.
 */
#include "autoconfig.h"

#include "ctl/cmd_ha.h"

#include <errno.h>
#include <string.h>

#include "ha/ha.h"

static ha_t *node_of(struct ctl_job *j, struct ctl_handlers const *h)
{
	ha_t *ha = h->ha ? h->ha(h->arg) : NULL;
	if (!ha)
		ctl_job_fail(j, -EINVAL,
			     "this node runs alone ([ha] role = standalone): there is no pair");
	return ha;
}

int ctl_ha_status(struct ctl_job *j, struct ctl_handlers const *h)
{
	j->data = ha_status(h->ha ? h->ha(h->arg) : NULL);
	return 0;
}

int ctl_ha_invite(struct ctl_job *j, struct ctl_handlers const *h)
{
	char err[400];
	ha_t *ha = node_of(j, h);
	if (!ha)
		return j->err.code;
	json_t *valid = json_object_get(j->args, "valid");
	if (valid && (!json_is_integer(valid) || json_integer_value(valid) < 1 ||
		      json_integer_value(valid) > 600))
		return ctl_job_fail(j, -EINVAL, "valid is 1 to 600 seconds");
	if (ha_invite(ha, valid ? (unsigned)json_integer_value(valid) : 600, &j->data, err,
		      sizeof(err)) < 0)
		return ctl_job_fail(j, -EINVAL, err);
	return 0;
}

static void joined(void *arg, int rc, json_t *data, char const *err)
{
	struct ctl_job *j = arg;
	if (rc < 0)
		ctl_job_fail(j, -EINVAL, err);
	else
		j->data = data;
	ctl_job_resume(j);
}

int ctl_ha_join(struct ctl_job *j, struct ctl_handlers const *h)
{
	char err[400];
	ha_t *ha = node_of(j, h);
	if (!ha)
		return j->err.code;
	json_t *t = json_object_get(j->args, "token");
	if (!json_is_string(t))
		return ctl_job_fail(j, -EINVAL, "argument 'token' is required");
	if (ha_join(ha, json_string_value(t), joined, j, err, sizeof(err)) < 0)
		return ctl_job_fail(j, -EINVAL, err);
	return CTL_PENDING;
}

int ctl_ha_promote(struct ctl_job *j, struct ctl_handlers const *h)
{
	char err[400];
	ha_t *ha = node_of(j, h);
	if (!ha)
		return j->err.code;
	if (ha_promote(ha, &j->data, err, sizeof(err)) < 0)
		return ctl_job_fail(j, -EINVAL, err);
	return 0;
}
