/*
 * models.c — milestones (SPEC §2) and the rule-based attribution models (SPEC §3).
 *
 * A model maps a journey to one weight per touch.  Every model first *prepares*
 * the journey (exclude_channels, then collapse_repeats), then finds the milestone
 * positions on the prepared touches, then assigns weights.  All positional models
 * (index- and milestone-positional and custom) share one routine, positional(),
 * which implements SPEC §3's three shared rules.
 */
#include "attrib_core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define US_PER_DAY (86400.0 * 1e6)

/* ------------------------------------------------------------------ */
/* The catalog                                                          */
/* ------------------------------------------------------------------ */

#define OPT_COMMON (AT_OPT_EXCLUDE | AT_OPT_COLLAPSE | AT_OPT_DIRECT)

typedef unsigned __int128 u128;

static const at_model_info catalog[AT_M_NMODELS] = {
	[AT_M_FIRST_TOUCH] = {"first_touch", "single-touch", true, OPT_COMMON,
		"100% to the first touch (FT).", "Marketo Measure, HubSpot, Google Ads"},
	[AT_M_LAST_TOUCH] = {"last_touch", "single-touch", true, OPT_COMMON,
		"100% to the last touch (LT).", "Marketo Measure, HubSpot, Google Ads"},
	[AT_M_LEAD_CREATION] = {"lead_creation", "single-touch", true, OPT_COMMON,
		"100% to the lead-creation touch (LC); FT when LC is absent.",
	"Marketo Measure (lead creation touch), HubSpot"},
	[AT_M_OPPORTUNITY_CREATION] = {"opportunity_creation", "single-touch", true, OPT_COMMON,
		"100% to the opportunity-creation touch (OC); FT when OC is absent.",
	"Marketo Measure (opportunity creation touch)"},
	[AT_M_LAST_NON_DIRECT] = {"last_non_direct", "single-touch", true, OPT_COMMON,
		"100% to the last touch whose channel is not direct; the last touch if all are direct.",
	"Google Analytics (last non-direct click)"},
	[AT_M_FIRST_NON_DIRECT] = {"first_non_direct", "single-touch", true, OPT_COMMON,
		"100% to the first touch whose channel is not direct; the first touch if all are direct.",
	"mirror of Google Analytics' last non-direct click"},
	[AT_M_LINEAR] = {"linear", "even", true, OPT_COMMON,
		"1/n to each of the n touches.", "Marketo Measure, HubSpot, Google Ads"},
	[AT_M_POSITION_BASED] = {"position_based", "index-positional", true, OPT_COMMON,
		"40% first, 40% last, 20% split over the touches between.",
	"Google Ads / Analytics position-based (40/20/40)"},
	[AT_M_J_SHAPED] = {"j_shaped", "index-positional", true, OPT_COMMON,
		"20% first, 60% last, 20% split over the touches between.", "HubSpot J-shaped"},
	[AT_M_INVERSE_J] = {"inverse_j", "index-positional", true, OPT_COMMON,
		"60% first, 20% last, 20% split over the touches between.", "HubSpot inverse J-shaped"},
	[AT_M_U_SHAPED] = {"u_shaped", "milestone-positional", true, OPT_COMMON,
		"FT 40%, LC 40%, 20% split over the touches between; touches up to LC count.",
	"Marketo Measure U-shaped, HubSpot U-shaped"},
	[AT_M_W_SHAPED] = {"w_shaped", "milestone-positional", true, OPT_COMMON,
		"FT, LC, OC 30% each, 10% split over the touches between; touches up to OC count.",
	"Marketo Measure W-shaped, HubSpot W-shaped"},
	[AT_M_FULL_PATH] = {"full_path", "milestone-positional", true, OPT_COMMON,
		"FT, LC, OC, CW 22.5% each, 10% split over the touches between; touches up to CW count.",
	"Marketo Measure full path, HubSpot full path"},
	[AT_M_CUSTOM] = {"custom", "milestone-positional", true, OPT_COMMON | AT_OPT_WEIGHTS,
		"The user's weights for FT, LC, OC, CW, LT, stage:NAME and middle (>= 0, sum 1).",
	"Marketo Measure custom model"},
	[AT_M_TIME_DECAY] = {"time_decay", "time", true, OPT_COMMON | AT_OPT_HALF_LIFE | AT_OPT_NORMALIZE,
		"Weight proportional to 2^(-age/half_life), age measured to the journey's end; normalized to 1 unless normalize is false (then non-additive).",
	"Google Ads time decay (7-day half-life), HockeyStack"},
	[AT_M_INFLUENCE] = {"influence", "influence", false, OPT_COMMON,
		"Every touch is credited the full amount (influenced revenue); non-additive.",
	"Marketo Measure / Salesforce influenced revenue"},
};

const at_model_info *
at_model_catalog(at_model_id m)
{
	if ((int) m < 0 || m >= AT_M_NMODELS)
		return NULL;
	return &catalog[m];
}

