#!/usr/bin/env bash
# Shared by the start/stop helpers: run a logflow command in the background with a pid file and a
# log under .logflow/run/, and stop it again (TERM, then wait; KILL only after a timeout).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${LOGFLOW_RUN_DIR:-$ROOT/.logflow/run}"
mkdir -p "$RUN_DIR"

# start_background <name> <command...>
start_background() {
  local name="$1"; shift
  local pidfile="$RUN_DIR/$name.pid" logfile="$RUN_DIR/$name.log"
  if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "$name is already running (pid $(cat "$pidfile"))"
    return 0
  fi
  cd "$ROOT"
  nohup "$@" >>"$logfile" 2>&1 &
  echo $! >"$pidfile"
  sleep 0.5
  if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "$name failed to start; last lines of $logfile:" >&2
    tail -n 20 "$logfile" >&2
    rm -f "$pidfile"
    return 1
  fi
  echo "$name started (pid $(cat "$pidfile")), log: $logfile"
}

# stop_background <name> [timeout seconds]
stop_background() {
  local name="$1" timeout="${2:-15}"
  local pidfile="$RUN_DIR/$name.pid"
  if [[ ! -f "$pidfile" ]]; then
    echo "$name is not running (no $pidfile)"
    return 0
  fi
  local pid
  pid="$(cat "$pidfile")"
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "$name was not running (stale pid $pid)"
    rm -f "$pidfile"
    return 0
  fi
  kill -TERM "$pid"
  for ((i = 0; i < timeout * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "$name did not stop within ${timeout}s; killing pid $pid" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  echo "$name stopped"
}
