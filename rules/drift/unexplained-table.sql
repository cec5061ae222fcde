-- id: drift.unexplained-table
-- severity: warning
-- title: A table exists that no migration creates
-- rationale: A table made by hand (a hotfix, an export, a backup copy) or left over from a removed app: Django does not know it, nothing maintains it, and it may hold data nobody remembers.
-- remedy: Find out who owns it; drop it, or give it a migration, or allow it with --option drift.unexplained-table.allow=NAME[,NAME...] (glob patterns, schema.table or table).
-- option: allow (names): tables other systems own, not reported: table or schema.table, glob patterns
SELECT t.schema_name AS schema,
       t.name AS "table",
       printf('table %s.%s exists, but no migration creates it%s', t.schema_name, t.name,
              coalesce(' (' || (SELECT printf('%d row%s', sum(s.rows), CASE sum(s.rows) WHEN 1 THEN '' ELSE 's' END) FROM table_stats s JOIN snapshot sn
                                    ON sn.role = 'current' AND s.artifact_id = sn.data_artifact_id
                                 WHERE s.schema_name = t.schema_name AND s.table_name = t.name) || ')', '')) AS message,
       json_array(json_object('artifact', a.path, 'line', t.line,
                              'text', 'CREATE TABLE ' || t.schema_name || '.' || t.name)) AS evidence,
       printf('-- review %s: dbautopsy never drops data. If nobody owns it: DROP TABLE IF EXISTS %s;',
              pg_name(t.schema_name, t.name), pg_name(t.schema_name, t.name)) AS repair,
       'unexplained' AS cause_key
  FROM current_table t
  JOIN artifact a ON a.id = t.artifact_id
 WHERE EXISTS (SELECT 1 FROM recorded_migration)
   AND t.parent_name IS NULL
   AND t.name <> 'django_migrations'  -- Django's own bookkeeping, made by no migration
   AND NOT EXISTS (SELECT 1 FROM expected_object o WHERE o.kind = 'table' AND o.table_name = t.name)
   AND NOT EXISTS (SELECT 1 FROM migration_effect e WHERE e.object = 'table' AND e.action = 'create'
                      AND e.name = t.name)
   -- The table of a model a migration declares unmanaged (Meta.managed = False): the
   -- history says someone else owns it.
   AND NOT EXISTS (SELECT 1 FROM migration_unmanaged_table u WHERE u.table_name = t.name)
   -- A table a recorded migration removes: drift.not-removed reports it.
   AND NOT EXISTS (SELECT 1 FROM expected_removal x WHERE x.kind = 'table'
                      AND x.schema_name = t.schema_name AND x.name = t.name)
   -- An app whose migrations are recorded but none of whose migration files were given
   -- (django.contrib.auth without its files, a third-party package): what its tables are
   -- is unknown, not unexplained. Django names them <app_label>_<model>; contrib apps that
   -- set db_table are listed.
   AND NOT EXISTS (SELECT 1 FROM recorded_migration rm
                    WHERE NOT EXISTS (SELECT 1 FROM recorded_migration k
                                       WHERE k.app = rm.app AND k.effects_source IS NOT NULL)
                      AND t.name GLOB CASE rm.app
                            WHEN 'contenttypes' THEN 'django_content_type'
                            WHEN 'admin' THEN 'django_admin_log'
                            WHEN 'sessions' THEN 'django_session'
                            WHEN 'sites' THEN 'django_site'
                            WHEN 'flatpages' THEN 'django_flatpage*'
                            WHEN 'redirects' THEN 'django_redirect'
                            ELSE replace(replace(rm.app, '[', '[[]'), '*', '[*]') || '_*' END)
   AND NOT EXISTS (SELECT 1 FROM rule_option r WHERE r.rule = 'drift.unexplained-table' AND r.name = 'allow'
                      AND (t.name GLOB r.value OR t.schema_name || '.' || t.name GLOB r.value))
