/*
 * credits.c — per-touch weights and credits of a journey under a model
 * (attrib.credits), the model catalog (attrib.models) and the exact money split
 * on its own (attrib.split_amount).
 */
#include "attrib.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "funcapi.h"
#include "nodes/nodeFuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#define DEFAULT_SCALE 2

/* The declared scale of argument argno (numeric(p,s) -> s), or -1. */
static int
arg_numeric_scale(FunctionCallInfo fcinfo, int argno)
{
	Node	   *expr = fcinfo->flinfo ? fcinfo->flinfo->fn_expr : NULL;
	List	   *args;
	int32		typmod;

	if (expr == NULL || !IsA(expr, FuncExpr))
		return -1;
	args = ((FuncExpr *) expr)->args;
	if (argno >= list_length(args))
		return -1;
	typmod = exprTypmod((Node *) list_nth(args, argno));
	if (typmod < (int32) VARHDRSZ)
		return -1;
	/* PostgreSQL 15 packs a possibly negative scale in 11 bits */
	typmod = (((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024;
	return typmod < 0 ? 0 : typmod;
}

/*
 * The money scale: the explicit `scale` argument when given, else the amount's
 * declared numeric scale, else 2 (SPEC §4).
 */
static int
money_scale(FunctionCallInfo fcinfo, int amount_arg, int scale_arg)
{
	int			scale;

	if (scale_arg >= 0 && !PG_ARGISNULL(scale_arg))
	{
		scale = PG_GETARG_INT32(scale_arg);
		if (scale < 0 || scale > AT_MAX_SCALE)
			ereport(ERROR,
					errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("scale must be between 0 and %d", AT_MAX_SCALE),
					errdetail("scale is %d.", scale),
					errhint("Give the number of decimals of the currency's minor unit, e.g. 2 for USD, 0 for JPY."));
		return scale;
	}
	scale = arg_numeric_scale(fcinfo, amount_arg);
	return scale >= 0 ? scale : DEFAULT_SCALE;
}

void
attrib_amount_arg(attrib_env *e, FunctionCallInfo fcinfo, int argno, int scale_arg,
				  at_amount *out)
{
	char	   *text;
	int			scale = money_scale(fcinfo, argno, scale_arg);

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("amount must not be NULL"),
				errhint("Filter out opportunities without an amount, or coalesce it to 0."));
	text = DatumGetCString(DirectFunctionCall1(numeric_out, PG_GETARG_DATUM(argno)));
	AT_CHECK(e, at_amount_parse(&e->env, text, strlen(text), scale, out));
}

/* a cancel check in loops over the touches of a journey, every 65536 of them */
#define CHECK_EVERY_64K(i) \
	do { \
		if (((i) & 0xFFFF) == 0xFFFF) \
			CHECK_FOR_INTERRUPTS(); \
	} while (0)

/*
 * numeric values written directly in PostgreSQL's stored form, as numeric.c's
 * make_result() writes them (the on-disk format, fixed since 8.3 and kept by
 * pg_upgrade): a 4-byte varlena header, then the short header
 *   0x8000 | sign 0x2000 | dscale << 7 | weight sign 0x0040 | weight & 0x003F
 * and the base-10000 digits, most significant first, aligned on the decimal
 * point, with leading and trailing zero digits left out (zero has no digit,
 * weight 0 and a positive sign).  Only for v / 10^scale with 0 <= scale <= 18:
 * at most 6 digits, weight between -5 and 4, so the short header always fits.
 * numeric_in gives the same bytes (the money suite checks image equality at
 * every scale), as did int64_div_fast_to_numeric(v, scale), used before: this
 * saves its intermediate NumericVar, a palloc per value and the copy into an
 * array.
 */
#define NUM_SHORT		0x8000
#define NUM_SHORT_NEG	0x2000
#define NUM_DSCALE_SHIFT 7
#define NUM_WEIGHT_NEG	0x0040
#define NUM_WEIGHT_MASK 0x003F

typedef struct num_digits
{
	uint16		header;
	int			n;
	int16		d[6];			/* most significant first */
} num_digits;

static const uint64 pow10_u64[19] = {
	UINT64CONST(1), UINT64CONST(10), UINT64CONST(100), UINT64CONST(1000),
	UINT64CONST(10000), UINT64CONST(100000), UINT64CONST(1000000),
	UINT64CONST(10000000), UINT64CONST(100000000), UINT64CONST(1000000000),
	UINT64CONST(10000000000), UINT64CONST(100000000000), UINT64CONST(1000000000000),
	UINT64CONST(10000000000000), UINT64CONST(100000000000000),
	UINT64CONST(1000000000000000), UINT64CONST(10000000000000000),
	UINT64CONST(100000000000000000), UINT64CONST(1000000000000000000)
};

/* u / 10^scale, 0 <= scale <= 18, with constant divisors (no hardware division) */
static inline uint64
div_pow10(uint64 u, int scale)
{
	switch (scale)
	{
		case 1:
			return u / UINT64CONST(10);
		case 2:
			return u / UINT64CONST(100);
		case 3:
			return u / UINT64CONST(1000);
		case 4:
			return u / UINT64CONST(10000);
		case 5:
			return u / UINT64CONST(100000);
		case 6:
			return u / UINT64CONST(1000000);
		case 7:
			return u / UINT64CONST(10000000);
		case 8:
			return u / UINT64CONST(100000000);
		case 9:
			return u / UINT64CONST(1000000000);
		case 10:
			return u / UINT64CONST(10000000000);
		case 11:
			return u / UINT64CONST(100000000000);
		case 12:
			return u / UINT64CONST(1000000000000);
		case 13:
			return u / UINT64CONST(10000000000000);
		case 14:
			return u / UINT64CONST(100000000000000);
		case 15:
			return u / UINT64CONST(1000000000000000);
		case 16:
			return u / UINT64CONST(10000000000000000);
		case 17:
			return u / UINT64CONST(100000000000000000);
		case 18:
			return u / UINT64CONST(1000000000000000000);
	}
	return u;
}

static void
num_digits_of(int64 v, int scale, num_digits *out)
{
	uint64		u = v < 0 ? (uint64) (-(v + 1)) + 1 : (uint64) v;
	uint64		ipart = div_pow10(u, scale);
	uint64		fpart = u - ipart * pow10_u64[scale];
	int			nfrac = (scale + 3) / 4;
	int16		rev[8];
	int			nr = 0,
				lo = 0,
				hi,
				weight = 0;

	Assert(scale >= 0 && scale <= 18);
	if (nfrac > 0)
	{
		/* the lowest base-10000 digit holds the last scale - 4 (nfrac - 1) decimals */
		switch (scale % 4)
		{
			case 1:
				rev[nr++] = (int16) ((fpart % 10) * 1000);
				fpart /= 10;
				break;
			case 2:
				rev[nr++] = (int16) ((fpart % 100) * 100);
				fpart /= 100;
				break;
			case 3:
				rev[nr++] = (int16) ((fpart % 1000) * 10);
				fpart /= 1000;
				break;
			default:
				rev[nr++] = (int16) (fpart % 10000);
				fpart /= 10000;
				break;
		}
		while (nr < nfrac)
		{
			rev[nr++] = (int16) (fpart % 10000);
			fpart /= 10000;
		}
	}
	while (ipart > 0)
	{
		rev[nr++] = (int16) (ipart % 10000);
		ipart /= 10000;
	}
	hi = nr;					/* drop leading (most significant) zero digits */
	while (hi > 0 && rev[hi - 1] == 0)
		hi--;
	while (lo < hi && rev[lo] == 0)	/* and trailing ones */
		lo++;
	out->n = hi - lo;
	for (int i = 0; i < out->n; i++)
		out->d[i] = rev[hi - 1 - i];
	if (out->n > 0)
		weight = hi - 1 - nfrac;
	out->header = NUM_SHORT | (v < 0 && out->n > 0 ? NUM_SHORT_NEG : 0) |
		(uint16) (scale << NUM_DSCALE_SHIFT) |
		(weight < 0 ? NUM_WEIGHT_NEG : 0) | (uint16) (weight & NUM_WEIGHT_MASK);
}

static inline Size
num_size(const num_digits *nd)
{
	return VARHDRSZ + sizeof(uint16) + nd->n * sizeof(int16);
}

static void
num_write(char *dst, const num_digits *nd)
{
	SET_VARSIZE(dst, num_size(nd));
	memcpy(dst + VARHDRSZ, &nd->header, sizeof(uint16));
	memcpy(dst + VARHDRSZ + sizeof(uint16), nd->d, nd->n * sizeof(int16));
}

static Datum
amount_datum(attrib_env *e, const at_amount *a)
{
	int64		v;
	char	   *s;
	size_t		len;

	if (a->scale >= 0 && a->scale <= 18 && at_amount_to_int64(a, &v))
	{
		num_digits	nd;
		char	   *p;

		num_digits_of(v, a->scale, &nd);
		p = palloc(num_size(&nd));
		num_write(p, &nd);
		return PointerGetDatum(p);
	}
	AT_CHECK(e, at_amount_format(&e->env, a, &s, &len));
	return DirectFunctionCall3(numeric_in, CStringGetDatum(s),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

static void
model_options(attrib_env *e, FunctionCallInfo fcinfo, int model_arg, int opt_arg,
			  at_options *opt)
{
	size_t		len;
	const char *name;
	at_model_id m;
	char	   *json = NULL;

	if (PG_ARGISNULL(model_arg))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("model must not be NULL"),
				errhint("SELECT name FROM attrib.models() lists the models."));
	name = attrib_text(PG_GETARG_DATUM(model_arg), &len);
	AT_CHECK(e, at_model_lookup(&e->env, name, len, &m));
	if (!PG_ARGISNULL(opt_arg))
	{
		Jsonb	   *jb = PG_GETARG_JSONB_P(opt_arg);

		json = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	}
	AT_CHECK(e, at_options_parse(&e->env, m, json, json ? strlen(json) : 0, opt));
}

/*
 * The datums of a journey's rows that do not depend on the model: touch ids
 * and channel names as text, and the positions arrays (a handful of distinct
 * position sets per journey), built once and reused for every model and row.
 * cxt holds them.  ids NULL: ids and channels are built row by row (no cache,
 * or a journey too large to keep), positions are still shared within the call.
 */
#define POS_CACHE_MAX 64

typedef struct row_datums
{
	MemoryContext cxt;
	Datum	   *ids;			/* text per touch, or NULL */
	Datum	   *chans;			/* text per channel, or NULL */
	int			npos;
	uint32		posbits[POS_CACHE_MAX];
	Datum		posarr[POS_CACHE_MAX];
} row_datums;

static void
row_datums_build(row_datums *rd, const at_journey *j)
{
	MemoryContext old = MemoryContextSwitchTo(rd->cxt);
	Size		total = 0;
	char	   *buf;

	for (uint32 i = 0; i < j->ntouches; i++)
		total += INTALIGN(VARHDRSZ + j->touches[i].id_len);
	rd->ids = palloc(sizeof(Datum) * Max(j->ntouches, 1));
	buf = palloc(Max(total, 1));
	for (uint32 i = 0; i < j->ntouches; i++)
	{
		const at_touch *t = &j->touches[i];
		text	   *v = (text *) buf;

		SET_VARSIZE(v, VARHDRSZ + t->id_len);
		memcpy(VARDATA(v), j->ids + t->id_off, t->id_len);
		rd->ids[i] = PointerGetDatum(v);
		buf += INTALIGN(VARHDRSZ + t->id_len);
	}
	rd->chans = palloc(sizeof(Datum) * Max(j->nchannels, 1));
	for (uint32 c = 0; c < j->nchannels; c++)
		rd->chans[c] = PointerGetDatum(cstring_to_text_with_len(j->channels[c].p,
																 j->channels[c].len));
	MemoryContextSwitchTo(old);
}

/* The positions array of a position set; *fresh when built in the row context. */
static Datum
positions_datum(row_datums *rd, const at_journey *j, uint32 bits, bool *fresh)
{
	MemoryContext old;
	Datum		d;

	for (int k = 0; k < rd->npos; k++)
		if (rd->posbits[k] == bits)
			return rd->posarr[k];
	if (rd->npos == POS_CACHE_MAX)
	{
		*fresh = true;
		return attrib_positions_array(j, bits);
	}
	old = MemoryContextSwitchTo(rd->cxt);
	d = attrib_positions_array(j, bits);
	MemoryContextSwitchTo(old);
	rd->posbits[rd->npos] = bits;
	rd->posarr[rd->npos++] = d;
	return d;
}

/*
 * numeric datums of credits, row after row: equal consecutive values (the
 * zeros of single-touch models, the equal shares of even splits) share one
 * datum, the others are built in cxt, which is reset when the value changes.
 */
typedef struct credit_datums
{
	MemoryContext cxt;
	bool		have;
	int64		v;
	int32		scale;
	Datum		d;
} credit_datums;

static Datum
credit_datum(credit_datums *cd, attrib_env *e, const at_amount *a)
{
	int64		v = 0;
	MemoryContext old;
	bool		small = a->scale <= 18 && at_amount_to_int64(a, &v);

	if (small && cd->have && cd->v == v && cd->scale == a->scale)
		return cd->d;
	MemoryContextReset(cd->cxt);
	old = MemoryContextSwitchTo(cd->cxt);
	cd->d = amount_datum(e, a);
	MemoryContextSwitchTo(old);
	cd->have = small;
	cd->v = v;
	cd->scale = a->scale;
	return cd->d;
}

/*
 * The credits of one amount under per-touch weights: additive weights split it
 * exactly (by the exact integer weights q when the model has them), others
 * scale it touch by touch (influence, raw time decay).
 */
static void
split_credits(attrib_env *e, const at_amount *amount, const double *weight,
			  const uint64 *q, uint32 n, bool additive, at_amount *credit)
{
	if (additive && q != NULL)
		AT_CHECK(e, at_amount_split_exact(&e->env, amount, q, n, credit));
	else if (additive)
		AT_CHECK(e, at_amount_split(&e->env, amount, weight, n, credit));
	else
		for (uint32 i = 0; i < n; i++)
		{
			CHECK_EVERY_64K(i);
			AT_CHECK(e, at_amount_scale(&e->env, amount, weight[i], &credit[i]));
		}
}

/*
 * Put one row per touch into the SRF's tuplestore: the credits of a journey
 * given its weights.  Additive weights split the amount exactly; non-additive
 * ones (influence, raw time decay) scale it touch by touch.  With no touch
 * credited the amount stays unattributed (every credit 0).  rd: the journey's
 * cached row datums, or NULL.
 */
static void
emit_credits(FunctionCallInfo fcinfo, attrib_env *e, const at_journey *j,
			 const double *weight, const uint64 *q, const uint32 *pos,
			 uint32 credited, bool additive, const at_amount *amount, row_datums *rd)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	at_amount  *credit = palloc0(sizeof(at_amount) * Max(j->ntouches, 1));
	MemoryContext rowcxt;
	row_datums	local;
	credit_datums cd = {0};

	if (credited == 0)
	{
		for (uint32 i = 0; i < j->ntouches; i++)
			credit[i].scale = amount->scale;
	}
	else
		split_credits(e, amount, weight, q, j->ntouches, additive, credit);

	if (rd == NULL)
	{
		memset(&local, 0, sizeof(local));
		local.cxt = CurrentMemoryContext;	/* positions arrays, for this call */
		rd = &local;
	}
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "attrib credits row",
								   ALLOCSET_SMALL_SIZES);
	cd.cxt = AllocSetContextCreate(CurrentMemoryContext, "attrib credits value",
								   ALLOCSET_SMALL_SIZES);
	for (uint32 i = 0; i < j->ntouches; i++)
	{
		Datum		values[7];
		bool		nulls[7] = {0};
		const at_touch *t = &j->touches[i];
		MemoryContext old;
		bool		fresh = false;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(rowcxt);
		values[0] = Int32GetDatum((int32) i + 1);
		if (rd->ids)
		{
			values[1] = rd->ids[i];
			values[3] = rd->chans[t->channel];
		}
		else
		{
			values[1] = PointerGetDatum(cstring_to_text_with_len(j->ids + t->id_off, t->id_len));
			values[3] = PointerGetDatum(cstring_to_text_with_len(j->channels[t->channel].p,
																 j->channels[t->channel].len));
			fresh = true;
		}
		values[2] = TimestampTzGetDatum(t->at);
		values[4] = positions_datum(rd, j, pos[i], &fresh);
		values[5] = Float8GetDatum(weight[i]);
		values[6] = credit_datum(&cd, e, &credit[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextSwitchTo(old);
		if (fresh)
			MemoryContextReset(rowcxt);
	}
	MemoryContextDelete(cd.cxt);
	MemoryContextDelete(rowcxt);
}

void
attrib_emit_credits(FunctionCallInfo fcinfo, attrib_env *e, const at_journey *j,
					const double *weight, const uint64 *q, const uint32 *pos,
					uint32 credited, bool additive, const at_amount *amount)
{
	emit_credits(fcinfo, e, j, weight, q, pos, credited, additive, amount, NULL);
}

/*
 * What attrib.credits keeps in fn_extra between calls at one call site (a
 * query crediting every journey under every model calls it 15 times with the
 * same journey, amount and scale, and cycles through the same models):
 *  - the last journey read, decoded, with its row datums (journeys up to
 *    JOURNEY_CACHE_MAX bytes; larger ones are decoded call by call);
 *  - the last amount argument, parsed at its scale;
 *  - up to OPT_CACHE_MAX (model, options) pairs, parsed.
 * Every entry is keyed by the argument's bytes, so a hit is exactly what
 * parsing the argument again would give.
 */
#define JOURNEY_CACHE_MAX (1024 * 1024)
#define OPT_CACHE_MAX 32

typedef struct opt_entry
{
	char	   *key;			/* model name, NUL, then 'j' + options jsonb, or 'n' */
	Size		keylen;
	at_options	opt;
} opt_entry;

typedef struct credits_extra
{
	/* journey */
	MemoryContext jcxt;			/* reset for every new journey */
	bool		jvalid;
	char	   *jbytes;
	Size		jlen;
	at_journey	j;
	row_datums	rd;				/* rd.cxt == jcxt */
	/* amount */
	MemoryContext acxt;
	bool		avalid;
	char	   *akey;			/* numeric bytes */
	Size		alen;
	int			ascale;
	at_amount	amount;
	/* models and options */
	MemoryContext ocxt;
	int			nopt;
	opt_entry	opts[OPT_CACHE_MAX];
} credits_extra;

static credits_extra *
get_credits_extra(FunctionCallInfo fcinfo)
{
	credits_extra *x = (credits_extra *) fcinfo->flinfo->fn_extra;

	if (x == NULL)
	{
		MemoryContext m = fcinfo->flinfo->fn_mcxt;

		x = MemoryContextAllocZero(m, sizeof(credits_extra));
		x->jcxt = AllocSetContextCreate(m, "attrib credits journey", ALLOCSET_DEFAULT_SIZES);
		x->acxt = AllocSetContextCreate(m, "attrib credits amount", ALLOCSET_SMALL_SIZES);
		x->ocxt = AllocSetContextCreate(m, "attrib credits options", ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = x;
	}
	return x;
}

/* The journey argument, decoded (from the cache when its bytes are the last ones). */
static const at_journey *
cached_journey(credits_extra *x, attrib_env *e, Datum d, at_journey *scratch,
			   row_datums **rd)
{
	bytea	   *v = DatumGetByteaPP(d);
	const char *p = VARDATA_ANY(v);
	Size		len = VARSIZE_ANY_EXHDR(v);
	attrib_env	ce;

	if (x->jvalid && x->jlen == len && memcmp(x->jbytes, p, len) == 0)
	{
		*rd = &x->rd;
		return &x->j;
	}
	x->jvalid = false;
	MemoryContextReset(x->jcxt);
	if (len > JOURNEY_CACHE_MAX)
	{
		AT_CHECK(e, at_journey_decode(&e->env, (const uint8_t *) p, len, scratch));
		*rd = NULL;
		return scratch;
	}
	x->jbytes = MemoryContextAlloc(x->jcxt, Max(len, 1));
	memcpy(x->jbytes, p, len);
	x->jlen = len;
	attrib_env_init(&ce, x->jcxt);
	AT_CHECK(&ce, at_journey_decode(&ce.env, (const uint8_t *) x->jbytes, len, &x->j));
	memset(&x->rd, 0, sizeof(x->rd));
	x->rd.cxt = x->jcxt;
	row_datums_build(&x->rd, &x->j);
	x->jvalid = true;
	*rd = &x->rd;
	return &x->j;
}

/* The amount argument at its money scale (cached like the journey). */
static void
cached_amount(credits_extra *x, attrib_env *e, FunctionCallInfo fcinfo, int argno,
			  int scale_arg, at_amount *out)
{
	int			scale;
	struct varlena *v;
	attrib_env	ae;

	if (PG_ARGISNULL(argno))
	{
		attrib_amount_arg(e, fcinfo, argno, scale_arg, out);	/* raises */
		return;
	}
	scale = money_scale(fcinfo, argno, scale_arg);
	v = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(argno));
	if (x->avalid && x->ascale == scale && x->alen == VARSIZE_ANY_EXHDR(v) &&
		memcmp(x->akey, VARDATA_ANY(v), x->alen) == 0)
	{
		*out = x->amount;
		return;
	}
	x->avalid = false;
	MemoryContextReset(x->acxt);
	attrib_env_init(&ae, x->acxt);
	{
		MemoryContext old = MemoryContextSwitchTo(x->acxt);

		attrib_amount_arg(&ae, fcinfo, argno, scale_arg, &x->amount);
		MemoryContextSwitchTo(old);
	}
	x->alen = VARSIZE_ANY_EXHDR(v);
	x->akey = MemoryContextAlloc(x->acxt, Max(x->alen, 1));
	memcpy(x->akey, VARDATA_ANY(v), x->alen);
	x->ascale = scale;
	x->avalid = true;
	*out = x->amount;
}

/* The model and options arguments, parsed (cached by their bytes). */
static void
cached_options(credits_extra *x, FunctionCallInfo fcinfo, int model_arg, int opt_arg,
			   at_options *opt)
{
	const char *name;
	size_t		nlen;
	Jsonb	   *jb = NULL;
	Size		klen;
	char	   *key;
	opt_entry  *o;
	attrib_env	oe;
	MemoryContext old;

	if (PG_ARGISNULL(model_arg))
	{
		attrib_env	e;

		attrib_env_init(&e, NULL);
		model_options(&e, fcinfo, model_arg, opt_arg, opt);	/* raises */
		return;
	}
	name = attrib_text(PG_GETARG_DATUM(model_arg), &nlen);
	if (!PG_ARGISNULL(opt_arg))
		jb = PG_GETARG_JSONB_P(opt_arg);
	klen = nlen + 2 + (jb ? VARSIZE(jb) : 0);
	key = palloc(klen);
	memcpy(key, name, nlen);
	key[nlen] = '\0';
	key[nlen + 1] = jb ? 'j' : 'n';
	if (jb)
		memcpy(key + nlen + 2, jb, VARSIZE(jb));
	for (int k = 0; k < x->nopt; k++)
	{
		o = &x->opts[k];
		if (o->keylen == klen && memcmp(o->key, key, klen) == 0)
		{
			*opt = o->opt;
			return;
		}
	}
	if (x->nopt == OPT_CACHE_MAX)
	{
		MemoryContextReset(x->ocxt);
		x->nopt = 0;
	}
	/* parse in the cache's context; an error leaves no entry behind */
	attrib_env_init(&oe, x->ocxt);
	o = &x->opts[x->nopt];
	old = MemoryContextSwitchTo(x->ocxt);
	model_options(&oe, fcinfo, model_arg, opt_arg, &o->opt);
	o->key = palloc(klen);
	memcpy(o->key, key, klen);
	o->keylen = klen;
	MemoryContextSwitchTo(old);
	x->nopt++;
	*opt = o->opt;
}

/*
 * credits(journey, model, amount, options, scale) -> setof (touch_index,
 * touch_id, occurred_at, channel, positions, weight, credit)
 */
PG_FUNCTION_INFO_V1(attrib_credits);
Datum
attrib_credits(PG_FUNCTION_ARGS)
{
	attrib_env	e;
	at_journey	j,
				scratch;
	at_options	opt;
	at_amount	amount;
	double	   *weight;
	uint64	   *q;
	bool		exact;
	uint32	   *pos;
	uint32		credited;
	credits_extra *x;
	row_datums *rd;

	attrib_srf_init(fcinfo);
	x = get_credits_extra(fcinfo);
	attrib_env_init(&e, NULL);
	cached_options(x, fcinfo, 1, 3, &opt);
	cached_amount(x, &e, fcinfo, 2, 4, &amount);
	if (PG_ARGISNULL(0))
		return (Datum) 0;		/* no journey: nothing to credit */
	j = *cached_journey(x, &e, PG_GETARG_DATUM(0), &scratch, &rd);
	weight = palloc(sizeof(double) * Max(j.ntouches, 1));
	q = palloc(sizeof(uint64) * Max(j.ntouches, 1));
	pos = palloc(sizeof(uint32) * Max(j.ntouches, 1));
	AT_CHECK(&e, at_weights_exact(&e.env, &j, &opt, weight, q, &exact, pos, &credited));
	emit_credits(fcinfo, &e, &j, weight, exact ? q : NULL, pos, credited,
				 at_model_catalog(opt.model)->additive &&
				 !(opt.model == AT_M_TIME_DECAY && !opt.normalize),
				 &amount, rd);
	return (Datum) 0;
}

/* models() -> setof (name, family, additive, options, definition, source) */
PG_FUNCTION_INFO_V1(attrib_models);
Datum
attrib_models(PG_FUNCTION_ARGS)
{
	static const char *const optnames[] = {
		"exclude_channels", "collapse_repeats", "direct_channels", "half_life",
		"normalize", "weights"
	};
	static const uint32 optbits[] = {
		AT_OPT_EXCLUDE, AT_OPT_COLLAPSE, AT_OPT_DIRECT, AT_OPT_HALF_LIFE,
		AT_OPT_NORMALIZE, AT_OPT_WEIGHTS
	};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	attrib_srf_init(fcinfo);
	for (int m = 0; m < AT_M_NMODELS; m++)
	{
		const at_model_info *info = at_model_catalog((at_model_id) m);
		Datum		values[6];
		bool		nulls[6] = {0};
		Datum		opts[lengthof(optnames)];
		int			nopts = 0;

		for (int k = 0; k < (int) lengthof(optnames); k++)
			if (info->options & optbits[k])
				opts[nopts++] = CStringGetTextDatum(optnames[k]);
		values[0] = CStringGetTextDatum(info->name);
		values[1] = CStringGetTextDatum(info->family);
		values[2] = BoolGetDatum(info->additive);
		values[3] = PointerGetDatum(construct_array(opts, nopts, TEXTOID, -1, false, TYPALIGN_INT));
		values[4] = CStringGetTextDatum(info->definition);
		values[5] = CStringGetTextDatum(info->source);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* split_amount(amount numeric, weights float8[], scale int) -> numeric[] */
PG_FUNCTION_INFO_V1(attrib_split_amount);
Datum
attrib_split_amount(PG_FUNCTION_ARGS)
{
	attrib_env	e;
	at_amount	amount;
	at_amount  *parts;
	Datum	   *elems;
	bool	   *nulls;
	double	   *w;
	int			n;

	attrib_env_init(&e, NULL);
	attrib_amount_arg(&e, fcinfo, 0, 2, &amount);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("weights must not be NULL"));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), FLOAT8OID, sizeof(float8),
					  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				errmsg("weights must not be empty"),
				errhint("Give at least one weight."));
	w = palloc(sizeof(double) * n);
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("weight %d is NULL", i + 1));
		w[i] = DatumGetFloat8(elems[i]);
	}
	parts = palloc0(sizeof(at_amount) * n);
	AT_CHECK(&e, at_amount_split(&e.env, &amount, w, (uint32) n, parts));
	for (int i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		elems[i] = amount_datum(&e, &parts[i]);
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, NUMERICOID, -1, false, TYPALIGN_INT));
}

