#!/usr/bin/env bash
# Local Airflow for roadsafe: `make up` / `make down`.
#
#   scripts/airflow-local.sh up      migrate the SQLite metadata DB, create pool roadsafe_duckdb (1 slot),
#                                    start scheduler, dag-processor, triggerer and api-server in the
#                                    background, unpause the roadsafe DAGs, wait until healthy, print
#                                    the UI address and login
#   scripts/airflow-local.sh down    SIGTERM exactly the processes `up` started (PIDs in
#                                    $ROADSAFE_HOME/airflow/pids), wait, SIGKILL what is left after 45 s
#   scripts/airflow-local.sh status  show the recorded processes and the health endpoint
#
# When the roadsafe CLI has a `portal` command, `up` also starts the upload portal on
# $ROADSAFE_PORTAL_PORT (default 8510) with ROADSAFE_AIRFLOW_URL/_USERNAME/_PASSWORD set so it can post
# asset events on roadsafe_inbox; `down` stops it with the rest.
#
# Everything lives under $ROADSAFE_HOME/airflow (AIRFLOW_HOME): airflow.db, logs/, pids, the admin
# password and the JWT secret shared by all components.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=${AIRFLOW_BIN:-$REPO/.venv/bin}
export ROADSAFE_HOME=${ROADSAFE_HOME:-$REPO/var}
mkdir -p "$ROADSAFE_HOME"
ROADSAFE_HOME=$(cd "$ROADSAFE_HOME" && pwd)
export ROADSAFE_HOME
export AIRFLOW_HOME=$ROADSAFE_HOME/airflow
PORT=${AIRFLOW_PORT:-8080}
PORTAL_PORT=${ROADSAFE_PORTAL_PORT:-8510}
PIDS=$AIRFLOW_HOME/pids
LOGS=$AIRFLOW_HOME/logs
COMPONENTS=(scheduler dag-processor triggerer api-server)

export AIRFLOW__CORE__DAGS_FOLDER=$REPO/dags
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__PARALLELISM=4
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlite:///$AIRFLOW_HOME/airflow.db
export AIRFLOW__CORE__AUTH_MANAGER=airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=$AIRFLOW_HOME/simple_auth_manager_passwords.json
export AIRFLOW__API__HOST=${AIRFLOW__API__HOST:-127.0.0.1}
export AIRFLOW__API__PORT=$PORT
export AIRFLOW__API__BASE_URL=http://localhost:$PORT
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://localhost:$PORT/execution/
export AIRFLOW__LOGGING__BASE_LOG_FOLDER=$LOGS

log() { printf 'airflow-local: %s\n' "$*"; }

# Running (a zombie waiting for its parent to reap it counts as stopped).
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "${state#Z}" = "$state" ]
}

running_pids() {
  [ -f "$PIDS" ] || return 0
  while read -r name pid; do
    [ -n "${pid:-}" ] && alive "$pid" && printf '%s %s\n' "$name" "$pid"
  done <"$PIDS"
}

health() {
  "$BIN/python" - "$PORT" <<'EOF'
import json, sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/v2/monitor/health", timeout=3) as r:
        h = json.load(r)
except Exception as exc:  # not up yet
    print(f"api-server not answering ({exc.__class__.__name__})")
    sys.exit(1)
parts = {k: (v or {}).get("status") for k, v in h.items() if isinstance(v, dict)}
print(" ".join(f"{k}={v}" for k, v in sorted(parts.items())))
want = ("metadatabase", "scheduler", "triggerer", "dag_processor")
sys.exit(0 if all(parts.get(k) == "healthy" for k in want) else 1)
EOF
}

unpause_dags() {
  "$BIN/python" - "$PORT" "$1" "$REPO/dags" <<'EOF'
import glob, json, os, sys, time, urllib.request

port, password, dags_dir = sys.argv[1], sys.argv[2], sys.argv[3]
base = f"http://127.0.0.1:{port}"
want = {os.path.basename(p)[:-3] for p in glob.glob(os.path.join(dags_dir, "roadsafe_*.py"))}


def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, method=method, data=data)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


