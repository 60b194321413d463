/*
 * attrib.h — shared declarations of the PostgreSQL glue: the core environment
 * backed by palloc, the one place core status codes become SQL errors, and the
 * conversions between attrib.journey datums and core journeys.
 */
#ifndef ATTRIB_GLUE_H
#define ATTRIB_GLUE_H

#include "postgres.h"

#include "fmgr.h"

#include "attrib_core.h"

/* A core environment allocating in `cxt` (CurrentMemoryContext when NULL). */
typedef struct attrib_env
{
	at_env		env;
	at_error	err;
} attrib_env;

extern void attrib_env_init(attrib_env *e, MemoryContext cxt);

/* ereport(ERROR) for a failed core call; never returns. */
extern void attrib_raise(const at_error *err) pg_attribute_noreturn();

/* Run a core call and raise on failure. */
#define AT_CHECK(e, call) \
	do { at_status st_ = (call); if (st_ != AT_OK) attrib_raise(&(e)->err); } while (0)

/* attrib.journey datum <-> core journey (decoding validates every byte). */
extern void attrib_journey_get(attrib_env *e, Datum d, at_journey *out);
extern Datum attrib_journey_datum(attrib_env *e, const at_journey *j);

/*
 * InitMaterializedSRF without its per-call leak: the result descriptor is the
 * executor's expectedDesc when there is one; otherwise it is built in a
 * temporary context and only a copy (freed by the executor) is kept.
 */
extern void attrib_srf_init(FunctionCallInfo fcinfo);

/* text datum -> pointer and length without copying when possible */
extern const char *attrib_text(Datum d, size_t *len);

/* The positions a touch holds as a text[] ("FT", ..., "stage:NAME"). */
extern Datum attrib_positions_array(const at_journey *j, uint32_t bits);

/*
 * Money and credits shared by every model family (credits.c): the amount
 * argument at its scale (explicit scale argument, else declared numeric scale,
 * else 2), and the rows of a credits SRF from per-touch weights.
 */
extern void attrib_amount_arg(attrib_env *e, FunctionCallInfo fcinfo, int argno,
							  int scale_arg, at_amount *out);
extern void attrib_emit_credits(FunctionCallInfo fcinfo, attrib_env *e,
								const at_journey *j, const double *weight,
								const uint64 *q, const uint32 *pos, uint32 credited,
								bool additive, const at_amount *amount);

#endif
