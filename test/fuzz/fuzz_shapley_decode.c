/*
 * fuzz_shapley_decode.c — libFuzzer target: the byte form of
 * attrib.shapley_model (storage, shapley_model_recv,
 * attrib.shapley_model_from_bytea, and what shapley_merge adds up).
 *
 * Any bytes go to at_shapley_decode.  A rejection must be AT_ECORRUPT (or a
 * resource status) with a message.  Anything accepted must:
 *   - re-encode to exactly the input (the byte form is canonical);
 *   - print as text that parses back to the same bytes and prints identically;
 *   - add into an empty fit (shapley_merge) and snapshot to the same bytes;
 *     added twice, give a model that encodes and decodes (or a count overflow);
 *   - have a consistent summary (shapley_info): totals are the sums over the
 *     channel sets, conversions <= journeys;
 *   - give a channel table (shapley_channels): values finite, shares finite,
 *     >= 0, summing to 1 or all 0;
 *   - give Shapley values that are efficient (they add up to v(N) - v(empty))
 *     and equal whichever way the subsets are found (enumerated or scanned);
 *   - credit small journeys over its channels (and one it never saw) under the
 *     option variants: weights finite, >= 0, summing to 1, removed touches 0,
 *     and every amount split exactly (fuzz_dd.h).
 * Inputs whose checksum is wrong are also run resealed (fuzz_dd.h).
 */
#include "fuzz_dd.h"

static fz_env F;
static int	initialized;

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_info(const at_shapley_counts *c)
{
	uint64_t	j = 0,
				cv = 0;

	FZ_CHECK(c->ncoalitions >= 1, "no channel set");
	for (uint32_t k = 0; k < c->ncoalitions; k++)
	{
		FZ_CHECK(c->off[k] <= c->off[k + 1], "coalition offsets");
		FZ_CHECK(c->journeys[k] >= 1 && c->conversions[k] <= c->journeys[k],
				 "channel set %u counts", k);
		j += c->journeys[k];
		cv += c->conversions[k];
	}
	FZ_CHECK(j == c->total_journeys && cv == c->total_conversions,
			 "totals %llu/%llu are not the sums %llu/%llu",
			 (unsigned long long) c->total_journeys, (unsigned long long) c->total_conversions,
			 (unsigned long long) j, (unsigned long long) cv);
}

static bool
check_channels(const at_shapley_counts *c, at_shapley_model *m)
{
	double	   *value = malloc(sizeof(double) * (c->nchannels + 1));
	double	   *share = malloc(sizeof(double) * (c->nchannels + 1));
	double		sum = 0;
	at_status	st;

	FZ_CHECK(value != NULL && share != NULL, "out of memory");
	st = at_shapley_prepare(&F.env, c, m);
	FZ_CHECK(st == AT_OK || fz_resource_status(st), "prepare: %s", F.err.message);
	if (st == AT_OK)
	{
		st = at_shapley_channels(&F.env, m, value, share);
		FZ_CHECK(st == AT_OK || fz_resource_status(st), "a valid model has no channel table: %s",
				 F.err.message);
	}
	if (st == AT_OK)
	{
		for (uint32_t ch = 0; ch < c->nchannels; ch++)
		{
			FZ_CHECK(isfinite(value[ch]), "value %u is %.17g", ch, value[ch]);
			FZ_CHECK(isfinite(share[ch]) && share[ch] >= 0 && share[ch] <= 1,
					 "share %u is %.17g", ch, share[ch]);
			FZ_CHECK(value[ch] > 0 || share[ch] == 0, "channel %u of value %.17g has share %.17g",
					 ch, value[ch], share[ch]);
			sum += share[ch];
		}
		FZ_CHECK(sum == 0 || fabs(sum - 1) <= 1e-9, "shares sum to %.17g", sum);
	}
	free(value);
	free(share);
	return st == AT_OK;
}

/* v of the coalition with exactly these (ascending) channels, 0 if unobserved */
static double
v_of(const at_shapley_counts *c, const uint32_t *set, uint32_t n)
{
	for (uint32_t k = 0; k < c->ncoalitions; k++)
		if (c->off[k + 1] - c->off[k] == n &&
			(n == 0 || memcmp(c->members + c->off[k], set, sizeof(uint32_t) * n) == 0))
			return (double) c->conversions[k] / (double) c->journeys[k];
	return 0;
}

