-- id: data.duplicate-rows
-- severity: warning
-- title: A table repeats the same logical row many times
-- rationale: Rows that differ only in surrogate columns (serial ids, insert timestamps) are the same record inserted again and again: an ETL step or backup job in a loop, a retry without idempotence. The table grows without bound and readers see every record many times.
-- remedy: Keep one row per group (the repair copies them into a new table) and add the UNIQUE constraint that would have stopped it; then fix the loop.
-- option: min_ratio (number): rows per distinct row a table must reach (default 2)
-- option: min_excess (integer): rows beyond the distinct ones a table must reach (default 1000)
WITH
-- Each table's primary key and number of columns, once for all tables: as a subquery per
-- table, SQLite read every column of the snapshot again for each (a dump of 20,000 tables
-- took more than ten minutes here).
primary_key AS MATERIALIZED (
  SELECT schema_name, table_name, max(columns) AS columns FROM current_constraint
   WHERE kind = 'p' GROUP BY schema_name, table_name),
column_count AS MATERIALIZED (
  SELECT schema_name, table_name, count(*) AS n FROM current_column
   GROUP BY schema_name, table_name),
sections AS (
  SELECT t.schema_name, t.table_name, sum(t.rows) AS rows, max(t.line) AS line, a.path,
         max(t.distinct_method) AS method, max(t.ignored_columns) AS ignored,
         max(t.top_rows) AS top_rows, count(*) AS blocks,
         -- the first column is the primary key (an integer the application sets): count
         -- distinct rows without it
         CASE WHEN p.columns = substr(t.columns, 1, instr(t.columns || ',', ',') - 1)
              THEN max(coalesce(t.distinct_without_first, t.distinct_rows))
              ELSE max(t.distinct_rows) END AS distinct_rows,
         coalesce(cc.n, 0) AS columns,
         p.columns AS pk,
         max(t.variants) AS variants,
         CASE WHEN p.columns = substr(t.columns, 1, instr(t.columns || ',', ',') - 1)
                   AND max(t.distinct_without_first) IS NOT NULL
              THEN p.columns END AS key_first
    FROM table_stats t
    JOIN snapshot s ON s.role = 'current' AND t.artifact_id = s.data_artifact_id AND t.db IS s.db
    JOIN artifact a ON a.id = t.artifact_id
    LEFT JOIN primary_key p ON p.schema_name = t.schema_name AND p.table_name = t.table_name
    LEFT JOIN column_count cc ON cc.schema_name = t.schema_name AND cc.table_name = t.table_name
   WHERE t.distinct_rows IS NOT NULL
   GROUP BY t.schema_name, t.table_name),
-- Columns the migrations say the application fills as it inserts (auto_now_add, auto_now,
-- default=timezone.now, default=uuid.uuid4: Django sets them, the column has no default),
-- among those the dump statistics counted the rows without (table_stats.variants).
app_set AS MATERIALIZED (
  SELECT s.schema_name, s.table_name, j.value AS name, j.key AS position,
         (SELECT a.origin || ' in ' || a.app || '.' || a.migration FROM migration_app_value a
           WHERE a.table_name = s.table_name AND a.column_name = j.value
           ORDER BY a.app, a.migration LIMIT 1) AS origin
    FROM sections s, json_each(s.variants, '$.candidates') j
   WHERE s.variants IS NOT NULL AND (SELECT yes FROM migration_files_in_scope) = 1
     AND EXISTS (SELECT 1 FROM migration_app_value a
                  WHERE a.table_name = s.table_name AND a.column_name = j.value)),
-- The count that leaves those out too (and the first column, when it is the key the
-- application sets), with its dominant multiplicity.
chosen AS (
  SELECT s.*,
         (SELECT group_concat(x.name || ' (set by the application: ' || x.origin || ')', ', ')
            FROM (SELECT * FROM app_set x WHERE x.schema_name = s.schema_name
                     AND x.table_name = s.table_name ORDER BY x.position) x) AS app_ignored,
         (SELECT c.value FROM json_each(s.variants, '$.counts') c
           WHERE c.key = coalesce((SELECT group_concat(name, ',') FROM (
                                     SELECT name FROM app_set x WHERE x.schema_name = s.schema_name
                                        AND x.table_name = s.table_name
                                     UNION SELECT s.key_first WHERE s.key_first IS NOT NULL
                                     ORDER BY 1)), '')) AS counted
    FROM sections s),
