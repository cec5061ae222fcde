-- id: drift.table-in-wrong-schema
-- severity: error
-- title: A migration's table exists, but in another schema than the one it targets
-- rationale: The migration ran with another search_path (a test settings file, a connection option): its tables were created in the first schema of that path while the migration was recorded in the application's schema. The application, which does not search that schema, fails with "relation does not exist" on one table after another.
-- remedy: Move each table (with its indexes, constraints and owned sequences) into the intended schema with ALTER TABLE ... SET SCHEMA; all of a cause's tables at once.
SELECT t.schema_name AS schema,
       o.table_name AS "table",
       o.migration AS migration,
       printf('table %s is in schema %s, but migration %s created it for schema %s (where django_migrations is)',
              o.table_name, t.schema_name, o.migration, o.schema_name) AS message,
       json_array(
         json_object('artifact', da.path, 'line', t.line,
                     'text', 'CREATE TABLE ' || t.schema_name || '.' || t.name),
         json_object('artifact', ea.path, 'line', o.line, 'text', 'CREATE TABLE ' || o.table_name),
         json_object('artifact', ra.path, 'line', rm.line,
                     'text', 'recorded as applied' || coalesce(' at ' || rm.applied_at, ''))) AS evidence,
       printf('DO $$ BEGIN IF to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NULL THEN ALTER TABLE %s SET SCHEMA %s; END IF; END $$;',
              pg_literal(pg_name(t.schema_name, o.table_name)), pg_literal(pg_name(o.schema_name, o.table_name)),
              pg_name(t.schema_name, o.table_name), pg_ident(o.schema_name)) AS repair,
       json_object('intended_schema', o.schema_name) AS metrics,
       'wrong-schema:' || t.schema_name || ':' || o.schema_name AS cause_key
  FROM expected_object o
  JOIN current_table t ON t.name = o.table_name AND t.schema_name <> o.schema_name
  JOIN artifact da ON da.id = t.artifact_id
  JOIN artifact ea ON ea.id = o.artifact_id
  JOIN recorded_migration rm ON rm.app || '.' || rm.name = o.migration
  JOIN artifact ra ON ra.id = rm.artifact_id
 WHERE o.kind = 'table' AND o.implied = 0
   AND NOT EXISTS (SELECT 1 FROM current_table h
                    WHERE h.name = o.table_name AND h.schema_name = o.schema_name)
