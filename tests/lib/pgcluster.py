"""Throwaway PostgreSQL clusters for tests, started and stopped the way the fixture
generators do it (fixtures/generate/lib/pg_cluster.sh: as `postgres` when run as root, Unix
socket only, stopped by the pid in its postmaster.pid -- never by process name).

Standard library only; run with /usr/bin/python3.
"""
import os
import subprocess
import tempfile
from pathlib import Path


class Cluster:
    """A throwaway cluster managed through fixtures/generate/lib/pg_cluster.sh, so that the
    test and the fixture generators start and stop servers the same way (as `postgres`
    when run as root, socket only, stopped by the pid in its postmaster.pid)."""

    def __init__(self, lib: Path, bindir: Path, parent: Path, port: int, label: str):
        self.lib = lib
        self.bindir = bindir
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix=f"cluster-{label}-", dir=parent))
        # The server user must be able to enter it (pg_cluster_start chowns only DIR/sock
        # and DIR itself).
        os.chmod(self.dir, 0o755)
        self.running = False

    def _lib(self, function: str, *args: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, PG_BINDIR=str(self.bindir))
        return subprocess.run(
            ["bash", "-c", f'set -euo pipefail; source "$1"; shift; {function} "$@"', "_",
             str(self.lib), *args],
            env=env, capture_output=True, text=True)

    def start(self):
        r = self._lib("pg_cluster_start", str(self.dir), str(self.port))
        if r.returncode != 0:
            raise RuntimeError(f"cannot start PostgreSQL on port {self.port}:\n{r.stderr}")
        self.running = True

    def stop(self):
        if self.running:
            self._lib("pg_cluster_stop", str(self.dir))
            self.running = False

    def psql_args(self, db: str) -> list:
        return [str(self.bindir / "psql"), "-X", "-h", str(self.dir / "sock"),
                "-p", str(self.port), "-U", "postgres", "-d", db]

    def sql(self, db: str, sql: str) -> str:
        """Runs SQL that must succeed; returns the unaligned, tuples-only output."""
        r = subprocess.run(self.psql_args(db) + ["-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                                                 "-c", sql],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed on {db}: {sql}\n{r.stderr}")
        return r.stdout

    def databases(self) -> list:
        out = self.sql("postgres", "SELECT datname FROM pg_database "
                                   "WHERE datallowconn ORDER BY datname")
        return [d for d in out.splitlines() if d]


def find_bindir() -> Path | None:
    """$PG_BINDIR when set (and then only it, so that a CI job can point elsewhere or
    force the skip), else pg_config's, else Debian's PostgreSQL 15."""
    if os.environ.get("PG_BINDIR"):
        c = Path(os.environ["PG_BINDIR"])
        return c if (c / "postgres").exists() and (c / "psql").exists() else None
    candidates = []
    try:
        candidates.append(subprocess.run(["pg_config", "--bindir"], capture_output=True,
                                         text=True).stdout.strip())
    except OSError:
        pass
    candidates.append("/usr/lib/postgresql/15/bin")
    for c in candidates:
        if c and (Path(c) / "postgres").exists() and (Path(c) / "psql").exists():
            return Path(c)
    return None
