#!/usr/bin/env bash
# Stop the background shipper (the seed's ./scripts/stop-shipper.sh). It finishes sending what it
# read and writes its checkpoint before exiting, so nothing is lost or re-sent needlessly.
source "$(dirname "${BASH_SOURCE[0]}")/lib-background.sh"
stop_background shipper 20
