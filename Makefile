# attrib — B2B revenue attribution inside PostgreSQL (PGXS build)
EXTENSION    = attrib
EXTVERSION   = 0.1.0
MODULE_big   = attrib
DATA         = attrib--$(EXTVERSION).sql
PGFILEDESC   = "attrib - multi-touch revenue attribution"

CORE_OBJS    = src/core/env.o src/core/json.o src/core/journey.o src/core/models.o \
               src/core/money.o
GLUE_OBJS    = src/attrib.o src/journey_type.o src/journey_agg.o src/credits.o
OBJS         = $(CORE_OBJS) $(GLUE_OBJS)

REGRESS      = setup models money journey_io bad_input parallel
REGRESS_OPTS = --outputdir=results

PG_CONFIG   ?= pg_config
PGXS        := $(shell $(PG_CONFIG) --pgxs)
PG_CPPFLAGS += -std=c11 -Isrc/core
include $(PGXS)

.PHONY: unit test demo
unit:
	bash test/unit/run.sh
test:
	bash test/run.sh
demo:
	bash test/demo.sh
