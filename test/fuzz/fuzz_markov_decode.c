/*
 * fuzz_markov_decode.c — libFuzzer target: the byte form of attrib.markov_model
 * (storage, markov_model_recv, attrib.markov_model_from_bytea, and what
 * markov_merge adds up).
 *
 * Any bytes go to at_markov_decode.  A rejection must be AT_ECORRUPT (or a
 * resource status) with a message.  Anything accepted must:
 *   - re-encode to exactly the input (the byte form is canonical);
 *   - print as text that parses back to the same bytes and prints identically;
 *   - add into an empty fit (markov_merge) and snapshot to the same bytes; added
 *     twice, give a model that encodes and decodes (or a count overflow);
 *   - have a consistent summary (markov_info): order 1..4, conversions <=
 *     journeys, P(conversion) from the solver equal to conversions / journeys;
 *   - solve (markov_channels): removal effects in [0, 1], weights finite, >= 0,
 *     summing to 1 or all 0;
 *   - credit small journeys over its channels (and one it never saw) under the
 *     option variants: weights finite, >= 0, summing to 1, removed touches 0,
 *     and every amount split exactly (fuzz_dd.h).
 *
 * The byte form carries a checksum, which nearly every mutation breaks; so an
 * input whose checksum is wrong is also decoded a second time with the
 * checksum recomputed (a resealed copy), and the copy goes through the same
 * checks.  The checksum-rejection path still sees the input as it is.
 */
#include "fuzz_dd.h"

static fz_env F;
static int	initialized;

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_info(const at_markov_counts *c)
{
	uint64_t	start = 0,
				conv = 0;

	FZ_CHECK(c->order >= 1 && c->order <= AT_MARKOV_MAX_ORDER, "order %u", c->order);
	FZ_CHECK(c->journeys >= 1 && c->conversions <= c->journeys,
			 "%llu journeys, %llu conversions", (unsigned long long) c->journeys,
			 (unsigned long long) c->conversions);
	for (uint32_t i = 0; i < c->ntrans; i++)
	{
		if (c->trans[i].from == 0)
			start += c->trans[i].count;
		if (c->trans[i].to == c->nstates + 1)
			conv += c->trans[i].count;
	}
	FZ_CHECK(start == c->journeys && conv == c->conversions,
			 "journeys/conversions %llu/%llu are not the transitions' %llu/%llu",
			 (unsigned long long) c->journeys, (unsigned long long) c->conversions,
			 (unsigned long long) start, (unsigned long long) conv);
	for (uint32_t ch = 0; ch < c->nchannels; ch++)
		FZ_CHECK(c->ch_journeys[ch] >= 1 && c->ch_conversions[ch] <= c->ch_journeys[ch] &&
				 c->ch_journeys[ch] <= c->journeys && c->ch_conversions[ch] <= c->conversions,
				 "channel %u statistics", ch);
}

static void
check_model(const at_markov_counts *c, at_markov_model *m)
{
	double		sum = 0,
				p,
				ref;
	at_status	st;

	st = at_markov_solve(&F.env, c, m);
	FZ_CHECK(st == AT_OK || fz_resource_status(st), "a valid model does not solve (%d): %s",
			 (int) st, F.err.message);
	if (st != AT_OK)
	{
		fz_check_failure(&F, st, "at_markov_solve");
		m->counts = NULL;
		return;
	}
	ref = (double) c->conversions / (double) c->journeys;
	FZ_CHECK(m->p_conversion == ref, "p_conversion %.17g, conversions / journeys %.17g",
			 m->p_conversion, ref);
	for (uint32_t ch = 0; ch < c->nchannels; ch++)
	{
		FZ_CHECK(m->removal_effect[ch] >= 0 && m->removal_effect[ch] <= 1,
				 "removal effect %u is %.17g", ch, m->removal_effect[ch]);
		FZ_CHECK(isfinite(m->weight[ch]) && m->weight[ch] >= 0, "channel weight %u is %.17g",
				 ch, m->weight[ch]);
		sum += m->weight[ch];
	}
	FZ_CHECK(sum == 0 || fabs(sum - 1) <= 1e-9, "channel weights sum to %.17g", sum);
	FZ_CHECK(c->conversions > 0 || sum == 0, "no conversion but channel weights");

	/* the fitted chain itself converts with probability conversions / journeys */
	st = at_markov_probability(&F.env, c, -1, &p, NULL);
	FZ_CHECK(st == AT_OK || fz_resource_status(st), "probability: %s", F.err.message);
	if (st == AT_OK)
		FZ_CHECK(fabs(p - ref) <= 1e-9 * ref, "P(conversion) %.17g, conversions / journeys %.17g",
				 p, ref);
}