/* check_model(base_model, options) -> true, or the error credits() would raise */
PG_FUNCTION_INFO_V1(attrib_check_model);
Datum
attrib_check_model(PG_FUNCTION_ARGS)
{
	attrib_env	e;
	at_options	opt;

	attrib_env_init(&e, NULL);
	model_options(&e, fcinfo, 0, 1, &opt);
	PG_RETURN_BOOL(true);
}

/*
 * The models of one credit_split or credit_arrays call site, parsed once and
 * kept in fn_extra for as long as the same arrays come back (a refresh passes
 * the same arrays for every journey).
 */
typedef struct model_set
{
	MemoryContext cxt;			/* holds all of it (the struct too) */
	bytea	   *key;			/* the three arrays' bytes, to recognize them */
	int			n;
	Datum	   *names;			/* text, in cxt */
	at_options *opt;
	bool	   *additive;
	/*
	 * Working memory of credit_split/credit_arrays, kept from call to call and
	 * reset, not freed: each context keeps its first block, so a journey of
	 * ordinary size allocates nothing from malloc.  (Allocated and freed per
	 * call, the memory went back to the kernel and every call took page
	 * faults: 4x as many, and 15% slower, in a first version of the arrays.)
	 */
	MemoryContext scratch;		/* one call's work (NULL until the first) */
	MemoryContext rowcxt;		/* one output row's values, within a call */
	/* (both under fn_mcxt, handed on to the next model set of the call site) */
} model_set;

