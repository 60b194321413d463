/*
 * fuzz_credits.c — libFuzzer target: the credit kernel, what attrib.credits and
 * attrib.credit_split run per opportunity: at_weights on a journey under a model
 * and its options, then the exact money (at_amount_split for additive models,
 * at_amount_scale touch by touch otherwise).
 *
 * The input is decoded into a journey, a model, options and an amount (format
 * below), so that most inputs are valid and reach the kernel.  Checked:
 *   - a valid journey, options and amount never make at_weights fail (except
 *     for memory, a requested cancellation or a documented limit);
 *   - every weight is finite and >= 0; with no touch credited every weight is 0;
 *   - additive weights sum to 1 within 1e-9 when a touch is credited;
 *   - additive credits, added with exact integer arithmetic, equal the amount;
 *     each is at the amount's scale, has its sign and a weight-0 touch gets 0;
 *   - non-additive credits are at most the amount (weights <= 1) and a weight
 *     of exactly 1 (influence) is credited exactly the amount.
 *
 * Input format (missing bytes read as 0):
 *   u8 model (mod the number of models)
 *   u8 flags: bits 0-1 context (0 none, 1 and 3 with_context and its window
 *             cut, 2 attached as is and validated by the byte decoder);
 *             bit 2 raw options text; bit 3 cancel after u8 polls; bit 4 raw
 *             amount text; bit 5 repeated ids (duplicates are rejected by the
 *             builder); bit 6 a large journey (2049..3072 touches) generated
 *             from a seed; bit 7 extreme times
 *   touches: u8 count, then per touch u8 channel/unit, i8 time step, u8 id
 *            (large journeys: u16 count, u32 seed)
 *   context (when flagged): u8 outcome, u8 has, 4 x i16 hours from the start
 *            (created, closed, lead created, as of), u8 lookback, u8 stages,
 *            per stage u8 name and i16 hours
 *   options: generated from u8 option bits, u8 exclude mask, u8 direct mask,
 *            u8 half_life, u8 weight count + per weight u8 position and u8
 *            weight; or (raw) u8 length and that many bytes of JSON
 *   amount:  generated from u8 sign/scale, u8 integer digits, u8 fraction
 *            digits and the digits; or (raw) u8 scale, u8 length and text
 */
#include "fuzz_common.h"

#include <float.h>

static fz_env F;
static int	initialized;

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const channel_names[8] = {
	"direct", "Direct", "email", "paid_search", "webinar", "organic", "DIRECT", "x"
};
static const char *const stage_names[5] = {"MQL", "SQL", "SAL", "mql", "Won"};
static const char *const position_names[10] = {
	"FT", "LC", "OC", "CW", "LT", "middle", "stage:MQL", "stage:SQL", "stage:mql", "lt"
};
static const char *const half_lives[10] = {
	"7", "\"1 second\"", "0.5", "1e9", "\"36 hours\"", "1e-9", "\"2 weeks\"", "1e-300",
	"5e-324", "\"0.001 minutes\""
};

#define T_BASE	INT64_C(757382400000000)	/* 2024-01-01 00:00 UTC */
#define T_HOUR	INT64_C(3600000000)
#define T_MIN	INT64_C(-211813488000000000)	/* 4714-11-24 BC */
#define T_END	INT64_C(9223371331200000000)	/* 294277-01-01, excluded */

typedef struct text
{
	char		buf[4096];
	size_t		len;
} text;

