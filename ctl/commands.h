/*
 * The control protocol's commands: one table naming each command, the
 * thread that runs it (main, store or SIP), the string argument it cannot
 * do without, whether it changes the configuration (then the SIP thread
 * gets a new directory before the client hears "done") and its handler.
 * ctl/server.c frames requests and hands each job to its command's thread.
 *
 * Thread: a handler runs on the thread its entry names; the table is
 * constant.
 */
#ifndef SIPREG_CTL_COMMANDS_H
#define SIPREG_CTL_COMMANDS_H

#include <jansson.h>
#include <stdbool.h>

#include "ctl/server.h"
#include "daemon/thread.h"
#include "sip/thread.h"
#include "store/store.h"

struct ctl_command;

/* One request on its way: arguments in, data or an error out. */
struct ctl_job {
	void *conn; /* the server's connection */
	char cmd[32];
	struct ctl_command const *def;
	json_t *args; /* an object, never NULL */
	json_t *data; /* the answer's data, or NULL */
	struct store_err err;
};

struct ctl_command {
	char const *name;
	enum thread_role thread; /* THREAD_MAIN, THREAD_STORE or THREAD_SIP */
	/* One of the three, matching thread; each sets j->data, or j->err (and returns it). */
	int (*local)(struct ctl_job *j, struct ctl_handlers const *h);
	int (*store)(store_t *s, struct ctl_job *j);
	void (*sip)(struct ctl_job *j, sip_thread_t *t);
	char const *required; /* a string argument checked before the job is handed over */
	bool changes;	      /* logged at notice when done; a store change installs a directory */
	bool status;	      /* the daemon's status merged into the data */
};

/* The command called name, or NULL. */
struct ctl_command const *ctl_command_find(char const *name);

/*
 * One request line checked and made a job (args an object, the command
 * known, its required argument there): the job (conn NULL, for the caller
 * to set), or NULL with the error code ("invalid", or "internal" when out
 * of memory) in *code and the reason in msg.
 */
struct ctl_job *ctl_request_parse(char const *line, size_t len, char const **code, char *msg,
				  size_t msglen);

/* A main-thread handler's answer will come later: it calls ctl_job_resume(). */
#define CTL_PENDING 1

/* Main thread: a pending job is done (data or err set); its client is answered. */
void ctl_job_resume(struct ctl_job *j);

/* Sets the job's error (code and one sentence) and returns code. */
int ctl_job_fail(struct ctl_job *j, int code, char const *msg);

/* The request for the log: command and string arguments, never a password. */
void ctl_describe(char *buf, size_t len, char const *cmd, json_t *args);

#endif
