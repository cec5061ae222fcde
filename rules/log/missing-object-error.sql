-- id: log.missing-object-error
-- severity: error
-- title: Production hit a missing relation or column: the logs show the errors
-- rationale: A relation or column that the code expects and the database lacks fails every statement that touches it; the server and application logs show when it started, how often and from which statement. The drift finding that explains it (a faked migration, a table in another schema) is in the same cause.
-- remedy: Repair the drift that explains it (the cause's repair); if no drift finding explains it, compare the dump's time with the errors': the dump may be older than the log, or the object was removed since.
WITH named AS MATERIALIZED (
  SELECT n.* FROM log_missing_object n JOIN log_event_in_scope e ON e.id = n.id),
grouped AS (
  SELECT n.schema_name, n.table_name, n.column_name, n.what, count(*) AS hits,
         count(DISTINCT n.artifact_id) AS files, min(n.ts) AS first_seen, max(n.ts) AS last_seen,
         (SELECT m.id FROM named m WHERE m.table_name IS n.table_name AND m.column_name IS n.column_name
           ORDER BY m.ts IS NULL, m.ts, m.artifact_id, m.line LIMIT 1) AS first_id,
         (SELECT m.id FROM named m WHERE m.table_name IS n.table_name AND m.column_name IS n.column_name
           ORDER BY m.ts IS NULL, m.ts DESC, m.artifact_id DESC, m.line DESC LIMIT 1) AS last_id,
         (SELECT m.id FROM named m WHERE m.table_name IS n.table_name AND m.column_name IS n.column_name
             AND m.statement IS NOT NULL
           ORDER BY m.ts IS NULL, m.ts, m.artifact_id, m.line LIMIT 1) AS statement_id
    FROM named n
   GROUP BY n.table_name, n.column_name),
-- The drift finding that explains the error: the missing column itself, else what is
-- wrong with its table (missing, in another schema, renamed and never run).
hosts AS (
  SELECT g.*,
         (SELECT f.cause_key FROM finding f
           WHERE f.id >= (SELECT coalesce(max(first_finding), 0) FROM analysis_scope) AND f.rule IN ('drift.column-missing', 'drift.table-missing', 'drift.table-in-wrong-schema')
             AND f.subject_table = g.table_name
             AND (g.column_name IS NULL OR f.subject_column = g.column_name OR f.subject_column IS NULL)
           ORDER BY f.subject_column IS NULL, f.id LIMIT 1) AS host_key,
         (SELECT f.rule || ' ' || coalesce(f.subject_schema || '.', '') || f.subject_table ||
                 coalesce('.' || f.subject_column, '') FROM finding f
           WHERE f.id >= (SELECT coalesce(max(first_finding), 0) FROM analysis_scope) AND f.rule IN ('drift.column-missing', 'drift.table-missing', 'drift.table-in-wrong-schema')
             AND f.subject_table = g.table_name
             AND (g.column_name IS NULL OR f.subject_column = g.column_name OR f.subject_column IS NULL)
           ORDER BY f.subject_column IS NULL, f.id LIMIT 1) AS host
    FROM grouped g),
-- Where the dump has an object no drift finding explains (no migration files, or none that
-- makes it): in the schema the statements search (the schema of django_migrations, else
-- public), only in other schemas, or nowhere.
home AS (
  SELECT coalesce((SELECT schema_name FROM current_migrations_schema), 'public') AS name,
         EXISTS (SELECT 1 FROM current_relation) AS has_dump),
looked AS (
  SELECT h.*, coalesce(h.schema_name, (SELECT name FROM home)) AS searched,
         (SELECT group_concat(schema_name, ', ') FROM (
            SELECT DISTINCT t.schema_name FROM current_table t
             WHERE t.name = h.table_name
               AND t.schema_name <> coalesce(h.schema_name, (SELECT name FROM home))
             ORDER BY t.schema_name)) AS other_schemas
    FROM hosts h),
placed AS (
  SELECT l.*,
         CASE WHEN l.host IS NOT NULL OR NOT (SELECT has_dump FROM home) THEN NULL
              WHEN EXISTS (SELECT 1 FROM current_relation t
                            WHERE t.name = l.table_name AND t.schema_name = l.searched)
                   AND (l.column_name IS NULL
                        OR EXISTS (SELECT 1 FROM current_column c
                                    WHERE c.table_name = l.table_name AND c.schema_name = l.searched
                                      AND c.name = l.column_name)) THEN 'present'
              WHEN NOT EXISTS (SELECT 1 FROM current_relation t
                                WHERE t.name = l.table_name AND t.schema_name = l.searched)
                   AND l.other_schemas IS NOT NULL THEN 'elsewhere'
              ELSE 'absent' END AS in_dump
    FROM looked l)
SELECT h.schema_name AS schema,
       h.table_name AS "table",
       h.column_name AS "column",
       printf('%s %s does not exist: %s %s in the logs%s%s',
              h.what, coalesce(h.schema_name || '.', '') || h.table_name || coalesce('.' || h.column_name, ''),
              h.hits, CASE h.hits WHEN 1 THEN 'error' ELSE 'errors' END,
              CASE WHEN h.first_seen IS NULL THEN ''
                   WHEN h.first_seen = h.last_seen THEN ' at ' || h.first_seen
                   ELSE ', first ' || h.first_seen || ', last ' || h.last_seen END,
              CASE WHEN h.host IS NOT NULL THEN '; explained by ' || h.host
                   WHEN h.in_dump = 'present'
                   THEN printf('; no drift finding explains it, and the dump has %s.%s%s: it was made after the errors (the dump is newer than the log), or they come from another database',
                               h.searched, h.table_name, coalesce('.' || h.column_name, ''))
                   WHEN h.in_dump = 'elsewhere'
                   THEN printf('; the dump has %s only in schema %s, not in %s where the statements look for it: tables created while the search_path started with %s?',
                               h.table_name, h.other_schemas, h.searched, h.other_schemas)
                   WHEN h.in_dump = 'absent' AND h.column_name IS NOT NULL
                        AND EXISTS (SELECT 1 FROM current_relation t WHERE t.name = h.table_name AND t.schema_name = h.searched)
                   THEN printf('; the dump''s table %s.%s has no column %s either: it was never added (a migration recorded but never run, or never run) or was removed before the dump',
                               h.searched, h.table_name, h.column_name)
                   WHEN h.in_dump = 'absent'
                   THEN '; the dump has no relation of that name in any schema: it was never created (a migration recorded but never run, or never run) or was removed before the dump'
                   ELSE '; no drift finding explains it: the dump may be older than the log, or the object was removed since' END) AS message,
       (SELECT json_group_array(json(x)) FROM (
          SELECT json_object('artifact', a.path, 'line', e.line,
                             'text', 'first: ' || coalesce(e.ts || ' ', '') || coalesce(e.severity || ': ', '') || e.message) AS x
            FROM log_event e JOIN artifact a ON a.id = e.artifact_id WHERE e.id = h.first_id
          UNION ALL
          SELECT json_object('artifact', a.path, 'line', e.line,
                             'text', 'statement: ' || substr(replace(replace(e.statement, char(10), ' '), char(9), ' '), 1, 300))
            FROM log_event e JOIN artifact a ON a.id = e.artifact_id WHERE e.id = h.statement_id
          UNION ALL
          SELECT json_object('artifact', a.path, 'line', e.line,
                             'text', 'last: ' || coalesce(e.ts || ' ', '') || coalesce(e.severity || ': ', '') || e.message)
            FROM log_event e JOIN artifact a ON a.id = e.artifact_id
           WHERE e.id = h.last_id AND h.last_id <> h.first_id)) AS evidence,
       json_object('errors', h.hits, 'files', h.files, 'first_seen', h.first_seen,
                   'last_seen', h.last_seen, 'explained', CASE WHEN h.host IS NULL THEN 0 ELSE 1 END) AS metrics,
       CASE WHEN h.in_dump = 'elsewhere' AND h.column_name IS NULL AND instr(h.other_schemas, ',') = 0
            THEN printf('-- Not sure without the migration that made it: check that nothing else uses %s, then:' || char(10) ||
                        '-- ALTER TABLE %s SET SCHEMA %s;',
                        pg_name(h.other_schemas, h.table_name), pg_name(h.other_schemas, h.table_name), pg_ident(h.searched)) END AS repair,
       coalesce(h.host_key,
                CASE h.in_dump WHEN 'elsewhere' THEN 'log-other-schema:' || h.other_schemas
                               WHEN 'absent' THEN 'log-absent' END,
                'log-unexplained') AS cause_key
  FROM placed h
 WHERE h.table_name IS NOT NULL