/*
 * Efficiency on N = the first up to 12 channels (+ nunseen unseen ones):
 * sum phi = v(N) - v(empty); and the enumerating and scanning strategies agree.
 */
static void
check_values(const at_shapley_counts *c, const at_shapley_model *m, uint32_t nunseen)
{
	uint32_t	n = c->nchannels < 12 ? c->nchannels : 12,
				ids[12];
	double		phi[12],
				phi2[12],
				unseen,
				unseen2,
				sum = 0,
				vmax = m->v_empty,
				want;
	at_status	st;

	for (uint32_t i = 0; i < n; i++)
		ids[i] = i;
	st = at_shapley_values(&F.env, m, ids, n, nunseen, phi, &unseen);
	FZ_CHECK(st == AT_OK || fz_resource_status(st), "values: %s", F.err.message);
	if (st != AT_OK)
		return;
	for (uint32_t k = 0; k < c->ncoalitions; k++)
	{
		double		v = (double) c->conversions[k] / (double) c->journeys[k];

		if (v > vmax)
			vmax = v;
	}
	for (uint32_t i = 0; i < n; i++)
	{
		FZ_CHECK(isfinite(phi[i]), "phi %u is %.17g", i, phi[i]);
		sum += phi[i];
	}
	FZ_CHECK(isfinite(unseen) && unseen <= 0, "an unseen channel's value is %.17g", unseen);
	sum += nunseen * unseen;
	want = (nunseen == 0 ? v_of(c, ids, n) : 0) - m->v_empty;
	FZ_CHECK(fabs(sum - want) <= 1e-9 * (vmax > 0 ? vmax : 1),
			 "Shapley values over %u + %u channels sum to %.17g, not v(N) - v(empty) = %.17g",
			 n, nunseen, sum, want);
	for (int mode = 1; mode <= 2; mode++)
	{
		st = dd_shapley_values_mode(&F.env, m, ids, n, nunseen, phi2, &unseen2, mode);
		FZ_CHECK(st == AT_OK || fz_resource_status(st), "values mode %d: %s", mode,
				 F.err.message);
		if (st != AT_OK)
			return;
		for (uint32_t i = 0; i < n; i++)
			FZ_CHECK(fabs(phi[i] - phi2[i]) <= 1e-12 * (vmax > 0 ? vmax : 1),
					 "phi %u: %.17g, mode %d %.17g", i, phi[i], mode, phi2[i]);
		FZ_CHECK(fabs(unseen - unseen2) <= 1e-12 * (vmax > 0 ? vmax : 1), "unseen phi differs");
	}
}

static void
check_credits(const at_shapley_counts *c, const at_shapley_model *m, const uint8_t *data,
			  size_t size)
{
	uint64_t	rng = fdd_hash(data, size);

	for (int kind = 0; kind < 3; kind++)
	{
		at_journey	j;

		if (!fdd_journey(&F, c->channels, c->nchannels, kind, &rng, &j))
			return;
		for (int v = 0; v < 4; v++)
		{
			at_options	opt;
			double	   *w = malloc(sizeof(double) * (j.ntouches ? j.ntouches : 1));
			uint32_t   *pos = malloc(sizeof(uint32_t) * (j.ntouches ? j.ntouches : 1));
			uint32_t	credited = 0;
			at_status	st;

			FZ_CHECK(w != NULL && pos != NULL, "out of memory");
			if (fdd_options(&F, "shapley", v, &j, &opt))
			{
				st = at_shapley_touch_weights(&F.env, m, &j, &opt, w, pos, &credited);
				FZ_CHECK(st == AT_OK || fz_resource_status(st),
						 "shapley weights of a valid journey fail: %s", F.err.message);
				if (st == AT_OK)
				{
					fdd_check_weights(&F, "shapley", &j, w, pos, credited);
					fdd_check_kept(&F, "shapley", &j, &opt, w);
				}
			}
			free(w);
			free(pos);
		}
	}
}

