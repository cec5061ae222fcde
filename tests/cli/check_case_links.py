#!/usr/bin/env python3
"""A case folder cannot make dbautopsy read or reveal anything outside it.

A copy of a real case (fixtures/cases/league_incident) gets, beside its own files:

  notes.txt   -> an absolute path to a secret file outside the case (a new user's mistake)
  users.csv   -> /etc/passwd
  rel.sql     -> ../outside/secret.txt           (relative, through ..)
  sub/deep.txt -> ../../outside/secret.txt       (in a sub-folder)
  chain1 -> chain2 -> the secret                 (a chain whose last link leaves the case)
  hop.txt -> sub/../../outside/secret.txt        (.. after a folder of the case)
  via_sub -> sub, sub/up -> ../../outside         (a link inside the case to a link to a
                                                  folder outside)
  outdir -> outside folder                       (a link to a folder outside)
  dangling -> a missing file outside; nowhere -> a missing file inside
  loop_a -> loop_b -> loop_a                     (a link loop)
  cycle -> .                                     (a link to the case folder itself)
  again.sql.gz -> after.sql.gz                   (a link inside the case to a file read anyway)
  store.db -> .dbautopsy/facts.db                (a link into dbautopsy's own folder)
  pipe.sql                                       (a real FIFO: opening it would hang the run)
  sock                                           (a Unix socket)
  ks.dir/                                        (a real pg_dump directory archive holding a
                                                  link to the secret as one of its files)

and the checks are, for `investigate` (every report format: text, Markdown, JSON, SARIF,
repair and verify scripts, stdout and stderr) and for `ingest` of the folder:

  - the run ends by itself (a FIFO opened would block: a timeout fails the test);
  - neither the secret's text nor /etc/passwd's first line appears in any output, nor in the
    fact store's bytes;
  - every link and special file is listed among the inputs, status `skipped`, with why
    ("link to outside the case, not read" with the link text; "not a regular file (FIFO)");
  - the findings are exactly those of the case without the additions (the rest is analysed,
    and a file reached twice is counted once);
  - --follow-links opts in: the secret is read (as a file of no known kind), and a link to
    a device (/dev/zero) is still never opened;
  - a FILE named on the command line is read wherever its link leads (the user named it), but
    a FIFO named so is not opened.

Usage: check_case_links.py --dbautopsy PATH --fixtures DIR
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

CASE = "cases/league_incident"
PASSWD_LINE = None  # the first line of /etc/passwd, read below
TIMEOUT = 300


class Checks:
    def __init__(self):
        self.failures = []

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)
        return ok


def run(exe, args, cwd, timeout=TIMEOUT):
    try:
        return subprocess.run([exe] + args, cwd=cwd, capture_output=True, text=True,
                              errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def copy_case(fixtures, dest):
    shutil.copytree(Path(fixtures) / CASE, dest)
    for f in dest.glob("*expected.json"):
        f.unlink()


def findings_of(report):
    return sorted(json.dumps([f["rule"], f["subject"]], sort_keys=True)
                  for f in report["findings"])


def add_hostile(case, outside, secret, sockets):
    (case / "sub").mkdir()
    os.symlink(secret, case / "notes.txt")
    os.symlink("/etc/passwd", case / "users.csv")
    os.symlink("../outside/secret.txt", case / "rel.sql")
    os.symlink("../../outside/secret.txt", case / "sub" / "deep.txt")
    os.symlink(secret, case / "chain2")
    os.symlink("chain2", case / "chain1")
    os.symlink("sub/../../outside/secret.txt", case / "hop.txt")
    os.symlink("../../outside", case / "sub" / "up")
    os.symlink("sub", case / "via_sub")
    os.symlink(outside, case / "outdir")
    os.symlink(outside / "missing.txt", case / "dangling")
    os.symlink("missing-inside.txt", case / "nowhere")
    os.symlink("loop_b", case / "loop_a")
    os.symlink("loop_a", case / "loop_b")
    os.symlink(".", case / "cycle")
    os.symlink("after.sql.gz", case / "again.sql.gz")
    os.symlink(".dbautopsy/facts.db", case / "store.db")
    os.mkfifo(case / "pipe.sql")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(case / "sock"))
    sockets.append(s)


# path -> what its detail must say (status skipped)
EXPECTED_SKIPS = {
    "notes.txt": "link to outside the case, not read",
    "users.csv": "link to outside the case, not read (link text: /etc/passwd)",
    "rel.sql": "link to outside the case, not read (link text: ../outside/secret.txt)",
    "sub/deep.txt": "link to outside the case, not read (link text: ../../outside/secret.txt)",
    "chain1": "link to outside the case, not read (link text: chain2)",
    "chain2": "link to outside the case, not read",
    "hop.txt": "link to outside the case, not read (link text: sub/../../outside/secret.txt)",
    "sub/up": "link to outside the case, not read (link text: ../../outside)",
    "via_sub": "link to a folder read under another path",
    "outdir": "link to outside the case, not read",
    "dangling": "link to outside the case, not read",
    "nowhere": "link that leads to no file",
    "loop_a": "link that leads to no file",
    "loop_b": "link that leads to no file",
    "cycle": "link to a folder read under another path",
    "again.sql.gz": "link to the same file as",
    "store.db": "link into dbautopsy's own folder, not read",
    "pipe.sql": "not a regular file (FIFO), not read",
    "sock": "not a regular file (socket), not read",
    "ks.dir": "directory archive whose 4136.dat.gz is a link to outside the case, not read",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    a = ap.parse_args()
    exe = str(Path(a.dbautopsy).resolve())
    c = Checks()
    passwd_line = Path("/etc/passwd").read_text().splitlines()[0]
    sockets = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        outside = tmp / "outside"
        outside.mkdir()
        token = "SECRET-" + os.urandom(8).hex()
        secret = outside / "secret.txt"
        secret.write_text(f"{token} the analyst's own notes\nsecond line {token}\n")
        (outside / "also-secret.txt").write_text(f"{token} more notes\n")

        # The baseline: the case as it is.
        base = tmp / "base"
        copy_case(a.fixtures, base)
        r = run(exe, ["investigate", str(base), "--format", "json"], tmp)
        if not c.check(r is not None and r.returncode in (0, 1), "baseline investigate failed"):
            print(r and r.stderr, file=sys.stderr)
            return finish(c)
        baseline = json.loads(r.stdout)
        base_status = r.returncode

        case = tmp / "case"
        copy_case(a.fixtures, case)
        shutil.copytree(Path(a.fixtures) / "pgdump" / "kitchen_sink.dir", case / "ks.dir")
        (case / "ks.dir" / "4136.dat.gz").unlink()
        os.symlink(secret, case / "ks.dir" / "4136.dat.gz")
        add_hostile(case, outside, secret, sockets)

        out = tmp / "reports"
        r = run(exe, ["investigate", str(case), "--out", str(out), "-v"], tmp)
        if not c.check(r is not None, "investigate did not end within the timeout (a FIFO "
                                      "opened?)"):
            return finish(c)
        c.check(r.returncode == base_status,
                f"investigate: exit {r.returncode}, expected {base_status}: {r.stderr[-2000:]}")
        texts = {"stdout": r.stdout, "stderr": r.stderr}
        for f in sorted(out.iterdir()):
            texts[f.name] = f.read_text(errors="replace")
        c.check(set(texts) >= {"report.txt", "report.md", "report.json", "report.sarif",
                               "repair.sql", "verify.sql"}, f"--out wrote {sorted(texts)}")
        for name, text in texts.items():
            c.check(token not in text, f"{name}: holds the secret's text")
            c.check(passwd_line not in text, f"{name}: holds /etc/passwd's first line")
        store = (case / ".dbautopsy" / "facts.db").read_bytes()
        c.check(token.encode() not in store, "the fact store holds the secret's text")
        c.check(passwd_line.encode() not in store, "the fact store holds /etc/passwd's line")
        c.check("notes.txt: link to outside the case, not read" in r.stderr,
                f"stderr does not say notes.txt is not read: {r.stderr[-2000:]}")

        report = json.loads(texts["report.json"])
        inputs = {i["path"]: i for i in report["inputs"]}
        for path, says in EXPECTED_SKIPS.items():
            i = inputs.get(path)
            if not c.check(i is not None, f"{path}: not listed among the inputs"):
                continue
            c.check(i.get("status") == "skipped", f"{path}: status {i.get('status')}, not skipped")
            c.check(says in (i.get("detail") or ""), f"{path}: detail {i.get('detail')!r} does "
                                                     f"not say {says!r}")
        c.check(f"(link text: {secret})" in inputs.get("notes.txt", {}).get("detail", ""),
                "notes.txt: the link text is not shown")
        c.check(inputs.get("after.sql.gz", {}).get("status") == "ok", "after.sql.gz not read")
        c.check(not any(p.startswith(("outdir/", "cycle/", "via_sub/", "sub/up/"))
                        for p in inputs), f"a folder was walked through a link: {sorted(inputs)}")
        c.check(findings_of(report) == findings_of(baseline),
                "the findings differ from the case's without the links")
        txt = texts["report.txt"]
        c.check("notes.txt  [unknown] link to outside the case, not read" in txt,
                "report.txt does not list notes.txt as not read")
        c.check("pipe.sql  [unknown] not a regular file (FIFO), not read" in txt,
                "report.txt does not list the FIFO")
        md = texts["report.md"]
        c.check("`users.csv`" in md and "link to outside the case, not read" in md,
                "report.md does not list users.csv as not read")

        # Again, with the store of the first run in place: same listing, nothing read.
        r = run(exe, ["investigate", str(case), "--format", "json"], tmp)
        if c.check(r is not None and r.returncode == base_status, "second investigate failed"):
            again = {i["path"]: i["status"] for i in json.loads(r.stdout)["inputs"]}
            c.check(all(again.get(p) == "skipped" for p in EXPECTED_SKIPS),
                    f"second run: {again}")
            c.check(token not in r.stdout, "second run: holds the secret's text")

        # ingest of the folder walks it the same way.
        r = run(exe, ["ingest", "--store", str(tmp / "ingest.db"), str(case)], tmp)
        if c.check(r is not None, "ingest of the folder did not end (a FIFO opened?)"):
            both = r.stdout + r.stderr
            c.check(token not in both and passwd_line not in both,
                    "ingest of the folder printed the secret")
            c.check(f"{case}/users.csv: link to outside the case, not read" in r.stderr,
                    f"ingest does not say users.csv is not read: {r.stderr[-1500:]}")
            c.check(f"{case}/pipe.sql: not a regular file (FIFO), not read" in r.stderr,
                    "ingest does not say pipe.sql is not read")

        # A FILE named on the command line: read wherever its link leads; a FIFO never opened.
        r = run(exe, ["ingest", "--store", str(tmp / "named.db"), str(case / "notes.txt"),
                      str(case / "pipe.sql")], tmp)
        if c.check(r is not None, "ingest of a named FIFO did not end"):
            c.check(token in r.stdout, "ingest of a named link did not read it: " + r.stdout)
            c.check("pipe.sql: not a regular file (FIFO), not read" in r.stderr,
                    f"ingest of a named FIFO: {r.stderr}")

        # --follow-links opts in; a device is still never opened.
        follow = tmp / "follow"
        copy_case(a.fixtures, follow)
        os.symlink(secret, follow / "notes.txt")
        os.symlink(outside, follow / "outdir")
        os.symlink("/dev/zero", follow / "zero.sql")
        os.symlink(secret, follow / "twice.txt")
        r = run(exe, ["investigate", str(follow), "--follow-links", "--format", "json"], tmp)
        if c.check(r is not None, "investigate --follow-links did not end (a device read?)"):
            c.check(r.returncode == base_status, f"--follow-links: exit {r.returncode}")
            rep = json.loads(r.stdout)
            inputs = {i["path"]: i for i in rep["inputs"]}
            c.check(inputs.get("notes.txt", {}).get("status") not in (None, "skipped"),
                    f"--follow-links: notes.txt not read: {inputs.get('notes.txt')}")
            c.check(token in json.dumps(inputs.get("notes.txt", {})),
                    "--follow-links: notes.txt's first line not shown")
            c.check("link to the same file as notes.txt" in
                    (inputs.get("twice.txt", {}).get("detail") or ""),
                    f"--follow-links: twice.txt {inputs.get('twice.txt')}")
            c.check(inputs.get("outdir/also-secret.txt", {}).get("status") not in (None,
                                                                                 "skipped"),
                    f"--follow-links: the folder outside not walked: {sorted(inputs)}")
            c.check("not a regular file (character device), not read" in
                    (inputs.get("zero.sql", {}).get("detail") or ""),
                    f"--follow-links: zero.sql {inputs.get('zero.sql')}")
            c.check(findings_of(rep) != [] and set(findings_of(baseline)) <=
                    set(findings_of(rep)), "--follow-links: the case's findings are lost")
    for s in sockets:
        s.close()
    return finish(c)


def finish(c):
    if c.failures:
        print(f"{len(c.failures)} failures:", file=sys.stderr)
        for f in c.failures:
            print("  " + f, file=sys.stderr)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
