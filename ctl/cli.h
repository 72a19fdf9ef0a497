/*
 * What sipregctl's files share: the global options, argument parsing,
 * password input, the request to sipregd and the printing of its answers
 * (ctl/cli.c). sipregctl only.
 */
#ifndef SIPREG_CTL_CLI_H
#define SIPREG_CTL_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define EXIT_REFUSED	 1
#define EXIT_USAGE	 2
#define EXIT_UNREACHABLE 3
#define DEFAULT_SOCKET	 "sipregd.sock"
#define MAX_REPLY	 (16 * 1024 * 1024)
struct opt {
	char const *name; /* "--model" */
	bool has_value;
	char const *value;
	bool set;
};
struct column {
	char const *header;
	char const *key;
};

#define NCOLS(a) ((int)(sizeof(a) / sizeof((a)[0])))

extern char const cli_usage_text[];
extern bool cli_opt_json;	   /* --json */
extern char const *cli_opt_socket; /* -s PATH */

/* ctl/cli.c */
void cli_usage_error(char const *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void cli_parse_args(int argc, char **argv, char const *cmd, char const **pos, int npos,
		    struct opt *opts, int nopts);
bool cli_whole_number(char const *v, long long lo, long long hi, long long *out);
int cli_read_password_stdin(char *buf, size_t len);
int cli_read_password(bool from_stdin, char const *what, char const *user, char *buf, size_t len);
json_t *cli_call(char const *cmd, json_t *args);
void cli_print_json(json_t *data);
void cli_cell(char *buf, size_t len, json_t *v);
void cli_print_table(json_t *rows, struct column const *cols, int ncols);
void cli_print_fields(json_t *obj, struct column const *cols, int ncols);
int cli_show(json_t *data, struct column const *cols, int ncols);
int cli_done(json_t *data, char const *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ctl/cli_trunk.c */
int cmd_trunk(int argc, char **argv);
int cmd_route(int argc, char **argv);

/* ctl/cli_tls.c */
int cmd_tls(int argc, char **argv);

/* ctl/cli_ha.c */
int cmd_ha(int argc, char **argv);

/* ctl/sipregctl.c */
void cli_set_opt(json_t *args, char const *key, struct opt const *o);
void cli_local_time(json_t *row, char const *key);
void cli_local_times(json_t *rows, char const *key);

#endif
