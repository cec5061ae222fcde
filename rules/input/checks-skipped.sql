-- id: input.checks-skipped
-- severity: warning
-- title: A family of checks could not run: the inputs lack, or could not be read for, what it needs
-- rationale: A report without findings must mean that nothing was found, not that nothing could be looked at. When no django_migrations record could be read, no schema dump was given, or the dumps hold no data, the checks that need them are silent; this finding says which family was skipped, why, and what to send.
-- remedy: Add the missing input to the case (the message says which and how to make it), or make the unreadable one readable, and investigate again.
-- subject.value is the family whose checks did not run: migration (migration.*), drift
-- (drift.*, and migration.faked / migration.partially-applied, which compare with the
-- schema), data (data.duplicate-rows, etl.orphaned-reference) or snapshot (comparisons of
-- two dumps: etl.id-remapped), or all (no input could be used at all). A data-only dump
-- gives a drift finding of its own: the checks of types, indexes and constraints did not run.
WITH
-- The logs read: those with entries (each log's load writes its span of them, log_span; not a
-- pass over every entry).
log_artifact AS MATERIALIZED (SELECT DISTINCT artifact_id AS id FROM log_span),
-- Inputs that were not read: of no kind dbautopsy reads, or failed / recognised but not read
-- (empty files, such as a package's __init__.py, hold nothing to read).
unread AS (
  SELECT id, path, kind, coalesce(status_detail, status) AS detail,
         -- the file's own name: the last component of its path (`case.tar.gz/notes.txt` is
         -- not a tar archive)
         lower(substr(path, length(rtrim(path, replace(path, '/', ''))) + 1)) AS name
    FROM artifact
   WHERE (kind = 'unknown' OR status IN ('failed', 'unsupported')) AND size_bytes > 0),
-- The ones that may be the missing export: named after django_migrations (or migrations),
-- by the file's own name (`migrations/README.txt` or a case folder called `migration-bug/`
-- does not make every file in it the export).
unread_named AS (
  SELECT * FROM unread WHERE name GLOB '*migration*' AND name NOT GLOB '*.py'),
unread_list AS (
  SELECT group_concat(path || ': ' || detail, '; ') AS text FROM unread_named),
unread_any_list AS (
  SELECT group_concat(path || ': ' || detail, '; ') AS text FROM unread),
-- Unread files that are dumps by their kind or, when not even that could be told (a file cut
-- short before its first statement), by their name.
unread_dumps AS (
  SELECT * FROM unread
   WHERE kind LIKE 'pgdump-%'
      OR name GLOB '*.sql' OR name GLOB '*.sql.*' OR name GLOB '*.dump' OR name GLOB '*.dump.*'
      OR name GLOB '*.backup' OR name GLOB '*.pgdump' OR name GLOB '*.tar' OR name GLOB '*.tar.*'),
has_records AS (SELECT EXISTS (SELECT 1 FROM recorded_migration) AS yes),
-- The migration files, when they apply to the database analysed (one database of several
-- without django_migrations is not checked against them: nothing of them is skipped).
has_files AS (SELECT EXISTS (SELECT 1 FROM migration) AND (SELECT yes FROM migration_files_in_scope) AS yes),
has_effects AS (SELECT EXISTS (SELECT 1 FROM migration WHERE source IN ('py', 'sqlmigrate'))
                       AND (SELECT yes FROM migration_files_in_scope) AS yes),
-- The current snapshot: its tables (django_migrations apart) and whether it is a Django
-- database (it has the django_migrations table).
current AS (
  SELECT s.artifact_id, s.data_artifact_id, a.path,
         (SELECT count(*) FROM current_table t WHERE t.name <> 'django_migrations') AS tables,
         EXISTS (SELECT 1 FROM current_table t WHERE t.name = 'django_migrations') AS django
    FROM snapshot s JOIN artifact a ON a.id = s.artifact_id
   WHERE s.role = 'current'),
-- Where to point when the inputs are missing rather than unreadable.
first_migration AS (
  SELECT a.path, m.line, m.app || '.' || m.name AS text
    FROM migration m JOIN artifact a ON a.id = m.artifact_id
   ORDER BY a.path, m.line LIMIT 1),
first_record AS (
  SELECT a.path, rm.line, rm.app || '.' || rm.name AS text
    FROM recorded_migration rm JOIN artifact a ON a.id = rm.artifact_id
   ORDER BY rm.position LIMIT 1),
