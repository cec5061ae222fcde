-- id: drift.index-missing
-- severity: error
-- title: A recorded migration creates an index that does not exist
-- rationale: Queries the index was made for scan the table instead; for a unique index, duplicates can now get in.
-- remedy: Create the index (the repair uses IF NOT EXISTS; build large ones CONCURRENTLY outside a transaction).
SELECT p.location AS schema,
       o.table_name AS "table",
       o.name AS "index",
       o.migration AS migration,
       printf('index %s on %s.%s (%s) does not exist, yet migration %s, recorded as applied, creates it',
              o.name, p.location, o.table_name, o.columns, o.migration) AS message,
       json_array(
         json_object('artifact', ea.path, 'line', o.line, 'text', coalesce(o.definition, 'CREATE INDEX ' || o.name)),
         json_object('artifact', ra.path, 'line', rm.line,
                     'text', 'recorded as applied' || coalesce(' at ' || rm.applied_at, ''))) AS evidence,
       d.ddl AS repair,
       'migration:' || o.migration AS cause_key
  FROM expected_object o
  JOIN expected_presence p ON p.object_id = o.id
  JOIN expected_ddl d ON d.object_id = o.id
  JOIN artifact ea ON ea.id = o.artifact_id
  JOIN recorded_migration rm ON rm.app || '.' || rm.name = o.migration
  JOIN artifact ra ON ra.id = rm.artifact_id
 WHERE o.kind = 'index' AND NOT p.present AND p.location IS NOT NULL
