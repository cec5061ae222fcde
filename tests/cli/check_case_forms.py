#!/usr/bin/env python3
"""Every way a user hands the case to `dbautopsy investigate`.

Before, `investigate` took only a folder: `investigate case.zip`, `investigate case.tar.gz`,
`investigate dump.sql.gz` and several paths were refused ("not a folder"), and a pg_dump
directory archive given as the folder was read as loose files (its toc.dat failed). Built
from the real fixture cases, packed here at run time with Python's zipfile and tarfile, the
`zstd` command and 7-Zip's `7zz`:

  - an archive of a case (league_incident, django_drift) as zip (flat and under a top
    folder), tar, tar.gz, .tgz, tar.xz, tar.zst, 7z given alone: the findings and causes of
    the unpacked folder, every path shown as `<archive>/<member>`; its store is
    `.dbautopsy/<archive>.facts.db` beside it and nothing else is written in its folder; the
    temporary folder is empty after each run (an error run too); a second run (cache) is the
    same (`--store case.zip` for report, query, analyze, timeline: check_path_options.py);
  - the archive written `./case.zip`, absolute, `../case.zip`, through a symbolic link, in a
    folder with a space and non-ASCII letters; `--store` relative (with a space and
    non-ASCII), `./`, absolute;
  - `--before` / `--after` naming members of the archive (league_headerless zipped, the flags
    reversed so that they matter): `lh.zip/2_after.sql.gz`, the member alone, `./lh.zip/...`,
    absolute, from another folder, through a link to the archive (either side), in a folder
    with a space and non-ASCII letters; a member that is not there is refused listing the dumps;
    `analyze --store lh.zip --before <member>` then `report --store lh.zip` too; with several
    paths, the flags name them as written, with ./ or absolute;
  - one file that is no archive: a dump, a log, a pg_dump -Ft tar (a dump, not a bundle), a
    pg_dump directory archive (`ks.dir` and `ks.dir/`): the findings of a folder holding only
    it, its store beside it, nothing written into the directory archive;
  - several paths as `ingest` takes them (files and folders mixed, an archive among them,
    overlapping, a folder and a link to it, absolute from another folder): the findings of the folder holding the same
    files, paths shown as written from the current folder, the store in its .dbautopsy/;
  - the case folder written `case/`, `./case`, `case/.`, absolute, `../case`, through a
    symbolic link, with a space and non-ASCII letters: the same findings and the same store;
  - a path that does not exist (alone or among others) and no path at all: exit 2 naming it
    or saying what is accepted, nothing written.

Usage: check_case_forms.py --dbautopsy PATH --fixtures DIR
"""
import argparse
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
from measured import SANITIZER  # noqa: E402

TIMEOUT = 600
failures = []
EXE = None
ENV = None
SCRATCH = None


def check(ok, what):
    if not ok:
        failures.append(what)
    return ok


def run(args, cwd):
    p = subprocess.run([EXE] + [str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                       errors="replace", timeout=TIMEOUT, env=ENV)
    check(not SANITIZER.search(p.stderr), f"{args}: sanitizer report:\n{p.stderr[-3000:]}")
    left = list(SCRATCH.iterdir())
    check(not left, f"{args}: temporary files left: {left}")
    for f in left:
        shutil.rmtree(f, ignore_errors=True) if f.is_dir() else f.unlink()
    return p.returncode, p.stdout, p.stderr


def investigate(args, cwd, want_status=(0, 1)):
    status, out, err = run(["investigate", "--format", "json", "--fail-on", "never"] + args, cwd)
    if not check(status in want_status, f"investigate {args} (in {cwd.name}): exit {status}: "
                                        f"{err[-800:]}"):
        return None
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        check(False, f"investigate {args}: no JSON report: {err[-800:]}")
        return None


def without(report, *prefixes):
    text = json.dumps({"findings": report["findings"], "causes": report["causes"]},
                      sort_keys=True)
    for p in prefixes:
        text = text.replace(p, "")
    return text


def pairs(report):
    return sorted((f["rule"], json.dumps(f["subject"], sort_keys=True))
                  for f in report["findings"])


def inputs(report):
    return {i["path"]: i["kind"] for i in report.get("inputs", [])}


def case_files(case):
    return sorted(p for p in case.rglob("*") if p.is_file() and "expected" not in p.name
                  and not any(part.startswith(".") for part in p.relative_to(case).parts))


def copy_files(src, files, dest):
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        d = dest / f.relative_to(src)
        d.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, d)
    return dest


