# shellcheck shell=bash
#
# regress.sh — run attrib's pg_regress schedule from a test script, against
# whatever server PGHOST/PGPORT point at, in a database of its own and with
# results in a directory of its own (never the repository's results/), so a
# script can rerun the whole schedule under different conditions.
#
# Source after test/lib/pgcluster.sh (which sets PG_CONFIG).  Defines:
#   attrib_regress_list          the Makefile's REGRESS, space separated
#   attrib_regress DB OUTDIR [pg_regress option...]
#                                runs the schedule in database DB (dropped
#                                and created by pg_regress), outputs and
#                                regression.diffs in OUTDIR; prints
#                                pg_regress's output; returns its status
#                                (ATTRIB_REGRESS_ONLY="setup x" runs a subset)
#   attrib_regress_failures LOG  the suites a pg_regress output marks failed

_attrib_regress_root() {
	cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd
}

attrib_regress_list() {
	local root
	root=$(_attrib_regress_root) || return 1
	make -s --no-print-directory -C "$root" PG_CONFIG="${PG_CONFIG:-pg_config}" \
		--eval 'attrib-print-regress: ; @echo $(REGRESS)' attrib-print-regress
}

attrib_regress() {
	local db=$1 out=$2 root pgxs regress bindir
	shift 2
	root=$(_attrib_regress_root) || return 1
	pgxs=$("${PG_CONFIG:-pg_config}" --pgxs) || return 1
	regress=$(dirname "$pgxs")/../test/regress/pg_regress
	bindir=$("${PG_CONFIG:-pg_config}" --bindir) || return 1
	if [[ ! -x $regress ]]; then
		echo "regress: no pg_regress at $regress" >&2
		return 1
	fi
	local -a suites
	# ATTRIB_REGRESS_ONLY="setup money" runs just those (debugging)
	read -ra suites <<<"${ATTRIB_REGRESS_ONLY:-$(attrib_regress_list)}" || return 1
	if ((${#suites[@]} == 0)); then
		echo "regress: the Makefile lists no REGRESS suites" >&2
		return 1
	fi
	mkdir -p "$out"
	# pg_regress writes into --outputdir and reads sql/ and expected/ from
	# --inputdir; it runs psql as the caller (root), so the server never reads
	# the repository.  Suites \i files relative to the repository root, as
	# under make installcheck, so that is the working directory.
	(cd "$root" && "$regress" --inputdir="$root" --outputdir="$out" --bindir="$bindir" \
		--dbname="$db" "$@" "${suites[@]}")
}

attrib_regress_failures() {
	sed -nE 's/^(test |     )?[[:space:]]*([^[:space:]]+)[[:space:]]+\.\.\.[[:space:]]+FAILED.*/\2/p; s/^not ok [0-9]+[[:space:]]+[-+][[:space:]]+([^[:space:]]+).*/\1/p' "$1"
}
