#!/usr/bin/env bash
# Starts the test databases (PostgreSQL, MariaDB) on this machine when they are installed and down.
# Run by `npm test` (pretest) and by .ci/run; idempotent, quick when both are up. A server that is
# not installed or will not start is left to the tests, which then fail naming it and how to start it.
set -uo pipefail

pg_up() { command -v pg_isready >/dev/null && pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
maria_up() {
  command -v mariadb-admin >/dev/null && mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1
}

if ! pg_up && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
fi
if ! maria_up && [ -x /usr/sbin/mariadbd ]; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
fi
for _ in $(seq 1 30); do
  pg_up && maria_up && exit 0
  sleep 1
done
pg_up || echo "start-databases: PostgreSQL is not reachable on 127.0.0.1:5432; its tests will fail" >&2
maria_up || echo "start-databases: MariaDB is not reachable on 127.0.0.1:3306; its tests will fail" >&2
exit 0
