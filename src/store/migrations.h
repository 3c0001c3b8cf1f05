/* migrations.h: the numbered schema migrations, embedded from src/store/sql/NNNN_name.sql at build
 * time (scripts/embed_migrations.cmake), in ascending version order. Read-only. */
#ifndef CX_STORE_MIGRATIONS_H
#define CX_STORE_MIGRATIONS_H

struct store_migration {
	int version;
	const char *name;
	const char *sql; /* one or more statements separated by ';' */
};

extern const struct store_migration store_migrations[];
extern const int store_migrations_count;

#endif
