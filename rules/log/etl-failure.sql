-- id: log.etl-failure
-- severity: warning
-- title: An ETL or application log reports failures: failed id preservation, fallback paths, constraint failures, timeouts
-- rationale: The log says why the data changed: an import that could not keep an id ("preservation failed: statement timeout") takes a fallback path that creates a new one, and every row elsewhere that kept the old id points at nothing. Grouped by message template and tied to the etl finding whose ids or tables it names.
-- remedy: Fix the step that fails (the reason is in the message), then repair the data it left behind (the etl findings of the same cause carry the repair).
WITH app AS MATERIALIZED (
  -- Entries of application and ETL logs (not PostgreSQL's own, whose errors are the
  -- statements' and are read by log.missing-object-error), taken apart first: the tests of
  -- their messages below then never read the (many, long) entries of a server log.
  SELECT * FROM log_event_in_scope
   WHERE format NOT LIKE 'pg-%' AND template_hash IS NOT NULL),
file_span AS MATERIALIZED (
  -- the files of a log rotated in the middle of a loop are one log, as log.repeated-batch
  -- takes them: the same name but for rotation marks (log_stream), times apart
  SELECT a.artifact_id, f.kind || '|' || log_stream(f.path) AS stream, min(a.ts) AS t0,
         max(a.ts) AS t1
    FROM app a JOIN artifact f ON f.id = a.artifact_id GROUP BY a.artifact_id),
streams AS MATERIALIZED (
  SELECT f.artifact_id,
         CASE WHEN f.t0 IS NULL OR EXISTS (
                     SELECT 1 FROM file_span o
                      WHERE o.stream = f.stream AND o.artifact_id <> f.artifact_id
                        AND (o.t0 IS NULL OR (o.t0 <= f.t1 AND f.t0 <= o.t1)))
              THEN f.stream || '#' || f.artifact_id ELSE f.stream END AS stream
    FROM file_span f),
counts AS MATERIALIZED (
  SELECT s.stream, a.template_hash, min(a.template) AS template, count(*) AS n
    FROM app a JOIN streams s ON s.artifact_id = a.artifact_id
   GROUP BY s.stream, a.template_hash),
loops AS MATERIALIZED (
  -- steps repeated in a loop are log.repeated-batch's (its criteria, with their defaults)
  SELECT stream, template_hash FROM counts
   WHERE (lower(template) LIKE '%batch%' OR lower(template) LIKE '%retr%'
          OR lower(template) LIKE '%attempt%' OR lower(template) LIKE '%chunk%'
          OR lower(template) LIKE '%copy%' OR lower(template) LIKE '%insert%'
          OR lower(template) LIKE '%backup%')
     AND n >= coalesce((SELECT CAST(value AS INTEGER) FROM rule_option
                         WHERE rule = 'log.repeated-batch' AND name = 'min_count'), 100)),
failing AS MATERIALIZED (
  -- Those that report a failure.
  SELECT e.*
    FROM app e
   -- errors; warnings and other entries only when they say something failed (a 404's
   -- "Not Found" warning is no failure of the data)
   WHERE (upper(coalesce(e.severity, '')) IN ('ERROR', 'CRITICAL', 'FATAL')
          OR lower(e.message) LIKE '%fail%' OR lower(e.message) LIKE '%fallback%'
          OR lower(e.message) LIKE '%fall back%' OR lower(e.message) LIKE '%falling back%'
          OR lower(e.message) LIKE '%timeout%' OR lower(e.message) LIKE '%timed out%'
          OR lower(e.message) LIKE '%violat%' OR lower(e.message) LIKE '%could not%'
          OR lower(e.message) LIKE '%unable to%')
     -- a missing relation or column is log.missing-object-error's
     AND NOT (e.message LIKE '%relation "%" does not exist%' OR e.message LIKE '%column % does not exist%')
     -- in any log: a copy of the log, or a part of it that no rotation rule joins, is the
     -- same loop
     AND NOT EXISTS (SELECT 1 FROM loops l WHERE l.template_hash = e.template_hash)
     -- the end of a run that looped (killed, aborted) is told by log.repeated-batch
     AND NOT ((e.message LIKE '%SIGTERM%' OR e.message LIKE '%SIGKILL%' OR e.message LIKE '%killed%'
               OR e.message LIKE '%terminat%' OR e.message LIKE '%abort%')
              AND EXISTS (SELECT 1 FROM app x JOIN loops l ON l.template_hash = x.template_hash
                           WHERE x.artifact_id = e.artifact_id))),
templates AS (
  SELECT f.template_hash, min(f.template) AS template, count(*) AS hits,
         count(DISTINCT f.artifact_id) AS files, min(f.ts) AS first_seen, max(f.ts) AS last_seen,
         min(f.id) AS first_id, max(f.id) AS last_id,
         group_concat(DISTINCT upper(f.severity)) AS severities
    FROM failing f GROUP BY f.template_hash),
named AS (
  -- the ids and tables its lines name, and the etl finding that names one of them
  SELECT t.*,
         (SELECT group_concat(v, ', ') FROM (
            SELECT DISTINCT coalesce(x.name || ' ', '') || x.value AS v FROM log_entity x JOIN failing f ON f.id = x.event_id
             WHERE f.template_hash = t.template_hash AND x.kind = 'id' ORDER BY f.id LIMIT 12)) AS ids,
         (SELECT count(DISTINCT x.value) FROM log_entity x JOIN failing f ON f.id = x.event_id
           WHERE f.template_hash = t.template_hash AND x.kind = 'id') AS id_count,
         (SELECT k.id FROM finding k
           WHERE k.id >= (SELECT coalesce(max(first_finding), 0) FROM analysis_scope) AND k.rule LIKE 'etl.%'
             -- an id ties when the message presents it as an id of the finding's rows: "team
             -- 87018", "team_id=87018", "id 87018" (not "attempt 3", "retry 3/5", "batch 3")
             AND (EXISTS (SELECT 1 FROM log_entity x JOIN failing f ON f.id = x.event_id
                           WHERE f.template_hash = t.template_hash AND x.kind = 'id'
                             AND ((x.value = k.subject_row_id AND names_entity(x.name, k.subject_table))
                                  OR (x.value IN (k.subject_value, k.subject_suggested_value)
                                      AND names_entity(x.name, CASE k.rule WHEN 'etl.id-remapped' THEN k.subject_table
                                                                           ELSE k.subject_column END))))
                  OR EXISTS (SELECT 1 FROM log_entity x JOIN failing f ON f.id = x.event_id
                              WHERE f.template_hash = t.template_hash AND x.kind IN ('table', 'relation')
                                AND x.value IN (k.subject_table, coalesce(k.subject_schema, '') || '.' || k.subject_table)))
           ORDER BY k.rule = 'etl.id-remapped' DESC, k.id LIMIT 1) AS host_id
    FROM templates t)
SELECT h.template AS value,
       printf('%d %s: "%s"%s%s%s',
              h.hits, CASE h.hits WHEN 1 THEN 'entry' ELSE 'entries' END, h.template,
              CASE WHEN h.first_seen IS NULL THEN ''
                   WHEN h.first_seen = h.last_seen THEN ' at ' || h.first_seen
                   ELSE ', from ' || h.first_seen || ' to ' || h.last_seen END,
              CASE WHEN h.ids IS NOT NULL THEN printf('; %d %s named: %s%s', h.id_count,
                                                       CASE h.id_count WHEN 1 THEN 'id' ELSE 'ids' END, h.ids,
                                                       CASE WHEN h.id_count > 12 THEN ', ...' ELSE '' END) ELSE '' END,
              coalesce((SELECT printf('; it explains %s %s.%s (%s)', k.rule, k.subject_table,
                                      coalesce(k.subject_column, ''), k.message)
                          FROM finding k WHERE k.id >= (SELECT coalesce(max(first_finding), 0) FROM analysis_scope) AND k.id = h.host_id), '')) AS message,
       (SELECT json_group_array(json(x)) FROM (
          SELECT json_object('artifact', a.path, 'line', e.line,
                             'text', 'first: ' || coalesce(e.ts || ' ', '') || coalesce(e.severity || ' ', '') || e.message ||
                                     coalesce(char(10) || e.detail, '')) AS x
            FROM log_event e JOIN artifact a ON a.id = e.artifact_id WHERE e.id = h.first_id
          UNION ALL
          SELECT json_object('artifact', a.path, 'line', e.line,
                             'text', 'last: ' || coalesce(e.ts || ' ', '') || coalesce(e.severity || ' ', '') || e.message)
            FROM log_event e JOIN artifact a ON a.id = e.artifact_id
           WHERE e.id = h.last_id AND h.last_id <> h.first_id)) AS evidence,
       json_object('entries', h.hits, 'files', h.files, 'ids', h.id_count, 'first_seen', h.first_seen,
                   'last_seen', h.last_seen) AS metrics,
       coalesce((SELECT k.cause_key FROM finding k WHERE k.id >= (SELECT coalesce(max(first_finding), 0) FROM analysis_scope) AND k.id = h.host_id), 'etl-log') AS cause_key
  FROM named h
