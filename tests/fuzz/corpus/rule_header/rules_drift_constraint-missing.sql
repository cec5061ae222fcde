-- id: drift.constraint-missing
-- severity: error
-- title: A recorded migration creates a constraint (PK, UNIQUE, FK, CHECK) that does not exist
-- rationale: What the constraint guaranteed is no longer guaranteed: duplicates, orphans or invalid values can get in, silently.
-- remedy: Find and fix the rows that break it, then add the constraint (the repair adds it only if it is missing).
SELECT p.location AS schema,
       o.table_name AS "table",
       o.name AS "constraint",
       o.migration AS migration,
       printf('%s constraint %s on %s.%s (%s) does not exist, yet migration %s, recorded as applied, creates it',
              CASE o.constraint_kind WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique'
                   WHEN 'f' THEN 'foreign key' WHEN 'c' THEN 'check' ELSE 'exclusion' END,
              o.name, p.location, o.table_name, coalesce(o.columns, ''), o.migration) AS message,
       json_array(
         json_object('artifact', ea.path, 'line', o.line, 'text', coalesce(o.definition, o.name)),
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
 WHERE o.kind = 'constraint' AND NOT p.present AND p.location IS NOT NULL
