"""Where the shared test corpus is, and how a test says it cannot run.

The corpus of real third-party files (pg_dump outputs, server logs, Django migrations) lives
outside this repository, in `shared/corpus` beside it. Tests find it through
$DBAUTOPSY_CORPUS, or by looking for `shared/corpus` in the folders above the repository (or,
for a clone of a local repository, above the one it was cloned from).
When DBAUTOPSY_REQUIRE_ALL is set (scripts/test.sh sets it), a test that cannot find what it
needs fails instead of skipping.
"""
import os
import subprocess
import sys
from pathlib import Path

SKIP = 77  # CTest's SKIP_RETURN_CODE for these tests


def cannot_run(why):
    if required():
        print(f"FAIL: {why}", file=sys.stderr)
        sys.exit(1)
    print(f"SKIP: {why}")
    sys.exit(SKIP)


def _starting_points(repo_root):
    """The repository, and, for a clone of a local repository, the repository it was cloned
    from: a clean clone made elsewhere still finds the corpus beside its origin."""
    points = [Path(repo_root).resolve()]
    try:
        url = subprocess.run(["git", "-C", str(repo_root), "config", "--get", "remote.origin.url"],
                             capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        url = ""
    if url.startswith("file://"):
        url = url[len("file://"):]
    if url and Path(url).is_dir():
        points.append(Path(url).resolve())
    return points


def find_corpus(repo_root):
    """The corpus folder, or None."""
    env = os.environ.get("DBAUTOPSY_CORPUS")
    if env:
        return Path(env)
    for start in _starting_points(repo_root):
        for parent in [start, *start.parents]:
            candidate = parent / "shared" / "corpus"
            if (candidate / "pg_dump").is_dir():
                return candidate
    return None


def required():
    return bool(os.environ.get("DBAUTOPSY_REQUIRE_ALL")) or os.environ.get("CI") == "true"


def corpus_dir(repo_root):
    found = find_corpus(repo_root)
    if found:
        return found
    cannot_run("the shared corpus was not found (set DBAUTOPSY_CORPUS to its folder)")


if __name__ == "__main__":
    # `locate.py` prints the corpus folder (scripts/test.sh exports it for every test).
    print(corpus_dir(Path(__file__).resolve().parents[2]))
