#!/usr/bin/python3
"""No repair dbautopsy writes creates what the migration history removed.

A forensic tool that tells people to re-add what they removed on purpose is worse than no
tool. For every case under fixtures/cases (and, for a case with migration .py files and
sqlmigrate outputs, again without the sqlmigrate outputs: the .py path), this test runs
`dbautopsy investigate` and collects every repair statement: each finding's `repair`, each
cause's `repair`, and the `--format sql` script. Comments are advice, not statements; what
is left is searched (without a SQL parser, so that the check does not share the code it
checks) for what it would create:

  CREATE TABLE / CREATE INDEX, ALTER TABLE ... ADD COLUMN / ADD CONSTRAINT,
  ... RENAME TO / RENAME COLUMN / RENAME CONSTRAINT, ALTER INDEX ... RENAME TO,
  ALTER TABLE ... SET SCHEMA.

Each created object is checked against two references:

  1. the final state of the replayed history as the store holds it (`expected_object`):
     a repair may create only an object the recorded migrations, replayed in order, end with;
  2. an independent textual replay of the case's real sqlmigrate outputs, in the order the
     migrations were recorded: an object whose last word in the history is a DROP (or a
     rename away from its name) must not be created -- the check that catches an expected
     state that forgot a removal (the AlterUniqueTogether-to-set() bug: `DROP CONSTRAINT
     "..._uniq"` lost, the repair re-creating the constraint).

Besides, no repair may drop anything executably: DROP TABLE / INDEX, DROP COLUMN and DROP
CONSTRAINT appear only commented out, and every drift.not-removed repair is an opt-in block
("-- data may live here; uncomment after review") with no executable line.

The one kind of creation allowed outside the history is a scratch copy a data repair works
in (`CREATE TABLE x AS SELECT ...`, and constraints on that copy): it holds rows to review,
it is not part of the schema. They are listed.

Exit status: 0 every case is safe, 1 otherwise.
"""
import argparse
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
QNAME = rf'{IDENT}(?:\s*\.\s*{IDENT})?'
OPT_IN = "-- data may live here; uncomment after review"


def unquote(ident):
    ident = ident.strip()
    if ident.startswith('"'):
        return ident[1:-1].replace('""', '"')
    return ident.lower()


def split_qname(qname):
    parts = re.findall(IDENT, qname)
    parts = [unquote(p) for p in parts]
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


def strip_comments(sql):
    """The text without `--` comments (outside single-quoted strings and quoted names)."""
    out = []
    i, n = 0, len(sql)
    quote = None
    while i < n:
        c = sql[i]
        if quote:
            out.append(c)
            if c == quote:
                quote = None
            i += 1
        elif c in "'\"":
            quote = c
            out.append(c)
            i += 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def top_level_split(text, sep):
    """Pieces of text split at `sep` outside parentheses and quotes."""
    pieces, depth, quote, cur = [], 0, None, []
    for c in text:
        if quote:
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == sep and depth == 0:
            pieces.append("".join(cur))
            cur = []
            continue
        cur.append(c)
    pieces.append("".join(cur))
    return pieces


def first_columns(text):
    m = re.search(r"\(([^()]*)\)", text)
    return [unquote(c) for c in re.findall(IDENT, m.group(1))] if m else []


