-- attrib install script: assembled by the Makefile from the parts in src/sql; edit those.

\echo Use "CREATE EXTENSION attrib" to load this file. \quit
