#!/usr/bin/env bash
# Stop the background log generator (the seed's ./scripts/stop-logs.sh).
source "$(dirname "${BASH_SOURCE[0]}")/lib-background.sh"
stop_background generator
