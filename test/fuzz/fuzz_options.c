/*
 * fuzz_options.c — libFuzzer target: model options (the jsonb argument of
 * attrib.credits, attrib.check_model and attrib.model_config rows), the JSON
 * parser under them, and model name lookup.
 *
 * Input: byte 0 picks the model (mod the number of models), the rest is the
 * options text.  The text is parsed for that model; an accepted result must
 * satisfy the documented ranges (half_life > 0 and finite, custom weights
 * finite, >= 0 and summing to 1 within 1e-9, option lists non-empty strings).
 * The same text is also given to at_json_parse alone and to at_model_lookup.
 */
#include "fuzz_common.h"

static fz_env F;
static int	initialized;

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_json(const at_json *v, int depth)
{
	FZ_CHECK(depth <= 65, "JSON nested deeper than the limit of 64");
	switch (v->kind)
	{
		case AT_JSON_STRING:
			FZ_CHECK(v->str.p != NULL && v->str.p[v->str.len] == '\0',
					 "string is not NUL-terminated");
			break;
		case AT_JSON_NUMBER:
			FZ_CHECK(!isnan(v->num), "number parsed as NaN");
			break;
		case AT_JSON_ARRAY:
		case AT_JSON_OBJECT:
			FZ_CHECK(v->n == 0 || v->items != NULL, "container without items");
			for (uint32_t i = 0; i < v->n; i++)
			{
				if (v->kind == AT_JSON_OBJECT)
					FZ_CHECK(v->keys[i].p != NULL && v->keys[i].p[v->keys[i].len] == '\0',
							 "key is not NUL-terminated");
				check_json(&v->items[i], depth + 1);
			}
			break;
		default:
			break;
	}
}

static void
check_list(const at_str *s, uint32_t n, const char *what)
{
	for (uint32_t i = 0; i < n; i++)
		FZ_CHECK(s[i].len > 0 && s[i].p != NULL, "%s element %u is empty", what, i);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	at_options	o;
	at_model_id m,
				found;
	at_json    *root;
	const char *json;
	size_t		len;
	at_status	st;

	if (!initialized)
	{
		fz_init(&F);
		initialized = 1;
	}
	if (size < 1)
		return 0;
	m = (at_model_id) (data[0] % AT_M_NMODELS);
	json = (const char *) data + 1;
	len = size - 1;

	st = at_options_parse(&F.env, m, json, len, &o);
	if (st != AT_OK)
		fz_check_failure(&F, st, "at_options_parse");
	else
	{
		const at_model_info *info = at_model_catalog(m);
		double		sum = o.middle;

		FZ_CHECK(o.model == m, "options of model %d report model %d", (int) m, (int) o.model);
		FZ_CHECK(isfinite(o.half_life_us) && o.half_life_us > 0, "half_life_us is %g",
				 o.half_life_us);
		FZ_CHECK(o.nexclude == 0 || (info->options & AT_OPT_EXCLUDE), "exclude on a model without it");
		FZ_CHECK(o.ndirect == 0 || (info->options & AT_OPT_DIRECT), "direct on a model without it");
		FZ_CHECK(o.nweights == 0 || m == AT_M_CUSTOM, "weights on a model other than custom");
		check_list(o.exclude, o.nexclude, "exclude_channels");
		check_list(o.direct, o.ndirect, "direct_channels");
		FZ_CHECK(isfinite(o.middle) && o.middle >= 0, "middle weight %g", o.middle);
		for (uint32_t i = 0; i < o.nweights; i++)
		{
			FZ_CHECK(isfinite(o.weights[i].weight) && o.weights[i].weight >= 0,
					 "weight %u is %g", i, o.weights[i].weight);
			sum += o.weights[i].weight;
		}
		if (m == AT_M_CUSTOM)
			FZ_CHECK(fabs(sum - 1) <= 1e-9, "custom weights sum to %.17g", sum);
	}
	fz_reset(&F);

	st = at_json_parse(&F.env, json, len, &root);
	if (st != AT_OK)
	{
		fz_check_failure(&F, st, "at_json_parse");
		FZ_CHECK(st == AT_ESYNTAX || fz_resource_status(st),
				 "JSON parse failed with status %d: %s", (int) st, F.err.message);
	}
	else
		check_json(root, 0);
	fz_reset(&F);

	st = at_model_lookup(&F.env, json, len, &found);
	if (st != AT_OK)
		fz_check_failure(&F, st, "at_model_lookup");
	else
		FZ_CHECK(strlen(at_model_catalog(found)->name) == len &&
				 memcmp(at_model_catalog(found)->name, json, len) == 0,
				 "lookup found a model of another name");
	fz_reset(&F);
	return 0;
}
