-- The dbautopsy fact store: the one declaration of every table.
--
-- These tables are public API: `dbautopsy query` and user rules read them. Columns may be
-- added in later versions; none is ever renamed or removed. Every fact row names the
-- artifact it came from (`artifact_id`) and, where it has one, the 1-based `line` in that
-- artifact (the first line of the statement that produced it), so that any finding can
-- point at file:line. Booleans are 0/1. Names are stored exactly as PostgreSQL would store
-- them: unquoted identifiers folded to lower case, quoted ones verbatim.
--
-- `db` (in the db_* tables) is the database the object belongs to when an artifact holds
-- several (pg_dumpall, `\connect`); it is NULL for a single-database dump.

PRAGMA user_version = 22;

-- One row per input file.
CREATE TABLE artifact (
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL,          -- as given on the command line, or relative to the case folder
  kind TEXT NOT NULL,          -- pgdump-sql, pgdump-custom, pgdump-tar, pgdump-dir, unknown, ...
  sha256 TEXT NOT NULL,        -- of the file as stored (compressed bytes for a .gz)
  size_bytes INTEGER NOT NULL, -- of the file as stored
  mtime TEXT,                  -- modification time of the file, UTC
  codec TEXT NOT NULL,         -- none, gzip, bzip2, xz, zstd
  read_options TEXT,           -- the options that shape its facts (--ignore-columns, caps)
  status TEXT NOT NULL,        -- ok: read to the end; partial: read up to an error (see problem);
                               -- unsupported: recognised but not analysed (status_detail says why);
                               -- failed: nothing could be read
  status_detail TEXT,
  bytes_read INTEGER,          -- decompressed bytes analysed
  lines_read INTEGER,
  dumped_from TEXT,            -- server version in the pg_dump header ("15.4 (Debian ...)")
  dumped_by TEXT,              -- pg_dump version in the header
  started_on TEXT,             -- "Started on" of a verbose dump, as written
  completed_on TEXT,           -- "Completed on" of a verbose dump, as written
  ingested_at TEXT NOT NULL    -- UTC, ISO 8601
);

-- Defects of the input: statements the parser rejected, truncated data, bad encoding.
-- severity 'error': part of the artifact could not be read (it is partial);
-- 'warning': one statement or record was not understood or not applied, reading went on;
-- 'notice': an observation about the file itself (say, a dump without its closing line).
CREATE TABLE problem (
  id INTEGER PRIMARY KEY,
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  byte_offset INTEGER,         -- decompressed offset, or file offset when in_file = 1
  in_file INTEGER NOT NULL DEFAULT 0,
  severity TEXT NOT NULL,      -- error, warning, notice
  code TEXT NOT NULL,          -- stable id: sql-syntax, other-version-syntax, truncated, ...
  message TEXT NOT NULL,
  snippet TEXT                 -- the start of the offending text
);
CREATE INDEX problem_artifact ON problem(artifact_id);

CREATE TABLE db_schema (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  db TEXT,
  name TEXT NOT NULL
);

CREATE TABLE db_extension (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  db TEXT,
  name TEXT NOT NULL,
  schema_name TEXT,            -- WITH SCHEMA, when given
  version TEXT
);

-- Tables, views, sequences and their kin (pg_class entries that are not indexes).
CREATE TABLE db_relation (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  db TEXT,
  schema_name TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,          -- table, partitioned_table, view, materialized_view, sequence,
                               -- foreign_table
  persistence TEXT NOT NULL DEFAULT 'permanent', -- permanent, unlogged, temporary
  parent_schema TEXT,          -- for a partition: its partitioned table
  parent_name TEXT,
  partition_bound TEXT,        -- FOR VALUES ... / DEFAULT, as written
  partition_key TEXT,          -- PARTITION BY ..., as written, for a partitioned table
  inherits TEXT,               -- comma-separated qualified names of INHERITS parents
  definition TEXT              -- the query of a view or materialized view
);
CREATE INDEX db_relation_name ON db_relation(schema_name, name);

CREATE TABLE db_column (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  db TEXT,
  schema_name TEXT NOT NULL,
  table_name TEXT NOT NULL,
  name TEXT NOT NULL,
  ordinal INTEGER NOT NULL,    -- 1-based position in the table
  type TEXT NOT NULL,          -- as format_type() renders it: "character varying(20)",
                               -- "timestamp with time zone", "public.mpaa_rating[]"
  not_null INTEGER NOT NULL,
  default_expr TEXT,           -- as written, e.g. nextval('public.t_id_seq'::regclass)
  identity TEXT,               -- always, by_default, or NULL
  generated TEXT,              -- stored, virtual, or NULL
  generated_expr TEXT,
  is_serial INTEGER NOT NULL DEFAULT 0, -- default is nextval() of a sequence owned by it
  serial_sequence TEXT,        -- qualified name of that sequence
  collation TEXT,
  inherited INTEGER NOT NULL DEFAULT 0  -- copied from a parent (INHERITS / PARTITION OF)
);
CREATE INDEX db_column_table ON db_column(schema_name, table_name);

CREATE TABLE db_sequence (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  db TEXT,
  schema_name TEXT NOT NULL,
  name TEXT NOT NULL,
  data_type TEXT,              -- AS type, when given
  start_value INTEGER,
  increment INTEGER,
  min_value INTEGER,
  max_value INTEGER,
  cache INTEGER,
  cycle INTEGER,
  owned_by_schema TEXT,        -- OWNED BY table.column
  owned_by_table TEXT,
  owned_by_column TEXT,
  identity INTEGER NOT NULL DEFAULT 0, -- created for an identity column
  last_value INTEGER,          -- from setval() in a data dump
  is_called INTEGER
);

-- Indexes, including those that back PRIMARY KEY, UNIQUE and EXCLUDE constraints
-- (`constraint_name` says which), as pg_index holds them.
CREATE TABLE db_index (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  db TEXT,
  schema_name TEXT NOT NULL,
  table_name TEXT NOT NULL,
  name TEXT NOT NULL,
  is_unique INTEGER NOT NULL,
  is_primary INTEGER NOT NULL DEFAULT 0,
  method TEXT NOT NULL,        -- btree, hash, gin, gist, ...
  columns TEXT NOT NULL,       -- key columns and expressions, comma-separated, as written
  include_columns TEXT,        -- INCLUDE (...)
  predicate TEXT,              -- WHERE of a partial index
  constraint_name TEXT,        -- the constraint this index implements, if any
  definition TEXT NOT NULL     -- a CREATE INDEX statement on one line
);
CREATE INDEX db_index_table ON db_index(schema_name, table_name);

CREATE TABLE db_constraint (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  db TEXT,
  schema_name TEXT NOT NULL,
  table_name TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,          -- p, u, f, c, x as pg_constraint.contype
  columns TEXT,                -- constrained columns, comma-separated
  ref_schema TEXT,             -- FOREIGN KEY ... REFERENCES
  ref_table TEXT,
  ref_columns TEXT,
  on_update TEXT,              -- a (no action), r, c, n, d as pg_constraint.confupdtype
  on_delete TEXT,
  is_deferrable INTEGER NOT NULL DEFAULT 0,
  validated INTEGER NOT NULL DEFAULT 1, -- 0 for NOT VALID
  inherited INTEGER NOT NULL DEFAULT 0, -- copied from a parent table
  definition TEXT              -- the constraint clause, as written
);
CREATE INDEX db_constraint_table ON db_constraint(schema_name, table_name);

-- Other named objects (functions, types, triggers, ...), for the inventory.
CREATE TABLE db_object (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  db TEXT,
  kind TEXT NOT NULL,          -- function, procedure, aggregate, type, domain, trigger, rule,
                               -- policy, event_trigger, publication, role, language, ...
  schema_name TEXT,
  name TEXT NOT NULL,
  table_name TEXT              -- for triggers, rules, policies: the table they are on
);

CREATE TABLE db_comment (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  db TEXT,
  object_kind TEXT NOT NULL,   -- table, column, index, schema, function, ...
  schema_name TEXT,
  object_name TEXT NOT NULL,
  sub_name TEXT,               -- the column of a column comment
  comment TEXT
);

-- Settings of roles and databases, and a session's search_path, with where each is shown:
-- a pg_dumpall's `ALTER ROLE r [IN DATABASE d] SET p TO ...` (its globals, and the part of
-- each database), pg_dump --create's `ALTER DATABASE d SET p TO ...`, and the statements a
-- PostgreSQL log shows (log_statement, or an error's STATEMENT) that set or reset a role's,
-- a database's or a session's search_path: ALTER ROLE / ALTER USER / ALTER DATABASE ... SET
-- / RESET, SET [SESSION | LOCAL] search_path, set_config('search_path', ...). What explains
-- tables created in another schema than the application's (search_path).
CREATE TABLE db_setting (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,                -- the statement's first line (a log: the entry's)
  db TEXT,                     -- the database part of the artifact that holds it (pg_dumpall)
  source TEXT NOT NULL,        -- dump, log
  scope TEXT NOT NULL,         -- role (ALTER ROLE r SET), role_in_database (ALTER ROLE r IN
                               -- DATABASE d SET), database (ALTER DATABASE d SET, and ALTER
                               -- ROLE ALL IN DATABASE d SET), all_roles (ALTER ROLE ALL SET),
                               -- session (SET, SET SESSION, set_config(..., false)),
                               -- transaction (SET LOCAL, set_config(..., true))
  role_name TEXT,              -- the role (a log's CURRENT_USER / SESSION_USER: the entry's
                               -- user, when it has one); a session: the entry's user
  database_name TEXT,          -- the database (a session: the entry's database)
  name TEXT NOT NULL,          -- the parameter, in lower case: search_path, work_mem, ...;
                               -- all for RESET ALL
  action TEXT NOT NULL,        -- set; reset (RESET, SET ... TO DEFAULT, RESET ALL);
                               -- set_from_current (SET ... FROM CURRENT: the value of the
                               -- session that ran it, not known)
  value TEXT,                  -- as SHOW shows it (search_path: test_schema, public)
  schemas TEXT,                -- search_path: JSON array of its schema names, as PostgreSQL
                               -- stores names ("$user" kept as $user)
  failed INTEGER NOT NULL DEFAULT 0, -- 1: read from the STATEMENT of an error entry (what
                               -- the statement set did not last)
  ts TEXT,                     -- a log entry's time (UTC, ISO 8601)
  pid INTEGER,                 -- a log entry's process
  statement TEXT               -- the statement, on one line
);

-- The first rows of each data section, decoded (the first --row-cap rows, 50,000 by
-- default): what natural keys, id remappings and orphaned references are found from.
CREATE TABLE table_row (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  section INTEGER NOT NULL,
  line INTEGER NOT NULL,
  row_values TEXT NOT NULL     -- JSON array of the fields in the section's column order
);
CREATE INDEX table_row_section ON table_row(artifact_id, section);

-- Statements of SQL artifacts, other than INSERTs (counted in table_stats): where each one
-- starts and ends and what the parser made of it.
CREATE TABLE sql_statement (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER NOT NULL,
  end_line INTEGER NOT NULL,
  db TEXT,
  type TEXT NOT NULL,          -- the parse tree node (CreateStmt, AlterTableStmt, CopyStmt, ...),
                               -- or 'unparsed' when the parser rejected it
  bytes INTEGER NOT NULL
);
CREATE INDEX sql_statement_line ON sql_statement(artifact_id, line);

-- Data sections of a dump: one row per COPY block or per table written with INSERTs, with
-- the statistics of its rows. Duplicate counting leaves surrogate columns out (identity
-- columns, nextval() defaults, insert-time timestamps, --ignore-columns): two rows that
-- differ only there are the same logical row.
CREATE TABLE table_stats (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  section INTEGER,             -- the COPY block's number in the artifact (see table_row)
  line INTEGER,                -- the COPY statement, or the first INSERT
  end_line INTEGER,            -- the "\." line, or the last INSERT
  db TEXT,
  schema_name TEXT NOT NULL,
  table_name TEXT NOT NULL,
  source TEXT NOT NULL,        -- copy, insert
  columns TEXT,                -- the column list of COPY, comma-separated
  rows INTEGER NOT NULL,
  bytes INTEGER,               -- bytes of COPY data
  complete INTEGER NOT NULL DEFAULT 1, -- 0 when the data ended before "\." (truncated)
  distinct_rows INTEGER,       -- rows that differ in a column other than the ignored ones
  repeated_rows INTEGER,       -- distinct rows that occur more than once
  distinct_method TEXT,        -- exact, or sketch (HyperLogLog estimate past the exact cap)
  ignored_columns TEXT,        -- the columns left out, comma-separated, with why
  distinct_without_first INTEGER, -- distinct rows also leaving out the first column, when
                               -- it is an integer without a default (a PK set by the
                               -- application, which pg_dump declares only after the data)
  top_rows TEXT,               -- JSON: the most repeated rows [{count, line, row}]
  stored_rows INTEGER,         -- rows kept in full in table_row (the first ones)
  variants TEXT                -- JSON: the rows counted again leaving out more columns.
                               -- {"candidates": [columns an application may fill as it inserts
                               -- (timestamp, date and uuid columns without a default, not left
                               -- out)], "counts": {"<the further columns left out, sorted,
                               -- comma-separated; "" none>": [distinct rows, the dominant
                               -- multiplicity's count, its values (io/distinct.hpp
                               -- dominant_level; null when not exact)]}}: the counts leaving out
                               -- the first column (when distinct_without_first is counted), all
                               -- candidates, and (2 to 4 candidates) all but one
);
CREATE INDEX table_stats_table ON table_stats(schema_name, table_name);

