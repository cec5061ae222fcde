-- The catalog of the current database as one JSON document: the server's side of the
-- differential test (tests/differential/run.py) and the source of
-- fixtures/pgdump/kitchen_sink.catalog.json (fixtures/generate/kitchen_sink.sh), so that a
-- unit test without a server compares against exactly what this query returns.
--
-- Run it with `psql -X -q -A -t -f catalog.sql`: the only output is one line of JSON.
--
-- What is in scope is what a dump can create and dbautopsy records:
--   * schemas other than pg_catalog, information_schema, pg_toast* and pg_temp_* /
--     pg_toast_temp_* (the server's own);
--   * relations that are not members of an extension (pg_depend deptype 'e'): an
--     extension's tables, views and sequences come from its install script, never from
--     the dump, so dbautopsy cannot and need not know them. Indexes and constraints of
--     such relations are out of scope with them;
--   * constraints on relations only (conrelid <> 0): domain CHECKs are types' business.
--
-- format_type() qualifies a type name unless its schema is on the search_path, so the
-- search_path is pinned to pg_catalog alone: every type outside pg_catalog comes out
-- qualified ("public.order_status"), as in a pg_dump, independent of the session.
-- Arrays are sorted with COLLATE "C" so the document is byte-for-byte stable.
SET search_path = pg_catalog;

WITH
nsp AS (
  SELECT n.oid, n.nspname
  FROM pg_namespace n
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_toast'
    AND n.nspname !~ '^pg_temp_'
),
ext_member AS (
  SELECT d.objid
  FROM pg_depend d
  WHERE d.classid = 'pg_class'::regclass AND d.deptype = 'e'
),
rel AS (
  SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind,
         CASE c.relkind
           WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned_table' WHEN 'f' THEN 'foreign_table'
           WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized_view' WHEN 'S' THEN 'sequence'
         END AS kind,
         CASE c.relpersistence
           WHEN 'p' THEN 'permanent' WHEN 'u' THEN 'unlogged' ELSE 'temporary'
         END AS persistence,
         c.relispartition
  FROM pg_class c
  JOIN nsp n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
    AND c.oid NOT IN (SELECT objid FROM ext_member)
),
parent AS (
  -- The partitioned table of a partition, or the INHERITS parents, in inhseqno order.
  SELECT i.inhrelid AS oid,
         string_agg(format('%I.%I', pn.nspname, p.relname), ', ' ORDER BY i.inhseqno) AS parents
  FROM pg_inherits i
  JOIN pg_class p ON p.oid = i.inhparent
  JOIN pg_namespace pn ON pn.oid = p.relnamespace
  GROUP BY i.inhrelid
),
col AS (
  SELECT r.schema, r.name AS table_name, a.attname AS name, a.attnum,
         format_type(a.atttypid, a.atttypmod) AS type,
         a.attnotnull AS not_null,
         pg_get_expr(ad.adbin, ad.adrelid) AS default_expr,
         nullif(a.attidentity, '') AS identity,
         nullif(a.attgenerated, '') AS generated,
         a.attinhcount > 0 AS inherited
  FROM rel r
  JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
  WHERE r.relkind IN ('r', 'p', 'f', 'v', 'm')
),
idx AS (
  -- Every pg_index entry, those behind PRIMARY KEY / UNIQUE / EXCLUDE included, and the
  -- partitioned indexes (relkind 'I') of partitioned tables with their per-partition
  -- children.
  SELECT r.schema, r.name AS table_name, ic.relname AS name,
         i.indisunique AS is_unique, i.indisprimary AS is_primary,
         am.amname AS method,
         con.conname AS constraint_name,
         pg_get_indexdef(i.indexrelid) AS definition
  FROM pg_index i
  JOIN rel r ON r.oid = i.indrelid
  JOIN pg_class ic ON ic.oid = i.indexrelid
  JOIN pg_am am ON am.oid = ic.relam
  LEFT JOIN pg_constraint con
    ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
),
con AS (
  SELECT r.schema, r.name AS table_name, c.conname AS name, c.contype AS kind,
         fn.nspname AS ref_schema, f.relname AS ref_table,
         c.condeferrable AS is_deferrable, c.condeferred AS is_deferred,
         c.convalidated AS validated, NOT c.conislocal AS inherited,
         pg_get_constraintdef(c.oid) AS definition
  FROM pg_constraint c
  JOIN rel r ON r.oid = c.conrelid
  LEFT JOIN pg_class f ON f.oid = c.confrelid
  LEFT JOIN pg_namespace fn ON fn.oid = f.relnamespace
  WHERE c.contype IN ('p', 'u', 'f', 'c', 'x')
    -- A FOREIGN KEY that references a partitioned table is stored once as written and
    -- then once more per partition of the referenced table: each clone has conparentid
    -- set and the same conrelid as its parent constraint, an invented name
    -- (orders_fkey1, ...) and confrelid pointing at a partition. pg_dump never writes
    -- these clones (the server derives them when the FK is added), so they are internal
    -- bookkeeping, not objects of the schema. The clones of an FK *on* a partitioned
    -- table (one per referencing partition, conrelid = the partition) are real
    -- constraints of those partitions and stay.
    AND NOT (c.contype = 'f' AND c.conparentid <> 0 AND EXISTS (
      SELECT 1 FROM pg_constraint pc WHERE pc.oid = c.conparentid AND pc.conrelid = c.conrelid))
),
seq AS (
  SELECT r.schema, r.name, format_type(s.seqtypid, NULL) AS data_type,
         s.seqstart AS start_value, s.seqincrement AS increment,
         s.seqmin AS min_value, s.seqmax AS max_value, s.seqcache AS cache, s.seqcycle AS cycle,
         own_n.nspname AS owned_by_schema, own_c.relname AS owned_by_table,
         own_a.attname AS owned_by_column,
         coalesce(d.deptype = 'i', false) AS identity
  FROM rel r
  JOIN pg_sequence s ON s.seqrelid = r.oid
  LEFT JOIN pg_depend d
    ON d.classid = 'pg_class'::regclass AND d.objid = r.oid AND d.refobjsubid > 0
   AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
  LEFT JOIN pg_class own_c ON own_c.oid = d.refobjid
  LEFT JOIN pg_namespace own_n ON own_n.oid = own_c.relnamespace
  LEFT JOIN pg_attribute own_a ON own_a.attrelid = d.refobjid AND own_a.attnum = d.refobjsubid
),
cnt AS (
  -- Rows stored in each ordinary table itself (ONLY: an inheritance parent's count leaves
  -- out its children's rows, as a dump's COPY of the parent does). query_to_xml runs the
  -- dynamic count inside this one query. Foreign tables hold no dumped data and views
  -- are queries, so neither is counted.
  SELECT r.schema, r.name,
         (xpath('/row/c/text()',
                query_to_xml(format('SELECT count(*) AS c FROM ONLY %I.%I', r.schema, r.name),
                             false, true, '')))[1]::text::bigint AS rows
  FROM rel r
  WHERE r.relkind = 'r'
)
SELECT json_build_object(
  'database', current_database(),
  -- Schemas an extension created (postgis_topology's "topology") are left out like the
  -- extension's relations.
  'schemas', (SELECT coalesce(json_agg(n.nspname ORDER BY n.nspname COLLATE "C"), '[]')
              FROM nsp n
              WHERE NOT EXISTS (SELECT 1 FROM pg_depend d
                                WHERE d.classid = 'pg_namespace'::regclass
                                  AND d.objid = n.oid AND d.deptype = 'e')),
  'extensions', (SELECT coalesce(json_agg(json_build_object(
                          'name', e.extname, 'schema', en.nspname, 'version', e.extversion)
                          ORDER BY e.extname COLLATE "C"), '[]')
                 FROM pg_extension e JOIN pg_namespace en ON en.oid = e.extnamespace),
  'relations', (SELECT coalesce(json_agg(json_build_object(
                         'schema', r.schema, 'name', r.name, 'kind', r.kind,
                         'persistence', r.persistence, 'is_partition', r.relispartition,
                         'parents', p.parents)
                         ORDER BY r.schema COLLATE "C", r.name COLLATE "C"), '[]')
                FROM rel r LEFT JOIN parent p ON p.oid = r.oid),
  'columns', (SELECT coalesce(json_agg(json_build_object(
                       'schema', schema, 'table', table_name, 'name', name, 'ordinal', attnum,
                       'type', type, 'not_null', not_null, 'default', default_expr,
                       'identity', identity, 'generated', generated, 'inherited', inherited)
                       ORDER BY schema COLLATE "C", table_name COLLATE "C", attnum), '[]')
              FROM col),
  'indexes', (SELECT coalesce(json_agg(json_build_object(
                       'schema', schema, 'table', table_name, 'name', name,
                       'is_unique', is_unique, 'is_primary', is_primary, 'method', method,
                       'constraint', constraint_name, 'definition', definition)
                       ORDER BY schema COLLATE "C", name COLLATE "C"), '[]')
              FROM idx),
  'constraints', (SELECT coalesce(json_agg(json_build_object(
                           'schema', schema, 'table', table_name, 'name', name, 'kind', kind,
                           'ref_schema', ref_schema, 'ref_table', ref_table,
                           'is_deferrable', is_deferrable, 'is_deferred', is_deferred,
                           'validated', validated, 'inherited', inherited,
                           'definition', definition)
                           ORDER BY schema COLLATE "C", table_name COLLATE "C",
                                    name COLLATE "C"), '[]')
                  FROM con),
  'sequences', (SELECT coalesce(json_agg(json_build_object(
                         'schema', schema, 'name', name, 'data_type', data_type,
                         'start_value', start_value, 'increment', increment,
                         'min_value', min_value, 'max_value', max_value, 'cache', cache,
                         'cycle', cycle, 'owned_by_schema', owned_by_schema,
                         'owned_by_table', owned_by_table, 'owned_by_column', owned_by_column,
                         'identity', identity)
                         ORDER BY schema COLLATE "C", name COLLATE "C"), '[]')
                FROM seq),
  'row_counts', (SELECT coalesce(json_agg(json_build_object(
                          'schema', schema, 'table', name, 'rows', rows)
                          ORDER BY schema COLLATE "C", name COLLATE "C"), '[]')
                 FROM cnt)
);
