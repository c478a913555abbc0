# shellcheck shell=bash
# A throwaway PostgreSQL on 127.0.0.1 for the local connectivity probe's tests (test/troubleshoot/probe-local.test.ts).
# Source it (`. scripts/test-postgres.sh`): it installs Debian's postgresql when no server binaries are present,
# starts one cluster in /tmp/platform-test-pg on a free port, with TLS on (a self-signed certificate for 127.0.0.1),
# and exports what the tests read:
#   PLATFORM_TEST_PG_HOST, PLATFORM_TEST_PG_PORT, PLATFORM_TEST_PG_DB
#   PLATFORM_TEST_PG_USER, PLATFORM_TEST_PG_PASSWORD    a user admitted with or without TLS
#   PLATFORM_TEST_PG_TLS_USER                            a user admitted over TLS only (as RDS with rds.force_ssl=1), same password
#   PLATFORM_TEST_PG_CA                                  the server's certificate, to trust it
# Idempotent: a second run finds the cluster answering and only exports again. It stops nothing.
# Without root, it uses what is installed (initdb must not run as root; as root it runs as the postgres user).

platform_test_pg() {
  local dir=/tmp/platform-test-pg
  local data="$dir/data"
  local envfile="$dir/env"

  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "test-postgres: no PostgreSQL server installed and not root: the local probe tests will be skipped" >&2
      return 0
    fi
    echo "test-postgres: installing Debian's postgresql" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null || return 1
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi

  local as=()
  [ "$(id -u)" = 0 ] && as=(runuser -u postgres --)

  # Already running (a second run): export what the first one wrote.
  if [ -f "$envfile" ]; then
    # shellcheck disable=SC1090
    . "$envfile"
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$PLATFORM_TEST_PG_PORT"; then
      echo "test-postgres: reusing the server on 127.0.0.1:$PLATFORM_TEST_PG_PORT" >&2
      return 0
    fi
    # A leftover from an earlier run whose server is gone (a new boot): start over.
    "${as[@]}" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1 && { echo "test-postgres: $data has a running server but it does not answer" >&2; return 1; }
    unset PLATFORM_TEST_PG_HOST PLATFORM_TEST_PG_PORT PLATFORM_TEST_PG_DB PLATFORM_TEST_PG_USER PLATFORM_TEST_PG_PASSWORD PLATFORM_TEST_PG_TLS_USER PLATFORM_TEST_PG_CA
  fi
  rm -rf "$dir"
  mkdir -p "$dir"

  local port password
  port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})') || return 1
  password=$(openssl rand -hex 16) || return 1

  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$dir/server.key" -out "$dir/server.crt" >/dev/null 2>&1 || return 1
  chmod 600 "$dir/server.key"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"

  "${as[@]}" "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=reject -E UTF8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  cat >"$data/pg_hba.conf" <<EOF
local     all  all                      trust
hostssl   all  probe_tls  127.0.0.1/32  scram-sha-256
host      all  probe      127.0.0.1/32  scram-sha-256
EOF
  "${as[@]}" "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 30 start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
  "${as[@]}" "$bin/psql" -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<EOF || return 1
CREATE ROLE probe LOGIN PASSWORD '$password';
CREATE ROLE probe_tls LOGIN PASSWORD '$password';
CREATE DATABASE probe_db OWNER probe;
EOF

  cat >"$envfile" <<EOF
export PLATFORM_TEST_PG_HOST=127.0.0.1
export PLATFORM_TEST_PG_PORT=$port
export PLATFORM_TEST_PG_DB=probe_db
export PLATFORM_TEST_PG_USER=probe
export PLATFORM_TEST_PG_PASSWORD=$password
export PLATFORM_TEST_PG_TLS_USER=probe_tls
export PLATFORM_TEST_PG_CA=$dir/server.crt
EOF
  # shellcheck disable=SC1090
  . "$envfile"
  echo "test-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (TLS on)" >&2
}

platform_test_pg
