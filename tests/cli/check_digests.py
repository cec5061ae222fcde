#!/usr/bin/env python3
"""The SHA-256 stored for every artifact is that of the file as stored, by Python's hashlib.

A file read through the input layer is hashed by the thread that reads it (the decoding or
read-ahead thread, or the reader itself for a small file), and whatever the reader did not
read is read and hashed when it stops: this checks the digest `dbautopsy ingest` stores
(`SELECT path, sha256 FROM artifact`) against hashlib's of the file, for

  - every artifact of every fixture case (fixtures/cases/*), each case ingested into a store
    of its own; a directory-format archive by its definition (the SHA-256 of the lines
    "<sha256>  <name>" of its files in byte order of names);
  - a real dump (fixtures/pgdump/kitchen_sink.full.sql) compressed by the gzip, zstd, xz and
    bzip2 tools; its gzip cut in the middle; the gzip of a real dump followed by a damaged
    gzip member and a good one (reading stops at the damaged member: the rest is hashed
    unread); an empty file; the dump repeated to more than 16 MiB (read ahead on a thread),
    plain and through `gzip -1`;
  - the same > 64 MiB gzip with `--max-decoded-mb 1`, where reading stops at the limit.

Usage: check_digests.py --dbautopsy PATH --fixtures DIR
Exits 1 when a check fails, listing every failure.
"""
import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def dir_sha(folder):
    lines = "".join(f"{file_sha(p)}  {p.name}\n"
                    for p in sorted(folder.iterdir(), key=lambda p: p.name.encode())
                    if p.is_file())
    return hashlib.sha256(lines.encode()).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbautopsy", required=True)
    ap.add_argument("--fixtures", required=True)
    args = ap.parse_args()
    exe = args.dbautopsy
    fixtures = Path(args.fixtures)
    failures = []
    checked = 0

    def check(ok, what):
        if not ok:
            failures.append(what)

    def stored(store):
        r = subprocess.run([exe, "query", "--store", str(store), "--format", "json",
                            "SELECT path, status, sha256 FROM artifact"],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"query {store}: exit {r.returncode}: {r.stderr}")
        return json.loads(r.stdout) if r.returncode == 0 else []

    def verify(base, store, expect_paths=None, expect_status=None):
        nonlocal checked
        rows = stored(store)
        check(rows, f"{base}: no artifact stored")
        seen = set()
        for row in rows:
            path = Path(row["path"])
            if not path.is_absolute():
                path = base / path if base.is_dir() else base.parent / path
            if not path.exists():
                path = Path(row["path"])
            seen.add(path.name)
            if path.is_dir():
                want = dir_sha(path)
            elif path.is_file():
                want = file_sha(path)
            else:
                check(False, f"{base}: artifact {row['path']} is not a file")
                continue
            check(row["sha256"] == want,
                  f"{row['path']} ({row['status']}): stored sha256 {row['sha256']!r}, "
                  f"hashlib says {want}")
            if expect_status and path.name in expect_status:
                check(row["status"] == expect_status[path.name],
                      f"{row['path']}: status {row['status']}, expected "
                      f"{expect_status[path.name]}")
            checked += 1
        for name in expect_paths or ():
            check(name in seen, f"{base}: {name} was not ingested")

    def ingest(store, *inputs, extra=()):
        r = subprocess.run([exe, "ingest", "--store", str(store), *extra, *map(str, inputs)],
                           capture_output=True, text=True)
        check(r.returncode in (0, 2) and "Sanitizer" not in r.stderr,
              f"ingest {' '.join(map(str, inputs))}: exit {r.returncode}: {r.stderr[-2000:]}")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # Every artifact of every fixture case.
        cases = sorted(p for p in (fixtures / "cases").iterdir() if p.is_dir())
        check(len(cases) > 10, f"only {len(cases)} fixture cases found")
        for case in cases:
            copy = tmp / "cases" / case.name
            shutil.copytree(case, copy, ignore=shutil.ignore_patterns(".dbautopsy"))
            store = tmp / f"{case.name}.db"
            ingest(store, copy)
            verify(copy, store)

        # Compressed copies, damaged copies, an empty file and large files.
        extra = tmp / "extra"
        extra.mkdir()
        dump = fixtures / "pgdump" / "kitchen_sink.full.sql"
        shutil.copy(dump, extra / "dump.sql")
        for tool, suffix in (("gzip", ".gz"), ("zstd", ".zst"), ("xz", ".xz"),
                             ("bzip2", ".bz2")):
            with open(extra / f"dump.sql{suffix}", "wb") as out:
                subprocess.run([tool, "-c", str(dump)], stdout=out, check=True)
        whole = (extra / "dump.sql.gz").read_bytes()
        (extra / "cut.sql.gz").write_bytes(whole[:len(whole) // 2])
        # A damaged second member (a gzip header, then garbage) before a good third one.
        damaged = bytes(range(256)) * 64
        (extra / "bad-member.sql.gz").write_bytes(
            whole + b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + damaged + whole * 20)
        (extra / "empty.sql").write_bytes(b"")
        big = dump.read_bytes() * ((17 << 20) // dump.stat().st_size + 1)
        (extra / "big.sql").write_bytes(big)
        with open(extra / "big.sql.gz", "wb") as out:
            subprocess.run(["gzip", "-1", "-c", str(extra / "big.sql")], stdout=out, check=True)
        store = tmp / "extra.db"
        ingest(store, *sorted(extra.iterdir()))
        verify(extra, store,
               expect_paths=["dump.sql", "dump.sql.gz", "dump.sql.zst", "dump.sql.xz",
                             "dump.sql.bz2", "cut.sql.gz", "bad-member.sql.gz", "empty.sql",
                             "big.sql", "big.sql.gz"],
               expect_status={"cut.sql.gz": "partial", "bad-member.sql.gz": "partial",
                              "dump.sql.gz": "ok", "dump.sql.zst": "ok", "big.sql": "ok"})

        # Reading stopped at a limit: more than 64 MiB decoded (the floor of the limits).
        huge = tmp / "huge"
        huge.mkdir()
        with open(huge / "huge.sql.gz", "wb") as out:
            gz = subprocess.Popen(["gzip", "-1", "-c"], stdin=subprocess.PIPE, stdout=out)
            for _ in range(4):
                gz.stdin.write(big)
            gz.stdin.close()
            check(gz.wait() == 0, "gzip -1 of the huge file failed")
        store = tmp / "huge.db"
        ingest(store, huge / "huge.sql.gz", extra=["--max-decoded-mb", "1"])
        verify(huge, store, expect_paths=["huge.sql.gz"],
               expect_status={"huge.sql.gz": "partial"})

    if failures:
        print(f"{len(failures)} failure(s):")
        for f in failures:
            print(" -", f)
        return 1
    print(f"ok: {checked} stored SHA-256 digests equal hashlib's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
