#!/usr/bin/env python3
"""test/bench/report.py — turns bench.sh's raw measurements into markdown.

Input: runs.tsv (scale step run wall_ms cpu_ms hwm_kb anon_peak_kb rss_anon_kb
rss_shmem_kb rss_file_kb, one line per timed run), meta.tsv (scale key value),
and the work directory (EXPLAIN ANALYZE and perf output).  Writes --out.
"""
import argparse
import datetime
import os
import platform
import statistics
import subprocess

STEPS = [
    ('floor', '(1) floor: a range scan of touches per opportunity, count(*) + trivial aggregates'),
    ('floor_join', 'floor, as a window join grouped by opportunity (floor_join.sql), informational'),
    ('journeys', 'journeys only: journey_agg + with_context'),
    ('attrib', '(2) attrib: journeys + attrib.credits for the 15 rule-based models'),
    ('attrib_split', '(2b) attrib: journeys + credit_split (all 15 models in one call)'),
    ('attrib_arrays', '(2c) attrib: journeys + credit_arrays (all 15 models in one call, one row per model, what refresh stores)'),
    ('plain', '(3) plain SQL: the 15 models with window functions (plain_sql.sql)'),
    ('refresh', '(4) full refresh: SELECT attrib.refresh()'),
    ('recompute', '(4b) credits from stored journeys: refresh_scope(NULL, false, now())'),
    ('stored_credits', '(4c) credits from stored journeys, computed only (attrib.credits, no write)'),
    ('stored_arrays', '(4d) credits from stored journeys, computed only (credit_arrays, no write)'),
    ('report_channel', '(9) report: attrib.revenue_by_channel, every row'),
    ('report_wide', '(9) report: attrib.touch_credits_wide, every row'),
    ('markov1_p2', '(5) Markov fit, order 1 (2 workers)'),
    ('markov3_p2', '(5) Markov fit, order 3 (2 workers)'),
    ('shapley_p2', '(5) Shapley fit (2 workers)'),
    ('markov1_p0', '(5) Markov fit, order 1 (no worker)'),
    ('markov3_p0', '(5) Markov fit, order 3 (no worker)'),
    ('shapley_p0', '(5) Shapley fit (no worker)'),
    ('markov1_solve', 'Markov order 1: fit + channel table (exact solve)'),
    ('markov3_solve', 'Markov order 3: fit + channel table (exact solve)'),
    ('shapley_solve', 'Shapley: fit + channel table'),
    ('noop_p0', 'count(*) of the few rows of attrib.channels, no worker (informational)'),
    ('noop_p2', 'the same with 2 workers: the fixed cost of starting them (informational)'),
    ('incremental', '(6) refresh_incremental() after 1% of accounts changed touches'),
    ('model_change', '(6b) refresh_incremental() after one custom model\'s weights changed'),
    ('journey_build_p0', '(8) journey building (journey_agg per opportunity), no worker'),
    ('journey_build_p2', '(8) journey building (journey_agg per opportunity), 2 workers'),
]