def make_zip(path, root, files, prefix=""):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in files:
            z.write(f, prefix + f.relative_to(root).as_posix())


def make_tar(path, root, files, mode):
    with tarfile.open(path, mode) as t:
        for f in files:
            t.add(f, f.relative_to(root).as_posix())


def make_tar_zst(path, root, files):
    plain = path.with_suffix("")
    make_tar(plain, root, files, "w")
    subprocess.run(["zstd", "-q", "--rm", "-o", str(path), str(plain)], check=True)


def make_7z(path, root, files):
    subprocess.run(["7zz", "a", "-bd", "-bso0", str(path)] +
                   [f.relative_to(root).as_posix() for f in files], cwd=root, check=True)


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


def check_archives(work, fixtures):
    """An archive of a case given alone reads as the folder it holds."""
    forms = {
        "case.zip": lambda p, r, f: make_zip(p, r, f),
        "top.zip": lambda p, r, f: make_zip(p, r, f, prefix="case/"),
        "case.tar": lambda p, r, f: make_tar(p, r, f, "w"),
        "case.tar.gz": lambda p, r, f: make_tar(p, r, f, "w:gz"),
        "case.tgz": lambda p, r, f: make_tar(p, r, f, "w:gz"),
        "case.tar.xz": lambda p, r, f: make_tar(p, r, f, "w:xz"),
        "case.tar.zst": make_tar_zst,
        "case.7z": make_7z,
    }
    count = 0
    for name in ("league_incident", "django_drift"):
        src = fixtures / "cases" / name
        files = case_files(src)
        folder = copy_files(src, files, work / f"{name}-folder")
        want = investigate([folder.name], work)
        if not check(want and len(want["findings"]) > 5, f"{name}: the folder has findings"):
            continue
        for form, make in forms.items():
            where = work / f"{name}-{form.replace('.', '-')}"
            where.mkdir()
            make(where / form, src, files)
            member = f"{form}/case/" if form == "top.zip" else f"{form}/"
            got = investigate([form], where)
            if got is None:
                continue
            count += 1
            check(without(got, member) == without(want),
                  f"{name} {form}: the findings and causes of the unpacked folder")
            check(pairs(got) == pairs(want), f"{name} {form}: the (rule, subject) of the folder")
            check(inputs(got).get(form) == "bundle", f"{name} {form}: an input of kind bundle")
            ev = [e["artifact"] for f in got["findings"] for e in f["evidence"]]
            check(ev and all(e.startswith(member) for e in ev),
                  f"{name} {form}: evidence shown as <archive>/<member>: {ev[:3]}")
            check(listing(where) == [".dbautopsy", form] and
                  listing(where / ".dbautopsy") == [f"{form}.facts.db"],
                  f"{name} {form}: only .dbautopsy/{form}.facts.db written beside it: "
                  f"{listing(where)}")
            if form == "case.zip":
                again = investigate([form], where)
                check(again and without(again, member) == without(want),
                      f"{name} {form}: a second run (from the cache) is the same")
    return count


