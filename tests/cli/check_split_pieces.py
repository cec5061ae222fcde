#!/usr/bin/env python3
"""A dump handed over in pieces (coreutils split, 7-Zip's .001) is one dump.

fixtures/split_pieces/ (fixtures/generate/split_pieces.sh) holds real dumps of fixture cases
cut by `split` in every form it writes (-l, -b, -n 4, -d with and without a prefix,
--additional-suffix, pieces of a gzip and of a zstd file, .001 numbers, a pg_dump custom
archive), and the ways pieces go
wrong. forms.tsv lists them. For each good form, the pieces replace the dump in a copy of its
case, and:

  - `investigate DIR` gives the original case's findings (rule, severity, subject, cause and
    message, the artifact's name read as the dump's), with one artifact for the pieces, shown
    as forms.tsv says (full.sql.aa..af), read in full as its kind, whose SHA-256 is that of
    the pieces joined (the file they were cut from), with a notice that names every piece and
    its own SHA-256, and no artifact of a piece alone;
  - for some forms, the same through `investigate` given every file on the command line in
    reverse order, through `ingest` then `analyze` and `report`, and through `batch`;

and the wrong ones are said: a piece missing in the middle (missing-piece, naming it and the
pieces not read), a plain dump's last piece missing (truncated-piece, naming the last piece
read), a gzip file's last piece missing (the stream ends inside the last piece, named), and two
whole dumps named like pieces, or two dumps without their comments named by day (shop-01.sql,
shop-02.sql), stay two artifacts, each read in full.

Before, the first piece was read as a truncated dump and the others as files of no kind.

Usage: check_split_pieces.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import csv
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

KEYS = ["rule", "severity", "subject", "cause", "message"]


def findings_of(report, rename=None):
    out = []
    for f in report["findings"]:
        text = json.dumps({k: f.get(k) for k in KEYS}, sort_keys=True)
        if rename:
            text = text.replace(rename[0], rename[1])
        out.append(text)
    return sorted(out)


def query(exe, store, sql):
    q = subprocess.run([exe, "query", "--store", str(store), "--format", "json", sql],
                       check=True, capture_output=True, text=True)
    return json.loads(q.stdout)


def investigate(exe, args, work, cwd=None):
    """Runs investigate; returns (exit code, report, store) or raises with its stderr."""
    store = work / "facts.db"
    out = work / "report"
    r = subprocess.run([exe, "investigate", *args, "--store", str(store), "--out", str(out)],
                       capture_output=True, text=True, cwd=cwd)
    if r.returncode not in (0, 1, 2) or not (out / "report.json").exists():
        raise RuntimeError(f"investigate exit {r.returncode}: {r.stderr.strip()[-600:]}")
    return r.returncode, json.loads((out / "report.json").read_text(encoding="utf-8")), store


def sha256_joined(files):
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True, type=Path)
    a = ap.parse_args()
    exe = str(Path(a.dbautopsy).resolve())
    forms_dir = a.fixtures / "split_pieces"
    with open(forms_dir / "forms.tsv", newline="", encoding="utf-8") as f:
        forms = list(csv.DictReader(f, delimiter="\t"))
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        originals = {}

        def original(case):
            if case not in originals:
                copy = tmp / f"original-{case}"
                shutil.copytree(a.fixtures / "cases" / case, copy,
                                ignore=shutil.ignore_patterns(".dbautopsy", "*expected.json"))
                (tmp / f"work-original-{case}").mkdir()
                _, report, _ = investigate(exe, [str(copy)], tmp / f"work-original-{case}")
                originals[case] = report
            return originals[case]

        def edited(form):
            name = form["form"]
            folder = tmp / f"edited-{name}"
            if form["replaces"] == "*":  # the case packed: the pieces alone
                folder.mkdir()
            else:
                shutil.copytree(a.fixtures / "cases" / form["case"], folder,
                                ignore=shutil.ignore_patterns(".dbautopsy", "*expected.json",
                                                              form["replaces"]))
            shutil.copytree(forms_dir / name, folder, dirs_exist_ok=True)
            return folder

        def check_artifact(name, form, store, pieces, exit_code):
            shown = form["artifact"]
            arts = {x["path"]: x for x in query(exe, store, "SELECT path, kind, status, sha256 "
                                                           "FROM artifact")}
            art = arts.get(shown)
            if not art:
                failures.append(f"{name}: no artifact {shown}; artifacts {sorted(arts)}")
                return
            for p in pieces:
                if p.name in arts:
                    failures.append(f"{name}: the piece {p.name} is an artifact of its own")
            if (art["kind"], art["status"]) != (form["kind"], "ok"):
                failures.append(f"{name}: {shown} read as {art['kind']}, {art['status']}")
            want_sha = sha256_joined(pieces)
            if form["source"]:
                source_sha = hashlib.sha256(
                    (a.fixtures / "cases" / form["source"]).read_bytes()).hexdigest()
                if source_sha != want_sha:
                    failures.append(f"{name}: the pieces joined are not {form['source']}")
            if art["sha256"] != want_sha:
                failures.append(f"{name}: sha256 {art['sha256']}, not that of the pieces joined "
                                f"{want_sha}")
            notes = query(exe, store, "SELECT p.severity, p.code, p.message FROM problem p JOIN "
                                      "artifact a ON a.id = p.artifact_id WHERE a.path = "
                                      f"'{shown}'")
            bad = [n for n in notes if n["severity"] in ("error", "warning")]
            if bad:
                failures.append(f"{name}: errors or warnings about {shown}: {bad[:2]}")
            notice = [n["message"] for n in notes if n["code"] == "pieces"]
            if len(notice) != 1:
                failures.append(f"{name}: no notice of the pieces: {notes[:3]}")
            else:
                for p in pieces:
                    own = hashlib.sha256(p.read_bytes()).hexdigest()
                    if f"{p.name} (" not in notice[0] or own not in notice[0]:
                        failures.append(f"{name}: the notice does not name {p.name} with its "
                                        f"SHA-256: {notice[0][:300]}")
            if form["kind"] == "bundle":
                members = [p for p in arts if p.startswith(shown + "/")]
                if len(members) < 4 or any(arts[p]["status"] != "ok" for p in members):
                    failures.append(f"{name}: the members of {shown}: {members}")
            if exit_code == 2:
                failures.append(f"{name}: exit 2 (an input not read in full)")

        for form in forms:
            name = form["form"]
            pieces = sorted((forms_dir / name).iterdir(), key=lambda p: p.name.encode())
            work = tmp / f"work-{name}"
            work.mkdir()
            folder = edited(form)
            try:
                code, report, store = investigate(exe, [str(folder)], work)
            except RuntimeError as e:
                failures.append(f"{name}: {e}")
                continue
            if form["expect"] == "ok":
                want = findings_of(original(form["case"]))
                # The members of a packed case are shown as <artifact>/<member>.
                rename = ((form["artifact"] + "/", "") if form["replaces"] == "*" else
                          (form["artifact"], form["replaces"]))
                got = findings_of(report, rename)
                if len(want) < 3 or got != want:
                    lost = [f for f in want if f not in got]
                    new = [f for f in got if f not in want]
                    failures.append(f"{name}: findings differ ({len(lost)} lost, {len(new)} new) "
                                    f"lost {[x[:300] for x in lost[:2]]}, new "
                                    f"{[x[:300] for x in new[:2]]}")
                check_artifact(name, form, store, pieces, code)
                print(f"{name} ({form['case']}, {form['artifact']}): {len(got)} findings")
                continue
            arts = {x["path"]: x for x in query(exe, store, "SELECT path, kind, status FROM "
                                                           "artifact")}
            problems = query(exe, store, "SELECT a.path, p.severity, p.code, p.message FROM "
                                         "problem p JOIN artifact a ON a.id = p.artifact_id "
                                         "WHERE p.severity = 'error'")
            if form["expect"] == "two":
                joined = [p for p in arts if ".." in p]
                for p in pieces:
                    if (arts.get(p.name) or {}).get("status") != "ok" or \
                            arts[p.name]["kind"] != "pgdump-sql":
                        failures.append(f"{name}: {p.name} not read in full as a dump of its "
                                        f"own: {arts.get(p.name)}")
                if joined:
                    failures.append(f"{name}: two whole dumps joined as {joined}")
                print(f"{name}: {', '.join(p.name for p in pieces)} read as two dumps")
                continue
            shown = form["artifact"]
            art = arts.get(shown)
            if not art or art["status"] != "partial" or code != 2:
                failures.append(f"{name}: {shown} is {art and art['status']} (exit {code}), not "
                                f"partial; artifacts {sorted(arts)}")
            mine = [p for p in problems if p["path"] == shown and p["code"] == form["expect"]]
            if not mine:
                failures.append(f"{name}: no {form['expect']} error about {shown}: "
                                f"{[p for p in problems if p['path'] == shown][:2]}")
                continue
            message = mine[0]["message"]
            if name == "missing_middle":
                named = ["full.sql.ab", "full.sql.aa", "full.sql.ac", "full.sql.af"]
            else:
                named = [pieces[-1].name]  # the last piece there is
            for n in named:
                if n not in message:
                    failures.append(f"{name}: the error does not name {n}: {message}")
            print(f"{name}: {shown} partial: {message[:160]}")

        # The same pieces given on the command line in reverse order, through ingest, analyze
        # and report, and through batch.
        by_name = {f["form"]: f for f in forms}
        for name in ("bytes", "gzip_parts"):
            form = by_name[name]
            folder = tmp / f"edited-{name}"
            work = tmp / f"work-{name}-args"
            work.mkdir()
            files = sorted((p.name for p in folder.iterdir() if p.name != ".dbautopsy"),
                           reverse=True)
            try:
                code, report, store = investigate(exe, files, work, cwd=folder)
            except RuntimeError as e:
                failures.append(f"{name} (files given): {e}")
                continue
            if findings_of(report, (form["artifact"], form["replaces"])) != \
                    findings_of(original(form["case"])):
                failures.append(f"{name}: given file by file in reverse order, other findings")
            check_artifact(f"{name} (files given)", form, store,
                           sorted((forms_dir / name).iterdir(), key=lambda p: p.name.encode()),
                           code)
        form = by_name["numeric"]
        store = tmp / "ingest.db"
        r = subprocess.run([exe, "ingest", "--store", str(store), str(tmp / "edited-numeric")],
                           capture_output=True, text=True)
        if r.returncode != 0:
            failures.append(f"ingest: exit {r.returncode}: {r.stderr[-400:]}")
        subprocess.run([exe, "analyze", "--store", str(store)], capture_output=True)
        r = subprocess.run([exe, "report", "--store", str(store), "--format", "json"],
                           capture_output=True, text=True)
        shown = str(tmp / "edited-numeric" / form["artifact"])
        try:
            got = findings_of(json.loads(r.stdout), (shown, form["replaces"]))
            got = [g.replace(str(tmp / "edited-numeric") + "/", "") for g in got]
            if sorted(got) != findings_of(original(form["case"])):
                failures.append("numeric: ingest, analyze and report give other findings")
            if shown not in [i["path"] for i in json.loads(r.stdout)["inputs"]]:
                failures.append(f"numeric: ingest: no input {shown}")
        except json.JSONDecodeError:
            failures.append(f"report: {r.stderr[-400:]}")
        cases = tmp / "batch"
        cases.mkdir()
        for name in ("lines", "zstd", "seven_zip_numbers"):
            shutil.copytree(tmp / f"edited-{name}", cases / name,
                            ignore=shutil.ignore_patterns(".dbautopsy"))
        r = subprocess.run([exe, "batch", str(cases), "--out", str(tmp / "batch-out"), "-j", "1",
                            "-q"], capture_output=True, text=True)
        for name in ("lines", "zstd", "seven_zip_numbers"):
            form = by_name[name]
            path = tmp / "batch-out" / name / "report.json"
            if not path.exists():
                failures.append(f"batch: no report for {name}: {r.stderr[-400:]}")
                continue
            report = json.loads(path.read_text(encoding="utf-8"))
            if findings_of(report, (form["artifact"], form["replaces"])) != \
                    findings_of(original(form["case"])):
                failures.append(f"batch: {name}: other findings")
            if form["artifact"] not in [i["path"] for i in report["inputs"]]:
                failures.append(f"batch: {name}: no input {form['artifact']}")
        print("files given in reverse order, ingest/analyze/report, batch: done")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
