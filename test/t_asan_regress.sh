#!/usr/bin/env bash
#
# test/t_asan_regress.sh — the whole pg_regress schedule against attrib built
# with clang -fsanitize=address,undefined, loaded in a throwaway server of its
# own; passes only with zero sanitizer reports.
#
#   bash test/t_asan_regress.sh        (as root; test/run.sh runs it)
#
# How the sanitized build is kept away from the normal installation: it is not
# installed over it.  The script builds a copy of the sources in a temporary
# directory (CC=clang, PG_CFLAGS with the sanitizers, no LLVM bitcode), installs
# it with DESTDIR into a private PostgreSQL tree, and runs a copy of the
# `postgres` binary from that tree: PostgreSQL finds its share and lib
# directories relative to its own executable, so that server loads
# attrib.control, the install script and attrib.so from the private tree and
# everything else (plpgsql, catalogs, timezone sets) through symlinks to the
# real installation.  The normal build stays installed for the rest of
# test/run.sh, and an interrupted run leaves nothing behind but a temporary
# directory.
#
# The instrumented attrib.so leaves the sanitizer runtime unresolved; the server
# gets it with LD_PRELOAD of clang's libclang_rt.asan (which carries UBSan too),
# ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 (PostgreSQL frees by memory
# context, not by pointer, so leak reports would be noise) and
# UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1, plus a tiny no-op
# bindtextdomain shim (see below: glibc 2.36 deadlocks at startup otherwise).
# Reports go to sanitizer.<pid> files next to the server log; any report there
# or in the log, or a backend killed by a signal, fails the script.  Then two
# canaries (a heap overflow and a signed overflow in a throwaway module) must
# each leave a report, proving the check would have seen one.  JIT is off (the
# bitcode would be uninstrumented).  Takes about a minute.
#
# Exit status 0 on success, 1 on any failure (with the reason on stderr).

set -uo pipefail

root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd) || exit 1
cd "$root" || exit 1
# shellcheck source-path=SCRIPTDIR/..
source test/lib/pgcluster.sh
# shellcheck source-path=SCRIPTDIR/..
source test/lib/regress.sh

say() { printf 't_asan_regress: %s\n' "$*"; }
die() {
	printf 't_asan_regress: FAIL: %s\n' "$*" >&2
	exit 1
}

pg_ensure_packages >/dev/null || die "packages missing"
command -v clang >/dev/null 2>&1 || die "clang not found"
asan_rt=$(clang -print-file-name=libclang_rt.asan-x86_64.so)
[[ -f $asan_rt ]] || die "no libclang_rt.asan-x86_64.so (apt-get install -y libclang-rt-14-dev)"

