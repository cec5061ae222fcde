#!/usr/bin/env python3
"""Which dump is "before": --before / --after however the path is written, and the order
the dumps' own evidence gives without them.

Over copies of real fixtures (tests/cases' league_headerless_reversed: two pg_dump files
without a "Started on" header, read in the reverse of their order in time; the pg_dump
directory archives of fixtures/pgdump):

  - every way of writing a --before / --after path names the same artifact: absolute,
    relative to the current directory, relative to the case folder, `./x`, `x/../x`, a
    symlink to it, a directory archive with and without its trailing slash; both flags,
    each alone, and for `analyze --store` as well. Each run must give exactly the case's
    expected findings and the snapshot table must say `ordered_by = option` with the named
    dump in the role it was given (so a flag that was silently ignored fails: without it
    the evidence would give the same findings);
  - the flags against the evidence: --before after.sql.gz --after before.sql.gz is obeyed
    (every etl.id-remapped comes out reversed) and the report notes the evidence says the
    opposite;
  - a flag that names no dump exits 2 and lists the dumps: a missing file, a file outside
    the case folder, an artifact that is not a dump, the same dump for both flags;
  - --output / --repair / --store naming an input (a dump, through any path) exit 2 and
    leave it untouched; a report written into the case folder may be written again;
  - without flags: both read orders of the header-less pair come out in time order, with
    ordered_by naming the evidence (sequences, max ids) and a note saying so; a copy whose
    two files are renamed the other way round gives the same findings; in
    league_sequence_reset (every sequence lower in the later dump) the highest ids and the
    headers outvote the sequences, and the note says the evidence disagrees; without the
    header lines (stripped by a scripted edit) the evidence is split one against one, the
    note says so and asks for --before/--after, which put it right;
  - dumps whose tables have the same row counts (snapshot_equal_counts: a re-import by DELETE
    + INSERT) are two states, ordered by their sequences and ids, and --before/--after
    against that evidence, in every way of writing the paths, still give two; dumps that
    differ only in their rows (snapshot_update_only) are two states that the dates in their
    names order, over modification times that say the opposite; a pg_dumpall before and
    after gives each of its two databases two states.

Usage: check_snapshot_flags.py --dbautopsy PATH --fixtures DIR
Exits 1 when a check fails, listing every failure.
"""
import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "cases"))
from run_case import key, show  # noqa: E402  (the case test's own comparison)

CASE = "cases/league_headerless_reversed"
CHRONO = "cases/league_headerless"


class Checks:
    def __init__(self):
        self.failures = []
        self.current = ""

    def check(self, ok, what):
        if not ok:
            self.failures.append(f"{self.current}: {what}")
        return ok