-- Django ----------------------------------------------------------------------------------

-- Rows of django_migrations, from whatever export holds them: a CSV / JSON / psql table
-- export, the table's COPY block or INSERTs inside a dump, or showmigrations output
-- ([X] lines; those have no time).
CREATE TABLE migration_record (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  db TEXT,
  schema_name TEXT,            -- schema of the django_migrations table (dumps only)
  record_id INTEGER,           -- django_migrations.id
  app TEXT NOT NULL,
  name TEXT NOT NULL,
  applied_at TEXT,             -- as written, time zone and all; NULL for showmigrations
  source TEXT NOT NULL         -- csv, json, psql, copy, insert, showmigrations
);
CREATE INDEX migration_record_name ON migration_record(app, name);

-- Migrations known to exist as files: from migration .py files, sqlmigrate outputs, or
-- showmigrations ([ ] and [X] lines).
CREATE TABLE migration (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  app TEXT NOT NULL,
  name TEXT NOT NULL,
  source TEXT NOT NULL,        -- py, sqlmigrate, showmigrations
  initial INTEGER,             -- `initial = True` (py)
  operations INTEGER,          -- number of operations (py)
  replaces TEXT                -- squashed migration: the app.name list it replaces
);
CREATE INDEX migration_name ON migration(app, name);

CREATE TABLE migration_dependency (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  app TEXT NOT NULL,
  name TEXT NOT NULL,
  dep_app TEXT NOT NULL,
  dep_name TEXT NOT NULL,      -- __first__ / __latest__ allowed, as Django does
  swappable TEXT               -- the setting of a swappable_dependency (AUTH_USER_MODEL)
);

CREATE TABLE migration_operation (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  app TEXT NOT NULL,
  name TEXT NOT NULL,
  seq INTEGER NOT NULL,        -- position in `operations`
  type TEXT NOT NULL,          -- CreateModel, AddField, RunSQL, ... or the class of an unknown one
  known INTEGER NOT NULL,      -- 0: an operation dbautopsy does not model (kept, opaque)
  summary TEXT
);

-- What each migration's DDL does to the schema, one row per effect, in order. From the
-- sqlmigrate output when there is one (exact), else derived from the .py file.
CREATE TABLE migration_effect (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  app TEXT NOT NULL,
  migration TEXT NOT NULL,     -- the migration's name (app is the column above)
  seq INTEGER NOT NULL,
  action TEXT NOT NULL,        -- create, drop, alter, rename, set_schema
  object TEXT NOT NULL,        -- table, column, index, constraint, sequence, view, ...
  schema_name TEXT,            -- NULL: unqualified, left to the search_path at run time
  table_name TEXT,
  name TEXT NOT NULL,
  new_name TEXT,
  type TEXT,                   -- columns: format_type() spelling
  not_null INTEGER,
  default_expr TEXT,
  kind TEXT,                   -- constraints: p u f c x; indexes: index, unique index
  columns TEXT,
  ref_schema TEXT,
  ref_table TEXT,
  definition TEXT,             -- indexes, constraints: as written; columns: the COLLATE clause
  predicate TEXT,              -- indexes: the WHERE of a partial index
  conditional INTEGER NOT NULL DEFAULT 0, -- only under a condition (IF in a DO block)
  source TEXT NOT NULL,        -- sqlmigrate, py
  fill_value TEXT              -- columns, SET NOT NULL: the value the migration gave the NULLs
                               -- first (UPDATE ... SET c = v WHERE c IS NULL: Django's AlterField
                               -- to NOT NULL with a default)
);
CREATE INDEX migration_effect_name ON migration_effect(app, migration);

-- Columns that the application fills as it inserts a row, by the migration .py files (the
-- state they end in): a DateTimeField / DateField with auto_now_add or auto_now, a field whose
-- default is a callable Django calls on save (timezone.now, uuid.uuid4, date.today, ...).
-- Django sets them in Python, so the database column has no default; for comparing rows they
-- are what a now() or gen_random_uuid() default is (table_stats.variants). From .py files
-- (derived with their effects).
CREATE TABLE migration_app_value (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id), -- the file of the field's last definition
  line INTEGER,
  app TEXT NOT NULL,
  migration TEXT NOT NULL,     -- the migration's name (app is the column above)
  table_name TEXT NOT NULL,    -- the model's db_table
  column_name TEXT NOT NULL,
  origin TEXT NOT NULL         -- auto_now_add, auto_now, default=<the callable, as written>
);

-- Tables of models a migration declares unmanaged (Meta.managed = False: CreateModel with
-- options={'managed': False, 'db_table': ...}, or AlterModelTable of such a model): Django
-- never creates, alters or drops them; the history says someone else owns them. From .py
-- files (derived with their effects).
CREATE TABLE migration_unmanaged_table (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER,
  app TEXT NOT NULL,
  migration TEXT NOT NULL,     -- the migration's name (app is the column above)
  model TEXT NOT NULL,         -- app_label.model_name (lower case), as Django keys it
  table_name TEXT NOT NULL     -- its db_table (without a schema Django would not see)
);


-- Entries of logs: PostgreSQL's own (stderr with any log_line_prefix, csvlog, jsonlog, the
-- cloud envelopes around them), the application's and the ETL's (Python logging, JSON
-- lines, user formats). One row per entry: its primary line with its DETAIL / HINT /
-- CONTEXT / STATEMENT / QUERY / LOCATION lines, continuation lines and tracebacks.
-- Read it as the view log_event (below): each template is stored once, in log_template, and
-- log_event joins it back (a log of millions of entries has a few thousand templates).
CREATE TABLE log_event_row (
  id INTEGER PRIMARY KEY,
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  line INTEGER NOT NULL,       -- first line of the entry
  end_line INTEGER NOT NULL,   -- last line of the entry
  ts TEXT,                     -- UTC, ISO 8601 (2024-01-14T20:50:01.123Z); NULL when none
  ts_written TEXT,             -- the time as the source wrote it, zone and all
  severity TEXT,               -- as the source writes it: LOG, ERROR, WARNING, INFO, ...
  level TEXT,                  -- PostgreSQL's English word for a severity a server wrote in
                               -- another language (lc_messages: FEHLER is ERROR); NULL when
                               -- the severity is written in English
  sqlstate TEXT,               -- 42P01, ... (PostgreSQL logs that carry it)
  pid INTEGER,
  user_name TEXT,
  database_name TEXT,
  application TEXT,
  client TEXT,                 -- %h / %r, remote host
  session TEXT,                -- %c, session id
  logger TEXT,                 -- Python logger name, ETL task, ...
  message TEXT NOT NULL,
  detail TEXT,
  hint TEXT,
  context TEXT,
  statement TEXT,              -- STATEMENT: (or the statement of a duration line); NULL when
                               -- it is the end of message (statement_at)
  statement_at INTEGER,        -- the statement is substr(message, statement_at): a routine
                               -- `statement: ...` entry's text is stored once
  query TEXT,                  -- QUERY: (PL/pgSQL internal query)
  location TEXT,               -- LOCATION: (source file and line of the server)
  traceback TEXT,              -- Python traceback lines that belong to the entry
  format_id INTEGER NOT NULL REFERENCES log_format(id), -- how it was read (log_format)
  template_hash TEXT           -- hex of a 64-bit hash of template (log_template)
);
-- Entries are stored in the order of their artifact's lines (id order): no index on line.
-- (A load into a new store builds the index of log_event_row after it.)
CREATE INDEX log_event_template ON log_event_row(template_hash);

-- The entries of each log that have a time, counted per message template and hour (UTC), as
-- they were stored: what the timeline shows of the logs, without grouping every entry again.
CREATE TABLE log_hour (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  template_hash TEXT,          -- log_template; NULL for entries without one
  hour TEXT NOT NULL,          -- substr(ts, 1, 13): 2024-01-14T20
  first_ts TEXT NOT NULL,      -- min(ts) of its entries
  last_ts TEXT NOT NULL,       -- max(ts)
  severity TEXT,               -- min(severity) (NULL when none has one)
  entries INTEGER NOT NULL,
  first_line INTEGER NOT NULL  -- min(line)
);

-- The ids each log's entries were stored under: first_id to last_id, `entries` of them (all
-- the ids between when entries = last_id - first_id + 1). Within a log, ids follow its lines,
-- so an entry is found by its line with a binary search over them (no index on line).
CREATE TABLE log_span (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  first_id INTEGER NOT NULL,
  last_id INTEGER NOT NULL,
  entries INTEGER NOT NULL
);

-- How log entries were read, each once: pg-stderr:<log_line_prefix>, pg-csv, pg-json,
-- python:<format>, json, ...
CREATE TABLE log_format (
  id INTEGER PRIMARY KEY,
  format TEXT NOT NULL UNIQUE
);

-- The message templates of log entries, each once: the message with numbers, quoted strings
-- and ids replaced by ?.
CREATE TABLE log_template (
  hash TEXT PRIMARY KEY,       -- hex of a 64-bit hash of template
  template TEXT NOT NULL
) WITHOUT ROWID;

-- One row per log entry, with its template.
CREATE VIEW log_event AS
SELECT e.id, e.artifact_id, e.line, e.end_line, e.ts, e.ts_written, e.severity,
       coalesce(e.level, e.severity) AS level, e.sqlstate,
       e.pid, e.user_name, e.database_name, e.application, e.client, e.session, e.logger,
       e.message, e.detail, e.hint, e.context,
       CASE WHEN e.statement_at IS NULL THEN e.statement
            ELSE substr(e.message, e.statement_at) END AS statement,
       e.query, e.location, e.traceback, f.format, t.template, e.template_hash
  FROM log_event_row e JOIN log_format f ON f.id = e.format_id
       LEFT JOIN log_template t ON t.hash = e.template_hash;

-- The log entries of the database being analysed, which the log rules read. When a case
-- holds several databases (a pg_dumpall), each is analysed on its own, and an entry that
-- names one of the others (database_name: %d of log_line_prefix, the database field of
-- csvlog and jsonlog) is that database's, not this one's. An entry that names no database,
-- or one that no dump of the case holds, is in every database's scope (the log does not say
-- whose it is), but for the databases it cannot have come from (log_event_elsewhere).
CREATE VIEW log_event_in_scope AS
SELECT e.*
  FROM log_event e
 WHERE e.database_name IS NULL
       AND NOT EXISTS (SELECT 1 FROM log_event_elsewhere x
                        WHERE x.event_id = e.id
                          AND x.subject_id = (SELECT s.id FROM subject s WHERE s.analysing = 1))
    OR e.database_name = (SELECT s.database FROM subject s WHERE s.analysing = 1)
    OR e.database_name NOT IN (SELECT s.database FROM subject s WHERE s.database IS NOT NULL);