# ratio name, numerator, denominator, target op, target value, note
RATIOS = [
    ('attrib / floor', 'attrib', 'floor', '<=', 1.5, ''),
    ('plain / attrib', 'plain', 'attrib', '>=', 5.0, ''),
    ('stored-journey recompute / floor', 'recompute', 'floor', '<=', 0.5, ''),
    ('stored-journey credits, not written / floor', 'stored_credits', 'floor', '<=', 0.5, ''),
    ('incremental / full refresh', 'incremental', 'refresh', '<=', 0.05, ''),
    ('journey building: no worker / 2 workers', 'journey_build_p0', 'journey_build_p2', '>=', 1.6, 'wall'),
    ('Markov order 1 fit: no worker / 2 workers', 'markov1_p0', 'markov1_p2', '>=', 1.6, 'wall'),
    ('Markov order 3 fit: no worker / 2 workers', 'markov3_p0', 'markov3_p2', '>=', 1.6, 'wall'),
    ('Shapley fit: no worker / 2 workers', 'shapley_p0', 'shapley_p2', '>=', 1.6, 'wall'),
    ('(info) attrib credit_split / floor', 'attrib_split', 'floor', None, None, ''),
    ('(info) attrib credit_arrays / floor', 'attrib_arrays', 'floor', None, None, ''),
    ('(info) stored-journey credit_arrays, not written / floor', 'stored_arrays', 'floor', None, None, ''),
    ('(info) report revenue_by_channel / floor', 'report_channel', 'floor', None, None, ''),
    ('(info) report touch_credits_wide / floor', 'report_wide', 'floor', None, None, ''),
    ('(info) journeys only / floor', 'journeys', 'floor', None, None, ''),
    ('(info) floor as a join / floor', 'floor_join', 'floor', None, None, ''),
    ('(info) full refresh / floor', 'refresh', 'floor', None, None, ''),
    ('(info) one changed model, incremental / recompute of every model', 'model_change', 'recompute', None, None, ''),
    ('(info) one changed model, incremental / floor', 'model_change', 'floor', None, None, ''),
]


def load(args):
    runs = {}
    raws, metas = [args.raw], [args.meta]
    for d in filter(None, args.merge.split(':')):
        raws.append(os.path.join(d, 'runs.tsv'))
        metas.append(os.path.join(d, 'meta.tsv'))
    lines = [line for path in raws for line in open(path)]
    for line in lines:
        f = line.rstrip('\n').split('\t')
        if len(f) < 10:
            continue
        scale, step = f[0], f[1]
        wall, cpu = float(f[3]), float(f[4])
        hwm, anon_peak, anon, shmem, filekb = (int(x) for x in f[5:10])
        priv = max(anon_peak, hwm - shmem - filekb)
        runs.setdefault((scale, step), []).append(dict(wall=wall, cpu=cpu, hwm=hwm, priv=priv))
    meta = {}
    for line in (line for path in metas for line in open(path)):
        f = line.rstrip('\n').split('\t')
        if len(f) == 3:
            meta.setdefault(f[0], {})[f[1]] = f[2]
    return runs, meta


def stat(runs, scale, step):
    r = runs.get((scale, step))
    if not r:
        return None
    return dict(
        wall=statistics.median(x['wall'] for x in r),
        wmin=min(x['wall'] for x in r), wmax=max(x['wall'] for x in r),
        cpu=statistics.median(x['cpu'] for x in r),
        priv=max(x['priv'] for x in r) / 1024.0,
        hwm=max(x['hwm'] for x in r) / 1024.0, n=len(r))


def fmt_ms(v):
    if v >= 100000:
        return '%.0f' % v
    if v >= 100:
        return '%.0f' % v
    return '%.1f' % v


def met(value, op, target):
    if value is None or op is None:
        return ''
    ok = value <= target if op == '<=' else value >= target
    return 'yes' if ok else '**no**'


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:  # noqa: BLE001 — the report is written whatever fails here
        return ''


