#!/usr/bin/env bash
# The local services the production shape and its tests use: PostgreSQL (127.0.0.1:5432), Redis
# (127.0.0.1:6379) and RabbitMQ (127.0.0.1:5672). Called by `make test` and `make up ROADSAFE_PROFILE=prod`.
# On a plain Debian machine it installs Debian's packages for any that is missing, then starts any service
# that does not answer. Idempotent; a second of work when all three answer.
set -euo pipefail

answers() {  # host port: something accepts TCP connections there
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

declare -A PACKAGE=([5432]=postgresql [6379]=redis-server [5672]=rabbitmq-server)
missing=()
for port in 5432 6379 5672; do
  answers 127.0.0.1 "$port" && continue
  dpkg-query -W -f='${Status}' "${PACKAGE[$port]}" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("${PACKAGE[$port]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "services: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

start() {  # port name command...
  local port=$1 name=$2
  shift 2
  answers 127.0.0.1 "$port" && return 0
  echo "services: starting $name"
  "$@" >/dev/null
  for _ in $(seq 1 60); do
    answers 127.0.0.1 "$port" && return 0
    sleep 1
  done
  echo "services: $name does not answer on 127.0.0.1:$port after 60 s" >&2
  return 1
}

# PostgreSQL with trust authentication on loopback for the tests' throw-away databases.
start 5432 postgresql $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
start 6379 redis $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
  --dir /var/lib/redis --logfile /var/log/redis/ci.log
start 5672 rabbitmq $SUDO rabbitmq-server -detached
