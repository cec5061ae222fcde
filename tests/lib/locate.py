"""Where the shared test corpus is, and how a test says it cannot run.

The corpus of real third-party files (pg_dump outputs, server logs, Django migrations) lives
outside this repository, in `shared/corpus` beside it. Tests find it through
$DBAUTOPSY_CORPUS, or by looking for `shared/corpus` in the folders above the repository.
When DBAUTOPSY_REQUIRE_ALL is set (scripts/test.sh sets it), a test that cannot find what it
needs fails instead of skipping.
"""
import os
import sys
from pathlib import Path

SKIP = 77  # CTest's SKIP_RETURN_CODE for these tests


def cannot_run(why):
    if os.environ.get("DBAUTOPSY_REQUIRE_ALL") or os.environ.get("CI") == "true":
        print(f"FAIL: {why}", file=sys.stderr)
        sys.exit(1)
    print(f"SKIP: {why}")
    sys.exit(SKIP)


def corpus_dir(repo_root):
    env = os.environ.get("DBAUTOPSY_CORPUS")
    if env:
        return Path(env)
    for parent in [Path(repo_root).resolve(), *Path(repo_root).resolve().parents]:
        candidate = parent / "shared" / "corpus"
        if (candidate / "pg_dump").is_dir():
            return candidate
    cannot_run("the shared corpus was not found (set DBAUTOPSY_CORPUS to its folder)")
