# shellcheck shell=bash
# scripts/lib/peers.sh: install, start and stop the real local peers the tests
# run against (see "Testing against real peers" in shared/DESIGN.md).
#
# Sourced by scripts/test (the one test command) and scripts/peers (start the
# peers for running `cargo test` by hand). Not meant to be run on its own.
#
#   peers_install         install missing peers into .cache/peers/ (idempotent)
#   peers_start           start moto, Azurite (blob) and PostgreSQL 15 on free
#                         loopback ports, wait until each answers, print one line
#                         per peer and write $PEERS_ENV_FILE (export lines)
#   peers_stop            stop every peer started and remove the temp dir
#                         (safe to call twice, and from an EXIT trap)
#
# Secrets: the PostgreSQL superuser password is random, generated straight into
# a file, handed to initdb with --pwfile and to psql/cargo through the
# environment; it never appears on a command line or in this script's output.

# 5.1.22, not 5.2.x: moto 5.2.5 answers GetBucketVersioning of a never-versioned
# bucket with a <GetBucketVersioningResponse/> root the AWS SDK cannot parse.
PEERS_MOTO_VERSION=5.1.22
PEERS_AZURITE_VERSION=3.37.0
PEERS_PG_BIN=${PEERS_PG_BIN:-/usr/lib/postgresql/15/bin}
# How long (seconds) each peer may take to answer after it was started.
PEERS_START_TIMEOUT=${PEERS_START_TIMEOUT:-60}

