-- id: drift.constraint-missing
-- severity: error
-- title: A recorded migration creates a constraint (PK, UNIQUE, FK, CHECK) that does not exist
-- rationale: What the constraint guaranteed is no longer guaranteed: duplicates, orphans or invalid values can get in, silently.
-- remedy: Find and fix the rows that break it, then add the constraint (the repair adds it only if it is missing; when the dump's rows break a UNIQUE or PRIMARY KEY constraint, it lists them and leaves the constraint commented out; when the rows were not all read, it checks them first).
SELECT p.location AS schema,
       o.table_name AS "table",
       o.name AS "constraint",
       o.migration AS migration,
       -- (the columns in parentheses when it has them: a check constraint has none listed)
       printf('%s constraint %s on %s.%s%s does not exist, yet migration %s, recorded as applied, creates it',
              CASE o.constraint_kind WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique'
                   WHEN 'f' THEN 'foreign key' WHEN 'c' THEN 'check' ELSE 'exclusion' END,
              o.name, p.location, o.table_name, coalesce(' (' || nullif(o.columns, '') || ')', ''),
              o.migration) ||
       CASE WHEN v.breaks
            THEN printf('; %s: adding it would fail (and roll back the whole repair script), so the repair lists them and leaves it commented out', v.said)
            WHEN NOT v.clean AND v.unread IS NOT NULL
            THEN printf('; %s, none of them breaking it: the repair checks every row first', v.unread)
            ELSE '' END AS message,
       CASE WHEN v.breaks
            THEN json_array(
                   json_object('artifact', ea.path, 'line', o.line, 'text', coalesce(o.definition, o.name)),
                   json_object('artifact', ra.path, 'line', rm.line,
                               'text', 'recorded as applied' || coalesce(' at ' || rm.applied_at, '')),
                   json_object('artifact', v.ev_artifact, 'line', v.ev_line, 'text', v.ev_text))
            ELSE json_array(
                   json_object('artifact', ea.path, 'line', o.line, 'text', coalesce(o.definition, o.name)),
                   json_object('artifact', ra.path, 'line', rm.line,
                               'text', 'recorded as applied' || coalesce(' at ' || rm.applied_at, ''))) END AS evidence,
       -- A UNIQUE or PRIMARY KEY constraint that the dump's rows break is never added: that
       -- fails, and the script's one transaction with it. The rows at fault are listed and the
       -- constraint left commented out. When the rows were not all read (or the dump has none),
       -- the repair checks them first and says so rather than fail.
       CASE WHEN v.object_id IS NULL OR v.clean THEN d.ddl
            WHEN v.breaks
            THEN printf('-- NOT RUN: %s. Adding the constraint now would fail, and roll back every other repair of this script with it. %s, then run the commented line.%s%s-- %s',
                        v.said,
                        CASE WHEN v.listing IS NULL THEN 'Remove or merge the rows at fault'
                             ELSE 'The query below lists the rows at fault: remove or merge them' END,
                        char(10), coalesce(v.listing || char(10), ''), d.ddl)
            WHEN v.conflict IS NULL THEN d.ddl
            ELSE printf('DO $dbautopsy$ BEGIN IF %s THEN RAISE NOTICE ''%%'', %s; ELSE EXECUTE %s; END IF; END $dbautopsy$;',
                        v.conflict,
                        pg_literal(printf('%s.%s not given constraint %s: its rows break it; list them with: %s',
                                          p.location, o.table_name, o.name, v.listing)),
                        pg_literal(d.ddl)) END AS repair,
       'migration:' || o.migration AS cause_key
  FROM expected_object o
  JOIN expected_presence p ON p.object_id = o.id
  JOIN expected_ddl d ON d.object_id = o.id
  LEFT JOIN expected_data_verdict v ON v.object_id = o.id
  JOIN artifact ea ON ea.id = o.artifact_id
  JOIN recorded_migration rm ON rm.app || '.' || rm.name = o.migration
  JOIN artifact ra ON ra.id = rm.artifact_id
 WHERE o.kind = 'constraint' AND NOT p.present AND p.location IS NOT NULL
