#!/usr/bin/env bash
# The local AWS emulator (moto 5.2.5: Organizations, IAM, STS) for orgctl's tests and demos.
#
#   scripts/emulator.sh install        create .venv-moto with the pinned moto (idempotent)
#   scripts/emulator.sh start [PORT]   start a server on 127.0.0.1 (a free port if none given)
#                                      and print the environment to use it
#   scripts/emulator.sh stop           stop the server `start` started
#   scripts/emulator.sh status         say whether it runs, and where
#
# The venv lives in the repository root (.venv-moto, gitignored; override with
# ORGCTL_MOTO_VENV); `start` keeps its pid, port and log under .orgctl-run/ (gitignored;
# override with ORGCTL_RUN_DIR, as the quick start's test does).
# The integration tests do not use `start`: they launch scripts/moto_server.py themselves, one
# server per test run, which exits when the test process does.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ORGCTL_MOTO_VENV:-$ROOT/.venv-moto}"
RUN="${ORGCTL_RUN_DIR:-$ROOT/.orgctl-run}"
MOTO_VERSION="5.2.5"
PY="$VENV/bin/python"

die() { echo "emulator.sh: $*" >&2; exit 1; }

installed() {
  [ -x "$PY" ] && "$PY" - "$MOTO_VERSION" <<'PYEOF' >/dev/null 2>&1
import importlib.metadata as m, sys
assert m.version("moto") == sys.argv[1]
for pkg in ("flask", "flask-cors", "boto3", "werkzeug"):
    m.version(pkg)
import moto.server, moto.organizations, moto.iam, moto.sts  # noqa: F401
PYEOF
}

cmd_install() {
  if installed; then
    echo "moto $MOTO_VERSION already installed in $VENV"
    return 0
  fi
  command -v python3 >/dev/null || die "python3 is required (3.9 or newer)"
  mkdir -p "$RUN"
  # One installer at a time (parallel test runs may all find the venv missing).
  exec 9>"$RUN/install.lock"
  if command -v flock >/dev/null; then flock 9; fi
  if installed; then
    echo "moto $MOTO_VERSION already installed in $VENV"
    return 0
  fi
  echo "installing moto $MOTO_VERSION into $VENV ..."
  if [ ! -x "$PY" ]; then
    python3 -m venv "$VENV" || die "python3 -m venv $VENV failed (install python3-venv?)"
  fi
  "$PY" -m pip install --disable-pip-version-check --quiet \
      "moto[organizations,iam,sts]==$MOTO_VERSION" flask flask-cors \
    || die "pip install of moto $MOTO_VERSION failed (see above)"
  installed || die "moto $MOTO_VERSION still not importable from $VENV after pip install"
  echo "moto $MOTO_VERSION installed in $VENV"
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

answers() {  # answers PORT: GET /moto-api/ returns 200
  "$PY" - "$1" <<'PYEOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1) as r:
    sys.exit(0 if r.status == 200 else 1)
PYEOF
}

running_pid() {  # prints the pid of the server `start` started, if it is alive
  [ -f "$RUN/moto.pid" ] || return 1
  local pid
  pid="$(cat "$RUN/moto.pid")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

print_env() {
  cat <<ENVEOF
export AWS_ENDPOINT_URL=http://127.0.0.1:$1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
ENVEOF
}

cmd_start() {
  installed || die "moto is not installed: run scripts/emulator.sh install"
  mkdir -p "$RUN"
  if pid="$(running_pid)"; then
    echo "already running (pid $pid)" >&2
    print_env "$(cat "$RUN/moto.port")"
    return 0
  fi
  local port="${1:-}"
  if [ -n "$port" ]; then
    [[ "$port" =~ ^[0-9]+$ ]] || die "port must be a number: $port"
    ! answers "$port" || die "something already answers on 127.0.0.1:$port"
  else
    port="$(free_port)"
  fi
  nohup "$PY" "$ROOT/scripts/moto_server.py" --port "$port" --watch-pid 0 \
      ${ORGCTL_MOTO_MANAGED_POLICIES:+--managed-policies "$ORGCTL_MOTO_MANAGED_POLICIES"} \
      >"$RUN/moto.log" 2>&1 </dev/null &
  local pid=$!
  for _ in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$RUN/moto.log" >&2; die "the server exited (log: $RUN/moto.log)"; }
    if answers "$port"; then
      echo "$pid" >"$RUN/moto.pid"
      echo "$port" >"$RUN/moto.port"
      echo "moto $MOTO_VERSION running on 127.0.0.1:$port (pid $pid, log $RUN/moto.log)" >&2
      print_env "$port"
      return 0
    fi
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  die "the server did not answer on 127.0.0.1:$port within 30 s (log: $RUN/moto.log)"
}

cmd_stop() {
  if pid="$(running_pid)"; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "stopped (pid $pid)"
  else
    echo "not running"
  fi
  rm -f "$RUN/moto.pid" "$RUN/moto.port"
}

cmd_status() {
  if pid="$(running_pid)"; then
    echo "running (pid $pid) on 127.0.0.1:$(cat "$RUN/moto.port")"
  else
    echo "not running"
    return 1
  fi
}

case "${1:-}" in
  install) cmd_install ;;
  start) shift; cmd_start "${1:-}" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 install | start [PORT] | stop | status" >&2; exit 2 ;;
esac