static bytea *
model_set_key(ArrayType *a, ArrayType *b, ArrayType *c)
{
	Size		la = VARSIZE(a),
				lb = VARSIZE(b),
				lc = VARSIZE(c);
	bytea	   *k = palloc(VARHDRSZ + la + lb + lc);

	SET_VARSIZE(k, VARHDRSZ + la + lb + lc);
	memcpy(VARDATA(k), a, la);
	memcpy(VARDATA(k) + la, b, lb);
	memcpy(VARDATA(k) + la + lb, c, lc);
	return k;
}

/* A copy, in the current context, of a value with a 4-byte header. */
static void *
varlena_copy(const void *v)
{
	void	   *c = palloc(VARSIZE(v));

	memcpy(c, v, VARSIZE(v));
	return c;
}

static model_set *
get_model_set(FunctionCallInfo fcinfo, int names_arg, int models_arg, int options_arg)
{
	ArrayType  *na,
			   *ma,
			   *oa;
	model_set  *ms = (model_set *) fcinfo->flinfo->fn_extra;
	bytea	   *key;
	MemoryContext cxt,
				old,
				scratch = NULL,
				rowcxt = NULL;
	Datum	   *names,
			   *models,
			   *options;
	bool	   *nn,
			   *mn,
			   *on;
	int			n,
				nm,
				no;
	attrib_env	e;

	if (PG_ARGISNULL(names_arg) || PG_ARGISNULL(models_arg) || PG_ARGISNULL(options_arg))
		ereport(ERROR,
				errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				errmsg("names, models and options must not be NULL"));
	na = PG_GETARG_ARRAYTYPE_P(names_arg);
	ma = PG_GETARG_ARRAYTYPE_P(models_arg);
	oa = PG_GETARG_ARRAYTYPE_P(options_arg);
	key = model_set_key(na, ma, oa);
	if (ms != NULL && VARSIZE(ms->key) == VARSIZE(key) &&
		memcmp(ms->key, key, VARSIZE(key)) == 0)
	{
		pfree(key);
		return ms;
	}

	/*
	 * A new model set: the previous one is freed, and everything of the new
	 * one (the key, and the names, which point into the names array) is
	 * copied into its own context under fn_mcxt.  The arguments may live in
	 * per-row memory: a set keyed by them would be recognized by chance when a
	 * later call's key lands at the same address (a query that credits each
	 * journey under a different model got the previous row's model).
	 */
	fcinfo->flinfo->fn_extra = NULL;
	if (ms != NULL)
	{
		scratch = ms->scratch;
		rowcxt = ms->rowcxt;
		MemoryContextDelete(ms->cxt);
	}
	cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "attrib model set",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	na = varlena_copy(na);
	ma = varlena_copy(ma);
	oa = varlena_copy(oa);
	deconstruct_array(na, TEXTOID, -1, false, TYPALIGN_INT, &names, &nn, &n);
	deconstruct_array(ma, TEXTOID, -1, false, TYPALIGN_INT, &models, &mn, &nm);
	deconstruct_array(oa, JSONBOID, -1, false, TYPALIGN_INT, &options, &on, &no);
	if (n != nm || n != no)
		ereport(ERROR,
				errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				errmsg("names, models and options must have the same length"),
				errdetail("They have %d, %d and %d elements.", n, nm, no));
	ms = palloc0(sizeof(model_set));
	ms->cxt = cxt;
	ms->scratch = scratch;
	ms->rowcxt = rowcxt;
	ms->key = varlena_copy(key);
	ms->n = n;
	ms->names = names;
	ms->opt = palloc0(sizeof(at_options) * Max(n, 1));
	ms->additive = palloc0(sizeof(bool) * Max(n, 1));
	attrib_env_init(&e, cxt);
	for (int i = 0; i < n; i++)
	{
		size_t		len;
		const char *name;
		at_model_id m;
		char	   *json;

		if (nn[i] || mn[i] || on[i])
			ereport(ERROR,
					errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					errmsg("model %d has a NULL name, base model or options", i + 1));
		name = attrib_text(models[i], &len);
		AT_CHECK(&e, at_model_lookup(&e.env, name, len, &m));
		json = JsonbToCString(NULL, &DatumGetJsonbP(options[i])->root, VARSIZE_ANY(DatumGetPointer(options[i])));
		AT_CHECK(&e, at_options_parse(&e.env, m, json, strlen(json), &ms->opt[i]));
		ms->additive[i] = at_model_catalog(m)->additive &&
			!(m == AT_M_TIME_DECAY && !ms->opt[i].normalize);
	}
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = ms;
	return ms;
}

