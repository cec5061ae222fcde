#!/usr/bin/env python3
"""Archives of case files (zip, tar, compressed tar) are read as the folders they hold.

Customers send `case.zip` or `migrations.tar.gz` as often as folders. Made here with Python's
zipfile and tarfile modules, the `zip` command (an encrypted member), 7-Zip and the real
fixtures:

  - the django_drift case (migrations, records, dump, both logs) as case.zip (files at the
    top, and under a folder `case/`), case.tar, case.tar.gz, case.tar.xz, case.7z (7-Zip's
    own `7zz`), and a zip whose names use
    Windows backslashes: the findings and causes are exactly the folder's, with every path
    shown as `<bundle>/<member>` (a migration's evidence `case.zip/migrations/teams/...py:N`);
    the bundle is an input of kind `bundle`; a second run reads the members from the cache;
  - `ingest` of a bundle named on the command line: the bundle, then its members;
  - only the migrations zipped beside the loose dump and records;
  - league_headerless zipped: --before / --after name dumps inside it
    (`case.zip/2_after.sql.gz`), and a name that is not there is refused, listing the dumps;
  - a pg_dump tar archive (-Ft) is still a dump, and a tarred pg_dump directory archive is
    read as that archive;
  - hostile members: `../` names, absolute names, a symbolic link to /etc/passwd, a hard
    link, a FIFO, a device, an encrypted member: each listed as not read with why, nothing
    written outside the scratch folder (TMPDIR is a fresh folder, empty again after the
    run), /etc/passwd's first line in no output;
  - bundles nested 4 deep: 3 are opened, the 4th is said to be too deep;
  - a zip bomb (a member of 400 MiB of zeros): stopped at the --max-ratio limit with a clear
    error and bounded memory, the other members read; --max-ratio 0 lifts the limit;
  - a tar.gz cut in the middle of a member and a zip cut before its central directory: the
    members before the cut are read, the bundle is partial, its error names the member and
    the byte offset; an empty zip reads as an empty folder.

Usage: check_bundles.py --dbautopsy PATH --fixtures DIR [--max-rss-mb N]
"""
import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lib"))
from measured import SANITIZER, measure  # noqa: E402

TIMEOUT = 600
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
    return ok


def run(exe, args, env, cwd=None):
    p = subprocess.run([exe] + args, cwd=cwd, capture_output=True, text=True,
                       errors="replace", timeout=TIMEOUT, env=env)
    return p.returncode, p.stdout, p.stderr


def investigate(exe, case, env, *extra):
    status, out, err = run(exe, ["investigate", str(case), "--format", "json", *extra], env)
    check(not SANITIZER.search(err), f"{case}: sanitizer report:\n{err[-3000:]}")
    try:
        return status, json.loads(out), err
    except json.JSONDecodeError:
        check(False, f"{case}: no JSON report (exit {status}): {err[-2000:]}")
        return status, {"findings": [], "causes": [], "inputs": []}, err


def without(prefix, report):
    text = json.dumps({"findings": report["findings"], "causes": report["causes"]},
                      sort_keys=True)
    return text.replace(prefix, "")


def case_files(case):
    return sorted(p for p in case.rglob("*") if p.is_file() and "expected" not in p.name
                  and not any(part.startswith(".") for part in p.relative_to(case).parts))


def make_zip(path, root, files, prefix="", backslash=False):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in files:
            name = prefix + f.relative_to(root).as_posix()
            if backslash:
                name = name.replace("/", "\\")
            z.write(f, name)


def make_tar(path, root, files, mode):
    with tarfile.open(path, mode) as t:
        for f in files:
            t.add(f, f.relative_to(root).as_posix())