no_records_reason AS (
  SELECT CASE
           WHEN (SELECT text FROM unread_list) IS NOT NULL
             THEN 'no django_migrations record could be read (not read: ' || (SELECT text FROM unread_list) || ')'
           WHEN (SELECT django FROM current) = 1
             THEN printf('no django_migrations record could be read: %s has the django_migrations table but not its rows (a schema-only dump)',
                         (SELECT path FROM current))
           WHEN (SELECT text FROM unread_any_list) IS NOT NULL
             THEN 'no django_migrations record could be read (not read: ' || (SELECT text FROM unread_any_list) || ')'
           ELSE 'no django_migrations record could be read: the inputs hold no export of the table'
         END AS text),
how_records AS (
  SELECT 'Send the table: `psql -c "\copy django_migrations TO ''django_migrations.csv'' CSV HEADER"` (its default text form, `psql -x` output, a ; separated spreadsheet export and JSON are read too), `manage.py showmigrations`, or a dump with its data' AS text),
-- Evidence of the missing records: the unreadable export, else the dump that has the table
-- without its rows, else any unreadable file, else the migration files that wanted checking.
no_records_evidence AS (
  SELECT coalesce(
           (SELECT json_group_array(json_object('artifact', path, 'line', NULL, 'text', 'not read: ' || detail))
              FROM unread_named HAVING count(*) > 0),
           (SELECT json_array(json_object('artifact', path, 'line', NULL, 'text', 'has the django_migrations table, not its rows'))
              FROM current WHERE django = 1),
           (SELECT json_group_array(json_object('artifact', path, 'line', NULL, 'text', 'not read: ' || detail))
              FROM unread HAVING count(*) > 0),
           (SELECT json_array(json_object('artifact', path, 'line', line, 'text', 'migration ' || text || ' is known, its record is not'))
              FROM first_migration)) AS ev)
-- 1. Migration checks: migration files (or a Django database) and no record.
SELECT 'migration' AS value,
       printf('migration checks skipped: %s, so which %s applied is unknown (migration.pending, .unknown-record, .out-of-order, .faked and .partially-applied did not run). %s',
              (SELECT text FROM no_records_reason),
              CASE (SELECT count(*) FROM (SELECT DISTINCT app, name FROM migration))
                WHEN 0 THEN 'migrations were'
                WHEN 1 THEN 'of the 1 known migration was'
                ELSE printf('of the %d known migrations were', (SELECT count(*) FROM (SELECT DISTINCT app, name FROM migration))) END,
              (SELECT text FROM how_records)) AS message,
       (SELECT ev FROM no_records_evidence) AS evidence,
       'checks-skipped' AS cause_key
 WHERE (SELECT yes FROM has_records) = 0
   AND ((SELECT yes FROM has_files) = 1 OR coalesce((SELECT django FROM current), 0) = 1)
UNION ALL
-- 2. Drift checks without records: the schema is there, what it should hold is unknown.
SELECT 'drift',
       printf('drift checks skipped: %s has %d table%s, but %s%s, so what the applied migrations should have made is unknown: no missing, misplaced, changed or unexplained table, column, index or constraint can be reported (drift.* did not run). %s%s',
              (SELECT path FROM current), (SELECT tables FROM current),
              CASE (SELECT tables FROM current) WHEN 1 THEN '' ELSE 's' END,
              (SELECT text FROM no_records_reason),
              CASE WHEN (SELECT yes FROM has_effects) = 0 THEN ', nor any migration file (.py) or sqlmigrate output' ELSE '' END,
              (SELECT text FROM how_records),
              CASE WHEN (SELECT yes FROM has_effects) = 0 THEN '; and the migrations folders of the apps' ELSE '' END),
       json_array(json_object('artifact', (SELECT path FROM current), 'line', NULL,
                              'text', 'the schema that could not be checked')),
       'checks-skipped'
 WHERE (SELECT yes FROM has_records) = 0
   AND coalesce((SELECT tables FROM current), 0) > 0
   AND ((SELECT yes FROM has_files) = 1 OR (SELECT django FROM current) = 1)
