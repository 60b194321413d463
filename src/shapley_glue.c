/*
 * shapley_glue.c — attrib.shapley_model: its text and binary I/O, the fit and
 * merge aggregates, the channel table, a summary, and credits under a fitted
 * Shapley model.
 */
#include "dd_glue.h"

#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"

static void
shapley_get(attrib_env *e, Datum d, at_shapley_counts *c)
{
	size_t		len;
	const uint8 *bytes = dd_arg_bytes(d, &len);

	AT_CHECK(e, at_shapley_decode(&e->env, bytes, len, c));
}

/* shapley_model_in(cstring) -> shapley_model */
PG_FUNCTION_INFO_V1(attrib_shapley_model_in);
Datum
attrib_shapley_model_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);
	attrib_env	e;
	at_shapley_counts c;
	uint8_t    *bytes;
	size_t		len;

	attrib_env_init(&e, NULL);
	AT_CHECK(&e, at_shapley_from_text(&e.env, s, strlen(s), &c));
	AT_CHECK(&e, at_shapley_encode(&e.env, &c, &bytes, &len));
	PG_RETURN_DATUM(dd_value(bytes, len, "shapley model"));
}

/* shapley_model_out(shapley_model) -> cstring */
PG_FUNCTION_INFO_V1(attrib_shapley_model_out);
Datum
attrib_shapley_model_out(PG_FUNCTION_ARGS)
{
	attrib_env	e;
	at_shapley_counts c;
	char	   *s;
	size_t		len;

	attrib_env_init(&e, NULL);
	shapley_get(&e, PG_GETARG_DATUM(0), &c);
	AT_CHECK(&e, at_shapley_to_text(&e.env, &c, &s, &len));
	PG_RETURN_CSTRING(s);
}

/* shapley_model_recv(internal) -> shapley_model: the stored bytes, validated */
PG_FUNCTION_INFO_V1(attrib_shapley_model_recv);
Datum
attrib_shapley_model_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	const uint8 *data = (const uint8 *) buf->data + buf->cursor;
	size_t		len = buf->len - buf->cursor;
	attrib_env	e;
	at_shapley_counts c;

	attrib_env_init(&e, NULL);
	AT_CHECK(&e, at_shapley_decode(&e.env, data, len, &c));
	buf->cursor = buf->len;
	PG_RETURN_DATUM(dd_value(data, len, "shapley model"));
}

/* shapley_model_send(shapley_model) -> bytea */
PG_FUNCTION_INFO_V1(attrib_shapley_model_send);
Datum
attrib_shapley_model_send(PG_FUNCTION_ARGS)
{
	size_t		len;
	const uint8 *bytes = dd_arg_bytes(PG_GETARG_DATUM(0), &len);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, (const char *) bytes, len);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* shapley_model_from_bytea(bytea) -> shapley_model, validated as recv does */
PG_FUNCTION_INFO_V1(attrib_shapley_model_from_bytea);
Datum
attrib_shapley_model_from_bytea(PG_FUNCTION_ARGS)
{
	bytea	   *v = PG_GETARG_BYTEA_PP(0);
	attrib_env	e;
	at_shapley_counts c;

	attrib_env_init(&e, NULL);
	AT_CHECK(&e, at_shapley_decode(&e.env, (const uint8 *) VARDATA_ANY(v),
								   VARSIZE_ANY_EXHDR(v), &c));
	PG_RETURN_DATUM(dd_value((const uint8 *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v),
							 "shapley model"));
}

/*
 * shapley_fit_trans(state shapley_model, journey, converted bool) ->
 * shapley_model: adds one journey's channel set to the state, in place.
 */
PG_FUNCTION_INFO_V1(attrib_shapley_fit_trans);
Datum
attrib_shapley_fit_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = dd_agg_context(fcinfo, "attrib.shapley_fit_trans", "attrib.shapley_fit");
	attrib_env	e;
	dd_object  *o;
	at_journey	j;

	attrib_env_init(&e, NULL);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("shapley_fit: converted must not be NULL"),
				errhint("Say for every journey whether it converted: true for won, false for "
						"lost or for touches that led to no opportunity; leave open ones out."));
	o = dd_state_arg(fcinfo, 0, DD_SHAPLEY, aggcxt);
	if (o == NULL)
		o = dd_object_new(DD_SHAPLEY, aggcxt, 0);
	if (PG_ARGISNULL(1))
		memset(&j, 0, sizeof(j));	/* an opportunity without touches */
	else
		attrib_journey_get(&e, PG_GETARG_DATUM(1), &j);
	AT_CHECK(&o->env, at_shapley_fit_add(&o->env.env, (at_shapley_fit *) o->fit, &j,
										 PG_GETARG_BOOL(2)));
	PG_RETURN_DATUM(dd_object_datum(o));
}

