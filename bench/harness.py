"""What the benches share: a throwaway database, Redis prefix and work folder; starting and
stopping the API, the worker and the fake LLM; CPU and memory of a process tree; the printed
table rows and verdicts.

Benches import it as a sibling module (``python bench/<name>.py`` puts bench/ on the path).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import redis
from sqlalchemy.engine import make_url

from shoplingo.core.db import drop_database

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DEFAULT_DB = "postgresql+asyncpg://postgres@127.0.0.1:5432/shoplingo"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
# Budgets no bench reaches: a bench measures the limiter's Redis round trip, never a 429.
UNTHROTTLED = {
    f"SHOPLINGO_RATE_LIMIT_{kind}_{scope}_{unit}": "1000000000"
    for kind in ("STOREFRONT", "API")
    for scope in ("KEY", "TENANT")
    for unit in ("PER_SECOND", "BURST")
}


# ----------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "shoplingo.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"shoplingo {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def start(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """``shoplingo <args>`` in its own session, its output appended to ``log``."""
    return start_program(env, log, [sys.executable, "-m", "shoplingo.cli", *args])


def start_program(env: dict[str, str], log: Path, argv: list[str]) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the child keeps its own handle
        return subprocess.Popen(
            argv,
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only us; we stop the children in order
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    # granian's workers live in the server's session: make sure none outlive it
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def tail(log: Path, lines: int = 40) -> str:
    if not log.exists():
        return ""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def wait_http(
    url: str, proc: subprocess.Popen[bytes], log: Path, name: str, seconds: float = 60
) -> None:
    """Until ``url`` answers 200; fails early when ``proc`` (called ``name``) exits."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail(log)}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {seconds:.0f} s:\n{tail(log)}")


def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    wait_http(f"{base}/health/ready", proc, log, "the API")