/*
 * A one-dimensional array of n elements without NULLs, as construct_array
 * lays it out (zeroed padding); *data points at its first element, for the
 * caller to fill with datasize bytes.
 */
static ArrayType *
array_1d(Oid elemtype, int n, Size datasize, char **data)
{
	Size		nbytes = ARR_OVERHEAD_NONULLS(1) + datasize;
	ArrayType  *a;

	if (!AllocSizeIsValid(nbytes))
		ereport(ERROR,
				errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				errmsg("credit array of %d elements needs %zu bytes, more than the maximum allowed (%zu)",
					   n, nbytes, (Size) MaxAllocSize),
				errhint("Split the journey: an opportunity with this many touches cannot be stored."));
	a = palloc0(nbytes);
	SET_VARSIZE(a, nbytes);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = elemtype;
	ARR_DIMS(a)[0] = n;
	ARR_LBOUND(a)[0] = 1;
	*data = (char *) a + ARR_OVERHEAD_NONULLS(1);	/* no NULLs: ARR_DATA_PTR(a) */
	return a;
}

/*
 * numeric[] of the credits of touches ki[0..nk-1], written in place when all
 * are small: from c64 (integers of minor units of scale, 0 <= scale <= 18)
 * when the split gave them, else from the amounts of credit.
 */
