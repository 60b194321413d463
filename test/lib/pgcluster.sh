# shellcheck shell=bash
#
# pgcluster.sh — throwaway PostgreSQL clusters for attrib's tests.
#
# Source this file from bash; it defines functions and changes no shell options.
#
#   pg_ensure_packages    install what building and testing need (apt-get, once;
#                         silent when everything is already there)
#   pg_start [LINE...]    initdb + start a private cluster; each LINE is appended
#                         to postgresql.conf (later lines win); exports PGHOST,
#                         PGPORT, PGUSER=postgres, PGDATABASE=postgres,
#                         ATTRIB_PGDIR, ATTRIB_PGDATA, ATTRIB_PGLOG
#   pg_stop [DIR]         stop the current cluster (or the one in DIR), delete it
#   pg_cleanup            stop every cluster this shell started
#   pg_trap               stop them on EXIT, INT, TERM and HUP
#
# The server runs as the `postgres` OS user (initdb and postgres refuse root),
# with its data directory, unix socket and log in a fresh `mktemp -d` directory
# under /tmp that postgres owns; it listens on no TCP address.  Clients stay
# with the caller (root), so the repository itself never has to be readable by
# postgres.  Run server-side file access (COPY FROM 'file') through psql's
# \copy instead.
#
# Environment knobs:
#   ATTRIB_PG_MAJOR      PostgreSQL major to use (default: pg_config's, else 15)
#   ATTRIB_PG_PORT_BASE  first port tried (default 54321)
#   ATTRIB_PG_CRON=0     do not preload pg_cron even if it is installed
#   ATTRIB_PG_KEEP=1     pg_stop leaves the directory (logs) in place
#   ATTRIB_PG_TMPROOT    parent of the cluster directories (default /tmp); it
#                        must be traversable by postgres and short (socket path)
#   ATTRIB_PG_PRIVATE    a directory: use (and create on first use) a private
#                        copy of the PostgreSQL installation there (~50 MB; the
#                        server finds its share and lib directories relative to
#                        its binary), so `make install` and the servers started
#                        here never touch, or see, the system's installation.
#                        For engineers working side by side on one machine.

if ! declare -p _ATTRIB_PG_DIRS >/dev/null 2>&1; then
	_ATTRIB_PG_DIRS=()
fi
_ATTRIB_APT_UPDATED=${_ATTRIB_APT_UPDATED:-0}

_attrib_pg_say() {
	printf 'pgcluster: %s\n' "$*" >&2
}

# The major version to work with: explicit, else pg_config's, else 15.
_attrib_pg_major() {
	local v="" cfg=pg_config
	if [[ -n ${ATTRIB_PG_MAJOR:-} ]]; then
		printf '%s\n' "$ATTRIB_PG_MAJOR"
		return
	fi
	if [[ -n ${PG_CONFIG:-} && -x ${PG_CONFIG:-} ]]; then
		cfg=$PG_CONFIG
	fi
	if v=$("$cfg" --version 2>/dev/null); then
		v=${v#PostgreSQL }
		v=${v%%[!0-9]*}
	fi
	printf '%s\n' "${v:-15}"
}

# Sets _ATTRIB_PG_CONFIG and _ATTRIB_PG_BINDIR; exports PG_CONFIG (the
# Makefile's `PG_CONFIG ?=` picks it up) and puts the server's bindir first on
# PATH.  Returns 1 if there is no usable pg_config.
_attrib_pg_paths() {
	local major cfg=""
	major=$(_attrib_pg_major)
	if [[ -x /usr/lib/postgresql/$major/bin/pg_config ]]; then
		cfg=/usr/lib/postgresql/$major/bin/pg_config
	elif [[ -n ${PG_CONFIG:-} && -x ${PG_CONFIG:-} ]]; then
		cfg=$PG_CONFIG
	elif command -v pg_config >/dev/null 2>&1; then
		cfg=$(command -v pg_config)
	fi
	[[ -n $cfg ]] || return 1
	if [[ -n ${ATTRIB_PG_PRIVATE:-} ]]; then
		cfg=$(_attrib_pg_private "$cfg") || return 1
	fi
	_ATTRIB_PG_CONFIG=$cfg
	_ATTRIB_PG_BINDIR=$("$cfg" --bindir 2>/dev/null) || return 1
	export PG_CONFIG=$cfg
	case ":$PATH:" in
	*":$_ATTRIB_PG_BINDIR:"*) ;;
	*) export PATH="$_ATTRIB_PG_BINDIR:$PATH" ;;
	esac
}

