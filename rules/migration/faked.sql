-- id: migration.faked
-- severity: error
-- title: A migration is recorded as applied, and none of its effects exist anywhere (nothing it creates exists, nothing it removes is gone)
-- rationale: Its row in django_migrations was written without its DDL running: `migrate --fake`, a restore of the table from another database, or a transaction that rolled back the DDL but not the record. Django will never run it again.
-- remedy: Either create its objects and, after review, drop what it removes (the drift findings of the same cause carry the SQL), or delete its django_migrations row and run `manage.py migrate` again.
WITH intents AS (
  SELECT i.migration, count(*) AS objects, sum(i.present) AS present,
         min(i.artifact_id) AS artifact_id, min(i.line) AS line,
         group_concat(CASE WHEN EXISTS (SELECT 1 FROM unrun_alter u WHERE u.object_id = i.object_id
                                           AND u.migration = i.migration)
                           THEN 'the alteration of column ' || o.table_name || '.' || o.name
                           ELSE CASE o.kind WHEN 'column' THEN 'column ' || o.table_name || '.' || o.name
                                  WHEN 'table' THEN 'table ' || o.name
                                  WHEN 'constraint' THEN 'constraint ' || o.name || ' on ' || o.table_name
                                  ELSE o.kind || ' ' || o.name END END, ', ') AS names,
         -- its extensions, created first by the repair as Django creates them
         group_concat(CASE WHEN o.kind = 'extension'
                           THEN 'CREATE EXTENSION IF NOT EXISTS ' || pg_ident(o.name) ||
                                CASE WHEN o.schema_name <> '' THEN ' WITH SCHEMA ' || pg_ident(o.schema_name)
                                     ELSE '' END || ';' END, char(10)) AS extensions
    -- one row per object a migration intends (AddField with a default intends its column
    -- twice: added with the default, then the default dropped); what follows a renamed table
    -- is not an effect of its own.
    FROM (SELECT j.migration, j.object_id, j.artifact_id, j.line, q.present
            FROM (SELECT migration, object_id, min(artifact_id) AS artifact_id, min(line) AS line
                    FROM expected_intent WHERE action <> 'follow'
                     -- removed by a migration that is not recorded but whose effects are all
                     -- there (it ran, its row deleted): absent either way, no evidence
                     AND object_id NOT IN (SELECT object_id FROM unrecorded_undone)
                   GROUP BY migration, object_id) j
            -- a rename, re-creation or alteration that never ran: see intent_presence
            JOIN intent_presence q ON q.migration = j.migration AND q.object_id = j.object_id) i
    JOIN expected_object o ON o.id = i.object_id AND o.implied = 0
   WHERE i.present IS NOT NULL -- unknown: an index or constraint a data-only dump cannot show
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
            THEN printf('migration %s.%s is recorded as applied%s, but %s: its DDL never ran, or what it made was dropped since',
                        rm.app, rm.name, coalesce(' at ' || rm.applied_at, ''),
                        CASE x.objects WHEN 1 THEN 'the object it creates (' || x.names || ') does not exist'
                             ELSE printf('none of the %d objects it creates exist (%s)', x.objects, x.names) END)
            WHEN coalesce(x.objects, 0) = 0
            THEN printf('migration %s.%s is recorded as applied%s, but %s: its DDL never ran',
                        rm.app, rm.name, coalesce(' at ' || rm.applied_at, ''),
                        CASE y.removals WHEN 1 THEN 'the object it removes is still there (' || y.kept || ')'
                             ELSE printf('all %d objects it removes are still there (%s)', y.removals, y.kept) END)
            ELSE printf('migration %s.%s is recorded as applied%s, but none of the %d objects it creates exist (%s) and all %d it removes are still there (%s): its DDL never ran',
                        rm.app, rm.name, coalesce(' at ' || rm.applied_at, ''),
                        x.objects, x.names, y.removals, y.kept) END ||
       CASE WHEN t.names IS NOT NULL
            THEN printf('; it also removes %s, made by %s: gone, but nothing %s made is left to show it ever ran, so whether %s ran cannot be told from the schema',
                        t.names, t.creators, t.creators, t.creators) ELSE '' END ||
       -- a dump of chosen schemas cannot tell that what it creates is nowhere
       CASE WHEN coalesce(x.objects, 0) > 0 AND (SELECT yes FROM current_schemas_chosen)
            THEN '; but this dump shows only some schemas (it creates schema public, as only pg_dump -n does): what it creates may be in one it leaves out, where a migration run with another search_path puts it'
            ELSE '' END AS message,
       json_array(
         json_object('artifact', ra.path, 'line', rm.line,
                     'text', 'recorded as applied' || coalesce(' at ' || rm.applied_at, '')),
         json_object('artifact', ea.path, 'line', coalesce(x.line, y.line),
                     'text', printf('its DDL (%s output)', rm.effects_source))) AS evidence,
       json_object('objects', coalesce(x.objects, 0), 'present', coalesce(x.present, 0),
                   'removals', coalesce(y.removals, 0), 'not_removed', coalesce(y.not_removed, 0)) AS metrics,
       coalesce(x.extensions || char(10), '') ||
       CASE WHEN later.migrations IS NOT NULL
            -- run again, it would also make what later recorded migrations remove, and they
            -- would not run again to remove it
            THEN printf('-- Do by hand what it does (the repairs of this cause''s drift findings). Do not unrecord it and migrate again: it would also re-create what %s, recorded as applied, removes (%s)',
                        later.migrations, later.names)
            ELSE printf('-- Either do by hand what it does (the repairs of this cause''s drift findings), or unrecord it and migrate again:%s-- DELETE FROM django_migrations WHERE app = %s AND name = %s; -- then: python manage.py migrate %s',
                        char(10), pg_literal(rm.app), pg_literal(rm.name), rm.app) END AS repair,
       'migration:' || rm.app || '.' || rm.name AS cause_key
  FROM recorded_migration rm
  LEFT JOIN intents x ON x.migration = rm.app || '.' || rm.name
  LEFT JOIN removals y ON y.migration = rm.app || '.' || rm.name
  LEFT JOIN untold t ON t.migration = rm.app || '.' || rm.name
  LEFT JOIN (SELECT created_by, group_concat(DISTINCT migration) AS migrations,
                    group_concat(kind || ' ' || coalesce(table_name, '?') ||
                                 CASE WHEN kind = 'table' THEN '' ELSE '.' || name END, ', ') AS names
               FROM expected_removal WHERE created_by <> migration GROUP BY created_by) later
         ON later.created_by = rm.app || '.' || rm.name
  JOIN artifact ra ON ra.id = rm.artifact_id
  JOIN artifact ea ON ea.id = coalesce(x.artifact_id, y.artifact_id)
 WHERE coalesce(x.present, 0) = 0 AND coalesce(y.not_removed, 0) = coalesce(y.removals, 0)
   AND EXISTS (SELECT 1 FROM snapshot WHERE role = 'current')
