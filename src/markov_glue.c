/*
 * markov_glue.c — attrib.markov_model: its text and binary I/O, the fit and
 * merge aggregates, the channel table, a summary, and credits under a fitted
 * Markov model.
 */
#include "dd_glue.h"

#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"

static void
markov_get(attrib_env *e, Datum d, at_markov_counts *c)
{
	size_t		len;
	const uint8 *bytes = dd_arg_bytes(d, &len);

	AT_CHECK(e, at_markov_decode(&e->env, bytes, len, c));
}

static Datum
markov_datum(attrib_env *e, const at_markov_counts *c)
{
	uint8_t    *bytes;
	size_t		len;

	AT_CHECK(e, at_markov_encode(&e->env, c, &bytes, &len));
	return dd_value(bytes, len, "markov model");
}

/* markov_model_in(cstring) -> markov_model */
PG_FUNCTION_INFO_V1(attrib_markov_model_in);
Datum
attrib_markov_model_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);
	attrib_env	e;
	at_markov_counts c;

	attrib_env_init(&e, NULL);
	AT_CHECK(&e, at_markov_from_text(&e.env, s, strlen(s), &c));
	PG_RETURN_DATUM(markov_datum(&e, &c));
}

/* markov_model_out(markov_model) -> cstring */
PG_FUNCTION_INFO_V1(attrib_markov_model_out);
Datum
attrib_markov_model_out(PG_FUNCTION_ARGS)
{
	attrib_env	e;
	at_markov_counts c;
	char	   *s;
	size_t		len;

	attrib_env_init(&e, NULL);
	markov_get(&e, PG_GETARG_DATUM(0), &c);
	AT_CHECK(&e, at_markov_to_text(&e.env, &c, &s, &len));
	PG_RETURN_CSTRING(s);
}

/* markov_model_recv(internal) -> markov_model: the stored bytes, validated */
PG_FUNCTION_INFO_V1(attrib_markov_model_recv);
Datum
attrib_markov_model_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	const uint8 *data = (const uint8 *) buf->data + buf->cursor;
	size_t		len = buf->len - buf->cursor;
	attrib_env	e;
	at_markov_counts c;

	attrib_env_init(&e, NULL);
	AT_CHECK(&e, at_markov_decode(&e.env, data, len, &c));
	buf->cursor = buf->len;
	PG_RETURN_DATUM(dd_value(data, len, "markov model"));
}

/* markov_model_send(markov_model) -> bytea */
PG_FUNCTION_INFO_V1(attrib_markov_model_send);
Datum
attrib_markov_model_send(PG_FUNCTION_ARGS)
{
	size_t		len;
	const uint8 *bytes = dd_arg_bytes(PG_GETARG_DATUM(0), &len);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, (const char *) bytes, len);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* markov_model_from_bytea(bytea) -> markov_model, validated as recv does */
PG_FUNCTION_INFO_V1(attrib_markov_model_from_bytea);
Datum
attrib_markov_model_from_bytea(PG_FUNCTION_ARGS)
{
	bytea	   *v = PG_GETARG_BYTEA_PP(0);
	attrib_env	e;
	at_markov_counts c;

	attrib_env_init(&e, NULL);
	AT_CHECK(&e, at_markov_decode(&e.env, (const uint8 *) VARDATA_ANY(v),
								  VARSIZE_ANY_EXHDR(v), &c));
	PG_RETURN_DATUM(dd_value((const uint8 *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v),
							 "markov model"));
}

/*
 * markov_fit_trans(state markov_model, journey, converted bool [, order int])
 * -> markov_model: adds one journey to the state, in place.
 */
PG_FUNCTION_INFO_V1(attrib_markov_fit_trans);
Datum
attrib_markov_fit_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = dd_agg_context(fcinfo, "attrib.markov_fit_trans", "attrib.markov_fit");
	int64		order = 1;
	attrib_env	e;
	dd_object  *o;
	at_journey	j;

	attrib_env_init(&e, NULL);
	if (PG_NARGS() > 3)
	{
		if (PG_ARGISNULL(3))
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("markov_fit: order must not be NULL"),
					errhint("Pass 1 to 4, or leave the order out for 1."));
		order = PG_GETARG_INT32(3);
		AT_CHECK(&e, at_markov_check_order(&e.env, order));
	}
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("markov_fit: converted must not be NULL"),
				errhint("Say for every journey whether it converted: true for won, false for "
						"lost or for touches that led to no opportunity; leave open ones out."));
	o = dd_state_arg(fcinfo, 0, DD_MARKOV, aggcxt);
	if (o == NULL)
		o = dd_object_new(DD_MARKOV, aggcxt, (uint32) order);
	else if (at_markov_fit_order((at_markov_fit *) o->fit) != order)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("markov_fit: the order must be the same in every row"),
				errdetail("The fit has order %u and a row asks for order %d.",
						  at_markov_fit_order((at_markov_fit *) o->fit), (int) order));
	if (PG_ARGISNULL(1))
		memset(&j, 0, sizeof(j));	/* an opportunity without touches */
	else
		attrib_journey_get(&e, PG_GETARG_DATUM(1), &j);
	AT_CHECK(&o->env, at_markov_fit_add(&o->env.env, (at_markov_fit *) o->fit, &j,
										PG_GETARG_BOOL(2)));
	PG_RETURN_DATUM(dd_object_datum(o));
}

