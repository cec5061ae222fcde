-- id: drift.column-mismatch
-- severity: warning
-- title: A column exists with another type, nullability, default or collation than its migrations intend
-- rationale: Someone changed the column outside the migrations (a hotfix, a manual ALTER), or a migration that alters it never ran (the column is exactly as the migrations before it leave it: that migration was faked): the model and the database disagree, and the next migration that touches the column may fail or lose data.
-- remedy: Decide which is right; to follow the migrations, alter the column back (the repair), or write a migration that records the change.
WITH compared AS (
  SELECT o.*, c.type AS actual_type, c.not_null AS actual_not_null, c.default_expr AS actual_default,
         c.line AS actual_line, c.artifact_id AS actual_artifact, p.location,
         (SELECT i.migration FROM expected_intent i WHERE i.object_id = o.id
           ORDER BY i.rowid DESC LIMIT 1) AS last_migration,
         -- A type the migration names without a schema (citext, hstore: an extension's) is
         -- the one its search_path found, in whatever schema the dump qualifies it with
         -- (public.citext, or extensions.citext where the extensions live elsewhere).
         CASE WHEN o.type IS NOT NULL AND o.type <> c.type
                   AND NOT (instr(o.type, '.') = 0 AND instr(c.type, '.') > 0
                            AND (instr(c.type, '(') = 0 OR instr(c.type, '.') < instr(c.type, '('))
                            AND substr(c.type, instr(c.type, '.') + 1) = o.type)
              THEN 1 ELSE 0 END AS type_differs,
         CASE WHEN o.not_null IS NOT NULL AND o.not_null <> c.not_null THEN 1 ELSE 0 END AS null_differs,
         CASE
           WHEN o.default_expr LIKE 'nextval(%' AND (c.default_expr LIKE 'nextval(%' OR c.is_serial) THEN 0
           -- An auto field of a migration written by Django < 4.1 that Django >= 4.1 applied:
           -- the version that runs `migrate` makes it an identity column.
           WHEN o.default_expr LIKE 'nextval(%' AND c.identity IS NOT NULL THEN 0
           WHEN o.default_expr IS NULL AND c.default_expr IS NULL THEN 0
           WHEN o.default_expr IS NULL AND (c.default_expr LIKE 'nextval(%' OR c.identity IS NOT NULL) THEN 0
           WHEN o.default_expr IS NULL OR c.default_expr IS NULL THEN 1
           WHEN replace(lower(o.default_expr), ' ', '') = replace(lower(c.default_expr), ' ', '') THEN 0
           -- DEFAULT 'x' is stored with a cast to the column's type: 'x'::character varying
           WHEN o.default_expr LIKE '''%''' AND o.default_expr NOT LIKE '%::%'
                AND substr(c.default_expr, 1, length(o.default_expr) + 2) = o.default_expr || '::'
                AND substr(c.default_expr, length(o.default_expr) + 3) NOT GLOB '*[''():]*' THEN 0
           ELSE 1
         END AS default_differs,
         -- the COLLATE clause (o.definition of a column) against the dump's collation, both
         -- without quotes and the pg_catalog schema; none on either side is the type's default
         CASE WHEN replace(replace(coalesce(substr(o.definition, 9), ''), '"', ''), 'pg_catalog.', '')
                   <> replace(coalesce(c.collation, ''), 'pg_catalog.', '')
              THEN 1 ELSE 0 END AS collation_differs,
         c.collation AS actual_collation
    FROM expected_object o
    JOIN expected_presence p ON p.object_id = o.id AND p.present
    JOIN current_column c ON c.schema_name = p.location AND c.table_name = o.table_name AND c.name = o.name
   WHERE o.kind = 'column'
     AND c.type IS NOT NULL) -- a data-only dump shows the column, not its type
SELECT location AS schema,
       table_name AS "table",
       name AS "column",
       coalesce(ua.migration, last_migration) AS migration,
       printf(CASE WHEN ua.migration IS NULL THEN 'column %s.%s.%s differs from what migration %s intends:%s%s%s%s'
                   -- the alteration never ran: the column is as the migrations before it left it
                   ELSE 'column %s.%s.%s is still as the migrations before %s leave it, which alters it but never ran:%s%s%s%s' END,
              location, table_name, name,
              coalesce(ua.migration, last_migration),
              CASE WHEN type_differs THEN printf(' type %s, expected %s;', actual_type, type) ELSE '' END,
              CASE WHEN null_differs THEN printf(' %s, expected %s;',
                   CASE WHEN actual_not_null THEN 'NOT NULL' ELSE 'nullable' END,
                   CASE WHEN not_null THEN 'NOT NULL' ELSE 'nullable' END) ELSE '' END,
              CASE WHEN default_differs THEN printf(' default %s, expected %s;',
                   coalesce(actual_default, 'none'), coalesce(default_expr, 'none')) ELSE '' END,
              CASE WHEN collation_differs THEN printf(' collation %s, expected %s;',
                   coalesce(actual_collation, 'the default'),
                   coalesce(substr(definition, 9), 'the default')) ELSE '' END) ||
       CASE WHEN null_differs AND not_null AND fill_value IS NULL AND v.breaks
            THEN printf(' %s: SET NOT NULL would fail (and roll back the whole repair script), so the repair lists them and leaves it commented out', v.said)
            ELSE '' END AS message,
       (SELECT CASE WHEN e.extra IS NULL THEN e.base ELSE json_insert(e.base, '$[#]', json(e.extra)) END
          FROM (SELECT json_array(
         json_object('artifact', ea.path, 'line', coalesce(ua.line, compared.line),
                     'text', CASE WHEN ua.migration IS NULL THEN ''
                                  ELSE 'alters column ' || name || ' (' || ua.migration || '): ' END ||
                             name || ' ' || coalesce(type, '') || CASE WHEN not_null THEN ' NOT NULL' ELSE '' END),
         json_object('artifact', da.path, 'line', actual_line,
                     'text', name || ' ' || actual_type || CASE WHEN actual_not_null THEN ' NOT NULL' ELSE '' END ||
                             coalesce(' DEFAULT ' || actual_default, ''))) AS base,
                       -- the first row with a NULL, when the repair is left commented out
                       CASE WHEN null_differs AND not_null AND fill_value IS NULL AND v.breaks
                            THEN json_object('artifact', v.ev_artifact, 'line', v.ev_line,
                                             'text', v.ev_text) END AS extra) e) AS evidence,
       -- Never lose data on the way back: a narrower varchar is only set when every value
       -- fits (an explicit cast would cut the rest), and NOT NULL only when no NULL is left
       -- (NULLs get the value the migration filled existing rows with, when it says, as Django
       -- does it: SET DEFAULT, UPDATE, SET NOT NULL, DROP DEFAULT; NULLs the dump shows with no
       -- such value: listed, and NOT NULL left commented out); otherwise a NOTICE says what to
       -- decide. No USING clause: a type PostgreSQL cannot convert by assignment makes the
       -- script stop rather than guess. The column's COLLATE clause goes with its type (ALTER
       -- ... TYPE without one gives the type's default collation).
       trim(
         CASE WHEN type_differs AND type LIKE 'character varying(%)' THEN
              printf('DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM %s WHERE length(%s) > %s) THEN ALTER TABLE %s ALTER COLUMN %s TYPE %s; ELSE RAISE NOTICE ''%%'', %s; END IF; END $$; ',
                     pg_name(location, table_name), pg_ident(name),
                     substr(type, 19, length(type) - 19), pg_name(location, table_name), pg_ident(name),
                     type || coalesce(' ' || nullif(definition, ''), ''),
                     pg_literal(printf('%s.%s.%s not changed to %s: some values are longer; shorten them, or keep the column as it is and record that in a migration',
                                       location, table_name, name, type)))
              WHEN type_differs THEN printf('ALTER TABLE %s ALTER COLUMN %s TYPE %s; ',
              pg_name(location, table_name), pg_ident(name), type || coalesce(' ' || nullif(definition, ''), ''))
              -- the collation alone: the same type under the collation the migrations give
              WHEN collation_differs AND type IS NOT NULL THEN printf('ALTER TABLE %s ALTER COLUMN %s TYPE %s %s; ',
              pg_name(location, table_name), pg_ident(name), type,
              coalesce(nullif(definition, ''), 'COLLATE pg_catalog."default"')) ELSE '' END ||
         CASE WHEN null_differs AND not_null AND fill_value IS NOT NULL THEN
              -- Django's AlterField to NOT NULL with a default: the default first (the table is
              -- locked from then on, and new rows get it), the UPDATE, SET NOT NULL, and the
              -- default dropped again (unless the column keeps one)
              CASE WHEN actual_default IS NULL
                   THEN printf('ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s; ',
                               pg_name(location, table_name), pg_ident(name), fill_value)
                   ELSE '' END ||
              printf('UPDATE %s SET %s = %s WHERE %s IS NULL; ALTER TABLE %s ALTER COLUMN %s SET NOT NULL; ',
                     pg_name(location, table_name), pg_ident(name), fill_value, pg_ident(name),
                     pg_name(location, table_name), pg_ident(name)) ||
              CASE WHEN actual_default IS NULL AND NOT default_differs
                   THEN printf('ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT; ',
                               pg_name(location, table_name), pg_ident(name))
                   ELSE '' END
              WHEN null_differs AND not_null AND v.breaks THEN
              printf('%s-- NOT RUN: %s. SET NOT NULL now would fail, and roll back every other repair of this script with it. The query below lists them: give them a value (or decide the column stays nullable, and record that in a migration), then run the commented line.%s%s%s-- ALTER TABLE %s ALTER COLUMN %s SET NOT NULL;%s',
                     char(10), v.said, char(10), v.listing, char(10),
                     pg_name(location, table_name), pg_ident(name), char(10))
              WHEN null_differs AND not_null THEN
              printf('DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM %s WHERE %s IS NULL) THEN ALTER TABLE %s ALTER COLUMN %s SET NOT NULL; ELSE RAISE NOTICE ''%%'', %s; END IF; END $$; ',
                     pg_name(location, table_name), pg_ident(name), pg_name(location, table_name), pg_ident(name),
                     pg_literal(printf('%s.%s.%s not set NOT NULL: it holds NULLs and the migrations give no value to fill them with',
                                       location, table_name, name)))
              WHEN null_differs THEN printf('ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL; ',
              pg_name(location, table_name), pg_ident(name)) ELSE '' END ||
         CASE WHEN default_differs THEN printf('ALTER TABLE %s ALTER COLUMN %s %s;',
              pg_name(location, table_name), pg_ident(name),
              CASE WHEN default_expr IS NULL THEN 'DROP DEFAULT' ELSE 'SET DEFAULT ' || default_expr END)
              ELSE '' END, ' ' || char(10)) AS repair,
       CASE WHEN ua.migration IS NULL THEN 'altered:' || location || '.' || table_name
            ELSE 'migration:' || ua.migration END AS cause_key
  FROM compared
  -- the first alteration of the column that never ran (see unrun_alter), if any
  LEFT JOIN (SELECT u.object_id, u.migration, u.artifact_id, u.line FROM unrun_alter u
              WHERE u.intent_rowid = (SELECT min(v.intent_rowid) FROM unrun_alter v
                                       WHERE v.object_id = u.object_id)) ua
         ON ua.object_id = compared.id
  LEFT JOIN expected_data_verdict v ON v.object_id = compared.id
  JOIN artifact ea ON ea.id = coalesce(ua.artifact_id, compared.artifact_id)
  JOIN artifact da ON da.id = compared.actual_artifact
 WHERE type_differs OR null_differs OR default_differs OR collation_differs