token = call("POST", "/auth/token", {"username": "admin", "password": password})["access_token"]
deadline = time.monotonic() + 90
while True:
    found = call("GET", "/api/v2/dags?dag_id_pattern=roadsafe_&limit=100", token=token)["dags"]
    dags = {d["dag_id"]: d for d in found}
    if want <= set(dags) or time.monotonic() > deadline:
        break
    time.sleep(1)
for dag_id in sorted(want & set(dags)):
    if dags[dag_id]["is_paused"]:
        call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False}, token=token)
        print(f"airflow-local: unpaused {dag_id}")
print(f"airflow-local: DAGs registered: {', '.join(sorted(want & set(dags)))}")
sys.exit(1 if want - set(dags) else 0)
EOF
}

up() {
  local t0=$SECONDS
  if [ -n "$(running_pids)" ]; then
    log "already running (stop it with 'make down'):"
    running_pids
    exit 1
  fi
  if "$BIN/python" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$PORT))!=0)"; then
    log "port $PORT is taken by another program; set AIRFLOW_PORT=<free port>"
    exit 1
  fi
  mkdir -p "$AIRFLOW_HOME" "$LOGS" "$ROADSAFE_HOME/inbox"

  # One JWT secret for every component (tasks authenticate to the execution API with it).
  if [ ! -s "$AIRFLOW_HOME/jwt_secret" ]; then
    (umask 077 && "$BIN/python" -c "import secrets; print(secrets.token_urlsafe(48))" >"$AIRFLOW_HOME/jwt_secret")
  fi
  AIRFLOW__API_AUTH__JWT_SECRET=$(cat "$AIRFLOW_HOME/jwt_secret")
  export AIRFLOW__API_AUTH__JWT_SECRET

  # The admin password: generated once, kept in the simple auth manager's password file.
  local pwfile=$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE
  if [ ! -s "$pwfile" ]; then
    (umask 077 && "$BIN/python" -c "import json, secrets; print(json.dumps({'admin': secrets.token_urlsafe(12)}))" >"$pwfile")
  fi
  local password
  password=$("$BIN/python" -c "import json, sys; print(json.load(open(sys.argv[1]))['admin'])" "$pwfile")

  log "migrating the metadata database ($AIRFLOW_HOME/airflow.db)"
  "$BIN/airflow" db migrate >"$LOGS/db-migrate.out" 2>&1 || { tail -20 "$LOGS/db-migrate.out"; exit 1; }
  "$BIN/airflow" pools set roadsafe_duckdb 1 "DuckDB single writer: every task writing warehouse.duckdb" \
    >"$LOGS/pools.out" 2>&1 || { tail -20 "$LOGS/pools.out"; exit 1; }

  : >"$PIDS"
  for c in "${COMPONENTS[@]}"; do
    # setsid: each component leads its own process group, so `down` can stop its children too.
    setsid "$BIN/airflow" "$c" >"$LOGS/$c.out" 2>&1 </dev/null &
    echo "$c $!" >>"$PIDS"
    log "started $c (pid $!, log $LOGS/$c.out)"
  done

  log "waiting for the components to report healthy"
  local deadline=$((SECONDS + ${AIRFLOW_UP_TIMEOUT:-180})) status=""
  until status=$(health 2>/dev/null); do
    for c in "${COMPONENTS[@]}"; do
      pid=$(awk -v c="$c" '$1==c {print $2}' "$PIDS")
      if ! alive "$pid"; then
        log "$c (pid $pid) exited; last lines of $LOGS/$c.out:"
        tail -20 "$LOGS/$c.out" || true
        down
        exit 1
      fi
    done
    if [ $SECONDS -ge $deadline ]; then
      log "not healthy after ${AIRFLOW_UP_TIMEOUT:-180} s ($status); stopping"
      down
      exit 1
    fi
    sleep 1
  done
  log "healthy after $((SECONDS - t0)) s: $status"

  # New DAGs start unpaused (dags_are_paused_at_creation=False); unpause any paused earlier, through
  # the REST API, once the dag-processor has registered every roadsafe_*.py of the dags folder.
  if ! unpause_dags "$password"; then
    log "the roadsafe DAGs did not all appear within 90 s; see $LOGS/dag-processor.out and the UI's import errors"
  fi

  # The upload portal, when the roadsafe CLI has it: it lands uploaded files and posts an asset event on
  # roadsafe_inbox to this Airflow, with the login passed in ROADSAFE_AIRFLOW_URL / _USERNAME / _PASSWORD.
  local portal_line="Portal:      (not available: no 'roadsafe portal' command yet)"
  if "$BIN/roadsafe" portal --help >/dev/null 2>&1; then
    ROADSAFE_AIRFLOW_URL=http://localhost:$PORT ROADSAFE_AIRFLOW_USERNAME=admin ROADSAFE_AIRFLOW_PASSWORD=$password \
      setsid "$BIN/roadsafe" portal --host 127.0.0.1 --port "$PORTAL_PORT" >"$LOGS/portal.out" 2>&1 </dev/null &
    echo "portal $!" >>"$PIDS"
    log "started portal (pid $!, log $LOGS/portal.out)"
    local deadline3=$((SECONDS + 60))
    until "$BIN/python" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
      "http://127.0.0.1:$PORTAL_PORT/healthz" 2>/dev/null; do
      if [ $SECONDS -ge $deadline3 ]; then
        log "the portal did not answer /healthz within 60 s; see $LOGS/portal.out"
        break
      fi
      sleep 1
    done
    portal_line="Portal:      http://localhost:$PORTAL_PORT   (upload page for the units)"
  fi

  cat <<EOF

  Airflow UI:  http://localhost:$PORT
  Login:       admin / $password
  $portal_line
  DAGs:        $REPO/dags (roadsafe_* unpaused)
  Inbox:       $ROADSAFE_HOME/inbox/<unit>/   (watched by the triggerer)
  Logs:        $LOGS
  Stop:        make down      (started in $((SECONDS - t0)) s)

