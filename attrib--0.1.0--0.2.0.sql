-- attrib upgrade script 0.1.0 -> 0.2.0, run by ALTER EXTENSION attrib UPDATE.
--
-- Hand-written and tracked.  It holds, as statements on an installed 0.1.0, every
-- change made to src/sql/*.sql since release 0.1.0 (commit f8fe079): whoever
-- changes src/sql adds the matching statement here.  test/t_upgrade.sh installs
-- 0.1.0, updates, and compares the catalog with a fresh install of 0.2.0; when
-- they differ it names the objects and shows both sides.
--
-- Same rules as the install script: everything qualified (@extschema@.x,
-- pg_catalog.y).  CREATE OR REPLACE is right here (and only here): the object
-- exists and is a member of the extension, and PostgreSQL refuses to replace one
-- that is not.  Recreate a view or an aggregate with DROP + CREATE, then restore
-- its comments and grants; add columns with ALTER TABLE at the end of a table
-- only if src/sql puts them there too (column order is compared).

\echo Use "ALTER EXTENSION attrib UPDATE TO '0.2.0'" to load this file. \quit