def check_archive_paths(work, fixtures):
    """The archive and --store written every way."""
    src = fixtures / "cases" / "league_incident"
    files = case_files(src)
    want = investigate([copy_files(src, files, work / "paths-folder").name], work)
    forms = work / "paths"
    (forms / "sub").mkdir(parents=True)
    make_zip(forms / "case.zip", src, files)
    os.symlink("case.zip", forms / "link.zip")
    odd = forms / "dossier été"
    odd.mkdir()
    shutil.copy(forms / "case.zip", odd / "cas 1.zip")
    written = [("case.zip", forms, "case.zip/", forms),
               ("./case.zip", forms, "case.zip/", forms),
               (str(forms / "case.zip"), work, "case.zip/", forms),
               ("../case.zip", forms / "sub", "case.zip/", forms),
               ("link.zip", forms, "link.zip/", forms),
               ("dossier été/cas 1.zip", forms, "cas 1.zip/", odd),
               (str(odd / "cas 1.zip"), forms / "sub", "cas 1.zip/", odd)]
    for arg, cwd, member, home in written:
        got = investigate([arg], cwd)
        check(got and without(got, member) == without(want),
              f"investigate {arg} (in {cwd.name}): the folder's findings")
        store = home / ".dbautopsy" / (member[:-1] + ".facts.db")
        check(store.is_file(), f"investigate {arg}: its store {store.relative_to(work)}")
    check(not (forms / "sub" / ".dbautopsy").exists(), "nothing written in the current folder")
    # --store written every way: that file, nothing beside the archive.
    alone = work / "alone"
    alone.mkdir()
    shutil.copy(forms / "case.zip", alone / "case.zip")
    for store in ("stores dir/é s.db", "./s2.db", str(work / "s3.db")):
        got = investigate(["--store", store, "case.zip"], alone)
        check(got and without(got, "case.zip/") == without(want),
              f"--store {store}: the folder's findings")
        check((alone / store).is_file(), f"--store {store}: the store is there")
    check(not (alone / ".dbautopsy").exists(), "--store given: no .dbautopsy beside the archive")
    return len(written) + 3


def check_snapshot_flags(work, fixtures):
    """--before / --after naming members of the archive given alone."""
    lh = fixtures / "cases" / "league_headerless"
    dumps = [lh / "1_before.sql.gz", lh / "2_after.sql.gz"]
    folder = copy_files(lh, dumps, work / "lh-folder")
    flags = ["--before", "2_after.sql.gz", "--after", "1_before.sql.gz"]
    want = investigate(flags + [folder.name], work)
    plain = investigate([folder.name], work)
    check(want and plain and want["findings"] and without(want) != without(plain),
          "league_headerless: the reversed flags change the findings (else they prove nothing)")
    where = work / "lh"
    (where / "sub").mkdir(parents=True)
    make_zip(where / "lh.zip", lh, dumps)
    absolute = str(where / "lh.zip")
    os.symlink("lh.zip", where / "link.zip")
    (where / "dossier été").mkdir()
    shutil.copy(where / "lh.zip", where / "dossier été" / "lh 1.zip")
    forms = [("lh.zip/", "lh.zip", where), ("", "lh.zip", where), ("./lh.zip/", "lh.zip", where),
             (absolute + "/", "lh.zip", where), ("../lh.zip/", "../lh.zip", where / "sub"),
             ("", absolute, where / "sub"), ("link.zip/", "lh.zip", where),
             ("lh.zip/", "link.zip", where), ("link.zip/", "link.zip", where),
             ("dossier été/lh 1.zip/", "dossier été/lh 1.zip", where),
             ("lh 1.zip/", "dossier été/lh 1.zip", where)]
    for prefix, arg, cwd in forms:
        got = investigate(["--before", prefix + "2_after.sql.gz", "--after",
                           prefix + "1_before.sql.gz", arg], cwd)
        shown = Path(arg).name + "/"
        check(got and without(got, shown) == without(want),
              f"investigate {arg} --before {prefix}2_after.sql.gz (in {cwd.name}): the folder's")
    # Several paths: the flags name them as written, ./, absolute, from another folder.
    for before, after, args, cwd in (
            ("2_after.sql.gz", "./1_before.sql.gz", ["1_before.sql.gz", "2_after.sql.gz"], folder),
            (str(folder / "2_after.sql.gz"), "lh-folder/1_before.sql.gz",
             ["lh-folder/1_before.sql.gz", str(folder / "2_after.sql.gz")], work)):
        got = investigate(["--before", before, "--after", after] + args, cwd)
        check(got and without(got, "lh-folder/", str(folder) + "/") == without(want),
              f"investigate {' '.join(args)} --before {before}: the folder's")
    status, _, err = run(["investigate", "lh.zip", "--before", "lh.zip/nope.sql.gz"], where)
    check(status == 2 and "lh.zip/1_before.sql.gz" in err and "lh.zip/2_after.sql.gz" in err,
          f"--before naming no member: exit 2 listing the dumps: {status} {err[-400:]}")
    status, _, err = run(["analyze", "--store", "lh.zip"] + flags, where)
    check(status == 0, f"analyze --store lh.zip --before <member>: exit {status}: {err[-400:]}")
    status, out, err = run(["report", "--store", "lh.zip", "-f", "json", "--fail-on", "never"],
                           where)
    check(status == 0 and without(json.loads(out), "lh.zip/") == without(want),
          f"analyze --store lh.zip --before <member>, then report: the folder's: {err[-300:]}")
    return len(forms) + 4


