/*
 * journey_type.c — the attrib.journey type: text and binary I/O, attaching an
 * opportunity's context (with the window cut), and reading a journey back as rows.
 *
 * On disk a journey is a varlena whose payload is the core's byte encoding
 * (at_journey_encode): versioned, little-endian, canonical.  Every read decodes
 * with full validation, so a corrupt value is an error, never trusted.
 */
#include "attrib.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

void
attrib_journey_get(attrib_env *e, Datum d, at_journey *out)
{
	bytea	   *v = DatumGetByteaPP(d);

	AT_CHECK(e, at_journey_decode(&e->env, (const uint8_t *) VARDATA_ANY(v),
								  VARSIZE_ANY_EXHDR(v), out));
}

Datum
attrib_journey_datum(attrib_env *e, const at_journey *j)
{
	uint8_t    *bytes;
	size_t		len;
	bytea	   *v;

	AT_CHECK(e, at_journey_encode(&e->env, j, &bytes, &len));
	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("journey is too large to store"),
				errdetail("The journey of %u touches needs %zu bytes; a value is limited to 1 GB.",
						  j->ntouches, len));
	v = palloc(len + VARHDRSZ);
	SET_VARSIZE(v, len + VARHDRSZ);
	memcpy(VARDATA(v), bytes, len);
	return PointerGetDatum(v);
}

Datum
attrib_positions_array(const at_journey *j, uint32_t bits)
{
	Datum		elems[AT_POS_NFIXED + AT_MAX_STAGES];
	int			n = 0;

	for (int k = 0; k < AT_POS_NFIXED; k++)
		if (bits & (1u << k))
			elems[n++] = CStringGetTextDatum(at_fixed_position_name(k));
	for (uint32_t s = 0; j->has_context && s < j->ctx.nstages && s < AT_MAX_STAGES; s++)
	{
		if (bits & (AT_POS_STAGE0 << s))
		{
			at_str		name = j->ctx.stages[s].name;
			char	   *label = palloc(name.len + 7);

			memcpy(label, "stage:", 6);
			memcpy(label + 6, name.p, name.len);
			label[name.len + 6] = '\0';
			elems[n++] = CStringGetTextDatum(label);
		}
	}
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* journey_in(cstring) -> journey */
PG_FUNCTION_INFO_V1(attrib_journey_in);
Datum
attrib_journey_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);
	attrib_env	e;
	at_journey	j;

	attrib_env_init(&e, NULL);
	AT_CHECK(&e, at_journey_from_text(&e.env, s, strlen(s), &j));
	PG_RETURN_DATUM(attrib_journey_datum(&e, &j));
}

/* journey_out(journey) -> cstring */
PG_FUNCTION_INFO_V1(attrib_journey_out);
Datum
attrib_journey_out(PG_FUNCTION_ARGS)
{
	attrib_env	e;
	at_journey	j;
	char	   *s;
	size_t		len;

	attrib_env_init(&e, NULL);
	attrib_journey_get(&e, PG_GETARG_DATUM(0), &j);
	AT_CHECK(&e, at_journey_to_text(&e.env, &j, &s, &len));
	PG_RETURN_CSTRING(s);
}

/* journey_recv(internal) -> journey: the storage bytes, fully validated */
PG_FUNCTION_INFO_V1(attrib_journey_recv);
Datum
attrib_journey_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	const uint8_t *data = (const uint8_t *) buf->data + buf->cursor;
	size_t		len = buf->len - buf->cursor;
	attrib_env	e;
	at_journey	j;

	attrib_env_init(&e, NULL);
	AT_CHECK(&e, at_journey_decode(&e.env, data, len, &j));
	buf->cursor = buf->len;
	PG_RETURN_DATUM(attrib_journey_datum(&e, &j));
}

/* journey_from_bytea(bytea) -> journey: the binary form, fully validated */
PG_FUNCTION_INFO_V1(attrib_journey_from_bytea);
Datum
attrib_journey_from_bytea(PG_FUNCTION_ARGS)
{
	bytea	   *v = PG_GETARG_BYTEA_PP(0);
	attrib_env	e;
	at_journey	j;

	attrib_env_init(&e, NULL);
	AT_CHECK(&e, at_journey_decode(&e.env, (const uint8_t *) VARDATA_ANY(v),
								   VARSIZE_ANY_EXHDR(v), &j));
	PG_RETURN_DATUM(attrib_journey_datum(&e, &j));
}