def inputs_by_path(report):
    return {i["path"]: i for i in report.get("inputs", [])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--max-rss-mb", type=float, default=200,
                    help="bound on peak memory for the zip bomb")
    a = ap.parse_args()
    exe = os.path.abspath(a.dbautopsy)
    fixtures = Path(a.fixtures).resolve()
    drift = fixtures / "cases" / "django_drift"
    passwd_line = Path("/etc/passwd").read_text().splitlines()[0]

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        scratch = tmp / "tmpdir"
        scratch.mkdir()
        env = dict(os.environ, TMPDIR=str(scratch))

        # The folder the bundles are checked against.
        folder = tmp / "folder"
        folder.mkdir()
        files = case_files(drift)
        for f in files:
            dest = folder / f.relative_to(drift)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(f, dest)
        _, want, _ = investigate(exe, folder, env)
        check(len(want["findings"]) > 10, f"the folder case has findings: {len(want['findings'])}")

        forms = {
            "case.zip": lambda p: make_zip(p, drift, files),
            "case.tar.gz": lambda p: make_tar(p, drift, files, "w:gz"),
            "case.tar.xz": lambda p: make_tar(p, drift, files, "w:xz"),
            "case.tar": lambda p: make_tar(p, drift, files, "w"),
            # 7-Zip's own archiver (Debian's 7zip), from the case folder.
            "case.7z": lambda p: subprocess.run(
                ["7zz", "a", "-bd", "-bso0", str(p)] +
                [f.relative_to(drift).as_posix() for f in files], cwd=drift, check=True),
        }
        for name, make in forms.items():
            case = tmp / ("b-" + name.replace(".", "-"))
            case.mkdir()
            make(case / name)
            status, got, err = investigate(exe, case, env)
            check(status == 1, f"{name}: exit 1 (findings), got {status}: {err[-500:]}")
            check(without(name + "/", got) == without("", want),
                  f"{name}: the findings and causes are the folder's")
            ins = inputs_by_path(got)
            check(ins.get(name, {}).get("kind") == "bundle", f"{name}: an input of kind bundle")
            check(f"{name}/migrations/teams/0004_add_left_at_field.py" in ins,
                  f"{name}: members shown under the bundle: {sorted(ins)[:5]}")
            ev = [e for f in got["findings"] for e in f["evidence"]]
            check(any(e["artifact"].startswith(f"{name}/migrations/") and
                      e["artifact"].endswith(".py") and e.get("line") for e in ev),
                  f"{name}: evidence names the member and its line")
            if name == "case.zip":
                status2, again, _ = investigate(exe, case, env)
                check(without(name + "/", again) == without("", want),
                      "case.zip: a second run (members from the cache) gives the same")

        # Under a top folder, and with Windows backslashes.
        for label, kw, prefix in (("top", {"prefix": "case/"}, "case.zip/case/"),
                                  ("backslash", {"backslash": True}, "case.zip/")):
            case = tmp / ("b-" + label)
            case.mkdir()
            make_zip(case / "case.zip", drift, files, **kw)
            _, got, err = investigate(exe, case, env)
            check(without(prefix, got) == without("", want),
                  f"zip ({label}): the findings are the folder's: {err[-500:]}")

        # Only the migrations zipped, the rest loose.
        case = tmp / "b-migrations"
        case.mkdir()
        mig = [f for f in files if "migrations" in f.parts]
        make_zip(case / "migrations.zip", drift, mig)
        for f in files:
            if "migrations" not in f.parts:
                dest = case / f.relative_to(drift)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(f, dest)
        _, got, err = investigate(exe, case, env)
        check(without("migrations.zip/", got) == without("", want),
              f"migrations.zip beside loose files: the folder's findings: {err[-500:]}")

        # ingest of a bundle named on the command line.
        status, out, err = run(exe, ["ingest", "--store", str(tmp / "i.db"),
                                     str(tmp / "b-case-tar-gz" / "case.tar.gz")], env)
        lines = [l.split() for l in out.splitlines() if l.startswith("  ")]
        check(lines and lines[0][:2] == ["ok", "bundle"],
              f"ingest: the bundle first, ok: {out[:800]} {err[-500:]}")
        check(any(l[1] == "django-migration-py" for l in lines),
              "ingest: the bundle's migrations are read")

        # --before / --after naming dumps inside a bundle.
        lh = fixtures / "cases" / "league_headerless"
        plain = tmp / "lh"
        plain.mkdir()
        zipped = tmp / "lhz"
        zipped.mkdir()
        for f in ("1_before.sql.gz", "2_after.sql.gz"):
            shutil.copy(lh / f, plain / f)
        make_zip(zipped / "case.zip", lh, [lh / "1_before.sql.gz", lh / "2_after.sql.gz"])
        _, w, _ = investigate(exe, plain, env, "--before", "2_after.sql.gz", "--after",
                              "1_before.sql.gz")
        _, g, err = investigate(exe, zipped, env, "--before", "case.zip/2_after.sql.gz",
                                "--after", "case.zip/1_before.sql.gz")
        check(without("case.zip/", g) == without("", w) and w["findings"],
              f"--before/--after inside a bundle: {err[-800:]}")
        status, out, err = run(exe, ["investigate", str(zipped), "--before",
                                     "case.zip/nope.sql.gz"], env)
        check(status == 2 and "case.zip/1_before.sql.gz" in err,
              f"--before naming no dump in the bundle: exit 2 listing the dumps: {status} {err[-500:]}")

        # pg_dump archives stay dumps.
        case = tmp / "b-pgdump"
        case.mkdir()
        shutil.copy(fixtures / "pgdump" / "kitchen_sink.tar", case / "ks.tar")
        with tarfile.open(case / "ksdir.tar.gz", "w:gz") as t:
            t.add(fixtures / "pgdump" / "kitchen_sink.dir", "kitchen_sink.dir")
        _, got, err = investigate(exe, case, env)
        ins = inputs_by_path(got)
        check(ins.get("ks.tar", {}).get("kind") == "pgdump-tar",
              f"a pg_dump -Ft archive is a dump: {ins.get('ks.tar')}")
        check(ins.get("ksdir.tar.gz/kitchen_sink.dir", {}).get("kind") == "pgdump-dir",
              f"a tarred directory archive is read as one: {sorted(ins)}")

        # Hostile members.
        case = tmp / "b-hostile"
        case.mkdir()
        outside = tmp / "escape"
        with tarfile.open(case / "evil.tar", "w") as t:
            def add(name, data=b"", **kw):
                info = tarfile.TarInfo(name)
                for k, v in kw.items():
                    setattr(info, k, v)
                info.size = len(data) if info.type == tarfile.REGTYPE else 0
                t.addfile(info, io.BytesIO(data) if data else None)
            add("../escape/evil.sql", b"CREATE TABLE evil (id int);\n")
            add("/tmp/abs-evil.sql", b"CREATE TABLE evil (id int);\n")
            add("link.csv", type=tarfile.SYMTYPE, linkname="/etc/passwd")
            add("ok.sql", b"CREATE TABLE fine (id int);\n")
            add("hard.sql", type=tarfile.LNKTYPE, linkname="ok.sql")
            add("pipe.sql", type=tarfile.FIFOTYPE)
            add("dev", type=tarfile.CHRTYPE, devmajor=1, devminor=5)
        secret = tmp / "secret.txt"
        secret.write_text("password123\n")
        subprocess.run(["zip", "-q", "-j", "-P", "pw", str(case / "locked.zip"), str(secret)],
                       check=True)
        status, out, err = run(exe, ["investigate", str(case), "--format", "json"], env)
        check(not outside.exists() and not Path("/tmp/abs-evil.sql").exists(),
              "no member written outside the scratch folder")
        check(passwd_line not in out + err and "password123" not in out + err,
              "neither /etc/passwd nor the encrypted text in the output")
        try:
            ins = inputs_by_path(json.loads(out))
        except json.JSONDecodeError:
            ins = {}
            check(False, f"hostile: a JSON report: {err[-800:]}")
        store_bytes = (case / ".dbautopsy" / "facts.db").read_bytes()
        check(passwd_line.encode() not in store_bytes, "/etc/passwd not in the store")
        want_skips = {
            "evil.tar/../escape/evil.sql": "`..`",
            "evil.tar//tmp/abs-evil.sql": "absolute",
            "evil.tar/link.csv": "symbolic link",
            "evil.tar/hard.sql": "hard link",
            "evil.tar/pipe.sql": "FIFO",
            "evil.tar/dev": "character device",
            "locked.zip/secret.txt": "encrypted",
        }
        for path, why in want_skips.items():
            i = ins.get(path, {})
            check(i.get("status") == "skipped" and why in (i.get("detail") or ""),
                  f"hostile: {path} listed as not read ({why}): {i}")
        check(ins.get("evil.tar/ok.sql", {}).get("kind") == "pgdump-sql",
              f"hostile: the ordinary member is read: {ins.get('evil.tar/ok.sql')}")
        check(not any(scratch.iterdir()), f"the scratch folder is removed: {list(scratch.iterdir())}")

        # Nested 4 deep.
        case = tmp / "b-nested"
        case.mkdir()
        data = None
        for depth in (4, 3, 2, 1):
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as zf:
                if data is None:
                    zf.writestr("d4.sql", "CREATE TABLE deep4 (id int);\n")
                else:
                    zf.writestr(f"n{depth + 1}.zip", data)
            data = buf.getvalue()
        (case / "n1.zip").write_bytes(data)
        (case / "top.sql").write_text("CREATE TABLE top (id int);\n")
        _, got, err = investigate(exe, case, env)
        ins = inputs_by_path(got)
        deep = [p for p, i in ins.items() if i["kind"] == "bundle"]
        check(len(deep) == 4, f"nested: four bundles listed: {deep}")
        n4 = ins.get("n1.zip/n2.zip/n3.zip/n4.zip", {})
        check(n4.get("status") == "failed" and "deeper than 3" in err,
              f"nested: the fourth is too deep: {n4} {err[-500:]}")

        # A zip bomb.
        case = tmp / "b-bomb"
        case.mkdir()
        with zipfile.ZipFile(case / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
            z.write(drift / "django_migrations.csv", "django_migrations.csv")
            with z.open("zeros.sql", "w") as w:
                block = b"\0" * (1 << 20)
                for _ in range(400):
                    w.write(block)
        r = measure([exe, "investigate", str(case), "--format", "json"], TIMEOUT)
        check(r.status == 2 and "bomb.zip" in r.err and "--max-ratio" in r.err,
              f"bomb: stopped at the ratio limit, exit 2: {r.status} {r.err[-800:]}")
        bound = a.max_rss_mb
        check(r.rss_mib < bound, f"bomb: peak RSS {r.rss_mib:.0f} MiB < {bound}")
        try:
            ins = inputs_by_path(json.loads(r.out))
        except json.JSONDecodeError:
            ins = {}
        check(ins.get("bomb.zip", {}).get("status") == "partial" and
              ins.get("bomb.zip/django_migrations.csv", {}).get("status") == "ok",
              f"bomb: partial, the member before it read: {ins}")
        status, out, err = run(exe, ["investigate", str(case), "--max-ratio", "0", "-q"], env)
        check("max-ratio" not in err, f"bomb: --max-ratio 0 lifts the limit: {err[-500:]}")

        # Cut bundles, and an empty one.
        case = tmp / "b-cut"
        case.mkdir()
        tgz = (tmp / "b-case-tar-gz" / "case.tar.gz").read_bytes()
        (case / "cut.tar.gz").write_bytes(tgz[: len(tgz) * 2 // 3])
        zdata = (tmp / "b-case-zip" / "case.zip").read_bytes()
        (case / "cut.zip").write_bytes(zdata[: len(zdata) * 2 // 3])
        with zipfile.ZipFile(case / "empty.zip", "w"):
            pass
        status, got, err = investigate(exe, case, env)
        ins = inputs_by_path(got)
        for name in ("cut.tar.gz", "cut.zip"):
            i = ins.get(name, {})
            members = [p for p in ins if p.startswith(name + "/") and ins[p]["status"] == "ok"]
            check(i.get("status") == "partial" and members,
                  f"{name}: partial, members before the cut read: {i} {len(members)}")
            check(f"{name}: partial" in err and "at byte" in err,
                  f"{name}: the error names the byte offset: {err[-1500:]}")
        check(ins.get("empty.zip", {}).get("status") == "ok", f"empty.zip: {ins.get('empty.zip')}")
        check(status == 2, f"cut bundles: exit 2, got {status}")

    for f in failures:
        print("FAIL:", f)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