tmp=$(mktemp -d /tmp/attrib-asan.XXXXXX) || die "mktemp"
chmod 755 "$tmp"
cleanup() {
	pg_cleanup >/dev/null 2>&1
	if [[ ${ATTRIB_PG_KEEP:-0} == 1 ]]; then
		echo "t_asan_regress: kept $tmp" >&2
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

bindir=$("$PG_CONFIG" --bindir)
pkglibdir=$("$PG_CONFIG" --pkglibdir)
sharedir=$("$PG_CONFIG" --sharedir)
inst=$tmp/inst

# --- 1. the sanitized build, installed into the private tree ------------------
say "building attrib with clang -fsanitize=address,undefined"
mkdir -p "$tmp/build"
# The released install scripts and the upgrade scripts (attrib--*.sql, tracked) are
# copied; the current version's script, assembled by the Makefile, is built afresh.
extversion=$(sed -n 's/^EXTVERSION *= *//p' Makefile)
[[ -n $extversion ]] || die "no EXTVERSION in the Makefile"
tar -C "$root" --exclude='*.o' --exclude='*.bc' --exclude='*.so' --exclude=results \
	--exclude="attrib--$extversion.sql" \
	-cf - Makefile attrib.control src sql expected attrib--*.sql | tar -C "$tmp/build" -xf - ||
	die "copying the sources"
san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
if ! make -C "$tmp/build" -j2 CC=clang with_llvm=no \
	PG_CFLAGS="$san -O1 -g -Wno-unused-command-line-argument -Wno-ignored-optimization-argument" \
	PG_LDFLAGS="-fsanitize=address,undefined" >"$tmp/build.log" 2>&1 ||
	! make -C "$tmp/build" install with_llvm=no DESTDIR="$inst" >>"$tmp/build.log" 2>&1; then
	tail -n 40 "$tmp/build.log" >&2
	die "sanitized build failed"
fi
so=$inst$pkglibdir/attrib.so
[[ -f $so ]] || die "no $so after make install"
syms=$(nm -D "$so") || die "nm $so"
[[ $syms == *__asan_report* ]] || die "$so is not instrumented by ASan"
[[ $syms == *__ubsan_handle* ]] || die "$so is not instrumented by UBSan"

# The rest of the installation, by symlink; the postgres and pg_ctl binaries are
# copied (PostgreSQL resolves symlinks to find its own directories).
mkdir -p "$inst$bindir" "$inst$pkglibdir" "$inst$sharedir/extension"
cp "$bindir/postgres" "$bindir/pg_ctl" "$inst$bindir/" || die "copying the server binaries"
for f in "$pkglibdir"/* "$sharedir"/* "$sharedir"/extension/*; do
	rel=${f#/}
	[[ $rel == "${sharedir#/}/extension" ]] && continue
	[[ -e $inst/$rel || -L $inst/$rel ]] || ln -s "$f" "$inst/$rel"
done

# glibc 2.36 with a preloaded sanitizer runtime corrupts its internal locale
# rwlocks when libraries PostgreSQL links (gnutls through libldap, p11-kit)
# call bindtextdomain/newlocale from their constructors, and the server then
# hangs in bindtextdomain at startup (llvm-project#49223, google/sanitizers#1270;
# gcc's libasan behaves the same).  The server does not need message catalogs
# here (lc_messages is C), so a small shim preloaded after the sanitizer turns
# bindtextdomain/textdomain into no-ops.
cat >"$tmp/nls_shim.c" <<'EOF_SHIM'
char *bindtextdomain(const char *domain, const char *dir);
char *textdomain(const char *domain);
char *bind_textdomain_codeset(const char *domain, const char *codeset);
char *bindtextdomain(const char *domain, const char *dir)
{ (void) domain; return (char *) (dir ? dir : "/usr/share/locale"); }
char *textdomain(const char *domain)
{ return (char *) (domain ? domain : "messages"); }
char *bind_textdomain_codeset(const char *domain, const char *codeset)
{ (void) domain; return (char *) codeset; }
EOF_SHIM
gcc -shared -fPIC -O2 -o "$tmp/nls_shim.so" "$tmp/nls_shim.c" || die "building the NLS shim"

# --- 2. a throwaway server running the private tree -------------------------------
# pg_start makes the data directory, port and socket; the server is then
# restarted from the private binary with the sanitizer runtime preloaded.
ATTRIB_PG_CRON=0 pg_start "jit = off" "log_min_messages = warning" ||
	die "cluster start"
_attrib_pg_as_postgres "$ATTRIB_PGDIR" "$bindir/pg_ctl" -D "$ATTRIB_PGDATA" -m fast -w -s stop ||
	die "stopping the plain server"
setarch_run=()
if [[ $(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0) -gt 28 ]] &&
	setarch "$(uname -m)" -R true 2>/dev/null; then
	setarch_run=(setarch "$(uname -m)" -R)
fi
asan_opts="detect_leaks=0:abort_on_error=1:log_path=$ATTRIB_PGDIR/sanitizer:verify_asan_link_order=0"
ubsan_opts="halt_on_error=1:print_stacktrace=1:log_path=$ATTRIB_PGDIR/sanitizer"
if ! _attrib_pg_as_postgres "$ATTRIB_PGDIR" env LD_PRELOAD="$asan_rt $tmp/nls_shim.so" \
	ASAN_OPTIONS="$asan_opts" UBSAN_OPTIONS="$ubsan_opts" "${setarch_run[@]}" \
	"$inst$bindir/pg_ctl" -D "$ATTRIB_PGDATA" -l "$ATTRIB_PGLOG" -w -t 120 -s start >/dev/null 2>&1; then
	tail -n 30 "$ATTRIB_PGLOG" >&2
	die "the server with the sanitizer runtime did not start"
fi
pmpid=$(head -n 1 "$ATTRIB_PGDATA/postmaster.pid")
[[ $(<"/proc/$pmpid/maps") == *libclang_rt.asan* ]] || die "the server did not preload the ASan runtime"
libdir_seen=$(psql -X -At -d postgres -c "SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'") ||
	die "cannot query the server"
[[ $libdir_seen == "$inst$pkglibdir" ]] ||
	die "the server's pkglibdir is $libdir_seen, not the private tree $inst$pkglibdir"
say "server on port $PGPORT runs $inst$bindir/postgres with ASan+UBSan attrib.so"

# --- 3. the whole schedule --------------------------------------------------------
start=$(date +%s)
attrib_regress attrib_asan_regress "$tmp/out" >"$tmp/regress.log" 2>&1
rc=$?
cat "$tmp/regress.log"
say "schedule ran in $(($(date +%s) - start)) s"
failed=$(attrib_regress_failures "$tmp/regress.log" | tr '\n' ' ')
psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS attrib_asan_regress' >/dev/null 2>&1

status=0
if ((rc != 0)); then
	[[ -s $tmp/out/regression.diffs ]] && head -n 120 "$tmp/out/regression.diffs" >&2
	echo "t_asan_regress: FAIL: pg_regress failed (status $rc)${failed:+: $failed}" >&2
	status=1
fi
reports=$(grep -hE 'runtime error:|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|terminated by signal|PANIC:' \
	"$ATTRIB_PGLOG" "$ATTRIB_PGDIR"/sanitizer* 2>/dev/null | head -n 40)
if [[ -n $reports ]]; then
	printf '%s\n' "$reports" >&2
	for f in "$ATTRIB_PGDIR"/sanitizer*; do
		[[ -f $f ]] && head -n 60 "$f" >&2
	done
	echo "t_asan_regress: FAIL: sanitizer reports or crashes in the server log" >&2
	status=1
fi

# --- 4. the canaries: a deliberate heap overflow and signed overflow, in a
# separate module, must each produce a report where step 3 looked -----------------
if ((status == 0)); then
	cat >"$tmp/canary.c" <<'EOF_CANARY'
#include "postgres.h"
#include "fmgr.h"
#include <stdlib.h>
PG_MODULE_MAGIC;
PG_FUNCTION_INFO_V1(asan_canary);
Datum
asan_canary(PG_FUNCTION_ARGS)
{
	volatile char *p = malloc(8);
	int			i = PG_GETARG_INT32(0);

	p[i] = 1;
	PG_RETURN_INT32(p[i]);
}
PG_FUNCTION_INFO_V1(ubsan_canary);
Datum
ubsan_canary(PG_FUNCTION_ARGS)
{
	volatile int x = PG_GETARG_INT32(0);

	PG_RETURN_INT32(x + 2147483647);
}
EOF_CANARY
	if ! clang $san -O1 -g -fPIC -shared -I"$("$PG_CONFIG" --includedir-server)" \
		-o "$tmp/canary.so" "$tmp/canary.c" >"$tmp/canary.log" 2>&1; then
		cat "$tmp/canary.log" >&2
		die "building the canary module"
	fi
	chmod 755 "$tmp/canary.so"
	for c in asan ubsan; do
		psql -X -q -d postgres -c "CREATE FUNCTION pg_temp.${c}_canary(int) RETURNS int
			AS '$tmp/canary.so', '${c}_canary' LANGUAGE C STRICT; SELECT pg_temp.${c}_canary(8)" \
			>>"$tmp/canary.log" 2>&1
		for ((i = 0; i < 100; i++)); do
			pg_isready -q -h "$PGHOST" -p "$PGPORT" && break
			sleep 0.2
		done
	done
	grep -qs "heap-buffer-overflow" "$ATTRIB_PGDIR"/sanitizer* ||
		{ tail -n 20 "$tmp/canary.log" "$ATTRIB_PGLOG" >&2; die "the ASan canary left no report: the check above would not see one"; }
	grep -qs 'signed integer overflow' "$ATTRIB_PGDIR"/sanitizer* "$ATTRIB_PGLOG" ||
		die "the UBSan canary left no report: the check above would not see one"
	say "canaries: a heap overflow and a signed overflow were each reported"
	say "PASS: $(wc -w <<<"${ATTRIB_REGRESS_ONLY:-$(attrib_regress_list)}") suites, zero sanitizer reports"
fi
exit "$status"