/* journey_send(journey) -> bytea */
PG_FUNCTION_INFO_V1(attrib_journey_send);
Datum
attrib_journey_send(PG_FUNCTION_ARGS)
{
	bytea	   *v = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * interval -> microseconds as extract(epoch from interval) counts them (a month
 * is 30 days, a year 365.25 days), saturated to the int64 range: an interval
 * longer than any timestamp range is no limit, a hugely negative one stays
 * negative.  (Without the saturation '2147483647 days' overflowed int64 and
 * '178000000 years' came out negative.)
 */
static int64
interval_us(const Interval *iv)
{
	int64		years = iv->month / MONTHS_PER_YEAR;
	int64		months = iv->month % MONTHS_PER_YEAR;
	/* 365.25 days of microseconds, exactly */
	const int64 us_per_year = INT64CONST(31557600000000);

#ifdef HAVE_INT128
	int128		us = (int128) iv->time + (int128) iv->day * USECS_PER_DAY +
		(int128) months * DAYS_PER_MONTH * USECS_PER_DAY + (int128) years * us_per_year;

	if (us > (int128) PG_INT64_MAX)
		return PG_INT64_MAX;
	if (us < (int128) PG_INT64_MIN)
		return PG_INT64_MIN;
	return (int64) us;
#else
	double		d = (double) iv->time + (double) iv->day * USECS_PER_DAY +
		(double) months * DAYS_PER_MONTH * USECS_PER_DAY + (double) years * us_per_year;

	if (d >= (double) PG_INT64_MAX)
		return PG_INT64_MAX;
	if (d <= (double) PG_INT64_MIN)
		return PG_INT64_MIN;
	return iv->time + (int64) iv->day * USECS_PER_DAY +
		months * DAYS_PER_MONTH * USECS_PER_DAY + years * us_per_year;
#endif
}

static int64
finite_time(Datum d, const char *what)
{
	TimestampTz t = DatumGetTimestampTz(d);

	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("%s must be a finite time", what),
				errdetail("%s is %s.", what, TIMESTAMP_IS_NOBEGIN(t) ? "-infinity" : "infinity"));
	return t;
}

/*
 * with_context(journey, status, created_at, closed_at, lead_created_at, as_of,
 *              lookback, stage_names, stage_times) -> journey
 */