static void
put(text *t, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
put(text *t, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->len += (size_t) n < sizeof(t->buf) - t->len ? (size_t) n : sizeof(t->buf) - t->len - 1;
}

/* a time inside PostgreSQL's range */
static int64_t
clamp_time(int64_t t)
{
	return t < T_MIN ? T_MIN : t >= T_END ? T_END - 1 : t;
}

/* t + d, saturated into PostgreSQL's range */
static int64_t
add_time(int64_t t, int64_t d)
{
	int64_t		r;

	if (__builtin_add_overflow(t, d, &r))
		r = d > 0 ? INT64_MAX : INT64_MIN;
	return clamp_time(r);
}

/* Build the journey's touches; false when the builder rejects them. */
static bool
make_touches(fz_reader *r, uint32_t flags, at_journey *j)
{
	at_builder	b;
	at_status	st;
	int64_t		t = (flags & 0x80) ? T_MIN : T_BASE;
	char		id[32];

	at_builder_init(&b);
	if (flags & 0x40)
	{
		uint32_t	n = 2049 + fz_u16(r) % 1024;
		uint64_t	seed = (uint64_t) fz_u16(r) << 16 | fz_u16(r);

		for (uint32_t i = 0; i < n; i++)
		{
			seed = seed * 6364136223846793005u + 1442695040888963407u;
			t = add_time(t, (int64_t) ((seed >> 33) % 1000) * T_HOUR / 7);
			snprintf(id, sizeof(id), "g%u", i);
			st = at_builder_add(&F.env, &b, id, strlen(id), t,
								channel_names[(seed >> 20) % 8], strlen(channel_names[(seed >> 20) % 8]));
			FZ_CHECK(st == AT_OK || fz_resource_status(st), "builder_add: %s", F.err.message);
			if (st != AT_OK)
				return false;
		}
	}
	else
	{
		uint32_t	n = fz_u8(r);

		for (uint32_t i = 0; i < n; i++)
		{
			uint32_t	c = fz_u8(r);
			int			step = (int8_t) fz_u8(r);
			uint32_t	idb = fz_u8(r);
			static const int64_t units[4] = {0, 1000000, T_HOUR, 24 * T_HOUR};

			if ((flags & 0x80) && (c & 0x20))
				t = (c & 0x40) ? T_END - 1 - (int64_t) (idb * 1000) : T_MIN + (int64_t) idb;
			else
				t = add_time(t, step * units[(c >> 3) & 3]);
			if (flags & 0x20)
				snprintf(id, sizeof(id), "t%u", idb % 6);
			else
				snprintf(id, sizeof(id), "t%u", i);
			st = at_builder_add(&F.env, &b, id, strlen(id), t,
								channel_names[c & 7], strlen(channel_names[c & 7]));
			FZ_CHECK(st == AT_OK || fz_resource_status(st), "builder_add: %s", F.err.message);
			if (st != AT_OK)
				return false;
		}
	}
	st = at_builder_finish(&F.env, &b, j);
	if (st != AT_OK)
	{
		fz_check_failure(&F, st, "at_builder_finish");
		FZ_CHECK(((flags & 0x20) && st == AT_EDUPLICATE) || fz_resource_status(st),
				 "builder_finish: status %d: %s", (int) st, F.err.message);
		return false;
	}
	return true;
}

/* Attach a context; false when the journey is not usable. */
static bool
make_context(fz_reader *r, uint32_t flags, at_journey *j)
{
	at_context	c;
	at_stage	stages[4];
	int64_t		lookback;
	uint32_t	lb,
				ns;
	at_journey	out;
	at_status	st;

	memset(&c, 0, sizeof(c));
	c.outcome = (uint8_t) (1 + fz_u8(r) % 3);
	c.has = (uint8_t) (fz_u8(r) & 0x0f);
	c.created_at = clamp_time(T_BASE + (int16_t) fz_u16(r) * T_HOUR);
	c.closed_at = clamp_time(T_BASE + (int16_t) fz_u16(r) * T_HOUR);
	c.lead_created_at = clamp_time(T_BASE + (int16_t) fz_u16(r) * T_HOUR);
	c.as_of = clamp_time(T_BASE + (int16_t) fz_u16(r) * T_HOUR);
	for (int k = 0; k < 4; k++)
		if (!(c.has & (1 << k)))
			*(k == 0 ? &c.created_at : k == 1 ? &c.closed_at :
			  k == 2 ? &c.lead_created_at : &c.as_of) = 0;
	lb = fz_u8(r);
	lookback = lb == 0 ? -1 : lb == 255 ? 0 : lb == 254 ? INT64_MAX : (int64_t) lb * 24 * T_HOUR;
	ns = fz_u8(r) % 5;
	c.stages = stages;
	for (uint32_t k = 0; k < ns; k++)
	{
		const char *name = stage_names[fz_u8(r) % 5];
		int64_t		at = clamp_time(T_BASE + (int16_t) fz_u16(r) * T_HOUR);
		bool		dup = false;

		for (uint32_t e = 0; e < c.nstages; e++)
			dup = dup || strcmp(stages[e].name.p, name) == 0;
		if (dup)
			continue;
		stages[c.nstages].name.p = name;
		stages[c.nstages].name.len = (uint32_t) strlen(name);
		stages[c.nstages].at = at;
		c.nstages++;
	}

	if ((flags & 3) == 2)
	{
		/* as stored: the context as given, no window cut, validated by decode */
		uint8_t    *bytes;
		size_t		len;

		j->has_context = true;
		j->ctx = c;
		st = at_journey_encode(&F.env, j, &bytes, &len);
		FZ_CHECK(st == AT_OK || fz_resource_status(st), "encode: %s", F.err.message);
		if (st != AT_OK)
			return false;
		st = at_journey_decode(&F.env, bytes, len, &out);
		FZ_CHECK(st == AT_OK || fz_resource_status(st),
				 "a journey with a valid context does not decode: %s", F.err.message);
		if (st != AT_OK)
			return false;
	}
	else
	{
		st = at_journey_with_context(&F.env, j, &c, lookback, &out);
		FZ_CHECK(st == AT_OK || fz_resource_status(st), "with_context: %s", F.err.message);
		if (st != AT_OK)
			return false;
	}
	*j = out;
	return true;
}

/* positions compare case-insensitively: "lt" is "LT", "stage:mql" "stage:MQL" */
static uint32_t
canonical_position(uint32_t p)
{
	return p == 9 ? 4 : p == 8 ? 6 : p;
}

/* A model's options as JSON text: generated, mostly valid, or raw bytes. */
static void
make_options(fz_reader *r, uint32_t flags, at_model_id m, text *t)
{
	const at_model_info *info = at_model_catalog(m);
	uint32_t	bits,
				ex,
				di,
				hl,
				nw;
	const char *sep = "";

	t->len = 0;
	t->buf[0] = '\0';
	if (flags & 0x04)
	{
		uint32_t	n = fz_u8(r);

		while (n-- > 0 && r->left > 0 && t->len < sizeof(t->buf) - 1)
			t->buf[t->len++] = (char) fz_u8(r);
		t->buf[t->len] = '\0';
		return;
	}
	bits = fz_u8(r);
	ex = fz_u8(r);
	di = fz_u8(r);
	hl = fz_u8(r) % 10;
	nw = 1 + fz_u8(r) % 8;
	put(t, "{");
	if ((bits & 0x01) && (info->options & AT_OPT_EXCLUDE))
	{
		put(t, "%s\"exclude_channels\": [", sep);
		sep = "";
		for (int k = 0; k < 8; k++)
			if (ex & (1u << k))
			{
				put(t, "%s\"%s\"", sep, channel_names[k]);
				sep = ", ";
			}
		put(t, "]");
		sep = ", ";
	}
	if ((bits & 0x02) && (info->options & AT_OPT_COLLAPSE))
	{
		put(t, "%s\"collapse_repeats\": %s", sep, (bits & 0x20) ? "true" : "false");
		sep = ", ";
	}
	if ((bits & 0x04) && (info->options & AT_OPT_DIRECT))
	{
		const char *s2 = "";

		put(t, "%s\"direct_channels\": [", sep);
		for (int k = 0; k < 8; k++)
			if (di & (1u << k))
			{
				put(t, "%s\"%s\"", s2, channel_names[k]);
				s2 = ", ";
			}
		put(t, "]");
		sep = ", ";
	}
	if ((bits & 0x08) && (info->options & AT_OPT_HALF_LIFE))
	{
		put(t, "%s\"half_life\": %s", sep, half_lives[hl]);
		sep = ", ";
	}
	if ((bits & 0x10) && (info->options & AT_OPT_NORMALIZE))
	{
		put(t, "%s\"normalize\": %s", sep, (bits & 0x40) ? "true" : "false");
		sep = ", ";
	}
	if (info->options & AT_OPT_WEIGHTS)
	{
		uint32_t	pos[8],
					wb[8],
					total = 0,
					used = 0;
		const char *s2 = "";

		for (uint32_t k = 0; k < nw; k++)
		{
			uint32_t	p = fz_u8(r) % 10;
			bool		dup = false;

			for (uint32_t e = 0; e < used; e++)
				dup = dup || canonical_position(pos[e]) == canonical_position(p);
			wb[used] = fz_u8(r) % 8;
			if (dup)
				continue;
			pos[used] = p;
			total += wb[used];
			used++;
		}
		put(t, "%s\"weights\": {", sep);
		for (uint32_t e = 0; e < used; e++)
		{
			double		w = total ? (double) wb[e] / total : (e == 0 ? 1.0 : 0.0);

			put(t, "%s\"%s\": %.17g", s2, position_names[pos[e]], w);
			s2 = ", ";
		}
		put(t, "}");
		sep = ", ";
	}
	if (bits & 0x80)
		put(t, "%s\"half_life\": 3", sep);	/* often not an option of the model */
	put(t, "}");
}

/* An amount; false when its text is rejected (raw text only). */
static bool
make_amount(fz_reader *r, uint32_t flags, at_amount *a)
{
	text		t;
	int32_t		scale;
	at_status	st;

	t.len = 0;
	if (flags & 0x10)
	{
		uint32_t	n;

		scale = (int32_t) (fz_u8(r) % 24);
		n = fz_u8(r);
		while (n-- > 0 && r->left > 0)
			t.buf[t.len++] = (char) fz_u8(r);
		st = at_amount_parse(&F.env, t.buf, t.len, scale, a);
		if (st != AT_OK)
		{
			fz_check_failure(&F, st, "at_amount_parse");
			return false;
		}
	}
	else
	{
		uint32_t	s = fz_u8(r);
		uint32_t	ni = fz_u8(r) % 80;
		uint32_t	nf = fz_u8(r) % 40;

		scale = (s & 0x40) ? (int32_t) ((s & 0x3f) * 16) : (int32_t) ((s & 0x3f) % 10);
		if (scale > AT_MAX_SCALE)
			scale = AT_MAX_SCALE;
		if (s & 0x80)
			put(&t, "-");
		for (uint32_t i = 0; i < ni; i++)
			put(&t, "%u", fz_u8(r) % 10);
		if (ni == 0)
			put(&t, "0");
		if (nf > 0)
		{
			put(&t, ".");
			for (uint32_t i = 0; i < nf; i++)
				put(&t, "%u", fz_u8(r) % 10);
		}
		st = at_amount_parse(&F.env, t.buf, t.len, scale, a);
		FZ_CHECK(st == AT_OK, "amount \"%s\" at scale %d rejected: %s", t.buf, (int) scale,
				 F.err.message);
	}
	fz_check_amount(a, "parsed amount");
	FZ_CHECK(a->scale == scale, "parsed amount has scale %d, asked %d", (int) a->scale, (int) scale);
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_reader	r = {data, size};
	at_model_id m;
	uint32_t	flags;
	long		cancel;
	at_journey	j;
	text		opt;
	at_options	o;
	at_amount	a;
	double	   *w = NULL;
	uint32_t   *pos = NULL;
	uint64_t   *q = NULL;
	bool		exact = false;
	at_amount  *credit = NULL;
	uint32_t	credited;
	bool		additive;
	at_status	st;

	if (!initialized)
	{
		fz_init(&F);
		initialized = 1;
	}
	m = (at_model_id) (fz_u8(&r) % AT_M_NMODELS);
	flags = fz_u8(&r);
	cancel = (flags & 0x08) ? (long) fz_u8(&r) : -1;

	if (!make_touches(&r, flags, &j))
		goto done;
	if ((flags & 3) != 0 && !make_context(&r, flags, &j))
		goto done;
	make_options(&r, flags, m, &opt);
	st = at_options_parse(&F.env, m, opt.buf, opt.len, &o);
	if (st != AT_OK)
	{
		fz_check_failure(&F, st, "at_options_parse");
		goto done;
	}
	if (!make_amount(&r, flags, &a))
		goto done;

	w = malloc(sizeof(double) * (j.ntouches ? j.ntouches : 1));
	pos = malloc(sizeof(uint32_t) * (j.ntouches ? j.ntouches : 1));
	credit = calloc(j.ntouches ? j.ntouches : 1, sizeof(at_amount));
	FZ_CHECK(w && pos && credit, "out of memory");

	F.cancel_after = cancel;
	q = malloc(sizeof(uint64_t) * (j.ntouches ? j.ntouches : 1));
	FZ_CHECK(q != NULL, "out of memory");
	st = at_weights_exact(&F.env, &j, &o, w, q, &exact, pos, &credited);
	if (st != AT_OK)
	{
		fz_check_failure(&F, st, "at_weights");
		FZ_CHECK(fz_resource_status(st) && (st != AT_ECANCELED || cancel >= 0),
				 "at_weights failed on valid input (model %s, options %s): status %d: %s",
				 at_model_catalog(m)->name, opt.buf, (int) st, F.err.message);
		goto done;
	}

	additive = at_model_catalog(m)->additive && !(m == AT_M_TIME_DECAY && !o.normalize);
	{
		double		sum = 0;

		FZ_CHECK(credited <= j.ntouches, "%u credited of %u touches", credited, j.ntouches);
		for (uint32_t i = 0; i < j.ntouches; i++)
		{
			FZ_CHECK(isfinite(w[i]) && w[i] >= 0, "model %s: weight %u is %.17g (options %s)",
					 at_model_catalog(m)->name, i, w[i], opt.buf);
			FZ_CHECK(credited > 0 || w[i] == 0, "weight %u is %g with nothing credited", i, w[i]);
			FZ_CHECK(additive || w[i] <= 1, "non-additive weight %u is %.17g", i, w[i]);
			sum += w[i];
		}
		if (additive && credited > 0)
			FZ_CHECK(fabs(sum - 1) <= 1e-9 + 64 * DBL_EPSILON * j.ntouches,
					 "model %s: %u weights sum to %.17g (options %s)",
					 at_model_catalog(m)->name, j.ntouches, sum, opt.buf);
		/* exact integer weights, when given, are the same weights */
		FZ_CHECK(!exact || (additive && credited > 0), "exact weights for model %s",
				 at_model_catalog(m)->name);
		if (exact)
		{
			long double qs = 0;

			for (uint32_t i = 0; i < j.ntouches; i++)
				qs += (long double) q[i];
			FZ_CHECK(qs > 0 && qs < 18446744073709551616.0L, "exact weights sum to %Lg", qs);
			for (uint32_t i = 0; i < j.ntouches; i++)
				FZ_CHECK(fabsl((long double) q[i] / qs - w[i]) <= 1e-12L &&
						 (q[i] == 0) == (w[i] == 0),
						 "model %s: touch %u exact weight %llu / %Lg, double %.17g (options %s)",
						 at_model_catalog(m)->name, i, (unsigned long long) q[i], qs, w[i], opt.buf);
		}
	}
	if (credited == 0)
		goto done;

	if (additive)
	{
		st = exact ? at_amount_split_exact(&F.env, &a, q, j.ntouches, credit)
			: at_amount_split(&F.env, &a, w, j.ntouches, credit);
		if (st != AT_OK)
		{
			fz_check_failure(&F, st, "at_amount_split");
			FZ_CHECK(fz_resource_status(st) && (st != AT_ECANCELED || cancel >= 0),
					 "split failed on valid weights: status %d: %s", (int) st, F.err.message);
			goto done;
		}
		fz_check_split_sum(&a, credit, j.ntouches);
		for (uint32_t i = 0; i < j.ntouches; i++)
			FZ_CHECK(w[i] > 0 || credit[i].nlimbs == 0, "touch %u of weight 0 got money", i);
	}
	else
	{
		for (uint32_t i = 0; i < j.ntouches; i++)
		{
			st = at_amount_scale(&F.env, &a, w[i], &credit[i]);
			if (st != AT_OK)
			{
				fz_check_failure(&F, st, "at_amount_scale");
				FZ_CHECK(fz_resource_status(st), "scale failed on weight %.17g: %s", w[i],
						 F.err.message);
				goto done;
			}
			fz_check_amount(&credit[i], "scaled credit");
			FZ_CHECK(credit[i].scale == a.scale, "scaled credit has scale %d, amount %d",
					 (int) credit[i].scale, (int) a.scale);
			FZ_CHECK(credit[i].nlimbs == 0 || credit[i].negative == a.negative,
					 "scaled credit has the wrong sign");
			FZ_CHECK(fz_cmp_mag(credit[i].limbs, credit[i].nlimbs, a.limbs, a.nlimbs) <= 0,
					 "credit of weight %.17g exceeds the amount", w[i]);
			if (w[i] == 1)
				FZ_CHECK(fz_cmp_mag(credit[i].limbs, credit[i].nlimbs, a.limbs, a.nlimbs) == 0,
						 "weight 1 is not credited the whole amount");
			if (w[i] == 0)
				FZ_CHECK(credit[i].nlimbs == 0, "weight 0 credited money");
		}
	}

done:
	free(w);
	free(q);
	free(pos);
	free(credit);
	F.cancel_after = -1;
	fz_reset(&F);
	return 0;
}