static void
check_credits(const at_markov_counts *c, const at_markov_model *m, const uint8_t *data,
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
			if (fdd_options(&F, "markov", v, &j, &opt))
			{
				st = at_markov_touch_weights(&F.env, m, &j, &opt, w, pos, &credited);
				FZ_CHECK(st == AT_OK || fz_resource_status(st),
						 "markov weights of a valid journey fail: %s", F.err.message);
				if (st == AT_OK)
				{
					fdd_check_weights(&F, "markov", &j, w, pos, credited);
					fdd_check_kept(&F, "markov", &j, &opt, w);
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
	at_markov_counts c,
				k,
				d;
	at_markov_fit *fit;
	at_markov_model m;
	uint8_t    *out;
	size_t		len;
	char	   *text,
			   *text2;
	size_t		tlen,
				tlen2;
	at_status	st;

	st = at_markov_decode(&F.env, data, size, &c);
	if (st != AT_OK)
	{
		fz_check_failure(&F, st, "at_markov_decode");
		FZ_CHECK(st == AT_ECORRUPT || fz_resource_status(st),
				 "decode failed with status %d (not corrupt): %s", (int) st, F.err.message);
		goto done;
	}

	/* bytes -> bytes */
	st = at_markov_encode(&F.env, &c, &out, &len);
	FZ_CHECK(st == AT_OK, "a decoded markov model does not encode: %s", F.err.message);
	FZ_CHECK(len == size && memcmp(out, data, size) == 0,
			 "decode accepted %zu bytes that re-encode differently (%zu bytes)", size, len);

	/* bytes -> text -> bytes, and text -> bytes -> text */
	st = at_markov_to_text(&F.env, &c, &text, &tlen);
	FZ_CHECK(st == AT_OK, "a decoded markov model does not print: %s", F.err.message);
	FZ_CHECK(strlen(text) == tlen, "the text has a NUL byte or a wrong length");
	st = at_markov_from_text(&F.env, text, tlen, &k);
	FZ_CHECK(st == AT_OK, "the text of a decoded markov model does not parse: %s\n%s",
			 F.err.message, text);
	st = at_markov_encode(&F.env, &k, &out, &len);
	FZ_CHECK(st == AT_OK, "encode after the text round trip failed: %s", F.err.message);
	FZ_CHECK(len == size && memcmp(out, data, size) == 0,
			 "bytes -> text -> bytes changed the model:\n%s", text);
	st = at_markov_to_text(&F.env, &k, &text2, &tlen2);
	FZ_CHECK(st == AT_OK && tlen2 == tlen && memcmp(text, text2, tlen) == 0,
			 "text -> model -> text changed the text:\n%s", text);

	/* markov_merge: into an empty fit, then once more */
	st = at_markov_fit_create(&F.env, c.order, &fit);
	FZ_CHECK(st == AT_OK || fz_resource_status(st), "fit_create: %s", F.err.message);
	if (st == AT_OK)
	{
		st = at_markov_fit_add_counts(&F.env, fit, &c);
		FZ_CHECK(st == AT_OK || fz_resource_status(st), "add_counts: %s", F.err.message);
		if (st == AT_OK)
			st = at_markov_fit_counts(&F.env, fit, &d);
		if (st == AT_OK)
			st = at_markov_encode(&F.env, &d, &out, &len);
		FZ_CHECK(st == AT_OK || fz_resource_status(st), "merge snapshot: %s", F.err.message);
		if (st == AT_OK)
			FZ_CHECK(len == size && memcmp(out, data, size) == 0,
					 "a model merged into an empty fit changed (%zu vs %zu bytes)", len, size);
		if (st == AT_OK)
		{
			st = at_markov_fit_add_counts(&F.env, fit, &c);
			if (st != AT_OK)
			{
				fz_check_failure(&F, st, "at_markov_fit_add_counts");
				FZ_CHECK(fz_resource_status(st), "adding a model to itself: %s", F.err.message);
			}
			else
			{
				st = at_markov_fit_counts(&F.env, fit, &d);
				if (st == AT_OK)
					st = at_markov_encode(&F.env, &d, &out, &len);
				FZ_CHECK(st == AT_OK || fz_resource_status(st), "doubled snapshot: %s",
						 F.err.message);
				if (st == AT_OK)
				{
					st = at_markov_decode(&F.env, out, len, &d);
					FZ_CHECK(st == AT_OK || fz_resource_status(st),
							 "a model added to itself does not decode: %s", F.err.message);
					if (st == AT_OK)
						FZ_CHECK(d.journeys == 2 * c.journeys &&
								 d.conversions == 2 * c.conversions,
								 "a model added to itself does not double");
				}
			}
		}
	}

	check_info(&c);
	check_model(&c, &m);
	if (m.counts != NULL)
		check_credits(&c, &m, data, size);

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
