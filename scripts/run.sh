#!/usr/bin/env bash
# `make run`: everything a developer needs to try Shoplingo locally, in one terminal.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f .env ]; then
    set -a; source .env; set +a
fi
UV=$(command -v uv || echo "python3 -m uv")
HOST=${SHOPLINGO_HOST:-127.0.0.1}
PORT=${SHOPLINGO_PORT:-8000}

pg_ready() { $UV run python -c "import asyncio, asyncpg, os, sys
url = os.environ.get('SHOPLINGO_DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432/postgres')
url = url.replace('postgresql+asyncpg://', 'postgresql://').rsplit('/', 1)[0] + '/postgres'
async def ping():
    await (await asyncpg.connect(url, timeout=3)).close()
try:
    asyncio.run(ping())
except Exception as exc:
    sys.exit(f'PostgreSQL is not reachable at {url}: {exc}')"; }
pg_ready || { echo "Start PostgreSQL (or: docker compose up -d) and try again." >&2; exit 1; }

$UV run shoplingo migrate
# the demo key is kept in var/demo-key: a restart reuses it while it works
DEMO=$($UV run shoplingo demo --json --key-file var/demo-key)
KEY=$(echo "$DEMO" | $UV run python -c "import json, sys; print(json.load(sys.stdin)['api_key'])")
NOTE=$(echo "$DEMO" | $UV run python -c "import json, sys; print(json.load(sys.stdin)['note'])")

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait || true; }
trap cleanup EXIT INT TERM

if [ -z "${SHOPLINGO_LLM_API_KEY:-}${DASHSCOPE_API_KEY:-}" ] && [ -z "${SHOPLINGO_LLM_PROVIDER:-}" ]; then
    # no model account: translate offline with the built-in pseudo-localising server
    FAKE_PORT=${SHOPLINGO_FAKE_LLM_PORT:-8090}
    export SHOPLINGO_LLM_PROVIDER=pseudo
    export SHOPLINGO_LLM_BASE_URL="http://127.0.0.1:$FAKE_PORT/v1"
    $UV run shoplingo fake-llm --port "$FAKE_PORT" &
    pids+=($!)
    LLM="pseudo (offline fake LLM on :$FAKE_PORT)"
else
    LLM="${SHOPLINGO_LLM_PROVIDER:-qwen-mt}"
fi

$UV run shoplingo serve --host "$HOST" --port "$PORT" &
pids+=($!)
$UV run shoplingo worker &
pids+=($!)

for _ in $(seq 1 60); do
    curl -fsS "http://$HOST:$PORT/health/live" >/dev/null 2>&1 && break
    sleep 0.5
done

cat <<MSG

  Shoplingo is running.
    API        http://$HOST:$PORT
    API docs   http://$HOST:$PORT/schema   (Swagger UI: /schema/swagger)
    Readiness  http://$HOST:$PORT/health/ready
    Worker     arq, queue "${SHOPLINGO_REDIS_PREFIX:-shoplingo}:queue" (imports, translations, re-checks, support drafts, webhooks)
    LLM        $LLM
    Demo key   $KEY
               ($NOTE; kept in var/demo-key)

  Try:  curl -H "Authorization: Bearer $KEY" http://$HOST:$PORT/v1/tenant
        SHOPLINGO_API_KEY=$KEY uv run shoplingo import catalog.csv
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
