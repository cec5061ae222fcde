-- id: data.duplicate-rows
-- severity: warning
-- title: A table repeats the same logical row many times
-- rationale: Rows that differ only in surrogate columns (serial ids, insert timestamps) are the same record inserted again and again: an ETL step or backup job in a loop, a retry without idempotence. The table grows without bound and readers see every record many times.
-- remedy: Keep one row per group (the repair copies them into a new table) and add the UNIQUE constraint that would have stopped it; then fix the loop.
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
         p.columns AS pk
    FROM table_stats t
    JOIN snapshot s ON s.role = 'current' AND t.artifact_id = s.data_artifact_id AND t.db IS s.db
    JOIN artifact a ON a.id = t.artifact_id
    LEFT JOIN primary_key p ON p.schema_name = t.schema_name AND p.table_name = t.table_name
    LEFT JOIN column_count cc ON cc.schema_name = t.schema_name AND cc.table_name = t.table_name
   WHERE t.distinct_rows IS NOT NULL
   GROUP BY t.schema_name, t.table_name),
judged AS (
  SELECT *,
         coalesce((SELECT CAST(value AS REAL) FROM rule_option WHERE rule = 'data.duplicate-rows' AND name = 'min_ratio'), 2.0) AS min_ratio,
         coalesce((SELECT CAST(value AS INTEGER) FROM rule_option WHERE rule = 'data.duplicate-rows' AND name = 'min_excess'), 1000) AS min_excess,
         -- columns left after the ignored ones: a table of (id, created_at, action) whose
         -- rows repeat is an event log, not a loop
         columns - (length(coalesce(ignored, '')) - length(replace(coalesce(ignored, ''), '(', ''))) AS kept_columns
    FROM sections),
-- The tables that loop; only theirs are the column lists and keys below looked up.
looping AS MATERIALIZED (
  SELECT * FROM judged
   WHERE distinct_rows > 0
     AND CAST(rows AS REAL) / distinct_rows >= min_ratio
     AND rows - distinct_rows >= min_excess
     AND kept_columns >= 2)
SELECT schema_name AS schema,
       table_name AS "table",
       printf('%s.%s holds %d rows for %d distinct rows (%s): each repeated %.0f times on average%s',
              schema_name, table_name, rows, distinct_rows,
              CASE method WHEN 'exact' THEN 'exact count' ELSE 'HyperLogLog estimate, within about 1%' END,
              CAST(rows AS REAL) / distinct_rows,
              coalesce('; left out: ' || ignored, '')) AS message,
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
