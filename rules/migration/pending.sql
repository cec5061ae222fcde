-- id: migration.pending
-- severity: warning
-- title: A migration file exists that is not recorded as applied
-- rationale: The code expects schema this migration makes; until it runs, the models that use it fail. Or it was deliberately left out of a deploy (say so with --option migration.pending.allow=app.name).
-- remedy: Run `manage.py migrate` (after reviewing it with sqlmigrate), or remove the file if it is dead.
-- option: allow (migrations): migrations held back on purpose, not reported: app.name (or its unique prefix, or app)
WITH known AS (
  SELECT app, name,
         -- evidence: the migration file itself if we have it, else sqlmigrate, else showmigrations
         (SELECT m2.artifact_id FROM migration m2 WHERE m2.app = m.app AND m2.name = m.name
           ORDER BY CASE m2.source WHEN 'py' THEN 0 WHEN 'sqlmigrate' THEN 1 ELSE 2 END LIMIT 1) AS artifact_id,
         (SELECT m2.line FROM migration m2 WHERE m2.app = m.app AND m2.name = m.name
           ORDER BY CASE m2.source WHEN 'py' THEN 0 WHEN 'sqlmigrate' THEN 1 ELSE 2 END LIMIT 1) AS line,
         -- its sources in one order, whatever order the files were read in
         (SELECT group_concat(source, ',')
            FROM (SELECT DISTINCT m3.source FROM migration m3
                   WHERE m3.app = m.app AND m3.name = m.name ORDER BY m3.source)) AS sources,
         max(replaces) AS replaces
    FROM migration m GROUP BY app, name)
SELECT k.app || '.' || k.name AS migration,
       printf('migration %s.%s exists (%s) but is not recorded as applied', k.app, k.name, k.sources) ||
       CASE WHEN ua.app IS NOT NULL
            THEN '; yet its effects are all in the database (what it removes is gone, what it creates is there): it may well have run, its django_migrations row deleted by hand since, and the recorded migrations whose objects it removes are not judged by their absence'
            ELSE '' END ||
       -- recorded only in another schema's django_migrations of the dump (recorded_migrations
       -- reads the application's one): it ran with a search_path starting at that schema
       coalesce((SELECT printf('; %s.django_migrations records it (a Django database of its own in that schema): it ran with a search_path starting at %s, and what it makes is there, not in %s',
                               o.schema_name, o.schema_name,
                               (SELECT schema_name FROM current_migrations_schema))
                   FROM (SELECT min(m.schema_name) AS schema_name FROM migration_record m
                           JOIN snapshot s ON s.role = 'current'
                            AND instr(',' || s.artifacts || ',', ',' || m.artifact_id || ',') > 0
                            AND m.db IS s.db
                          WHERE m.app = k.app AND m.name = k.name AND m.schema_name IS NOT NULL) o
                  -- (a migration recorded nowhere else: no such row, nothing said)
                  WHERE o.schema_name IS NOT NULL), '') AS message,
       json_array(json_object('artifact', a.path, 'line', k.line,
                              'text', k.app || '.' || k.name)) AS evidence,
       CASE WHEN ua.app IS NOT NULL
            THEN printf('-- its effects are all in the database already: if it ran, record it instead of running it again: python manage.py migrate %s %s --fake',
                        k.app, k.name)
            ELSE printf('-- review, then: python manage.py sqlmigrate %s %s; python manage.py migrate %s %s',
                        k.app, k.name, k.app, k.name) END AS repair,
       'pending' AS cause_key
  FROM known k
  JOIN artifact a ON a.id = k.artifact_id
  LEFT JOIN unrecorded_applied ua ON ua.app = k.app AND ua.migration = k.name
 WHERE EXISTS (SELECT 1 FROM recorded_migration)
   AND (SELECT yes FROM migration_files_in_scope)  -- the files fit this database
   AND NOT EXISTS (SELECT 1 FROM recorded_migration r WHERE r.app = k.app AND r.name = k.name)
   -- a squashed migration is applied when all it replaces are (Django may not record it)
   AND NOT (k.replaces IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM json_each('["' || replace(k.replaces, ', ', '","') || '"]') rep
         WHERE NOT EXISTS (SELECT 1 FROM recorded_migration r WHERE r.app || '.' || r.name = rep.value)))
   -- a migration replaced by a recorded squashed migration is applied through it
   AND NOT EXISTS (SELECT 1 FROM migration s JOIN recorded_migration r ON r.app = s.app AND r.name = s.name
                    WHERE s.replaces IS NOT NULL
                      AND (', ' || s.replaces || ', ') LIKE '%, ' || k.app || '.' || k.name || ', %')
   AND NOT EXISTS (SELECT 1 FROM rule_option o WHERE o.rule = 'migration.pending' AND o.name = 'allow'
                      AND k.app || '.' || k.name GLOB o.value)