def events(sql):
    """What the (comment-stripped) SQL creates, removes and renames, in order: tuples
    (action, kind, schema, table, name, extra)."""
    out = []
    body = strip_comments(sql)
    # Statements end at `;` outside quotes and parentheses; a DO block's body ($$ ... $$) is
    # searched as text like the rest (its statements end with `;` too).
    text = body.replace("$$", " ")
    for stmt in top_level_split(text, ";"):
        s = " ".join(stmt.split())
        for m in re.finditer(
                rf"\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+NOT\s+EXISTS\s+)?"
                rf"({IDENT})\s+ON\s+(?:ONLY\s+)?({QNAME})(.*)", s, re.I):
            schema, table = split_qname(m.group(2))
            out.append(("create", "index", schema, table, unquote(m.group(1)),
                        first_columns(m.group(3))))
        for m in re.finditer(
                rf"\bCREATE\s+(?:UNLOGGED\s+|TEMP\s+|TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
                rf"({QNAME})(\s+AS\b)?", s, re.I):
            schema, table = split_qname(m.group(1))
            out.append(("create", "scratch" if m.group(2) else "table", schema, table, table, []))
        for m in re.finditer(rf"\bDROP\s+(TABLE|INDEX|VIEW|SEQUENCE)\s+(?:CONCURRENTLY\s+)?"
                             rf"(?:IF\s+EXISTS\s+)?((?:{QNAME}\s*,\s*)*{QNAME})", s, re.I):
            for q in top_level_split(m.group(2), ","):
                schema, name = split_qname(q)
                kind = m.group(1).lower()
                out.append(("drop", kind, schema, name if kind == "table" else None, name, []))
        m = re.search(rf"\bALTER\s+INDEX\s+(?:IF\s+EXISTS\s+)?({QNAME})\s+RENAME\s+TO\s+({IDENT})",
                      s, re.I)
        if m:
            schema, name = split_qname(m.group(1))
            out.append(("rename", "index", schema, None, name, unquote(m.group(2))))
        m = re.search(rf"\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?({QNAME})\s+(.*)$", s,
                      re.I)
        if not m:
            continue
        schema, table = split_qname(m.group(1))
        for action in top_level_split(m.group(2), ","):
            a = action.strip()
            r = re.match(rf"ADD\s+CONSTRAINT\s+({IDENT})\s+(.*)$", a, re.I)
            if r:
                out.append(("create", "constraint", schema, table, unquote(r.group(1)),
                            first_columns(r.group(2))))
                continue
            r = re.match(r"ADD\s+(PRIMARY\s+KEY|UNIQUE|FOREIGN\s+KEY|CHECK|EXCLUDE)\b", a, re.I)
            if r:
                out.append(("create", "unnamed-constraint", schema, table, r.group(1), []))
                continue
            r = re.match(rf"ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?({IDENT})", a, re.I)
            if r:
                out.append(("create", "column", schema, table, unquote(r.group(1)), []))
                continue
            r = re.match(rf"DROP\s+CONSTRAINT\s+(?:IF\s+EXISTS\s+)?({IDENT})", a, re.I)
            if r:
                out.append(("drop", "constraint", schema, table, unquote(r.group(1)), []))
                continue
            r = re.match(rf"DROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?({IDENT})", a, re.I)
            if r and unquote(r.group(1)) not in ("not", "default", "expression", "identity"):
                out.append(("drop", "column", schema, table, unquote(r.group(1)), []))
                continue
            r = re.match(rf"RENAME\s+CONSTRAINT\s+({IDENT})\s+TO\s+({IDENT})", a, re.I)
            if r:
                out.append(("rename", "constraint", schema, table, unquote(r.group(1)),
                            unquote(r.group(2))))
                continue
            r = re.match(rf"RENAME\s+TO\s+({IDENT})", a, re.I)
            if r:
                out.append(("rename", "table", schema, table, table, unquote(r.group(1))))
                continue
            r = re.match(rf"RENAME\s+(?:COLUMN\s+)?({IDENT})\s+TO\s+({IDENT})", a, re.I)
            if r:
                out.append(("rename", "column", schema, table, unquote(r.group(1)),
                            unquote(r.group(2))))
                continue
            r = re.match(rf"SET\s+SCHEMA\s+({IDENT})", a, re.I)
            if r:
                out.append(("set_schema", "table", schema, table, table, unquote(r.group(1))))
    return out


class History:
    """The textual replay of the sqlmigrate outputs: the last word on each name."""

    def __init__(self):
        self.status = {}  # key -> (alive, migration)
        self.on = {}      # index / constraint key -> (table, columns)

    @staticmethod
    def key(kind, table, name):
        return (kind, name) if kind in ("index", "constraint", "table") else (kind, table, name)

    def apply(self, migration, evs):
        for action, kind, _schema, table, name, extra in evs:
            if kind in ("scratch", "unnamed-constraint", "view", "sequence"):
                continue
            k = self.key(kind, table, name)
            if action == "create":
                self.status[k] = (True, migration)
                if kind in ("index", "constraint"):
                    self.on[k] = (table, extra)
            elif action == "drop":
                self.status[k] = (False, migration)
                if kind == "table":
                    for ck, (t, _) in list(self.on.items()):
                        if t == name:
                            self.status[ck] = (False, migration)
                    for sk in list(self.status):
                        if sk[0] == "column" and sk[1] == name:
                            self.status[sk] = (False, migration)
                elif kind == "column":
                    for ck, (t, cols) in list(self.on.items()):
                        if t == table and name in cols:
                            self.status[ck] = (False, migration)
            elif action == "rename":
                self.status[k] = (False, migration)
                self.status[self.key(kind, table, extra)] = (True, migration)
                if kind == "table":
                    for ck, (t, cols) in list(self.on.items()):
                        if t == name:
                            self.on[ck] = (extra, cols)
                    for sk in list(self.status):
                        if sk[0] == "column" and sk[1] == name:
                            self.status[(sk[0], extra, sk[2])] = self.status.pop(sk)
                elif kind in ("index", "constraint"):
                    if k in self.on:
                        self.on[self.key(kind, table, extra)] = self.on.pop(k)
                elif kind == "column":
                    for ck, (t, cols) in list(self.on.items()):
                        if t == table:
                            self.on[ck] = (t, [extra if c == name else c for c in cols])

    def removed_by(self, kind, table, name):
        s = self.status.get(self.key(kind, table, name))
        return s[1] if s and not s[0] else None


