#!/usr/bin/env bash
# What the contract tests need besides the Python packages: Debian's chromium (Playwright
# drives it; no browser download) and the locked npm packages that compile the TypeScript
# types generated from the API document. Installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
    echo "installing chromium (Debian package)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
lock=clients/typescript/package-lock.json
stamp=clients/typescript/node_modules/.installed-lock
if ! cmp -s "$lock" "$stamp" 2>/dev/null; then
    (cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error)
    cp "$lock" "$stamp"
fi
