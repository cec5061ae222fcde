#!/usr/bin/env python3
"""`dbautopsy batch` and `batch-merge` over copies of real fixture cases.

A cases folder is made in a temporary folder from copies of fixture cases (copied, never
linked): django_drift, league_incident, django_clean, input_schema_only, the league incident
again under a name full of HTML and shell metacharacters (so every finding of the league
incident recurs across two cases), input_no_records under a name holding a control character
and under one starting with '-', and a bad case: the league incident with its "after" dump
(a real gzip'd pg_dump) cut in the middle. The checks:

  - first run: every case in index.json, sorted; the bad case is "input-error" with exit 2 and
    its stderr tail naming the damaged file, the others "done"; each case's counts by rule are
    those of its fixture's expected.json (the truth the case tests check), by severity those of
    its report.json; the recurring findings are exactly the (rule, object) pairs two cases share,
    computed here from their report.json; batch exits 2;
  - index.html: self-contained (no script, no URL with a scheme, no external resource), every
    link resolves to a file, the odd names are escaped (no raw `<`, the control character shown
    as \\x07) and read back equal after unescaping;
  - re-run: nothing runs (timings.json), reports untouched (mtime), index.json and index.html
    byte-identical; one changed input file re-runs that case only; --force re-runs all;
  - three shards run as separate processes by GNU parallel, then batch-merge: the merged
    index.json and index.html are byte-identical to the single run's; the shards are disjoint
    and cover every case; a case in two shard outputs is an error naming both;
  - the case list and shards are the same for the cases folder written relative, absolute,
    with a trailing slash, as ./x, through a symlink, from another working folder, and for a
    copy of the folder elsewhere (the name decides, not the path);
  - usage errors (exit 2, message naming the problem): --shard N/N (1-based, with the Slurm
    hint), malformed --shard, two cases of one name in two folders, --out inside the cases,
    --out a folder of other files, options after `--` that batch sets itself;
  - a case whose child hangs (stopped from outside with SIGSTOP) is killed at --timeout and
    recorded "timeout"; a case whose child is killed by SIGSEGV from outside is recorded
    "crashed" (SIGSEGV); the third case of that run is "done"; a re-run runs the two again
    (and they complete) but not the finished one.

Usage: check_batch.py --dbautopsy PATH --fixtures DIR
Exits 1 when a check fails, listing every failure.
"""
import argparse
import collections
import hashlib
import html.parser
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ODD = "league <copy> \"q\" & 'x'"
CTRL = "ctl\x07name"
DASH = "-dash"


class Checks:
    def __init__(self):
        self.failures = []
        self.current = ""

    def check(self, ok, what):
        if not ok:
            self.failures.append(f"{self.current}: {what}")
        return ok


def run(exe, args, cwd, timeout=1200):
    return subprocess.run([exe] + args, cwd=cwd, capture_output=True, text=True,
                          errors="replace", timeout=timeout)


def copy_case(fixtures, name, dest):
    shutil.copytree(fixtures / "cases" / name, dest, symlinks=False,
                    ignore=shutil.ignore_patterns(".dbautopsy"))


