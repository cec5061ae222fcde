#!/usr/bin/python3
"""Differential test: what `dbautopsy ingest` records against what PostgreSQL 15 builds.

For every dump (the fixtures in fixtures/pgdump, the kitchen-sink source script, and the
plain-SQL files of the shared corpus) the test restores the dump with psql into a
throwaway PostgreSQL 15 cluster, reads the server's catalog back (catalog.sql, next to this
file), ingests the same file with dbautopsy and compares, per database and schema, the
exact sets of schemas, tables, foreign tables, views, materialized views, sequences
(db_relation and db_sequence), columns, indexes and constraints (by kind), the row count
of every table, and, as a separate check, each column's type and nullability. For
fixtures/pgdump/X.full.sql it also checks that X.catalog.json is still what the server
builds from that dump (a stale fixture fails).

The server is the oracle, but only for what it accepted. psql runs with ON_ERROR_STOP=0
and reports every rejected statement as `psql:FILE:LINE: ERROR: ...`; each such line is
mapped to the statement dbautopsy recorded for that line range (sql_statement), and the
facts that statement produced (facts carry the first line of their statement) are left
out of the comparison, each exclusion printed with the server's reason. A dump that needs
an extension this machine lacks (postgis, timescaledb, ...) is therefore still compared on
everything else, and the missing extensions are listed.

Roles a dump names (OWNER TO, GRANT ... TO) are created before its restore, so that
the comparison is about the dump's structure and not about this machine's roles.

Cases:
  * a pg_dump archive (custom, tar or directory: the fixtures', and the corpus's custom
    archives) that PostgreSQL 15's pg_restore reads (archive version 1.14 or older) is
    turned into SQL by that pg_restore, which psql restores; dbautopsy ingests the archive
    itself;
  * a plain or compressed file is restored alone into a fresh database of one shared
    cluster (databases are dropped between cases);
  * a file that switches databases (`\\connect`: pg_dumpall, pg_dump -C) is restored into
    a cluster of its own, so that its CREATE DATABASE / CREATE ROLE / \\connect work as
    they do for a user, and every database of that cluster is compared (the databases
    are created beforehand with the C locale: a dump's LOCALE may not exist here);
  * a data-only dump (no CREATE TABLE, but COPY or INSERT) is restored on top of the
    schema dump of the same directory, and only row counts are compared (the schema
    dump's own case compares the catalog).

Exit status: 0 all cases agree, 1 some case differs (or a tool failed), 77 no PostgreSQL
server binaries here and $CI is not "true" (CTest reports a skip), 2 usage error.

Standard library only; run it with /usr/bin/python3.
"""

import argparse
import bz2
import fnmatch
import gzip
import json
import lzma
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from pgcluster import Cluster, find_bindir  # noqa: E402
from locate import find_corpus, required  # noqa: E402

SKIP = 77
WORK_DB = "differential"
SHARED_PORT = 55412
OWN_CLUSTER_PORT = 55413

# Where the extensions that corpus dumps ask for come from, for the summary (Debian 12,
# PostgreSQL 15).
EXTENSION_PACKAGES = {
    "postgis": "Debian package postgresql-15-postgis-3",
    "postgis_topology": "Debian package postgresql-15-postgis-3",
    "postgis_raster": "Debian package postgresql-15-postgis-3",
    "postgis_tiger_geocoder": "Debian package postgresql-15-postgis-3",
    "address_standardizer": "Debian package postgresql-15-postgis-3",
    "vector": "not in Debian 12 (postgresql-15-pgvector is in the PGDG apt repository)",
    "timescaledb": "not in Debian (Timescale's own apt repository)",
    "pgsodium": "not packaged (Supabase builds it)",
    "pg_graphql": "not packaged (Supabase builds it)",
    "pgjwt": "not packaged (Supabase builds it)",
    "supabase_vault": "not packaged (Supabase builds it)",
}


# --------------------------------------------------------------------------------------
# Small helpers


def log(*parts):
    print(*parts, flush=True)


def decompress(src: Path, dest_dir: Path) -> Path:
    """A plain copy of a possibly compressed dump, for psql (which reads plain SQL only).

    The copy keeps the dump's name without the compression suffix, so that psql's error
    lines still say which dump they come from."""
    suffix = src.suffix
    openers = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
    if suffix not in openers and suffix != ".zst":
        return src
    dest = dest_dir / src.name[: -len(suffix)]
    if suffix == ".zst":
        # No zstd in the Python 3.11 standard library: the zstd tool does it.
        if shutil.which("zstd") is None:
            raise RuntimeError(f"{src.name}: the zstd tool is missing (apt-get install zstd)")
        with open(dest, "wb") as out:
            subprocess.run(["zstd", "-d", "-q", "-c", str(src)], stdout=out, check=True)
    else:
        with openers[suffix](src, "rb") as inp, open(dest, "wb") as out:
            shutil.copyfileobj(inp, out, 1 << 20)
    return dest


# pg_dump archives (custom, tar, directory): PostgreSQL 15's pg_restore reads archive
# versions up to 1.14 (pg_dump 9.0 to 15); newer ones are tested without a server (unit
# tests, corpus test).
PG15_NEWEST_ARCHIVE = (1, 14)