judged AS (
  SELECT schema_name, table_name, rows, line, path, method, top_rows, blocks, columns, pk,
         CASE WHEN app_ignored IS NOT NULL AND counted IS NOT NULL
              THEN json_extract(counted, '$[0]') ELSE distinct_rows END AS distinct_rows,
         CASE WHEN app_ignored IS NULL THEN ignored
              ELSE coalesce(ignored || ', ', '') || app_ignored END AS ignored,
         json_extract(counted, '$[1]') AS level_count,
         json_extract(counted, '$[2]') AS level_rows,
         -- left out: when each row was inserted (a default of the insert time, or a column
         -- the application fills): its rows may be events that happen again, not copies
         (instr(coalesce(ignored, ''), '(insert time)') > 0
          OR (app_ignored IS NOT NULL AND counted IS NOT NULL)) AS time_left_out
    FROM chosen),
judged_options AS (
  SELECT *,
         coalesce((SELECT CAST(value AS REAL) FROM rule_option WHERE rule = 'data.duplicate-rows' AND name = 'min_ratio'), 2.0) AS min_ratio,
         coalesce((SELECT CAST(value AS INTEGER) FROM rule_option WHERE rule = 'data.duplicate-rows' AND name = 'min_excess'), 1000) AS min_excess,
         -- columns left after the ignored ones: a table of (id, created_at, action) whose
         -- rows repeat is an event log, not a loop
         columns - (length(coalesce(ignored, '')) - length(replace(coalesce(ignored, ''), '(', ''))) AS kept_columns
    FROM judged),
-- The tables that loop; only theirs are the column lists and keys below looked up.
looping AS MATERIALIZED (
  SELECT * FROM judged_options
   WHERE distinct_rows > 0
     AND CAST(rows AS REAL) / distinct_rows >= min_ratio
     AND rows - distinct_rows >= min_excess
     AND kept_columns >= 2
     -- Rows that differ only in when they were inserted are a loop's when a batch of them
     -- was inserted again and again: its rows share one multiplicity, which holds at least
     -- half the repeats (a run stopped inside a batch splits it between N and N+1). Events
     -- that happen again (many logins of each user) repeat each as often as it happens to.
     -- (Past the exact cap the multiplicities are not known: judged as before.)
     AND (NOT time_left_out OR level_count IS NULL
          OR (level_rows >= 2 AND 2 * level_rows * (level_count - 1) >= rows - distinct_rows))),
-- Tables whose counts found no loop, but whose stored rows hold one batch again and again,
-- each pass stamped with its own value of a column (pass_marker: a run counter, a batch uuid,
-- the time the job set for the pass): the same judgement, by the rows read.
marked AS MATERIALIZED (
  SELECT j.schema_name, j.table_name, j.rows, j.line, j.path, j.pk,
         m.rows_read, m.distinct_rows, m.passes, m.batch_rows, m.short_passes, m.left_out,
         m.line AS first_line, m.columns AS marker,
         (SELECT group_concat(value, ', ') FROM json_each(m.columns)) AS marker_list,
         (SELECT group_concat(pg_ident(value), ', ') FROM json_each(m.columns)) AS marker_sql
    FROM judged_options j
    JOIN pass_marker m ON m.schema_name = j.schema_name AND m.table_name = j.table_name
   WHERE NOT EXISTS (SELECT 1 FROM looping l
                      WHERE l.schema_name = j.schema_name AND l.table_name = j.table_name)
     AND m.distinct_rows > 0
     AND CAST(j.rows AS REAL) / m.distinct_rows >= j.min_ratio
     AND j.rows - m.distinct_rows >= j.min_excess)
SELECT schema_name AS schema,
       table_name AS "table",
       printf('%s.%s holds %d rows for %d distinct rows (%s): each repeated %.0f times on average%s',
              schema_name, table_name, rows, distinct_rows,
              CASE method WHEN 'exact' THEN 'exact count' ELSE 'HyperLogLog estimate, within about 1%' END,
              CAST(rows AS REAL) / distinct_rows,
              coalesce('; left out: ' || ignored, '')) ||
       CASE WHEN time_left_out AND level_count IS NOT NULL
            THEN printf('; %d distinct rows occur %d times each (a batch inserted again and again)',
                        level_rows, level_count) ELSE '' END AS message,
       (SELECT json_group_array(json(x)) FROM (
          SELECT json_object('artifact', judged.path, 'line', judged.line,
                             'text', printf('COPY %s.%s: %d rows', schema_name, table_name, rows)) AS x
          UNION ALL
          SELECT json_object('artifact', judged.path, 'line', json_extract(r.value, '$.line'),
                             'text', printf('repeated %d times: %s', json_extract(r.value, '$.count'),
                                            replace(coalesce(json_extract(r.value, '$.row'), ''), char(9), ' | ')))
            FROM json_each(coalesce(judged.top_rows, '[]')) r)) AS evidence,
       json_object('rows', rows, 'distinct_rows', distinct_rows, 'excess_rows', rows - distinct_rows,
                   'exact', CASE method WHEN 'exact' THEN 1 ELSE 0 END) AS metrics,
       printf('-- keep one row per group (the lowest id) in a new table, then swap it in after review:%sCREATE TABLE IF NOT EXISTS %s AS SELECT DISTINCT ON (%s) * FROM %s ORDER BY %s%s;%s-- the constraint that would have stopped the loop (on PostgreSQL 15+, UNIQUE NULLS NOT DISTINCT also refuses copies with NULLs):%sDO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = to_regclass(%s)) THEN ALTER TABLE %s ADD CONSTRAINT %s UNIQUE (%s); END IF; END $$;',
              char(10), pg_name(schema_name, table_name || '_dedup'), kept_list,
              pg_name(schema_name, table_name), kept_list, coalesce(', ' || pk, ''), char(10), char(10),
              pg_literal(table_name || '_dedup_row_key'),
              pg_name_literal(schema_name, table_name || '_dedup'),
              pg_name(schema_name, table_name || '_dedup'), pg_ident(table_name || '_dedup_row_key'),
              kept_list) AS repair,
       'duplicates:' || schema_name || '.' || table_name AS cause_key
  FROM (SELECT j.*,
               (SELECT group_concat(pg_ident(c.name), ', ') FROM (SELECT name FROM current_column c
                  WHERE c.schema_name = j.schema_name AND c.table_name = j.table_name
                    AND instr(', ' || coalesce(j.ignored, '') , ', ' || c.name || ' (') = 0
                    AND instr(coalesce(j.ignored, ''), c.name || ' (') <> 1
                  ORDER BY c.ordinal) c) AS kept_list
          FROM looping j) judged
