/*
 * Checks of names and values an administrator gives (store/validate.c):
 * 0, or a negative errno with one sentence in e. No database needed.
 */
#ifndef SIPREG_STORE_VALIDATE_H
#define SIPREG_STORE_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* Sets e (when not NULL) and returns code. */
int store_seterr(struct store_err *e, int code, char const *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool store_valid_chars(char const *v, size_t max, char const *extra);
int store_check_user_name(char const *name, struct store_err *e);
int store_check_device_name(char const *name, struct store_err *e);
int store_check_dn(char const *dn, struct store_err *e);
int store_check_text(char const *what, char const *v, struct store_err *e);
int store_check_password(char const *pw, struct store_err *e);
int store_check_auth(char const *auth, struct store_err *e);
int store_check_policy(struct store_device_spec const *spec, struct store_err *e);

#endif