/*
 * shapley_merge_trans(state shapley_model, model shapley_model) ->
 * shapley_model: the combine function of shapley_fit and the transition
 * function of shapley_merge.
 */
PG_FUNCTION_INFO_V1(attrib_shapley_merge_trans);
Datum
attrib_shapley_merge_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = dd_agg_context(fcinfo, "attrib.shapley_merge_trans", "attrib.shapley_merge");
	dd_object  *o;
	const uint8 *bytes;
	size_t		len;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	o = dd_state_arg(fcinfo, 0, DD_SHAPLEY, aggcxt);
	bytes = dd_arg_bytes(PG_GETARG_DATUM(1), &len);
	if (o == NULL)
		o = dd_object_new(DD_SHAPLEY, aggcxt, 0);
	dd_object_add_bytes(o, bytes, len);
	PG_RETURN_DATUM(dd_object_datum(o));
}

/*
 * shapley_channels(model) -> setof (channel, journeys, conversions,
 * shapley_value, share)
 */
PG_FUNCTION_INFO_V1(attrib_shapley_channels);
Datum
attrib_shapley_channels(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	attrib_env	e;
	at_shapley_counts c;
	at_shapley_model m;
	double	   *value,
			   *share;

	attrib_srf_init(fcinfo);
	attrib_env_init(&e, NULL);
	shapley_get(&e, PG_GETARG_DATUM(0), &c);
	AT_CHECK(&e, at_shapley_prepare(&e.env, &c, &m));
	value = palloc(sizeof(double) * Max(c.nchannels, 1));
	share = palloc(sizeof(double) * Max(c.nchannels, 1));
	AT_CHECK(&e, at_shapley_channels(&e.env, &m, value, share));
	for (uint32 ch = 0; ch < c.nchannels; ch++)
	{
		Datum		values[5];
		bool		nulls[5] = {0};

		values[0] = PointerGetDatum(cstring_to_text_with_len(c.channels[ch].p, c.channels[ch].len));
		values[1] = Int64GetDatum((int64) m.ch_journeys[ch]);
		values[2] = Int64GetDatum((int64) m.ch_conversions[ch]);
		values[3] = Float8GetDatum(value[ch]);
		values[4] = Float8GetDatum(share[ch]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* shapley_info(model) -> (journeys, conversions, channels, channel_sets) */
PG_FUNCTION_INFO_V1(attrib_shapley_info);
Datum
attrib_shapley_info(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	attrib_env	e;
	at_shapley_counts c;
	Datum		values[4];
	bool		nulls[4] = {0};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "attrib_shapley_info: return type must be a row type");
	attrib_env_init(&e, NULL);
	shapley_get(&e, PG_GETARG_DATUM(0), &c);
	values[0] = Int64GetDatum((int64) c.total_journeys);
	values[1] = Int64GetDatum((int64) c.total_conversions);
	values[2] = Int32GetDatum((int32) c.nchannels);
	values[3] = Int32GetDatum((int32) c.ncoalitions);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * credits(journey, model shapley_model, amount, options, scale) -> setof
 * (touch_index, touch_id, occurred_at, channel, positions, weight, credit)
 */
PG_FUNCTION_INFO_V1(attrib_shapley_credits);
Datum
attrib_shapley_credits(PG_FUNCTION_ARGS)
{
	attrib_env	e;
	at_options	opt;
	at_amount	amount;
	at_journey	j;
	dd_cache   *model;
	double	   *weight;
	uint32	   *pos;
	uint32		credited;

	attrib_srf_init(fcinfo);
	attrib_env_init(&e, NULL);
	model = dd_cached_model(fcinfo, 1, DD_SHAPLEY);
	dd_options_arg(&e, fcinfo, 3, "shapley", &opt);
	attrib_amount_arg(&e, fcinfo, 2, 4, &amount);
	if (PG_ARGISNULL(0))
		return (Datum) 0;		/* no journey: nothing to credit */
	attrib_journey_get(&e, PG_GETARG_DATUM(0), &j);
	weight = palloc(sizeof(double) * Max(j.ntouches, 1));
	pos = palloc(sizeof(uint32) * Max(j.ntouches, 1));
	AT_CHECK(&e, at_shapley_touch_weights(&e.env, &model->shapley, &j, &opt, weight, pos,
										  &credited));
	attrib_emit_credits(fcinfo, &e, &j, weight, NULL, pos, credited, true, &amount);
	return (Datum) 0;
}
