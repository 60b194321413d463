-- (3) plain SQL: the same models without attrib (test/bench/plain_sql.sql),
-- consumed the same way.
SELECT sum(credit) AS credit, count(*) AS credit_rows FROM bench.plain_credits;
