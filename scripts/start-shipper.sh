#!/usr/bin/env bash
# Start the shipper in the background (the seed's ./scripts/start-shipper.sh): tails
# SHIP_PATHS (default 'sample_logs/*.log') into logs-raw on Kafka, checkpoint in .logflow/run/.
# Extra arguments go to `logflow ship`. Status: `node bin/logflow.js ship status`.
source "$(dirname "${BASH_SOURCE[0]}")/lib-background.sh"
# The globs go to the shipper unexpanded (it re-expands them to find files created later).
set -f
# shellcheck disable=SC2086 # SHIP_PATHS may hold several paths
start_background shipper node "$ROOT/bin/logflow.js" ship ${SHIP_PATHS:-sample_logs/*.log} \
  --checkpoint "$RUN_DIR/shipper.checkpoint.json" "$@"
