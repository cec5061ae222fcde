#!/usr/bin/env python3
"""`--log-format FILE` on `ingest` and `investigate`, written every way a user may write it.

The log is fixtures/logs/app/custom.log (real Python logging output in a layout no built-in
reader knows) and its format file custom.format.json. Checks: the option as a path relative
to the current folder, as an absolute path, in the `--log-format=FILE` form, repeated with a
second file, and on `investigate` (the case folder's other log still read by the built-in
reader); without the option the file is of no kind; a changed format file reads the log again;
`--as app-log-user` without a format, a missing file, a file that is not JSON and a pattern
RE2 rejects are errors naming the file (exit status 2).
"""
import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path


def run(cmd, cwd):
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def artifacts(store):
    db = sqlite3.connect(store)
    rows = db.execute(
        "SELECT a.path, a.kind, a.status, (SELECT count(*) FROM log_event e WHERE "
        "e.artifact_id = a.id) FROM artifact a ORDER BY a.path").fetchall()
    db.close()
    return {Path(r[0]).name: r[1:] for r in rows}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    app = Path(args.fixtures) / "logs" / "app"
    expected = json.loads((app / "expected_app.json").read_text(encoding="utf-8"))
    events = expected["custom.log"]["events"]
    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        case = tmp / "case"
        case.mkdir()
        shutil.copy(app / "custom.log", case / "custom.log")
        shutil.copy(app / "python_default.log", case / "python_default.log")
        formats = tmp / "formats"
        formats.mkdir()
        shutil.copy(app / "custom.format.json", formats / "custom.format.json")
        fmt_abs = str(formats / "custom.format.json")

        forms = {
            "relative": (["--log-format", "formats/custom.format.json"], tmp),
            "relative ./": (["--log-format", "./custom.format.json"], formats),
            "relative ..": (["--log-format", "../formats/custom.format.json"], case),
            "absolute": (["--log-format", fmt_abs], Path("/")),
            "--log-format=FILE": (["--log-format=" + fmt_abs], tmp),
            "--log-format=relative": (["--log-format=formats/custom.format.json"], tmp),
        }
        for name, (option, cwd) in forms.items():
            store = tmp / f"store-{len(name)}-{abs(hash(name))}.db"
            r = run([args.dbautopsy, "ingest", "--store", str(store), *option,
                     str(case / "custom.log")], cwd)
            got = artifacts(store) if store.exists() else {}
            check(r.returncode == 0 and got.get("custom.log") == ("app-log-user", "ok", events),
                  f"ingest {name}: custom.log read as app-log-user with {events} entries "
                  f"(exit {r.returncode}, {got.get('custom.log')}) {r.stderr.strip()}")

        # Without the option: of no kind.
        store = tmp / "none.db"
        r = run([args.dbautopsy, "ingest", "--store", str(store), str(case / "custom.log")], tmp)
        got = artifacts(store)
        check(got.get("custom.log", ("",))[0] == "unknown",
              f"ingest without --log-format: custom.log is of no kind ({got.get('custom.log')})")

        # Twice, and the format file repeated: the same facts.
        store = tmp / "twice.db"
        r = run([args.dbautopsy, "ingest", "--store", str(store), "--log-format", fmt_abs,
                 "--log-format", fmt_abs, str(case / "custom.log")], tmp)
        check(r.returncode == 0 and artifacts(store).get("custom.log") ==
              ("app-log-user", "ok", events), "ingest with --log-format given twice")

        # A changed format file reads the log again (the artifact's read options differ).
        store = tmp / "changed.db"
        run([args.dbautopsy, "ingest", "--store", str(store), "--log-format", fmt_abs,
             str(case / "custom.log")], tmp)
        r = run([args.dbautopsy, "ingest", "--store", str(store), "--log-format", fmt_abs,
                 str(case / "custom.log")], tmp)
        check("unchanged" in r.stdout, "the same format again: the log is unchanged")
        changed = json.loads((formats / "custom.format.json").read_text())
        changed["multiline"] = False
        other = formats / "changed.format.json"
        other.write_text(json.dumps(changed))
        r = run([args.dbautopsy, "ingest", "--store", str(store), "--log-format", str(other),
                 str(case / "custom.log")], tmp)
        got = artifacts(store).get("custom.log")
        check("unchanged" not in r.stdout and got is not None and got[0] == "app-log-user",
              f"another format file: the log is read again ({got})")

        # investigate, with the format file outside the case folder.
        store = tmp / "investigate.db"
        r = run([args.dbautopsy, "investigate", "--store", str(store), "--log-format",
                 "formats/custom.format.json", "case"], tmp)
        got = artifacts(store) if store.exists() else {}
        check(r.returncode in (0, 1) and got.get("custom.log") == ("app-log-user", "ok", events)
              and got.get("python_default.log") ==
              ("app-log-python", "ok", expected["python_default.log"]["events"]),
              f"investigate --log-format: both logs read ({got}) {r.stderr.strip()[:300]}")
        r = run([args.dbautopsy, "investigate", "--store", str(tmp / "inv2.db"),
                 "--log-format=" + fmt_abs, str(case)], Path("/"))
        got = artifacts(tmp / "inv2.db") if (tmp / "inv2.db").exists() else {}
        check(got.get("custom.log") == ("app-log-user", "ok", events),
              f"investigate --log-format=ABSOLUTE ({got})")

        # Errors: exit 2, the file named.
        bad_regex = tmp / "bad_regex.json"
        bad_regex.write_text('{"name": "b", "regex": {"main": {"pattern": "^(?P<body>.*$"}}}')
        not_json = tmp / "not_json.json"
        not_json.write_text('{"name": "b",\n "regex": \n')
        cases = {
            "a pattern RE2 rejects": (["--log-format", "bad_regex.json"],
                                      "bad_regex.json: format \"b\", regex \"main\": not a valid "
                                      "RE2 pattern"),
            "a file that is not JSON": (["--log-format=not_json.json"],
                                        "not_json.json:3: not JSON"),
            "a missing file": (["--log-format", "missing.json"],
                               "missing.json: cannot read the log format file"),
        }
        for name, (option, message) in cases.items():
            for command in (["ingest", "--store", str(tmp / "err.db")],
                            ["investigate", "--store", str(tmp / "err2.db")]):
                target = str(case / "custom.log") if command[0] == "ingest" else str(case)
                r = run([args.dbautopsy, *command, *option, target], tmp)
                check(r.returncode == 2 and message in r.stderr,
                      f"{command[0]} with {name}: exit 2 naming the file "
                      f"(exit {r.returncode}: {r.stderr.strip()[:200]})")
        store = tmp / "as.db"
        r = run([args.dbautopsy, "ingest", "--store", str(store), "--as", "app-log-user",
                 str(case / "custom.log")], tmp)
        got = artifacts(store).get("custom.log")
        check(r.returncode != 0 and got is not None and got[1] == "failed" and
              "needs --log-format" in r.stderr,
              f"--as app-log-user without a format: failed, saying why ({got}, "
              f"{r.stderr.strip()[:200]})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