def wait_fake(fake: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    wait_http(f"{fake}/_stats", proc, log, "the fake LLM")


def wait_worker(
    rds: redis.Redis, health_key: str, proc: subprocess.Popen[bytes], log: Path
) -> None:
    """Until arq has started and written its health-check key (it polls the queue from then)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited with {proc.returncode}:\n{tail(log)}")
        if rds.exists(health_key):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the worker wrote no {health_key} within 60 s:\n{tail(log)}")


def check_is_worker(pid: int) -> None:
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    if b"shoplingo.cli" not in argv or b"worker" not in argv:
        raise RuntimeError(f"pid {pid} is not the worker: {argv!r}")


# ----------------------------------------------------------------------------- the stack


@dataclass(frozen=True)
class BenchDatabase:
    name: str
    url: str  # SQLAlchemy URL (the asyncpg driver), as SHOPLINGO_DATABASE_URL
    dsn: str  # plain postgresql:// DSN for asyncpg.connect


def bench_database() -> BenchDatabase:
    """A fresh database name on the server of SHOPLINGO_DATABASE_URL (``migrate`` creates it)."""
    base_url = make_url(os.environ.get("SHOPLINGO_DATABASE_URL", DEFAULT_DB))
    name = f"shoplingo_bench_{secrets.token_hex(4)}"
    return BenchDatabase(
        name=name,
        url=base_url.set(database=name).render_as_string(hide_password=False),
        dsn=base_url.set(drivername="postgresql", database=name).render_as_string(
            hide_password=False
        ),
    )


@dataclass
class Stack:
    """A bench's own database, Redis prefix and work folder (imports/, logs/), the environment
    that points the shoplingo commands at them, and the processes started in it."""

    db: BenchDatabase
    redis_url: str
    prefix: str
    work: Path
    port: int
    env: dict[str, str]
    rds: redis.Redis
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def logs(self) -> Path:
        return self.work / "logs"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def health_key(self) -> str:
        return f"{self.prefix}:queue:health-check"

    def start(
        self, log_name: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        proc = start(env or self.env, self.logs / log_name, *args)
        self.procs.append(proc)
        return proc

    def serve(self) -> subprocess.Popen[bytes]:
        """The API on the stack's port, once it is ready."""
        proc = self.start("api.log", "serve", "--port", str(self.port))
        wait_ready(self.base, proc, self.logs / "api.log")
        return proc

    def fresh_worker(
        self, log_name: str = "worker.log", env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """A new worker (the ones before it stopped), once arq polls the queue."""
        for old in self.workers:
            stop(old)
        self.rds.delete(self.health_key)
        log = self.logs / log_name
        proc = start(env or self.env, log, "worker")
        self.workers.append(proc)
        wait_worker(self.rds, self.health_key, proc, log)
        check_is_worker(proc.pid)
        return proc

    def new_tenant(self, name: str) -> tuple[str, str]:
        """(tenant id, admin API key) of a new en-US tenant."""
        args = ["tenants", "create", "--name", name, "--source-locale", "en-US", "--json"]
        created = json.loads(run_cli(self.env, *args))
        return created["tenant_id"], created["api_key"]

    def clean_up(self) -> None:
        clean_up(
            [*self.workers, *reversed(self.procs)],
            self.db.url,
            self.rds,
            self.prefix,
            self.work,
        )


def new_stack(kind: str, **settings: str) -> Stack:
    """Names for a throwaway stack (nothing is created on the servers yet: ``migrate`` makes
    the database); ``settings``: further SHOPLINGO_* variables."""
    db = bench_database()
    redis_url = os.environ.get("SHOPLINGO_REDIS_URL", DEFAULT_REDIS)
    prefix = f"shoplingo-bench-{secrets.token_hex(4)}"
    work = Path(tempfile.mkdtemp(prefix=f"shoplingo-{kind}-bench-"))
    (work / "imports").mkdir()
    (work / "logs").mkdir()
    port = free_port()
    env = {
        **UNTHROTTLED,
        **os.environ,
        "SHOPLINGO_DATABASE_URL": db.url,
        "SHOPLINGO_REDIS_URL": redis_url,
        "SHOPLINGO_REDIS_PREFIX": prefix,
        "SHOPLINGO_IMPORT_DIR": str(work / "imports"),
        "SHOPLINGO_PORT": str(port),
        "SHOPLINGO_LOG_LEVEL": "WARNING",
        **{f"SHOPLINGO_{name.upper()}": value for name, value in settings.items()},
    }
    return Stack(db, redis_url, prefix, work, port, env, redis.Redis.from_url(redis_url))


def clean_up(
    procs: Iterable[subprocess.Popen[bytes]], db_url: str, rds: redis.Redis, prefix: str, work: Path
) -> None:
    """Stop the processes, then drop the database, the Redis keys and the work folder a bench
    made; say what could not be removed."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip clean-up
    print("cleaning up ...", flush=True)
    for proc in procs:
        stop(proc)
    db_name = make_url(db_url).database
    try:
        asyncio.run(drop_database(db_url))
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"could not drop database {db_name}: {exc}", file=sys.stderr)
    try:
        keys = list(rds.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            rds.delete(*keys)
        rds.close()
    except redis.RedisError as exc:
        print(f"could not delete redis keys *{prefix}*: {exc}", file=sys.stderr)
    shutil.rmtree(work, ignore_errors=True)
    print(f"database {db_name} dropped, redis keys *{prefix}* deleted, {work} removed")


# ----------------------------------------------------------------------------- measurements


def descendants(pid: int) -> list[int]:
    """The process's children, their children, and so on (those alive now)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for task in Path(f"/proc/{parent}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        if parent != pid:
            found.append(parent)
    return found


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants so far, those that ended
    included (a waited-for child's time is added to its parent's)."""
    total = 0
    for member in (pid, *descendants(pid)):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            stat = Path(f"/proc/{member}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
            total += sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def proc_status_mb(pid: int) -> dict[str, float]:
    """VmRSS / VmHWM of a process in MB (1e6 bytes)."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024 / 1e6
    return values


def pss_mb(pid: int) -> float:
    """A process's proportional set size in MB: a page it shares with n processes counts 1/n."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024 / 1e6
    return 0.0


class PeakMemory:
    """The most memory a process and its descendants held at once, as often as ``sample`` is
    called: the sum of their PSS, so the pages a forked child shares with its parent count
    once (a sum of RSS would count them in each process)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peak_mb = 0.0
        self.processes = 0

    def sample(self) -> None:
        total, members = 0.0, 0
        for member in (self.root, *descendants(self.root)):
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                total += pss_mb(member)
                members += 1
        if total > self.peak_mb:
            self.peak_mb, self.processes = total, members


# ----------------------------------------------------------------------------- printing


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def table_row(name: str, value: str, rate: str = "", target: str = "", result: str = "") -> None:
    print(f"{name:<36} {value:>10} {rate:>10}  {target:<28} {result}".rstrip())