static const char *const fixed_names[AT_POS_NFIXED] = {"FT", "LC", "OC", "CW", "LT"};

const char *
at_fixed_position_name(int k)
{
	return (k >= 0 && k < AT_POS_NFIXED) ? fixed_names[k] : NULL;
}

static bool
str_eq(const char *a, size_t alen, const char *b)
{
	return strlen(b) == alen && memcmp(a, b, alen) == 0;
}

static bool
str_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
	{
		unsigned char x = (unsigned char) a[i],
					y = (unsigned char) b[i];

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return true;
}

/* printable prefix of a (possibly long, not NUL-terminated) name for messages */
static const char *
shown(const char *p, size_t len, char *buf, size_t bufsize)
{
	size_t		n = len < bufsize - 4 ? len : bufsize - 4;

	memcpy(buf, p, n);
	if (n < len)
		memcpy(buf + n, "...", 4);
	else
		buf[n] = '\0';
	return buf;
}

static const char *
model_list(void)
{
	return "first_touch, last_touch, lead_creation, opportunity_creation, "
		"last_non_direct, first_non_direct, linear, position_based, j_shaped, "
		"inverse_j, u_shaped, w_shaped, full_path, custom, time_decay, influence";
}

at_status
at_model_lookup(at_env *env, const char *name, size_t len, at_model_id *out)
{
	char		buf[80];

	for (int m = 0; m < AT_M_NMODELS; m++)
	{
		if (str_eq(name, len, catalog[m].name))
		{
			*out = (at_model_id) m;
			return AT_OK;
		}
	}
	at_fail(env, AT_EUNKNOWN_MODEL, "unknown attribution model \"%s\"",
			shown(name, len, buf, sizeof(buf)));
	return at_hint(env, "Model names are case-sensitive. Known models: %s "
				   "(SELECT * FROM attrib.models()).", model_list());
}

/* ------------------------------------------------------------------ */
/* Options                                                              */
/* ------------------------------------------------------------------ */

static const struct
{
	const char *name;
	uint32_t	bit;
}			option_names[] = {
	{"exclude_channels", AT_OPT_EXCLUDE},
	{"collapse_repeats", AT_OPT_COLLAPSE},
	{"direct_channels", AT_OPT_DIRECT},
	{"half_life", AT_OPT_HALF_LIFE},
	{"normalize", AT_OPT_NORMALIZE},
	{"weights", AT_OPT_WEIGHTS},
};

#define N_OPTION_NAMES (sizeof(option_names) / sizeof(option_names[0]))

static void
options_of(uint32_t mask, char *buf, size_t size)
{
	size_t		used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < N_OPTION_NAMES; i++)
	{
		if (!(mask & option_names[i].bit))
			continue;
		int			n = snprintf(buf + used, size - used, "%s%s",
								 used ? ", " : "", option_names[i].name);

		if (n < 0 || (size_t) n >= size - used)
			break;
		used += (size_t) n;
	}
}

/* a JSON array of non-empty strings -> at_str array */
static at_status
string_list(at_env *env, const char *opt, const at_json *v, at_str **out, uint32_t *n)
{
	if (v->kind != AT_JSON_ARRAY)
	{
		at_fail(env, AT_EBAD_OPTION, "option \"%s\" must be an array of channel names", opt);
		return at_hint(env, "For example {\"%s\": [\"direct\", \"organic\"]}.", opt);
	}
	*out = at_alloc(env, sizeof(at_str) * (v->n ? v->n : 1));
	if (*out == NULL)
		return AT_ENOMEM;
	for (uint32_t i = 0; i < v->n; i++)
	{
		if (v->items[i].kind != AT_JSON_STRING || v->items[i].str.len == 0)
		{
			at_fail(env, AT_EBAD_OPTION, "option \"%s\" must be an array of channel names", opt);
			at_detail(env, "Element %u is not a non-empty string.", i + 1);
			return at_hint(env, "For example {\"%s\": [\"direct\", \"organic\"]}.", opt);
		}
		(*out)[i] = v->items[i].str;
	}
	*n = v->n;
	return AT_OK;
}

static at_status
bool_option(at_env *env, const char *opt, const at_json *v, bool *out)
{
	if (v->kind == AT_JSON_TRUE || v->kind == AT_JSON_FALSE)
	{
		*out = v->kind == AT_JSON_TRUE;
		return AT_OK;
	}
	at_fail(env, AT_EBAD_OPTION, "option \"%s\" must be true or false", opt);
	return at_hint(env, "For example {\"%s\": true}.", opt);
}