def archive_version(path: Path):
    """(major, minor) of a pg_dump archive (custom file, tar file or directory), else None."""
    try:
        if path.is_dir():
            toc = path / "toc.dat"
            head = toc.read_bytes()[:8] if toc.exists() else b""
        else:
            with open(path, "rb") as f:
                head = f.read(520)
            if head[:5] != b"PGDMP" and len(head) >= 520 and head[:7] == b"toc.dat":
                head = head[512:520]
    except OSError:
        return None
    if head[:5] != b"PGDMP" or len(head) < 7:
        return None
    return (head[5], head[6])


def restore_script(archive: Path, dest_dir: Path, bindir: Path) -> Path:
    """The plain SQL that PostgreSQL 15's pg_restore makes of an archive, for psql.

    Named after the archive, so that psql's error lines say which dump they come from."""
    dest = dest_dir / (archive.name + ".sql")
    r = subprocess.run([str(bindir / "pg_restore"), "-f", str(dest), str(archive)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"pg_restore {archive.name}: {r.stderr.strip()}")
    return dest


def read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------
# PostgreSQL clusters


@dataclass
class ServerError:
    file: str      # the dump as given to the test (not its decompressed copy)
    line: int
    level: str     # ERROR (server) or error (psql itself, e.g. "invalid command")
    message: str


# psql:FILE:LINE: ERROR:  message   (the file name may hold anything but ":<digits>: ")
ERROR_LINE = re.compile(r"^psql:(?P<file>.*?):(?P<line>\d+): (?P<level>ERROR|FATAL|error):\s+"
                        r"(?P<message>.*)$")


def restore(cluster: Cluster, db: str, files: list, display: dict, timeout: int) -> list:
    """Feeds each file to psql as a user would (`psql -f FILE`, errors do not stop it) and
    returns the errors it printed, attributed to the original dump."""
    errors = []
    for path in files:
        cmd = cluster.psql_args(db) + ["-q", "-v", "ON_ERROR_STOP=0", "-f", str(path)]
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=timeout)
        for raw in r.stderr.decode("utf-8", errors="replace").splitlines():
            m = ERROR_LINE.match(raw)
            if m:
                errors.append(ServerError(display.get(m["file"], m["file"]), int(m["line"]),
                                          m["level"], m["message"].strip()))
        if r.returncode not in (0, 3):
            # 1: psql could not go on (a failed \connect ends a script); 2: lost connection.
            errors.append(ServerError(display.get(str(path), str(path)), 0, "FATAL",
                                      f"psql exited with status {r.returncode}"))
    return errors


# Roles a dump names but does not create (OWNER TO, GRANT ... TO, ...). They are created
# before the restore so that the statements naming them succeed: a missing owner would
# otherwise make CREATE SCHEMA ... AUTHORIZATION fail and take every object of that schema
# with it, and the comparison would be about roles, not about the dump's structure.
ROLE = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
ROLE_LIST = rf"{ROLE}(?:\s*,\s*{ROLE})*"
ROLE_PATTERNS = [
    re.compile(rf"\bOWNER TO ({ROLE})"),
    re.compile(rf"\bAUTHORIZATION ({ROLE})"),
    re.compile(rf"\bFOR ROLE ({ROLE_LIST})"),
    re.compile(rf"^GRANT\b[^;]*?\bTO ({ROLE_LIST})", re.M),
    re.compile(rf"^REVOKE\b[^;]*?\bFROM ({ROLE_LIST})", re.M),
    re.compile(rf"^CREATE POLICY\b[^;]*?\bTO ({ROLE_LIST})", re.M),
]
NOT_ROLES = {"public", "current_user", "session_user", "current_role", "postgres"}


def roles_named(text: str) -> set:
    roles = set()
    for pattern in ROLE_PATTERNS:
        for m in pattern.finditer(text):
            for token in re.findall(ROLE, m.group(1)):
                name = token[1:-1].replace('""', '"') if token.startswith('"') else token.lower()
                if name.lower() not in NOT_ROLES and not name.startswith("pg_"):
                    roles.add(name)
    return roles


def create_roles(cluster: Cluster, roles: set):
    if not roles:
        return
    body = " ".join(
        f"BEGIN CREATE ROLE {quote_ident(r)}; EXCEPTION WHEN duplicate_object THEN NULL; END;"
        for r in sorted(roles))
    cluster.sql("postgres", f"DO $$BEGIN {body} END$$")


CREATE_DATABASE = re.compile(r'^CREATE DATABASE\s+("(?:[^"]|"")+"|\w+)([^;]*);', re.M | re.I)


def precreate_databases(cluster: Cluster, text: str) -> list:
    """Creates, ahead of the restore, the databases a script will CREATE and \\connect to.

    A pg_dumpall or pg_dump -C script creates each database with the locale of the
    machine it was dumped on (LOCALE = 'en_US.utf8'); where this machine lacks that
    locale the CREATE DATABASE fails, the \\connect after it ends psql, and nothing of
    that database could be compared. Database properties are no part of the comparison,
    so each database is made beforehand with the dump's encoding and the C locale (valid
    with any encoding); the script's own CREATE DATABASE then fails with "already
    exists", which carries no fact."""
    made = []
    for m in CREATE_DATABASE.finditer(text):
        token = m.group(1)
        name = token[1:-1].replace('""', '"') if token.startswith('"') else token.lower()
        enc = re.search(r"ENCODING\s*=?\s*'([^']+)'", m.group(2), re.I)
        options = f"TEMPLATE template0 ENCODING '{enc.group(1) if enc else 'UTF8'}' LOCALE 'C'"
        if name in ("postgres", "template1") or name in made:
            continue
        try:
            cluster.sql("postgres", f"CREATE DATABASE {quote_ident(name)} {options}")
            made.append(name)
        except RuntimeError:
            pass
    return made