UNION ALL
-- 3. Drift checks without a schema: migrations are recorded, no dump shows the database.
SELECT 'drift',
       printf('drift checks skipped: %d migration%s recorded, but no dump of the database%s, so whether their tables, columns, indexes and constraints exist is unknown (drift.*, migration.faked and migration.partially-applied did not run). Send `pg_dump --schema-only` (or a full or -Fc dump) of the database',
              (SELECT count(*) FROM recorded_migration),
              CASE (SELECT count(*) FROM recorded_migration) WHEN 1 THEN ' is' ELSE 's are' END,
              CASE WHEN EXISTS (SELECT 1 FROM unread_dumps)
                   THEN ' could be read (not read: ' || (SELECT group_concat(path || ': ' || detail, '; ') FROM unread_dumps) || ')'
                   ELSE ' was given' END),
       CASE WHEN EXISTS (SELECT 1 FROM unread_dumps)
            THEN (SELECT json_group_array(json_object('artifact', path, 'line', NULL, 'text', 'not read: ' || detail)) FROM unread_dumps)
            ELSE (SELECT json_array(json_object('artifact', path, 'line', line, 'text', 'migration ' || text || ' is recorded')) FROM first_record) END,
       'checks-skipped'
 WHERE (SELECT yes FROM has_records) = 1
   AND NOT EXISTS (SELECT 1 FROM snapshot)
UNION ALL
-- 4. Drift checks without migration files: records and a schema, but what each recorded
--    migration makes is unknown.
SELECT 'drift',
       printf('drift checks skipped: %d migration%s recorded and %s shows the schema, but no migration file (.py) or sqlmigrate output was given, so what the migrations should have made is unknown (drift.*, migration.faked and migration.partially-applied did not run). Send the migrations folders of the apps (or `manage.py sqlmigrate APP NAME` of each migration)',
              (SELECT count(*) FROM recorded_migration),
              CASE (SELECT count(*) FROM recorded_migration) WHEN 1 THEN ' is' ELSE 's are' END,
              (SELECT path FROM current)),
       (SELECT json_array(json_object('artifact', path, 'line', line, 'text', 'migration ' || text || ' is recorded')) FROM first_record),
       'checks-skipped'
 WHERE (SELECT yes FROM has_records) = 1
   AND (SELECT yes FROM has_effects) = 0
   AND EXISTS (SELECT 1 FROM snapshot)
UNION ALL
-- 8. Drift checks on a data-only dump (pg_dump --data-only): its COPY blocks show the tables
--    and their columns, not the columns' types, nullability and defaults, nor any index or
--    constraint. The checks of those did not run (the table and column checks did). Only
--    when the drift checks ran at all (records and migration effects are there: else 2 or 4
--    says that drift is skipped).
SELECT 'drift',
       printf('drift checks skipped in part: %s is a data-only dump (pg_dump --data-only: data, no CREATE TABLE, no index, no constraint). Its data shows %d table%s and %s; it shows no column type, nullability or default, nor any index or constraint, so drift.index-missing, drift.constraint-missing, drift.column-mismatch and drift.not-removed of indexes and constraints did not run, and migration.faked / migration.partially-applied weigh only tables and columns%s. Send the schema too: `pg_dump --schema-only` of the same database (or a full dump, or pg_dump -Fc)',
              (SELECT path FROM current), (SELECT tables FROM current),
              CASE (SELECT tables FROM current) WHEN 1 THEN '' ELSE 's' END,
              coalesce((SELECT CASE WHEN count(*) >= (SELECT tables FROM current)
                                    THEN 'none of their columns (its INSERTs name no column: pg_dump --inserts, where --column-inserts names them), so whether a column is missing could not be told'
                                    ELSE printf('the columns of %d of them (the INSERTs of %s name no column: pg_dump --inserts, where --column-inserts names them), so whether a column of those is missing could not be told',
                                                (SELECT tables FROM current) - count(*),
                                                group_concat(schema_name || '.' || table_name, ', ')) END
                          FROM current_data_only_table
                         WHERE columns IS NULL AND table_name <> 'django_migrations' HAVING count(*) > 0),
                       CASE (SELECT tables FROM current) WHEN 1 THEN 'its columns (the COPY or INSERT column list)'
                            ELSE 'their columns (the COPY or INSERT column lists)' END),
              CASE WHEN EXISTS (SELECT 1 FROM current_data_only_table WHERE inserts)
                   THEN '; its data is INSERTs, and an empty table has none, so a table it does not show may still exist (drift.table-missing did not run)'
                   ELSE '' END),
       json_array(json_object('artifact', (SELECT path FROM current), 'line', NULL,
                              'text', 'a dump with data and no DDL')),
       'checks-skipped'
 WHERE NOT (SELECT yes FROM current_ddl_known)
   AND coalesce((SELECT tables FROM current), 0) > 0
   AND (SELECT yes FROM has_records) = 1
   AND (SELECT yes FROM has_effects) = 1