static void
one_input(const uint8_t *data, size_t size)
{
	at_shapley_counts c,
				k,
				d;
	at_shapley_fit *fit;
	at_shapley_model m;
	uint8_t    *out;
	size_t		len;
	char	   *text,
			   *text2;
	size_t		tlen,
				tlen2;
	at_status	st;

	st = at_shapley_decode(&F.env, data, size, &c);
	if (st != AT_OK)
	{
		fz_check_failure(&F, st, "at_shapley_decode");
		FZ_CHECK(st == AT_ECORRUPT || fz_resource_status(st),
				 "decode failed with status %d (not corrupt): %s", (int) st, F.err.message);
		goto done;
	}

	/* bytes -> bytes */
	st = at_shapley_encode(&F.env, &c, &out, &len);
	FZ_CHECK(st == AT_OK, "a decoded shapley model does not encode: %s", F.err.message);
	FZ_CHECK(len == size && memcmp(out, data, size) == 0,
			 "decode accepted %zu bytes that re-encode differently (%zu bytes)", size, len);

	/* bytes -> text -> bytes, and text -> bytes -> text */
	st = at_shapley_to_text(&F.env, &c, &text, &tlen);
	FZ_CHECK(st == AT_OK, "a decoded shapley model does not print: %s", F.err.message);
	FZ_CHECK(strlen(text) == tlen, "the text has a NUL byte or a wrong length");
	st = at_shapley_from_text(&F.env, text, tlen, &k);
	FZ_CHECK(st == AT_OK, "the text of a decoded shapley model does not parse: %s\n%s",
			 F.err.message, text);
	st = at_shapley_encode(&F.env, &k, &out, &len);
	FZ_CHECK(st == AT_OK, "encode after the text round trip failed: %s", F.err.message);
	FZ_CHECK(len == size && memcmp(out, data, size) == 0,
			 "bytes -> text -> bytes changed the model:\n%s", text);
	st = at_shapley_to_text(&F.env, &k, &text2, &tlen2);
	FZ_CHECK(st == AT_OK && tlen2 == tlen && memcmp(text, text2, tlen) == 0,
			 "text -> model -> text changed the text:\n%s", text);

	/* shapley_merge: into an empty fit, then once more */
	st = at_shapley_fit_create(&F.env, &fit);
	FZ_CHECK(st == AT_OK || fz_resource_status(st), "fit_create: %s", F.err.message);
	if (st == AT_OK)
	{
		st = at_shapley_fit_add_counts(&F.env, fit, &c);
		FZ_CHECK(st == AT_OK || fz_resource_status(st), "add_counts: %s", F.err.message);
		if (st == AT_OK)
			st = at_shapley_fit_counts(&F.env, fit, &d);
		if (st == AT_OK)
			st = at_shapley_encode(&F.env, &d, &out, &len);
		FZ_CHECK(st == AT_OK || fz_resource_status(st), "merge snapshot: %s", F.err.message);
		if (st == AT_OK)
			FZ_CHECK(len == size && memcmp(out, data, size) == 0,
					 "a model merged into an empty fit changed (%zu vs %zu bytes)", len, size);
		if (st == AT_OK)
		{
			st = at_shapley_fit_add_counts(&F.env, fit, &c);
			if (st != AT_OK)
			{
				fz_check_failure(&F, st, "at_shapley_fit_add_counts");
				FZ_CHECK(fz_resource_status(st), "adding a model to itself: %s", F.err.message);
			}
			else
			{
				st = at_shapley_fit_counts(&F.env, fit, &d);
				if (st == AT_OK)
					st = at_shapley_encode(&F.env, &d, &out, &len);
				FZ_CHECK(st == AT_OK || fz_resource_status(st), "doubled snapshot: %s",
						 F.err.message);
				if (st == AT_OK)
				{
					st = at_shapley_decode(&F.env, out, len, &d);
					FZ_CHECK(st == AT_OK || fz_resource_status(st),
							 "a model added to itself does not decode: %s", F.err.message);
					if (st == AT_OK)
						FZ_CHECK(d.total_journeys == 2 * c.total_journeys &&
								 d.total_conversions == 2 * c.total_conversions,
								 "a model added to itself does not double");
				}
			}
		}
	}

	check_info(&c);
	if (check_channels(&c, &m))
	{
		check_values(&c, &m, 0);
		check_values(&c, &m, 2);
		check_credits(&c, &m, data, size);
	}

done:
	fz_reset(&F);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!initialized)
	{
		fz_init(&F);
		initialized = 1;
	}
	one_input(data, size);
	fdd_resealed(data, size, one_input);
	return 0;
}