def server_catalog(cluster: Cluster, db: str, catalog_sql: Path) -> dict:
    r = subprocess.run(cluster.psql_args(db) + ["-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                                                "-f", str(catalog_sql)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"catalog query failed on {db}:\n{r.stderr}")
    return json.loads(r.stdout)


# --------------------------------------------------------------------------------------
# dbautopsy's side


@dataclass
class Facts:
    """Every fact of one store that the comparison reads, as plain rows (dicts)."""
    artifacts: dict                                      # path -> artifact id
    statuses: dict                                       # path -> (status, detail)
    relations: list = field(default_factory=list)
    columns: list = field(default_factory=list)
    indexes: list = field(default_factory=list)
    constraints: list = field(default_factory=list)
    sequences: list = field(default_factory=list)
    extensions: list = field(default_factory=list)
    schemas: list = field(default_factory=list)
    stats: list = field(default_factory=list)
    statements: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def load_facts(store: Path) -> Facts:
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row

    def rows(sql):
        return [dict(r) for r in con.execute(sql)]

    arts = rows("SELECT id, path, status, status_detail FROM artifact")
    facts = Facts({a["path"]: a["id"] for a in arts},
                  {a["path"]: (a["status"], a["status_detail"]) for a in arts})
    facts.relations = rows("SELECT artifact_id, line, db, schema_name, name, kind FROM db_relation")
    facts.columns = rows("SELECT artifact_id, line, db, schema_name, table_name, name, type, "
                         "not_null FROM db_column")
    facts.indexes = rows("SELECT artifact_id, line, db, schema_name, table_name, name "
                         "FROM db_index")
    facts.constraints = rows("SELECT artifact_id, line, db, schema_name, table_name, name, kind "
                             "FROM db_constraint")
    facts.sequences = rows("SELECT artifact_id, line, db, schema_name, name FROM db_sequence")
    facts.extensions = rows("SELECT artifact_id, line, db, name FROM db_extension")
    facts.schemas = rows("SELECT artifact_id, line, db, name FROM db_schema")
    facts.stats = rows("SELECT artifact_id, line, end_line, db, schema_name, table_name, source, "
                       "rows FROM table_stats")
    facts.statements = rows("SELECT artifact_id, line, end_line, db, type FROM sql_statement")
    facts.problems = rows("SELECT artifact_id, line, severity, code, message FROM problem")
    con.close()
    return facts


# --------------------------------------------------------------------------------------
# From server errors to excluded facts


@dataclass
class Located:
    """Where a server error falls in dbautopsy's reading of the file."""
    kind: str            # statement, copy, insert, none
    artifact_id: int = 0
    line: int = 0        # first line of the statement / data section
    end_line: int = 0
    type: str = ""       # statement type, or the data section's table
    table: tuple = ()    # (db, schema, table) of a data section


def locate(facts: Facts, artifact_id: int, line: int) -> Located:
    """Maps an error line to the statement or data section that contains it.

    psql reports a statement's error at its last line and a COPY's data error at its "\\."
    line, so containment in [line, end_line] is the test. INSERTs are not in sql_statement;
    an INSERT run (table_stats, source 'insert') ends at the first line of its last INSERT,
    so an error on a later line of that INSERT belongs to the run when no other statement
    starts in between."""
    for s in facts.statements:
        if s["artifact_id"] == artifact_id and s["line"] <= line <= s["end_line"]:
            return Located("statement", artifact_id, s["line"], s["end_line"], s["type"])
    best = None
    for t in facts.stats:
        if t["artifact_id"] != artifact_id:
            continue
        table = (t["db"], t["schema_name"], t["table_name"])
        if t["line"] <= line <= (t["end_line"] or t["line"]):
            return Located(t["source"], artifact_id, t["line"], t["end_line"], t["table_name"],
                           table)
        if t["source"] == "insert" and t["line"] <= line and (best is None or
                                                              t["line"] > best["line"]):
            best = t
    if best is not None:
        later = [s for s in facts.statements if s["artifact_id"] == artifact_id
                 and best["end_line"] < s["line"] <= line]
        if not later:
            return Located("insert", artifact_id, best["line"], best["end_line"],
                           best["table_name"], (best["db"], best["schema_name"],
                                                best["table_name"]))
    return Located("none", artifact_id)


# --------------------------------------------------------------------------------------
# Comparison


RELATION_CATEGORIES = {
    "table": "tables", "partitioned_table": "tables", "foreign_table": "foreign_tables",
    "view": "views", "materialized_view": "materialized_views", "sequence": "sequences",
}
TABLE_KINDS = {"table", "partitioned_table", "foreign_table"}
CONSTRAINT_KINDS = {"p": "primary_keys", "u": "unique_constraints", "f": "foreign_keys",
                    "c": "check_constraints", "x": "exclusion_constraints"}
NAME_CATEGORIES = ["schemas", "tables", "foreign_tables", "views", "materialized_views", "sequences",
                   "sequence_facts", "columns", "indexes", "primary_keys",
                   "unique_constraints", "foreign_keys", "check_constraints",
                   "exclusion_constraints"]


def rel_item(name, kind):
    # A kind mismatch (table vs partitioned table) shows as one item on each side.
    return f"{name} [partitioned]" if kind == "partitioned_table" else name


def server_sets(cat: dict) -> dict:
    """(schema, category) -> set of items, from one database's catalog document."""
    out = defaultdict(set)
    # Every database has public before a dump is restored; whether a dump recreates it is
    # no difference worth a failure.
    for name in cat["schemas"]:
        if name != "public":
            out[(name, "schemas")].add(name)
    kinds = {}
    for r in cat["relations"]:
        kinds[(r["schema"], r["name"])] = r["kind"]
        out[(r["schema"], RELATION_CATEGORIES[r["kind"]])].add(rel_item(r["name"], r["kind"]))
        if r["kind"] == "sequence":
            out[(r["schema"], "sequence_facts")].add(r["name"])
    for c in cat["columns"]:
        if kinds.get((c["schema"], c["table"])) in TABLE_KINDS:
            out[(c["schema"], "columns")].add(f'{c["table"]}.{c["name"]}')
    for i in cat["indexes"]:
        out[(i["schema"], "indexes")].add(f'{i["table"]}.{i["name"]}')
    for c in cat["constraints"]:
        out[(c["schema"], CONSTRAINT_KINDS[c["kind"]])].add(f'{c["table"]}.{c["name"]}')
    return out


def server_columns(cat: dict) -> dict:
    kinds = {(r["schema"], r["name"]): r["kind"] for r in cat["relations"]}
    return {(c["schema"], c["table"], c["name"]): (c["type"], bool(c["not_null"]))
            for c in cat["columns"] if kinds.get((c["schema"], c["table"])) in TABLE_KINDS}


@dataclass
class Difference:
    db: str
    schema: str
    category: str
    only_server: list
    only_dbautopsy: list
    note: str = ""


def compare_sets(db, server: dict, mine: dict, categories: list) -> list:
    diffs = []
    schemas = sorted({s for s, _ in server} | {s for s, _ in mine})
    for schema in schemas:
        for cat in categories:
            a, b = server.get((schema, cat), set()), mine.get((schema, cat), set())
            if a != b:
                diffs.append(Difference(db, schema, cat, sorted(a - b), sorted(b - a)))
    return diffs


def partition_roots(cat: dict) -> dict:
    """(schema, table) -> (schema, root) for every member of a partition tree."""
    parent = {}
    for r in cat["relations"]:
        if r["is_partition"] and r["parents"]:
            ps, pn = split_qualified(r["parents"])
            parent[(r["schema"], r["name"])] = (ps, pn)
    roots = {}
    for key in parent:
        root = key
        while root in parent:
            root = parent[root]
        roots[key] = root
        roots[root] = root
    return roots


def split_qualified(text: str) -> tuple:
    """Splits 'schema.name' as format('%I.%I') writes it."""
    parts, cur, quoted, i = [], "", False, 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            if quoted and i + 1 < len(text) and text[i + 1] == '"':
                cur += '"'
                i += 1
            else:
                quoted = not quoted
        elif ch == "." and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    parts.append(cur)
    return parts[0], parts[1]


def compare_rows(db, cat: dict, mine: dict) -> list:
    """Row counts: the server's count(*) FROM ONLY each table against the rows dbautopsy
    counted in that table's COPY blocks and INSERTs.

    Rows sent to a partitioned table (INSERT into the parent in a script, or a dump made
    with --load-via-partition-root) land in partitions the server picks by evaluating the
    partition bounds; dbautopsy does not route rows. Where dbautopsy saw rows addressed to
    a partitioned table, the whole partition tree is compared as one count at its root."""
    server = {(r["schema"], r["table"]): r["rows"] for r in cat["row_counts"]}
    roots = partition_roots(cat)
    kinds = {(r["schema"], r["name"]): r["kind"] for r in cat["relations"]}
    rolled = {roots[k] for k in mine if kinds.get(k) == "partitioned_table" and k in roots}

    def fold(counts):
        out = defaultdict(int)
        for k, v in counts.items():
            out[roots[k] if roots.get(k) in rolled else k] += v
        return out

    a, b = fold(server), fold(mine)
    diffs = defaultdict(list)
    for key in sorted(set(a) | set(b)):
        if a.get(key, 0) != b.get(key, 0):
            label = key[1] + (" (whole partition tree)" if key in rolled else "")
            diffs[key[0]].append(f"{label}: server {a.get(key, 0)}, dbautopsy {b.get(key, 0)}")
    return [Difference(db, schema, "row_counts", items, [])
            for schema, items in diffs.items()]


# --------------------------------------------------------------------------------------
# Cases


@dataclass
class Case:
    name: str
    files: list            # restored in this order, each ingested
    rows_only: bool = False
    own_cluster: bool = False
    archive: bool = False  # pg_dump archives: the server restores pg_restore's script


def has_connect(text: str) -> bool:
    return re.search(r"^\\(connect|c)\s", text, re.M) is not None


def is_data_only(text: str) -> bool:
    return (re.search(r"^CREATE\s+(UNLOGGED\s+)?TABLE\b", text, re.M | re.I) is None and
            re.search(r"^(COPY\s.*FROM stdin|INSERT INTO)", text, re.M) is not None)


def plain_text(path: Path, scratch: Path) -> str:
    return read_text(decompress(path, scratch)) if path.suffix in (".gz", ".bz2", ".xz", ".zst") \
        else read_text(path)


def discover(root: Path, corpus: Path, scratch: Path) -> list:
    cases = []
    fixtures = sorted(p for p in (root / "fixtures" / "pgdump").glob("*.sql*") if p.is_file())
    source = root / "fixtures" / "generate" / "kitchen_sink.sql"
    paths = [(p, p.relative_to(root).as_posix()) for p in fixtures]
    if source.exists():
        paths.append((source, source.relative_to(root).as_posix()))
    if corpus.is_dir():
        for p in sorted(corpus.rglob("*")):
            rel = p.relative_to(corpus)
            # custom_format/ holds pg_dump archives (and the SQL they were made from),
            # which psql cannot restore; LICENSE, manifests and the like are not dumps.
            if not p.is_file() or rel.parts[0] == "custom_format":
                continue
            if not re.search(r"\.sql(\.(gz|bz2|xz|zst))?$", p.name):
                continue
            paths.append((p, "corpus/" + rel.as_posix()))
    # Archives PostgreSQL 15's pg_restore can read: the fixtures' and the corpus's.
    archives = [p for p in sorted((root / "fixtures" / "pgdump").iterdir())
                if p.name.endswith((".dump", ".tar", ".dir"))]
    if (corpus / "custom_format").is_dir():
        archives += [p for p in sorted((corpus / "custom_format").rglob("*"))
                     if p.is_file() and p.name.endswith((".dump", ".pgdump"))]
    for p in archives:
        version = archive_version(p)
        if version is None or version > PG15_NEWEST_ARCHIVE:
            continue
        name = p.relative_to(root).as_posix() if p.is_relative_to(root) else \
            "corpus/" + p.relative_to(corpus).as_posix()
        cases.append(Case(name, [p], archive=True))
    for path, name in paths:
        try:
            text = plain_text(path, scratch)
        except (RuntimeError, OSError, EOFError, lzma.LZMAError) as e:
            # The case itself will fail with this error, where it is reported.
            log(f"differential: cannot read {name}: {e}")
            text = ""

        if is_data_only(text):
            schema = [s for s in sorted(path.parent.glob("*schema*.sql")) if s != path]
            if len(schema) == 1:
                cases.append(Case(f"{name} (on {schema[0].name})", [schema[0], path],
                                  rows_only=True))
                continue
        cases.append(Case(name, [path], own_cluster=has_connect(text)))
    return cases


@dataclass
class Result:
    case: Case
    ok: bool
    seconds: float
    differences: list
    excluded: list          # (Located, [ServerError], [fact descriptions])
    unmapped: list          # [ServerError]
    no_facts: list          # [(ServerError, Located)]
    missing_extensions: set
    notes: list


def describe_excluded(facts: Facts, art: int, line: int) -> list:
    out = []
    for r in facts.relations:
        if r["artifact_id"] == art and r["line"] == line:
            out.append(f'{r["kind"]} {r["schema_name"]}.{r["name"]}')
    for what, rows in (("index", facts.indexes), ("constraint", facts.constraints)):
        for r in rows:
            if r["artifact_id"] == art and r["line"] == line:
                out.append(f'{what} {r["schema_name"]}.{r["table_name"]}.{r["name"]}')
    for r in facts.extensions:
        if r["artifact_id"] == art and r["line"] == line:
            out.append(f'extension {r["name"]}')
    for r in facts.schemas:
        if r["artifact_id"] == art and r["line"] == line:
            out.append(f'schema {r["name"]}')
    columns = [r for r in facts.columns if r["artifact_id"] == art and r["line"] == line]
    if columns:
        out.append(f"{len(columns)} column(s)")
    return out


EXTENSION_MISSING = [
    re.compile(r'could not open extension control file ".*/([^/"]+)\.control"'),
    re.compile(r'extension "([^"]+)" is not available'),
    re.compile(r'extension "([^"]+)" does not exist'),
]


def run_case(case: Case, args, pg: dict, shared: Cluster, scratch: Path) -> Result:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="case-", dir=scratch))
    notes = []

    # dbautopsy first: it must not depend on anything the server does.
    store = work / "facts.db"
    r = subprocess.run([args.dbautopsy, "ingest", "--store", str(store)] +
                       [str(f) for f in case.files], capture_output=True, text=True)
    facts = load_facts(store) if store.exists() else None
    if facts is None or len(facts.artifacts) != len(case.files):
        return Result(case, False, time.monotonic() - started,
                      [Difference("-", "-", "ingest", [], [],
                                  f"dbautopsy ingest exited {r.returncode}: {r.stderr.strip()}")],
                      [], [], [], set(), notes)
    if r.returncode != 0:
        # An input error still leaves what was read in the store (marked partial): the
        # comparison says how much of it is right.
        notes.append(f"dbautopsy ingest exited {r.returncode}: {short(r.stderr.strip())}")
    for path, (status, detail) in facts.statuses.items():
        if status != "ok":
            notes.append(f"dbautopsy marked {Path(path).name} {status}: {detail}")

    # The server.
    plain = [restore_script(f, work, pg["bindir"]) if case.archive else decompress(f, work)
             for f in case.files]
    display = {str(p): str(f) for p, f in zip(plain, case.files)}
    roles = set()
    for p in plain:
        roles |= roles_named(read_text(p))
    cluster = shared
    before = None
    if case.own_cluster:
        cluster = Cluster(pg["lib"], pg["bindir"], scratch, OWN_CLUSTER_PORT, "own")
        cluster.start()
    try:
        create_roles(cluster, roles)
        before = set(cluster.databases())
        if case.own_cluster:
            # Scripts that \connect start from the maintenance database, as
            # `psql -f dumpall.sql postgres` does.
            initial = "postgres"
            for p in plain:
                made = precreate_databases(cluster, read_text(p))
                if made:
                    notes.append("databases created before the restore (C locale): " +
                                 ", ".join(made))
        else:
            initial = WORK_DB
            cluster.sql("postgres", f"DROP DATABASE IF EXISTS {WORK_DB} WITH (FORCE)")
            cluster.sql("postgres", f"CREATE DATABASE {WORK_DB} TEMPLATE template0 "
                                    "ENCODING 'UTF8' LOCALE 'C.UTF-8'")
        errors = restore(cluster, initial, plain, display, args.timeout)
        catalogs = {}
        for db in cluster.databases():
            if db == "template0":
                continue
            catalogs[db] = server_catalog(cluster, db, pg["catalog_sql"])
    finally:
        if case.own_cluster:
            cluster.stop()
        elif before is not None:
            # Dumps made with -C (booktown) create databases of their own.
            for db in set(cluster.databases()) - before - {WORK_DB}:
                cluster.sql("postgres", f"DROP DATABASE IF EXISTS {quote_ident(db)} WITH (FORCE)")
            cluster.sql("postgres", f"DROP DATABASE IF EXISTS {WORK_DB} WITH (FORCE)")

    # Server errors -> excluded facts.
    excluded_lines = set()           # (artifact_id, first line)
    excluded_tables = set()          # (db, schema, table): row count not comparable
    groups = {}                      # (artifact, line, kind) -> [Located, errors]
    unmapped, no_facts = [], []
    missing_ext = set()
    for e in errors:
        for pattern in EXTENSION_MISSING:
            m = pattern.search(e.message)
            if m:
                missing_ext.add(m.group(1))
        art = facts.artifacts.get(e.file)
        if art is None or e.line == 0:
            unmapped.append(e)
            continue
        loc = locate(facts, art, e.line)
        if loc.kind == "none":
            unmapped.append(e)
            continue
        key = (art, loc.line, loc.kind)
        groups.setdefault(key, [loc, []])[1].append(e)
    excluded = []
    for (art, line, kind), (loc, errs) in sorted(groups.items()):
        if kind == "statement":
            described = describe_excluded(facts, art, line)
            excluded_lines.add((art, line))
            if described:
                excluded.append((loc, errs, described))
            else:
                no_facts.extend((e, loc) for e in errs)
        else:
            # A COPY either loads all its rows or none; a rejected INSERT loses rows we
            # cannot count without evaluating it. Either way that table's count is out.
            excluded_lines.add((art, line))
            excluded_tables.add(loc.table)
            excluded.append((loc, errs, [f"row count of {loc.table[1]}.{loc.table[2]}"]))

    def kept(rows):
        return [r for r in rows if (r["artifact_id"], r["line"]) not in excluded_lines]

    # Per database: dbautopsy's NULL db is the database psql started in.
    def dbname(value):
        return initial if value is None else value

    mine = defaultdict(lambda: defaultdict(set))
    mine_kind = defaultdict(dict)
    for r in kept(facts.relations):
        db = dbname(r["db"])
        mine[db][(r["schema_name"], RELATION_CATEGORIES.get(r["kind"], r["kind"]))].add(
            rel_item(r["name"], r["kind"]))
        mine_kind[db][(r["schema_name"], r["name"])] = r["kind"]
    mine_cols = defaultdict(dict)
    for r in kept(facts.columns):
        db = dbname(r["db"])
        if mine_kind[db].get((r["schema_name"], r["table_name"])) in TABLE_KINDS:
            mine[db][(r["schema_name"], "columns")].add(f'{r["table_name"]}.{r["name"]}')
            mine_cols[db][(r["schema_name"], r["table_name"], r["name"])] = (r["type"],
                                                                             bool(r["not_null"]))
    for r in kept(facts.indexes):
        mine[dbname(r["db"])][(r["schema_name"], "indexes")].add(
            f'{r["table_name"]}.{r["name"]}')
    for r in kept(facts.constraints):
        mine[dbname(r["db"])][(r["schema_name"], CONSTRAINT_KINDS.get(r["kind"], r["kind"]))].add(
            f'{r["table_name"]}.{r["name"]}')
    for r in kept(facts.schemas):
        if r["name"] != "public":
            mine[dbname(r["db"])][(r["name"], "schemas")].add(r["name"])
    for r in kept(facts.sequences):
        mine[dbname(r["db"])][(r["schema_name"], "sequence_facts")].add(r["name"])
    mine_rows = defaultdict(lambda: defaultdict(int))
    for r in kept(facts.stats):
        db = dbname(r["db"])
        if (r["db"], r["schema_name"], r["table_name"]) in excluded_tables:
            continue
        mine_rows[db][(r["schema_name"], r["table_name"])] += r["rows"]

    differences = []
    for db in sorted(set(catalogs) | set(mine) | set(mine_rows)):
        cat = catalogs.get(db)
        if cat is None:
            differences.append(Difference(db, "-", "databases", [], [db],
                                          "database missing on the server"))
            continue
        skip_rows = {(s, t) for (d, s, t) in excluded_tables if dbname(d) == db}
        cat = dict(cat, row_counts=[c for c in cat["row_counts"]
                                    if (c["schema"], c["table"]) not in skip_rows])
        if not case.rows_only:
            differences += compare_sets(db, server_sets(cat), mine.get(db, {}), NAME_CATEGORIES)
            if not args.no_types:
                differences += compare_types(db, server_columns(cat), mine_cols.get(db, {}))
        differences += compare_rows(db, cat, mine_rows.get(db, {}))
    differences += check_committed_catalog(case, catalogs.get(initial))

    # What was compared, so that a PASS over an empty catalog does not pass unnoticed.
    counted = defaultdict(int)
    for cat in catalogs.values():
        for k, items in server_sets(cat).items():
            counted[k[1]] += len(items)
        counted["rows"] += sum(r["rows"] for r in cat["row_counts"])
    shown = ["tables", "columns", "indexes", "rows"] if not case.rows_only else ["rows"]
    notes.append("server holds " + ", ".join(f"{counted[k]} {k}" for k in shown) +
                 f"; {len(errors)} server errors")
    ok = not differences and not unmapped
    return Result(case, ok, time.monotonic() - started, differences, excluded, unmapped,
                  no_facts, missing_ext, notes)


