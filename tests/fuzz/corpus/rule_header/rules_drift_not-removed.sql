-- id: drift.not-removed
-- severity: error
-- title: A recorded migration removes a table, column, index or constraint that still exists
-- rationale: Its removal was faked (`migrate --fake`, a restored django_migrations) or failed: the models and the database disagree. A column Django no longer writes keeps a NOT NULL or a default that makes inserts fail, a unique constraint the team removed still refuses rows, a table nobody maintains holds stale data.
-- remedy: Find out why the removal did not happen and whether the object still holds data anyone needs; then drop it. The repair's DROP is commented out: data may live there, uncomment it only after review.
SELECT r.schema_name AS schema,
       coalesce(r.table_name, (SELECT min(i.table_name) FROM current_index i
                                WHERE i.schema_name = r.schema_name AND i.name = r.name)) AS "table",
       CASE WHEN r.kind = 'column' THEN r.name END AS "column",
       CASE WHEN r.kind = 'index' THEN r.name END AS "index",
       CASE WHEN r.kind = 'constraint' THEN r.name END AS "constraint",
       r.migration AS migration,
       printf('%s %s still exists, yet migration %s, recorded as applied, removes it: the removal was faked or failed',
              r.kind,
              CASE WHEN r.kind = 'table' THEN r.schema_name || '.' || r.name
                   WHEN r.kind = 'index' THEN r.schema_name || '.' || r.name
                   ELSE r.schema_name || '.' || r.table_name || '.' || r.name END,
              r.migration) AS message,
       json_array(
         json_object('artifact', ea.path, 'line', r.line,
                     'text', printf('removes %s %s', r.kind, r.name) ||
                             coalesce(' (created by ' || r.created_by || ')', '')),
         json_object('artifact', ra.path, 'line', rm.line,
                     'text', 'recorded as applied' || coalesce(' at ' || rm.applied_at, ''))) AS evidence,
       '-- data may live here; uncomment after review' || char(10) || '-- ' ||
       CASE r.kind
         WHEN 'table' THEN printf('DROP TABLE IF EXISTS %s;', pg_name(r.schema_name, r.name))
         WHEN 'column' THEN printf('ALTER TABLE %s DROP COLUMN IF EXISTS %s;',
                                   pg_name(r.schema_name, r.table_name), pg_ident(r.name))
         WHEN 'index' THEN printf('DROP INDEX IF EXISTS %s;', pg_name(r.schema_name, r.name))
         ELSE printf('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s;',
                     pg_name(r.schema_name, r.table_name), pg_ident(r.name))
       END AS repair,
       'migration:' || r.migration AS cause_key
  FROM expected_removal r
  JOIN expected_removal_presence p ON p.removal_id = r.id
  JOIN artifact ea ON ea.id = r.artifact_id
  JOIN recorded_migration rm ON rm.app || '.' || rm.name = r.migration
  JOIN artifact ra ON ra.id = rm.artifact_id
 WHERE p.present
   -- An index or constraint re-created under a new name that never ran: the same object
   -- under its old name (see faked_recreate), renamed by the repair of its rename.
   AND NOT EXISTS (SELECT 1 FROM faked_recreate x WHERE x.removal_id = r.id)
   -- An object of a table that is itself still there although removed: the table's finding.
   AND NOT (r.kind <> 'table' AND EXISTS (
         SELECT 1 FROM expected_removal t JOIN expected_removal_presence tp ON tp.removal_id = t.id
          WHERE t.kind = 'table' AND tp.present AND t.schema_name = r.schema_name
            AND t.name = r.table_name))
