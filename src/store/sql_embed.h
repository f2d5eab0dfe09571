/* sql_embed.h — the SQL texts compiled into the binary.
 *
 * Generated into build/gen/sql_embed.c by scripts/embed-sql.sh from
 * db/schema.sql (version 1), db/migrations/NNN-*.sql (version NNN, which moves
 * a database from NNN-1 to NNN) and db/demo.sql. The migration list is sorted
 * by version and may be empty (sql_migrations then holds one sentinel entry
 * and sql_migrations_count is 0).
 */
#ifndef CALLQ_SQL_EMBED_H
#define CALLQ_SQL_EMBED_H

extern const char sql_schema[];
extern const char sql_demo[];

struct sql_migration {
	int version;
	const char *sql;
};
extern const struct sql_migration sql_migrations[];
extern const unsigned sql_migrations_count;

#endif