/* half_life: a number of days, or a string "N unit" (seconds .. weeks) */
static at_status
half_life_option(at_env *env, const at_json *v, double *out_us)
{
	double		days = NAN;
	char		buf[80];

	if (v->kind == AT_JSON_NUMBER)
		days = v->num;
	else if (v->kind == AT_JSON_STRING)
	{
		static const struct
		{
			const char *unit;
			double		days;
		}			units[] = {
			{"second", 1.0 / 86400}, {"seconds", 1.0 / 86400}, {"minute", 1.0 / 1440},
			{"minutes", 1.0 / 1440}, {"hour", 1.0 / 24}, {"hours", 1.0 / 24},
			{"day", 1}, {"days", 1}, {"week", 7}, {"weeks", 7},
		};
		char		text[64];
		char	   *end;
		double		num;

		if (v->str.len >= sizeof(text))
			goto bad;
		memcpy(text, v->str.p, v->str.len);
		text[v->str.len] = '\0';
		num = strtod(text, &end);
		if (end == text)
			goto bad;
		while (*end == ' ')
			end++;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(end, units[i].unit) == 0)
				days = num * units[i].days;
		if (isnan(days))
			goto bad;
	}
	else
		goto bad;

	if (!isfinite(days) || days <= 0 || days > 1e9)
	{
		at_fail(env, AT_EBAD_OPTION, "half_life must be a positive number of days, at most 1e9");
		at_detail(env, "half_life is %g days.", days);
		return at_hint(env, "For example {\"half_life\": 7} or {\"half_life\": \"36 hours\"}.");
	}
	*out_us = days * US_PER_DAY;
	return AT_OK;

bad:
	at_fail(env, AT_EBAD_OPTION, "invalid half_life %s",
			v->kind == AT_JSON_STRING || v->kind == AT_JSON_NUMBER
			? shown(v->str.p, v->str.len, buf, sizeof(buf)) : "(not a number or string)");
	return at_hint(env, "Give a number of days or a string such as \"36 hours\" "
				   "(units: seconds, minutes, hours, days, weeks).");
}

/*
 * The shortest decimal that reads back as w (w >= 0, finite): w ~ digits /
 * 10^decimals, with digits < 10^18 and 0 <= decimals <= 18.  false if there is
 * none that short (such as 1e-30 or 1e30).
 */
static bool
shortest_decimal(double w, uint64_t *digits, int *decimals)
{
	char		buf[40];

	for (int prec = 1; prec <= 17; prec++)
	{
		char	   *e;
		int			exp10;
		uint64_t	d = 0;
		int			dec;

		snprintf(buf, sizeof(buf), "%.*e", prec - 1, w);
		if (strtod(buf, NULL) != w)
			continue;
		/* buf is D[.DDD]e[+-]X */
		for (const char *c = buf; *c != 'e'; c++)
			if (*c >= '0' && *c <= '9')
				d = d * 10 + (uint64_t) (*c - '0');
		e = strchr(buf, 'e');
		exp10 = atoi(e + 1);
		dec = prec - 1 - exp10;
		while (dec < 0 && d < UINT64_C(100000000000000000))
		{
			d *= 10;
			dec++;
		}
		if (dec < 0 || dec > 18 || d >= UINT64_C(1000000000000000000))
			return false;
		*digits = d;
		*decimals = dec;
		return true;
	}
	return false;
}

/*
 * Custom weights as exact decimals over one power of ten (o->wexact), so that
 * {"FT": 0.4, "middle": 0.2, ...} splits money in the exact ratio 0.4 : 0.2.
 */
static at_status
exact_weights(at_env *env, at_options *o)
{
	uint32_t	n = o->nweights + 1;
	uint64_t   *du = at_alloc(env, sizeof(uint64_t) * n);
	int		   *dd = at_alloc(env, sizeof(int) * n);
	int			maxdec = 0;
	uint64_t	scale = 1;
	u128		total = 0;

	o->wexact = false;
	if (du == NULL || dd == NULL)
		return AT_ENOMEM;
	for (uint32_t i = 0; i < n; i++)
	{
		double		w = i < o->nweights ? o->weights[i].weight : o->middle;

		if (!shortest_decimal(w, &du[i], &dd[i]))
			return AT_OK;		/* not exact: the split quantizes the doubles */
		if (dd[i] > maxdec)
			maxdec = dd[i];
	}
	for (int k = 0; k < maxdec; k++)
		scale *= 10;
	for (uint32_t i = 0; i < n; i++)
	{
		u128		u = du[i];

		for (int k = dd[i]; k < maxdec; k++)
			u *= 10;
		total += u;
		if (total >= ((u128) 1 << 63))
			return AT_OK;
		if (i < o->nweights)
			o->weights[i].units = (uint64_t) u;
		else
			o->middle_units = (uint64_t) u;
	}
	o->wscale = scale;
	o->wexact = true;
	return AT_OK;
}

