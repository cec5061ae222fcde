#!/usr/bin/env python3
"""The output contract, exactly (issue 9 section 5), on real fixture cases:

  - `--format json`: every finding carries `metrics` (an object, {} when none) and `repair`
    (null when none), and every input has a `sha256` of 64 hex digits;
  - a directory-format archive's input has a `sha256`: that of the lines "<sha256>  <name>"
    of its files in byte order of names (`cd DIR && LC_ALL=C sha256sum -- * | sha256sum`),
    which changes when one of its files does;
  - `report` on a store that was never analysed says so and exits 2 (never "No findings.");
  - a SQL error in `query` shows SQLite's message, exits 2, and does not point at --help;
  - Markdown escapes names holding `|`, backticks and `*` (from a user rule's findings over a
    real case: the names are the rule's strings, the store is a real investigation), so a
    table row keeps its cells and no emphasis or code span starts inside a name;
  - a compressed migration file (0001_initial.py.gz, 0004_....py.xz) or sqlmigrate output
    (.sql.bz2) is named by its path without the compression suffix: django_drift with some
    of them compressed (by gzip / xz / bzip2) gives django_drift's expected findings;
  - django_migrations as `\\copy` text, `psql -x` output and ;-separated CSV (real psql
    outputs), plain and gzip-compressed, are recognised by content and read in full;
  - a skipped family of checks (input.checks-skipped) fails `--fail-on warning`;
  - a migrations package's `__init__.py` (empty, or a comment) is a skipped input, not a
    failed one: `ingest` of a migrations folder exits 0;
  - plurals: one column changed by hand is "1 column differs from what its migrations
    intend";
  - `--out DIR` writes report.txt, report.md, report.html, report.json, report.sarif and
    repair.sql, the same as each --format, for DIR written any way, and a DIR inside the case
    folder is not read back as evidence;
  - `timeline` lists migrations, log entries and dumps in UTC time order, its log rows count
    every timed log entry, and the store may be named by its case folder.

Usage: check_contract.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import bz2
import gzip
import hashlib
import lzma
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ODD_RULE = """-- id: test.odd-names
-- severity: warning
-- title: names with Markdown characters
-- rationale: test
-- remedy: test
SELECT 'public' AS schema, 'odd|name*with`tick' AS "table",
       'table odd|name*with`tick has *stars* and a | pipe' AS message,
       json_array(json_object('artifact', 'dir|with`tick*', 'line', 3, 'text', 'x|y')) AS evidence
