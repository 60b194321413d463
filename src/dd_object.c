/*
 * dd_object.c — fitted data-driven values in PostgreSQL: the expanded object
 * the fit and merge aggregates keep as their state, and the solved-model cache
 * credits use.
 *
 * The aggregates' state type is the model type itself (attrib.markov_model,
 * attrib.shapley_model), a real type with text and binary I/O, so distributed
 * engines can ship partial states.  To keep the per-row cost low the state is
 * an expanded object: the transition function receives a read-write pointer
 * to it and updates the core fit in place; nodeAgg adopts the object because
 * its memory context is a child of the aggregate context.  PostgreSQL flattens
 * it (get_flat_size / flatten_into) when a value must leave the aggregate —
 * partial results of parallel workers, the final value — and flattening
 * produces the canonical bytes, so equal fits give equal values.
 */
#include "dd_glue.h"

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

static Size dd_get_flat_size(ExpandedObjectHeader *eohptr);
static void dd_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size);

static const ExpandedObjectMethods dd_methods = {
	dd_get_flat_size,
	dd_flatten_into
};

/*
 * The aggregate context of a transition or combine function.  These functions
 * take and return the model type, so SQL can call them directly: that is a
 * user error (0A000, as for a set-returning function called where no set is
 * accepted), not an internal one.
 */
MemoryContext
dd_agg_context(FunctionCallInfo fcinfo, const char *fn, const char *agg)
{
	MemoryContext cxt;

	if (!AggCheckCallContext(fcinfo, &cxt))
		ereport(ERROR,
				errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				errmsg("%s() can only be called by an aggregate", fn),
				errhint("It is a support function of the aggregate %s(); call that instead.", agg));
	return cxt;
}

/* the canonical bytes of the object's fit, computed in a scratch context */
static void
dd_flatten(dd_object *o)
{
	MemoryContext tmp;
	attrib_env	e;
	uint8_t    *bytes;
	size_t		len;

	if (o->flat != NULL)
		return;
	tmp = AllocSetContextCreate(CurrentMemoryContext, "attrib flatten", ALLOCSET_DEFAULT_SIZES);
	attrib_env_init(&e, tmp);
	if (o->kind == DD_MARKOV)
	{
		at_markov_counts c;

		AT_CHECK(&e, at_markov_fit_counts(&e.env, (at_markov_fit *) o->fit, &c));
		AT_CHECK(&e, at_markov_encode(&e.env, &c, &bytes, &len));
	}
	else
	{
		at_shapley_counts c;

		AT_CHECK(&e, at_shapley_fit_counts(&e.env, (at_shapley_fit *) o->fit, &c));
		AT_CHECK(&e, at_shapley_encode(&e.env, &c, &bytes, &len));
	}
	o->flat = MemoryContextAlloc(o->hdr.eoh_context, len);
	memcpy(o->flat, bytes, len);
	o->flat_len = len;
	MemoryContextDelete(tmp);
}

static Size
dd_get_flat_size(ExpandedObjectHeader *eohptr)
{
	dd_object  *o = (dd_object *) eohptr;

	dd_flatten(o);
	return VARHDRSZ + o->flat_len;
}

static void
dd_flatten_into(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	dd_object  *o = (dd_object *) eohptr;

	dd_flatten(o);
	if (allocated_size != VARHDRSZ + o->flat_len)
		elog(ERROR, "attrib: fitted model changed size while being flattened");
	SET_VARSIZE(result, VARHDRSZ + o->flat_len);
	memcpy(VARDATA(result), o->flat, o->flat_len);
}

dd_object *
dd_object_new(dd_kind kind, MemoryContext parent, uint32 order)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "attrib fit", ALLOCSET_SMALL_SIZES);
	dd_object  *o = MemoryContextAllocZero(cxt, sizeof(dd_object));

	EOH_init_header(&o->hdr, &dd_methods, cxt);
	o->kind = kind;
	attrib_env_init(&o->env, cxt);
	if (kind == DD_MARKOV)
		AT_CHECK(&o->env, at_markov_fit_create(&o->env.env, order, (at_markov_fit **) &o->fit));
	else
		AT_CHECK(&o->env, at_shapley_fit_create(&o->env.env, (at_shapley_fit **) &o->fit));
	return o;
}

/*
 * Decode and add to the object's fit.  The decoded arrays go to the current
 * (per-row) memory context, which the executor resets.
 */
void
dd_object_add_bytes(dd_object *o, const uint8 *data, size_t len)
{
	attrib_env	e;

	attrib_env_init(&e, NULL);
	if (o->kind == DD_MARKOV)
	{
		at_markov_counts c;

		AT_CHECK(&e, at_markov_decode(&e.env, data, len, &c));
		AT_CHECK(&o->env, at_markov_fit_add_counts(&o->env.env, (at_markov_fit *) o->fit, &c));
	}
	else
	{
		at_shapley_counts c;

		AT_CHECK(&e, at_shapley_decode(&e.env, data, len, &c));
		AT_CHECK(&o->env, at_shapley_fit_add_counts(&o->env.env, (at_shapley_fit *) o->fit, &c));
	}
	if (o->flat != NULL)
	{
		pfree(o->flat);
		o->flat = NULL;
	}
}