/* weights: {"FT": .3, "LC": .3, "OC": .3, "middle": .1, "stage:SQL": 0} */
static at_status
weights_option(at_env *env, const at_json *v, at_options *o)
{
	double		sum = 0;
	char		buf[80];

	if (v->kind != AT_JSON_OBJECT || v->n == 0)
	{
		at_fail(env, AT_EBAD_WEIGHTS, "option \"weights\" must be a non-empty object of position weights");
		return at_hint(env, "For example {\"weights\": {\"FT\": 0.3, \"LC\": 0.3, \"OC\": 0.3, \"middle\": 0.1}}; "
					   "positions are FT, LC, OC, CW, LT, stage:NAME and middle.");
	}
	o->weights = at_alloc(env, sizeof(at_weight_entry) * v->n);
	if (o->weights == NULL)
		return AT_ENOMEM;
	o->nweights = 0;
	o->middle = 0;
	for (uint32_t i = 0; i < v->n; i++)
	{
		at_str		key = v->keys[i];
		const at_json *w = &v->items[i];
		bool		known = false;

		if (w->kind != AT_JSON_NUMBER || !isfinite(w->num) || w->num < 0)
		{
			at_fail(env, AT_EBAD_WEIGHTS, "weight of position \"%s\" must be a number >= 0",
					shown(key.p, key.len, buf, sizeof(buf)));
			if (w->kind == AT_JSON_NUMBER)
				at_detail(env, "The weight given is %g.", w->num);
			return at_hint(env, "Weights are fractions of the amount, each >= 0, summing to 1.");
		}
		/* duplicates are an error: which one was meant? */
		for (uint32_t k = 0; k < i; k++)
		{
			if (str_ieq(key.p, key.len, v->keys[k].p, v->keys[k].len))
			{
				at_fail(env, AT_EBAD_WEIGHTS, "position \"%s\" is given two weights",
						shown(key.p, key.len, buf, sizeof(buf)));
				return at_hint(env, "Give each position once.");
			}
		}
		if (str_ieq(key.p, key.len, "middle", 6))
		{
			o->middle = w->num;
			known = true;
		}
		for (int k = 0; k < AT_POS_NFIXED && !known; k++)
			if (str_ieq(key.p, key.len, fixed_names[k], 2))
				known = true;
		if (!known && key.len > 6 && str_ieq(key.p, 6, "stage:", 6))
			known = true;
		if (!known)
		{
			at_fail(env, AT_EBAD_WEIGHTS, "unknown position \"%s\" in weights",
					shown(key.p, key.len, buf, sizeof(buf)));
			return at_hint(env, "Positions are FT, LC, OC, CW, LT, stage:NAME and middle.");
		}
		sum += w->num;
		if (!str_ieq(key.p, key.len, "middle", 6))
		{
			o->weights[o->nweights].position = key;
			o->weights[o->nweights].weight = w->num;
			o->nweights++;
		}
	}
	if (fabs(sum - 1.0) > 1e-9)
	{
		at_fail(env, AT_EBAD_WEIGHTS, "custom weights must sum to 1");
		at_detail(env, "The weights sum to %.12g.", sum);
		return at_hint(env, "Scale the weights so that FT + LC + OC + CW + LT + stages + middle = 1.");
	}
	return exact_weights(env, o);
}

