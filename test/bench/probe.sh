# shellcheck shell=bash
#
# probe.sh start|stop — called by psql (\!) around one timed statement of
# bench.sh, in the session being measured.  Environment (set by bench.sh and by
# psql's \setenv):
#   BPID          the backend's pid (pg_backend_pid())
#   PM_PID        the postmaster's pid: parallel workers that exit are reaped by
#                 it, so their CPU time shows up in its cutime + cstime
#   BENCH_PROBE   path prefix for this measurement's files
#
# start: records the CPU time of the backend and of the postmaster's reaped
#        children, and starts a sampler of the backend's RssAnon (every 20 ms).
# stop:  stops the sampler and writes one line to $BENCH_PROBE.out:
#        cpu_ms hwm_kb anon_peak_kb rss_anon_kb rss_shmem_kb rss_file_kb
#   cpu_ms       CPU of the backend plus parallel workers that ran meanwhile
#   hwm_kb       VmHWM: peak resident set of the backend since it started (the
#                connection is fresh, so: of this step), shared buffers it
#                touched included
#   anon_peak_kb highest RssAnon seen by the sampler (private memory)
#   rss_*_kb     the backend's RssAnon / RssShmem / RssFile at the end
# Peak private memory is reported as max(anon_peak, hwm - shmem - file): both
# are lower bounds (shared and file pages stay mapped, so hwm - their final
# size is at most the private peak) and the sampler catches what lasts > 20 ms.

_cpu_ticks() {	# utime + stime (+ cutime + cstime with $2 = all) of pid $1
	local -a f
	read -ra f <"/proc/$1/stat" || return 1
	# fields after the ")" of comm: index 11 = utime (field 14)
	local rest=${f[*]}
	rest=${rest##*) }
	read -ra f <<<"$rest"
	if [[ ${2:-} == children ]]; then
		echo $((f[13] + f[14]))
	else
		echo $((f[11] + f[12]))
	fi
}

_status_kb() {	# value of a /proc/<pid>/status field in kB
	local k v
	while read -r k v _; do
		if [[ $k == "$2:" ]]; then
			echo "$v"
			return
		fi
	done <"/proc/$1/status"
	echo 0
}

case ${1:-} in
start)
	rm -f "$BENCH_PROBE".stop "$BENCH_PROBE".anon "$BENCH_PROBE".out
	echo "$(_cpu_ticks "$BPID") $(_cpu_ticks "$PM_PID" children)" >"$BENCH_PROBE".cpu0
	"${BENCH_PYTHON:-python3}" - "$BPID" "$BENCH_PROBE".stop "$BENCH_PROBE".anon >/dev/null 2>&1 <<'EOF' &
import os, sys, time
pid, stop, out = sys.argv[1:4]
peak = 0
while True:
    try:
        with open('/proc/%s/status' % pid) as f:
            for line in f:
                if line.startswith('RssAnon:'):
                    peak = max(peak, int(line.split()[1]))
                    break
    except OSError:
        break
    if os.path.exists(stop):
        break
    time.sleep(0.02)
with open(out + '.tmp', 'w') as f:
    f.write('%d\n' % peak)
os.rename(out + '.tmp', out)
EOF
	disown
	;;
stop)
	touch "$BENCH_PROBE".stop
	for _ in $(seq 100); do
		[[ -e $BENCH_PROBE.anon ]] && break
		sleep 0.02
	done
	sleep 0.1	# let the postmaster reap exited parallel workers
	read -r b0 c0 <"$BENCH_PROBE".cpu0
	b1=$(_cpu_ticks "$BPID")
	c1=$(_cpu_ticks "$PM_PID" children)
	hz=$(getconf CLK_TCK)
	echo "$(((b1 - b0 + c1 - c0) * 1000 / hz)) $(_status_kb "$BPID" VmHWM)" \
		"$(cat "$BENCH_PROBE".anon 2>/dev/null || echo 0)" \
		"$(_status_kb "$BPID" RssAnon) $(_status_kb "$BPID" RssShmem) $(_status_kb "$BPID" RssFile)" \
		>"$BENCH_PROBE".out
	;;
*)
	echo "usage: probe.sh start|stop" >&2
	exit 2
	;;
esac
