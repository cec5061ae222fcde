-- id: drift.index-missing
-- severity: error
-- title: A recorded migration creates an index that does not exist
-- rationale: Queries the index was made for scan the table instead; for a unique index, duplicates can now get in.
-- remedy: Create the index (the repair uses IF NOT EXISTS; build large ones CONCURRENTLY outside a transaction).
SELECT p.location AS schema,
       o.table_name AS "table",
       o.name AS "index",
       coalesce(fr.migration, o.migration) AS migration,
       CASE WHEN fr.object_id IS NULL
            THEN printf('index %s on %s.%s (%s) does not exist, yet migration %s, recorded as applied, creates it',
                        o.name, p.location, o.table_name, o.columns, o.migration)
            ELSE printf('index %s on %s.%s (%s) does not exist: migration %s, recorded as applied, renames index %s to it, but the rename never ran (%s is still there)',
                        o.name, p.location, o.table_name, o.columns, fr.migration, fr.old_name,
                        fr.old_name) END AS message,
       json_array(
         json_object('artifact', ea.path, 'line', coalesce(fr.line, o.line),
                     'text', CASE WHEN fr.object_id IS NULL THEN coalesce(o.definition, 'CREATE INDEX ' || o.name)
                                  ELSE 'ALTER INDEX ' || fr.old_name || ' RENAME TO ' || o.name END),
         json_object('artifact', ra.path, 'line', rm.line,
                     'text', 'recorded as applied' || coalesce(' at ' || rm.applied_at, ''))) AS evidence,
       -- a rename that never ran: run it (guarded, safe to run twice), never a second index
       CASE WHEN fr.object_id IS NULL THEN d.ddl
            ELSE printf('DO $$ BEGIN IF to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NULL THEN ALTER INDEX %s RENAME TO %s; END IF; END $$;',
                        pg_literal(pg_name(p.location, fr.old_name)), pg_literal(pg_name(p.location, o.name)),
                        pg_name(p.location, fr.old_name), pg_ident(o.name)) END AS repair,
       'migration:' || coalesce(fr.migration, o.migration) AS cause_key
  FROM expected_object o
  JOIN expected_presence p ON p.object_id = o.id
  JOIN expected_ddl d ON d.object_id = o.id
  LEFT JOIN faked_rename fr ON fr.object_id = o.id
  JOIN artifact ea ON ea.id = coalesce(fr.artifact_id, o.artifact_id)
  JOIN recorded_migration rm ON rm.app || '.' || rm.name = coalesce(fr.migration, o.migration)
  JOIN artifact ra ON ra.id = rm.artifact_id
 WHERE o.kind = 'index' AND NOT p.present AND p.location IS NOT NULL
