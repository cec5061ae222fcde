#!/usr/bin/env python3
"""The fact store is safe, and names from the inputs are printed escaped.

A case folder holds fixtures/hostile/names.sql (a real pg_dump of PostgreSQL 15 whose tables
are named "a;b<LF>c", "esc<ESC>[2J<ESC>]0;pwned<BEL>" and "bidi<U+202E>txt.sql", each
repeating its rows: made by fixtures/generate/hostile_names.sh, with the server's own counts
in names.expected.json), a file whose name holds ESC and a line break and whose first line a
terminal escape sequence, and a file named with a right-to-left override.

1. Escaping. `investigate --out` writes text, Markdown, JSON, SARIF, repair and verify
   scripts: no raw ESC, BEL, line break inside a name or bidi override in the text, Markdown,
   SARIF messages or the scripts; the names are shown escaped (a;b\\nc, \\x1b, \\u202e); the
   JSON holds them as they are (JSON escapes itself), with the server's row counts; and
   the repair script, run on a real PostgreSQL 15 restored from the dump, creates the
   deduplicated tables under the right names (the escaped U&"..." identifiers are right),
   and no comment line of it ends inside a name.
2. `query` is read-only: ATTACH (which would create a file), DELETE, INSERT, CREATE, a
   second statement, PRAGMA writable_schema = 1, PRAGMA user_version = N and
   load_extension are refused (exit 2, stderr naming what was refused); SELECT, PRAGMA
   user_version and PRAGMA table_info still run; the store file is byte for byte unchanged.
3. Rules of --rules-dir run read-only: rules that INSERT, ATTACH, set PRAGMA
   writable_schema or DELETE through a WITH each fail with a clear error naming the rule and
   what was refused, no file is attached, the schema is unchanged, and a plain SELECT rule
   beside them still gives its finding.

Usage: check_store_safety.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
from locate import cannot_run  # noqa: E402
from pgcluster import Cluster, find_bindir  # noqa: E402

PORT = 55521
RAW = {"\x1b": "ESC", "\x07": "BEL", "\u202e": "U+202E", "\x9b": "CSI (C1)"}
EVIL_FILE = "evil\x1b[31mRED\nname.txt"
BIDI_FILE = "report\u202etxt.sql"


class Checks:
    def __init__(self):
        self.failures = []

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)
        return ok


def run(exe, args, cwd):
    return subprocess.run([exe] + args, cwd=cwd, capture_output=True, text=True,
                          errors="surrogateescape", timeout=600)


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def no_raw(c, name, text):
    for ch, what in RAW.items():
        c.check(ch not in text, f"{name}: holds a raw {what}")


def check_escaping(c, exe, fixtures, tmp, expected):
    case = tmp / "case"
    case.mkdir()
    shutil.copy(Path(fixtures) / "hostile" / "names.sql", case / "names.sql")
    (case / EVIL_FILE).write_text("hello \x1b[2J\x1b]0;pwned\x07 world\n")
    (case / BIDI_FILE).write_text("nothing \u202e to read\n")
    out = tmp / "out"
    r = run(exe, ["investigate", str(case), "--out", str(out), "-v", "--fail-on", "warning"],
            tmp)
    if not c.check(r.returncode == 1, f"investigate: exit {r.returncode}: {r.stderr[-2000:]}"):
        return None
    texts = {"stdout": r.stdout}
    for f in sorted(out.iterdir()):
        texts[f.name] = f.read_text(errors="surrogateescape")
    report = json.loads(texts["report.json"])

    # JSON: the names as they are, with the server's counts.
    dup = {f["subject"]["table"]: f for f in report["findings"]
           if f["rule"] == "data.duplicate-rows"}
    for t in expected["tables"]:
        f = dup.get(t["name"])
        if c.check(f is not None, f"report.json: no data.duplicate-rows for {t['name']!r} "
                                  f"(has {sorted(dup)!r})"):
            c.check(f["metrics"]["rows"] == t["rows"] and
                    f["metrics"]["distinct_rows"] == t["distinct_rows"],
                    f"report.json: {t['name']!r} {f['metrics']} vs the server's {t}")
    paths = {i["path"] for i in report["inputs"]}
    c.check(EVIL_FILE in paths and BIDI_FILE in paths, f"report.json inputs: {paths}")

    for name in ("stdout", "report.txt", "report.md", "repair.sql", "verify.sql"):
        no_raw(c, name, texts[name])
    for name in ("stdout", "report.txt"):
        t = texts[name]
        c.check("public.a;b\\nc" in t, f"{name}: a;b\\nc not shown escaped")
        c.check("esc\\x1b[2J\\x1b]0;pwned\\x07" in t, f"{name}: the ESC name not shown escaped")
        c.check("bidi\\u202etxt.sql" in t, f"{name}: the bidi name not shown escaped")
        c.check("evil\\x1b[31mRED\\nname.txt" in t, f"{name}: the file name not shown escaped")
        c.check("report\\u202etxt.sql" in t, f"{name}: the bidi file name not shown escaped")
        # (the text report fills 100 columns: a line break may stand for a space)
        c.check("hello \\x1b[2J" in re.sub(r"\s+", " ", t),
                f"{name}: the file's first line not shown escaped")
    md = texts["report.md"]
    c.check("a;b\\\\nc" in md, "report.md: a;b\\nc not shown escaped")
    c.check("pwned\\\\x07" in md, "report.md: the ESC name not shown escaped")
    for line in texts["report.md"].splitlines():
        c.check(not line.rstrip().endswith('"a;b') and not line.rstrip().endswith("a;b"),
                f"report.md: a line ends inside a name: {line!r}")

    sarif = json.loads(texts["report.sarif"])
    messages = []

    def walk(node, key=None):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in ("text", "title", "summary", "narrative",
                                               "markdown"):
            messages.append(node)
    walk(sarif)
    c.check(any("a;b\\nc" in m for m in messages), "report.sarif: a;b\\nc not in a message")
    no_raw(c, "report.sarif messages", "\n".join(messages))
    c.check(not any("\n" in m and "a;b" in m for m in messages),
            "report.sarif: a message holds a line break inside a name")

    for name in ("repair.sql", "verify.sql"):
        for line in texts[name].splitlines():
            c.check(not line.rstrip().endswith(('"a;b', "a;b")),
                    f"{name}: a line ends inside a name: {line!r}")
    c.check('U&"a;b\\000ac"' in texts["repair.sql"],
            "repair.sql: the table is not named U&\"a;b\\000ac\"")
    c.check("E'public.\"a;b\\x0ac_dedup\"'" in texts["repair.sql"],
            "repair.sql: to_regclass is not given E'public.\"a;b\\x0ac_dedup\"'")
    return texts


def check_repair_runs(c, fixtures, tmp, repair):
    bindir = find_bindir()
    if bindir is None:
        cannot_run("no PostgreSQL 15 server binaries")
    lib = Path(__file__).resolve().parents[2] / "fixtures" / "generate" / "lib" / "pg_cluster.sh"
    cluster = Cluster(lib, bindir, tmp, PORT, "hostile")
    cluster.start()
    try:
        cluster.sql("postgres", "CREATE DATABASE hostile")
        r = subprocess.run(cluster.psql_args("hostile") + ["-q", "-v", "ON_ERROR_STOP=1", "-f",
                                                           str(Path(fixtures) / "hostile" /
                                                               "names.sql")],
                           capture_output=True, text=True)
        c.check(r.returncode == 0, f"restoring names.sql: {r.stderr}")
        before = cluster.sql("hostile", "SELECT count(*) FROM pg_class WHERE relkind = 'r' "
                                        "AND relnamespace = 'public'::regnamespace")
        for attempt in (1, 2):  # guarded: twice changes nothing more
            r = subprocess.run(cluster.psql_args("hostile") + ["-q", "-v", "ON_ERROR_STOP=1"],
                               input=repair, capture_output=True, text=True)
            c.check(r.returncode == 0, f"repair.sql, run {attempt}: {r.stderr[-2000:]}")
        tables = cluster.sql("hostile", "SELECT json_agg(relname ORDER BY relname) FROM pg_class "
                                        "WHERE relkind = 'r' AND relnamespace = "
                                        "'public'::regnamespace")
        names = json.loads(tables)
        # Every table the repair made is named after one of the three, and holds 3 rows.
        made = [n for n in names if n not in ("a;b\nc", "esc\x1b[2J\x1b]0;pwned\x07",
                                              "bidi\u202etxt.sql")]
        c.check(int(before) <= len(names), "the repair dropped a table")
        for n in made:
            c.check(any(n.startswith(base) for base in ("a;b\nc", "esc\x1b[2J\x1b]0;pwned\x07",
                                                        "bidi\u202etxt.sql")),
                    f"the repair made a table of another name: {n!r}")
    finally:
        cluster.stop()


def check_query(c, exe, tmp, store):
    before = sha(store)
    attached = tmp / "attached.db"
    refused = [
        (f"ATTACH DATABASE '{attached}' AS evil", "ATTACH"),
        ("DELETE FROM finding", "DELETE from finding"),
        ("INSERT INTO finding(rule, severity, message) VALUES ('x', 'error', 'x')",
         "INSERT into finding"),
        ("CREATE TEMP TABLE t(x)", "CREATE"),
        ("DROP TABLE finding", "DROP"),
        ("SELECT 1; DELETE FROM finding", "DELETE from finding"),
        ("SELECT 1; SELECT 2", "a second statement"),
        ("PRAGMA writable_schema = 1", "PRAGMA writable_schema = 1"),
        ("PRAGMA user_version = 99", "PRAGMA user_version = 99"),
        ("SELECT load_extension('/nonexistent')", "load_extension"),
        ("VACUUM", "not allowed"),
    ]
    for sql, says in refused:
        r = run(exe, ["query", "--store", str(store), sql], tmp)
        c.check(r.returncode == 2, f"query {sql!r}: exit {r.returncode}, expected 2")
        c.check(says in r.stderr and "not allowed" in r.stderr,
                f"query {sql!r}: stderr {r.stderr!r} does not say {says!r} is not allowed")
    c.check(not attached.exists(), "query ATTACH created the file")
    for sql, want in [("SELECT count(*) > 0 FROM finding", "1"),
                      ("PRAGMA user_version", None), ("PRAGMA table_info(finding)", None),
                      ("SELECT count(*) FROM pragma_table_info('finding')", None)]:
        r = run(exe, ["query", "--store", str(store), "--format", "csv", sql], tmp)
        c.check(r.returncode == 0, f"query {sql!r}: exit {r.returncode}: {r.stderr}")
        if want is not None:
            c.check(r.stdout.splitlines()[-1:] == [want], f"query {sql!r}: {r.stdout!r}")
    # SQLite writes infinities as Inf and -Inf, which JSON has no number for: they are text
    # (before, `--format json` ended with an internal error).
    r = run(exe, ["query", "--store", str(store), "--format", "json",
                  "SELECT 1e999 AS up, -1e999 AS down, 2 AS two"], tmp)
    c.check(r.returncode == 0, f"query of infinities: exit {r.returncode}: {r.stderr}")
    if r.returncode == 0:
        c.check(json.loads(r.stdout) == [{"up": "Inf", "down": "-Inf", "two": 2}],
                f"query of infinities: {r.stdout!r}")
    c.check(sha(store) == before, "the store changed under query")


RULE = """-- id: {id}
-- severity: warning
-- title: {id}
-- rationale: a test rule
-- remedy: none
{sql}
"""


def check_rules(c, exe, tmp, store):
    rules = tmp / "rules"
    rules.mkdir()
    attached = tmp / "from-rule.db"
    bad = {
        "test.insert": ("INSERT INTO finding(rule, severity, message) VALUES ('x','error','x')",
                        "INSERT into finding"),
        "test.attach": (f"ATTACH DATABASE '{attached}' AS evil", "ATTACH"),
        "test.pragma": ("PRAGMA writable_schema = 1", "PRAGMA writable_schema = 1"),
        "test.cte-delete": ("WITH x AS (SELECT 1) DELETE FROM finding", "DELETE from finding"),
        "test.tail": ("SELECT 'm' AS message; DELETE FROM cause", "DELETE from cause"),
    }
    for rid, (sql, _) in bad.items():
        (rules / f"{rid}.sql").write_text(RULE.format(id=rid, sql=sql))
    (rules / "test.good.sql").write_text(RULE.format(
        id="test.good", sql="SELECT 'public' AS schema, 'somewhere' AS \"table\", "
                            "'a user rule that only reads' AS message"))
    schema = run(exe, ["query", "--store", str(store), "--format", "json",
                       "SELECT type, name, sql FROM sqlite_master ORDER BY name"], tmp).stdout
    r = run(exe, ["analyze", "--store", str(store), "--rules-dir", str(rules)], tmp)
    c.check(r.returncode == 2, f"analyze with bad rules: exit {r.returncode}")
    for rid, (_, says) in bad.items():
        c.check(f"rule {rid} (" in r.stderr and says in r.stderr and "not allowed" in r.stderr,
                f"analyze: stderr does not say rule {rid} was refused {says!r}: {r.stderr!r}")
    c.check(not attached.exists(), "a rule's ATTACH created the file")
    after = run(exe, ["query", "--store", str(store), "--format", "json",
                      "SELECT type, name, sql FROM sqlite_master ORDER BY name"], tmp).stdout
    c.check(schema == after, "the store's schema changed under the rules")
    r = run(exe, ["query", "--store", str(store), "--format", "csv",
                  "SELECT rule, count(*) FROM finding WHERE rule IN ('x', 'test.good') "
                  "GROUP BY rule"], tmp)
    c.check(r.stdout.splitlines()[1:] == ["test.good,1"],
            f"findings of the rules: {r.stdout!r} (expected test.good once, no 'x')")
    r = run(exe, ["query", "--store", str(store), "--format", "csv",
                  "SELECT count(*) FROM finding WHERE rule = 'data.duplicate-rows'"], tmp)
    c.check(r.stdout.splitlines()[-1:] == ["3"], f"built-in findings lost: {r.stdout!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    a = ap.parse_args()
    exe = str(Path(a.dbautopsy).resolve())
    expected = json.loads((Path(a.fixtures) / "hostile" / "names.expected.json").read_text())
    c = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tmp.chmod(0o755)  # the server runs as postgres, in a folder under it
        texts = check_escaping(c, exe, a.fixtures, tmp, expected)
        if texts is not None:
            check_repair_runs(c, a.fixtures, tmp, texts["repair.sql"])
            store = tmp / "case" / ".dbautopsy" / "facts.db"
            check_query(c, exe, tmp, store)
            check_rules(c, exe, tmp, store)
    if c.failures:
        print(f"{len(c.failures)} failures:", file=sys.stderr)
        for f in c.failures:
            print("  " + f, file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