-- Log entries that say a relation or column does not exist (SQLSTATE 42P01 / 42703, or the
-- message where the source has no SQLSTATE: application logs, stderr without %e), with what
-- they name: `what` (relation or column), the table (schema_name when the entry qualifies it)
-- and the column. The table of a column is the one named with it (t.c, or "c" of relation
-- "t"), else the one a recorded migration gives the column when exactly one does; a relation
-- names itself.
CREATE VIEW log_missing_object AS
WITH errors AS MATERIALIZED (
  SELECT e.id, e.artifact_id, e.line, e.ts, e.message, e.statement, e.sqlstate, e.database_name,
         (SELECT x.value FROM log_entity x WHERE x.event_id = e.id AND x.kind = 'column') AS col,
         (SELECT x.name FROM log_entity x WHERE x.event_id = e.id AND x.kind = 'column') AS col_of,
         (SELECT x.value FROM log_entity x WHERE x.event_id = e.id AND x.kind = 'relation'
           ORDER BY x.n DESC LIMIT 1) AS rel
    FROM log_event e
   WHERE (upper(coalesce(e.level, '')) IN ('ERROR', 'FATAL', 'CRITICAL', 'PANIC')
          -- the SQLSTATE of an undefined table or column is an error's
          OR e.sqlstate IN ('42P01', '42703'))
     AND (e.sqlstate IN ('42P01', '42703')
          OR (coalesce(e.sqlstate, '') = ''
              AND (e.message LIKE '%relation "%" does not exist%'
                   OR e.message LIKE '%column % does not exist%'
                   -- a server writing in another language: a missing-object message of
                   -- PostgreSQL's catalogue (Relation »x« existiert nicht) has the SQLSTATE
                   -- it is raised with as an entity
                   OR EXISTS (SELECT 1 FROM log_entity x
                               WHERE x.event_id = e.id AND x.kind = 'sqlstate'
                                 AND x.value IN ('42P01', '42703')))))),
objects AS (
  SELECT e.*,
         CASE WHEN e.col IS NOT NULL OR e.sqlstate = '42703' OR e.message LIKE '%column % does not exist%'
              THEN 'column' ELSE 'relation' END AS what,
         coalesce(e.col_of,
                  CASE WHEN e.col IS NOT NULL THEN
                    (SELECT min(o.table_name) FROM expected_object o
                      WHERE o.kind = 'column' AND o.name = e.col
                     HAVING count(DISTINCT o.table_name) = 1) END,
                  CASE WHEN e.col IS NULL THEN e.rel END) AS qualified
    FROM errors e)
SELECT o.*,
       CASE WHEN instr(o.qualified, '.') > 0 THEN substr(o.qualified, 1, instr(o.qualified, '.') - 1) END AS schema_name,
       CASE WHEN instr(o.qualified, '.') > 0 THEN substr(o.qualified, instr(o.qualified, '.') + 1)
            ELSE o.qualified END AS table_name,
       CASE WHEN o.what = 'column' THEN o.col END AS column_name
  FROM objects o
 WHERE o.what = 'relation' AND o.rel IS NOT NULL OR o.what = 'column' AND o.col IS NOT NULL;