def check_committed_catalog(case: Case, cat: dict | None) -> list:
    """X.catalog.json next to X.full.sql is the server's catalog for tests without a
    server (fixtures/generate/kitchen_sink.sh writes both). Restoring the dump must give
    that catalog back; if not, the fixture is stale (kitchen_sink.sql or catalog.sql was
    edited and the generator not rerun)."""
    path = case.files[0]
    if len(case.files) != 1 or not path.name.endswith(".full.sql") or cat is None:
        return []
    committed = path.with_name(path.name[: -len(".full.sql")] + ".catalog.json")
    if not committed.exists():
        return []
    expected = json.loads(committed.read_text(encoding="utf-8"))
    stale = sorted(k for k in set(expected) | set(cat) if k != "database" and
                   expected.get(k) != cat.get(k))
    if not stale:
        return []
    return [Difference("-", "-", "fixture", [], [],
                       f"{committed.name} differs from the restored catalog in: "
                       f"{', '.join(stale)}; rerun fixtures/generate/kitchen_sink.sh")]


def compare_types(db, server: dict, mine: dict) -> list:
    """Type and NOT NULL of every column both sides have: dbautopsy's db_column.type is
    meant to read exactly as format_type(atttypid, atttypmod) with only pg_catalog on the
    search_path. Columns only one side has are reported by the name check."""
    by_schema = defaultdict(list)
    for key in sorted(set(server) & set(mine)):
        (st, sn), (mt, mn) = server[key], mine[key]
        if st != mt:
            by_schema[(key[0], "column_types")].append(
                f"{key[1]}.{key[2]}: server {st!r}, dbautopsy {mt!r}")
        if sn != mn:
            by_schema[(key[0], "column_not_null")].append(
                f"{key[1]}.{key[2]}: server {'NOT NULL' if sn else 'nullable'}, "
                f"dbautopsy {'NOT NULL' if mn else 'nullable'}")
    return [Difference(db, schema, cat, items, [])
            for (schema, cat), items in sorted(by_schema.items())]