EOF
}

# Stop the recorded processes named in $@ (all others untouched): SIGTERM, a second SIGTERM after 30 s
# (the scheduler's LocalExecutor asks for it: "Signal again if you don't want to wait"), then SIGKILL to
# the component's own process group after 45 s; waits until they are gone.
stop_group() {
  local -a pids=()
  local name pid
  while read -r name pid; do
    [ -n "${pid:-}" ] || continue
    case " $* " in *" $name "*) ;; *) continue ;; esac
    if alive "$pid"; then
      log "stopping $name (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done <"$PIDS"
  [ ${#pids[@]} -gt 0 ] || return 0
  local start=$SECONDS resent=0 killed=0 left
  while :; do
    left=()
    for pid in "${pids[@]}"; do alive "$pid" && left+=("$pid"); done
    [ ${#left[@]} -eq 0 ] && break
    if [ $resent -eq 0 ] && [ $((SECONDS - start)) -ge 30 ]; then
      for pid in "${left[@]}"; do
        log "pid $pid still running after 30 s: second SIGTERM"
        kill -TERM "$pid" 2>/dev/null || true
      done
      resent=1
    fi
    if [ $killed -eq 0 ] && [ $((SECONDS - start)) -ge 45 ]; then
      for pid in "${left[@]}"; do
        log "pid $pid still running after 45 s: SIGKILL to its process group"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      done
      killed=1
    fi
    [ $((SECONDS - start)) -ge 60 ] && break
    sleep 0.5
  done
}

down() {
  if [ ! -f "$PIDS" ]; then
    log "nothing recorded in $PIDS; nothing to stop"
    return 0
  fi
  # The api-server goes last: running tasks (scheduler), the triggerer and the dag-processor report to
  # its execution API while they shut down; without it the scheduler waits on its tasks for minutes.
  stop_group scheduler triggerer dag-processor portal
  stop_group api-server
  # Children a component left behind in its own process group (LocalExecutor workers, uvicorn workers).
  local pid
  while read -r _ pid; do
    [ -n "${pid:-}" ] && kill -TERM -- "-$pid" 2>/dev/null || true
  done <"$PIDS"
  rm -f "$PIDS"
  log "stopped"
}

status() {
  if [ -n "$(running_pids)" ]; then running_pids; else log "not running"; fi
  health || true
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