-- Log entries that name no database, in a case of several databases, that did not come from
-- one of them: an error saying a relation or column does not exist (log_missing_object)
-- whose object that database's current snapshot has where the statement would look for it
-- (its schema, else the database's default schema), while another database of the case
-- lacks it. Written by analyze before the rules run; an entry whose object every database
-- has stays in every database's scope, as one that names nothing does.
CREATE TABLE log_event_elsewhere (
  event_id INTEGER NOT NULL,
  subject_id INTEGER NOT NULL,
  PRIMARY KEY (event_id, subject_id)
) WITHOUT ROWID;

-- The entities a log entry names: relation, column, schema, sqlstate class (not class 00,
-- successful completion: the sqlstate column says it), table names, ids and counts that ETL
-- messages mention (team 87018, 41 rows, attempt 5000), and the SQLSTATE (kind sqlstate, name
-- message) that a missing-object message of a server writing in another language is raised
-- with, when the log does not say it (Relation »x« existiert nicht: 42P01). Kept in the order
-- of the entries
-- (event_id) and of each entry's entities (n): written in that order, so a load appends, and
-- an entry's entities are found by its id without an index of their own.
CREATE TABLE log_entity (
  event_id INTEGER NOT NULL REFERENCES log_event_row(id),
  n INTEGER NOT NULL,          -- its place among the entry's entities, from 1
  artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  kind TEXT NOT NULL,          -- relation, column, schema, sqlstate_class, sqlstate, table, id,
                               -- count
  name TEXT,                   -- what it is of: the noun before an id or count (team, rows)
  value TEXT NOT NULL,
  PRIMARY KEY (event_id, n)
) WITHOUT ROWID;

-- Analysis ----------------------------------------------------------------------------------
-- Written by `dbautopsy analyze` (and `investigate`), replaced on every run. Rules read the
-- facts above and these; reports read findings, causes and facts.

-- The databases the dumps show: each is analysed on its own (its snapshots, its
-- migration records, its findings). Dumps are of one database only when the evidence says
-- so: the same database name in a pg_dumpall (`\connect`), or most of their tables and
-- columns in common; each database of a pg_dumpall is a database of its own. `analysing`
-- marks the one whose analysis is under way (rules read its scope through
-- migration_files_in_scope).
CREATE TABLE subject (
  id INTEGER PRIMARY KEY,
  database TEXT,                     -- the name the dump gives it (pg_dumpall), else NULL
  label TEXT NOT NULL,               -- database NAME, else dump PATH (dumps PATH, PATH...)
  dumps TEXT NOT NULL,               -- JSON array of the paths of its dumps
  grouped_by TEXT NOT NULL,          -- why these dumps were taken as one database
  migration_files INTEGER NOT NULL,  -- 1: checked against the migration files (a Django
                                     -- database whose records fit them); 0: not
  analysing INTEGER NOT NULL DEFAULT 0
);

-- Whether the migration files (migration, migration_effect, migration_dependency) apply to
-- the database being analysed: 1 when no subject says otherwise.
CREATE VIEW migration_files_in_scope AS
  SELECT coalesce((SELECT migration_files FROM subject WHERE analysing = 1), 1) AS yes;

-- Database states the dumps show. Dumps whose schema facts are the same, and whose data
-- (when both have data) is the same, are one snapshot: a schema-only dump beside a full dump
-- of the same moment is reported once. role: current (the latest: what drift is measured
-- against), before (the one before it, for data comparisons), earlier.
CREATE TABLE snapshot (
  id INTEGER PRIMARY KEY,
  role TEXT NOT NULL,
  artifact_id INTEGER NOT NULL,      -- whose db_* facts stand for the snapshot
  db TEXT,                           -- the database within that artifact
  data_artifact_id INTEGER,          -- the artifact with its data (table_stats), if any
  artifacts TEXT NOT NULL,           -- every artifact of this state, comma-separated ids
  taken_at TEXT,                     -- pg_dump's "Started on", when the dump says
  ordered_by TEXT NOT NULL           -- how its place in time was decided: option (--before /
                                     -- --after), else the evidence that decided, '+'-joined:
                                     -- sequences, max ids, header; or file names (dates in
                                     -- them), mtime, or order (read)
);

-- The migrations recorded as applied, once each, in the order they were recorded.
CREATE TABLE recorded_migration (
  app TEXT NOT NULL,
  name TEXT NOT NULL,
  position INTEGER NOT NULL,         -- 1, 2, ... in recording order
  record_id INTEGER,                 -- django_migrations.id, when an export gives it
  applied_at TEXT,
  artifact_id INTEGER NOT NULL,      -- where the record was read (evidence)
  line INTEGER,
  effects_source TEXT                -- sqlmigrate, py, or NULL when its effects are unknown
);

-- The schema the recorded migrations intend, folded in recording order (creates, alters,
-- renames and drops applied in turn). Unqualified objects are expected in the schema that
-- holds django_migrations.
CREATE TABLE expected_object (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,                -- table, column, index, constraint
  schema_name TEXT NOT NULL,
  table_name TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT,
  not_null INTEGER,
  default_expr TEXT,
  fill_value TEXT,                   -- columns: the last default a migration gave it, even if
                                     -- dropped later (Django adds a column with its default to
                                     -- fill existing rows, then drops the default), or the value
                                     -- an UPDATE gave its NULLs before SET NOT NULL
  constraint_kind TEXT,              -- p u f c x
  columns TEXT,
  definition TEXT,                   -- indexes, constraints: as the migration wrote them;
                                     -- columns: the COLLATE clause, if any
  predicate TEXT,                    -- indexes: the WHERE of a partial index
  implied INTEGER NOT NULL DEFAULT 0, -- a table no recorded migration creates, but one alters
  migration TEXT NOT NULL,           -- app.name of the migration that created it
  artifact_id INTEGER,               -- the effect that created it (evidence)
  line INTEGER
);

-- Every migration that intends an expected object: the one that created it and later ones
-- that altered it or made sure of it (a RunSQL repair's IF NOT EXISTS).
CREATE TABLE expected_intent (
  object_id INTEGER NOT NULL REFERENCES expected_object(id),
  migration TEXT NOT NULL,
  action TEXT NOT NULL,              -- create, alter, ensure, rename (of the object itself:
                                     -- old_name), follow (its table was renamed)
  conditional INTEGER NOT NULL DEFAULT 0,
  artifact_id INTEGER,
  line INTEGER,
  old_name TEXT,                     -- rename: the table / column / index name before it
  before_type TEXT,                  -- alter of a column: its type, nullability and default
  before_not_null INTEGER,           -- before this alteration (as the history had left it;
  before_default TEXT,               -- NULL: unknown, or no default)
  before_collation TEXT              -- and its COLLATE clause (NULL: none)
);

-- What the recorded migrations remove (DROP TABLE / COLUMN / INDEX / CONSTRAINT, Django's
-- DeleteModel, RemoveField, RemoveIndex, RemoveConstraint, AlterUniqueTogether and
-- AlterIndexTogether to a smaller set, AlterField dropping unique / db_index / a foreign key),
-- folded with the rest in recording order: the last removal of each object that no later
-- migration creates again, named as the end of the history names it (later renames of its
-- table followed). Objects that went with a removed table or column (CASCADE) are not listed.
CREATE TABLE expected_removal (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,                -- table, column, index, constraint
  schema_name TEXT NOT NULL,
  table_name TEXT,                   -- NULL: an index whose table no recorded migration names
  name TEXT NOT NULL,
  constraint_kind TEXT,              -- as created, when a recorded migration created it
  columns TEXT,
  definition TEXT,             -- indexes, constraints: as written; columns: the COLLATE clause
  created_by TEXT,                   -- app.name of the migration that created it, if recorded
  migration TEXT NOT NULL,           -- app.name of the migration that removes it
  artifact_id INTEGER,               -- the effect that removes it (evidence)
  line INTEGER
);

-- Parent rows: primary key and natural key of every stored row of a parent table (one with a
-- single-column primary key that a column of ref_inventory refers to), in the current
-- snapshot, and in the one before for parents whose ids are compared (id_remap).
CREATE TABLE key_inventory (
  snapshot_id INTEGER NOT NULL REFERENCES snapshot(id),
  schema_name TEXT NOT NULL,
  table_name TEXT NOT NULL,
  key_column TEXT NOT NULL,          -- the primary key column
  row_id TEXT NOT NULL,              -- its value
  natural_key TEXT,                  -- JSON array of the natural key's values
  artifact_id INTEGER NOT NULL,
  line INTEGER
);
CREATE INDEX key_inventory_row ON key_inventory(schema_name, table_name, row_id);

-- What the rows of the current snapshot say of a constraint its repair would add: for each
-- expected UNIQUE / PRIMARY KEY constraint or unique index that is missing, the values of its
-- columns that repeat (a PRIMARY KEY also: rows with a NULL in them); for each expected NOT NULL
-- column that is nullable, its NULLs. From the stored rows (table_row). No row: the dump has no
-- data for the table, or the object's columns are not plain columns of it (an expression, a
-- partial index's WHERE): nothing is known.
CREATE TABLE expected_data_check (
  object_id INTEGER NOT NULL,        -- expected_object
  check_kind TEXT NOT NULL,          -- unique (repeated values), not_null (NULLs)
  columns TEXT NOT NULL,             -- the columns checked, comma-separated
  rows_read INTEGER NOT NULL,        -- the stored rows read
  rows INTEGER NOT NULL,             -- the rows of the table in the dump
  complete INTEGER NOT NULL,         -- 1: every row was read, and equal text means equal values
                                     -- for the columns' types (so no violation means none)
  violations INTEGER NOT NULL,       -- unique: values that repeat; not_null: rows with a NULL
  violating_rows INTEGER NOT NULL,   -- the rows that hold them
  example TEXT,                      -- the most repeated value, as (a, b) (not_null: NULL)
  example_rows INTEGER,              -- how many rows hold it
  artifact_id INTEGER,               -- where the first of them is
  line INTEGER
);

-- Columns that mark the passes of a loop: a job that inserted the same batch of rows again
-- and again, stamping each pass with its own value (a run counter, a batch uuid, the time the
-- job set for the pass, the file imported), which makes every row distinct for table_stats.
-- From the stored rows (table_row) of the current snapshot's tables of at least 1,000 rows whose
-- counts found few repeats: left out the surrogate columns table_stats leaves out, a
-- single-column primary key and the columns the application fills (migration_app_value), the
-- rows without the column(s) are one batch, and each value of the column holds all of it (the
-- same rows as many times each; passes cut short hold part of it). Columns whose values always
-- change together (a run number and its start time) are one row, their names in `columns`.
CREATE TABLE pass_marker (
  schema_name TEXT NOT NULL,
  table_name TEXT NOT NULL,
  columns TEXT NOT NULL,             -- JSON array: the column(s) that mark the passes, in
                                     -- column order
  rows INTEGER NOT NULL,             -- the rows of the table in the dump
  rows_read INTEGER NOT NULL,        -- the stored rows read (the first ones)
  distinct_rows INTEGER NOT NULL,    -- distinct rows among them without the column(s) and the
                                     -- columns left out
  passes INTEGER NOT NULL,           -- values of the column(s) among the rows read
  batch_rows INTEGER NOT NULL,       -- rows of each whole pass
  short_passes INTEGER NOT NULL,     -- passes that hold fewer rows (cut short, or by the row cap)
  left_out TEXT,                     -- the other columns left out, with why (as
                                     -- table_stats.ignored_columns)
  artifact_id INTEGER NOT NULL,
  line INTEGER                       -- the first stored row
);

-- The natural key chosen for each parent table, and how it was chosen.
CREATE TABLE natural_key (
  schema_name TEXT NOT NULL,
  table_name TEXT NOT NULL,
  columns TEXT NOT NULL,             -- comma-separated
  source TEXT NOT NULL               -- "UNIQUE constraint x", "unique index x", "--natural-key",
                                     -- or "inferred: unique in all N rows"
);

-- Columns that refer to a parent table's key: declared foreign keys, and undeclared ones
-- inferred from their name (team_id, home_team_id -> teams) and their values (most of
-- them are keys of that table), in the current snapshot.
CREATE TABLE ref_inventory (
  schema_name TEXT NOT NULL,
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  parent_schema TEXT NOT NULL,
  parent_table TEXT NOT NULL,
  parent_column TEXT NOT NULL,
  declared INTEGER NOT NULL,         -- a FOREIGN KEY constraint says so
  distinct_values INTEGER NOT NULL,  -- non-NULL values in the stored rows
  matched_values INTEGER NOT NULL,   -- of which are keys of the parent
  evidence TEXT NOT NULL
);

-- Parent rows whose natural key stayed while their id changed, between the snapshot before
-- and the current one.
CREATE TABLE id_remap (
  schema_name TEXT NOT NULL,
  table_name TEXT NOT NULL,
  key_column TEXT NOT NULL,
  old_id TEXT NOT NULL,
  new_id TEXT NOT NULL,
  natural_key TEXT NOT NULL,         -- JSON array
  before_artifact INTEGER, before_line INTEGER,
  after_artifact INTEGER, after_line INTEGER
);

-- Child rows of the current snapshot whose reference has no parent.
CREATE TABLE orphan (
  schema_name TEXT NOT NULL,
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  row_id TEXT NOT NULL,              -- the child's primary key, or "line N" without one
  value TEXT NOT NULL,
  parent_schema TEXT NOT NULL,
  parent_table TEXT NOT NULL,
  parent_column TEXT NOT NULL,
  suggested_value TEXT,
  method TEXT NOT NULL,              -- remapped, text, ambiguous, none
  detail TEXT,                       -- how the suggestion was found, or why there is none
  artifact_id INTEGER NOT NULL,
  line INTEGER,
  repeats INTEGER NOT NULL DEFAULT 1 -- a child without a primary key: its rows equal to this
                                     -- one (the first, at `line`), which this row stands for
);

-- One row per analysis (`dbautopsy analyze`, or the analysis step of `investigate`): when it
-- ran and what it found. `report` refuses a store that has none (it was never analysed, so
-- an empty list of findings would mean nothing).
CREATE TABLE analysis (
  id INTEGER PRIMARY KEY,
  analysed_at TEXT NOT NULL,         -- UTC, ISO 8601
  rules INTEGER NOT NULL,            -- rules run
  findings INTEGER NOT NULL
);

-- Options of rules (`--option RULE.NAME=VALUE`), for SQL rules to read.
CREATE TABLE rule_option (
  rule TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL
);

-- The findings of the analysis under way: those with an id above first_finding - 1 (with
-- several databases, each is analysed in turn and the earlier ones' findings stay). Rules that
-- read other rules' findings (the log rules) read only these.
CREATE TABLE analysis_scope (
  first_finding INTEGER NOT NULL
);

CREATE TABLE finding (
  id INTEGER PRIMARY KEY,
  rule TEXT NOT NULL,
  severity TEXT NOT NULL,            -- error, warning, info
  cause_id INTEGER,
  subject_schema TEXT,
  subject_table TEXT,
  subject_column TEXT,
  subject_index TEXT,
  subject_constraint TEXT,
  subject_migration TEXT,
  subject_row_id TEXT,
  subject_value TEXT,
  subject_suggested_value TEXT,
  message TEXT NOT NULL,
  evidence TEXT,                     -- JSON array of {artifact, line, text}
  metrics TEXT,                      -- JSON object
  repair TEXT,                       -- SQL that would repair it (never run)
  cause_key TEXT,                    -- what the rule says groups it with others
  subject_database TEXT              -- the database of a multi-database input (subject.database)
);

CREATE TABLE cause (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  summary TEXT NOT NULL,             -- one line
  narrative TEXT NOT NULL,           -- one paragraph
  evidence TEXT,                     -- JSON array, as in finding
  repair TEXT,                       -- SQL for the whole cause (with expected counts and the
                                     -- checks to run after), when that is the better repair
  subject_id INTEGER                 -- the database it is of, when there are several (subject)
);

-- The current snapshot's facts, for rules.
-- When the current snapshot is a data-only dump (pg_dump --data-only: data, no DDL), its
-- COPY blocks stand for its tables and their column lists for its columns: they prove that
-- the tables and columns exist, not their types, nullability or defaults (NULL here), nor
-- any index or constraint (current_ddl_known says which of the two the snapshot is).
CREATE VIEW current_ddl_known AS
  SELECT EXISTS (SELECT 1 FROM db_relation r JOIN snapshot s ON s.role = 'current'
                  AND r.artifact_id = s.artifact_id AND r.db IS s.db) AS yes;
CREATE VIEW current_data_only_table AS
  SELECT t.artifact_id, min(t.line) AS line, t.db, t.schema_name, t.table_name,
         (SELECT t2.columns FROM table_stats t2 WHERE t2.artifact_id = t.artifact_id
             AND t2.db IS t.db AND t2.schema_name = t.schema_name
             AND t2.table_name = t.table_name AND t2.columns IS NOT NULL
           ORDER BY t2.line LIMIT 1) AS columns,
         max(t.source = 'insert') AS inserts
    FROM table_stats t JOIN snapshot s ON s.role = 'current'
     AND t.artifact_id = coalesce(s.data_artifact_id, s.artifact_id) AND t.db IS s.db
   WHERE NOT (SELECT yes FROM current_ddl_known)
   GROUP BY t.artifact_id, t.db, t.schema_name, t.table_name;
CREATE VIEW current_relation_source AS
  SELECT r.* FROM db_relation r JOIN snapshot s ON s.role = 'current'
   AND r.artifact_id = s.artifact_id AND r.db IS s.db
  UNION ALL
  SELECT artifact_id, line, db, schema_name, table_name, 'table', 'permanent', NULL, NULL, NULL,
         NULL, NULL, NULL
    FROM current_data_only_table;
-- The columns of a data-only snapshot: each name of a COPY column list (or of an INSERT's,
-- from pg_dump --column-inserts), with its position. A table without a column list (pg_dump
-- --inserts) gives none: its columns are unknown.
CREATE VIEW current_data_only_column AS
  WITH RECURSIVE split(artifact_id, line, db, schema_name, table_name, ordinal, name, rest) AS (
    SELECT artifact_id, line, db, schema_name, table_name, 0, NULL, columns || ','
      FROM current_data_only_table WHERE columns IS NOT NULL
    UNION ALL
    SELECT artifact_id, line, db, schema_name, table_name, ordinal + 1,
           trim(substr(rest, 1, instr(rest, ',') - 1)), substr(rest, instr(rest, ',') + 1)
      FROM split WHERE rest <> '')
  SELECT artifact_id, line, db, schema_name, table_name,
         CASE WHEN name LIKE '"%"' THEN replace(substr(name, 2, length(name) - 2), '""', '"')
              ELSE name END AS name, ordinal
    FROM split WHERE ordinal > 0;
CREATE VIEW current_column_source AS
  SELECT c.* FROM db_column c JOIN snapshot s ON s.role = 'current'
   AND c.artifact_id = s.artifact_id AND c.db IS s.db
  UNION ALL
  SELECT artifact_id, line, db, schema_name, table_name, name, ordinal, NULL, NULL, NULL, NULL,
         NULL, NULL, 0, NULL, NULL, 0
    FROM current_data_only_column;
CREATE VIEW current_index_source AS
  SELECT i.* FROM db_index i JOIN snapshot s ON s.role = 'current'
   AND i.artifact_id = s.artifact_id AND i.db IS s.db;
CREATE VIEW current_constraint_source AS
  SELECT k.* FROM db_constraint k JOIN snapshot s ON s.role = 'current'
   AND k.artifact_id = s.artifact_id AND k.db IS s.db;
-- The current snapshot's relations, columns, indexes and constraints, as the views above
-- give them, kept in tables that the analysis fills each time it chooses the current snapshot
-- (derive): rules look objects up in them by name once per expected object, and through the
-- views (two are UNION ALLs, which SQLite cannot search by an index) each look-up read every
-- object of the dump: 20,000 tables against a Django history took 24 s in two rules.
CREATE TABLE current_relation AS SELECT * FROM current_relation_source WHERE 0;
CREATE INDEX current_relation_name ON current_relation(schema_name, name);
CREATE INDEX current_relation_bare_name ON current_relation(name);
CREATE TABLE current_column AS SELECT * FROM current_column_source WHERE 0;
CREATE INDEX current_column_name ON current_column(schema_name, table_name, name);
CREATE TABLE current_index AS SELECT * FROM current_index_source WHERE 0;
CREATE INDEX current_index_table ON current_index(schema_name, table_name);
CREATE INDEX current_index_name ON current_index(schema_name, name);
CREATE TABLE current_constraint AS SELECT * FROM current_constraint_source WHERE 0;
CREATE INDEX current_constraint_table ON current_constraint(schema_name, table_name, name);
CREATE VIEW current_table AS
  SELECT * FROM current_relation WHERE kind IN ('table', 'partitioned_table', 'foreign_table');

-- The schema of the application's django_migrations in the current snapshot: public's, else
-- the first by name; no row when the snapshot has none. The application's migrations are
-- recorded there, and its unqualified names are searched there.
CREATE VIEW current_migrations_schema AS
  SELECT schema_name FROM current_relation WHERE name = 'django_migrations'
   ORDER BY schema_name = 'public' DESC, schema_name LIMIT 1;

-- The extensions of the current snapshot (CREATE EXTENSION in any of its dumps, in whatever
-- schema), and whether the snapshot can show them at all: it has DDL (a data-only dump shows
-- no extension), and it is not a dump of chosen tables or schemas, which pg_dump writes
-- without any extension: one read from a dump per table (pg_dump -t, `tables-into`), or one
-- that creates the public schema (only pg_dump -n public does; a whole dump never does).
CREATE VIEW current_extension AS
  SELECT e.* FROM db_extension e JOIN snapshot s ON s.role = 'current'
   AND instr(',' || s.artifacts || ',', ',' || e.artifact_id || ',') > 0 AND e.db IS s.db;
CREATE VIEW current_extensions_known AS
  SELECT (SELECT yes FROM current_ddl_known)
         AND NOT EXISTS (SELECT 1 FROM snapshot s JOIN artifact h ON h.id = s.artifact_id
                           JOIN artifact m ON instr(m.read_options, ';tables-into=' || h.path) > 0
                          WHERE s.role = 'current')
         AND NOT EXISTS (SELECT 1 FROM db_schema n JOIN snapshot s ON s.role = 'current'
                          AND instr(',' || s.artifacts || ',', ',' || n.artifact_id || ',') > 0
                          AND n.db IS s.db
                         WHERE n.name = 'public') AS yes;
-- Whether the extension a recorded migration creates is in the current snapshot: its
-- CREATE EXTENSION (in any schema: Supabase keeps them in `extensions`), or a column of a
-- type it brings, or an index or constraint with an operator class it brings (they cannot
-- exist without it); else absent when the snapshot can show extensions, unknown otherwise.
CREATE VIEW current_extension_presence AS
  SELECT o.id AS object_id,
         CASE
           WHEN EXISTS (SELECT 1 FROM current_extension x WHERE x.name = o.name) THEN 1
           WHEN o.name IN ('citext', 'hstore') AND EXISTS (
             SELECT 1 FROM current_column c
              WHERE replace(replace(c.type, '"', ''), '[]', '') = o.name
                 OR replace(replace(c.type, '"', ''), '[]', '') LIKE '%.' || o.name) THEN 1
           WHEN o.name = 'pg_trgm' AND (
             EXISTS (SELECT 1 FROM current_index i
                      WHERE i.definition LIKE '%gin\_trgm\_ops%' ESCAPE '\'
                         OR i.definition LIKE '%gist\_trgm\_ops%' ESCAPE '\')) THEN 1
           WHEN (SELECT yes FROM current_extensions_known) THEN 0
         END AS present
    FROM expected_object o
   WHERE o.kind = 'extension';

-- A rename a recorded migration makes that never ran: the object is missing under the name
-- the history leaves it, and the table (of its schema) / column / index still has the name
-- it had before the rename (the latest such rename of each object).
CREATE VIEW faked_rename_source AS
  SELECT o.id AS object_id, o.kind, o.schema_name, o.table_name, o.name, i.old_name,
         i.migration, i.artifact_id, i.line
    FROM expected_object o
    JOIN expected_intent i ON i.object_id = o.id AND i.action = 'rename'
   WHERE i.rowid = (SELECT max(j.rowid) FROM expected_intent j
                     WHERE j.object_id = o.id AND j.action = 'rename'
                       AND CASE o.kind
                             WHEN 'table' THEN EXISTS (
                               SELECT 1 FROM current_table t
                                WHERE t.schema_name = o.schema_name AND t.name = j.old_name)
                               AND NOT EXISTS (SELECT 1 FROM current_table t WHERE t.name = o.table_name)
                             -- on its table, or on the table's old name when the
                             -- table's own rename never ran either (RenameField and
                             -- RenameModel of one model, faked together)
                             WHEN 'column' THEN EXISTS (
                               SELECT 1 FROM current_column c
                                WHERE c.schema_name = o.schema_name AND c.name = j.old_name
                                  AND (c.table_name = o.table_name OR c.table_name IN (
                                       SELECT ti.old_name FROM expected_object t
                                         JOIN expected_intent ti ON ti.object_id = t.id
                                              AND ti.action = 'rename'
                                        WHERE t.kind = 'table' AND t.schema_name = o.schema_name
                                          AND t.table_name = o.table_name
                                          AND NOT EXISTS (SELECT 1 FROM current_table x
                                                           WHERE x.name = o.table_name))))
                               AND NOT EXISTS (SELECT 1 FROM current_column c
                                WHERE c.schema_name = o.schema_name AND c.table_name = o.table_name
                                  AND c.name = o.name)
                             WHEN 'index' THEN EXISTS (
                               SELECT 1 FROM current_index x
                                WHERE x.schema_name = o.schema_name AND x.name = j.old_name)
                               AND NOT EXISTS (SELECT 1 FROM current_index x
                                WHERE x.schema_name = o.schema_name AND x.name = o.name)
                             ELSE 0 END);

-- An index or constraint a recorded migration drops and creates again under another name, on
-- the same table and columns (RenameModel re-creates each foreign key to the renamed table
-- under a name derived from the new table), where that never ran: the old one is still there
-- and nothing has the new name. It is the same object under its old name: present for what
-- it does, not removed, and renamed by the repair of the rename it goes with.
CREATE VIEW faked_recreate_source AS
  SELECT r.id AS removal_id, o.id AS object_id, r.migration, o.kind, o.schema_name,
         o.table_name, r.name AS old_name, o.name
    FROM expected_removal r
    JOIN expected_object o ON o.kind = r.kind AND o.schema_name = r.schema_name
         AND o.table_name = r.table_name AND o.name <> r.name
         AND o.constraint_kind IS r.constraint_kind
         AND replace(replace(lower(o.columns), '"', ''), ' ', '') =
             replace(replace(lower(r.columns), '"', ''), ' ', '')
   WHERE r.kind IN ('index', 'constraint')
     AND EXISTS (SELECT 1 FROM expected_intent i
                  WHERE i.object_id = o.id AND i.migration = r.migration AND i.action = 'create')
     AND CASE r.kind
           WHEN 'index' THEN EXISTS (
             SELECT 1 FROM current_index x WHERE x.schema_name = r.schema_name
                AND x.table_name = r.table_name AND x.name = r.name)
             AND NOT EXISTS (SELECT 1 FROM current_index x
                              WHERE x.schema_name = o.schema_name AND x.name = o.name)
           ELSE EXISTS (
             SELECT 1 FROM current_constraint k WHERE k.schema_name = r.schema_name
                AND k.table_name = r.table_name AND k.name = r.name)
             AND NOT EXISTS (SELECT 1 FROM current_constraint k
                              WHERE k.schema_name = o.schema_name
                                AND k.table_name = o.table_name AND k.name = o.name) END;

-- The rows of each table of the current snapshot, from its data (NULL: no data for it).
CREATE VIEW current_table_rows AS
  SELECT t.schema_name, t.table_name, sum(t.rows) AS rows
    FROM table_stats t JOIN snapshot s ON s.role = 'current'
     AND t.artifact_id = s.data_artifact_id AND t.db IS s.db
   GROUP BY t.schema_name, t.table_name;

-- An expected table that is in its intended schema, but empty there, while a table of that
-- name in another schema holds rows: the migration ran in that other schema (its search_path)
-- and the empty one is a copy made since (incident write-ups: `CREATE TABLE IF NOT EXISTS`
-- in public, run by a repair migration before anyone moved the real tables). The one with
-- the rows is the migrated table. A copy that got rows of its own since (the application
-- wrote into it) is such a copy too when it lacks a column the recorded migrations add to the
-- table and the one in the other schema has it (the copy was made from an earlier migration's
-- SQL; the migrations that followed ran where the first one did), and so is each other table
-- of the migration that created such a copy, found with rows in both schemas. A schema with a
-- django_migrations of its own is another database's worth of migrations (a tenant of
-- django-tenants, say), never such a copy.
CREATE VIEW expected_table_copy_source AS
  WITH candidate AS (
    SELECT o.id AS object_id, o.schema_name AS copy_schema, o.table_name, o.migration,
           e.rows AS copy_rows,
           (SELECT min(t.schema_name) FROM current_table t JOIN current_table_rows r
                   ON r.schema_name = t.schema_name AND r.table_name = t.name
             WHERE t.name = o.table_name AND t.schema_name <> o.schema_name AND r.rows > 0
               AND NOT EXISTS (SELECT 1 FROM current_table m
                                WHERE m.schema_name = t.schema_name
                                  AND m.name = 'django_migrations')) AS data_schema
      FROM expected_object o
      JOIN current_table h ON h.name = o.table_name AND h.schema_name = o.schema_name
      JOIN current_table_rows e ON e.schema_name = o.schema_name AND e.table_name = o.table_name
     WHERE o.kind = 'table'),
  lacking AS (
    SELECT x.* FROM candidate x
     WHERE x.data_schema IS NOT NULL
       AND EXISTS (SELECT 1 FROM expected_object c
                     JOIN current_column d ON d.schema_name = x.data_schema
                      AND d.table_name = x.table_name AND d.name = c.name
                    WHERE c.kind = 'column' AND c.schema_name = x.copy_schema
                      AND c.table_name = x.table_name
                      AND NOT EXISTS (SELECT 1 FROM current_column k
                                       WHERE k.schema_name = x.copy_schema
                                         AND k.table_name = x.table_name AND k.name = c.name)))
  SELECT x.object_id, x.copy_schema, x.table_name, x.data_schema
    FROM candidate x
   WHERE x.data_schema IS NOT NULL
     AND (x.copy_rows = 0
          -- a copy with rows: it lacks a later column, or a table its migration creates does
          OR EXISTS (SELECT 1 FROM lacking l
                      WHERE l.migration = x.migration AND l.copy_schema = x.copy_schema
                        AND l.data_schema = x.data_schema));

-- Whether the current snapshot is a dump of chosen schemas: one of its dumps creates the public
-- schema, which only pg_dump -n public (or -n of it among others) does; a whole dump never
-- does. Such a dump cannot tell that a table is in no schema.
CREATE VIEW current_schemas_chosen AS
  SELECT EXISTS (SELECT 1 FROM db_schema n JOIN snapshot s ON s.role = 'current'
                    AND instr(',' || s.artifacts || ',', ',' || n.artifact_id || ',') > 0
                    AND n.db IS s.db
                  WHERE n.name = 'public') AS yes;

-- Tables the current snapshot does not show but proves to exist: a foreign key of one of its
-- tables references them, in a schema of which it shows nothing (a dump of chosen schemas,
-- pg_dump -n public, of a database whose migrations put tables in test_schema: the foreign
-- keys of public's tables to them are dumped, the tables are not). line: the first such
-- foreign key's.
CREATE VIEW current_referenced_table AS
  SELECT k.ref_schema AS schema_name, k.ref_table AS name, k.artifact_id, min(k.line) AS line,
         k.schema_name AS by_schema, k.table_name AS by_table, k.name AS by_constraint
    FROM current_constraint k
   WHERE k.kind = 'f' AND k.ref_schema IS NOT NULL AND k.ref_table IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM current_relation r WHERE r.schema_name = k.ref_schema)
   GROUP BY k.ref_schema, k.ref_table;

-- Tables of another dump that holds the part of this database a dump of chosen schemas left
-- out (pg_dump -n public beside pg_dump -n test_schema of the same database): when the current
-- snapshot is such a dump (current_schemas_chosen), the tables of a dump of no snapshot of this
-- database that creates their schema, shows nothing of public and has no django_migrations,
-- in a schema the current snapshot shows nothing of.
CREATE VIEW current_part_table AS
  SELECT r.schema_name, r.name, r.artifact_id, r.line
    FROM db_relation r
   WHERE (SELECT yes FROM current_schemas_chosen)
     AND r.kind IN ('table', 'partitioned_table', 'foreign_table')
     AND NOT EXISTS (SELECT 1 FROM snapshot s
                      WHERE instr(',' || s.artifacts || ',', ',' || r.artifact_id || ',') > 0)
     AND NOT EXISTS (SELECT 1 FROM current_relation c WHERE c.schema_name = r.schema_name)
     AND EXISTS (SELECT 1 FROM db_schema n WHERE n.artifact_id = r.artifact_id AND n.db IS r.db
                    AND n.name = r.schema_name)
     AND NOT EXISTS (SELECT 1 FROM db_relation o WHERE o.artifact_id = r.artifact_id
                        AND o.db IS r.db
                        AND (o.schema_name = 'public' OR o.name = 'django_migrations'));

-- Expected tables that the current snapshot does not show, placed by another dump of the
-- same database's other schemas (current_part_table: by_constraint NULL), or by a foreign key
-- of the snapshot: the table itself referenced in a schema it shows nothing of
-- (current_referenced_table), or, in a dump of chosen schemas (current_schemas_chosen),
-- another table its migration creates referenced so: one migration runs with one search_path,
-- so its tables are there, or nowhere. by_table_name: the table found (the table itself, or
-- that other one).
CREATE VIEW expected_unseen_table_source AS
  SELECT o.id AS object_id, min(p.schema_name) AS schema_name, o.table_name AS by_table_name,
         p.artifact_id, p.line, NULL AS by_schema, NULL AS by_table, NULL AS by_constraint
    FROM expected_object o
    JOIN current_part_table p ON p.name = o.table_name AND p.schema_name <> o.schema_name
   WHERE o.kind = 'table'
     AND NOT EXISTS (SELECT 1 FROM current_table t WHERE t.name = o.table_name)
   GROUP BY o.id
  UNION ALL
  SELECT o.id, u.schema_name, u.name, u.artifact_id, u.line,
         u.by_schema, u.by_table, u.by_constraint
    FROM expected_object o
    JOIN current_referenced_table u ON u.name = o.table_name AND u.schema_name <> o.schema_name
   WHERE o.kind = 'table'
     AND NOT EXISTS (SELECT 1 FROM current_table t WHERE t.name = o.table_name)
     AND NOT EXISTS (SELECT 1 FROM current_part_table p WHERE p.name = o.table_name)
  UNION ALL
  SELECT o.id, min(u.schema_name), u.name, u.artifact_id, u.line, u.by_schema, u.by_table,
         u.by_constraint
    FROM expected_object o
    JOIN expected_object p ON p.kind = 'table' AND p.migration = o.migration AND p.id <> o.id
    JOIN current_referenced_table u ON u.name = p.table_name AND u.schema_name <> p.schema_name
   WHERE o.kind = 'table' AND (SELECT yes FROM current_schemas_chosen)
     AND NOT EXISTS (SELECT 1 FROM current_table t WHERE t.name = o.table_name)
     AND NOT EXISTS (SELECT 1 FROM current_referenced_table v WHERE v.name = o.table_name)
     AND NOT EXISTS (SELECT 1 FROM current_part_table v WHERE v.name = o.table_name)
     AND NOT EXISTS (SELECT 1 FROM current_table t WHERE t.name = p.table_name)
   GROUP BY o.id;

-- Where each expected table is in the current snapshot: its intended schema if it is there,
-- else the first other schema that has a table of that name, else the schema another dump
-- or a foreign key of the snapshot places it in (expected_unseen_table); NULL when it is
-- nowhere. When the intended schema's table is a copy of one in another schema that holds the
-- rows (expected_table_copy), the one with the rows. A table whose rename never ran is where its
-- old name is (table_name: the name it has there), so what is on it is found on it.
CREATE VIEW expected_location_source AS
  SELECT x.object_id, coalesce(x.schema_name, r.schema_name) AS schema_name,
         CASE WHEN x.schema_name IS NULL AND r.old_name IS NOT NULL THEN r.old_name
              ELSE x.table_name END AS table_name
    FROM (SELECT o.id AS object_id, o.schema_name AS intended_schema, o.table_name,
                 coalesce((SELECT c.data_schema FROM expected_table_copy c
                           WHERE c.copy_schema = o.schema_name AND c.table_name = o.table_name),
                          (SELECT t.schema_name FROM current_table t
                            WHERE t.name = o.table_name AND t.schema_name = o.schema_name),
                          (SELECT min(t.schema_name) FROM current_table t WHERE t.name = o.table_name),
                          (SELECT min(u.schema_name) FROM expected_unseen_table u
                             JOIN expected_object t ON t.id = u.object_id
                            WHERE t.table_name = o.table_name AND t.schema_name = o.schema_name))
                   AS schema_name
            FROM expected_object o) x
    LEFT JOIN faked_rename r ON x.schema_name IS NULL AND r.kind = 'table'
          AND r.schema_name = x.intended_schema AND r.table_name = x.table_name;

-- Whether each expected object exists in the current snapshot (wherever its table is). An
-- index or constraint under another name but on the same columns (and of the same kind)
-- counts as present: it does the same job. A partial index (WHERE ...) does not do the job of
-- a full one, nor a full one that of a partial one (a conditional unique index refuses fewer
-- rows): under another name, an index counts only when both or neither are partial. Unknown (NULL) when the current snapshot is a
-- data-only dump, for an index or constraint (it shows none), a column of a table whose
-- INSERTs name no column (pg_dump --inserts), and a table that is nowhere in a dump of
-- INSERTs (an empty table has no INSERT; a COPY dump has a COPY block for every table).
CREATE VIEW expected_presence_source AS
  SELECT o.id AS object_id, l.schema_name AS location,
         CASE
           WHEN o.kind = 'extension'
             THEN (SELECT x.present FROM current_extension_presence x WHERE x.object_id = o.id)
           WHEN l.schema_name IS NULL
             THEN CASE WHEN EXISTS (SELECT 1 FROM current_data_only_table WHERE inserts) THEN NULL
                       ELSE 0 END
           -- a table the dump does not show, placed by a foreign key (expected_unseen_table):
           -- there, but what is on it is unknown
           WHEN o.kind <> 'table' AND NOT EXISTS (
             SELECT 1 FROM current_table t WHERE t.schema_name = l.schema_name
                AND t.name = l.table_name)
             THEN NULL
           WHEN o.kind = 'table' THEN l.table_name = o.table_name
           WHEN o.kind IN ('index', 'constraint') AND NOT (SELECT yes FROM current_ddl_known)
             THEN NULL
           WHEN o.kind = 'column' AND EXISTS (
             SELECT 1 FROM current_data_only_table d WHERE d.schema_name = l.schema_name
                AND d.table_name = l.table_name AND d.columns IS NULL)
             THEN NULL
           WHEN o.kind = 'column' THEN EXISTS (
             SELECT 1 FROM current_column c WHERE c.schema_name = l.schema_name
                AND c.table_name = l.table_name AND c.name = o.name)
           -- an index whose rename never ran is there under its old name, not its new one
           WHEN o.kind = 'index' AND EXISTS (SELECT 1 FROM faked_rename r WHERE r.object_id = o.id)
             THEN 0
           WHEN o.kind = 'index' THEN EXISTS (
             SELECT 1 FROM current_index i WHERE i.schema_name = l.schema_name
                AND i.table_name = l.table_name
                AND (i.name = o.name OR (replace(replace(lower(i.columns), '"', ''), ' ', '') =
                                         replace(replace(lower(o.columns), '"', ''), ' ', '')
                                         AND (i.predicate IS NULL) = (o.predicate IS NULL))))
           WHEN o.kind = 'constraint' THEN EXISTS (
             SELECT 1 FROM current_constraint k WHERE k.schema_name = l.schema_name
                AND k.table_name = l.table_name
                AND (k.name = o.name OR (k.kind = o.constraint_kind AND
                     replace(replace(lower(k.columns), '"', ''), ' ', '') =
                     replace(replace(lower(o.columns), '"', ''), ' ', ''))))
           ELSE 1
         END AS present
    FROM expected_object o JOIN expected_location l ON l.object_id = o.id;

-- Whether each removed object still exists in the current snapshot (the removal did not
-- happen), by its exact name in the schema the removal targets. An index or constraint doing
-- the same job under another name, or a table of that name in another schema, is not the
-- removed object. Unknown (NULL) when the current snapshot is a data-only dump and cannot
-- show it (see expected_presence).
CREATE VIEW expected_removal_presence_source AS
  SELECT r.id AS removal_id,
         CASE
           WHEN r.kind IN ('index', 'constraint') AND NOT (SELECT yes FROM current_ddl_known)
             THEN NULL
           WHEN r.kind = 'table' AND EXISTS (SELECT 1 FROM current_data_only_table WHERE inserts)
                AND NOT EXISTS (SELECT 1 FROM current_table t
                                 WHERE t.schema_name = r.schema_name AND t.name = r.name)
             THEN NULL
           WHEN r.kind = 'column' AND EXISTS (
             SELECT 1 FROM current_data_only_table d WHERE d.schema_name = r.schema_name
                AND d.table_name = r.table_name AND d.columns IS NULL)
             THEN NULL
         ELSE CASE r.kind
           WHEN 'table' THEN EXISTS (
             SELECT 1 FROM current_table t WHERE t.schema_name = r.schema_name AND t.name = r.name)
           WHEN 'column' THEN EXISTS (
             SELECT 1 FROM current_column c JOIN current_table t
                ON t.schema_name = c.schema_name AND t.name = c.table_name
              WHERE c.schema_name = r.schema_name AND c.table_name = r.table_name
                AND c.name = r.name)
           WHEN 'index' THEN EXISTS (
             SELECT 1 FROM current_index i WHERE i.schema_name = r.schema_name AND i.name = r.name
                AND (r.table_name IS NULL OR i.table_name = r.table_name))
           WHEN 'constraint' THEN EXISTS (
             SELECT 1 FROM current_constraint k WHERE k.schema_name = r.schema_name
                AND k.table_name = r.table_name AND k.name = r.name)
           ELSE 0
         END END AS present
    FROM expected_removal r;

-- An alteration of a column that a recorded migration makes and that never ran: the column
-- is not as the history leaves it, but exactly as it was before that migration's first
-- alteration of it (type, nullability, default, collation), or before an earlier migration's alteration
-- that never ran either. An alteration by the migration that creates the column is part of
-- its creation (AddField with a default drops the default again), never counted here.
CREATE VIEW unrun_alter_source AS
  SELECT j.object_id, j.migration, min(j.rowid) AS intent_rowid, min(j.artifact_id) AS artifact_id,
         min(j.line) AS line, o.schema_name, o.table_name, o.name, c.type AS actual_type,
         c.not_null AS actual_not_null, c.default_expr AS actual_default
    FROM expected_intent j
    JOIN expected_object o ON o.id = j.object_id AND o.kind = 'column'
    JOIN expected_presence p ON p.object_id = o.id AND p.present
    JOIN current_column c ON c.schema_name = p.location AND c.table_name = o.table_name
         AND c.name = o.name
   WHERE j.action = 'alter' AND c.type IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM expected_intent k WHERE k.object_id = j.object_id
                        AND k.migration = j.migration AND k.action IN ('create', 'ensure'))
     -- not as the history leaves it
     AND ((o.type IS NOT NULL AND o.type <> c.type)
          OR (o.not_null IS NOT NULL AND o.not_null <> c.not_null)
          OR coalesce(replace(lower(o.default_expr), ' ', ''), '') <>
             coalesce(replace(lower(c.default_expr), ' ', ''), '')
          -- the COLLATE clause against the dump's collation, without quotes and pg_catalog
          OR replace(replace(coalesce(substr(o.definition, 9), ''), '"', ''), 'pg_catalog.', '') <>
             replace(coalesce(c.collation, ''), 'pg_catalog.', ''))
     -- as it was before this migration's alteration, or an earlier one's
     AND EXISTS (SELECT 1 FROM expected_intent i
                  WHERE i.object_id = j.object_id AND i.action = 'alter' AND i.rowid <= j.rowid
                    AND NOT EXISTS (SELECT 1 FROM expected_intent k WHERE k.object_id = i.object_id
                                       AND k.migration = i.migration
                                       AND k.action IN ('create', 'ensure'))
                    AND i.rowid = (SELECT min(k.rowid) FROM expected_intent k
                                    WHERE k.object_id = i.object_id AND k.migration = i.migration
                                      AND k.action = 'alter')
                    AND i.before_type IS NOT NULL AND i.before_type = c.type
                    AND (i.before_not_null IS NULL OR i.before_not_null = c.not_null)
                    AND coalesce(replace(lower(i.before_default), ' ', ''), '') =
                        coalesce(replace(lower(c.default_expr), ' ', ''), '')
                    AND replace(replace(coalesce(substr(i.before_collation, 9), ''), '"', ''),
                                'pg_catalog.', '') = replace(coalesce(c.collation, ''), 'pg_catalog.', ''))
   GROUP BY j.object_id, j.migration;

-- Whether each object a recorded migration intends is there as far as that migration is
-- concerned (one row per migration and object; what follows a renamed table is not an effect
-- of its own): an object whose rename never ran is there (under its old name) for every
-- migration but the renaming one; an index or constraint a migration re-creates under a new
-- name that never ran, and an alteration that never ran, are not there for that migration.
-- NULL: unknown (an index or constraint a data-only dump cannot show), and no evidence: what
-- an earlier migration made, or this one dropped, and this one only makes again under the same
-- name (the foreign key RenameModel drops and adds back) is there whether or not this one ran.
CREATE VIEW intent_presence_source AS
  SELECT p.migration, p.object_id,
         CASE WHEN p.present = 1
                   AND NOT EXISTS (SELECT 1 FROM expected_intent e
                                    WHERE e.object_id = p.object_id AND e.migration = p.migration
                                      AND e.action NOT IN ('create', 'ensure'))
                   AND (EXISTS (SELECT 1 FROM expected_intent e
                                 WHERE e.object_id = p.object_id AND e.migration <> p.migration
                                   AND e.action IN ('create', 'ensure')
                                   AND e.rowid < (SELECT min(f.rowid) FROM expected_intent f
                                                   WHERE f.object_id = p.object_id
                                                     AND f.migration = p.migration))
                        OR EXISTS (SELECT 1 FROM expected_object x
                                     JOIN migration_effect d ON d.name = x.name AND d.object = x.kind
                                    WHERE x.id = p.object_id AND d.action = 'drop'
                                      AND d.app = substr(p.migration, 1, instr(p.migration, '.') - 1)
                                      AND d.migration = substr(p.migration, instr(p.migration, '.') + 1)))
              THEN NULL ELSE p.present END AS present
    FROM (SELECT j.migration, j.object_id,
                 CASE WHEN EXISTS (SELECT 1 FROM faked_recreate x
                                    WHERE x.object_id = j.object_id AND x.migration = j.migration) THEN 0
                      WHEN EXISTS (SELECT 1 FROM unrun_alter u
                                    WHERE u.object_id = j.object_id AND u.migration = j.migration) THEN 0
                      WHEN EXISTS (SELECT 1 FROM faked_rename fr
                                    WHERE fr.object_id = j.object_id AND fr.migration <> j.migration) THEN 1
                      ELSE q.present END AS present
            FROM (SELECT DISTINCT migration, object_id FROM expected_intent WHERE action <> 'follow') j
            JOIN expected_presence q ON q.object_id = j.object_id) p;

-- The views above, kept in tables that derive fills, in this order, once it has written the
-- expected objects: rules and the views after them look rows up in them per expected object
-- and per intent, and through the views each look-up computed the whole view again (1,260
-- more migrations beside django_drift's: migration.partially-applied 83 s, migration.faked
-- 63 s).
CREATE TABLE faked_rename AS SELECT * FROM faked_rename_source WHERE 0;
CREATE INDEX faked_rename_object ON faked_rename(object_id);
CREATE TABLE faked_recreate AS SELECT * FROM faked_recreate_source WHERE 0;
CREATE INDEX faked_recreate_object ON faked_recreate(object_id, migration);
CREATE TABLE expected_table_copy AS SELECT * FROM expected_table_copy_source WHERE 0;
CREATE INDEX expected_table_copy_table ON expected_table_copy(copy_schema, table_name);
CREATE TABLE expected_unseen_table AS SELECT * FROM expected_unseen_table_source WHERE 0;
CREATE INDEX expected_unseen_table_object ON expected_unseen_table(object_id);
CREATE TABLE expected_location AS SELECT * FROM expected_location_source WHERE 0;
CREATE INDEX expected_location_object ON expected_location(object_id);
CREATE TABLE expected_presence AS SELECT * FROM expected_presence_source WHERE 0;
CREATE INDEX expected_presence_object ON expected_presence(object_id);
CREATE TABLE expected_removal_presence AS SELECT * FROM expected_removal_presence_source WHERE 0;
CREATE INDEX expected_removal_presence_removal ON expected_removal_presence(removal_id);
CREATE TABLE unrun_alter AS SELECT * FROM unrun_alter_source WHERE 0;
CREATE INDEX unrun_alter_object ON unrun_alter(object_id, migration);
CREATE TABLE intent_presence AS SELECT * FROM intent_presence_source WHERE 0;
CREATE INDEX intent_presence_object ON intent_presence(object_id, migration);
CREATE INDEX intent_presence_migration ON intent_presence(migration);

-- A removal by a recorded migration of an object that another recorded migration created, on
-- a table that is there (or of a table), where the object is gone but its creating migration
-- shows no sign of having run: nothing it made that the history keeps is there (it was faked
-- too, or everything it made a later migration removes). The object may never have existed:
-- its absence tells nothing of the removal, and the schema cannot tell whether the creating
-- migration ran.
CREATE VIEW undecided_removal AS
  SELECT r.id AS removal_id, r.kind, r.schema_name, r.table_name, r.name, r.created_by,
         r.migration
    FROM expected_removal r
    JOIN expected_removal_presence p ON p.removal_id = r.id
   WHERE r.created_by IS NOT NULL AND r.created_by <> r.migration AND p.present = 0
     AND (r.kind = 'table' OR EXISTS (SELECT 1 FROM current_table t
                                       WHERE t.schema_name = r.schema_name AND t.name = r.table_name))
     AND NOT EXISTS (SELECT 1 FROM intent_presence cp
                      WHERE cp.migration = r.created_by AND cp.present = 1);

-- A migration file that is not recorded as applied (nor replaced by a recorded squash), whose
-- effects are all in the current schema: what it removes is gone, what it creates or renames
-- to is there, and it removes at least one object the recorded history expects; and the
-- migrations it follows are recorded. It may well have run, its django_migrations row deleted
-- by hand since. Judged by the effects of its
-- sqlmigrate output when there is one (as the replay takes them), else of its .py file; an
-- alteration, or an index or constraint of a dump that shows none, decides nothing.
CREATE VIEW unrecorded_applied AS
  WITH u AS (
    SELECT e.app, e.migration, e.action, e.object, e.table_name, e.name, e.new_name
      FROM migration_effect e
     WHERE e.source = (SELECT min(x.source) FROM migration_effect x
                        WHERE x.app = e.app AND x.migration = e.migration)
       AND NOT EXISTS (SELECT 1 FROM recorded_migration r
                        WHERE r.app = e.app AND r.name = e.migration)
       AND instr(e.migration, '_squashed_') = 0
       AND NOT EXISTS (SELECT 1 FROM migration s JOIN recorded_migration r
                               ON r.app = s.app AND r.name = s.name
                        WHERE s.replaces IS NOT NULL
                          AND (', ' || s.replaces || ', ') LIKE '%, ' || e.app || '.' || e.migration || ', %')),
  judged AS (
    SELECT u.app, u.migration, u.action,
           CASE
             WHEN u.object IN ('index', 'constraint') AND NOT (SELECT yes FROM current_ddl_known)
               THEN NULL
             WHEN u.action IN ('create', 'drop') THEN
               (u.action = 'create') = CASE u.object
                 WHEN 'table' THEN EXISTS (SELECT 1 FROM current_table t WHERE t.name = u.name)
                 WHEN 'column' THEN EXISTS (SELECT 1 FROM current_column c
                                             WHERE c.table_name = u.table_name AND c.name = u.name)
                 WHEN 'index' THEN EXISTS (SELECT 1 FROM current_index i WHERE i.name = u.name)
                 WHEN 'constraint' THEN EXISTS (SELECT 1 FROM current_constraint k
                                                 WHERE k.name = u.name
                                                   AND (u.table_name IS NULL OR k.table_name = u.table_name))
                 END
             WHEN u.action = 'rename' AND u.new_name IS NOT NULL THEN CASE u.object
                 WHEN 'table' THEN EXISTS (SELECT 1 FROM current_table t WHERE t.name = u.new_name)
                      AND NOT EXISTS (SELECT 1 FROM current_table t WHERE t.name = u.name)
                 WHEN 'column' THEN EXISTS (SELECT 1 FROM current_column c
                                             WHERE c.table_name = u.table_name AND c.name = u.new_name)
                      AND NOT EXISTS (SELECT 1 FROM current_column c
                                       WHERE c.table_name = u.table_name AND c.name = u.name)
                 WHEN 'index' THEN EXISTS (SELECT 1 FROM current_index i WHERE i.name = u.new_name)
                      AND NOT EXISTS (SELECT 1 FROM current_index i WHERE i.name = u.name)
                 END
           END AS done,
           u.action = 'drop' AND EXISTS (
             SELECT 1 FROM expected_object o
              WHERE (o.kind = u.object AND o.name = u.name
                     AND (o.kind = 'index' OR u.table_name IS NULL OR o.table_name = u.table_name))
                 OR (u.object = 'table' AND o.table_name = u.name)) AS undoes
      FROM u)
  SELECT j.app, j.migration FROM judged j
   -- it could have run: the migrations before it in its app, and those it depends on, are
   -- recorded (a migration later than one never deployed did not run either; what it removes
   -- is then absent because it was never made). And it is the last of its app (the row people
   -- delete to run a migration again): a removal followed by further migrations that never
   -- ran is as likely a deploy that had not reached it yet, after a faked creation -- the
   -- schema looks the same either way, and the creation keeps its verdict.
   WHERE NOT EXISTS (SELECT 1 FROM migration m
                      WHERE m.app = j.app AND m.name GLOB '[0-9][0-9][0-9][0-9]*'
                        AND substr(m.name, 1, 4) <> substr(j.migration, 1, 4)
                        AND instr(m.name, '_squashed_') = 0
                        AND (substr(m.name, 1, 4) > substr(j.migration, 1, 4)
                             OR NOT EXISTS (SELECT 1 FROM recorded_migration r
                                             WHERE r.app = m.app AND r.name = m.name)))
     AND NOT EXISTS (SELECT 1 FROM migration_dependency d
                      WHERE d.app = j.app AND d.name = j.migration
                        AND d.dep_name NOT IN ('__first__', '__latest__') AND d.swappable IS NULL
                        AND NOT EXISTS (SELECT 1 FROM recorded_migration r
                                         WHERE r.app = d.dep_app
                                           AND (r.name = d.dep_name
                                                OR instr(d.dep_name, '_squashed_') > 0)))
   GROUP BY j.app, j.migration
  HAVING sum(j.done = 0) = 0 AND sum(j.undoes AND j.done) > 0;

-- The expected objects such a migration (unrecorded_applied) removes: the object itself, what
-- is on a table it drops, and an index or constraint on a column it drops. They are absent
-- because it ran, which says nothing of the recorded migration that made them.
CREATE VIEW unrecorded_undone AS
  SELECT DISTINCT o.id AS object_id, a.app || '.' || a.migration AS migration
    FROM unrecorded_applied a
    JOIN migration_effect e ON e.app = a.app AND e.migration = a.migration AND e.action = 'drop'
         AND e.source = (SELECT min(x.source) FROM migration_effect x
                          WHERE x.app = e.app AND x.migration = e.migration)
    JOIN expected_object o
         ON (o.kind = e.object AND o.name = e.name
             AND (o.kind = 'index' OR e.table_name IS NULL OR o.table_name = e.table_name))
         OR (e.object = 'table' AND o.table_name = e.name)
         OR (e.object = 'column' AND o.kind IN ('index', 'constraint') AND o.table_name = e.table_name
             AND (' ' || replace(replace(replace(replace(o.columns, ',', ' '), '"', ''), '(', ' '),
                                 ')', ' ') || ' ') LIKE '% ' || e.name || ' %');

-- The DDL that creates each expected column, index and constraint where its table is (or,
-- for a table that is nowhere, where its migration puts it), guarded so that running it
-- twice changes nothing. Rules build repairs from it; it calls the SQL functions pg_ident,
-- pg_name and pg_literal, which the rule engine and `dbautopsy query` register.
CREATE VIEW expected_ddl AS
  SELECT o.id AS object_id,
         CASE o.kind
           WHEN 'column' THEN printf('%s %s%s%s', pg_ident(o.name),
             CASE WHEN o.default_expr LIKE 'nextval(%' AND o.type IN ('integer', 'bigint', 'smallint')
                  THEN CASE o.type WHEN 'integer' THEN 'serial' WHEN 'bigint' THEN 'bigserial'
                                   ELSE 'smallserial' END
                  ELSE coalesce(o.type, 'text') END || coalesce(' ' || nullif(o.definition, ''), ''),
             CASE WHEN o.default_expr IS NOT NULL AND o.default_expr NOT LIKE 'nextval(%'
                  THEN ' DEFAULT ' || o.default_expr ELSE '' END,
             CASE WHEN o.not_null THEN ' NOT NULL' ELSE '' END)
           WHEN 'index' THEN printf('CREATE %sINDEX IF NOT EXISTS %s ON %s%s (%s)%s%s;',
             CASE WHEN o.constraint_kind = 'unique index' THEN 'UNIQUE ' ELSE '' END,
             pg_ident(o.name), pg_name(coalesce(l.schema_name, o.schema_name), o.table_name),
             CASE WHEN instr(upper(o.definition), ' USING ') > 0
                  THEN ' USING ' || substr(o.definition, instr(upper(o.definition), ' USING ') + 7,
                       instr(substr(o.definition, instr(upper(o.definition), ' USING ') + 7), ' ') - 1)
                  ELSE '' END,
             o.columns, coalesce(' ' || nullif(o.options, ''), ''), coalesce(' WHERE ' || o.predicate, ''))
           WHEN 'constraint' THEN printf('DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = to_regclass(%s)) THEN ALTER TABLE %s ADD CONSTRAINT %s %s; END IF; END $$;',
             pg_literal(o.name), pg_name_literal(coalesce(l.schema_name, o.schema_name), o.table_name),
             pg_name(coalesce(l.schema_name, o.schema_name), o.table_name), pg_ident(o.name),
             CASE o.constraint_kind
               WHEN 'p' THEN 'PRIMARY KEY (' || o.columns || ')' || coalesce(' ' || nullif(o.options, ''), '')
               WHEN 'u' THEN 'UNIQUE (' || o.columns || ')' || coalesce(' ' || nullif(o.options, ''), '')
               WHEN 'f' THEN CASE WHEN upper(o.definition) LIKE 'FOREIGN KEY%' THEN o.definition
                                  ELSE 'FOREIGN KEY (' || o.columns || ') ' || o.definition END
               ELSE o.definition END)
         END AS ddl
    FROM (SELECT x.*,
                 -- what the definition says after the key's columns, but a partial index's
                 -- WHERE (o.predicate): an index's INCLUDE, WITH (storage parameters) and
                 -- TABLESPACE, a key's INCLUDE, DEFERRABLE / INITIALLY
                 CASE WHEN upper(t.rest) LIKE 'WHERE %' THEN ''
                      WHEN instr(upper(t.rest), ' WHERE ') > 0
                      THEN trim(substr(t.rest, 1, instr(upper(t.rest), ' WHERE ') - 1))
                      ELSE t.rest END AS options
            FROM expected_object x
            JOIN (SELECT y.id,
                         CASE WHEN y.columns IS NOT NULL AND instr(y.definition, '(' || y.columns || ')') > 0
                              THEN trim(rtrim(trim(substr(y.definition, instr(y.definition, '(' || y.columns || ')')
                                                          + length(y.columns) + 2)), ';'))
                              ELSE '' END AS rest
                    FROM expected_object y) t ON t.id = x.id) o
    JOIN expected_location l ON l.object_id = o.id
   WHERE o.kind IN ('column', 'index', 'constraint');

-- What the rows of the current dump say of a constraint that a repair would add
-- (expected_data_check), per expected object whose repair adds one: a UNIQUE or PRIMARY KEY
-- constraint, a unique index, a NOT NULL. `breaks`: the rows break it (adding it fails, and the
-- repair script's transaction with it); `clean`: every row was read and none does; neither:
-- not known (no data, rows not all read). `said` says what the rows show, for the message;
-- `listing` is a query that lists the rows at fault, and `conflict` a condition that holds
-- while there are any (NULL when the key is not plain columns), for the repair.
CREATE VIEW expected_data_verdict AS
  SELECT o.id AS object_id,
         coalesce((SELECT max(c.violations > 0) FROM expected_data_check c
                    WHERE c.object_id = o.id), 0) AS breaks,
         coalesce((SELECT min(c.complete AND c.violations = 0) FROM expected_data_check c
                    WHERE c.object_id = o.id), 0) AS clean,
         (SELECT group_concat(
                   CASE WHEN c.check_kind = 'unique'
                        THEN printf('the dump''s rows repeat %d value%s of (%s), in %d rows: (%s) = %s %d times',
                                    c.violations, CASE WHEN c.violations > 1 THEN 's' ELSE '' END,
                                    c.columns, c.violating_rows, c.columns, c.example, c.example_rows)
                        ELSE printf('the dump has %d row%s with %s', c.violations,
                                    CASE WHEN c.violations > 1 THEN 's' ELSE '' END,
                                    CASE WHEN instr(c.columns, ',') > 0 THEN 'a NULL in (' || c.columns || ')'
                                         ELSE c.columns || ' NULL' END) END
                   || printf(' (the first at %s:%d)', a.path, c.line), '; ')
            FROM expected_data_check c JOIN artifact a ON a.id = c.artifact_id
           WHERE c.object_id = o.id AND c.violations > 0) AS said,
         (SELECT printf('only the first %d of the dump''s %d rows were read', c.rows_read, c.rows)
            FROM expected_data_check c WHERE c.object_id = o.id AND c.rows_read < c.rows
           LIMIT 1) AS unread,
         (SELECT a.path FROM expected_data_check c JOIN artifact a ON a.id = c.artifact_id
           WHERE c.object_id = o.id AND c.violations > 0 ORDER BY c.check_kind DESC LIMIT 1) AS ev_artifact,
         (SELECT c.line FROM expected_data_check c
           WHERE c.object_id = o.id AND c.violations > 0 ORDER BY c.check_kind DESC LIMIT 1) AS ev_line,
         (SELECT CASE WHEN c.check_kind = 'unique'
                      THEN printf('(%s) = %s: %d rows', c.columns, c.example, c.example_rows)
                      ELSE printf('%s NULL', c.columns) END
            FROM expected_data_check c
           WHERE c.object_id = o.id AND c.violations > 0 ORDER BY c.check_kind DESC LIMIT 1) AS ev_text,
         CASE WHEN o.kind = 'column'
              THEN printf('SELECT * FROM %s WHERE %s IS NULL LIMIT 100;',
                          pg_name(p.location, o.table_name), pg_ident(o.name))
              WHEN replace(o.columns, ', ', ',') GLOB '*[ ()"]*' THEN NULL
              ELSE printf('SELECT %s, count(*) FROM %s WHERE (%s) IS NOT NULL%s GROUP BY %s HAVING count(*) > 1 ORDER BY count(*) DESC LIMIT 100;',
                          o.columns, pg_name(p.location, o.table_name), o.columns,
                          coalesce(' AND (' || o.predicate || ')', ''), o.columns)
                   || CASE WHEN o.constraint_kind = 'p'
                           THEN printf(' SELECT * FROM %s WHERE NOT ((%s) IS NOT NULL) LIMIT 100;',
                                       pg_name(p.location, o.table_name), o.columns)
                           ELSE '' END END AS listing,
         CASE WHEN o.kind = 'column'
              THEN printf('EXISTS (SELECT 1 FROM %s WHERE %s IS NULL)',
                          pg_name(p.location, o.table_name), pg_ident(o.name))
              WHEN replace(o.columns, ', ', ',') GLOB '*[ ()"]*' THEN NULL
              ELSE printf('EXISTS (SELECT 1 FROM %s WHERE (%s) IS NOT NULL%s GROUP BY %s HAVING count(*) > 1)',
                          pg_name(p.location, o.table_name), o.columns,
                          coalesce(' AND (' || o.predicate || ')', ''), o.columns)
                   || CASE WHEN o.constraint_kind = 'p'
                           THEN printf(' OR EXISTS (SELECT 1 FROM %s WHERE NOT ((%s) IS NOT NULL))',
                                       pg_name(p.location, o.table_name), o.columns)
                           ELSE '' END END AS conflict
    FROM expected_object o JOIN expected_presence p ON p.object_id = o.id
   WHERE p.location IS NOT NULL
     AND (o.kind = 'column' OR o.constraint_kind IN ('p', 'u', 'unique index'));


-- What happened when, from every input: migrations recorded (from the analysis, once each),
-- log entries (one row per message template per hour and log: the first entry's time, how
-- many), and dumps taken (their header's "Started on"; a dump without one is not on it).
-- ts is UTC ISO 8601. Reads utc_time(), which dbautopsy registers (`dbautopsy timeline`,
-- `dbautopsy query`); the sqlite3 shell does not know it.
CREATE VIEW timeline AS
SELECT utc_time(r.applied_at) AS ts, 'migration' AS kind, r.app || '.' || r.name AS what,
       1 AS count, NULL AS last_ts, a.path AS artifact, r.line AS line
  FROM recorded_migration r JOIN artifact a ON a.id = r.artifact_id
 WHERE r.applied_at IS NOT NULL
UNION ALL
SELECT g.first_ts, 'log', coalesce(g.severity || ': ', '') || t.template, g.entries, g.last_ts,
       a.path, g.first_line
  -- counted as the entries were stored (log_hour), not grouped here
  FROM log_hour g
       JOIN artifact a ON a.id = g.artifact_id
       LEFT JOIN log_template t ON t.hash = g.template_hash
UNION ALL
SELECT utc_time(a.started_on), 'dump', 'dump taken: ' || a.path, 1, utc_time(a.completed_on),
       a.path, NULL
  FROM artifact a
 WHERE a.started_on IS NOT NULL;
