-- id: migration.partially-applied
-- severity: error
-- title: A recorded migration's effects are partly present and partly missing (or partly removed and partly still there)
-- rationale: Part of its DDL ran and part did not (a migration that died half way outside a transaction, a manual apply of some statements, a later --fake), or someone removed some of its objects.
-- remedy: Create the missing objects and, after review, drop what it removes (the drift findings of the same cause carry the SQL).
WITH intents AS (
  SELECT i.migration, count(*) AS objects, sum(p.present) AS present,
         min(i.artifact_id) AS artifact_id, min(i.line) AS line,
         group_concat(CASE WHEN NOT p.present THEN o.kind || ' ' ||
                      CASE WHEN o.kind = 'table' THEN o.table_name
                           WHEN o.kind = 'extension' THEN o.name
                           ELSE o.table_name || '.' || o.name END END, ', ') AS missing,
         -- its missing extensions, created first by the repair as Django creates them
         group_concat(CASE WHEN o.kind = 'extension' AND NOT p.present
                           THEN 'CREATE EXTENSION IF NOT EXISTS ' || pg_ident(o.name) ||
                                CASE WHEN o.schema_name <> '' THEN ' WITH SCHEMA ' || pg_ident(o.schema_name)
                                     ELSE '' END || ';' END, char(10)) AS extensions
    -- each object once per migration, whatever it does to it (a column added, then altered)
    FROM (SELECT migration, object_id, min(artifact_id) AS artifact_id, min(line) AS line
            FROM expected_intent
           -- what follows a renamed table is not an effect of its own
           WHERE action <> 'follow'
           GROUP BY migration, object_id) i
    JOIN expected_object o ON o.id = i.object_id AND o.implied = 0
    -- A rename, re-creation or alteration that never ran (see intent_presence).
    JOIN intent_presence p ON p.migration = i.migration AND p.object_id = i.object_id
   WHERE p.present IS NOT NULL -- unknown: an index or constraint a data-only dump cannot show
     -- removed by a migration that is not recorded but whose effects are all there (it ran,
     -- its row deleted): absent either way, no evidence
     AND i.object_id NOT IN (SELECT object_id FROM unrecorded_undone)
   GROUP BY i.migration),
removals AS (
  -- Removals that show whether the migration ran: of an object a recorded migration created,
  -- whose table is there (a removal from a table that is nowhere proves nothing). A removal
  -- happened when the object is gone.
  SELECT r.migration, count(*) AS removals, sum(p.present) AS not_removed,
         min(r.artifact_id) AS artifact_id, min(r.line) AS line,
         group_concat(CASE WHEN p.present THEN r.kind || ' ' || coalesce(r.table_name, '?') ||
                      CASE WHEN r.kind = 'table' THEN '' ELSE '.' || r.name END END, ', ') AS kept
    FROM expected_removal r
    JOIN expected_removal_presence p ON p.removal_id = r.id
   WHERE r.created_by IS NOT NULL AND p.present IS NOT NULL
     AND (r.kind = 'table' OR EXISTS (SELECT 1 FROM current_table t
                                       WHERE t.schema_name = r.schema_name AND t.name = r.table_name))
     -- an object that is gone counts as removed only when its creating migration shows it ran
     -- (something it made that the history keeps is there): else (faked too, or nothing it
     -- made survives the history) it may never have been there (see undecided_removal)
     AND (p.present OR NOT EXISTS (SELECT 1 FROM undecided_removal u WHERE u.removal_id = r.id))
   GROUP BY r.migration),
untold AS (
  -- what it removes that is gone, of migrations that may never have made it
  SELECT u.migration, count(*) AS removals,
         group_concat(u.kind || ' ' || coalesce(u.table_name, '?') ||
                      CASE WHEN u.kind = 'table' THEN '' ELSE '.' || u.name END, ', ') AS names,
         group_concat(DISTINCT u.created_by) AS creators
    FROM undecided_removal u
   GROUP BY u.migration)
SELECT rm.app || '.' || rm.name AS migration,
       CASE WHEN y.removals IS NULL
            THEN printf('migration %s.%s is recorded as applied, but only %d of the %d objects it creates exist; missing: %s',
                        rm.app, rm.name, x.present, x.objects, x.missing)
            WHEN coalesce(x.objects, 0) = 0
            THEN printf('migration %s.%s is recorded as applied, but only %d of the %d objects it removes are gone%s',
                        rm.app, rm.name, y.removals - y.not_removed, y.removals,
                        coalesce('; still there: ' || y.kept, ''))
            ELSE printf('migration %s.%s is recorded as applied, but only %d of the %d objects it creates exist and %d of the %d it removes are gone%s%s',
                        rm.app, rm.name, coalesce(x.present, 0), coalesce(x.objects, 0),
                        y.removals - y.not_removed, y.removals,
                        coalesce('; missing: ' || x.missing, ''),
                        coalesce('; still there: ' || y.kept, '')) END ||
       CASE WHEN t.names IS NOT NULL
            THEN printf('; it also removes %s, made by %s: gone, but nothing %s made is left to show it ever ran, so whether %s ran cannot be told from the schema',
                        t.names, t.creators, t.creators, t.creators) ELSE '' END AS message,
       json_array(
         json_object('artifact', ra.path, 'line', rm.line,
                     'text', 'recorded as applied' || coalesce(' at ' || rm.applied_at, '')),
         json_object('artifact', ea.path, 'line', coalesce(x.line, y.line),
                     'text', printf('its DDL (%s output)', rm.effects_source))) AS evidence,
       json_object('objects', coalesce(x.objects, 0), 'present', coalesce(x.present, 0),
                   'removals', coalesce(y.removals, 0), 'not_removed', coalesce(y.not_removed, 0)) AS metrics,
       x.extensions AS repair,
       'migration:' || rm.app || '.' || rm.name AS cause_key
  FROM recorded_migration rm
  LEFT JOIN intents x ON x.migration = rm.app || '.' || rm.name
  LEFT JOIN removals y ON y.migration = rm.app || '.' || rm.name
  LEFT JOIN untold t ON t.migration = rm.app || '.' || rm.name
  JOIN artifact ra ON ra.id = rm.artifact_id
  JOIN artifact ea ON ea.id = coalesce(x.artifact_id, y.artifact_id)
 -- done: objects present and removals that happened; some done and some not.
 WHERE coalesce(x.present, 0) + coalesce(y.removals - y.not_removed, 0) > 0
   AND coalesce(x.present, 0) + coalesce(y.removals - y.not_removed, 0)
       < coalesce(x.objects, 0) + coalesce(y.removals, 0)
   AND EXISTS (SELECT 1 FROM snapshot WHERE role = 'current')