def make_cases(fixtures, cases):
    cases.mkdir()
    for name in ["django_drift", "league_incident", "django_clean", "input_schema_only"]:
        copy_case(fixtures, name, cases / name)
    copy_case(fixtures, "league_incident", cases / ODD)
    copy_case(fixtures, "input_no_records", cases / CTRL)
    copy_case(fixtures, "input_no_records", cases / DASH)
    # The bad case: the real "after" dump cut in the middle of its gzip stream.
    copy_case(fixtures, "league_incident", cases / "bad_truncated_gzip")
    dump = cases / "bad_truncated_gzip" / "after.sql.gz"
    data = dump.read_bytes()
    dump.write_bytes(data[: len(data) // 2])
    (cases / ".hidden").mkdir()  # not a case
    (cases / "stray.txt").write_text("not a case: a file\n")


def load(path):
    return json.loads(Path(path).read_text())


def expected_rules(fixtures, name):
    exp = load(fixtures / "cases" / name / "expected.json")
    return dict(collections.Counter(f["rule"] for f in exp["findings"]))


def object_of(subject):
    parts = [subject[k] for k in ("schema", "table", "column", "index", "constraint")
             if subject.get(k) is not None]
    name = ".".join(str(p) for p in parts)
    if not name:
        name = subject.get("migration") or ""
    if not name and subject.get("value") is not None:
        v = subject["value"]
        name = v if isinstance(v, str) else json.dumps(v)
    db = subject.get("database")
    return f"{db}:{name}" if db else name


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []
        self.links = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "a":
            self.links.append(dict(attrs).get("href", ""))

    def handle_data(self, data):
        self.text.append(data)


def check_html(c, out, index):
    raw = (out / "index.html").read_text()
    page = Page()
    page.feed(raw)
    tags = {t for t, _ in page.tags}
    c.check("script" not in tags, "index.html has a <script>")
    c.check(not ({"link", "img", "iframe", "object", "embed"} & tags),
            f"index.html loads an external resource: {tags}")
    c.check(not re.search(r"(?i)\b(src|href)\s*=\s*\"?[a-z][a-z0-9+.-]*:", raw),
            "index.html has a URL with a scheme")
    c.check("@import" not in raw and "url(" not in raw, "index.html's CSS loads something")
    for href in page.links:
        if href.startswith("#"):
            anchor = href[1:]
            c.check(any(a.get("id") == anchor for _, a in page.tags),
                    f"link {href!r} names no element")
            continue
        from urllib.parse import unquote
        target = out / unquote(href)
        c.check(target.is_file(), f"link {href!r} resolves to no file")
    c.check("<copy>" not in raw, "the odd case name is not escaped in index.html")
    c.check("\x07" not in raw, "a control character went into index.html raw")
    c.check("ctl\\x07name" in raw, "the control character is not shown as \\x07")
    text = "".join(page.text)
    c.check(ODD in text, "the odd case name does not read back from index.html")
    for case in index["cases"]:
        if case["report"]:
            c.check(any(href.endswith(case["report"].split("/")[-1]) for href in page.links),
                    f"no link to {case['name']}'s report")


def check_first_run(c, fixtures, out, r, names):
    c.current = "first run"
    c.check(r.returncode == 2, f"exit {r.returncode} (want 2: one case did not read in full)\n"
            f"{r.stderr[-2000:]}")
    index = load(out / "index.json")
    got = [x["name"] for x in index["cases"]]
    c.check(got == sorted(names), f"cases {got}, want {sorted(names)}")
    by = {x["name"]: x for x in index["cases"]}
    truth = {"django_drift": "django_drift", "league_incident": "league_incident",
             "django_clean": "django_clean", "input_schema_only": "input_schema_only",
             ODD: "league_incident", CTRL: "input_no_records", DASH: "input_no_records"}
    for name, fixture in truth.items():
        x = by.get(name)
        if not c.check(x is not None, f"{name!r} missing"):
            continue
        c.check(x["status"] == "done", f"{name!r}: status {x['status']} "
                f"({x['stderr_tail']!r})")
        c.check(x["exit_code"] in (0, 1), f"{name!r}: exit {x['exit_code']}")
        c.check(x["rules"] == expected_rules(fixtures, fixture),
                f"{name!r}: rules {x['rules']}, expected.json says "
                f"{expected_rules(fixtures, fixture)}")
        rep = load(out / name / "report.json")
        sev = collections.Counter(f["severity"] for f in rep["findings"])
        c.check(all(x["severity"].get(s, 0) == sev.get(s, 0) for s in set(sev) | set(x["severity"])),
                f"{name!r}: severity {x['severity']}, report.json {dict(sev)}")
        c.check(x["findings"] == len(rep["findings"]), f"{name!r}: findings count")
        c.check([k["summary"] for k in x["causes"]] ==
                [k["summary"].split("\n")[0] for k in rep["causes"]],
                f"{name!r}: cause summaries differ from report.json")
        want_link = "report.html" if (out / name / "report.html").is_file() else "report.md"
        c.check(x["report"] == f"{name}/{want_link}", f"{name!r}: report link {x['report']!r}")
        for f in ["report.txt", "report.md", "report.json", "report.sarif", "repair.sql",
                  "verify.sql", "facts.db"]:
            c.check((out / name / f).is_file(), f"{name!r}: no {f}")
    bad = by.get("bad_truncated_gzip")
    if c.check(bad is not None, "the bad case is missing"):
        c.check(bad["status"] == "input-error" and bad["exit_code"] == 2,
                f"bad case: {bad['status']} exit {bad['exit_code']}")
        c.check("after.sql.gz" in bad["stderr_tail"],
                f"bad case: stderr tail does not name the file: {bad['stderr_tail']!r}")
    # Recurring: the (rule, object) pairs found in two cases or more, from the reports.
    seen = collections.defaultdict(set)
    for name in names:
        rp = out / name / "report.json"
        if rp.is_file():
            for f in load(rp)["findings"]:
                seen[(f["rule"], object_of(f["subject"]))].add(name)
    want = {k: sorted(v) for k, v in seen.items() if len(v) > 1}
    got = {(x["rule"], x["object"]): x["cases"] for x in index["recurring"]}
    c.check(got == want, f"recurring {sorted(got)} != {sorted(want)}")
    league = {k for k, v in seen.items() if "league_incident" in v}
    c.check(league and all(ODD in want.get(k, []) for k in league),
            "a finding of the league incident does not recur in its copy")
    c.check(index["totals"]["cases"] == len(names), "totals.cases")
    c.check(index["totals"]["status"] == {"done": len(names) - 1, "input-error": 1},
            f"totals.status {index['totals']['status']}")
    timings = load(out / "timings.json")
    c.check(all(t["ran"] for t in timings["cases"]), "first run: a case did not run")
    c.check(all(t["max_rss_kib"] > 0 and t["seconds"] > 0 for t in timings["cases"]),
            "timings without seconds or peak RSS")
    c.check("timings" not in json.dumps(index) and "seconds" not in json.dumps(index),
            "timings in index.json")
    check_html(c, out, index)
    return index


def mtimes(out, names):
    return {n: (out / n / "report.json").stat().st_mtime_ns for n in names}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    exe = str(Path(args.dbautopsy).resolve())
    fixtures = Path(args.fixtures).resolve()
    c = Checks()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases = work / "cases"
        make_cases(fixtures, cases)
        names = sorted(p.name for p in cases.iterdir() if p.is_dir() and not p.name.startswith("."))

        # ---- one process
        r = run(exe, ["batch", "cases", "--out", "out", "--jobs", "2"], work)
        index = check_first_run(c, fixtures, work / "out", r, names)
        first_json = (work / "out" / "index.json").read_bytes()
        first_html = (work / "out" / "index.html").read_bytes()

        c.current = "re-run"
        before = mtimes(work / "out", names)
        r = run(exe, ["batch", str(cases) + "/", "--out", "out/", "--quiet"], work)
        c.check(r.returncode == 2, f"re-run exit {r.returncode}")
        t = load(work / "out" / "timings.json")
        c.check(not any(x["ran"] for x in t["cases"]), f"re-run ran cases: {t['cases']}")
        c.check(mtimes(work / "out", names) == before, "re-run rewrote reports")
        c.check((work / "out" / "index.json").read_bytes() == first_json,
                "re-run index.json differs")
        c.check((work / "out" / "index.html").read_bytes() == first_html,
                "re-run index.html differs")

        # ---- shards with GNU parallel, then merge
        c.current = "shards"
        # as docs/fan-out.md writes it: exit 1 and 2 of a shard are results, not failures
        r = subprocess.run(["parallel", "-j3",
                            f"'{exe}' batch cases --out shard{{}} --shard {{}}/3 --jobs 1 "
                            "--quiet; [ $? -le 2 ]", ":::", "0", "1", "2"],
                           cwd=work, capture_output=True, text=True, timeout=1800)
        c.check(r.returncode == 0, f"parallel: exit {r.returncode}: {r.stderr[-2000:]}")
        shard_cases = []
        for k in range(3):
            ix = load(work / f"shard{k}" / "index.json")
            shard_cases.append([x["name"] for x in ix["cases"]])
            lt = run(exe, ["batch", "cases", "--list", "--shard", f"{k}/3"], work)
            c.check([line.split("\t")[0] for line in lt.stdout.splitlines()] == shard_cases[k],
                    f"--list of shard {k} differs from what shard {k} ran")
            t = load(work / f"shard{k}" / "timings.json")
            c.check(t["shard"] == f"{k}/3", f"shard {k}: timings say {t['shard']}")
        flat = [n for s in shard_cases for n in s]
        c.check(sorted(flat) == names and len(set(flat)) == len(flat),
                f"shards {shard_cases} do not partition {names}")
        c.check(sum(1 for s in shard_cases if s) >= 2, f"all cases in one shard: {shard_cases}")
        r = run(exe, ["batch-merge", "shard0", "shard1/", str(work / "shard2"), "--out",
                      "merged"], work)
        c.check(r.returncode == 2, f"merge exit {r.returncode}: {r.stderr}")
        c.check((work / "merged" / "index.json").read_bytes() == first_json,
                "merged index.json differs from the single run's")
        c.check((work / "merged" / "index.html").read_bytes() == first_html,
                "merged index.html differs from the single run's")
        for n in names:
            c.check((work / "merged" / n / "report.json").is_file(), f"merged: no {n!r}/report.json")
        check_html(c, work / "merged", load(work / "merged" / "index.json"))
        shutil.copytree(work / "shard0", work / "shard0again")
        r = run(exe, ["batch-merge", "shard0", "shard1", "shard2", "shard0again", "--out",
                      "merged2"], work)
        c.check(r.returncode == 2 and "shard0" in r.stderr and "also in" in r.stderr,
                f"a case in two shard outputs: exit {r.returncode}: {r.stderr}")
        r = run(exe, ["batch-merge", "cases", "--out", "merged3"], work)
        c.check(r.returncode == 2 and "index.json" in r.stderr,
                f"merge of a folder that is no batch output: exit {r.returncode}: {r.stderr}")

        # ---- a changed input re-runs that case only; --force all
        c.current = "changed input"
        notes = cases / "django_clean" / "notes.txt"
        notes.write_text(notes.read_text() + "one more line\n")
        r = run(exe, ["batch", "cases", "--out", "out", "--quiet"], work)
        t = {x["name"]: x["ran"] for x in load(work / "out" / "timings.json")["cases"]}
        c.check(t == {n: n == "django_clean" for n in names}, f"ran: {t}")
        r = run(exe, ["batch", "cases", "--out", "out", "--quiet", "--force"], work)
        t = load(work / "out" / "timings.json")["cases"]
        c.check(all(x["ran"] for x in t), "--force did not run every case")
        r = run(exe, ["batch", "cases", "--out", "out", "--quiet", "--", "--fail-on", "never"], work)
        t = load(work / "out" / "timings.json")["cases"]
        c.check(all(x["ran"] for x in t), "other investigate options did not run every case")
        ix = load(work / "out" / "index.json")
        c.check(ix["options"] == ["--fail-on", "never"], f"options {ix['options']}")
        c.check(all(x["exit_code"] == 0 for x in ix["cases"] if x["status"] == "done"),
                "--fail-on never was not passed on")

        # ---- every way to write the cases folder: the same cases and shards
        c.current = "argument forms"
        os.symlink(cases, work / "cases_link")
        (work / "elsewhere").mkdir()
        shutil.copytree(cases, work / "elsewhere" / "moved", symlinks=True)
        forms = [(["cases"], work), (["cases/"], work), (["./cases"], work), ([str(cases)], work),
                 ([str(cases) + "/"], work), (["cases_link"], work), (["cases_link/"], work),
                 (["../cases"], work / "elsewhere"), (["moved"], work / "elsewhere"),
                 (["cases", "./cases/", str(cases)], work)]
        for k in range(3):
            outputs = set()
            for form, cwd in forms:
                lt = run(exe, ["batch"] + form + ["--list", "--shard", f"{k}/3"], cwd)
                c.check(lt.returncode == 0, f"{form}: exit {lt.returncode}: {lt.stderr}")
                outputs.add(lt.stdout)
            c.check(len(outputs) == 1, f"shard {k}: the forms disagree: {outputs}")
        # the documented formula: first 8 bytes of SHA-256 of the name, big-endian, mod N
        for k in range(3):
            lt = run(exe, ["batch", "cases", "--list", "--shard", f"{k}/3"], work)
            for line in lt.stdout.splitlines():
                name, shard = line.split("\t")
                h = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")
                c.check(int(shard) == k == h % 3, f"{name!r}: shard {shard}, formula {h % 3}")
        lt = run(exe, ["batch", "cases", "--list"], work)
        c.check([line.split("\t")[0] for line in lt.stdout.splitlines()] == names,
                f"--list without --shard: {lt.stdout}")

        # ---- usage errors
        c.current = "usage errors"

        def refused(argv, pattern, cwd=work):
            r = run(exe, argv, cwd)
            c.check(r.returncode == 2 and re.search(pattern, r.stderr),
                    f"{argv}: exit {r.returncode}, stderr {r.stderr!r} (want {pattern!r})")

        refused(["batch", "cases", "--out", "o", "--shard", "3/3"], r"SLURM_ARRAY_TASK_ID-1")
        refused(["batch", "cases", "--out", "o", "--shard", "a/3"], r"--shard a/3: give K/N")
        refused(["batch", "cases", "--out", "o", "--shard", "-1/3"], r"--shard")
        refused(["batch", "cases", "--out", "o", "--shard", "0/0"], r"at least 1")
        refused(["batch", "cases", "--out", "o", "--shard", "1"], r"give K/N")
        refused(["batch", "cases", "--out", "o", "--jobs", "0"], r"--jobs")
        (work / "more" / "django_clean").mkdir(parents=True)
        refused(["batch", "cases", "more", "--out", "o"],
                r"two cases are named django_clean: .*cases/django_clean and .*more/django_clean")
        refused(["batch", "cases", "--out", "cases/out"], r"inside the cases folder")
        refused(["batch", "cases", "--out", "."], r"around the cases folder")
        (work / "notbatch").mkdir()
        (work / "notbatch" / "precious.txt").write_text("keep me\n")
        refused(["batch", "cases", "--out", "notbatch"], r"no index.json")
        c.check((work / "notbatch" / "precious.txt").exists(), "a foreign --out was written")
        refused(["batch", "cases", "--out", "o", "--", "--store", "x.db"], r"--store after `--`")
        refused(["batch", "cases", "--out", "o", "--", "--out=x"], r"--out=x after `--`")
        refused(["batch", "nosuch", "--out", "o"], r"nosuch: not a folder")
        refused(["batch", "--out", "o"], r"CASES_DIR")
        refused(["batch", "cases"], r"--out OUT")
        refused(["batch-merge", "shard0"], r"--out MERGED")
        c.check(not (work / "o").exists(), "a refused run made its --out")

        # ---- a child that hangs (stopped from outside) and one killed by a signal
        c.current = "timeout and crash"
        hang = work / "hang"
        hang.mkdir()
        copy_case(fixtures, "input_schema_only", hang / "good")
        for name in ["hang_timeout", "hang_crash"]:
            copy_case(fixtures, "django_drift", hang / name)
        p = subprocess.Popen([exe, "batch", "hang", "--out", "hang_out", "--jobs", "3",
                              "--timeout", "20"], cwd=work, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        todo = {b"hang_timeout": signal.SIGSTOP, b"hang_crash": signal.SIGSEGV}
        deadline = time.time() + 60
        while time.time() < deadline and todo and p.poll() is None:
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit():
                    continue
                try:
                    stat = (proc / "stat").read_text()
                    cmd = (proc / "cmdline").read_bytes().split(b"\0")
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid != p.pid or b"investigate" not in cmd:
                    continue
                for name in list(todo):
                    if name in cmd:
                        os.kill(int(proc.name), todo.pop(name))
            time.sleep(0.005)
        c.check(not todo, f"children not found while they ran: {todo}")
        out, err = p.communicate(timeout=300)
        c.check(p.returncode == 2, f"exit {p.returncode}: {err}")
        ix = load(work / "hang_out" / "index.json")
        by = {x["name"]: x for x in ix["cases"]}
        c.check(by["good"]["status"] == "done", f"good: {by['good']}")
        c.check(by["hang_timeout"]["status"] == "timeout" and
                "--timeout 20" in by["hang_timeout"]["stderr_tail"],
                f"hang_timeout: {by['hang_timeout']}")
        c.check(by["hang_crash"]["status"] == "crashed" and
                by["hang_crash"]["signal"] == "SIGSEGV", f"hang_crash: {by['hang_crash']}")
        raw = (work / "hang_out" / "index.html").read_text()
        c.check("crashed (SIGSEGV)" in raw and "timeout" in raw,
                "index.html does not show the crash and the timeout")
        t = {x["name"]: x for x in load(work / "hang_out" / "timings.json")["cases"]}
        c.check(t["hang_timeout"]["seconds"] >= 20, f"timed out early: {t['hang_timeout']}")
        # a crashed or timed-out case runs again, the finished one does not
        r = run(exe, ["batch", "hang", "--out", "hang_out", "--quiet"], work)
        t = {x["name"]: x["ran"] for x in load(work / "hang_out" / "timings.json")["cases"]}
        c.check(t == {"good": False, "hang_timeout": True, "hang_crash": True}, f"ran: {t}")
        ix = load(work / "hang_out" / "index.json")
        c.check(all(x["status"] == "done" for x in ix["cases"]),
                f"the re-run left {[(x['name'], x['status']) for x in ix['cases']]}")

    if c.failures:
        print(f"{len(c.failures)} check(s) failed:")
        for f in c.failures:
            print("  " + f)
        return 1
    print("batch: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