"""

# One column changed by hand (grouped as drift.column-mismatch findings are, by its cause
# key): the cause must read "1 column differs", not "1 column differ".
ONE_COLUMN_RULE = """-- id: test.one-column
-- severity: warning
-- title: one column changed
-- rationale: test
-- remedy: test
SELECT 'public' AS schema, 'teams_team' AS "table", 'name' AS "column",
       'column teams_team.name changed' AS message,
       json_array(json_object('artifact', 'schema.sql', 'line', 1, 'text', 'x')) AS evidence,
       'altered:public.teams_team.name' AS cause_key
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    exe = args.dbautopsy
    fixtures = Path(args.fixtures)
    failures = []

    def check(ok, what):
        if not ok:
            failures.append(what)

    def run(*a):
        return subprocess.run([exe, *a], capture_output=True, text=True)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # JSON: metrics and repair on every finding, sha256 on every input.
        for case in ("django_drift", "league_incident", "input_no_records"):
            r = run("investigate", str(fixtures / "cases" / case), "--store",
                    str(tmp / f"{case}.db"), "--format", "json", "--fail-on", "never")
            check(r.returncode == 0, f"{case}: investigate exit {r.returncode}: {r.stderr}")
            doc = json.loads(r.stdout)
            check(doc["findings"], f"{case}: no findings")
            for f in doc["findings"]:
                check("metrics" in f and isinstance(f["metrics"], dict),
                      f"{case} {f['id']} {f['rule']}: metrics is {f.get('metrics', 'absent')!r}")
                check("repair" in f and (f["repair"] is None or isinstance(f["repair"], str)),
                      f"{case} {f['id']} {f['rule']}: repair is {f.get('repair', 'absent')!r}")
            check(any(f["repair"] is None for f in doc["findings"]) or case != "input_no_records",
                  f"{case}: a finding without repair should carry repair: null")
            for i in doc["inputs"]:
                check(re.fullmatch(r"[0-9a-f]{64}", i.get("sha256") or ""),
                      f"{case} input {i['path']}: sha256 is {i.get('sha256')!r}")

            if case == "django_drift":
                inits = {i["path"]: i["status"] for i in doc["inputs"]
                         if i["path"].endswith("__init__.py")}
                check(inits and set(inits.values()) == {"skipped"},
                      f"{case}: the migrations packages' __init__.py: {inits}, expected skipped")

        # `ingest` of a migrations folder (an empty __init__.py in each package, here one
        # with a comment too) reads every migration and exits 0: a package's __init__.py is
        # skipped, not a failure.
        pkgs = tmp / "pkgs"
        shutil.copytree(fixtures / "cases" / "django_drift" / "migrations", pkgs)
        (pkgs / "teams" / "__init__.py").write_text("# the teams app's migrations\n")
        r = run("ingest", "--store", str(tmp / "pkgs.db"), str(pkgs))
        check(r.returncode == 0, f"ingest of a migrations folder: exit {r.returncode}: {r.stderr}")
        skipped = [line for line in r.stdout.splitlines() if "__init__.py" in line]
        check(len(skipped) == 2 and all(line.split()[0] == "skipped" for line in skipped),
              f"ingest of a migrations folder: its __init__.py files are {skipped}")
        check(re.search(r"(?m)^  ok +django-migration-py .*0021_userprofile_timezone\.py",
                        r.stdout),
              f"ingest of a migrations folder: 0021_userprofile_timezone.py not read: {r.stdout}")

        # A directory archive's sha256, by its definition, and changed by a changed file.
        def dir_sha(folder):
            lines = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n"
                            for p in sorted(folder.iterdir(), key=lambda p: p.name.encode())
                            if p.is_file())
            return hashlib.sha256(lines.encode()).hexdigest()

        archive = tmp / "kitchen_sink.dir"
        shutil.copytree(fixtures / "pgdump" / "kitchen_sink.dir", archive)
        for n, edit in enumerate((None, "toc", "data")):
            if edit == "toc":
                (archive / "toc.dat").write_bytes((archive / "toc.dat").read_bytes() + b"\0")
            elif edit == "data":
                first = sorted(p for p in archive.iterdir() if p.name != "toc.dat")[0]
                first.rename(first.with_name("9" + first.name))
            store = tmp / f"dir{n}.db"
            r = run("ingest", "--store", str(store), str(archive))
            got = json.loads(run("query", "--store", str(store), "--format", "json",
                                 "SELECT sha256 FROM artifact").stdout)
            sha = got[0]["sha256"] if got and isinstance(got[0], dict) else got
            check(sha == dir_sha(archive),
                  f"directory archive ({edit or 'as made'}): sha256 {sha!r}, expected "
                  f"{dir_sha(archive)}")

        # Compressed migration files and sqlmigrate outputs.
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cases"))
        from run_case import key, show  # the case test's own comparison
        case = tmp / "compressed"
        shutil.copytree(fixtures / "cases" / "django_drift", case,
                        ignore=shutil.ignore_patterns(".dbautopsy"))
        expected = json.loads((case / "expected.json").read_text())
        (case / "expected.json").unlink()
        for rel, opener, suffix in (("migrations/teams/0001_initial.py", gzip.open, ".gz"),
                                    ("migrations/teams/0004_add_left_at_field.py", lzma.open, ".xz"),
                                    ("sqlmigrate/teams/0006_repair_teammembership_left_at.sql",
                                     bz2.open, ".bz2")):
            src = case / rel
            with opener(str(src) + suffix, "wb") as out:
                out.write(src.read_bytes())
            src.unlink()
        r = run("investigate", str(case), "--store", str(tmp / "compressed.db"), "--format",
                "json", "--fail-on", "never")
        got = json.loads(r.stdout)
        want = {key(f) for f in expected["findings"]}
        have = {key(f) for f in got["findings"]}
        for k in sorted(want - have):
            check(False, f"compressed migrations: missing {show(k)}")
        for k in sorted(have - want):
            check(False, f"compressed migrations: extra {show(k)}")
        check("cannot tell which migration" not in r.stdout + r.stderr,
              "compressed migrations: a file is not named")

        # The forms customers send django_migrations in, recognised by content (real psql
        # outputs of fixtures/django_inputs: 28 rows each), also gzip-compressed.
        forms = {"django_migrations.copy.txt": "django-migrations-copy",
                 "django_migrations.psql_x.txt": "django-migrations-psql-x",
                 "django_migrations.semicolon.csv": "django-migrations-csv-semicolon"}
        store = tmp / "forms.db"
        paths = []
        for name in forms:
            src = fixtures / "django_inputs" / "records" / name
            paths.append(str(src))
            with gzip.open(tmp / (name + ".gz"), "wb") as out:
                out.write(src.read_bytes())
            paths.append(str(tmp / (name + ".gz")))
        r = run("ingest", "--store", str(store), *paths)
        check(r.returncode == 0, f"ingest of the export forms: exit {r.returncode}: {r.stderr}")
        rows = json.loads(run("query", "--store", str(store), "--format", "json",
                              "SELECT a.path, a.kind, a.status, count(r.name) AS n FROM artifact a "
                              "LEFT JOIN migration_record r ON r.artifact_id = a.id "
                              "GROUP BY a.id").stdout)
        for row in rows:
            name = Path(row["path"]).name.removesuffix(".gz")
            check(row["kind"] == forms.get(name) and row["status"] == "ok" and row["n"] == 28,
                  f"export form {row['path']}: {row}")
        check(len(rows) == 6, f"export forms: {len(rows)} artifacts, expected 6")

        # A skipped family is a warning: --fail-on warning fails, the default does not.
        case = fixtures / "cases" / "input_unreadable_records"
        r = run("investigate", str(case), "--store", str(tmp / "u.db"), "--fail-on", "warning")
        check(r.returncode == 1, f"input_unreadable_records --fail-on warning: exit {r.returncode}")
        check("No findings" not in r.stdout, "input_unreadable_records: 'No findings' printed")
        check("migration checks skipped" in r.stdout,
              f"input_unreadable_records: the text report does not show the skipped family:\n"
              f"{r.stdout}")
        r = run("report", "--store", str(tmp / "u.db"), "--format", "md")
        check("django\\_migrations.csv" in r.stdout or "django_migrations.csv" in r.stdout,
              "input_unreadable_records: the Markdown report does not name the unreadable file")
        # An unreadable file that merely sits in migrations/ is not taken for the export: the
        # export is looked for by the file's own name, not by its folders'.
        copy = tmp / "unreadable_in_migrations"
        shutil.copytree(case, copy)
        (copy / "migrations" / "notes.bin").write_bytes(bytes(range(256)) * 8)
        r = run("investigate", str(copy), "--store", str(tmp / "u2.db"), "--format", "json",
                "--fail-on", "never")
        skipped = [f for f in json.loads(r.stdout)["findings"]
                   if f["rule"] == "input.checks-skipped" and f["subject"]["value"] == "migration"]
        cited = [e["artifact"] for f in skipped for e in f["evidence"]]
        check(cited == ["django_migrations.csv"] and "notes.bin" not in skipped[0]["message"],
              f"unreadable_in_migrations: the skipped migration checks cite {cited}, expected "
              f"only django_migrations.csv")

        # report on a store never analysed.
        store = tmp / "ingested.db"
        r = run("ingest", "--store", str(store), str(fixtures / "cases" / "django_clean" / "schema.sql"))
        check(r.returncode == 0, f"ingest: exit {r.returncode}: {r.stderr}")
        for fmt in ("text", "json", "md"):
            r = run("report", "--store", str(store), "--format", fmt)
            check(r.returncode == 2, f"report --format {fmt} on a store never analysed: exit "
                                     f"{r.returncode}, expected 2")
            check("never analysed" in r.stderr and str(store) in r.stderr,
                  f"report on a store never analysed: stderr {r.stderr!r}")
            check("No findings" not in r.stdout and '"findings"' not in r.stdout,
                  f"report on a store never analysed printed a report: {r.stdout[:200]!r}")
        r = run("analyze", "--store", str(store))
        check(r.returncode == 0, f"analyze: exit {r.returncode}: {r.stderr}")
        r = run("report", "--store", str(store), "--format", "json")
        check(r.returncode == 0, f"report after analyze: exit {r.returncode}: {r.stderr}")

        # query: SQLite's message, no pointer to --help.
        for sql, words in (("SELEC 1", "syntax error"),
                           ("SELECT * FROM no_such_table", "no such table: no_such_table"),
                           ("SELECT nope FROM artifact", "no such column: nope")):
            r = run("query", "--store", str(store), sql)
            check(r.returncode == 2, f"query {sql!r}: exit {r.returncode}, expected 2")
            check(words in r.stderr, f"query {sql!r}: stderr lacks SQLite's {words!r}: {r.stderr!r}")
            check("--help" not in r.stderr, f"query {sql!r}: stderr points at --help: {r.stderr!r}")
        r = run("query", "--store", str(store))
        check(r.returncode == 2 and "--help" in r.stderr,
              f"query without SQL is a usage error pointing at --help: {r.returncode} {r.stderr!r}")

        # Markdown escaping.
        rules = tmp / "rules"
        rules.mkdir()
        (rules / "odd.sql").write_text(ODD_RULE)
        case = tmp / "clean"
        shutil.copytree(fixtures / "cases" / "django_clean", case,
                        ignore=shutil.ignore_patterns(".dbautopsy", "expected.json"))
        r = run("investigate", str(case), "--store", str(tmp / "odd.db"), "--rules-dir",
                str(rules), "--format", "md", "--fail-on", "never")
        check(r.returncode == 0, f"investigate --rules-dir: exit {r.returncode}: {r.stderr}")
        md = r.stdout
        line = next((l for l in md.splitlines() if "`test.odd-names`" in l), "")
        check("odd\\|name\\*with\\`tick" in line,
              f"Markdown: the name is not escaped in {line!r}")
        check("\\*stars\\*" in line and "a \\| pipe" in line,
              f"Markdown: the message is not escaped in {line!r}")
        ev = md.splitlines()[md.splitlines().index(line) + 1] if line else ""
        check("dir\\|with\\`tick\\*:3" in ev and "x\\|y" in ev,
              f"Markdown: the evidence is not escaped in {ev!r}")
        # Plurals: one column changed by hand.
        (rules / "odd.sql").unlink()
        (rules / "one.sql").write_text(ONE_COLUMN_RULE)
        r = run("investigate", str(case), "--store", str(tmp / "one.db"), "--rules-dir",
                str(rules), "--format", "json", "--fail-on", "never")
        summaries = [c["summary"] for c in json.loads(r.stdout)["causes"]]
        check(summaries == ["1 column differs from what its migrations intend"],
              f"plural: the causes read {summaries}")
        for row in (l for l in md.splitlines() if l.startswith("| ")):
            cells = re.split(r"(?<!\\)\|", row)
            check(len(cells) == 5, f"Markdown: inputs row with {len(cells) - 2} cells: {row!r}")

        # --out: every report at once, the same as each --format prints; written the ways a
        # user writes a folder (relative, --out=, inside the case folder); a folder inside
        # the case is not read back as evidence on the next run.
        case = tmp / "league_out"
        shutil.copytree(fixtures / "cases" / "league_incident", case)
        names = ["report.txt", "report.md", "report.html", "report.json", "report.sarif",
                 "repair.sql"]
        for form in (["--out", str(tmp / "out1")], [f"--out={tmp / 'out2'}"],
                     ["--out", "league_out/report"], ["--out", "league_out/report"]):
            r = subprocess.run([exe, "investigate", "league_out", "--fail-on", "never",
                                "--format", "json", *form], capture_output=True, text=True,
                               cwd=tmp)
            check(r.returncode == 0, f"--out {form}: exit {r.returncode}: {r.stderr}")
            folder = Path(form[-1].split("=", 1)[-1])
            folder = folder if folder.is_absolute() else tmp / folder
            for name in names:
                check((folder / name).is_file(), f"--out {form}: no {name}")
            if (folder / "report.json").is_file():
                written = json.loads((folder / "report.json").read_text())
                check(written["findings"] == json.loads(r.stdout)["findings"],
                      f"--out {form}: report.json differs from --format json")
                check(not any(i["path"].startswith("report/") for i in written["inputs"]),
                      f"--out {form}: the reports of an earlier run were read as inputs")
            if (folder / "report.sarif").is_file():
                sarif = json.loads((folder / "report.sarif").read_text())
                check(sarif["version"] == "2.1.0" and
                      len(sarif["runs"][0]["results"]) == len(json.loads(r.stdout)["findings"]),
                      f"--out {form}: report.sarif does not hold every finding")
            for name, fmt in (("repair.sql", "sql"), ("report.md", "md"), ("report.html", "html")):
                p = subprocess.run([exe, "report", "--store",
                                    str(case / ".dbautopsy" / "facts.db"), "--format", fmt,
                                    "--fail-on", "never"], capture_output=True, text=True)
                if (folder / name).is_file() and form[-1].startswith("league_out"):
                    # the same but for the title (the case folder, or the store for `report`)
                    # (and the notes of the investigation, which the HTML report shows and
                    # `report` does not know)
                    def body(t):
                        t = re.sub(r"<h3>Notes</h3>\n<ul>\n.*?</ul>\n", "", t, flags=re.S)
                        return [l for l in t.splitlines() if "league" not in l]
                    check(body((folder / name).read_text()) == body(p.stdout),
                          f"--out {form}: {name} differs from report --format {fmt}")
        r = run("investigate", str(case), "--out", str(case / "before.sql.gz"))
        check(r.returncode == 2 and "never writes over its inputs" in r.stderr,
              f"--out onto an input: exit {r.returncode}: {r.stderr}")

        # timeline: the migrations recorded, the log entries per template and hour, the dump;
        # the store named by path or by its case folder, one kind at a time.
        case = tmp / "drift_timeline"
        shutil.copytree(fixtures / "cases" / "django_drift", case)
        r = run("investigate", str(case), "--fail-on", "never")
        check(r.returncode == 0, f"timeline: investigate exit {r.returncode}: {r.stderr}")
        rows = json.loads(run("timeline", "--store", str(case), "--format", "json").stdout)
        store = str(case / ".dbautopsy" / "facts.db")
        same = json.loads(run("timeline", "--store", store, "--format", "json").stdout)
        check(rows == same, "timeline: --store DIR and --store DIR/.dbautopsy/facts.db differ")
        kinds = {row["kind"] for row in rows}
        check(kinds == {"migration", "log", "dump"}, f"timeline: kinds {sorted(kinds)}")
        check(all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row["ts"])
                  for row in rows), "timeline: a time that is not UTC ISO 8601")
        check([row["ts"] for row in rows] == sorted(row["ts"] for row in rows),
              "timeline: not in time order")
        with_ts = json.loads(run("query", "--store", store, "--format", "json",
                                 "SELECT count(*) AS n FROM log_event WHERE ts IS NOT NULL"
                                 ).stdout)[0]["n"]
        check(sum(row["count"] for row in rows if row["kind"] == "log") == with_ts,
              "timeline: the log rows do not count every log entry")
        logs = json.loads(run("timeline", "--store", store, "--kind", "log", "--format",
                              "json").stdout)
        check(logs == [row for row in rows if row["kind"] == "log"], "timeline --kind log")
        r = run("timeline", "--store", store, "--kind", "bogus")
        check(r.returncode == 2, f"timeline --kind bogus: exit {r.returncode}")

    for f in failures:
        print("FAIL:", f)
    print(f"check_contract: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
