-- id: etl.orphaned-reference
-- severity: error
-- title: A reference column holds a value that its parent table does not have
-- rationale: The child row points at a parent that is gone -- usually because a re-import gave the parent a new id -- and disappears from every page that joins the two. Without a FOREIGN KEY constraint the database never complains.
-- remedy: Point the row at the parent's new id (the repair, guarded on the old value), or delete it; then add the FOREIGN KEY that would have refused the orphan.
SELECT o.schema_name AS schema,
       o.table_name AS "table",
       o.column_name AS "column",
       o.row_id AS row_id,
       o.value AS value,
       o.suggested_value AS suggested_value,
       printf('%s.%s row %s has %s = %s, which %s.%s %s; %s', o.schema_name, o.table_name,
              o.row_id, o.column_name, o.value, o.parent_table, o.parent_column,
              CASE WHEN o.method = 'misdirected' THEN 'has, but for another row than before the re-import'
                   ELSE 'does not have' END,
              CASE WHEN o.suggested_value IS NOT NULL THEN printf('it should point at %s: %s', o.suggested_value, o.detail)
                   ELSE 'no new id is known: ' || o.detail END)
         || CASE WHEN o.repeats > 1 THEN printf(' (%d equal rows, from line %d: the table has no primary key to tell them apart)', o.repeats, o.line) ELSE '' END AS message,
       json_array(
         json_object('artifact', a.path, 'line', o.line,
                     'text', printf('%s row %s: %s = %s', o.table_name, o.row_id, o.column_name, o.value)),
         json_object('artifact', a.path, 'line', NULL, 'text', r.evidence)) AS evidence,
       CASE WHEN o.row_id LIKE 'line %' THEN json_object('repeats', o.repeats)
            WHEN o.method = 'misdirected' THEN json_object('misdirected', 1) END AS metrics,
       CASE WHEN o.suggested_value IS NOT NULL AND o.row_id NOT LIKE 'line %' THEN
         printf('UPDATE %s SET %s = %s WHERE %s = %s AND %s = %s;', pg_name(o.schema_name, o.table_name),
                pg_ident(o.column_name), pg_literal(o.suggested_value),
                (SELECT k.columns FROM current_constraint k WHERE k.schema_name = o.schema_name
                    AND k.table_name = o.table_name AND k.kind = 'p'),
                pg_literal(o.row_id), pg_ident(o.column_name), pg_literal(o.value))
       WHEN o.suggested_value IS NOT NULL THEN
         printf('-- %s %s (%d %s): moved to %s by the cause''s UPDATE ... WHERE %s = %s',
                pg_name(o.schema_name, o.table_name), o.row_id, o.repeats,
                CASE o.repeats WHEN 1 THEN 'row' ELSE 'equal rows' END, pg_literal(o.suggested_value),
                pg_ident(o.column_name), pg_literal(o.value))
       ELSE printf('-- %s row %s: find the %s it belongs to (%s), or delete it',
                   pg_name(o.schema_name, o.table_name), o.row_id, o.parent_table, o.detail) END AS repair,
       'references:' || o.parent_schema || '.' || o.parent_table AS cause_key
  FROM orphan o
  JOIN artifact a ON a.id = o.artifact_id
  JOIN ref_inventory r ON r.schema_name = o.schema_name AND r.table_name = o.table_name
   AND r.column_name = o.column_name