PEERS_ROOT=${PEERS_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PEERS_CACHE="$PEERS_ROOT/.cache/peers"

# State of one start; peers_stop reads it.
PEERS_RUN_DIR=""
PEERS_MOTO_PID=""
PEERS_AZURITE_PID=""
PEERS_PG_DATA=""
PEERS_ENV_FILE=""
PEERS_STARTING=""

peers_log() { printf '%s\n' "$*" >&2; }

# Runs a command as the `postgres` OS user when we are root (initdb and pg_ctl
# refuse to run as root), else as ourselves.
peers_as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# ---------------------------------------------------------------- install

peers_install() {
    mkdir -p "$PEERS_CACHE"
    peers_install_moto
    peers_install_azurite
    peers_install_postgres
}

peers_install_moto() {
    local venv="$PEERS_CACHE/venv" stamp="$PEERS_CACHE/venv/.deploy-installed"
    if [ -x "$venv/bin/moto_server" ] && [ "$(cat "$stamp" 2>/dev/null)" = "moto[server]==$PEERS_MOTO_VERSION" ]; then
        return 0
    fi
    peers_log "install: moto[server]==$PEERS_MOTO_VERSION into .cache/peers/venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        "moto[server]==$PEERS_MOTO_VERSION"
    printf '%s\n' "moto[server]==$PEERS_MOTO_VERSION" >"$stamp"
}

peers_install_azurite() {
    local dir="$PEERS_CACHE/azurite" stamp="$PEERS_CACHE/azurite/.deploy-installed"
    if [ -x "$dir/node_modules/.bin/azurite-blob" ] && [ "$(cat "$stamp" 2>/dev/null)" = "azurite@$PEERS_AZURITE_VERSION" ]; then
        return 0
    fi
    peers_log "install: azurite@$PEERS_AZURITE_VERSION into .cache/peers/azurite"
    rm -rf "$dir"
    mkdir -p "$dir"
    # Azurite 3.37 declares node >=22 but its blob service runs on node 20;
    # npm only warns (EBADENGINE).
    npm install --prefix "$dir" --no-audit --no-fund --no-update-notifier --loglevel=error \
        "azurite@$PEERS_AZURITE_VERSION"
    printf '%s\n' "azurite@$PEERS_AZURITE_VERSION" >"$stamp"
}

peers_install_postgres() {
    if [ -x "$PEERS_PG_BIN/initdb" ]; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        peers_log "error: $PEERS_PG_BIN/initdb is missing; install postgresql-15 (as root: apt-get install postgresql-15)"
        return 1
    fi
    peers_log "install: postgresql-15 with apt-get"
    # Keep the package from starting a system-wide cluster: we run our own.
    local policy=/usr/sbin/policy-rc.d added_policy=""
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy" && added_policy=1
    fi
    mkdir -p /etc/postgresql-common/createcluster.d
    printf 'create_main_cluster = false\n' >/etc/postgresql-common/createcluster.d/deploy-peers.conf
    local status=0
    DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null || status=$?
    if [ "$status" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            postgresql-15 </dev/null || status=$?
    fi
    [ -n "$added_policy" ] && rm -f "$policy"
    return "$status"
}

# ---------------------------------------------------------------- start

# Prints N distinct free loopback TCP ports (bound together, then released).
peers_free_ports() {
    python3 - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

# peers_http_probe URL: prints the HTTP status and Server header when anything
# answers over HTTP (any status), fails when nothing does.
peers_http_probe() {
    python3 - "$1" <<'EOF'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=2)
    print(r.status, r.headers.get("Server", ""))
except urllib.error.HTTPError as e:
    print(e.code, e.headers.get("Server", ""))
except Exception:
    sys.exit(1)
EOF
}

# peers_wait NAME PID CHECK...: retries CHECK until it succeeds, the process
# PID dies, or PEERS_START_TIMEOUT runs out.
peers_wait() {
    local name=$1 pid=$2
    shift 2
    local deadline=$((SECONDS + PEERS_START_TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            peers_log "error: $name exited before it answered"
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            peers_log "error: $name did not answer within ${PEERS_START_TIMEOUT}s"
            return 1
        fi
        sleep 0.3
    done
}

peers_tail_log() {
    if [ -f "$1" ]; then
        peers_log "---- last lines of $(basename "$1")"
        tail -n 20 "$1" >&2 || true
    fi
}

# Call it as a plain command under `set -e` (not in an `if` or `||` list, where
# bash would ignore failures inside it); on failure, peers_keep_logs shows why.
peers_start() {
    PEERS_STARTING=1
    PEERS_RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/deploy-peers.XXXXXX")
    # The postgres OS user must reach $PEERS_RUN_DIR/pg.
    chmod 0711 "$PEERS_RUN_DIR"
    PEERS_ENV_FILE="$PEERS_RUN_DIR/env"

    local ports moto_port azurite_port pg_port
    ports=$(peers_free_ports 3)
    read -r moto_port azurite_port pg_port <<<"$ports"

    # moto and Azurite boot in the background while PostgreSQL is set up.
    peers_start_moto "$moto_port"
    peers_start_azurite "$azurite_port"
    peers_start_postgres "$pg_port"

    local moto_url="http://127.0.0.1:$moto_port"
    peers_wait moto "$PEERS_MOTO_PID" peers_moto_ready "$moto_url"
    local moto_version
    moto_version=$("$PEERS_CACHE/venv/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))')
    echo "peer moto 127.0.0.1:$moto_port (moto $moto_version)"

    local azurite_url="http://127.0.0.1:$azurite_port/devstoreaccount1"
    peers_wait azurite "$PEERS_AZURITE_PID" peers_http_probe "$azurite_url?comp=list"
    local azurite_server
    azurite_server=$(peers_http_probe "$azurite_url?comp=list" | cut -d' ' -f2-)
    echo "peer azurite-blob 127.0.0.1:$azurite_port (${azurite_server:-Azurite})"

    (
        umask 077
        echo "# Written by scripts/lib/peers.sh; holds a password: keep private, do not commit."
        printf 'export DEPLOY_REQUIRE_PEERS=1\n'
        printf 'export DEPLOY_MOTO_ENDPOINT=%q\n' "$moto_url"
        printf 'export DEPLOY_AZURITE_BLOB_ENDPOINT=%q\n' "$azurite_url"
        printf 'export DEPLOY_PG_HOST=localhost\n'
        printf 'export DEPLOY_PG_PORT=%q\n' "$pg_port"
        printf 'export DEPLOY_PG_USER=postgres\n'
        printf 'export DEPLOY_PG_PASSWORD=%q\n' "$DEPLOY_PG_PASSWORD"
        printf 'export DEPLOY_PG_CA_FILE=%q\n' "$PEERS_RUN_DIR/tls/ca.crt"
        printf 'export DEPLOY_PG_WRONG_CA_FILE=%q\n' "$PEERS_RUN_DIR/tls/wrong-ca.crt"
        printf 'export DEPLOY_PG_LOG_FILE=%q\n' "$PEERS_RUN_DIR/pg/postgres.log"
    ) >"$PEERS_ENV_FILE"
    PEERS_STARTING=""
}

peers_moto_ready() {
    local out
    out=$(peers_http_probe "$1/moto-api/") || return 1
    [ "${out%% *}" = 200 ]
}

peers_start_moto() {
    local port=$1
    MOTO_IAM_LOAD_MANAGED_POLICIES=true \
        "$PEERS_CACHE/venv/bin/moto_server" -H 127.0.0.1 -p "$port" \
        </dev/null >"$PEERS_RUN_DIR/moto.log" 2>&1 &
    PEERS_MOTO_PID=$!
}

peers_start_azurite() {
    local port=$1
    mkdir -p "$PEERS_RUN_DIR/azurite"
    # --disableTelemetry: Azurite otherwise tries to send usage data out.
    # --inMemoryPersistence cannot be combined with --location (Azurite exits:
    # "not supported when the --location option is set"), so the temp dir is
    # its working directory instead: anything it writes lands there.
    (
        cd "$PEERS_RUN_DIR/azurite" &&
            exec "$PEERS_CACHE/azurite/node_modules/.bin/azurite-blob" \
                --blobHost 127.0.0.1 --blobPort "$port" \
                --inMemoryPersistence --extentMemoryLimit 256 \
                --skipApiVersionCheck --silent --disableTelemetry
    ) </dev/null >"$PEERS_RUN_DIR/azurite.log" 2>&1 &
    PEERS_AZURITE_PID=$!
}

# Certificates: a test CA, a server certificate for localhost/127.0.0.1 signed
# by it, and an unrelated CA for negative tests. EC P-256 keys: fast to make.
peers_make_certs() {
    local tls=$1
    mkdir -p "$tls"
    chmod 0700 "$tls"
    local ca_subj="/CN=deploy test CA" wrong_subj="/CN=deploy unrelated test CA"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$tls/ca.key" -out "$tls/ca.crt" -days 2 -subj "$ca_subj" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        2>/dev/null
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$tls/wrong-ca.key" -out "$tls/wrong-ca.crt" -days 2 -subj "$wrong_subj" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$tls/server.key" -out "$tls/server.csr" -subj "/CN=localhost" 2>/dev/null
    cat >"$tls/server.ext" <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
EOF
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
        -CAcreateserial -days 2 -sha256 -extfile "$tls/server.ext" -out "$tls/server.crt" 2>/dev/null
    chmod 0644 "$tls/ca.crt" "$tls/wrong-ca.crt"
}

peers_start_postgres() {
    local port=$1
    local pg="$PEERS_RUN_DIR/pg" tls="$PEERS_RUN_DIR/tls"
    peers_make_certs "$tls"

    mkdir -p "$pg/sock"
    install -m 0644 "$tls/server.crt" "$pg/server.crt"
    install -m 0600 "$tls/server.key" "$pg/server.key"
    # The password goes from openssl straight into a 0600 file, never to argv.
    (umask 077 && openssl rand -hex 24 >"$pg/pwfile")
    read -r DEPLOY_PG_PASSWORD <"$pg/pwfile"
    if [ "$(id -u)" -eq 0 ]; then
        chown -R postgres:postgres "$pg"
    fi
    chmod 0700 "$pg"

    PEERS_PG_DATA="$pg/data"
    # Sets the superuser password at bootstrap from the file: no plaintext
    # ALTER ROLE ever reaches the server (or its statement log).
    (cd "$pg" && peers_as_pg "$PEERS_PG_BIN/initdb" -D "$PEERS_PG_DATA" -U postgres \
        --pwfile="$pg/pwfile" --auth=scram-sha-256 -E UTF8 --no-locale --no-sync) \
        >"$PEERS_RUN_DIR/initdb.log" 2>&1
    rm -f "$pg/pwfile"

    peers_as_pg tee -a "$PEERS_PG_DATA/postgresql.conf" >/dev/null <<EOF

# ---- scripts/lib/peers.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$pg/sock'
ssl = on
ssl_cert_file = '$pg/server.crt'
ssl_key_file = '$pg/server.key'
ssl_min_protocol_version = 'TLSv1.2'
password_encryption = 'scram-sha-256'
logging_collector = off
log_statement = 'all'
log_connections = on
log_line_prefix = '%m [%p] %q%u@%d '
# a throwaway test cluster: durability is not needed
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    # Only TLS with SCRAM over loopback; plaintext TCP is rejected outright and
    # there is no `local` line, so the Unix socket accepts nobody.
    peers_as_pg tee "$PEERS_PG_DATA/pg_hba.conf" >/dev/null <<'EOF'
# TYPE     DATABASE  USER  ADDRESS       METHOD
hostssl    all       all   127.0.0.1/32  scram-sha-256
hostnossl  all       all   127.0.0.1/32  reject
EOF

    (cd "$pg" && peers_as_pg "$PEERS_PG_BIN/pg_ctl" -D "$PEERS_PG_DATA" -l "$pg/postgres.log" \
        -w -t "$PEERS_START_TIMEOUT" -s start) </dev/null >"$PEERS_RUN_DIR/pg_ctl.log" 2>&1

    # Ready means: a TLS login under verify-full with the password succeeds.
    local conninfo="host=localhost port=$port user=postgres dbname=postgres sslmode=verify-full sslrootcert=$tls/ca.crt connect_timeout=5"
    local version
    peers_wait postgresql "" peers_psql "$conninfo" 'select 1'
    version=$(peers_psql "$conninfo" 'show server_version')
    echo "peer postgresql localhost:$port (PostgreSQL ${version%% *}, hostssl only, scram-sha-256)"
}

# peers_psql CONNINFO SQL: runs one statement; the password reaches psql
# through its environment (a prefix assignment, not argv).
peers_psql() {
    PGPASSWORD="$DEPLOY_PG_PASSWORD" "$PEERS_PG_BIN/psql" -X -A -t -q -d "$1" -c "$2" </dev/null
}

# ---------------------------------------------------------------- stop

peers_stop_pid() {
    local pid=$1 _
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

peers_stop() {
    if [ -n "$PEERS_PG_DATA" ] && [ -f "$PEERS_PG_DATA/postmaster.pid" ]; then
        (cd "$PEERS_RUN_DIR/pg" && peers_as_pg "$PEERS_PG_BIN/pg_ctl" -D "$PEERS_PG_DATA" -m fast -w -t 30 -s stop) \
            </dev/null >/dev/null 2>&1 || {
            local pm
            pm=$(head -n 1 "$PEERS_PG_DATA/postmaster.pid" 2>/dev/null || true)
            # Only if that pid is still our postmaster, not a reused pid.
            if [ -n "$pm" ] && grep -qF "$PEERS_PG_DATA" "/proc/$pm/cmdline" 2>/dev/null; then
                kill -KILL "$pm" 2>/dev/null || true
            fi
        }
    fi
    PEERS_PG_DATA=""
    peers_stop_pid "$PEERS_MOTO_PID"
    PEERS_MOTO_PID=""
    peers_stop_pid "$PEERS_AZURITE_PID"
    PEERS_AZURITE_PID=""
    if [ -n "$PEERS_RUN_DIR" ] && [ -d "$PEERS_RUN_DIR" ]; then
        rm -rf "$PEERS_RUN_DIR"
    fi
    PEERS_RUN_DIR=""
}

# Copies the peers' logs to .cache/peers/last-failed-run/ (git-ignored, 0700)
# so a failed run can be looked into after the temp dir is gone.
peers_keep_logs() {
    [ -n "$PEERS_RUN_DIR" ] && [ -d "$PEERS_RUN_DIR" ] || return 0
    local dest="$PEERS_CACHE/last-failed-run" f
    rm -rf "$dest"
    mkdir -p "$dest"
    chmod 0700 "$dest"
    [ -n "$PEERS_STARTING" ] && peers_log "error: starting the peers failed; the last lines of their logs follow"
    for f in moto.log azurite.log initdb.log pg_ctl.log pg/postgres.log; do
        [ -f "$PEERS_RUN_DIR/$f" ] || continue
        cp "$PEERS_RUN_DIR/$f" "$dest/" 2>/dev/null || true
        # While starting, the logs hold only startup messages: show them.
        [ -n "$PEERS_STARTING" ] && peers_tail_log "$PEERS_RUN_DIR/$f"
    done
    peers_log "peer logs kept in .cache/peers/last-failed-run/"
}
