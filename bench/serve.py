"""granian vs uvicorn serving the same Shoplingo app, measured with wrk on loopback.

Run from the project root: ``uv run python bench/serve.py`` (or ``make bench-serve``).
It creates a throwaway database, starts each server in turn with one worker, loads
``/health/live`` and an authenticated product read, prints a table and a verdict, then
stops the servers and drops the database, also when something fails.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from harness import (
    BIN,
    UNTHROTTLED,
    bench_database,
    free_port,
    run_cli,
    start_program,
    stop,
    wait_http,
)

from shoplingo.core.db import drop_database

APP = "shoplingo.app:create_app"
SKU = "BENCH-1"
WRK_LOAD = ["-t2", "-c32", "--latency"]
WARMUP, DURATION = "1s", "5s"
# Each server runs twice, in A-B-B-A order, and keeps its better run per endpoint: on a shared
# 2-core box a background job otherwise decides the verdict by landing on one server only.
ORDER = ["granian", "uvicorn", "uvicorn", "granian"]
SERVERS = {  # each gets --host 127.0.0.1 --port <free port> APP appended
    "granian": "granian --interface asgi --factory --loop uvloop --workers 1 --no-ws"
    " --log-level warning",
    "uvicorn": "uvicorn --factory --loop uvloop --http httptools --workers 1 --no-access-log"
    " --log-level warning",
}
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Result:
    server: str
    endpoint: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx responses plus socket errors


def start_server(name: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    program, *flags = SERVERS[name].split()
    argv = [str(BIN / program), *flags, "--host", "127.0.0.1", "--port", str(port), APP]
    return start_program(env, log, argv)


def wrk(url: str, duration: str, headers: list[str]) -> str:
    argv = ["wrk", *WRK_LOAD, f"-d{duration}", *(a for h in headers for a in ("-H", h)), url]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def parse_wrk(server: str, endpoint: str, out: str) -> Result:
    def latency(pct: str) -> float:
        match = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if match is None:
            raise RuntimeError(f"no {pct}% latency in wrk output:\n{out}")
        return float(match[1]) * UNITS_MS[match[2]]

    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    if rps is None:
        raise RuntimeError(f"no Requests/sec in wrk output:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(r"Socket errors:(.*)", out)
    errors = int(non_2xx[1]) if non_2xx else 0
    errors += sum(int(n) for n in re.findall(r"\d+", sockets[1])) if sockets else 0
    return Result(server, endpoint, float(rps[1]), latency("50"), latency("99"), errors)


def bench_server(name: str, env: dict[str, str], api_key: str, logs: Path) -> list[Result]:
    port, log = free_port(), logs / f"{name}.log"
    base, auth = f"http://127.0.0.1:{port}", f"Authorization: Bearer {api_key}"
    proc = start_server(name, port, env, log)
    try:
        wait_http(f"{base}/health/live", proc, log, name, seconds=30)
        headers = {"Authorization": f"Bearer {api_key}"}
        body = {"title": "Bench product", "price": "12.99", "currency": "EUR"}
        httpx.put(f"{base}/v1/products/{SKU}", json=body, headers=headers).raise_for_status()
        httpx.get(f"{base}/v1/products/{SKU}", headers=headers).raise_for_status()
        results = []
        for endpoint, extra in (("/health/live", []), (f"/v1/products/{SKU}", [auth])):
            print(f"  {name:<8} {endpoint:<20} {WARMUP} warm-up, {DURATION}: ", end="", flush=True)
            wrk(base + endpoint, WARMUP, extra)
            results.append(parse_wrk(name, endpoint, wrk(base + endpoint, DURATION, extra)))
            print(f"{results[-1].rps:.0f} req/s")
        if proc.poll() is not None:
            raise RuntimeError(f"{name} died during the load:\n{log.read_text()}")
        return results
    except httpx.HTTPStatusError as exc:
        raise RuntimeError(f"{exc}\n{name} log:\n{log.read_text()}") from exc
    finally:
        stop(proc)


def report(runs: list[Result]) -> None:
    best: dict[tuple[str, str], Result] = {}
    for run in runs:
        key = (run.server, run.endpoint)
        if key not in best or run.rps > best[key].rps:
            best[key] = run
    results = sorted(best.values(), key=lambda r: (r.endpoint != "/health/live", r.server))
    print(
        f"\nbest of {len(ORDER) // len(SERVERS)} runs each; wrk {' '.join(WRK_LOAD)} -d{DURATION}"
    )
    print(f"{'server':<9} {'endpoint':<20} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in results:
        print(
            f"{r.server:<9} {r.endpoint:<20} {r.rps:>8.0f} {r.p50_ms:>8.2f} "
            f"{r.p99_ms:>8.2f} {r.errors:>7}"
        )
    ratios = []
    print()
    for endpoint in dict.fromkeys(r.endpoint for r in results):
        g, u = best["granian", endpoint], best["uvicorn", endpoint]
        ratios.append(g.rps / u.rps)
        p99 = g.p99_ms / u.p99_ms  # below 1: granian's tail is shorter
        print(f"granian/uvicorn {endpoint:<20} req/s x{ratios[-1]:.2f}  p99 x{p99:.2f}")
    geomean = math.prod(ratios) ** (1 / len(ratios))
    winner, factor = ("granian", geomean) if geomean >= 1 else ("uvicorn", 1 / geomean)
    noise = " (within 5%: no meaningful difference)" if factor < 1.05 else ""
    split = "" if all(r >= 1 for r in ratios) or all(r < 1 for r in ratios) else ", endpoints split"
    print(f"\nVerdict: {winner} is faster, x{factor:.2f} req/s (geometric mean){split}{noise}")
    if any(r.errors for r in results):
        print("WARNING: some runs had errors or non-2xx responses; the numbers are suspect")


def main() -> int:
    if shutil.which("wrk") is None:
        print("bench/serve.py needs wrk on PATH: apt-get install -y wrk", file=sys.stderr)
        return 2
    db = bench_database()
    env = {
        **UNTHROTTLED,
        **os.environ,
        "SHOPLINGO_DATABASE_URL": db.url,
        "SHOPLINGO_LOG_LEVEL": "WARNING",
    }
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up below on TERM too
    results: list[Result] = []
    try:
        print(f"database {db.name}: migrating", flush=True)
        run_cli(env, "migrate")
        new_tenant = ["tenants", "create", "--name", "Bench", "--source-locale", "en-US", "--json"]
        api_key = json.loads(run_cli(env, *new_tenant))["api_key"]
        with tempfile.TemporaryDirectory(prefix="shoplingo-bench-") as logs:
            for server in ORDER:
                results += bench_server(server, env, api_key, Path(logs))
    except (RuntimeError, httpx.HTTPError, subprocess.TimeoutExpired) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        asyncio.run(drop_database(db.url))
        print(f"database {db.name}: dropped", flush=True)
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
