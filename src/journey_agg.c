/*
 * journey_agg.c — attrib.journey_agg(touch_id, occurred_at, channel): the
 * parallel-safe aggregate that builds a journey from touch rows in any order.
 *
 * The transition state is a core at_builder living in the aggregate context.
 * combine never aliases its inputs: with a NULL first state it copies the second
 * into the aggregate context.  serialize/deserialize use the core's versioned,
 * length-checked byte form.
 */
#include "attrib.h"

#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

static MemoryContext
agg_context(FunctionCallInfo fcinfo, const char *fn)
{
	MemoryContext cxt;

	if (!AggCheckCallContext(fcinfo, &cxt))
		elog(ERROR, "%s called in non-aggregate context", fn);
	return cxt;
}

static at_builder *
new_builder(MemoryContext cxt)
{
	at_builder *b = MemoryContextAlloc(cxt, sizeof(at_builder));

	at_builder_init(b);
	return b;
}

/* journey_agg_trans(internal, text, timestamptz, text) -> internal */
PG_FUNCTION_INFO_V1(attrib_journey_agg_trans);
Datum
attrib_journey_agg_trans(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = agg_context(fcinfo, "attrib_journey_agg_trans");
	at_builder *b = PG_ARGISNULL(0) ? NULL : (at_builder *) PG_GETARG_POINTER(0);
	attrib_env	e;
	const char *id,
			   *ch;
	size_t		id_len,
				ch_len;
	TimestampTz at;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("journey_agg: %s must not be NULL",
					   PG_ARGISNULL(1) ? "touch_id" : PG_ARGISNULL(2) ? "occurred_at" : "channel"),
				errhint("Filter out touches without an id, a time or a channel, or coalesce the channel to a name such as 'unknown'."));
	at = PG_GETARG_TIMESTAMPTZ(2);
	if (TIMESTAMP_NOT_FINITE(at))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("journey_agg: occurred_at must be a finite time"),
				errdetail("Touch \"%s\" occurred at %s.", TextDatumGetCString(PG_GETARG_DATUM(1)),
						  TIMESTAMP_IS_NOBEGIN(at) ? "-infinity" : "infinity"));
	if (b == NULL)
		b = new_builder(cxt);
	id = attrib_text(PG_GETARG_DATUM(1), &id_len);
	ch = attrib_text(PG_GETARG_DATUM(3), &ch_len);
	attrib_env_init(&e, cxt);
	AT_CHECK(&e, at_builder_add(&e.env, b, id, id_len, at, ch, ch_len));
	PG_RETURN_POINTER(b);
}

/* journey_agg_combine(internal, internal) -> internal */
PG_FUNCTION_INFO_V1(attrib_journey_agg_combine);
Datum
attrib_journey_agg_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = agg_context(fcinfo, "attrib_journey_agg_combine");
	at_builder *a = PG_ARGISNULL(0) ? NULL : (at_builder *) PG_GETARG_POINTER(0);
	at_builder *b = PG_ARGISNULL(1) ? NULL : (at_builder *) PG_GETARG_POINTER(1);
	attrib_env	e;

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = new_builder(cxt);	/* copy, never alias the second state */
	attrib_env_init(&e, cxt);
	AT_CHECK(&e, at_builder_merge(&e.env, a, b));
	PG_RETURN_POINTER(a);
}

/* journey_agg_serialize(internal) -> bytea */
PG_FUNCTION_INFO_V1(attrib_journey_agg_serialize);
Datum
attrib_journey_agg_serialize(PG_FUNCTION_ARGS)
{
	at_builder *b = (at_builder *) PG_GETARG_POINTER(0);
	attrib_env	e;
	uint8_t    *bytes;
	size_t		len;
	bytea	   *v;

	(void) agg_context(fcinfo, "attrib_journey_agg_serialize");
	attrib_env_init(&e, NULL);
	AT_CHECK(&e, at_builder_serialize(&e.env, b, &bytes, &len));
	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("journey_agg partial state is too large"),
				errdetail("The state of %u touches needs %zu bytes.", b->ntouches, len));
	v = palloc(len + VARHDRSZ);
	SET_VARSIZE(v, len + VARHDRSZ);
	memcpy(VARDATA(v), bytes, len);
	PG_RETURN_BYTEA_P(v);
}

/* journey_agg_deserialize(bytea, internal) -> internal */
PG_FUNCTION_INFO_V1(attrib_journey_agg_deserialize);
Datum
attrib_journey_agg_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *v = PG_GETARG_BYTEA_PP(0);
	attrib_env	e;
	at_builder *b;

	(void) agg_context(fcinfo, "attrib_journey_agg_deserialize");
	b = new_builder(CurrentMemoryContext);
	attrib_env_init(&e, NULL);
	AT_CHECK(&e, at_builder_deserialize(&e.env, (const uint8_t *) VARDATA_ANY(v),
										VARSIZE_ANY_EXHDR(v), b));
	PG_RETURN_POINTER(b);
}

/* journey_agg_final(internal) -> journey; reads the state, never changes it */
PG_FUNCTION_INFO_V1(attrib_journey_agg_final);
Datum
attrib_journey_agg_final(PG_FUNCTION_ARGS)
{
	at_builder *b;
	attrib_env	e;
	at_journey	j;

	(void) agg_context(fcinfo, "attrib_journey_agg_final");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	b = (at_builder *) PG_GETARG_POINTER(0);
	attrib_env_init(&e, NULL);
	AT_CHECK(&e, at_builder_finish(&e.env, b, &j));
	PG_RETURN_DATUM(attrib_journey_datum(&e, &j));
}