/*
 * markov_merge_trans(state markov_model, model markov_model) -> markov_model:
 * the combine function of markov_fit and the transition function of
 * markov_merge.  Adds the second value to the first (copied, never aliased).
 */
PG_FUNCTION_INFO_V1(attrib_markov_merge_trans);
Datum
attrib_markov_merge_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt = dd_agg_context(fcinfo, "attrib.markov_merge_trans", "attrib.markov_merge");
	dd_object  *o;
	const uint8 *bytes;
	size_t		len;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	o = dd_state_arg(fcinfo, 0, DD_MARKOV, aggcxt);
	bytes = dd_arg_bytes(PG_GETARG_DATUM(1), &len);
	if (o == NULL)
	{
		uint32		order = len >= 3 && bytes[2] >= 1 && bytes[2] <= AT_MARKOV_MAX_ORDER
			? bytes[2] : 1;		/* validated by the decode */

		o = dd_object_new(DD_MARKOV, aggcxt, order);
	}
	dd_object_add_bytes(o, bytes, len);
	PG_RETURN_DATUM(dd_object_datum(o));
}

/*
 * markov_channels(model) -> setof (channel, journeys, conversions,
 * removal_effect, share)
 */
PG_FUNCTION_INFO_V1(attrib_markov_channels);
Datum
attrib_markov_channels(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	attrib_env	e;
	at_markov_counts c;
	at_markov_model m;

	attrib_srf_init(fcinfo);
	attrib_env_init(&e, NULL);
	markov_get(&e, PG_GETARG_DATUM(0), &c);
	AT_CHECK(&e, at_markov_solve(&e.env, &c, &m));
	for (uint32 ch = 0; ch < c.nchannels; ch++)
	{
		Datum		values[5];
		bool		nulls[5] = {0};

		values[0] = PointerGetDatum(cstring_to_text_with_len(c.channels[ch].p, c.channels[ch].len));
		values[1] = Int64GetDatum((int64) c.ch_journeys[ch]);
		values[2] = Int64GetDatum((int64) c.ch_conversions[ch]);
		values[3] = Float8GetDatum(m.removal_effect[ch]);
		values[4] = Float8GetDatum(m.weight[ch]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * markov_info(model) -> (order, journeys, conversions, channels, states,
 * transitions, conversion_rate)
 */
PG_FUNCTION_INFO_V1(attrib_markov_info);
Datum
attrib_markov_info(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	attrib_env	e;
	at_markov_counts c;
	Datum		values[7];
	bool		nulls[7] = {0};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "attrib_markov_info: return type must be a row type");
	attrib_env_init(&e, NULL);
	markov_get(&e, PG_GETARG_DATUM(0), &c);
	values[0] = Int32GetDatum((int32) c.order);
	values[1] = Int64GetDatum((int64) c.journeys);
	values[2] = Int64GetDatum((int64) c.conversions);
	values[3] = Int32GetDatum((int32) c.nchannels);
	values[4] = Int32GetDatum((int32) c.nstates);
	values[5] = Int32GetDatum((int32) c.ntrans);
	values[6] = Float8GetDatum((double) c.conversions / (double) c.journeys);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/*
 * credits(journey, model markov_model, amount, options, scale) -> setof
 * (touch_index, touch_id, occurred_at, channel, positions, weight, credit)
 */
PG_FUNCTION_INFO_V1(attrib_markov_credits);
Datum
attrib_markov_credits(PG_FUNCTION_ARGS)
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
	model = dd_cached_model(fcinfo, 1, DD_MARKOV);
	dd_options_arg(&e, fcinfo, 3, "markov", &opt);
	attrib_amount_arg(&e, fcinfo, 2, 4, &amount);
	if (PG_ARGISNULL(0))
		return (Datum) 0;		/* no journey: nothing to credit */
	attrib_journey_get(&e, PG_GETARG_DATUM(0), &j);
	weight = palloc(sizeof(double) * Max(j.ntouches, 1));
	pos = palloc(sizeof(uint32) * Max(j.ntouches, 1));
	AT_CHECK(&e, at_markov_touch_weights(&e.env, &model->markov, &j, &opt, weight, pos,
										 &credited));
	attrib_emit_credits(fcinfo, &e, &j, weight, NULL, pos, credited, true, &amount);
	return (Datum) 0;
}
