/*
 * The schema migrations, generated from store/migrations/NNNN-*.sql.
 * Migration i (0-based) brings the schema from version i to i + 1.
 *
 * Thread: any (constant data).
 */
#ifndef SIPREG_MIGRATIONS_H
#define SIPREG_MIGRATIONS_H

extern char const *const store_migrations[];
extern unsigned const store_n_migrations;

#endif