# --------------------------------------------------------------------------------------
# Reporting


VALUE_CATEGORIES = {
    "row_counts": "rows in the server's table vs rows dbautopsy counted in the dump",
    "column_types": "separate attribute check: db_column.type vs format_type()",
    "column_not_null": "separate attribute check: db_column.not_null vs attnotnull",
}


def short(msg: str, n: int = 160) -> str:
    return msg if len(msg) <= n else msg[: n - 1] + "…"


def report(res: Result, verbose: bool):
    c = res.case
    where = "own cluster" if c.own_cluster else "shared cluster"
    status = "PASS" if res.ok else "FAIL"
    log(f"== {status}  {c.name}  [{where}, {res.seconds:.1f}s]")
    for note in res.notes:
        log(f"   note: {note}")
    for loc, errs, described in res.excluded:
        what = loc.type if loc.kind == "statement" else f"{loc.kind} data of {loc.type}"
        more = f" (+{len(errs) - 1} more errors)" if len(errs) > 1 else ""
        log(f"   excluded lines {loc.line}-{loc.end_line} {what} [{', '.join(described)}]: "
            f"{short(errs[0].message, 120)}{more}")
    if res.no_facts:
        # Statements the server rejected that gave dbautopsy no fact to exclude (GRANTs,
        # functions, SETs of newer servers): grouped by the shape of the message.
        by_message = defaultdict(list)
        for e, loc in res.no_facts:
            shape = re.sub(r'"[^"]*"', '"…"', e.message)
            shape = re.sub(r"(function|type|operator) \S+\(.*?\)", r"\1 …(…)", shape)
            by_message[shape].append(e.line)
        groups = sorted(by_message.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        if verbose:
            for e, loc in res.no_facts:
                log(f"   rejected, no facts: line {e.line} ({loc.type}): {short(e.message)}")
        else:
            for msg, lines in groups[:6]:
                shown = ", ".join(map(str, lines[:5])) + (", …" if len(lines) > 5 else "")
                log(f"   rejected, no facts: {len(lines)} × {short(msg, 100)} (lines {shown})")
            if len(groups) > 6:
                rest = sum(len(lines) for _, lines in groups[6:])
                log(f"   rejected, no facts: {rest} more of {len(groups) - 6} other kinds "
                    "(--verbose lists them)")
    for e in res.unmapped:
        log(f"   UNMAPPED server error (no dbautopsy statement holds {Path(e.file).name}:"
            f"{e.line}): {e.level}: {short(e.message)}")
    if res.missing_extensions:
        log(f"   missing extensions: {', '.join(sorted(res.missing_extensions))}")
    for d in res.differences:
        head = f"   DIFF db={d.db} schema={d.schema} {d.category}"
        if d.category in VALUE_CATEGORIES:
            # Both sides have the item; its value differs.
            log(f"{head} ({VALUE_CATEGORIES[d.category]})")
            for item in d.only_server:
                log(f"      {item}")
            continue
        if d.note:
            log(f"{head}: {d.note}")
        else:
            log(head)
        for item in d.only_server:
            log(f"      only in server:    {item}")
        for item in d.only_dbautopsy:
            log(f"      only in dbautopsy: {item}")


# --------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dbautopsy", required=True, help="the dbautopsy binary")
    ap.add_argument("--root", required=True, help="the repository root")
    ap.add_argument("--corpus", help="plain-SQL dumps to include (default: the pg_dump folder "
                                     "of the shared corpus, see tests/lib/locate.py)")
    ap.add_argument("--only", action="append", default=[],
                    help="run only cases whose name contains this glob (e.g. 'pagila/pg1*'); "
                         "repeatable")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--no-types", action="store_true",
                    help="skip the column type / NOT NULL check")
    ap.add_argument("--verbose", action="store_true", help="list every rejected statement")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("--timeout", type=int, default=900, help="seconds per psql run")
    ap.add_argument("--port", type=int, default=SHARED_PORT)
    args = ap.parse_args()

    root = Path(args.root).resolve()
    found = find_corpus(root)
    corpus = Path(args.corpus).resolve() if args.corpus else \
        (found / "pg_dump" if found else root / "no-corpus")
    ci = os.environ.get("CI") == "true"

    bindir = find_bindir()
    if bindir is None:
        log("differential: no PostgreSQL server binaries (postgres, psql) found; "
            "set PG_BINDIR or install postgresql-15")
        return 1 if ci else SKIP
    if not corpus.is_dir():
        # The corpus lives outside the repository; a checkout without it still tests the
        # fixtures, unless the corpus is required (scripts/test.sh, CI) or was named.
        log(f"differential: corpus {corpus} not found; only the fixtures are compared")
        if args.corpus:
            return 2
        if required():
            log("differential: FAIL: the corpus is required here (set DBAUTOPSY_CORPUS)")
            return 1
    pg = {"bindir": bindir,
          "lib": root / "fixtures" / "generate" / "lib" / "pg_cluster.sh",
          "catalog_sql": Path(__file__).resolve().parent / "catalog.sql"}

    scratch = Path(tempfile.mkdtemp(prefix="dbautopsy-differential-"))
    os.chmod(scratch, 0o755)
    # SIGTERM (ctest --timeout, a CI cancel) must still stop the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    shared = None
    results = []
    started = time.monotonic()
    try:
        cases = discover(root, corpus, scratch)
        if args.only:
            # A pattern matches anywhere in the name: 'pagila/pg1*' finds corpus/pagila/pg10...
            cases = [c for c in cases if any(fnmatch.fnmatchcase(c.name, f"*{p}*")
                                             for p in args.only)]
        if args.list:
            for c in cases:
                log(c.name + ("  [own cluster]" if c.own_cluster else ""))
            return 0
        if not cases:
            log("differential: no case matches")
            return 2
        shared = Cluster(pg["lib"], bindir, scratch, args.port, "shared")
        shared.start()
        log(f"differential: {len(cases)} cases, PostgreSQL from {bindir}")
        for case in cases:
            try:
                res = run_case(case, args, pg, shared, scratch)
            except (RuntimeError, subprocess.SubprocessError, OSError, ValueError) as e:
                res = Result(case, False, 0.0, [Difference("-", "-", "harness", [], [],
                                                           str(e))], [], [], [], set(), [])
                log(f"   harness error: {e}")
            report(res, args.verbose)
            results.append(res)
    finally:
        if shared is not None:
            shared.stop()
        if args.keep:
            log(f"differential: scratch kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)

    failed = [r for r in results if not r.ok]
    missing = set().union(*(r.missing_extensions for r in results)) if results else set()
    log("")
    log(f"differential: {len(results) - len(failed)} passed, {len(failed)} failed, "
        f"{time.monotonic() - started:.0f}s")
    for r in failed:
        cats = sorted({d.category for d in r.differences})
        log(f"   FAIL {r.case.name}: " + ", ".join(cats + (
            [f"{len(r.unmapped)} unmapped server errors"] if r.unmapped else [])))
    if missing:
        log("missing extensions (statements needing them were excluded):")
        for ext in sorted(missing):
            users = [r.case.name for r in results if ext in r.missing_extensions]
            log(f"   {ext}: {EXTENSION_PACKAGES.get(ext, 'source unknown')}; "
                f"needed by {', '.join(users)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