PG_FUNCTION_INFO_V1(attrib_with_context);
Datum
attrib_with_context(PG_FUNCTION_ARGS)
{
	attrib_env	e;
	at_journey	in,
				out;
	at_context	ctx;
	int64		lookback = -1;
	char	   *status;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("opportunity status must not be NULL"),
				errhint("Pass 'won', 'open' or 'lost'."));
	memset(&ctx, 0, sizeof(ctx));
	status = text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (strcmp(status, "won") == 0)
		ctx.outcome = AT_OUTCOME_WON;
	else if (strcmp(status, "open") == 0)
		ctx.outcome = AT_OUTCOME_OPEN;
	else if (strcmp(status, "lost") == 0)
		ctx.outcome = AT_OUTCOME_LOST;
	else
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("invalid opportunity status \"%s\"", status),
				errhint("Pass 'won', 'open' or 'lost'."));
	if (!PG_ARGISNULL(2))
	{
		ctx.has |= AT_HAS_CREATED;
		ctx.created_at = finite_time(PG_GETARG_DATUM(2), "created_at");
	}
	if (!PG_ARGISNULL(3))
	{
		ctx.has |= AT_HAS_CLOSED;
		ctx.closed_at = finite_time(PG_GETARG_DATUM(3), "closed_at");
	}
	if (!PG_ARGISNULL(4))
	{
		ctx.has |= AT_HAS_LEAD;
		ctx.lead_created_at = finite_time(PG_GETARG_DATUM(4), "lead_created_at");
	}
	if (!PG_ARGISNULL(5))
	{
		ctx.has |= AT_HAS_AS_OF;
		ctx.as_of = finite_time(PG_GETARG_DATUM(5), "as_of");
	}
	if (!PG_ARGISNULL(6))
	{
		Interval   *iv = PG_GETARG_INTERVAL_P(6);

		lookback = interval_us(iv);
		if (lookback < 0)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("lookback must not be negative"),
					errdetail("lookback is %s.",
							  DatumGetCString(DirectFunctionCall1(interval_out, PG_GETARG_DATUM(6)))),
					errhint("Pass NULL for no limit."));
	}
	if (PG_ARGISNULL(7) != PG_ARGISNULL(8))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("stage_names and stage_times must both be given or both be NULL"));
	if (!PG_ARGISNULL(7))
	{
		Datum	   *names,
				   *times;
		bool	   *nnull,
				   *tnull;
		int			nn,
					nt;

		deconstruct_array(PG_GETARG_ARRAYTYPE_P(7), TEXTOID, -1, false, TYPALIGN_INT,
						  &names, &nnull, &nn);
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(8), TIMESTAMPTZOID, sizeof(TimestampTz),
						  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &times, &tnull, &nt);
		if (nn != nt)
			ereport(ERROR,
					errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					errmsg("stage_names has %d elements but stage_times has %d", nn, nt),
					errhint("Give one time per stage name."));
		ctx.stages = palloc(sizeof(at_stage) * Max(nn, 1));
		for (int i = 0; i < nn; i++)
		{
			int64		t;
			text	   *nm;
			bool		dup = false;

			if (nnull[i] || tnull[i])
				ereport(ERROR,
						errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("stage %d has a NULL name or time", i + 1),
						errhint("Leave stages the opportunity never entered out of the arrays."));
			t = finite_time(times[i], "stage time");
			nm = DatumGetTextPP(names[i]);
			/* a stage given twice keeps its first (earliest) entry */
			for (uint32 s = 0; s < ctx.nstages; s++)
			{
				if (ctx.stages[s].name.len == VARSIZE_ANY_EXHDR(nm) &&
					memcmp(ctx.stages[s].name.p, VARDATA_ANY(nm), VARSIZE_ANY_EXHDR(nm)) == 0)
				{
					if (t < ctx.stages[s].at)
						ctx.stages[s].at = t;
					dup = true;
				}
			}
			if (dup)
				continue;
			ctx.stages[ctx.nstages].name.p = VARDATA_ANY(nm);
			ctx.stages[ctx.nstages].name.len = VARSIZE_ANY_EXHDR(nm);
			ctx.stages[ctx.nstages].at = t;
			ctx.nstages++;
		}
	}

	attrib_env_init(&e, NULL);
	attrib_journey_get(&e, PG_GETARG_DATUM(0), &in);
	AT_CHECK(&e, at_journey_with_context(&e.env, &in, &ctx, lookback, &out));
	PG_RETURN_DATUM(attrib_journey_datum(&e, &out));
}

/* journey_length(journey) -> integer */
PG_FUNCTION_INFO_V1(attrib_journey_length);
Datum
attrib_journey_length(PG_FUNCTION_ARGS)
{
	attrib_env	e;
	at_journey	j;

	attrib_env_init(&e, NULL);
	attrib_journey_get(&e, PG_GETARG_DATUM(0), &j);
	PG_RETURN_INT32((int32) j.ntouches);
}

/*
 * touches(journey) -> setof (touch_index, touch_id, occurred_at, channel,
 * positions): the journey's timeline with the milestone positions of SPEC §2.
 */
PG_FUNCTION_INFO_V1(attrib_touches);
Datum
attrib_touches(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	attrib_env	e;
	at_journey	j;
	uint32	   *pos;
	MemoryContext rowcxt;

	attrib_srf_init(fcinfo);
	attrib_env_init(&e, NULL);
	attrib_journey_get(&e, PG_GETARG_DATUM(0), &j);
	pos = palloc(sizeof(uint32) * Max(j.ntouches, 1));
	AT_CHECK(&e, at_positions(&e.env, &j, pos));
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "attrib touches row",
								   ALLOCSET_SMALL_SIZES);
	for (uint32 i = 0; i < j.ntouches; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		const at_touch *t = &j.touches[i];
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(rowcxt);
		values[0] = Int32GetDatum((int32) i + 1);
		values[1] = PointerGetDatum(cstring_to_text_with_len(j.ids + t->id_off, t->id_len));
		values[2] = TimestampTzGetDatum(t->at);
		values[3] = PointerGetDatum(cstring_to_text_with_len(j.channels[t->channel].p,
															 j.channels[t->channel].len));
		values[4] = attrib_positions_array(&j, pos[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
	MemoryContextDelete(rowcxt);
	return (Datum) 0;
}
