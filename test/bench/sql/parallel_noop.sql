-- the fixed cost of starting parallel workers on this machine: counting the
-- few rows of attrib.channels (run with and without 2 workers)
SELECT count(*) FROM attrib.channels;
