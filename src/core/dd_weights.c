/*
 * dd_weights.c — per-touch weights of a journey under a fitted data-driven
 * model (what credits() splits the amount by), and the options these models
 * take.  A journey is prepared exactly as the rule-based models prepare it
 * (exclude_channels, then collapse_repeats), by running the linear model's
 * preparation, so positions and removed touches match every other model.
 */
#include "dd_internal.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Options                                                              */
/* ------------------------------------------------------------------ */

at_status
at_dd_options_parse(at_env *env, const char *model_name, const char *json, size_t len,
					at_options *out)
{
	at_json    *root;
	at_status	st;
	char		buf[80];

	if (json != NULL && len > 0)
	{
		if ((st = at_json_parse(env, json, len, &root)) != AT_OK)
			return st;
		if (root->kind == AT_JSON_OBJECT)
		{
			for (uint32_t i = 0; i < root->n; i++)
			{
				const at_str *k = &root->keys[i];

				if (!dd_key_is(k, "exclude_channels") && !dd_key_is(k, "collapse_repeats"))
				{
					at_fail(env, AT_EUNKNOWN_OPTION,
							dd_key_is(k, "direct_channels") || dd_key_is(k, "half_life") ||
							dd_key_is(k, "normalize") || dd_key_is(k, "weights") ||
							dd_key_is(k, "order")
							? "option \"%s\" does not apply to this model"
							: "unknown option \"%s\"",
							dd_shown(k->p, k->len, buf, sizeof(buf)));
					at_detail(env, "Model \"%s\" takes the options: exclude_channels, "
							  "collapse_repeats.", model_name);
					if (dd_key_is(k, "order"))
						return at_hint(env, "The order is part of the fitted model: pass it to "
									   "attrib.markov_fit.");
					return at_hint(env, "Fitted models take the options that prepare a journey "
								   "before its touches are weighted.");
				}
			}
		}
	}
	/* the linear model takes exactly these options (and direct_channels, excluded above) */
	return at_options_parse(env, AT_M_LINEAR, json, len, out);
}

/*
 * The touches a data-driven model weighs: those the options keep, as the rule
 * models prepare them, with their positions.  prepared[i] is true for them.
 */
static at_status
prepared_touches(at_env *env, const at_journey *j, const at_options *opt, double *weight,
				 uint32_t *pos, uint32_t *credited)
{
	at_options	o = *opt;

	o.model = AT_M_LINEAR;
	return at_weights(env, j, &o, weight, pos, credited);
}

at_status
at_markov_touch_weights(at_env *env, const at_markov_model *m, const at_journey *j,
						const at_options *opt, double *weight, uint32_t *pos,
						uint32_t *credited)
{
	const at_markov_counts *c = m->counts;
	double	   *chw,
				sum = 0;
	int64_t		last = -1;
	at_status	st;

	if ((st = prepared_touches(env, j, opt, weight, pos, credited)) != AT_OK)
		return st;
	if (*credited == 0)
		return AT_OK;
	chw = at_alloc(env, sizeof(double) * (j->nchannels ? j->nchannels : 1));
	if (chw == NULL)
		return AT_ENOMEM;
	for (uint32_t k = 0; k < j->nchannels; k++)
	{
		int64_t		id = dd_find_sorted(c->channels, c->nchannels, j->channels[k].p,
										j->channels[k].len);

		chw[k] = id < 0 ? 0 : m->weight[id];
	}
	for (uint32_t i = 0; i < j->ntouches; i++)
	{
		if (DD_POLL(env, i))
			return AT_ECANCELED;
		if (weight[i] > 0)
		{
			last = i;
			weight[i] = chw[j->touches[i].channel];
			sum += weight[i];
		}
	}
	for (uint32_t i = 0; i < j->ntouches; i++)
		weight[i] = sum > 0 ? weight[i] / sum : ((int64_t) i == last ? 1.0 : 0.0);
	return AT_OK;
}