static Datum
credit_array(attrib_env *e, const at_amount *credit, const int64 *c64, int scale,
			 const uint32 *ki, int nk)
{
	num_digits *nd = palloc(sizeof(num_digits) * nk);
	Size		total = 0;
	char	   *p;
	ArrayType  *a;

	for (int k = 0; k < nk; k++)
	{
		const at_amount *c = &credit[ki[k]];
		int64		v;

		CHECK_EVERY_64K(k);
		if (c64 != NULL)
			num_digits_of(c64[ki[k]], scale, &nd[k]);
		else if (c->scale >= 0 && c->scale <= 18 && at_amount_to_int64(c, &v))
			num_digits_of(v, c->scale, &nd[k]);
		else
		{
			Datum	   *d = palloc(sizeof(Datum) * nk);

			for (int i = 0; i < nk; i++)
				d[i] = amount_datum(e, &credit[ki[i]]);
			return PointerGetDatum(construct_array(d, nk, NUMERICOID, -1, false, TYPALIGN_INT));
		}
		total += INTALIGN(num_size(&nd[k]));
	}
	a = array_1d(NUMERICOID, nk, total, &p);
	for (int k = 0; k < nk; k++)
	{
		CHECK_EVERY_64K(k);
		num_write(p, &nd[k]);
		p += INTALIGN(num_size(&nd[k]));
	}
	return PointerGetDatum(a);
}

