/* attrib install script — assembled by the Makefile from src/sql/*.sql; edit those */

\echo Use "CREATE EXTENSION attrib" to load this file. \quit