UNION ALL
SELECT schema_name AS schema,
       table_name AS "table",
       printf('%s.%s holds %d rows for %d distinct rows once %s is left out, which marks each pass of a job that inserted the same rows again and again: %d values of %s %s, each holding the same %d rows%s%s',
              schema_name, table_name, rows, distinct_rows, marker_list, passes, marker_list,
              CASE WHEN rows_read = rows THEN 'in every row (exact count)'
                   ELSE printf('in the first %d rows (the rows kept, --row-cap; the distinct count is theirs, not the whole table''s)', rows_read) END,
              batch_rows,
              CASE short_passes WHEN 0 THEN '' WHEN 1 THEN ' (one pass cut short)'
                   ELSE printf(' (%d passes cut short)', short_passes) END,
              coalesce('; left out: ' || left_out, '')) AS message,
       json_array(
         json_object('artifact', path, 'line', line,
                     'text', printf('COPY %s.%s: %d rows', schema_name, table_name, rows)),
         json_object('artifact', path, 'line', first_line,
                     'text', printf('%s marks the passes: %d values in the %d rows read, %d rows each', marker_list, passes, rows_read, batch_rows))) AS evidence,
       json_object('rows', rows, 'distinct_rows', distinct_rows, 'excess_rows', rows - distinct_rows,
                   'exact', CASE WHEN rows_read = rows THEN 1 ELSE 0 END,
                   'passes', passes, 'batch_rows', batch_rows, 'rows_read', rows_read) AS metrics,
       printf('-- keep one row per group (the first pass: the lowest %s, then the lowest id) leaving out %s too, which marks each pass of the loop, in a new table, then swap it in after review:%sCREATE TABLE IF NOT EXISTS %s AS SELECT DISTINCT ON (%s) * FROM %s ORDER BY %s, %s%s;%s-- the constraint that would have stopped the loop (it refuses the same rows under another %s: drop it if the table is meant to keep a copy per run; on PostgreSQL 15+, UNIQUE NULLS NOT DISTINCT also refuses copies with NULLs):%sDO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = to_regclass(%s)) THEN ALTER TABLE %s ADD CONSTRAINT %s UNIQUE (%s); END IF; END $$;',
              marker_list, marker_list, char(10), pg_name(schema_name, table_name || '_dedup'), kept_list,
              pg_name(schema_name, table_name), kept_list, marker_sql,
              coalesce(', ' || pk, ''), char(10), marker_list, char(10),
              pg_literal(table_name || '_dedup_row_key'),
              pg_name_literal(schema_name, table_name || '_dedup'),
              pg_name(schema_name, table_name || '_dedup'), pg_ident(table_name || '_dedup_row_key'),
              kept_list) AS repair,
       'duplicates:' || schema_name || '.' || table_name AS cause_key
  FROM (SELECT m.*,
               (SELECT group_concat(pg_ident(c.name), ', ') FROM (SELECT name FROM current_column c
                  WHERE c.schema_name = m.schema_name AND c.table_name = m.table_name
                    AND instr(', ' || coalesce(m.left_out, ''), ', ' || c.name || ' (') = 0
                    AND NOT EXISTS (SELECT 1 FROM json_each(m.marker) x WHERE x.value = c.name)
                  ORDER BY c.ordinal) c) AS kept_list
          FROM marked m) marked
 WHERE kept_list IS NOT NULL