def main():
    ap = argparse.ArgumentParser()
    for a in ('raw', 'meta', 'work', 'out', 'runs', 'git', 'git-dirty', 'so', 'conf', 'scales', 'warmup'):
        ap.add_argument('--' + a, required=True)
    ap.add_argument('--merge', default='')
    ap.add_argument('--huge-pages', default='off')
    args = ap.parse_args()
    runs, meta = load(args)
    workdirs = [args.work] + [d for d in args.merge.split(':') if d]
    scales = sorted(set(args.scales.split()) | set(meta), key=float)
    out = []
    w = out.append

    cpu_model = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-").strip()
    mem = sh("free -g | awk '/^Mem:/ {print $2 \" GB total, \" $7 \" GB available\"}'")
    version = next((m.get('server_version') for m in meta.values() if m.get('server_version')), '?')
    w('# attrib benchmark results')
    w('')
    w('Written by `test/bench/bench.sh` (issue 5). Re-run: `bash test/bench/bench.sh %s` '
      '(quick check: `BENCH_QUICK=1 bash test/bench/bench.sh`).' % ' '.join(scales))
    w('')
    w('- date: %s' % datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'))
    w('- commit: %s%s; attrib.so md5 %s… (a private installation, unchanged for the whole run)'
      % (args.git, ' (plus %s uncommitted changed files under src/, sql/, Makefile)' % args.git_dirty
         if args.git_dirty not in ('0', '') else '', args.so))
    w('- machine: %s CPUs (`nproc`), %s, %s, %s; shared with other jobs (load averages per scale below)'
      % (os.cpu_count(), cpu_model or '?', mem, platform.platform()))
    w('- PostgreSQL %s, throwaway cluster from `test/lib/pgcluster.sh` (fsync, synchronous_commit and '
      'full_page_writes off), locale C.UTF-8' % version)
    w('- settings: ' + ', '.join('`%s`' % c for c in args.conf.splitlines() if c.strip()))
    w('- huge pages for the shared memory: %s (with 4 kB pages, each fresh connection first takes a page '
      'fault per page of shared buffers it touches)' % args.huge_pages)
    w('- parallel comparisons: "no worker" runs with `max_parallel_workers_per_gather = 0`; "2 workers" with '
      '`max_parallel_workers_per_gather = 2, parallel_setup_cost = 0, parallel_tuple_cost = 0, '
      'min_parallel_table_scan_size = 0` (so the plan uses them); every other step runs with the server '
      'settings above')
    w('- each timed run is one statement in a fresh connection; the median of the timed runs is shown '
      '(min–max beside it); how many runs, and whether after an untimed warm-up, is said per scale')
    w('- wall = psql `\\timing`; CPU = the backend\'s user+system time plus that of the parallel workers it '
      'used (reaped by the postmaster); on a shared machine CPU is the steadier number')
    w('- peak private MB = max(sampled peak RssAnon every 20 ms, VmHWM − RssShmem − RssFile at the end) of '
      'the backend (lower bounds of its private peak; parallel workers not included); VmHWM MB also counts '
      'the shared buffers the backend touched, unless they are in huge pages')
    w('')

    w('## Data')
    w('')
    w('| scale | accounts | opportunities | touches | touches in windows | journeys | credit rows stored | '
      'caches MB | generate s | load avg before → after |')
    w('|---|---|---|---|---|---|---|---|---|---|')
    for s in scales:
        m = meta.get(s, {})
        w('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s → %s |' % (
            s, m.get('accounts', ''), m.get('opportunities', ''), m.get('touches', ''),
            m.get('journey_touches', ''), m.get('journeys', ''), m.get('credit_rows', ''),
            m.get('cache_mb', ''), m.get('generate_s', ''), m.get('load_before', ''), m.get('load_after', '')))
    w('')

    for s in scales:
        m = meta.get(s, {})
        w('## Scale %s (%s touches, %s in windows)' % (s, m.get('touches', '?'), m.get('journey_touches', '?')))
        w('')
        if m.get('protocol'):
            w('Protocol: %s.' % m['protocol'])
            w('')
        if m.get('settings') and m['settings'] != ' '.join(args.conf.splitlines()):
            w('Settings of this scale: `%s`.' % m['settings'])
            w('')
        w('| step | wall ms (median) | min–max | CPU ms | peak private MB | VmHWM MB |')
        w('|---|---|---|---|---|---|')
        for step, desc in STEPS:
            st = stat(runs, s, step)
            if st is None:
                failed = m.get('failed:' + step)
                if failed:
                    w('| %s | failed: %s | | | | |' % (desc, failed.replace('|', '/')))
                continue
            w('| %s | %s | %s–%s | %s | %.1f | %.1f |' % (
                desc, fmt_ms(st['wall']), fmt_ms(st['wmin']), fmt_ms(st['wmax']), fmt_ms(st['cpu']),
                st['priv'], st['hwm']))
        w('')
        wk = ', '.join('%s %s' % (k.split(':', 1)[1], v or '0') for k, v in sorted(m.items())
                       if k.startswith('workers:'))
        if wk:
            w('Workers planned: %s.' % wk)
        w('Incremental refresh: %s accounts changed per run; results equal a full refresh: %s.'
          % (m.get('changed_accounts', '?'), m.get('incremental_equals_full', 'not checked')))
        cancels = ['%s: %s' % (k.split(':', 1)[1], v)
                   for k, v in sorted((kv for kv in m.items() if kv[0].startswith('cancel:')),
                                      key=lambda kv: float(kv[0].split()[1]))]
        if cancels:
            w('Full refresh cancelled (pg_cancel_backend) %s.' % '; '.join(cancels))
        w('')

    w('## Ratios against the targets of issue 5')
    w('')
    w('| scale | ratio | wall | CPU | target | met (wall) | met (CPU) |')
    w('|---|---|---|---|---|---|---|')
    for s in scales:
        for name, num, den, op, target, note in RATIOS:
            a, b = stat(runs, s, num), stat(runs, s, den)
            if a is None or b is None or b['wall'] == 0:
                continue
            rw = a['wall'] / b['wall']
            rc = a['cpu'] / b['cpu'] if b['cpu'] > 0 and note != 'wall' else None
            tgt = '%s %s' % ('≤' if op == '<=' else '≥', ('%g×' % target) if op else '') if op else ''
            if name.startswith('incremental'):
                tgt = '≤ 5%'
            w('| %s | %s | %.3f | %s | %s | %s | %s |' % (
                s, name, rw, '%.3f' % rc if rc is not None else 'n/a', tgt,
                met(rw, op, target), met(rc, op, target) if rc is not None else ''))
    w('')

    w('## Growth with data (must be linear)')
    w('')
    w('Time ratio between consecutive scales against the ratio of touches; the target (10^6 → 10^7 '
      'touches: at most 11×) is read as "time ratio ≤ 1.1 × touch ratio". Memory: peak private MB.')
    w('')
    w('| step | scales | touch ratio | wall ratio | CPU ratio | met (wall) | met (CPU) | peak private MB |')
    w('|---|---|---|---|---|---|---|---|')
    for i in range(len(scales) - 1):
        s0, s1 = scales[i], scales[i + 1]
        try:
            tr = float(meta[s1]['touches']) / float(meta[s0]['touches'])
        except (KeyError, ValueError, ZeroDivisionError):
            continue
        for step, desc in STEPS:
            a, b = stat(runs, s0, step), stat(runs, s1, step)
            if a is None or b is None or a['wall'] == 0:
                continue
            rw = b['wall'] / a['wall']
            rc = b['cpu'] / a['cpu'] if a['cpu'] > 0 else None
            w('| %s | %s → %s | %.2f | %.2f | %s | %s | %s | %.1f → %.1f |' % (
                step, s0, s1, tr, rw, '%.2f' % rc if rc is not None else 'n/a',
                met(rw, '<=', 1.1 * tr), met(rc, '<=', 1.1 * tr) if rc is not None else '',
                a['priv'], b['priv']))
    w('')

    w('## Where the time goes')
    w('')
    for s in scales:
        path = next((p for p in (os.path.join(d, 'explain-attrib-%s.txt' % s) for d in workdirs)
                     if os.path.exists(p)), '')
        if path:
            w('<details><summary>EXPLAIN (ANALYZE, BUFFERS) of the attrib step, scale %s</summary>' % s)
            w('')
            w('```')
            w(open(path).read().rstrip())
            w('```')
            w('</details>')
            w('')
    for d in workdirs:
        path = os.path.join(d, 'perf-attrib.txt')
        if not (os.path.exists(path) and os.path.getsize(path) > 0):
            continue
        ps = [line.split('\t')[0] for line in open(os.path.join(d, 'meta.tsv'))]
        w('perf profile of the attrib step at scale %s (self time by symbol, top 30):'
          % (max(ps, key=float) if ps else '?'))
        w('')
        w('```')
        w(open(path).read().rstrip())
        w('```')
        w('')
    with open(args.out, 'w') as f:
        f.write('\n'.join(out) + '\n')


if __name__ == '__main__':
    main()
