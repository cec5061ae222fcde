-- id: migration.faked
-- severity: error
-- title: A migration is recorded as applied, and none of its effects exist anywhere
-- rationale: Its row in django_migrations was written without its DDL running: `migrate --fake`, a restore of the table from another database, or a transaction that rolled back the DDL but not the record. Django will never run it again.
-- remedy: Either create its objects (the drift findings of the same cause carry the SQL), or delete its django_migrations row and run `manage.py migrate` again.
WITH intents AS (
  SELECT i.migration, count(*) AS objects, sum(p.present) AS present,
         min(i.artifact_id) AS artifact_id, min(i.line) AS line,
         group_concat(CASE o.kind WHEN 'column' THEN 'column ' || o.table_name || '.' || o.name
                                  WHEN 'table' THEN 'table ' || o.name
                                  WHEN 'constraint' THEN 'constraint ' || o.name || ' on ' || o.table_name
                                  ELSE o.kind || ' ' || o.name END, ', ') AS names
    FROM expected_intent i
    JOIN expected_object o ON o.id = i.object_id AND o.implied = 0
    JOIN expected_presence p ON p.object_id = i.object_id
   GROUP BY i.migration)
SELECT rm.app || '.' || rm.name AS migration,
       printf('migration %s.%s is recorded as applied%s, but %s: its DDL never ran',
              rm.app, rm.name, coalesce(' at ' || rm.applied_at, ''),
              CASE x.objects WHEN 1 THEN 'the object it creates (' || x.names || ') does not exist'
                   ELSE printf('none of the %d objects it creates exist (%s)', x.objects, x.names) END) AS message,
       json_array(
         json_object('artifact', ra.path, 'line', rm.line,
                     'text', 'recorded as applied' || coalesce(' at ' || rm.applied_at, '')),
         json_object('artifact', ea.path, 'line', x.line,
                     'text', printf('its DDL (%s output)', rm.effects_source))) AS evidence,
       json_object('objects', x.objects, 'present', x.present) AS metrics,
       printf('-- Either create its objects (the repairs of this cause''s drift findings), or unrecord it and migrate again:%s-- DELETE FROM django_migrations WHERE app = %s AND name = %s; -- then: python manage.py migrate %s',
              char(10), pg_literal(rm.app), pg_literal(rm.name), rm.app) AS repair,
       'migration:' || rm.app || '.' || rm.name AS cause_key
  FROM recorded_migration rm
  JOIN intents x ON x.migration = rm.app || '.' || rm.name
  JOIN artifact ra ON ra.id = rm.artifact_id
  JOIN artifact ea ON ea.id = x.artifact_id
 WHERE x.present = 0
   AND EXISTS (SELECT 1 FROM snapshot WHERE role = 'current')
