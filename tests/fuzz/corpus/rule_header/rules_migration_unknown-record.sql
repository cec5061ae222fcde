-- id: migration.unknown-record
-- severity: warning
-- title: A migration is recorded as applied that no known migration file explains
-- rationale: The file was deleted or renamed after it ran (a branch switch, a squash that removed the originals, a rename for "cleanliness"), or the django_migrations table came from another project's database. Django may then re-run or skip migrations wrongly.
-- remedy: Restore or re-add the file under its recorded name, or delete the stale row if the schema it made is accounted for elsewhere.
SELECT rm.app || '.' || rm.name AS migration,
       printf('migration %s.%s is recorded as applied%s, but no migration file of app %s has that name',
              rm.app, rm.name, coalesce(' at ' || rm.applied_at, ''), rm.app) AS message,
       json_array(json_object('artifact', a.path, 'line', rm.line,
                              'text', 'recorded as applied' || coalesce(' at ' || rm.applied_at, ''))) AS evidence,
       printf('-- find the file of %s.%s in version control; if its schema is accounted for, DELETE FROM django_migrations WHERE app = %s AND name = %s;',
              rm.app, rm.name, pg_literal(rm.app), pg_literal(rm.name)) AS repair,
       'unknown-record' AS cause_key
  FROM recorded_migration rm
  JOIN artifact a ON a.id = rm.artifact_id
 WHERE EXISTS (SELECT 1 FROM migration m WHERE m.app = rm.app AND m.source IN ('py', 'sqlmigrate'))
   AND (SELECT yes FROM migration_files_in_scope)  -- the files fit this database
   AND NOT EXISTS (SELECT 1 FROM migration m WHERE m.app = rm.app AND m.name = rm.name)
   AND NOT EXISTS (SELECT 1 FROM migration s WHERE s.replaces IS NOT NULL
                      AND (', ' || s.replaces || ', ') LIKE '%, ' || rm.app || '.' || rm.name || ', %')