# _attrib_pg_private SYSTEM_PG_CONFIG — copy the installation under
# $ATTRIB_PG_PRIVATE once (readable by postgres) and print the copy's pg_config.
_attrib_pg_private() {
	local sys=$1 libroot shareroot incroot priv=$ATTRIB_PG_PRIVATE
	libroot=$(dirname "$("$sys" --bindir)") || return 1
	shareroot=$("$sys" --sharedir) || return 1
	incroot=$("$sys" --includedir) || return 1
	if [[ ! -x $priv$libroot/bin/pg_config ]]; then
		mkdir -p "$priv$(dirname "$libroot")" "$priv$(dirname "$shareroot")" || return 1
		cp -a "$libroot" "$priv$libroot" && cp -a "$shareroot" "$priv$shareroot" || return 1
		chmod -R a+rX "$priv" || return 1
		_attrib_pg_say "private PostgreSQL installation in $priv"
	fi
	# the headers are only read: the copy's pg_config finds them through a link
	if [[ ! -e $priv$incroot ]]; then
		mkdir -p "$priv$(dirname "$incroot")" && ln -s "$incroot" "$priv$incroot" || return 1
	fi
	printf '%s\n' "$priv$libroot/bin/pg_config"
}

# Prints the Debian packages still missing, one per line.
_attrib_pg_missing() {
	local major cfg bindir pkglib clang_path
	major=$(_attrib_pg_major)
	cfg=/usr/lib/postgresql/$major/bin/pg_config
	bindir=/usr/lib/postgresql/$major/bin
	pkglib=/usr/lib/postgresql/$major/lib
	if [[ ! -x $bindir/initdb || ! -x $bindir/postgres || ! -x $bindir/pg_ctl ]] ||
		! command -v runuser >/dev/null 2>&1 || ! id postgres >/dev/null 2>&1; then
		echo "postgresql-$major"
	fi
	if [[ ! -x $bindir/psql || ! -x $bindir/pg_isready ]]; then
		echo "postgresql-client-$major"
	fi
	if [[ ! -x $cfg ]] || [[ ! -f $("$cfg" --pgxs 2>/dev/null) ]] ||
		[[ ! -f $("$cfg" --includedir-server 2>/dev/null)/postgres.h ]]; then
		echo "postgresql-server-dev-$major"
	else
		# PGXS compiles LLVM bitcode with the clang it was configured with.
		clang_path=$(sed -n 's/^CLANG *= *//p' "$(dirname "$("$cfg" --pgxs)")/../Makefile.global" 2>/dev/null)
		if [[ -n $clang_path && ! -x $clang_path ]]; then
			basename "$clang_path"
		fi
	fi
	if [[ ! -f $pkglib/pg_cron.so ]]; then
		echo "postgresql-$major-cron"
	fi
	if ! command -v gcc >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
		echo build-essential
	fi
	if ! command -v clang >/dev/null 2>&1; then
		echo clang
	fi
	if ! command -v python3 >/dev/null 2>&1; then
		echo python3
	fi
	if ! command -v sqlsmith >/dev/null 2>&1; then
		echo sqlsmith
	fi
}

