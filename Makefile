# attrib — B2B revenue attribution inside PostgreSQL (PGXS build)
EXTENSION    = attrib
EXTVERSION   = 0.2.0
MODULE_big   = attrib
# Released install scripts are frozen: tracked, never edited again (test/t_upgrade.sh
# checks their sha256).  Each release after the first ships a hand-written delta from
# the one before; the install script of EXTVERSION is assembled from src/sql/.
DATA         = attrib--0.1.0.sql attrib--0.1.0--0.2.0.sql
DATA_built   = attrib--$(EXTVERSION).sql
PGFILEDESC   = "attrib - multi-touch revenue attribution"

CORE_OBJS    = src/core/env.o src/core/json.o src/core/journey.o src/core/models.o \
               src/core/money.o src/core/dd_util.o src/core/markov_fit.o \
               src/core/markov_solve.o src/core/shapley.o src/core/dd_weights.o
GLUE_OBJS    = src/attrib.o src/journey_type.o src/journey_agg.o src/credits.o \
               src/dd_object.o src/markov_glue.o src/shapley_glue.o
OBJS         = $(CORE_OBJS) $(GLUE_OBJS)

# The install script of EXTVERSION is assembled from src/sql/ in this order; the guard
# comes first.  Every change to these parts needs its statement in the upgrade script
# attrib--0.1.0--$(EXTVERSION).sql too (test/t_upgrade.sh shows what differs).
SQL_PARTS    = src/sql/guard.sql src/sql/engine.sql src/sql/crm.sql src/sql/refresh.sql \
               src/sql/reports.sql src/sql/lifecycle.sql src/sql/datadriven.sql \
               src/sql/refresh_dd.sql

REGRESS      = setup models money journey_io bad_input bad_input_matrix parallel markov shapley reports lifecycle incremental sources
# Isolation specs (specs/*.spec, expected/*.out; pg_isolation_regress writes to
# output_iso/): refresh racing CRM writes, settings changes and another refresh.
# make installcheck runs them after REGRESS; alone: make installcheck REGRESS=
ISOLATION    = refresh_crm refresh_settings refresh_refresh

PG_CONFIG   ?= pg_config
PGXS        := $(shell $(PG_CONFIG) --pgxs)
# PostgreSQL's own headers are not -Wextra clean (unused parameters in inline
# functions), so that one warning is silenced for every file.
PG_CPPFLAGS += -Isrc/core -Wno-unused-parameter
include $(PGXS)

# The core is plain C11 and keeps C99-style declarations; the glue follows
# PostgreSQL's C dialect.
$(CORE_OBJS): override CPPFLAGS += -std=c11 -Wno-declaration-after-statement
# PGXS tracks no header dependencies: every object depends on every header
$(OBJS): $(wildcard src/*.h src/core/*.h)

attrib--$(EXTVERSION).sql: $(SQL_PARTS)
	cat $(SQL_PARTS) > $@

.PHONY: unit test demo bench
unit:
	bash test/unit/run.sh
test:
	bash test/run.sh
demo:
	bash test/demo.sh
# the benchmark (issue 5): `make bench` runs scales 10 120 1230 (10^5..10^7
# touches, hours); `make bench BENCH_SCALES="10 120"` chooses them
bench:
	bash test/bench/bench.sh $(BENCH_SCALES)
