#!/usr/bin/env bash
# The seed's one-command demo: the whole pipeline for ~45 s, then counts and sample documents.
# Pass --mode kafka to run it on the real services (start them first: npm run services -- up).
set -euo pipefail
cd "$(dirname "$0")/.."
exec node bin/logflow.js demo "$@"