Datum
dd_object_datum(dd_object *o)
{
	if (o->flat != NULL)
	{
		/* every caller has just changed the fit */
		pfree(o->flat);
		o->flat = NULL;
	}
	return EOHPGetRWDatum(&o->hdr);
}

const uint8 *
dd_arg_bytes(Datum d, size_t *len)
{
	bytea	   *v = DatumGetByteaPP(d);	/* detoasts, or flattens an expanded value */

	*len = VARSIZE_ANY_EXHDR(v);
	return (const uint8 *) VARDATA_ANY(v);
}

Datum
dd_value(const uint8 *bytes, size_t len, const char *what)
{
	bytea	   *v;

	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("%s is too large to store", what),
				errdetail("It needs %zu bytes; a value is limited to 1 GB.", len));
	v = palloc(len + VARHDRSZ);
	SET_VARSIZE(v, len + VARHDRSZ);
	memcpy(VARDATA(v), bytes, len);
	return PointerGetDatum(v);
}

dd_object *
dd_state_arg(FunctionCallInfo fcinfo, int argno, dd_kind kind, MemoryContext aggcxt)
{
	Datum		d;
	const uint8 *bytes;
	size_t		len;
	dd_object  *o;
	uint32		order = 1;

	if (PG_ARGISNULL(argno))
		return NULL;
	d = PG_GETARG_DATUM(argno);
	if (VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d)))
	{
		ExpandedObjectHeader *eoh = DatumGetEOHP(d);

		if (eoh->eoh_methods == &dd_methods && ((dd_object *) eoh)->kind == kind &&
			MemoryContextGetParent(eoh->eoh_context) == aggcxt)
			return (dd_object *) eoh;
	}
	/* a flat value (the first partial state, a stored model): copy it */
	bytes = dd_arg_bytes(d, &len);
	if (kind == DD_MARKOV && len >= 3)
		order = bytes[2];		/* validated by the decode below */
	if (kind == DD_MARKOV && (order < 1 || order > AT_MARKOV_MAX_ORDER))
		order = 1;
	o = dd_object_new(kind, aggcxt, order);
	dd_object_add_bytes(o, bytes, len);
	return o;
}

dd_cache *
dd_cached_model(FunctionCallInfo fcinfo, int argno, dd_kind kind)
{
	dd_cache   *c = (dd_cache *) fcinfo->flinfo->fn_extra;
	size_t		len;
	const uint8 *bytes;
	MemoryContext cxt;
	attrib_env	e;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("model must not be NULL"),
				errhint("attrib.%s_fit returns NULL when it aggregates no rows.",
						kind == DD_MARKOV ? "markov" : "shapley"));
	bytes = dd_arg_bytes(PG_GETARG_DATUM(argno), &len);
	/* keyed by the model's bytes: one solve for every journey of one model */
	if (c != NULL && c->kind == kind && c->len == len && memcmp(c->bytes, bytes, len) == 0)
		return c;
	if (c != NULL)
	{
		fcinfo->flinfo->fn_extra = NULL;
		MemoryContextDelete(c->cxt);
	}
	cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "attrib model cache",
								ALLOCSET_DEFAULT_SIZES);
	c = MemoryContextAllocZero(cxt, sizeof(dd_cache));
	c->cxt = cxt;
	c->kind = kind;
	c->len = len;
	c->bytes = MemoryContextAlloc(cxt, Max(len, 1));
	memcpy(c->bytes, bytes, len);
	attrib_env_init(&e, cxt);
	if (kind == DD_MARKOV)
	{
		AT_CHECK(&e, at_markov_decode(&e.env, c->bytes, len, &c->markov_counts));
		AT_CHECK(&e, at_markov_solve(&e.env, &c->markov_counts, &c->markov));
	}
	else
	{
		AT_CHECK(&e, at_shapley_decode(&e.env, c->bytes, len, &c->shapley_counts));
		AT_CHECK(&e, at_shapley_prepare(&e.env, &c->shapley_counts, &c->shapley));
	}
	fcinfo->flinfo->fn_extra = c;
	return c;
}

void
dd_options_arg(attrib_env *e, FunctionCallInfo fcinfo, int argno, const char *model_name,
			   at_options *opt)
{
	char	   *json = NULL;

	if (!PG_ARGISNULL(argno))
	{
		Jsonb	   *jb = PG_GETARG_JSONB_P(argno);

		json = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	}
	AT_CHECK(e, at_dd_options_parse(&e->env, model_name, json, json ? strlen(json) : 0, opt));
}
