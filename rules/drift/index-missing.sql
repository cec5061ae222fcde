-- id: drift.index-missing
-- severity: error
-- title: A recorded migration creates an index that does not exist
-- rationale: Queries the index was made for scan the table instead; for a unique index, duplicates can now get in.
-- remedy: Create the index (the repair uses IF NOT EXISTS; build large ones CONCURRENTLY outside a transaction). A unique index that the dump's rows break is left commented out, with a query that lists them; when the rows were not all read, the repair checks them first.
SELECT p.location AS schema,
       o.table_name AS "table",
       o.name AS "index",
       coalesce(fr.migration, o.migration) AS migration,
       CASE WHEN fr.object_id IS NULL
            THEN printf('index %s on %s.%s (%s) does not exist, yet migration %s, recorded as applied, creates it',
                        o.name, p.location, o.table_name, o.columns, o.migration)
            ELSE printf('index %s on %s.%s (%s) does not exist: migration %s, recorded as applied, renames index %s to it, but the rename never ran (%s is still there)',
                        o.name, p.location, o.table_name, o.columns, fr.migration, fr.old_name,
                        fr.old_name) END ||
       CASE WHEN fr.object_id IS NOT NULL THEN ''
            WHEN v.breaks
            THEN printf('; %s: creating it would fail, so the repair lists them and leaves it commented out', v.said)
            WHEN NOT v.clean AND v.unread IS NOT NULL
            THEN printf('; %s, none of them breaking it: the repair checks every row first', v.unread)
            ELSE '' END AS message,
       CASE WHEN fr.object_id IS NULL AND v.breaks
            THEN json_array(
                   json_object('artifact', ea.path, 'line', o.line,
                               'text', coalesce(o.definition, 'CREATE INDEX ' || o.name)),
                   json_object('artifact', ra.path, 'line', rm.line,
                               'text', 'recorded as applied' || coalesce(' at ' || rm.applied_at, '')),
                   json_object('artifact', v.ev_artifact, 'line', v.ev_line, 'text', v.ev_text))
            ELSE json_array(
                   json_object('artifact', ea.path, 'line', coalesce(fr.line, o.line),
                               'text', CASE WHEN fr.object_id IS NULL THEN coalesce(o.definition, 'CREATE INDEX ' || o.name)
                                            ELSE 'ALTER INDEX ' || fr.old_name || ' RENAME TO ' || o.name END),
                   json_object('artifact', ra.path, 'line', rm.line,
                               'text', 'recorded as applied' || coalesce(' at ' || rm.applied_at, ''))) END AS evidence,
       -- a rename that never ran: run it (guarded, safe to run twice), never a second index
       -- a unique index the dump's rows break: never built (see constraint-missing.sql)
       CASE WHEN fr.object_id IS NULL AND (v.object_id IS NULL OR v.clean) THEN d.ddl
            WHEN fr.object_id IS NULL AND v.breaks
            THEN printf('-- NOT RUN: %s. Creating the unique index now would fail. %s, then run the commented line.%s%s-- %s',
                        v.said,
                        CASE WHEN v.listing IS NULL THEN 'Remove or merge the rows at fault'
                             ELSE 'The query below lists the rows at fault: remove or merge them' END,
                        char(10), coalesce(v.listing || char(10), ''), d.ddl)
            WHEN fr.object_id IS NULL AND v.conflict IS NULL THEN d.ddl
            WHEN fr.object_id IS NULL
            THEN printf('DO $dbautopsy$ BEGIN IF %s THEN RAISE NOTICE ''%%'', %s; ELSE EXECUTE %s; END IF; END $dbautopsy$;',
                        v.conflict,
                        pg_literal(printf('%s.%s not given unique index %s: its rows break it; list them with: %s',
                                          p.location, o.table_name, o.name, v.listing)),
                        pg_literal(d.ddl))
            ELSE printf('DO $$ BEGIN IF to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NULL THEN ALTER INDEX %s RENAME TO %s; END IF; END $$;',
                        pg_name_literal(p.location, fr.old_name), pg_name_literal(p.location, o.name),
                        pg_name(p.location, fr.old_name), pg_ident(o.name)) END AS repair,
       'migration:' || coalesce(fr.migration, o.migration) AS cause_key
  FROM expected_object o
  JOIN expected_presence p ON p.object_id = o.id
  JOIN expected_ddl d ON d.object_id = o.id
  LEFT JOIN faked_rename fr ON fr.object_id = o.id
  LEFT JOIN expected_data_verdict v ON v.object_id = o.id
  JOIN artifact ea ON ea.id = coalesce(fr.artifact_id, o.artifact_id)
  JOIN recorded_migration rm ON rm.app || '.' || rm.name = coalesce(fr.migration, o.migration)
  JOIN artifact ra ON ra.id = rm.artifact_id
 WHERE o.kind = 'index' AND NOT p.present AND p.location IS NOT NULL
