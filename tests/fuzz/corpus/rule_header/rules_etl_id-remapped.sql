-- id: etl.id-remapped
-- severity: warning
-- title: Between two snapshots, a parent row kept its natural key but changed its id
-- rationale: An ETL re-import that deleted and re-inserted rows instead of updating them (an UPSERT on the wrong key, a fallback path) gives them new ids; every row elsewhere that kept the old id -- in tables without a FOREIGN KEY -- now points at nothing.
-- remedy: Map the old ids to the new ones in every referring table (the cause's repair does it for the orphans found), then make the import preserve ids (UPSERT on the natural key).
SELECT m.schema_name AS schema,
       m.table_name AS "table",
       m.key_column AS "column",
       m.new_id AS row_id,
       m.old_id AS value,
       m.new_id AS suggested_value,
       printf('%s.%s %s became %s between the snapshots; its natural key (%s) = %s stayed',
              m.schema_name, m.table_name, m.old_id, m.new_id,
              (SELECT columns FROM natural_key n WHERE n.schema_name = m.schema_name AND n.table_name = m.table_name),
              m.natural_key) AS message,
       json_array(
         json_object('artifact', ba.path, 'line', m.before_line, 'text', printf('before: %s = %s, natural key %s', m.key_column, m.old_id, m.natural_key)),
         json_object('artifact', aa.path, 'line', m.after_line, 'text', printf('after: %s = %s, natural key %s', m.key_column, m.new_id, m.natural_key)),
         json_object('artifact', aa.path, 'line', NULL, 'text',
                     'natural key: ' || (SELECT columns || ' (' || source || ')' FROM natural_key n
                                           WHERE n.schema_name = m.schema_name AND n.table_name = m.table_name))) AS evidence,
       'references:' || m.schema_name || '.' || m.table_name AS cause_key
  FROM id_remap m
  JOIN artifact ba ON ba.id = m.before_artifact
  JOIN artifact aa ON aa.id = m.after_artifact
