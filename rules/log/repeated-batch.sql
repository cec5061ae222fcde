-- id: log.repeated-batch
-- severity: warning
-- title: A log repeats one step or batch far beyond the run's normal count (a retry loop)
-- rationale: A step that logs the same batch, copy or retry line thousands of times while the rest of the run logs each step a few times is stuck in a loop: each pass may write the same rows again (a backup table with millions of rows for a few real records) until something kills the run.
-- remedy: Stop the loop (make the step idempotent, bound its retries), then remove the rows it wrote again (the duplicate-rows finding of the table it writes carries the repair).
-- option: min_count (integer): times a step must repeat (default 100)
-- option: min_ratio (number): times the run's normal count it must reach (default 20)
WITH named AS MATERIALIZED (
  -- the log each file is part of by its name: a log rotated in the middle of a loop
  -- (etl.log.1 and etl.log, postgresql-2026-12-04_000000.log and
  -- postgresql-2026-12-05_000000.log) is one log, and its loop one loop
  SELECT id AS artifact_id, kind || '|' || log_stream(path) AS stream FROM artifact),
ev AS MATERIALIZED (
  -- the entries of the analysis, once (the view's scope is read once, not per template)
  SELECT e.id, e.artifact_id, e.template_hash, e.ts
    FROM log_event_in_scope e),
file_span AS MATERIALIZED (
  -- where each file's entries end (the searches below stay within their own file's ids: a
  -- case of 500 logs made them read every later log's entries for each loop), and the times
  -- they cover
  SELECT e.artifact_id, n.stream, max(e.id) AS last_id, min(e.ts) AS t0, max(e.ts) AS t1
    FROM ev e JOIN named n ON n.artifact_id = e.artifact_id GROUP BY e.artifact_id),
streams AS MATERIALIZED (
  -- parts of a rotation cover times apart; a file whose times meet another's of the same
  -- name (a copy: postgresql.log beside postgresql.log.gz), or that has none, is a log of
  -- its own
  SELECT f.artifact_id,
         CASE WHEN f.t0 IS NULL OR EXISTS (
                     SELECT 1 FROM file_span o
                      WHERE o.stream = f.stream AND o.artifact_id <> f.artifact_id
                        AND (o.t0 IS NULL OR (o.t0 <= f.t1 AND f.t0 <= o.t1)))
              THEN f.stream || '#' || f.artifact_id ELSE f.stream END AS stream
    FROM file_span f),
span AS (
  SELECT artifact_id, last_id FROM file_span),
first_count AS MATERIALIZED (
  -- the rows each entry claims to have written: the first count of rows it mentions ("41
  -- rows copied ..., check failed (8036 rows for 28 teams)": 41); min() picks that row's value
  SELECT x.event_id, CAST(x.value AS INTEGER) AS n, min(x.n) AS first
    FROM log_entity x
   WHERE x.kind = 'count' AND lower(x.name) IN ('rows', 'row', 'records', 'record')
   GROUP BY x.event_id),
per_file AS MATERIALIZED (
  SELECT e.artifact_id, s.stream, e.template_hash,
         count(*) AS hits,
         min(e.id) AS first_id, max(e.id) AS last_id, min(e.ts) AS first_seen, max(e.ts) AS last_seen,
         sum(c.n) AS rows_claimed
    FROM ev e JOIN streams s ON s.artifact_id = e.artifact_id
         LEFT JOIN first_count c ON c.event_id = e.id
   WHERE e.template_hash IS NOT NULL
   GROUP BY e.artifact_id, e.template_hash),
per_file_ranked AS (
  -- which file of the log holds the template's first entry, and which its last
  SELECT p.*,
         row_number() OVER (PARTITION BY p.stream, p.template_hash
                            ORDER BY p.first_seen IS NULL, p.first_seen, p.first_id) AS first_rank,
         row_number() OVER (PARTITION BY p.stream, p.template_hash
                            ORDER BY p.last_seen IS NULL, p.last_seen DESC, p.last_id DESC) AS last_rank
    FROM per_file p),
per_template AS MATERIALIZED (
  SELECT p.stream, p.template_hash,
         (SELECT t.template FROM log_template t WHERE t.hash = p.template_hash) AS template,
         sum(p.hits) AS hits, count(*) AS files,
         max(CASE WHEN p.first_rank = 1 THEN p.first_id END) AS first_id,
         max(CASE WHEN p.last_rank = 1 THEN p.last_id END) AS last_id,
         -- the file of the last entry: where the run's end is looked for
         max(CASE WHEN p.last_rank = 1 THEN p.artifact_id END) AS artifact_id,
         min(p.first_seen) AS first_seen, max(p.last_seen) AS last_seen,
         sum(p.rows_claimed) AS rows_claimed
    FROM per_file_ranked p
   GROUP BY p.stream, p.template_hash),
ranked AS (
  SELECT stream, hits,
         row_number() OVER (PARTITION BY stream ORDER BY hits) AS rn,
         count(*) OVER (PARTITION BY stream) AS n
    FROM per_template),
run AS (
  -- how often a step of the same log is normally logged: the (lower) median count of its
  -- templates
  SELECT stream, max(n) AS templates, min(CASE WHEN rn = (n + 1) / 2 THEN hits END) AS usual
    FROM ranked GROUP BY stream),
judged AS (
  SELECT p.*, r.usual, r.templates,
         coalesce((SELECT CAST(value AS INTEGER) FROM rule_option WHERE rule = 'log.repeated-batch' AND name = 'min_count'), 100) AS min_count,
         coalesce((SELECT CAST(value AS REAL) FROM rule_option WHERE rule = 'log.repeated-batch' AND name = 'min_ratio'), 20.0) AS min_ratio
    FROM per_template p JOIN run r ON r.stream = p.stream
   -- a step, batch or retry line (a statement a server logs for every call is the
   -- application's normal traffic, not a loop)
   WHERE (lower(p.template) LIKE '%batch%' OR lower(p.template) LIKE '%retr%'
          OR lower(p.template) LIKE '%attempt%' OR lower(p.template) LIKE '%chunk%'
          OR lower(p.template) LIKE '%copy%' OR lower(p.template) LIKE '%insert%'
          OR lower(p.template) LIKE '%backup%' OR p.rows_claimed IS NOT NULL)),
loops AS MATERIALIZED (
  SELECT j.*,
         -- the table the lines write (INSERT INTO, UPDATE, "into t"), else the one they name
         -- most: looked up for the loops only, through their template's entries
         (SELECT x.value FROM per_file q
                 JOIN log_event_in_scope v ON v.artifact_id = q.artifact_id
                  AND v.template_hash = q.template_hash AND v.id BETWEEN q.first_id AND q.last_id
                 JOIN log_entity x ON x.event_id = v.id
           WHERE q.stream = j.stream AND q.template_hash = j.template_hash AND x.kind = 'table'
           GROUP BY x.value ORDER BY max(x.name IS 'written') DESC, count(*) DESC, x.value
           LIMIT 1) AS table_name,
         -- the files of a rotated log that hold it, oldest first
         (SELECT group_concat(path, ' + ') FROM (
            SELECT a2.path FROM per_file q JOIN artifact a2 ON a2.id = q.artifact_id
             WHERE q.stream = j.stream AND q.template_hash = j.template_hash
             ORDER BY q.first_seen IS NULL, q.first_seen, q.first_id)) AS paths,
         -- the run's end: the last entry of the log, when it says the run was killed or aborted
         (SELECT e.id FROM log_event_in_scope e WHERE e.artifact_id = j.artifact_id AND e.id > j.last_id
             AND e.id <= (SELECT s.last_id FROM span s WHERE s.artifact_id = j.artifact_id)
             AND (e.message LIKE '%SIGTERM%' OR e.message LIKE '%SIGKILL%' OR e.message LIKE '%signal%'
                  OR e.message LIKE '%killed%' OR e.message LIKE '%terminat%' OR e.message LIKE '%abort%'
                  OR e.message LIKE '%timed out%' OR e.message LIKE '%timeout%')
           ORDER BY e.id DESC LIMIT 1) AS end_id
    FROM judged j
   WHERE j.hits >= j.min_count AND j.hits >= j.min_ratio * j.usual),
hosts AS (
  SELECT j.*,
         (SELECT f.cause_key FROM finding f WHERE f.id >= (SELECT coalesce(max(first_finding), 0) FROM analysis_scope) AND f.rule = 'data.duplicate-rows'
             AND (f.subject_table = j.table_name OR coalesce(f.subject_schema, '') || '.' || f.subject_table = j.table_name)
           ORDER BY f.id LIMIT 1) AS host_key,
         (SELECT coalesce(f.subject_schema || '.', '') || f.subject_table FROM finding f
           WHERE f.id >= (SELECT coalesce(max(first_finding), 0) FROM analysis_scope) AND f.rule = 'data.duplicate-rows'
             AND (f.subject_table = j.table_name OR coalesce(f.subject_schema, '') || '.' || f.subject_table = j.table_name)
           ORDER BY f.id LIMIT 1) AS host
    FROM loops j)
SELECT CASE WHEN instr(h.table_name, '.') > 0 THEN substr(h.table_name, 1, instr(h.table_name, '.') - 1) END AS schema,
       CASE WHEN instr(h.table_name, '.') > 0 THEN substr(h.table_name, instr(h.table_name, '.') + 1)
            ELSE h.table_name END AS "table",
       h.template AS value,
       printf('%s repeats "%s" %d times (the log''s other steps: %d %s each, the median)%s%s%s%s',
              CASE WHEN h.files > 1 THEN h.paths || ' (one log, rotated)' ELSE a.path END, h.template, h.hits, h.usual, CASE h.usual WHEN 1 THEN 'time' ELSE 'times' END,
              CASE WHEN h.first_seen IS NOT NULL AND h.last_seen > h.first_seen
                   THEN printf(', from %s to %s, every %.1f s', h.first_seen, h.last_seen,
                               (julianday(h.last_seen) - julianday(h.first_seen)) * 86400.0 / (h.hits - 1))
                   ELSE '' END,
              CASE WHEN h.rows_claimed IS NOT NULL THEN printf('; the lines claim %d rows written', h.rows_claimed) ELSE '' END,
              CASE WHEN h.end_id IS NOT NULL THEN '; the run ended with: ' || (SELECT e.message FROM log_event e WHERE e.id = h.end_id) ELSE '' END,
              CASE WHEN h.host IS NOT NULL THEN '; ' || h.host || ' holds the duplicates (data.duplicate-rows)' ELSE '' END) AS message,
       (SELECT json_group_array(json(x)) FROM (
          SELECT json_object('artifact', f.path, 'line', e.line, 'text', 'first: ' || coalesce(e.ts || ' ', '') || e.message) AS x
            FROM log_event e JOIN artifact f ON f.id = e.artifact_id WHERE e.id = h.first_id
          UNION ALL
          SELECT json_object('artifact', f.path, 'line', e.line, 'text', 'last: ' || coalesce(e.ts || ' ', '') || e.message)
            FROM log_event e JOIN artifact f ON f.id = e.artifact_id WHERE e.id = h.last_id
          UNION ALL
          SELECT json_object('artifact', f.path, 'line', e.line, 'text', 'end of the run: ' || coalesce(e.ts || ' ', '') || e.message)
            FROM log_event e JOIN artifact f ON f.id = e.artifact_id WHERE e.id = h.end_id)) AS evidence,
       json_object('repeats', h.hits, 'usual', h.usual, 'first_seen', h.first_seen, 'last_seen', h.last_seen,
                   'period_seconds', CASE WHEN h.first_seen IS NOT NULL AND h.last_seen > h.first_seen
                                          THEN round((julianday(h.last_seen) - julianday(h.first_seen)) * 86400.0 / (h.hits - 1), 3) END,
                   'rows_claimed', h.rows_claimed, 'killed', CASE WHEN h.end_id IS NULL THEN 0 ELSE 1 END) AS metrics,
       coalesce(h.host_key, 'log-loop:' || coalesce(h.table_name, h.template_hash)) AS cause_key
  FROM hosts h JOIN artifact a ON a.id = h.artifact_id
 -- one finding per subject: where several logs show the same loop (rotated logs, copies),
 -- the one that repeats it most (then the first path) is the finding
 ORDER BY h.hits DESC, a.path
