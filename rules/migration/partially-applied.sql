-- id: migration.partially-applied
-- severity: error
-- title: A recorded migration's effects are partly present and partly missing
-- rationale: Part of its DDL ran and part did not (a migration that died half way outside a transaction, a manual apply of some statements, a later --fake), or someone removed some of its objects.
-- remedy: Create the missing objects (the drift findings of the same cause carry the SQL).
WITH intents AS (
  SELECT i.migration, count(*) AS objects, sum(p.present) AS present,
         min(i.artifact_id) AS artifact_id, min(i.line) AS line,
         group_concat(CASE WHEN NOT p.present THEN o.kind || ' ' || o.table_name ||
                      CASE WHEN o.kind = 'table' THEN '' ELSE '.' || o.name END END, ', ') AS missing
    FROM expected_intent i
    JOIN expected_object o ON o.id = i.object_id AND o.implied = 0
    JOIN expected_presence p ON p.object_id = i.object_id
   GROUP BY i.migration)
SELECT rm.app || '.' || rm.name AS migration,
       printf('migration %s.%s is recorded as applied, but only %d of the %d objects it creates exist; missing: %s',
              rm.app, rm.name, x.present, x.objects, x.missing) AS message,
       json_array(
         json_object('artifact', ra.path, 'line', rm.line,
                     'text', 'recorded as applied' || coalesce(' at ' || rm.applied_at, '')),
         json_object('artifact', ea.path, 'line', x.line,
                     'text', printf('its DDL (%s output)', rm.effects_source))) AS evidence,
       json_object('objects', x.objects, 'present', x.present) AS metrics,
       'migration:' || rm.app || '.' || rm.name AS cause_key
  FROM recorded_migration rm
  JOIN intents x ON x.migration = rm.app || '.' || rm.name
  JOIN artifact ra ON ra.id = rm.artifact_id
  JOIN artifact ea ON ea.id = x.artifact_id
 WHERE x.present > 0 AND x.present < x.objects
   AND EXISTS (SELECT 1 FROM snapshot WHERE role = 'current')