def investigate(dbautopsy, folder, store, fmt):
    r = subprocess.run([dbautopsy, "investigate", str(folder), "--store", str(store), "--format",
                        fmt, "--fail-on", "never"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"investigate {folder} --format {fmt}: exit {r.returncode}\n{r.stderr}")
    return r.stdout


def check_variant(dbautopsy, case, folder, tmp, label, failures, scratch_seen):
    store = Path(tmp) / f"{label}.db"
    report = json.loads(investigate(dbautopsy, folder, store, "json"))
    script = investigate(dbautopsy, folder, Path(tmp) / f"{label}-sql.db", "sql")
    repairs = []
    for f in report["findings"]:
        if f.get("repair"):
            repairs.append((f"{f['id']} {f['rule']}", f["repair"], f))
    for c in report["causes"]:
        if c.get("repair"):
            repairs.append((f"{c['id']} cause {c['kind']}", c["repair"], None))
    repairs.append(("--format sql script", script, None))

    db = sqlite3.connect(str(store))
    expected = set()
    tables = set()
    for kind, schema, table, name in db.execute(
            "SELECT kind, schema_name, table_name, name FROM expected_object"):
        expected.add((kind, table, name))
        if kind == "table":
            tables.add((schema, name))
    order = [(app, name) for app, name in db.execute(
        "SELECT app, name FROM recorded_migration ORDER BY position")]
    db.close()

    history = History()
    for app, name in order:
        f = case / "sqlmigrate" / app / f"{name}.sql"
        if f.is_file():
            history.apply(f"{app}.{name}", events(f.read_text(encoding="utf-8", errors="replace")))

    where = f"{case.name} [{label}]"
    counts = {"statements": 0}
    for origin, text, finding in repairs:
        if finding and finding["rule"] == "drift.not-removed":
            if OPT_IN not in text:
                failures.append(f"{where} {origin}: the DROP is not behind '{OPT_IN}'")
            if strip_comments(text).strip():
                failures.append(f"{where} {origin}: executable statement in a not-removed repair: "
                                f"{strip_comments(text).strip()}")
        scratch = set()
        for action, kind, schema, table, name, extra in events(text):
            counts["statements"] += 1
            if kind == "scratch":
                scratch.add(table)
                scratch_seen.add(f"{case.name}: {table}")
                continue
            if action == "drop":
                failures.append(f"{where} {origin}: executable DROP {kind} {name}")
                continue
            if table in scratch:
                continue  # constraints of the scratch copy itself
            if action == "create":
                created = [(kind, table, name)]
            elif action == "rename":
                created = [(kind, table if kind != "table" else extra, extra)]
            else:  # set_schema
                if (extra, table) not in tables:
                    failures.append(f"{where} {origin}: moves table {table} to schema {extra}, "
                                    f"where the replayed history does not put it")
                created = [("table", table, table)]
            for k, t, n in created:
                if k == "unnamed-constraint":
                    failures.append(f"{where} {origin}: adds an unnamed {n} on {t}: "
                                    f"nothing to check it against")
                    continue
                ok = (k, t, n) in expected or (k == "index" and any(
                    e[0] == "index" and e[2] == n for e in expected))
                if not ok:
                    failures.append(f"{where} {origin}: creates {k} {t}.{n}, which the replayed "
                                    f"history does not end with")
                by = history.removed_by(k, t, n)
                if by:
                    failures.append(f"{where} {origin}: creates {k} {t}.{n}, which {by} removes "
                                    f"(its sqlmigrate output says so)")
    return len(repairs), counts["statements"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--cases", required=True, help="fixtures/cases")
    ap.add_argument("names", nargs="*", help="cases to check (default: every case folder)")
    args = ap.parse_args()

    cases_root = Path(args.cases)
    names = args.names or sorted(p.name for p in cases_root.iterdir()
                                 if p.is_dir() and (p / "expected.json").is_file())
    failures = []
    scratch = set()
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            case = cases_root / name
            variants = [("as given", case)]
            if (case / "sqlmigrate").is_dir() and (case / "migrations").is_dir():
                copy = Path(tmp) / f"{name}-py"
                shutil.copytree(case, copy, ignore=shutil.ignore_patterns("sqlmigrate",
                                                                          ".dbautopsy"))
                variants.append(("py only", copy))
            for label, folder in variants:
                before = len(failures)
                n, checked = check_variant(args.dbautopsy, case, folder, tmp,
                                           f"{name}-{label.replace(' ', '-')}", failures, scratch)
                print(f"{name:<32} {label:<9} {n:>3} repairs, {checked:>3} statements that create, "
                      f"rename or drop: {'ok' if len(failures) == before else 'UNSAFE'}")
    for s in sorted(scratch):
        print("scratch copy (allowed):", s)
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
