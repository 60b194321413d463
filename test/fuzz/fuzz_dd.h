/*
 * fuzz_dd.h — what the fuzz targets of the data-driven models share
 * (fuzz_markov_decode.c, fuzz_shapley_decode.c, fuzz_dd_text.c): small
 * journeys built over a decoded model's own channels (plus one it never saw),
 * the option variants credits() takes (defaults, collapse_repeats,
 * exclude_channels), and the check of the per-touch weights and of the exact
 * money split a credits() call makes of them.
 *
 * Both data-driven models are additive: on a journey with a credited touch the
 * weights are finite, >= 0 and sum to 1 (within 1e-9), a touch removed by the
 * options gets 0, and the split of any amount sums to it exactly, every part
 * of its sign and scale.
 */
#ifndef ATTRIB_FUZZ_DD_H
#define ATTRIB_FUZZ_DD_H

#include "fuzz_common.h"
#include "datadriven.h"
#include "dd_internal.h"			/* dd_checksum: reseal mutated inputs */

/*
 * The byte forms carry a checksum (bytes 16..23, over everything else), which
 * nearly every mutation breaks.  When the input's is wrong, run the target
 * once more on a copy with the right one, so that mutations reach the
 * decoder's other checks; the input itself still exercises the mismatch.
 */
static void
fdd_resealed(const uint8_t *data, size_t size, void (*run) (const uint8_t *, size_t))
{
	uint8_t    *copy;
	uint64_t	sum,
				stored = 0;

	if (size < 24)
		return;
	sum = dd_checksum(data, size);
	for (int i = 0; i < 8; i++)
		stored |= (uint64_t) data[16 + i] << (8 * i);
	if (stored == sum)
		return;
	copy = malloc(size);
	FZ_CHECK(copy != NULL, "out of memory");
	memcpy(copy, data, size);
	for (int i = 0; i < 8; i++)
		copy[16 + i] = (uint8_t) (sum >> (8 * i));
	run(copy, size);
	free(copy);
}

/* a deterministic PRNG seeded from the input, to vary the journeys */
static uint64_t
fdd_hash(const uint8_t *data, size_t size)
{
	uint64_t	h = 1469598103934665603u;

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211u;
	return h;
}

static uint32_t
fdd_next(uint64_t *s, uint32_t n)
{
	*s = *s * 6364136223846793005u + 1442695040888963407u;
	return (uint32_t) ((*s >> 33) % (n ? n : 1));
}

#define FDD_UNSEEN "\x7f~never seen~"
#define FDD_MAX_TOUCHES 24

/*
 * A journey over the model's channels 0..nch-1 (names given) and, for index
 * nch, a channel the model does not have.  kind 0: every channel once (the
 * first 12), then the unseen one; kind 1: a random path of 1..FDD_MAX_TOUCHES
 * touches with repeats; kind 2: one touch.  Returns false when the builder
 * fails for a resource reason.
 */
static bool
fdd_journey(fz_env *f, const at_str *names, uint32_t nch, int kind, uint64_t *rng,
			at_journey *out)
{
	at_builder	b;
	uint32_t	n,
				pick[FDD_MAX_TOUCHES];
	at_status	st;

	if (kind == 0)
	{
		n = 0;
		for (uint32_t c = 0; c < nch && n < 12; c++)
			pick[n++] = c;
		pick[n++] = nch;
	}
	else if (kind == 1)
	{
		n = 1 + fdd_next(rng, FDD_MAX_TOUCHES);
		for (uint32_t i = 0; i < n; i++)
			pick[i] = fdd_next(rng, nch + 1);
	}
	else
	{
		n = 1;
		pick[0] = fdd_next(rng, nch + 1);
	}
	at_builder_init(&b);
	for (uint32_t i = 0; i < n; i++)
	{
		char		id[16];
		const char *p = pick[i] < nch ? names[pick[i]].p : FDD_UNSEEN;
		size_t		len = pick[i] < nch ? names[pick[i]].len : strlen(FDD_UNSEEN);

		snprintf(id, sizeof(id), "t%02u", i);
		/* a touch a day; every 5th shares the previous day (ties ordered by id) */
		st = at_builder_add(&f->env, &b, id, strlen(id),
							INT64_C(757382400000000) + (int64_t) (i - i / 5) * INT64_C(86400000000),
							p, len);
		FZ_CHECK(st == AT_OK || fz_resource_status(st),
				 "a model's channel name is not a valid journey channel: %s", f->err.message);
		if (st != AT_OK)
			return false;
	}
	st = at_builder_finish(&f->env, &b, out);
	FZ_CHECK(st == AT_OK || fz_resource_status(st), "builder_finish: %s", f->err.message);
	return st == AT_OK;
}