static int
cmp_u32_value(const void *ctx, uint32_t a, uint32_t b)
{
	(void) ctx;
	return a < b ? -1 : a > b;
}

at_status
at_shapley_touch_weights(at_env *env, const at_shapley_model *m, const at_journey *j,
						 const at_options *opt, double *weight, uint32_t *pos,
						 uint32_t *credited)
{
	const at_shapley_counts *c = m->counts;
	uint32_t	nch = j->nchannels ? j->nchannels : 1;
	int64_t    *id = at_alloc(env, sizeof(int64_t) * nch);
	uint32_t   *ntouch = at_alloc(env, sizeof(uint32_t) * nch);
	uint32_t   *ids = at_alloc(env, sizeof(uint32_t) * nch);
	double	   *phi = at_alloc(env, sizeof(double) * nch);
	double	   *chw = at_alloc(env, sizeof(double) * nch);
	double		phi_unseen = 0,
				sum = 0;
	uint32_t	nseen = 0,
				nunseen = 0;
	int64_t		last = -1;
	at_status	st;

	if (id == NULL || ntouch == NULL || ids == NULL || phi == NULL || chw == NULL)
		return AT_ENOMEM;
	if ((st = prepared_touches(env, j, opt, weight, pos, credited)) != AT_OK)
		return st;
	if (*credited == 0)
		return AT_OK;
	memset(ntouch, 0, sizeof(uint32_t) * nch);
	for (uint32_t i = 0; i < j->ntouches; i++)
	{
		if (DD_POLL(env, i))
			return AT_ECANCELED;
		if (weight[i] > 0)
			ntouch[j->touches[i].channel]++;
	}
	for (uint32_t k = 0; k < j->nchannels; k++)
	{
		if (ntouch[k] == 0)
			continue;
		id[k] = dd_find_sorted(c->channels, c->nchannels, j->channels[k].p, j->channels[k].len);
		if (id[k] < 0)
			nunseen++;
		else
			ids[nseen++] = (uint32_t) id[k];
	}
	if (nseen + nunseen > AT_SHAPLEY_MAX_CHANNELS)
	{
		at_fail(env, AT_ELIMIT, "journey has too many unique channels for exact Shapley values");
		at_detail(env, "The journey has %u unique channels; the limit is %d.",
				  nseen + nunseen, AT_SHAPLEY_MAX_CHANNELS);
		return at_hint(env, "Group channels more coarsely or drop some with exclude_channels.");
	}
	if ((st = dd_sort(env, ids, nseen, cmp_u32_value, NULL)) != AT_OK)
		return st;
	if ((st = at_shapley_values(env, m, ids, nseen, nunseen, phi, &phi_unseen)) != AT_OK)
		return st;
	for (uint32_t k = 0; k < j->nchannels; k++)
	{
		double		v = 0;

		if (ntouch[k] == 0)
		{
			chw[k] = 0;
			continue;
		}
		if (id[k] < 0)
			v = phi_unseen;
		else
		{
			uint32_t	lo = 0,
						hi = nseen;

			while (lo < hi)
			{
				uint32_t	mid = lo + (hi - lo) / 2;

				if (ids[mid] < (uint32_t) id[k])
					lo = mid + 1;
				else
					hi = mid;
			}
			v = phi[lo];
		}
		chw[k] = v > 0 ? v / ntouch[k] : 0;	/* clamped, split over its touches */
	}
	for (uint32_t i = 0; i < j->ntouches; i++)
	{
		if (weight[i] > 0)
		{
			last = i;
			weight[i] = chw[j->touches[i].channel];
			sum += weight[i];
		}
	}
	for (uint32_t i = 0; i < j->ntouches; i++)
		weight[i] = sum > 0 ? weight[i] / sum : ((int64_t) i == last ? 1.0 : 0.0);
	return AT_OK;
}
