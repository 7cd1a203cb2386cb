# shellcheck shell=bash
# Shared helpers of setup/run and setup/test. Sourced, never run.
#
# Everything here is idempotent: a second call reuses what the first made.
#   CALL_VENV     virtual environment (default: a cache folder keyed by the
#                 hash of requirements.txt, so fresh clones reuse it)
#   ODOO_SRC      an Odoo 18 source tree (the folder holding odoo-bin)
#   CALL_PGPORT   first loopback port tried for the private PostgreSQL
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
PGDATA_DIR="$LOCAL/pgdata"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
DB_USER="odoo"
mkdir -p "$LOCAL"

say() { printf '[call-centre] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 2; }

# --- system packages (Debian) ------------------------------------------
ensure_system_packages() {
    local wanted=() pkg
    for pkg in postgresql-15 libpq-dev chromium espeak-ng sox baresip kamailio fonts-noto-cjk; do
        dpkg -s "$pkg" >/dev/null 2>&1 || wanted+=("$pkg")
    done
    [ ${#wanted[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        say "missing Debian packages: ${wanted[*]} (install them as root)"
        return 0
    fi
    say "installing Debian packages: ${wanted[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${wanted[@]}" >/dev/null
}

# --- Python virtual environment -----------------------------------------
ensure_venv() {
    local python hash
    python="$(command -v python3.11 || command -v python3)"
    "$python" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null \
        || die "Python 3.11 is required (found $("$python" --version 2>&1))"
    hash="$(sha256sum "$ROOT/requirements.txt" | cut -c1-12)"
    VENV="${CALL_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/call-centre/venv-py311-$hash}"
    if [ ! -f "$VENV/.installed" ]; then
        say "creating the virtual environment $VENV"
        "$python" -m venv "$VENV"
        # a few of Odoo's pinned sdists only build with an older setuptools
        "$VENV/bin/pip" install -q "setuptools<70" wheel >"$LOCAL/pip.log" 2>&1 || { cat "$LOCAL/pip.log" >&2; die "pip failed"; }
        "$VENV/bin/pip" install -q --no-build-isolation -r "$ROOT/requirements.txt" >>"$LOCAL/pip.log" 2>&1 \
            || { tail -40 "$LOCAL/pip.log" >&2; die "installing requirements.txt failed (log: $LOCAL/pip.log)"; }
        touch "$VENV/.installed"
    fi
    PYTHON="$VENV/bin/python"
    export PATH="$VENV/bin:$PATH"
}

# --- private PostgreSQL 15 cluster on loopback ---------------------------
_port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

_as_postgres() {
    if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

ensure_postgres() {
    [ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL 15 server not found in $PG_BIN (apt-get install postgresql-15)"
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
        say "initialising a private PostgreSQL cluster in $PGDATA_DIR"
        mkdir -p "$PGDATA_DIR"
        [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDATA_DIR"
        chmod 700 "$PGDATA_DIR"
        _as_postgres "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres -E UTF8 \
            --locale=C.UTF-8 --auth-local=trust --auth-host=trust >/dev/null
    fi
    if _as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1; then
        PGPORT="$(sed -n 4p "$PGDATA_DIR/postmaster.pid")"
    else
        PGPORT="${CALL_PGPORT:-55432}"
        while ! _port_free "$PGPORT"; do PGPORT=$((PGPORT + 1)); done
        say "starting PostgreSQL on 127.0.0.1:$PGPORT"
        _as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w \
            -o "-p $PGPORT -c listen_addresses=127.0.0.1 -k $PGDATA_DIR -c max_connections=300 -c fsync=on" \
            start >/dev/null
    fi
    export PGHOST=127.0.0.1 PGPORT
    if ! _as_postgres "$PG_BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -tAc \
        "SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'" postgres | grep -q 1; then
        _as_postgres "$PG_BIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc \
            "CREATE ROLE $DB_USER LOGIN CREATEDB" postgres
    fi
}

# --- Odoo 18 -------------------------------------------------------------
# Sets ODOO_CMD (an array) and ODOO_ADDONS (Odoo's own addons folders).
find_odoo() {
    local candidate
    ODOO_CMD=()
    # usual places of an unpacked source archive or Debian's odoo package
    local places="${CALL_ODOO_PLACES-/opt/odoo18 /opt/odoo /usr/lib/python3/dist-packages}"
    for candidate in "${ODOO_SRC:-}" $places; do
        [ -n "$candidate" ] && [ -f "$candidate/odoo/release.py" ] || continue
        ODOO_HOME="$candidate"
        break
    done
    if [ -z "${ODOO_HOME:-}" ] && "$PYTHON" -c 'import odoo.release' 2>/dev/null; then
        ODOO_HOME="$("$PYTHON" -c 'import os, odoo; print(os.path.dirname(os.path.dirname(odoo.__file__)))')"
    fi
    [ -n "${ODOO_HOME:-}" ] || return 1
    local serie
    serie="$(cd "$ODOO_HOME" && "$PYTHON" -c 'import odoo.release as r; print(r.serie)' 2>/dev/null || true)"
    if [ "$serie" != "18.0" ]; then
        say "found Odoo $serie in $ODOO_HOME, but the suite needs 18.0"
        return 1
    fi
    ODOO_ADDONS="$ODOO_HOME/odoo/addons"
    [ -d "$ODOO_HOME/addons" ] && ODOO_ADDONS="$ODOO_HOME/addons,$ODOO_ADDONS"
    # a real script path: with --workers N the prefork server runs
    # sys.argv[0] again for its gevent (websocket) worker
    if [ -f "$ODOO_HOME/odoo-bin" ]; then
        ODOO_CMD=("$PYTHON" "$ODOO_HOME/odoo-bin")
    elif command -v odoo >/dev/null 2>&1; then
        ODOO_CMD=("$PYTHON" "$(command -v odoo)")
    else
        ODOO_CMD=("$PYTHON" -c 'import sys, odoo.cli; sys.argv[0] = "odoo"; odoo.cli.main()')
    fi
    export PYTHONPATH="$ODOO_HOME${PYTHONPATH:+:$PYTHONPATH}"
    return 0
}

odoo_missing_message() {
    cat >&2 <<'MSG'
[call-centre] Odoo 18.0 was not found. Odoo is not on PyPI; get it one of these ways:
  * official source archive: download odoo_18.0.latest.tar.gz (nightly.odoo.com),
    unpack it and point ODOO_SRC at the folder that holds odoo-bin,
    e.g.  ODOO_SRC=$HOME/odoo-18.0 setup/run
  * a git checkout of the 18.0 branch of github.com/odoo/odoo, same ODOO_SRC
  * the official docker image: see docker/ and README.md
MSG
}

# Odoo's common command-line options for our private cluster.
odoo_args() {
    printf '%s\n' -c "$ROOT/odoo.conf" \
        --addons-path="$ROOT/addons,$ODOO_ADDONS" \
        --db_host=127.0.0.1 --db_port="$PGPORT" --db_user="$DB_USER" \
        --data-dir="$LOCAL/filestore"
}

ADDONS_ALL="${CALL_ADDONS:-call_ordering,call_seatmap,call_telephony,call_reports}"
# Only the add-ons that exist in this checkout, in dependency order.
present_addons() {
    local out=() name
    IFS=, read -ra names <<<"$ADDONS_ALL"
    for name in "${names[@]}"; do
        [ -f "$ROOT/addons/$name/__manifest__.py" ] && out+=("$name")
    done
    (IFS=,; echo "${out[*]}")
}
