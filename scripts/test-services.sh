#!/usr/bin/env bash
# Makes sure the servers the test suite talks to are up, starting or installing them if needed,
# then prints the environment the tests should use (eval it). Everything else goes to stderr.
set -euo pipefail

PG_URL=${DIPLOWATCH_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
PY=${PYTHON:-.venv/bin/python}

pg_ready() {
  "$PY" - "$1" <<'PY' >/dev/null 2>&1
import sys, psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
PY
}

say() { echo "test-services: $*" >&2; }

APT_UPDATED=no
apt_install() {
  # Debian's packages, with one `apt-get update` per run however many packages are missing.
  if [ "$APT_UPDATED" = no ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    APT_UPDATED=yes
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

if ! pg_ready "$PG_URL"; then
  if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then
    say "PostgreSQL is installed but not answering on $PG_URL: starting its cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start >&2 || true
  fi
fi

if ! pg_ready "$PG_URL"; then
  # A private throw-away cluster with trust auth, so a fresh machine needs no configuration.
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      say "PostgreSQL is not installed and this is not root: install it (apt-get install postgresql) or set DIPLOWATCH_TEST_PG_URL"
      exit 1
    fi
    say "installing PostgreSQL from Debian's packages"
    apt_install postgresql
  fi
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  dir=${TMPDIR:-/tmp}/diplowatch-pg
  port=55432
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else sh -c "$*"; fi; }
    run_pg "$bin/initdb -D $dir -A trust -U postgres" >&2
  fi
  run_pg() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else sh -c "$*"; fi; }
  run_pg "$bin/pg_ctl -D $dir -o '-p $port -k $dir -c listen_addresses=127.0.0.1' -l $dir/log -w start" >&2 || true
  PG_URL=postgresql://postgres@127.0.0.1:$port/postgres
  if ! pg_ready "$PG_URL"; then
    say "could not start PostgreSQL; see $dir/log"
    exit 1
  fi
fi

# The service tests start (and stop, and restart) redis-servers of their own: they need the program only.
REDIS_SERVER=${DIPLOWATCH_TEST_REDIS_SERVER:-$(command -v redis-server || true)}
if [ -z "$REDIS_SERVER" ] || [ ! -x "$REDIS_SERVER" ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing redis-server from Debian's packages"
    apt_install redis-server
    REDIS_SERVER=$(command -v redis-server || true)
  fi
  if [ -z "$REDIS_SERVER" ] || [ ! -x "$REDIS_SERVER" ]; then
    say "redis-server is not installed and this is not root: install it (apt-get install redis-server)" \
      "or set DIPLOWATCH_TEST_REDIS_SERVER; the service tests fail without it"
    REDIS_SERVER=""
  fi
fi

# The end-to-end web tests drive Debian's headless Chromium through its chromedriver (Selenium), and
# Chinese pages need CJK fonts to render (and to be screenshotted) as people see them.
BROWSER_PACKAGES=()
command -v chromium >/dev/null || BROWSER_PACKAGES+=(chromium)
command -v chromedriver >/dev/null || BROWSER_PACKAGES+=(chromium-driver)
FONTS=$(fc-list 2>/dev/null || true)  # not piped into grep -q: with pipefail, its early exit fails the pipe
case "$FONTS" in
  *"Noto Sans CJK"*) ;;
  *) BROWSER_PACKAGES+=(fonts-noto-cjk) ;;
esac
if [ ${#BROWSER_PACKAGES[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing ${BROWSER_PACKAGES[*]} from Debian's packages (browser tests)"
    apt_install "${BROWSER_PACKAGES[@]}"
  else
    say "missing ${BROWSER_PACKAGES[*]} and this is not root: install them (apt-get install" \
      "${BROWSER_PACKAGES[*]}); the browser tests fail without them"
  fi
fi

echo "export DIPLOWATCH_TEST_PG_URL=$PG_URL"
if [ -n "$REDIS_SERVER" ]; then
  echo "export DIPLOWATCH_TEST_REDIS_SERVER=$REDIS_SERVER"
fi