/*
 * Option variant v of the data-driven models: 0 defaults, 1 collapse_repeats,
 * 2 exclude_channels with the journey's first channel, 3 both.
 */
static bool
fdd_options(fz_env *f, const char *model, int v, const at_journey *j, at_options *opt)
{
	at_status	st = at_dd_options_parse(&f->env, model, "{}", 2, opt);

	FZ_CHECK(st == AT_OK || fz_resource_status(st), "%s default options: %s", model,
			 f->err.message);
	if (st != AT_OK)
		return false;
	if (v & 1)
		opt->collapse_repeats = true;
	if ((v & 2) && j->nchannels > 0)
	{
		opt->nexclude = 1;
		opt->exclude = &j->channels[0];
	}
	return true;
}

/* the amounts every weight vector is split over, at their scales */
static const struct
{
	const char *text;
	int32_t		scale;
}			fdd_amounts[] = {
	{"1000.00", 2}, {"0.01", 2}, {"0.07", 2}, {"-19.99", 2}, {"99999999999.99", 2},
	{"1", 0}, {"-123456789012345678901234567890.123456789", 9},
};

/*
 * The weights of one credits() call: finite, >= 0; none credited -> all 0;
 * else they sum to 1 within 1e-9, removed touches (prepared weight 0) get 0,
 * and every amount splits exactly.
 */
static void
fdd_check_weights(fz_env *f, const char *model, const at_journey *j, const double *w,
				  const uint32_t *pos, uint32_t credited)
{
	double		sum = 0;
	uint32_t	positive = 0;

	(void) pos;
	FZ_CHECK(credited <= j->ntouches, "%s: %u credited of %u touches", model, credited,
			 j->ntouches);
	for (uint32_t i = 0; i < j->ntouches; i++)
	{
		FZ_CHECK(isfinite(w[i]) && w[i] >= 0, "%s: weight %u is %.17g", model, i, w[i]);
		sum += w[i];
		positive += w[i] > 0;
	}
	if (credited == 0)
	{
		FZ_CHECK(sum == 0, "%s: no touch credited but the weights sum to %.17g", model, sum);
		return;
	}
	FZ_CHECK(fabs(sum - 1) <= 1e-9, "%s: the weights of %u touches sum to %.17g", model,
			 j->ntouches, sum);
	FZ_CHECK(positive <= credited, "%s: %u touches weighted but %u credited", model, positive,
			 credited);
	for (size_t k = 0; k < sizeof(fdd_amounts) / sizeof(fdd_amounts[0]); k++)
	{
		at_amount	a;
		at_amount  *part = malloc(sizeof(at_amount) * (j->ntouches ? j->ntouches : 1));
		at_status	st;

		FZ_CHECK(part != NULL, "out of memory");
		st = at_amount_parse(&f->env, fdd_amounts[k].text, strlen(fdd_amounts[k].text),
							 fdd_amounts[k].scale, &a);
		FZ_CHECK(st == AT_OK || fz_resource_status(st), "amount: %s", f->err.message);
		if (st == AT_OK)
		{
			st = at_amount_split(&f->env, &a, w, j->ntouches, part);
			FZ_CHECK(st == AT_OK || fz_resource_status(st),
					 "%s: the weights do not split %s: %s", model, fdd_amounts[k].text,
					 f->err.message);
			if (st == AT_OK)
			{
				fz_check_split_sum(&a, part, j->ntouches);
				for (uint32_t i = 0; i < j->ntouches; i++)
					FZ_CHECK(w[i] > 0 || part[i].nlimbs == 0,
							 "%s: touch %u of weight 0 gets money", model, i);
			}
		}
		free(part);
	}
}

/* the touches the options keep (the linear model's preparation), for comparison */
static void
fdd_check_kept(fz_env *f, const char *model, const at_journey *j, const at_options *opt,
			   const double *w)
{
	at_options	o = *opt;
	double	   *lw = malloc(sizeof(double) * (j->ntouches ? j->ntouches : 1));
	uint32_t   *lp = malloc(sizeof(uint32_t) * (j->ntouches ? j->ntouches : 1));
	uint32_t	credited;
	at_status	st;

	FZ_CHECK(lw != NULL && lp != NULL, "out of memory");
	o.model = AT_M_LINEAR;
	st = at_weights(&f->env, j, &o, lw, lp, &credited);
	FZ_CHECK(st == AT_OK || fz_resource_status(st), "linear weights: %s", f->err.message);
	if (st == AT_OK)
		for (uint32_t i = 0; i < j->ntouches; i++)
			FZ_CHECK(lw[i] > 0 || w[i] == 0, "%s: touch %u removed by the options has weight %.17g",
					 model, i, w[i]);
	free(lw);
	free(lp);
}

#endif							/* ATTRIB_FUZZ_DD_H */