def sha(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    exe = str(Path(args.dbautopsy).resolve())
    fixtures = Path(args.fixtures).resolve()
    expected = json.loads((fixtures / CASE / "expected.json").read_text())
    want = {key(f) for f in expected["findings"]}
    # The same findings with every etl.id-remapped reversed (what the wrong order gives).
    reversed_remaps = set()
    for f in expected["findings"]:
        if f["rule"] == "etl.id-remapped":
            s = dict(f["subject"])
            s["row_id"], s["value"], s["suggested_value"] = s["value"], s["suggested_value"], s["value"]
            reversed_remaps.add(key({"rule": f["rule"], "subject": s}))
    c = Checks()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        case = tmp / "case"
        case.mkdir()
        for name in ("before.sql.gz", "after.sql.gz"):
            shutil.copy(fixtures / CASE / name, case / name)
        (tmp / "elsewhere").mkdir()
        (tmp / "links").mkdir()
        os.symlink(case / "before.sql.gz", tmp / "links" / "b.sql.gz")
        os.symlink(case / "after.sql.gz", tmp / "links" / "a.sql.gz")
        outside = tmp / "elsewhere" / "before.sql.gz"
        shutil.copy(fixtures / CASE / "before.sql.gz", outside)
        hashes = {n: sha(case / n) for n in ("before.sql.gz", "after.sql.gz")}

        def run(argv, cwd=tmp):
            return subprocess.run([exe] + argv, cwd=cwd, capture_output=True, text=True,
                                  errors="replace", timeout=600)

        def query(store, sql):
            r = run(["query", "--store", str(store), "--format", "json", sql])
            if r.returncode != 0:
                raise RuntimeError(f"query failed ({r.returncode}): {r.stderr}")
            return json.loads(r.stdout)

        def snapshots(store):
            return query(store, "SELECT s.role, s.ordered_by, a.path FROM snapshot s "
                                "JOIN artifact a ON a.id = s.artifact_id ORDER BY s.id")

        def investigate(flags, cwd=tmp, folder=None, store=None):
            store = store or tmp / "facts.db"
            r = run(["investigate", str(folder or case), "--store", str(store), "--format",
                     "json", "--fail-on", "never"] + flags, cwd)
            return r, store

        def findings_of(r):
            doc = json.loads(r.stdout)
            return {key(f) for f in doc["findings"]}, doc

        def compare(got, expect):
            for k in sorted(expect - got):
                c.check(False, "missing: " + show(k))
            for k in sorted(got - expect):
                c.check(False, "extra: " + show(k))

        def expect_option(store, before, after):
            rows = snapshots(store)
            roles = {r["role"]: r for r in rows}
            c.check(len(rows) == 2, f"{len(rows)} snapshots, expected 2")
            c.check(all(r["ordered_by"] == "option" for r in rows),
                    f"ordered_by {[r['ordered_by'] for r in rows]}, expected option")
            if before:
                c.check(roles.get("before", {}).get("path") == before,
                        f"before is {roles.get('before')}, expected {before}")
            if after:
                c.check(roles.get("current", {}).get("path") == after,
                        f"current is {roles.get('current')}, expected {after}")

        b_abs, a_abs = str(case / "before.sql.gz"), str(case / "after.sql.gz")
        forms = [
            # (name, cwd, --before, --after)
            ("absolute", tmp, b_abs, a_abs),
            ("relative to the current directory", tmp, "case/before.sql.gz", "case/after.sql.gz"),
            ("relative to the case folder", tmp / "elsewhere", "before.sql.gz", "after.sql.gz"),
            ("./ relative to the case folder", tmp / "elsewhere", "./before.sql.gz",
             "./after.sql.gz"),
            ("./ relative to the current directory", tmp, "./case/before.sql.gz",
             "./case//after.sql.gz"),
            ("..", tmp / "elsewhere", "../case/before.sql.gz", "../case/../case/after.sql.gz"),
            ("x/../x", tmp, "case/../case/before.sql.gz", "elsewhere/../case/after.sql.gz"),
            ("symlinks to the dumps", tmp, "links/b.sql.gz", str(tmp / "links" / "a.sql.gz")),
            ("the current directory is the case folder", case, "before.sql.gz",
             str(case / "after.sql.gz")),
            # the file name shortened, in another case: one dump has it
            ("names without suffixes", tmp, "before", "after"),
            ("names without the compression's suffix, upper case", tmp, "BEFORE.SQL", "After.sql"),
        ]
        for name, cwd, before, after in forms:
            c.current = f"investigate --before {before} --after {after} (cwd: {name})"
            r, store = investigate(["--before", before, "--after", after], cwd=cwd)
            if c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"):
                compare(findings_of(r)[0], want)
                expect_option(store, "before.sql.gz", "after.sql.gz")
            # Each flag alone.
            for flag, value, role in (("--before", before, "before"), ("--after", after, "after")):
                c.current = f"investigate {flag} {value} alone (cwd: {name})"
                r, store = investigate([flag, value], cwd=cwd)
                if c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"):
                    compare(findings_of(r)[0], want)
                    expect_option(store, "before.sql.gz" if role == "before" else None,
                                  "after.sql.gz" if role == "after" else None)

        # The flags win over the evidence, and the report says the evidence disagrees.
        c.current = "investigate --before after.sql.gz --after before.sql.gz"
        r, store = investigate(["--before", "after.sql.gz", "--after", b_abs])
        if c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"):
            got, doc = findings_of(r)
            remaps = {k for k in got if k[0] == "etl.id-remapped"}
            c.check(remaps == reversed_remaps,
                    f"id-remapped {sorted(show(k) for k in remaps)}, expected them reversed")
            c.check(not any(k[0] == "etl.orphaned-reference" for k in got),
                    "orphans found with the snapshots swapped")
            c.check(any("says the opposite" in n for n in doc.get("notes", [])),
                    f"no note that the evidence disagrees: {doc.get('notes')}")
            expect_option(store, "after.sql.gz", "before.sql.gz")

        # analyze over the store of an investigate: paths relative to the case folder, to the
        # current directory, absolute, through a symlink.
        own_store = case / ".dbautopsy" / "facts.db"
        r = run(["investigate", str(case), "--format", "json", "--fail-on", "never"])
        c.current = "investigate with its own store"
        if c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"):
            for name, cwd, before, after in [
                    ("absolute", tmp, b_abs, a_abs),
                    ("relative to the current directory", tmp, "case/before.sql.gz",
                     "./case/after.sql.gz"),
                    ("relative to the case folder", tmp / "elsewhere", "before.sql.gz",
                     "after.sql.gz"),
                    ("symlinks", tmp, "links/b.sql.gz", "links/a.sql.gz")]:
                c.current = f"analyze --before {before} --after {after} (cwd: {name})"
                r = run(["analyze", "--store", str(own_store), "--before", before, "--after",
                         after], cwd)
                if c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"):
                    expect_option(own_store, "before.sql.gz", "after.sql.gz")
            c.current = "analyze --before missing.sql.gz"
            r = run(["analyze", "--store", str(own_store), "--before", "missing.sql.gz"])
            c.check(r.returncode == 2, f"exit {r.returncode}, expected 2")
            c.check("after.sql.gz, before.sql.gz" in r.stderr, f"dumps not listed: {r.stderr}")
            c.current = "analyze --store of a store that does not exist"
            r = run(["analyze", "--store", str(tmp / "no-such-store.db"), "--before",
                     "before.sql.gz"])
            c.check(r.returncode == 2 and "no fact store at" in r.stderr,
                    f"exit {r.returncode}: {r.stderr.strip()}")
            c.check(not (tmp / "no-such-store.db").exists(), "an empty store was created")
        shutil.rmtree(case / ".dbautopsy")

        # A flag that names no dump: exit 2, saying what was given and which dumps exist.
        (case / "notes.txt").write_text("what the customer said on the phone\n")
        bad = [
            (["--before", "missing.sql.gz"], "missing.sql.gz: no such file"),
            (["--after", str(tmp / "nowhere" / "after.sql.gz")], "no such file"),
            (["--before", str(outside)], "not one of the inputs"),
            (["--before", "notes.txt"], "not a dump"),
            (["--before", "before.sql.gz", "--after", b_abs], "both name before.sql.gz"),
        ]
        for flags, says in bad:
            c.current = "investigate " + " ".join(flags)
            r, _ = investigate(flags)
            c.check(r.returncode == 2, f"exit {r.returncode}, expected 2")
            c.check(says in r.stderr, f"stderr does not say '{says}': {r.stderr.strip()}")
            if "both name" not in says:
                c.check("the dumps are: after.sql.gz, before.sql.gz" in r.stderr,
                        f"stderr does not list the dumps: {r.stderr.strip()}")
            c.check(r.stdout == "", "a report was written although a flag named no dump")
        (case / "notes.txt").unlink()

        # No output may overwrite an input.
        for flag in ("--output", "--repair", "--store"):
            for value, cwd in ((b_abs, tmp), ("case/after.sql.gz", tmp),
                               ("links/b.sql.gz", tmp)):
                c.current = f"investigate {flag} {value}"
                argv = ["investigate", str(case), "--format", "json", "--fail-on", "never",
                        flag, value]
                if flag != "--store":
                    argv += ["--store", str(tmp / "facts.db")]
                r = run(argv, cwd)
                c.check(r.returncode == 2, f"exit {r.returncode}, expected 2")
                c.check("never writes over its inputs" in r.stderr,
                        f"stderr: {r.stderr.strip()}")
        # A report written into the case folder (a file of no known kind) may be written
        # again on the next run.
        for run_no in (1, 2):
            c.current = f"investigate -o case/report.txt, run {run_no}"
            r = run(["investigate", str(case), "--store", str(tmp / "facts.db"), "--fail-on",
                     "never", "-o", "case/report.txt"])
            c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}")
            c.check((case / "report.txt").is_file(), "no report written")
        (case / "report.txt").unlink()
        c.current = "investigate --output x --repair x"
        r = run(["investigate", str(case), "--store", str(tmp / "facts.db"), "-o",
                 str(tmp / "x"), "--repair", "x"])
        c.check(r.returncode == 2 and "both name" in r.stderr, f"exit {r.returncode}: {r.stderr}")
        c.current = "inputs after the runs"
        c.check({n: sha(case / n) for n in hashes} == hashes, "an input was changed")

        # Without flags: the evidence orders the header-less dumps, in either read order.
        for name, folder in (("reversed read order", fixtures / CASE),
                             ("read order = time order", fixtures / CHRONO)):
            c.current = f"investigate {folder.name} without flags ({name})"
            r, store = investigate([], folder=folder, store=tmp / f"{folder.name}.db")
            if c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"):
                got, doc = findings_of(r)
                compare(got, want)
                rows = snapshots(store)
                c.check([r["ordered_by"] for r in rows] == ["sequences+max ids"] * 2,
                        f"ordered_by {[r['ordered_by'] for r in rows]}")
                before = json.loads((folder / "expected.json").read_text())["snapshots"]["before"]
                c.check(rows[0]["role"] == "before" and rows[0]["path"] == before["file"],
                        f"before snapshot is {rows[0]}")
                c.check(any(n.startswith(f"snapshot order: {before['file']} was taken before")
                            and "sequences" in n for n in doc.get("notes", [])),
                        f"no note saying what decided: {doc.get('notes')}")
        # Evidence that disagrees (a sequence reset between the dumps): the majority decides
        # and the report says so.
        folder = fixtures / "cases" / "league_sequence_reset"
        c.current = f"investigate {folder.name} without flags"
        r, store = investigate([], folder=folder, store=tmp / f"{folder.name}.db")
        if c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"):
            got, doc = findings_of(r)
            rows = snapshots(store)
            c.check([(r["role"], r["path"], r["ordered_by"]) for r in rows]
                    == [("before", "before.sql.gz", "max ids+header"),
                        ("current", "after.sql.gz", "max ids+header")], f"snapshots {rows}")
            c.check(any("the evidence disagrees: the sequences" in n for n in doc.get("notes", [])),
                    f"no note that the sequences disagree: {doc.get('notes')}")
        # The same dumps without their "Started on" / "Completed on" lines (a scripted edit:
        # what pg_dump without -v leaves out): the sequences and the highest ids are split one
        # against one. The sequences decide (the first kind) and the note must say that the
        # evidence is split and ask for --before/--after; given, they put it right.
        split = tmp / "split"
        split.mkdir()
        for name in ("before.sql.gz", "after.sql.gz"):
            with gzip.open(folder / name, "rt", encoding="utf-8") as src, \
                    gzip.open(split / name, "wt", encoding="utf-8") as dst:
                for line in src:
                    if not line.startswith(("-- Started on ", "-- Completed on ")):
                        dst.write(line)
        c.current = "investigate league_sequence_reset without headers"
        r, store = investigate([], folder=split, store=tmp / "split.db")
        if c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"):
            got, doc = findings_of(r)
            rows = snapshots(store)
            c.check([r["ordered_by"] for r in rows] == ["sequences"] * 2, f"snapshots {rows}")
            c.check(any("as many kinds of evidence say one thing as the other" in n
                        and "give --before/--after" in n for n in doc.get("notes", [])),
                    f"no note that the evidence is split: {doc.get('notes')}")
        c.current = "investigate league_sequence_reset without headers, --before before.sql.gz"
        r, store = investigate(["--before", "before.sql.gz"], folder=split,
                               store=tmp / "split.db")
        if c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"):
            expect_reset = {key(f) for f in json.loads(
                (folder / "expected.json").read_text())["findings"]}
            compare(findings_of(r)[0], expect_reset)
        # The same two files renamed the other way round: same findings.
        swapped = tmp / "swapped"
        swapped.mkdir()
        shutil.copy(fixtures / CASE / "before.sql.gz", swapped / "z.sql.gz")
        shutil.copy(fixtures / CASE / "after.sql.gz", swapped / "a.sql.gz")
        c.current = "investigate z.sql.gz (before) a.sql.gz (after)"
        r, store = investigate([], folder=swapped, store=tmp / "swapped.db")
        if c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"):
            compare(findings_of(r)[0], want)

        # Directory archives: with and without the trailing slash.
        archives = tmp / "archives"
        archives.mkdir()
        for d in ("kitchen_sink.dir", "large_objects.dir"):
            shutil.copytree(fixtures / "pgdump" / d, archives / d)
        for before, after, named_before, named_after in (
                ("large_objects.dir/", "kitchen_sink.dir", "large_objects.dir", "kitchen_sink.dir"),
                ("kitchen_sink.dir", str(archives / "large_objects.dir") + "/", "kitchen_sink.dir",
                 "large_objects.dir"),
                ("./kitchen_sink.dir//", "archives/large_objects.dir/", "kitchen_sink.dir",
                 "large_objects.dir")):
            c.current = f"investigate archives --before {before} --after {after}"
            r, store = investigate(["--before", before, "--after", after], folder=archives,
                                   store=tmp / "archives.db", cwd=tmp)
            if c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"):
                expect_option(store, named_before, named_after)

        # Dumps whose every table has the same row count in both (a re-import by DELETE +
        # INSERT), without a header: two states, told apart by their sequences, ids and rows
        # (fixtures/generate/snapshot_states.sh).
        equal = tmp / "equal"
        shutil.copytree(fixtures / "cases" / "snapshot_equal_counts", equal)
        (equal / "expected.json").unlink()
        os.symlink(equal / "after.sql.gz", tmp / "links" / "equal_after.sql.gz")
        c.current = "investigate snapshot_equal_counts without flags"
        r, store = investigate([], folder=equal, store=tmp / "equal.db")
        if c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"):
            rows = snapshots(store)
            c.check([(r["role"], r["path"], r["ordered_by"]) for r in rows]
                    == [("before", "before.sql.gz", "sequences+max ids"),
                        ("current", "after.sql.gz", "sequences+max ids")], f"snapshots {rows}")
        # The flags against the evidence, every way a path is written: two states as they say.
        for name, cwd, before, after in [
                ("absolute", tmp, str(equal / "after.sql.gz"), str(equal / "before.sql.gz")),
                ("relative to the current directory", tmp, "equal/after.sql.gz",
                 "equal/before.sql.gz"),
                ("relative to the case folder", tmp / "elsewhere", "after.sql.gz",
                 "before.sql.gz"),
                ("./", equal, "./after.sql.gz", "./before.sql.gz"),
                ("a symlink", tmp, "links/equal_after.sql.gz", "./equal/../equal/before.sql.gz")]:
            c.current = (f"investigate snapshot_equal_counts --before {before} --after {after} "
                         f"(cwd: {name})")
            r, store = investigate(["--before", before, "--after", after], cwd=cwd, folder=equal,
                                   store=tmp / "equal.db")
            if c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"):
                expect_option(store, "after.sql.gz", "before.sql.gz")
        # Only the rows differ (an UPDATE): two states, which the dates in the file names order,
        # over modification times that say the opposite.
        update = tmp / "update"
        shutil.copytree(fixtures / "cases" / "snapshot_update_only", update)
        os.utime(update / "shop_2026-07-20.sql.gz", (2_000_000_000, 2_000_000_000))
        os.utime(update / "shop_2026-07-21.sql.gz", (1_000_000_000, 1_000_000_000))
        c.current = "investigate snapshot_update_only (mtimes reversed)"
        r, store = investigate([], folder=update, store=tmp / "update.db")
        if c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"):
            rows = snapshots(store)
            c.check([(r["role"], r["path"], r["ordered_by"]) for r in rows]
                    == [("before", "shop_2026-07-20.sql.gz", "file names"),
                        ("current", "shop_2026-07-21.sql.gz", "file names")], f"snapshots {rows}")
            c.check(any("the dates in the file names" in n for n in
                        json.loads(r.stdout).get("notes", [])), "no note naming the file names")
        # A pg_dumpall before and after, of two databases: each database's pair is two states,
        # ordered by its own evidence (the snapshot table keeps the database analysed last;
        # the notes say each one's order).
        folder = fixtures / "cases" / "snapshot_equal_counts_dumpall"
        for flags in ([], ["--before", "before_all.sql.gz", "--after", "after_all.sql.gz"]):
            c.current = f"investigate {folder.name} {' '.join(flags)}"
            r, store = investigate(flags, folder=folder, store=tmp / "dumpall.db")
            if c.check(r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"):
                notes = json.loads(r.stdout).get("notes", [])
                for db in ("shop", "stock"):
                    said = (f"database {db}: snapshot order: before_all.sql.gz before "
                            "after_all.sql.gz, as --before/--after say" if flags else
                            f"database {db}: snapshot order: before_all.sql.gz was taken before "
                            "after_all.sql.gz, by the sequences")
                    c.check(any(n.startswith(said) for n in notes),
                            f"no note '{said}': {notes}")

    for f in c.failures:
        print("FAIL:", f)
    print(f"check_snapshot_flags: {len(c.failures)} failures")
    sys.exit(1 if c.failures else 0)


if __name__ == "__main__":
    main()