def check_one_file(work, fixtures):
    """One file that is no archive of case files: a case of that one file."""
    league = fixtures / "cases" / "league_incident"
    pgdump = fixtures / "pgdump"
    count = 0
    for src, name, kind in ((league / "after.sql.gz", "after.sql.gz", "pgdump-sql"),
                            (league / "postgresql.log", "postgresql.log", "pg-log-stderr"),
                            (pgdump / "kitchen_sink.tar", "ks.tar", "pgdump-tar"),
                            (pgdump / "kitchen_sink.dir", "ks.dir", "pgdump-dir")):
        folder = work / f"one-{name}-folder"
        where = work / f"one-{name}"
        for d in (folder, where):
            d.mkdir()
            (shutil.copytree if src.is_dir() else shutil.copy)(src, d / name)
        want = investigate([folder.name], work)
        for arg in (name, name + "/") if src.is_dir() else (name,):
            got = investigate([arg], where)
            if not check(got is not None and want is not None, f"investigate {arg}"):
                continue
            count += 1
            check(inputs(got) == {name: kind}, f"investigate {arg}: one input of kind {kind}: "
                                               f"{inputs(got)}")
            check(without(got) == without(want),
                  f"investigate {arg}: the findings of a folder holding only it")
            check(listing(where) == [".dbautopsy", name] and
                  listing(where / ".dbautopsy") == [f"{name}.facts.db"],
                  f"investigate {arg}: its store beside it, nothing else: {listing(where)}")
            if src.is_dir():
                check(listing(where / name) == listing(src),
                      f"investigate {arg}: nothing written into the directory archive")
    return count


def check_several(work, fixtures):
    """Several paths, files and folders mixed, as `ingest` takes them."""
    count = 0
    league = fixtures / "cases" / "league_incident"
    case = copy_files(league, case_files(league), work / "several" / "league")
    want = investigate(["league"], case.parent)
    args = ["before.sql.gz", "./after.sql.gz", "etl.log", str(case / "postgresql.log")]
    got = investigate(args, case)
    check(got and without(got) == without(want),
          f"investigate {' '.join(args)}: the folder's findings, paths as the folder shows them")
    check((case / ".dbautopsy" / "facts.db").is_file(),
          "several paths: the store in the current folder's .dbautopsy/")
    # Overlapping: the folder and a file in it, read once.
    got = investigate([".", "before.sql.gz", "./etl.log"], case)
    check(got and without(got) == without(want) and
          sorted(inputs(got)) == sorted(inputs(want)),
          f"investigate . before.sql.gz etl.log: each file once: {sorted(inputs(got or {}))}")
    # One folder twice (itself and a link to it): each file read once, the other listed.
    os.symlink("league", case.parent / "link")
    got = investigate(["league", "link"], case.parent)
    check(got and without(got, "league/") == without(want) and
          inputs(got).get("link/before.sql.gz") == "unknown",
          f"investigate league link: each file read once: {sorted(inputs(got or {}).items())}")
    # Absolute paths from another folder: shown absolute.
    elsewhere = work / "several" / "elsewhere"
    elsewhere.mkdir()
    got = investigate([case / "before.sql.gz", case / "after.sql.gz"], elsewhere)
    two = copy_files(league, [league / "before.sql.gz", league / "after.sql.gz"],
                     work / "several" / "two")
    want_two = investigate(["two"], two.parent)
    check(got and pairs(got) == pairs(want_two) and
          sorted(inputs(got)) == [str(case / "after.sql.gz"), str(case / "before.sql.gz")],
          f"absolute paths from another folder: {sorted(inputs(got or {}))}")
    count += 4
    # django_drift: the migrations folder, the history, the dump, one archive among them.
    drift = fixtures / "cases" / "django_drift"
    files = case_files(drift)
    whole = copy_files(drift, files, work / "several" / "drift-folder")
    want = investigate([whole.name], whole.parent)
    mixed = work / "several" / "mixed"
    loose = [f for f in files if "migrations" not in f.relative_to(drift).parts[:1]]
    copy_files(drift, loose, mixed)
    make_zip(mixed / "migrations.zip", drift,
             [f for f in files if f.relative_to(drift).parts[0] == "migrations"])
    args = sorted(p.name for p in mixed.iterdir())
    got = investigate([f"mixed/{a}" for a in args], mixed.parent)
    check(got and without(got, "mixed/migrations.zip/", "mixed/") == without(want),
          f"investigate mixed/{{{','.join(args)}}}: the folder's findings")
    copy_files(drift, files, work / "several" / "drift")
    args = ["full.sql.gz", "django_migrations.csv", "migrations/", "./sqlmigrate", "app.log",
            "postgresql.log", "prod.dump", "schema.sql", "showmigrations.txt"]
    got = investigate(args, work / "several" / "drift")
    check(got and without(got) == without(want),
          f"investigate {' '.join(args)}: the folder's findings")
    return count + 2


