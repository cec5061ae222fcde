-- id: drift.column-missing
-- severity: error
-- title: A recorded migration adds a column that the table does not have
-- rationale: The migration is recorded as applied, so Django will not add the column again; every query that selects the model fails with "column ... does not exist".
-- remedy: Add the column (the repair is safe to run twice): a NOT NULL column the migration filled with a value is added with that value as default and NOT NULL, then given the default the migrations end with; without such a value its NOT NULL waits for a backfill.
SELECT p.location AS schema,
       o.table_name AS "table",
       o.name AS "column",
       coalesce(fr.migration, o.migration) AS migration,
       CASE WHEN fr.object_id IS NULL
       THEN printf('column %s.%s.%s does not exist, yet migration %s, recorded as applied, adds it (%s%s)',
              p.location, o.table_name, o.name, o.migration, coalesce(o.type, 'type unknown'),
              CASE WHEN o.not_null THEN ' NOT NULL' ELSE ' NULL' END)
       ELSE printf('column %s.%s.%s does not exist: migration %s, recorded as applied, renames column %s to it, but the rename never ran (%s is still there, with its data)',
              p.location, o.table_name, o.name, fr.migration, fr.old_name, fr.old_name) END AS message,
       json_array(
         json_object('artifact', ea.path, 'line', coalesce(fr.line, o.line),
                     'text', CASE WHEN fr.object_id IS NULL THEN 'ADD COLUMN ' || o.name || ' ' || coalesce(o.type, '')
                                  ELSE 'RENAME COLUMN ' || fr.old_name || ' TO ' || o.name END),
         json_object('artifact', ra.path, 'line', rm.line,
                     'text', 'recorded as applied' || coalesce(' at ' || rm.applied_at, '')),
         json_object('artifact', da.path, 'line', t.line,
                     'text', 'CREATE TABLE ' || t.schema_name || '.' || t.name || ' has no ' || o.name)) AS evidence,
       -- A NOT NULL column the migration filled with a value is added back the way the
       -- migration added it: with that value as default (PostgreSQL 11+ stores a constant
       -- default without rewriting the table), NOT NULL, then the default the migrations end
       -- with. A nullable column gets its default. Without a value to fill existing rows
       -- with, NOT NULL is left to the reader (commented out). ADD COLUMN IF NOT EXISTS and
       -- DROP/SET DEFAULT are safe to run twice.
       CASE WHEN fr.object_id IS NOT NULL
       -- a rename that never ran: run it (guarded, safe to run twice)
       THEN printf('DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped) AND NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped) THEN ALTER TABLE %s RENAME COLUMN %s TO %s; END IF; END $$;',
                   pg_name_literal(p.location, o.table_name), pg_literal(fr.old_name),
                   pg_name_literal(p.location, o.table_name), pg_literal(o.name),
                   pg_name(p.location, o.table_name), pg_ident(fr.old_name), pg_ident(o.name))
            WHEN o.not_null AND o.fill_value IS NOT NULL AND o.fill_value NOT LIKE 'nextval(%' THEN
              printf('ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s DEFAULT %s NOT NULL; ALTER TABLE %s ALTER COLUMN %s %s; -- existing rows get %s, the value the migration gave them; what the column held before it was dropped is not restored (a backup has it)',
                     pg_name(p.location, o.table_name), pg_ident(o.name),
                     coalesce(o.type, 'text') || coalesce(' ' || nullif(o.definition, ''), ''), o.fill_value,
                     pg_name(p.location, o.table_name), pg_ident(o.name),
                     CASE WHEN o.default_expr IS NULL THEN 'DROP DEFAULT' ELSE 'SET DEFAULT ' || o.default_expr END,
                     o.fill_value)
            WHEN NOT coalesce(o.not_null, 0) AND d.ddl IS NOT NULL THEN
              printf('ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s;', pg_name(p.location, o.table_name), d.ddl)
            ELSE
              printf('ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s;%s', pg_name(p.location, o.table_name),
                     pg_ident(o.name), coalesce(o.type, 'text') || coalesce(' ' || nullif(o.definition, ''), ''),
                     CASE WHEN o.not_null THEN printf(' -- the migration declares NOT NULL: backfill, then ALTER TABLE %s ALTER COLUMN %s SET NOT NULL;', pg_name(p.location, o.table_name), pg_ident(o.name)) ELSE '' END)
       END AS repair,
       'migration:' || coalesce(fr.migration, o.migration) AS cause_key
  FROM expected_object o
  JOIN expected_presence p ON p.object_id = o.id
  LEFT JOIN faked_rename fr ON fr.object_id = o.id
  -- the table where it is: under its old name when its rename never ran either
  JOIN expected_location l ON l.object_id = o.id
  JOIN current_table t ON t.schema_name = p.location AND t.name = l.table_name
  JOIN artifact da ON da.id = t.artifact_id
  JOIN artifact ea ON ea.id = coalesce(fr.artifact_id, o.artifact_id)
  JOIN recorded_migration rm ON rm.app || '.' || rm.name = coalesce(fr.migration, o.migration)
  JOIN artifact ra ON ra.id = rm.artifact_id
  LEFT JOIN expected_ddl d ON d.object_id = o.id
 WHERE o.kind = 'column' AND NOT p.present AND p.location IS NOT NULL