/*
 * The arrays of one model's row of credit_arrays: positions (1-based), ids,
 * weights and both credits of the touches ki[0..nk-1], built in place.
 */
static void
credit_row_arrays(attrib_env *e, const at_journey *j, const uint32 *ki, int nk,
				  const double *weight, const at_amount amount[2], at_amount *const credit[2],
				  int64 *const c64[2], Datum *values)
{
	Size		idbytes = 0;
	char	   *p;
	ArrayType  *a;

	a = array_1d(INT4OID, nk, sizeof(int32) * nk, &p);
	for (int k = 0; k < nk; k++)
	{
		int32		pos = (int32) ki[k] + 1;

		memcpy(p + sizeof(int32) * k, &pos, sizeof(int32));
	}
	values[1] = PointerGetDatum(a);

	for (int k = 0; k < nk; k++)
		idbytes += INTALIGN(VARHDRSZ + j->touches[ki[k]].id_len);
	a = array_1d(TEXTOID, nk, idbytes, &p);
	for (int k = 0; k < nk; k++)
	{
		const at_touch *t = &j->touches[ki[k]];

		CHECK_EVERY_64K(k);
		SET_VARSIZE(p, VARHDRSZ + t->id_len);
		memcpy(p + VARHDRSZ, j->ids + t->id_off, t->id_len);
		p += INTALIGN(VARHDRSZ + t->id_len);
	}
	values[2] = PointerGetDatum(a);

	a = array_1d(FLOAT8OID, nk, sizeof(float8) * nk, &p);
	for (int k = 0; k < nk; k++)
		memcpy(p + sizeof(float8) * k, &weight[ki[k]], sizeof(float8));
	values[3] = PointerGetDatum(a);

	values[4] = credit_array(e, credit[0], c64[0], amount[0].scale, ki, nk);
	values[5] = credit_array(e, credit[1], c64[1], amount[1].scale, ki, nk);
}