at_status
at_options_parse(at_env *env, at_model_id m, const char *json, size_t len,
				 at_options *o)
{
	const at_model_info *info = at_model_catalog(m);
	at_json    *root;
	at_status	st;
	bool		have_weights = false;
	char		buf[80];
	char		list[160];

	memset(o, 0, sizeof(*o));
	o->model = m;
	o->half_life_us = 7 * US_PER_DAY;
	o->normalize = true;
	if (info == NULL)
		return at_fail(env, AT_EUNKNOWN_MODEL, "unknown attribution model number %d", (int) m);

	if (json != NULL && len > 0)
	{
		if ((st = at_json_parse(env, json, len, &root)) != AT_OK)
			return st;
		if (root->kind == AT_JSON_NULL)
			root = NULL;
		else if (root->kind != AT_JSON_OBJECT)
		{
			at_fail(env, AT_EBAD_OPTION, "model options must be a JSON object");
			return at_hint(env, "For example '{\"exclude_channels\": [\"direct\"]}'.");
		}
		for (uint32_t i = 0; root && i < root->n; i++)
		{
			at_str		key = root->keys[i];
			const at_json *v = &root->items[i];
			uint32_t	bit = 0;

			for (size_t k = 0; k < N_OPTION_NAMES; k++)
				if (str_eq(key.p, key.len, option_names[k].name))
					bit = option_names[k].bit;
			for (uint32_t k = 0; k < i; k++)
			{
				if (key.len == root->keys[k].len && memcmp(key.p, root->keys[k].p, key.len) == 0)
				{
					at_fail(env, AT_EBAD_OPTION, "option \"%s\" is given twice",
							shown(key.p, key.len, buf, sizeof(buf)));
					return at_hint(env, "Give each option once.");
				}
			}
			if (bit == 0 || !(info->options & bit))
			{
				options_of(info->options, list, sizeof(list));
				at_fail(env, AT_EUNKNOWN_OPTION,
						bit == 0 ? "unknown option \"%s\"" : "option \"%s\" does not apply to this model",
						shown(key.p, key.len, buf, sizeof(buf)));
				at_detail(env, "Model \"%s\" takes the options: %s.", info->name, list);
				return at_hint(env, "SELECT name, options FROM attrib.models() lists each model's options.");
			}
			switch (bit)
			{
				case AT_OPT_EXCLUDE:
					st = string_list(env, "exclude_channels", v, &o->exclude, &o->nexclude);
					break;
				case AT_OPT_DIRECT:
					st = string_list(env, "direct_channels", v, &o->direct, &o->ndirect);
					break;
				case AT_OPT_COLLAPSE:
					st = bool_option(env, "collapse_repeats", v, &o->collapse_repeats);
					break;
				case AT_OPT_NORMALIZE:
					st = bool_option(env, "normalize", v, &o->normalize);
					break;
				case AT_OPT_HALF_LIFE:
					st = half_life_option(env, v, &o->half_life_us);
					break;
				case AT_OPT_WEIGHTS:
					st = weights_option(env, v, o);
					have_weights = true;
					break;
				default:
					st = AT_OK;
			}
			if (st != AT_OK)
				return st;
		}
	}
	if (m == AT_M_CUSTOM && !have_weights)
	{
		at_fail(env, AT_EBAD_WEIGHTS, "model \"custom\" needs weights");
		return at_hint(env, "Pass options such as '{\"weights\": {\"FT\": 0.3, \"LC\": 0.3, "
					   "\"OC\": 0.3, \"middle\": 0.1}}'.");
	}
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* Preparation and milestones                                           */
/* ------------------------------------------------------------------ */

/* Index (into the prepared list) of the last touch at or before t, or -1. */
static int64_t
last_at_or_before(const at_journey *j, const uint32_t *idx, uint32_t n, int64_t t)
{
	uint32_t	lo = 0,
				hi = n;

	/* first prepared position whose time is > t */
	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;

		if (j->touches[idx[mid]].at <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int64_t) lo - 1;
}

static bool
is_direct(const at_journey *j, uint32_t ch, const at_options *o)
{
	at_str		c = j->channels[ch];

	if (o == NULL || o->ndirect == 0)
		return str_ieq(c.p, c.len, "direct", 6);
	for (uint32_t i = 0; i < o->ndirect; i++)
		if (str_ieq(c.p, c.len, o->direct[i].p, o->direct[i].len))
			return true;
	return false;
}

/*
 * Prepared touches: exclude_channels first, then collapse_repeats.  idx gets the
 * journey indices of the surviving touches, in order.
 */
static at_status
prepare(at_env *env, const at_journey *j, const at_options *o, uint32_t *idx, uint32_t *n)
{
	bool	   *excluded = NULL;
	uint32_t	m = 0;
	int64_t		prev_channel = -1;

	if (o != NULL && o->nexclude > 0)
	{
		excluded = at_alloc(env, sizeof(bool) * (j->nchannels ? j->nchannels : 1));
		if (excluded == NULL)
			return AT_ENOMEM;
		for (uint32_t c = 0; c < j->nchannels; c++)
		{
			excluded[c] = false;
			for (uint32_t e = 0; e < o->nexclude; e++)
				if (j->channels[c].len == o->exclude[e].len &&
					memcmp(j->channels[c].p, o->exclude[e].p, o->exclude[e].len) == 0)
					excluded[c] = true;
		}
	}
	for (uint32_t i = 0; i < j->ntouches; i++)
	{
		uint32_t	ch = j->touches[i].channel;

		if ((i & 1023) == 1023 && at_interrupted(env))
			return AT_ECANCELED;
		if (excluded != NULL && excluded[ch])
			continue;
		if (o != NULL && o->collapse_repeats && (int64_t) ch == prev_channel)
			continue;
		prev_channel = ch;
		idx[m++] = i;
	}
	*n = m;
	return AT_OK;
}

/*
 * Holders of each position in the prepared list: holder[k] is the prepared index
 * holding fixed position k (FT..LT), or -1 when absent; sholder[s] for stage s.
 */
typedef struct milestones
{
	int64_t		holder[AT_POS_NFIXED];
	int64_t		sholder[AT_MAX_STAGES];
} milestones;

enum
{
	K_FT, K_LC, K_OC, K_CW, K_LT
};

static void
find_milestones(const at_journey *j, const uint32_t *idx, uint32_t n, milestones *ms)
{
	const at_context *c = &j->ctx;
	bool		ctx = j->has_context;

	for (int k = 0; k < AT_POS_NFIXED; k++)
		ms->holder[k] = -1;
	for (int s = 0; s < AT_MAX_STAGES; s++)
		ms->sholder[s] = -1;
	if (n == 0)
		return;
	ms->holder[K_FT] = 0;
	ms->holder[K_LT] = n - 1;
	if (!ctx)
		return;
	if (c->has & AT_HAS_LEAD)
		ms->holder[K_LC] = last_at_or_before(j, idx, n, c->lead_created_at);
	if (c->has & AT_HAS_CREATED)
		ms->holder[K_OC] = last_at_or_before(j, idx, n, c->created_at);
	if (c->outcome == AT_OUTCOME_WON)
		ms->holder[K_CW] = (c->has & AT_HAS_CLOSED)
			? last_at_or_before(j, idx, n, c->closed_at) : (int64_t) n - 1;
	else if (c->outcome == AT_OUTCOME_OPEN)
		ms->holder[K_CW] = n - 1;	/* pending: the latest touch */
	for (uint32_t s = 0; s < c->nstages && s < AT_MAX_STAGES; s++)
		ms->sholder[s] = last_at_or_before(j, idx, n, c->stages[s].at);
}

static void
position_bits(const at_journey *j, const milestones *ms, uint32_t *posp)
{
	for (int k = 0; k < AT_POS_NFIXED; k++)
		if (ms->holder[k] >= 0)
			posp[ms->holder[k]] |= 1u << k;
	for (uint32_t s = 0; j->has_context && s < j->ctx.nstages && s < AT_MAX_STAGES; s++)
		if (ms->sholder[s] >= 0)
			posp[ms->sholder[s]] |= AT_POS_STAGE0 << s;
}

at_status
at_positions(at_env *env, const at_journey *j, uint32_t *pos)
{
	uint32_t   *idx;
	uint32_t	n;
	milestones	ms;
	at_status	st;

	idx = at_alloc(env, sizeof(uint32_t) * (j->ntouches ? j->ntouches : 1));
	if (idx == NULL)
		return AT_ENOMEM;
	if ((st = prepare(env, j, NULL, idx, &n)) != AT_OK)
		return st;
	memset(pos, 0, sizeof(uint32_t) * j->ntouches);
	find_milestones(j, idx, n, &ms);
	position_bits(j, &ms, pos);	/* no exclusion: prepared index == journey index */
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* Weights                                                              */
/* ------------------------------------------------------------------ */

/* One position of a positional model: who holds it and its share. */
typedef struct share
{
	int64_t		holder;			/* prepared index, -1 when absent */
	double		w;
	uint64_t	u;				/* w exactly, in units of some 1 / scale */
} share;

/*
 * Exact integer weights by prepared index, proportional to the shares SPEC §3
 * gives (the same rules as below, in integers): with P present positions and
 * m middle touches (m' = max(m, 1)), a holder gets m' * sum over its positions
 * of (P * u + absent) and a middle touch gets P * middle; the sum is
 * m' * P * (sum of all units).  false when that does not fit in 64 bits.
 */
static bool
positional_exact(const share *sh, int nsh, uint64_t middle, int64_t cut,
				 int npresent, int64_t nmiddle, const bool *held, uint64_t *q)
{
	u128		absent = 0,
				total = middle,
				mm = nmiddle > 0 ? (u128) nmiddle : 1;

	for (int s = 0; s < nsh; s++)
	{
		if (sh[s].w <= 0)
			continue;
		total += sh[s].u;
		if (!(sh[s].holder >= 0 && sh[s].holder <= cut))
			absent += sh[s].u;
	}
	if (nmiddle == 0)
		absent += middle;
	/* every partial value below is at most the total, checked first */
	if (total == 0 || total >= ((u128) 1 << 64) / mm / (u128) npresent)
		return false;
	for (int64_t i = 0; i <= cut; i++)
		q[i] = held[i] ? 0 : (uint64_t) ((u128) middle * (u128) npresent);
	for (int s = 0; s < nsh; s++)
		if (sh[s].w > 0 && sh[s].holder >= 0 && sh[s].holder <= cut)
			q[sh[s].holder] += (uint64_t) (mm * ((u128) sh[s].u * (u128) npresent + absent));
	return true;
}

/*
 * SPEC §3's shared rules.  Counted touches are prepared indices 0..cut.  A
 * position whose holder is past the cut is absent.  Positions with w == 0 are not
 * part of the model.  Absent shares (and the middle share when nothing is in the
 * middle) are spread evenly over the present positions; if no position is present
 * the counted touches are all middle and split everything equally.
 */
static at_status
positional(at_env *env, const share *sh, int nsh, double middle, uint64_t middle_u,
		   int64_t cut, double *pw, uint64_t *q, bool *exact)
{
	int			npresent = 0;
	double		absent = 0;
	int64_t		nmiddle = 0;
	bool	   *held = NULL;

	if (q != NULL && *exact)
	{
		held = at_alloc(env, sizeof(bool) * (size_t) (cut + 1));
		if (held == NULL)
			return AT_ENOMEM;
	}
	for (int s = 0; s < nsh; s++)
	{
		if (sh[s].w <= 0)
			continue;
		if (sh[s].holder >= 0 && sh[s].holder <= cut)
			npresent++;
		else
			absent += sh[s].w;
	}
	for (int64_t i = 0; i <= cut; i++)
	{
		bool		h = false;

		for (int s = 0; s < nsh && !h; s++)
			h = sh[s].w > 0 && sh[s].holder == i;
		if (!h)
			nmiddle++;
		if (held != NULL)
			held[i] = h;
	}
	if (nmiddle == 0)
		absent += middle;
	if (npresent == 0)
	{
		/* everything goes to the middle (all counted touches) */
		for (int64_t i = 0; i <= cut; i++)
		{
			pw[i] = 1.0 / (double) (cut + 1);
			if (held != NULL)
				q[i] = 1;
		}
		return AT_OK;
	}
	if (held != NULL)
		*exact = positional_exact(sh, nsh, middle_u, cut, npresent, nmiddle, held, q);
	for (int s = 0; s < nsh; s++)
		if (sh[s].w > 0 && sh[s].holder >= 0 && sh[s].holder <= cut)
			pw[sh[s].holder] += sh[s].w + absent / npresent;
	if (nmiddle > 0)
	{
		double		each = middle / (double) nmiddle;

		for (int64_t i = 0; i <= cut; i++)
		{
			bool		h = false;

			for (int s = 0; s < nsh && !h; s++)
				h = sh[s].w > 0 && sh[s].holder == i;
			if (!h)
				pw[i] += each;
		}
	}
	return AT_OK;
}

/* the stage index of "stage:NAME" in the journey's context, or -1 */
static int
stage_index(const at_journey *j, at_str position)
{
	if (!j->has_context)
		return -1;
	for (uint32_t s = 0; s < j->ctx.nstages && s < AT_MAX_STAGES; s++)
		if (position.len - 6 == j->ctx.stages[s].name.len &&
			memcmp(position.p + 6, j->ctx.stages[s].name.p, position.len - 6) == 0)
			return (int) s;
	return -1;
}

at_status
at_weights(at_env *env, const at_journey *j, const at_options *o,
		   double *weight, uint32_t *pos, uint32_t *credited)
{
	bool		exact;

	return at_weights_exact(env, j, o, weight, NULL, &exact, pos, credited);
}

at_status
at_weights_exact(at_env *env, const at_journey *j, const at_options *o,
				 double *weight, uint64_t *q, bool *exact,
				 uint32_t *pos, uint32_t *credited)
{
	uint32_t   *idx;
	uint64_t   *pq = NULL;		/* exact weights by prepared index */
	double	   *pw;				/* weights by prepared index */
	uint32_t   *pp;				/* positions by prepared index */
	uint32_t	n;
	milestones	ms;
	at_status	st;
	int64_t		pick = -1;		/* single-touch models */
	int64_t		cut;

	memset(weight, 0, sizeof(double) * j->ntouches);
	memset(pos, 0, sizeof(uint32_t) * j->ntouches);
	*credited = 0;
	*exact = false;
	idx = at_alloc(env, sizeof(uint32_t) * (j->ntouches ? j->ntouches : 1));
	if (idx == NULL)
		return AT_ENOMEM;
	if ((st = prepare(env, j, o, idx, &n)) != AT_OK)
		return st;
	*credited = n;
	if (n == 0)
		return AT_OK;
	pw = at_alloc(env, sizeof(double) * n);
	pp = at_alloc(env, sizeof(uint32_t) * n);
	if (pw == NULL || pp == NULL)
		return AT_ENOMEM;
	memset(pw, 0, sizeof(double) * n);
	memset(pp, 0, sizeof(uint32_t) * n);
	if (q != NULL)
	{
		pq = at_alloc(env, sizeof(uint64_t) * n);
		if (pq == NULL)
			return AT_ENOMEM;
		memset(pq, 0, sizeof(uint64_t) * n);
		/* rational models; the positional ones may still turn out too large */
		*exact = o->model != AT_M_TIME_DECAY && o->model != AT_M_INFLUENCE &&
			(o->model != AT_M_CUSTOM || o->wexact);
	}
	find_milestones(j, idx, n, &ms);
	position_bits(j, &ms, pp);
	cut = (int64_t) n - 1;

	switch (o->model)
	{
		case AT_M_FIRST_TOUCH:
			pick = ms.holder[K_FT];
			break;
		case AT_M_LAST_TOUCH:
			pick = ms.holder[K_LT];
			break;
		case AT_M_LEAD_CREATION:
			pick = ms.holder[K_LC] >= 0 ? ms.holder[K_LC] : ms.holder[K_FT];
			break;
		case AT_M_OPPORTUNITY_CREATION:
			pick = ms.holder[K_OC] >= 0 ? ms.holder[K_OC] : ms.holder[K_FT];
			break;
		case AT_M_LAST_NON_DIRECT:
			pick = (int64_t) n - 1;
			for (int64_t i = (int64_t) n - 1; i >= 0; i--)
				if (!is_direct(j, j->touches[idx[i]].channel, o))
				{
					pick = i;
					break;
				}
			break;
		case AT_M_FIRST_NON_DIRECT:
			pick = 0;
			for (uint32_t i = 0; i < n; i++)
				if (!is_direct(j, j->touches[idx[i]].channel, o))
				{
					pick = i;
					break;
				}
			break;
		case AT_M_LINEAR:
		case AT_M_INFLUENCE:
			for (uint32_t i = 0; i < n; i++)
			{
				pw[i] = o->model == AT_M_LINEAR ? 1.0 / n : 1.0;
				if (pq != NULL)
					pq[i] = 1;
			}
			break;
		case AT_M_POSITION_BASED:
		case AT_M_J_SHAPED:
		case AT_M_INVERSE_J:
			{
				/* units of 1/1000, exactly the decimal shares */
				uint64_t	first = o->model == AT_M_POSITION_BASED ? 400
					: o->model == AT_M_J_SHAPED ? 200 : 600;
				uint64_t	last = 800 - first;
				share		sh[2] = {{ms.holder[K_FT], first / 1000.0, first},
				{ms.holder[K_LT], last / 1000.0, last}};

				st = positional(env, sh, 2, 0.2, 200, cut, pw, pq, exact);
			}
			break;
		case AT_M_U_SHAPED:
			{
				share		sh[2] = {{ms.holder[K_FT], 0.4, 400}, {ms.holder[K_LC], 0.4, 400}};

				if (ms.holder[K_LC] >= 0)
					cut = ms.holder[K_LC];
				st = positional(env, sh, 2, 0.2, 200, cut, pw, pq, exact);
			}
			break;
		case AT_M_W_SHAPED:
			{
				share		sh[3] = {{ms.holder[K_FT], 0.3, 300}, {ms.holder[K_LC], 0.3, 300},
				{ms.holder[K_OC], 0.3, 300}};

				if (ms.holder[K_OC] >= 0)
					cut = ms.holder[K_OC];
				st = positional(env, sh, 3, 0.1, 100, cut, pw, pq, exact);
			}
			break;
		case AT_M_FULL_PATH:
			{
				share		sh[4] = {{ms.holder[K_FT], 0.225, 225}, {ms.holder[K_LC], 0.225, 225},
				{ms.holder[K_OC], 0.225, 225}, {ms.holder[K_CW], 0.225, 225}};

				if (ms.holder[K_CW] >= 0)
					cut = ms.holder[K_CW];
				st = positional(env, sh, 4, 0.1, 100, cut, pw, pq, exact);
			}
			break;
		case AT_M_CUSTOM:
			{
				share	   *sh = at_alloc(env, sizeof(share) * (o->nweights ? o->nweights : 1));

				if (sh == NULL)
					return AT_ENOMEM;
				for (uint32_t w = 0; w < o->nweights; w++)
				{
					at_str		p = o->weights[w].position;

					sh[w].w = o->weights[w].weight;
					sh[w].u = o->weights[w].units;
					sh[w].holder = -1;
					if (p.len > 6 && str_ieq(p.p, 6, "stage:", 6))
					{
						int			s = stage_index(j, p);

						if (s >= 0)
							sh[w].holder = ms.sholder[s];
					}
					else
						for (int k = 0; k < AT_POS_NFIXED; k++)
							if (str_ieq(p.p, p.len, fixed_names[k], 2))
								sh[w].holder = ms.holder[k];
				}
				st = positional(env, sh, (int) o->nweights, o->middle, o->middle_units,
								cut, pw, pq, exact);
			}
			break;
		case AT_M_TIME_DECAY:
			{
				const at_context *c = &j->ctx;
				int64_t		end = j->touches[idx[n - 1]].at;
				double		sum = 0;
				double		dmin;

				if (j->has_context && (c->outcome == AT_OUTCOME_WON || c->outcome == AT_OUTCOME_LOST)
					&& (c->has & AT_HAS_CLOSED))
					end = c->closed_at;
				else if (j->has_context && c->outcome == AT_OUTCOME_OPEN && (c->has & AT_HAS_AS_OF))
					end = c->as_of;
				/* ages are >= 0 once the window is cut; clamp otherwise */
				dmin = (double) end - (double) j->touches[idx[n - 1]].at;
				if (dmin < 0)
					dmin = 0;
				for (uint32_t i = 0; i < n; i++)
				{
					double		age = (double) end - (double) j->touches[idx[i]].at;

					if (age < 0)
						age = 0;
					/* relative to the youngest touch so the sum never underflows */
					pw[i] = exp2(-((o->normalize ? age - dmin : age) / o->half_life_us));
					sum += pw[i];
				}
				if (o->normalize)
					for (uint32_t i = 0; i < n; i++)
						pw[i] /= sum;
			}
			break;
		default:
			return at_fail(env, AT_EUNKNOWN_MODEL, "model %d has no rule-based weights", (int) o->model);
	}
	if (st != AT_OK)
		return st;
	if (pick >= 0)
	{
		pw[pick] = 1.0;
		if (pq != NULL)
			pq[pick] = 1;
	}

	if (q != NULL && *exact)
		memset(q, 0, sizeof(uint64_t) * j->ntouches);
	for (uint32_t i = 0; i < n; i++)
	{
		weight[idx[i]] = pw[i];
		pos[idx[i]] = pp[i];
		if (q != NULL && *exact)
			q[idx[i]] = pq[i];
	}
	return AT_OK;
}
