#!/usr/bin/env bash
# Start the log generator in the background (the seed's ./scripts/generate-logs.sh).
#   LOG_FILE (sample_logs/app.log)  RATE (10/s)  FORMAT (text|json)  BURST_INTERVAL (60 s)
#   Extra arguments go to `logflow generate` (e.g. --seed 7 --duration 300).
source "$(dirname "${BASH_SOURCE[0]}")/lib-background.sh"
LOG_FILE="${LOG_FILE:-sample_logs/app.log}"
(cd "$ROOT" && mkdir -p "$(dirname "$LOG_FILE")")
start_background generator node "$ROOT/bin/logflow.js" generate \
  --output "$LOG_FILE" --rate "${RATE:-10}" --format "${FORMAT:-text}" \
  --burst-interval "${BURST_INTERVAL:-60}" "$@"