/*
 * The credits of one journey under every model of a model set, the amount split
 * exactly twice (in its own currency and in the reporting currency), and only
 * the touches that earn something.  arrays false: one row per (model, touch)
 * (attrib.credit_split); arrays true: one row per model, the touches' values as
 * arrays in journey order (attrib.credit_arrays, what attrib.refresh() stores).
 * A model that credits no touch returns nothing: the caller books the amount
 * unattributed.
 */
static Datum
credit_split_common(FunctionCallInfo fcinfo, bool arrays)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	attrib_env	e;
	at_journey	j;
	model_set  *ms;
	at_amount	amount[2];
	at_amount  *credit[2];
	double	   *weight;
	uint64	   *q;
	bool		exact;
	uint32	   *pos;
	uint32		credited;
	MemoryContext rowcxt,
				callold;
	row_datums	rd = {0};
	credit_datums cd[2] = {{0}};
	uint32	   *ki;
	int64	   *c64buf[2],
			   *c64[2];

	attrib_srf_init(fcinfo);
	ms = get_model_set(fcinfo, 1, 2, 3);
	if (ms->scratch == NULL)
	{
		ms->scratch = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "attrib credits call",
											256 * 1024, 256 * 1024, ALLOCSET_DEFAULT_MAXSIZE);
		ms->rowcxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "attrib credits row",
										   64 * 1024, 64 * 1024, ALLOCSET_DEFAULT_MAXSIZE);
	}
	else
	{
		MemoryContextReset(ms->scratch);
		MemoryContextReset(ms->rowcxt);
	}
	callold = MemoryContextSwitchTo(ms->scratch);
	rowcxt = ms->rowcxt;
	attrib_env_init(&e, NULL);
	attrib_amount_arg(&e, fcinfo, 4, 5, &amount[0]);
	attrib_amount_arg(&e, fcinfo, 6, 7, &amount[1]);
	if (PG_ARGISNULL(0))
	{
		MemoryContextSwitchTo(callold);
		return (Datum) 0;
	}
	attrib_journey_get(&e, PG_GETARG_DATUM(0), &j);
	weight = palloc(sizeof(double) * Max(j.ntouches, 1));
	q = palloc(sizeof(uint64) * Max(j.ntouches, 1));
	pos = palloc(sizeof(uint32) * Max(j.ntouches, 1));
	credit[0] = palloc(sizeof(at_amount) * Max(j.ntouches, 1));
	credit[1] = palloc(sizeof(at_amount) * Max(j.ntouches, 1));
	/* ids as text once for all models (journeys of ordinary size; arrays copy them) */
	rd.cxt = CurrentMemoryContext;
	if (!arrays && j.ntouches <= 65536)
		row_datums_build(&rd, &j);
	ki = palloc(sizeof(uint32) * Max(j.ntouches, 1));
	for (int k = 0; k < 2; k++)
	{
		c64buf[k] = palloc(sizeof(int64) * Max(j.ntouches, 1));
		/* credit_split's repeated values (freed with the call's context) */
		if (!arrays)
			cd[k].cxt = AllocSetContextCreate(CurrentMemoryContext, "attrib credits value",
											  ALLOCSET_SMALL_SIZES);
	}

	for (int m = 0; m < ms->n; m++)
	{
		int			nk = 0;

		CHECK_FOR_INTERRUPTS();
		AT_CHECK(&e, at_weights_exact(&e.env, &j, &ms->opt[m], weight, q, &exact, pos,
									  &credited));
		if (credited == 0)
			continue;			/* nothing creditable: the caller books it unattributed */
		for (int k = 0; k < 2; k++)
		{
			bool		done = false;

			/* arrays of an additive model: the shares as integers, no limbs */
			if (arrays && ms->additive[m] && amount[k].scale >= 0 && amount[k].scale <= 18)
			{
				if (exact)
					AT_CHECK(&e, at_amount_split_exact_i64(&e.env, &amount[k], q, j.ntouches,
														   c64buf[k], &done));
				else
					AT_CHECK(&e, at_amount_split_i64(&e.env, &amount[k], weight, j.ntouches,
													 c64buf[k], &done));
			}
			c64[k] = done ? c64buf[k] : NULL;
			if (done)
				continue;
			memset(credit[k], 0, sizeof(at_amount) * j.ntouches);
			split_credits(&e, &amount[k], weight, exact ? q : NULL, j.ntouches,
						  ms->additive[m], credit[k]);
		}
		if (arrays)
		{
			/* one row: the touches that earned something, in journey order */
			Datum		values[6];
			bool		nulls[6] = {0};
			MemoryContext old;

			for (uint32 i = 0; i < j.ntouches; i++)
			{
				CHECK_EVERY_64K(i);
				if (weight[i] != 0)
					ki[nk++] = i;
			}
			if (nk == 0)
				continue;		/* no touch earned anything: no row, as credit_split */
			old = MemoryContextSwitchTo(rowcxt);
			values[0] = ms->names[m];
			credit_row_arrays(&e, &j, ki, nk, weight, amount, credit, c64, values);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			MemoryContextSwitchTo(old);
			MemoryContextReset(rowcxt);
			continue;
		}
		for (uint32 i = 0; i < j.ntouches; i++)
		{
			Datum		values[6];
			bool		nulls[6] = {0};
			const at_touch *t = &j.touches[i];
			MemoryContext old;

			CHECK_FOR_INTERRUPTS();
			if (weight[i] == 0)
				continue;		/* only touches that earned something are stored */
			old = MemoryContextSwitchTo(rowcxt);
			values[0] = ms->names[m];
			values[1] = Int32GetDatum((int32) i + 1);
			values[2] = rd.ids ? rd.ids[i] :
				PointerGetDatum(cstring_to_text_with_len(j.ids + t->id_off, t->id_len));
			values[3] = Float8GetDatum(weight[i]);
			values[4] = credit_datum(&cd[0], &e, &credit[0][i]);
			values[5] = credit_datum(&cd[1], &e, &credit[1][i]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			MemoryContextSwitchTo(old);
			if (rd.ids == NULL)
				MemoryContextReset(rowcxt);
		}
	}
	MemoryContextSwitchTo(callold);
	return (Datum) 0;
}

/*
 * credit_split(journey, names, models, options, amount, scale, reporting_amount,
 * reporting_scale) -> setof (model, touch_index, touch_id, weight, credit,
 * credit_reporting): for every model of the arrays, the touches that earn
 * something, with the amount split exactly twice — in its own currency and
 * converted to the reporting currency, so both sum exactly.  The journey is
 * decoded once for all models.
 */
PG_FUNCTION_INFO_V1(attrib_credit_split);
Datum
attrib_credit_split(PG_FUNCTION_ARGS)
{
	return credit_split_common(fcinfo, false);
}

/*
 * credit_arrays(the same arguments) -> setof (model, touch_index int4[],
 * touch_id text[], weight float8[], credit numeric[], credit_reporting
 * numeric[]): the same credits, one row per model; what attrib.refresh() stores
 * in attrib.credit_store.
 */
PG_FUNCTION_INFO_V1(attrib_credit_arrays);
Datum
attrib_credit_arrays(PG_FUNCTION_ARGS)
{
	return credit_split_common(fcinfo, true);
}
