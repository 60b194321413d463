-- the fixed cost of starting parallel workers on this machine: counting the
-- 1000 rows of a small table (public.bench_noop, made by bench.sh with
-- parallel_workers = 2), run with and without 2 workers
SELECT count(*) FROM public.bench_noop;