def check_folders(work, fixtures):
    """The case folder written every way."""
    src = fixtures / "cases" / "league_incident"
    base = work / "folders"
    case = copy_files(src, case_files(src), base / "case")
    (base / "sub").mkdir()
    os.symlink("case", base / "link")
    odd = copy_files(src, case_files(src), base / "dossier été" / "cas 1")
    want = investigate(["case"], base)
    forms = [("case/", base), ("./case", base), ("case/.", base), (str(case), work),
             ("../case", base / "sub"), ("link", base), ("link/", base),
             ("dossier été/cas 1", base), (str(odd) + "/", base / "sub")]
    for arg, cwd in forms:
        got = investigate([arg], cwd)
        check(got and without(got) == without(want), f"investigate {arg} (in {cwd.name})")
    check(listing(case / ".dbautopsy") == ["facts.db"] and
          listing(odd / ".dbautopsy") == ["facts.db"] and
          not (base / "sub" / ".dbautopsy").exists() and not (base / ".dbautopsy").exists(),
          "the folder forms: the store in the case folder only")
    return len(forms)


def check_errors(work):
    where = work / "errors"
    where.mkdir()
    (where / "a.sql").write_text("CREATE TABLE a (id int);\n")
    for args, names in ((["nope.zip"], "nope.zip"), (["a.sql", "missing dir/"], "missing dir/"),
                        ([], "several files and folders")):
        status, out, err = run(["investigate"] + args, where)
        check(status == 2 and names in err,
              f"investigate {args}: exit 2 naming {names!r}: {status} {err.strip()!r}")
        check(listing(where) == ["a.sql"], f"investigate {args}: nothing written")
    return 3


def main():
    global EXE, ENV, SCRATCH
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    a = ap.parse_args()
    EXE = os.path.abspath(a.dbautopsy)
    fixtures = Path(a.fixtures).resolve()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        SCRATCH = tmp / "tmpdir"
        SCRATCH.mkdir()
        work = tmp / "work"
        work.mkdir()
        ENV = dict(os.environ, TMPDIR=str(SCRATCH))
        counts = {
            "archives": check_archives(work, fixtures),
            "archive paths and --store": check_archive_paths(work, fixtures),
            "--before/--after in an archive": check_snapshot_flags(work, fixtures),
            "one file": check_one_file(work, fixtures),
            "several paths": check_several(work, fixtures),
            "folder forms": check_folders(work, fixtures),
            "errors": check_errors(work),
        }
    for f in failures:
        print("FAIL:", f)
    if failures:
        print(f"{len(failures)} failures")
        return 1
    print("ok: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