UNION ALL
-- 5. Data checks: the dumps of the current state hold no data.
SELECT 'data',
       printf('data checks skipped: %s holds the schema only (no COPY or INSERT data), so repeated rows and orphaned references could not be looked for (data.duplicate-rows, etl.orphaned-reference did not run). Send a dump with its data (pg_dump without --schema-only, or pg_dump -Fc)',
              (SELECT path FROM current)),
       json_array(json_object('artifact', (SELECT path FROM current), 'line', NULL,
                              'text', 'a dump without data')),
       'checks-skipped'
 WHERE coalesce((SELECT tables FROM current), 0) > 0
   AND (SELECT data_artifact_id FROM current) IS NULL
UNION ALL
-- 6. Snapshot comparisons: a dump that could not be read takes its state out of the
--    comparison (and out of every other check).
SELECT 'snapshot',
       printf('snapshot checks skipped for %s: %s could not be read, so the state %s shows is neither analysed nor compared with the other dumps (etl.id-remapped compares a dump before with one after). Send a readable copy (check its size and `pg_restore --list` it)',
              (SELECT group_concat(path, ', ') FROM unread_dumps),
              CASE (SELECT count(*) FROM unread_dumps) WHEN 1 THEN 'it' ELSE 'they' END,
              CASE (SELECT count(*) FROM unread_dumps) WHEN 1 THEN 'it' ELSE 'they' END),
       (SELECT json_group_array(json_object('artifact', path, 'line', NULL, 'text', 'not read: ' || detail))
          FROM unread_dumps),
       'checks-skipped'
 WHERE EXISTS (SELECT 1 FROM unread_dumps)
   AND EXISTS (SELECT 1 FROM snapshot)
UNION ALL
-- 7. Nothing to check: no dump, no django_migrations export, no migration file was read.
SELECT 'all',
       printf('no check could run: %s%s. Send a dump of the database (pg_dump, plain or -Fc), its django_migrations table and the apps'' migrations folders',
              CASE (SELECT count(*) FROM artifact)
                WHEN 0 THEN 'no input was given'
                WHEN 1 THEN 'the one input is not a pg_dump, an export of django_migrations or a migration file that could be read'
                ELSE printf('none of the %d inputs is a pg_dump, an export of django_migrations or a migration file that could be read',
                            (SELECT count(*) FROM artifact)) END,
              coalesce(' (not read: ' || (SELECT text FROM unread_any_list) || ')', '')),
       (SELECT json_group_array(json_object('artifact', path, 'line', NULL, 'text', 'not read: ' || detail)) FROM unread),
       'checks-skipped'
 WHERE NOT EXISTS (SELECT 1 FROM snapshot)
   AND NOT EXISTS (SELECT 1 FROM migration_record)
   AND NOT EXISTS (SELECT 1 FROM migration)
   AND NOT EXISTS (SELECT 1 FROM log_event)
UNION ALL
-- 8. Only logs: their checks ran, the checks of the database could not.
SELECT 'drift',
       printf('only logs were read (%d %s): the drift, migration and data checks need a dump of the database (pg_dump, plain or -Fc), its django_migrations table and the apps'' migrations folders; the log checks ran',
              (SELECT count(*) FROM log_artifact),
              CASE (SELECT count(*) FROM log_artifact) WHEN 1 THEN 'log' ELSE 'logs' END),
       (SELECT json_group_array(json_object('artifact', a.path, 'line', NULL, 'text', 'read as ' || a.kind))
          FROM artifact a WHERE a.id IN (SELECT id FROM log_artifact)),
       'checks-skipped'
 WHERE NOT EXISTS (SELECT 1 FROM snapshot)
   AND NOT EXISTS (SELECT 1 FROM migration_record)
   AND NOT EXISTS (SELECT 1 FROM migration)
   AND EXISTS (SELECT 1 FROM log_event)