# Install PostgreSQL (server, headers, pg_cron), compilers, python3 and sqlsmith if any
# is missing.  Idempotent and silent when everything is present.
pg_ensure_packages() {
	local -a missing
	local log rc
	mapfile -t missing < <(_attrib_pg_missing | sort -u)
	if ((${#missing[@]} > 0)); then
		if ((EUID != 0)); then
			_attrib_pg_say "missing packages: ${missing[*]} (run as root or install them)"
			return 1
		fi
		if ! command -v apt-get >/dev/null 2>&1; then
			_attrib_pg_say "missing packages: ${missing[*]} and no apt-get to install them"
			return 1
		fi
		_attrib_pg_say "installing ${missing[*]}"
		log=$(mktemp "${TMPDIR:-/tmp}/attrib-apt.XXXXXX")
		rc=0
		if [[ $_ATTRIB_APT_UPDATED != 1 ]]; then
			DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 || rc=$?
			[[ $rc != 0 ]] || _ATTRIB_APT_UPDATED=1
		fi
		if [[ $rc == 0 ]]; then
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
				"${missing[@]}" >>"$log" 2>&1 || rc=$?
		fi
		if [[ $rc != 0 ]]; then
			tail -n 30 "$log" >&2
			_attrib_pg_say "package installation failed (full log: $log)"
			return 1
		fi
		rm -f "$log"
		mapfile -t missing < <(_attrib_pg_missing | sort -u)
		if ((${#missing[@]} > 0)); then
			_attrib_pg_say "still missing after install: ${missing[*]}"
			return 1
		fi
	fi
	_attrib_pg_paths || {
		_attrib_pg_say "no pg_config found"
		return 1
	}
}

# Run a command as the postgres OS user (as ourselves when not root), from a
# directory it can read so tools that look up the cwd do not complain.
_attrib_pg_as_postgres() {
	local dir=$1
	shift
	if ((EUID == 0)); then
		(cd "$dir" && runuser -u postgres -- "$@")
	else
		(cd "$dir" && "$@")
	fi
}

# True if something on this machine already uses PORT: a unix socket named
# .s.PGSQL.PORT anywhere (our clusters listen only there) or a TCP listener.
_attrib_pg_port_busy() {
	local port=$1 hex
	printf -v hex ':%04X' "$port"
	if [[ -r /proc/net/unix ]] && grep -q "/\.s\.PGSQL\.$port\$" /proc/net/unix; then
		return 0
	fi
	if [[ -r /proc/net/tcp ]]; then
		awk -v h="$hex" '$4 == "0A" && substr($2, length($2) - 4) == h { found = 1 }
			END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null && return 0
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
	fi
	[[ -e /tmp/.s.PGSQL.$port || -e /var/run/postgresql/.s.PGSQL.$port ]]
}

_attrib_pg_free_port() {
	local port=${ATTRIB_PG_PORT_BASE:-54321} last
	last=$((port + 1000))
	while ((port < last)); do
		if ! _attrib_pg_port_busy "$port"; then
			printf '%s\n' "$port"
			return 0
		fi
		port=$((port + 1))
	done
	return 1
}

# pg_start [postgresql.conf line...]
pg_start() {
	local dir data log port cron_lib locale line
	_attrib_pg_paths || {
		_attrib_pg_say "no pg_config found; run pg_ensure_packages first"
		return 1
	}
	if ((EUID == 0)) && ! id postgres >/dev/null 2>&1; then
		_attrib_pg_say "there is no postgres OS user to run the server as"
		return 1
	fi
	dir=$(mktemp -d "${ATTRIB_PG_TMPROOT:-/tmp}/attrib-pg.XXXXXX") || return 1
	chmod 700 "$dir"
	if ((EUID == 0)); then
		chown postgres:postgres "$dir" || {
			rm -rf "$dir"
			return 1
		}
	fi
	data=$dir/data
	log=$dir/postgres.log

	# C.UTF-8 ships with glibc; fall back to plain C where it does not exist.
	for locale in C.UTF-8 C; do
		if _attrib_pg_as_postgres "$dir" "$_ATTRIB_PG_BINDIR/initdb" -D "$data" \
			-A trust -U postgres --no-sync -E UTF8 --locale="$locale" \
			>"$dir/initdb.log" 2>&1; then
			break
		fi
		_attrib_pg_as_postgres "$dir" rm -rf "$data"
		locale=""
	done
	if [[ -z $locale ]]; then
		tail -n 20 "$dir/initdb.log" >&2
		_attrib_pg_say "initdb failed"
		rm -rf "$dir"
		return 1
	fi

	port=$(_attrib_pg_free_port) || {
		_attrib_pg_say "no free port from ${ATTRIB_PG_PORT_BASE:-54321}"
		rm -rf "$dir"
		return 1
	}
	cron_lib="$("$_ATTRIB_PG_CONFIG" --pkglibdir)/pg_cron.so"
	{
		echo
		echo "# added by attrib's test/lib/pgcluster.sh"
		echo "port = $port"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$dir'"
		echo "fsync = off"
		echo "synchronous_commit = off"
		echo "full_page_writes = off"
		if [[ ${ATTRIB_PG_CRON:-1} != 0 && -f $cron_lib ]]; then
			echo "shared_preload_libraries = 'pg_cron'"
			echo "cron.database_name = 'postgres'"
			echo "cron.host = '$dir'"
		fi
		for line in "$@"; do
			printf '%s\n' "$line"
		done
	} >>"$data/postgresql.conf"

	if ! _attrib_pg_as_postgres "$dir" "$_ATTRIB_PG_BINDIR/pg_ctl" -D "$data" -l "$log" \
		-w -t 60 -s start >/dev/null 2>&1 ||
		! "$_ATTRIB_PG_BINDIR/pg_isready" -q -h "$dir" -p "$port" -U postgres -d postgres -t 30; then
		tail -n 30 "$log" >&2 2>/dev/null
		_attrib_pg_say "server did not start (port $port, log above)"
		_ATTRIB_PG_DIRS+=("$dir")
		ATTRIB_PG_KEEP=0 pg_stop "$dir" >/dev/null 2>&1
		return 1
	fi

	_ATTRIB_PG_DIRS+=("$dir")
	export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
	export ATTRIB_PGDIR=$dir ATTRIB_PGDATA=$data ATTRIB_PGLOG=$log
}

# pg_stop [DIR] — stop a cluster started by pg_start (default: the current
# one, $ATTRIB_PGDIR) with pg_ctl stop -m fast and delete its directory.
# Only that cluster's postmaster is ever signalled.
pg_stop() {
	local dir=${1:-${ATTRIB_PGDIR:-}} data pid i rc=0 d
	local -a keep=()
	[[ -n $dir ]] || return 0
	data=$dir/data
	if [[ -f $data/postmaster.pid ]]; then
		if [[ -z ${_ATTRIB_PG_BINDIR:-} ]]; then
			_attrib_pg_paths || true
		fi
		if ! _attrib_pg_as_postgres "$dir" "${_ATTRIB_PG_BINDIR:-/usr/lib/postgresql/15/bin}/pg_ctl" \
			-D "$data" -m fast -w -t 60 -s stop >/dev/null 2>&1; then
			pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null)
			if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
				_attrib_pg_say "pg_ctl stop failed; sending SIGQUIT to postmaster $pid"
				kill -QUIT "$pid" 2>/dev/null
				for ((i = 0; i < 50; i++)); do
					kill -0 "$pid" 2>/dev/null || break
					sleep 0.1
				done
				if kill -0 "$pid" 2>/dev/null; then
					kill -KILL "$pid" 2>/dev/null
					rc=1
				fi
			fi
		fi
	fi
	if [[ ${ATTRIB_PG_KEEP:-0} == 1 ]]; then
		_attrib_pg_say "kept $dir (log: $dir/postgres.log)"
	else
		rm -rf "$dir"
	fi
	for d in "${_ATTRIB_PG_DIRS[@]}"; do
		[[ $d == "$dir" ]] || keep+=("$d")
	done
	_ATTRIB_PG_DIRS=("${keep[@]}")
	if [[ $dir == "${ATTRIB_PGDIR:-}" ]]; then
		unset PGHOST PGPORT PGUSER PGDATABASE ATTRIB_PGDIR ATTRIB_PGDATA ATTRIB_PGLOG
	fi
	return "$rc"
}

# Stop every cluster this shell started, newest first.
pg_cleanup() {
	local i rc=0
	for ((i = ${#_ATTRIB_PG_DIRS[@]} - 1; i >= 0; i--)); do
		pg_stop "${_ATTRIB_PG_DIRS[i]}" || rc=1
	done
	return "$rc"
}

# Install traps that run pg_cleanup on exit and on INT/TERM/HUP (after which
# the shell dies of the same signal).  Replaces existing traps for these.
pg_trap() {
	trap 'pg_cleanup' EXIT
	trap 'pg_cleanup; trap - EXIT INT; kill -INT $$' INT
	trap 'pg_cleanup; trap - EXIT TERM; kill -TERM $$' TERM
	trap 'pg_cleanup; trap - EXIT HUP; kill -HUP $$' HUP
}
