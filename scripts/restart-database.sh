#!/usr/bin/env bash
# Restarts a local test database server and returns once it accepts connections again (the
# server-restart fault tests run it). Usage: restart-database.sh postgres|mariadb
# PostgreSQL: a fast shutdown (every session ended with "terminating connection due to
# administrator command"), then a start. MariaDB: a normal shutdown, waiting for the process to
# exit, then a start. Exits non-zero, saying why, when the server is not a local one it can restart.
set -uo pipefail

wait_until() {
  for _ in $(seq 1 300); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

case "${1:-}" in
  postgres)
    command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ] || {
      echo "restart-database: no local PostgreSQL cluster (pg_ctlcluster) to restart" >&2
      exit 2
    }
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main restart -m fast || exit 1
    wait_until pg_isready -h 127.0.0.1 -p 5432 -q || {
      echo "restart-database: PostgreSQL did not come back" >&2
      exit 1
    }
    ;;
  mariadb)
    [ -x /usr/sbin/mariadbd ] && command -v mariadb-admin >/dev/null || {
      echo "restart-database: no local MariaDB (/usr/sbin/mariadbd) to restart" >&2
      exit 2
    }
    mariadb-admin -h 127.0.0.1 -u root shutdown || exit 1
    wait_until bash -c '! pgrep -x mariadbd >/dev/null' || {
      echo "restart-database: MariaDB did not stop" >&2
      exit 1
    }
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || exit 1
    wait_until mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1 || {
      echo "restart-database: MariaDB did not come back" >&2
      exit 1
    }
    ;;
  *)
    echo "usage: restart-database.sh postgres|mariadb" >&2
    exit 2
    ;;
esac
