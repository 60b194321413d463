/*
 * test_models.c — milestones and every rule-based model on SPEC §3's worked
 * cases.  Journeys are laid out by hand (no builder), and every expected weight
 * is worked out in the comment beside it.
 */
#include "test_env.h"

#include <math.h>

#define DAY 86400000000LL
#define EPS 1e-12
#define SQRT_HALF 0.70710678118654752440	/* 1/sqrt(2) */

static test_env T;

/* touches t1..tn at day[i] (days since 2000-01-01), channel names ch[i] */
static at_journey
journey(int n, const int *day, const char *const *ch)
{
	at_journey	j;
	static at_touch touches[64];
	static at_str channels[64];
	static char ids[64 * 4];

	memset(&j, 0, sizeof(j));
	j.touches = touches;
	j.channels = channels;
	j.ids = ids;
	for (int i = 0; i < n; i++)
	{
		uint32_t	c;

		for (c = 0; c < j.nchannels; c++)
			if (strcmp(channels[c].p, ch[i]) == 0)
				break;
		if (c == j.nchannels)
		{
			channels[c].p = ch[i];
			channels[c].len = (uint32_t) strlen(ch[i]);
			j.nchannels++;
		}
		touches[i].at = day[i] * DAY;
		touches[i].channel = c;
		touches[i].id_off = (uint32_t) j.ids_len;
		touches[i].id_len = (uint32_t) sprintf(ids + j.ids_len, "t%d", i + 1);
		j.ids_len += touches[i].id_len;
	}
	j.ntouches = (uint32_t) n;
	return j;
}

static void
context(at_journey *j, at_outcome outcome, int created, int closed, int lead)
{
	j->has_context = true;
	memset(&j->ctx, 0, sizeof(j->ctx));
	j->ctx.outcome = (uint8_t) outcome;
	if (created >= 0)
	{
		j->ctx.has |= AT_HAS_CREATED;
		j->ctx.created_at = created * DAY;
	}
	if (closed >= 0)
	{
		j->ctx.has |= AT_HAS_CLOSED;
		j->ctx.closed_at = closed * DAY;
	}
	if (lead >= 0)
	{
		j->ctx.has |= AT_HAS_LEAD;
		j->ctx.lead_created_at = lead * DAY;
	}
}

static double w[64];
static uint32_t pos[64];
static uint32_t credited;

/*
 * The exact integer weights agree with the double ones: q_i / sum(q) = w_i
 * (to 1e-12), and every rational model (all but time decay and influence)
 * has them on these small journeys.
 */
static void
check_exact(const at_journey *j, const at_options *o, const char *model)
{
	double		w2[64];
	uint64_t	q[64];
	uint32_t	pos2[64];
	uint32_t	cr;
	bool		exact;
	bool		rational = o->model != AT_M_TIME_DECAY && o->model != AT_M_INFLUENCE;
	double		sum = 0;

	CHECK(at_weights_exact(&T.env, j, o, w2, q, &exact, pos2, &cr) == AT_OK);
	test_checks++;
	if (exact != (rational && cr > 0))
	{
		test_failures++;
		fprintf(stderr, "%s: exact weights %s\n", model, exact ? "given" : "missing");
		return;
	}
	if (!exact)
		return;
	for (uint32_t i = 0; i < j->ntouches; i++)
		sum += (double) q[i];
	for (uint32_t i = 0; i < j->ntouches; i++)
	{
		test_checks++;
		if (fabs((double) q[i] / sum - w2[i]) > 1e-12 || w2[i] != w[i] || pos2[i] != pos[i])
		{
			test_failures++;
			fprintf(stderr, "%s: touch %u exact weight %llu/%.0f, double %.15g\n", model,
					i + 1, (unsigned long long) q[i], sum, w2[i]);
		}
	}
}

static at_status
run(const at_journey *j, const char *model, const char *opts)
{
	at_model_id m;
	at_options	o;
	at_status	st;

	test_env_reset(&T);
	st = at_model_lookup(&T.env, model, strlen(model), &m);
	if (st != AT_OK)
		return st;
	st = at_options_parse(&T.env, m, opts, opts ? strlen(opts) : 0, &o);
	if (st != AT_OK)
		return st;
	st = at_weights(&T.env, j, &o, w, pos, &credited);
	if (st == AT_OK)
		check_exact(j, &o, model);
	return st;
}

static void
expect(const at_journey *j, const char *model, const char *opts, const double *exp)
{
	at_status	st = run(j, model, opts);

	CHECK(st == AT_OK);
	if (st != AT_OK)
	{
		fprintf(stderr, "  %s %s: %s\n", model, opts ? opts : "", T.err.message);
		return;
	}
	for (uint32_t i = 0; i < j->ntouches; i++)
	{
		test_checks++;
		if (fabs(w[i] - exp[i]) > EPS)
		{
			test_failures++;
			fprintf(stderr, "%s %s: touch %u weight %.15g, expected %.15g\n",
					model, opts ? opts : "", i + 1, w[i], exp[i]);
		}
	}
}

static void
expect_error(const at_journey *j, const char *model, const char *opts,
			 at_status want, const char *needle)
{
	at_status	st = run(j, model, opts);

	CHECK(st == want);
	test_checks++;
	if (strstr(T.err.message, needle) == NULL && strstr(T.err.detail, needle) == NULL)
	{
		test_failures++;
		fprintf(stderr, "%s %s: error \"%s\" / \"%s\" does not mention \"%s\"\n",
				model, opts, T.err.message, T.err.detail, needle);
	}
}

static const char *const A5[] = {"paid_search", "email", "webinar", "email", "direct"};
static const int D5[] = {1, 2, 3, 4, 5};

static void
single_touch_models(void)
{
	at_journey	j = journey(5, D5, A5);

	expect(&j, "first_touch", NULL, (double[]) {1, 0, 0, 0, 0});
	expect(&j, "last_touch", NULL, (double[]) {0, 0, 0, 0, 1});
	/* last touch is direct: last non-direct is t4 (email) */
	expect(&j, "last_non_direct", NULL, (double[]) {0, 0, 0, 1, 0});
	expect(&j, "first_non_direct", NULL, (double[]) {1, 0, 0, 0, 0});
	/* with "email" and "paid_search" declared direct (case-insensitively) */
	expect(&j, "first_non_direct", "{\"direct_channels\": [\"EMAIL\", \"paid_search\"]}",
		   (double[]) {0, 0, 1, 0, 0});
	/* no context: LC and OC absent, both fall back to FT */
	expect(&j, "lead_creation", NULL, (double[]) {1, 0, 0, 0, 0});
	expect(&j, "opportunity_creation", NULL, (double[]) {1, 0, 0, 0, 0});
	/* lead on day 3 -> LC is t3; opportunity on day 4 -> OC is t4 */
	context(&j, AT_OUTCOME_WON, 4, 6, 3);
	expect(&j, "lead_creation", NULL, (double[]) {0, 0, 1, 0, 0});
	expect(&j, "opportunity_creation", NULL, (double[]) {0, 0, 0, 1, 0});
	/* lead created before the first touch: LC absent -> FT */
	context(&j, AT_OUTCOME_WON, 4, 6, 0);
	expect(&j, "lead_creation", NULL, (double[]) {1, 0, 0, 0, 0});

	/* all direct: last/first touch */
	{
		static const char *const dd[] = {"direct", "Direct", "DIRECT"};
		at_journey	k = journey(3, D5, dd);

		expect(&k, "last_non_direct", NULL, (double[]) {0, 0, 1});
		expect(&k, "first_non_direct", NULL, (double[]) {1, 0, 0});
	}
}

static void
even_and_index_models(void)
{
	at_journey	j1 = journey(1, D5, A5);
	at_journey	j2;
	at_journey	j3;
	at_journey	j5;

	/* one touch always gets 100% */
	expect(&j1, "linear", NULL, (double[]) {1});
	expect(&j1, "position_based", NULL, (double[]) {1});
	expect(&j1, "j_shaped", NULL, (double[]) {1});
	expect(&j1, "inverse_j", NULL, (double[]) {1});

	j2 = journey(2, D5, A5);
	/* 2 touches: no middle, the 20% middle share spreads .1/.1 over first and last */
	expect(&j2, "position_based", NULL, (double[]) {0.5, 0.5});
	expect(&j2, "j_shaped", NULL, (double[]) {0.3, 0.7});
	expect(&j2, "inverse_j", NULL, (double[]) {0.7, 0.3});
	expect(&j2, "linear", NULL, (double[]) {0.5, 0.5});

	j3 = journey(3, D5, A5);
	expect(&j3, "position_based", NULL, (double[]) {0.4, 0.2, 0.4});
	expect(&j3, "j_shaped", NULL, (double[]) {0.2, 0.2, 0.6});
	expect(&j3, "inverse_j", NULL, (double[]) {0.6, 0.2, 0.2});
	expect(&j3, "linear", NULL, (double[]) {1.0 / 3, 1.0 / 3, 1.0 / 3});

	j5 = journey(5, D5, A5);
	/* middle 20% over 3 touches */
	expect(&j5, "position_based", NULL, (double[]) {0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4});
	expect(&j5, "linear", NULL, (double[]) {0.2, 0.2, 0.2, 0.2, 0.2});
	/* influence: every touch the full amount */
	expect(&j5, "influence", NULL, (double[]) {1, 1, 1, 1, 1});
}

static void
milestone_models(void)
{
	at_journey	j = journey(5, D5, A5);
	static const int D2[] = {1, 2};
	at_journey	w2 = journey(2, D2, A5);

	/* U: lead day 3 -> LC t3, count t1..t3: FT .4, t2 middle .2, LC .4 */
	context(&j, AT_OUTCOME_WON, 4, 6, 3);
	expect(&j, "u_shaped", NULL, (double[]) {0.4, 0.2, 0.4, 0, 0});
	/* LC absent: every touch counts, LC's .4 goes to FT -> .8, middle t2..t5 .05 */
	context(&j, AT_OUTCOME_WON, 4, 6, -1);
	expect(&j, "u_shaped", NULL, (double[]) {0.8, 0.05, 0.05, 0.05, 0.05});

	/* W: lead day 2 -> LC t2, created day 4 -> OC t4; count t1..t4; t3 middle .1 */
	context(&j, AT_OUTCOME_WON, 4, 6, 2);
	expect(&j, "w_shaped", NULL, (double[]) {0.3, 0.3, 0.1, 0.3, 0});
	/* SPEC: W with {FT+LC}, {OC}: present FT, LC, OC; middle .1 spread .1/3 each;
	 * t1 = .3 + .3 + 2 * .1/3 = .666..., t2 = .3 + .1/3 = .333... */
	context(&w2, AT_OUTCOME_WON, 2, 3, 1);
	expect(&w2, "w_shaped", NULL, (double[]) {2.0 / 3, 1.0 / 3});
	/* W with LC after OC: LC is past the cut and absent; FT, OC present:
	 * lead day 5 -> LC t5, created day 3 -> OC t3; count t1..t3; t2 middle .1;
	 * LC's .3 spread: FT .45, OC .45 */
	context(&j, AT_OUTCOME_WON, 3, 6, 5);
	expect(&j, "w_shaped", NULL, (double[]) {0.45, 0.1, 0.45, 0, 0});

	/* full path, won: FT t1, LC t2, OC t3, CW t5 (last at or before close), t4 middle */
	context(&j, AT_OUTCOME_WON, 3, 6, 2);
	expect(&j, "full_path", NULL, (double[]) {0.225, 0.225, 0.225, 0.1, 0.225});
	/* open: CW is pending on the latest touch; same numbers */
	context(&j, AT_OUTCOME_OPEN, 3, -1, 2);
	expect(&j, "full_path", NULL, (double[]) {0.225, 0.225, 0.225, 0.1, 0.225});
	/* lost: CW absent, every touch counts, .225 spread .075 over FT, LC, OC;
	 * middle t4, t5 share .1 -> .05 each */
	context(&j, AT_OUTCOME_LOST, 3, 6, 2);
	expect(&j, "full_path", NULL, (double[]) {0.3, 0.3, 0.3, 0.05, 0.05});
	/* won, closed on day 4: CW is t4 (last at or before close); t5 is past the
	 * cut; t1..t4 each hold one position, so no middle: .1 spreads .025 each */
	context(&j, AT_OUTCOME_WON, 3, 4, 2);
	expect(&j, "full_path", NULL, (double[]) {0.25, 0.25, 0.25, 0.25, 0});
}

static void
custom_model(void)
{
	static const int D6[] = {1, 2, 3, 4, 5, 6};
	static const char *const C6[] = {"a", "b", "c", "d", "e", "f"};
	static at_stage stage = {{"SQL", 3}, 3 * DAY};
	at_journey	j = journey(6, D6, C6);
	static const int D3[] = {1, 2, 3};
	at_journey	k = journey(3, D3, C6);

	/* lead t2, SQL t3, OC t4, CW = LT = t6 (closed day 6), middle t5 */
	context(&j, AT_OUTCOME_WON, 4, 6, 2);
	j.ctx.nstages = 1;
	j.ctx.stages = &stage;
	expect(&j, "custom",
		   "{\"weights\": {\"FT\": 0.1, \"LC\": 0.2, \"OC\": 0.3, \"CW\": 0.1, \"LT\": 0.1, "
		   "\"stage:SQL\": 0.1, \"middle\": 0.1}}",
		   (double[]) {0.1, 0.2, 0.1, 0.3, 0.1, 0.2});
	/* positions held: t3 holds stage:SQL (bit 0 of the stages) */
	CHECK(pos[2] == AT_POS_STAGE0);
	CHECK(pos[5] == (AT_POS_CW | AT_POS_LT));
	CHECK(pos[0] == AT_POS_FT);

	/* a stage that never happened is absent: its .2 spreads over FT and LT (.1 each) */
	expect(&j, "custom", "{\"weights\": {\"FT\": 0.4, \"LT\": 0.4, \"stage:MQL\": 0.2}}",
		   (double[]) {0.5, 0, 0, 0, 0, 0.5});

	/* weight 0 is not part of the model: LC (t2) with 0 is a middle touch */
	context(&k, AT_OUTCOME_WON, -1, -1, 2);
	expect(&k, "custom", "{\"weights\": {\"FT\": 0.4, \"LT\": 0.4, \"LC\": 0, \"middle\": 0.2}}",
		   (double[]) {0.4, 0.2, 0.4});
	/* all positions absent: split equally over the counted touches */
	k.has_context = false;
	expect(&k, "custom", "{\"weights\": {\"LC\": 0.5, \"OC\": 0.5}}",
		   (double[]) {1.0 / 3, 1.0 / 3, 1.0 / 3});
}

static void
time_decay(void)
{
	static const int D[] = {0, 7, 14};
	at_journey	j = journey(3, D, A5);

	/* closed on day 14: ages 14, 7, 0 days; half-life 7: 1/4, 1/2, 1 -> /1.75 */
	context(&j, AT_OUTCOME_WON, 0, 14, -1);
	expect(&j, "time_decay", NULL, (double[]) {0.25 / 1.75, 0.5 / 1.75, 1 / 1.75});
	/* raw factors when not normalized */
	expect(&j, "time_decay", "{\"normalize\": false}", (double[]) {0.25, 0.5, 1});
	/* half-life 14 days as a string: 1/2, 1/sqrt(2), 1 */
	expect(&j, "time_decay", "{\"half_life\": \"14 days\"}",
		   (double[]) {0.5 / (1.5 + SQRT_HALF), SQRT_HALF / (1.5 + SQRT_HALF), 1 / (1.5 + SQRT_HALF)});
	/* closed 7 days after the last touch: ages 21, 14, 7: 1/8, 1/4, 1/2 raw */
	context(&j, AT_OUTCOME_WON, 0, 21, -1);
	expect(&j, "time_decay", "{\"normalize\": false}", (double[]) {0.125, 0.25, 0.5});
	/* normalized weights do not depend on the end time */
	expect(&j, "time_decay", NULL, (double[]) {0.25 / 1.75, 0.5 / 1.75, 1 / 1.75});
	/* half_life in hours: 168 hours == 7 days */
	expect(&j, "time_decay", "{\"half_life\": \"168 hours\", \"normalize\": false}",
		   (double[]) {0.125, 0.25, 0.5});
}

static void
preparation(void)
{
	static const char *const ABA[] = {"a", "b", "a", "a", "b"};
	at_journey	j = journey(5, D5, ABA);

	/* exclude b: a-touches t1, t3, t4 share 1/3 */
	expect(&j, "linear", "{\"exclude_channels\": [\"b\"]}",
		   (double[]) {1.0 / 3, 0, 1.0 / 3, 1.0 / 3, 0});
	CHECK(credited == 3);
	/* collapse: a b a a b -> a b a b (t4 dropped) */
	expect(&j, "linear", "{\"collapse_repeats\": true}",
		   (double[]) {0.25, 0.25, 0.25, 0, 0.25});
	/* exclude first, then collapse: a a a -> a (t1 only) */
	expect(&j, "linear", "{\"exclude_channels\": [\"b\"], \"collapse_repeats\": true}",
		   (double[]) {1, 0, 0, 0, 0});
	/* position_based on the prepared journey a(t1) b(t2) a(t3) b(t5) */
	expect(&j, "position_based", "{\"collapse_repeats\": true}",
		   (double[]) {0.4, 0.1, 0.1, 0, 0.4});
	/* everything excluded: nothing credited */
	CHECK(run(&j, "linear", "{\"exclude_channels\": [\"a\", \"b\"]}") == AT_OK);
	CHECK(credited == 0);
	CHECK(w[0] == 0 && w[4] == 0);
}

static void
bad_options(void)
{
	at_journey	j = journey(3, D5, A5);

	expect_error(&j, "Linear", NULL, AT_EUNKNOWN_MODEL, "Linear");
	expect_error(&j, "markov_chain", NULL, AT_EUNKNOWN_MODEL, "markov_chain");
	expect_error(&j, "linear", "{\"half_life\": 7}", AT_EUNKNOWN_OPTION, "half_life");
	expect_error(&j, "linear", "{\"exclude\": []}", AT_EUNKNOWN_OPTION, "exclude");
	expect_error(&j, "time_decay", "{\"half_life\": -1}", AT_EBAD_OPTION, "-1");
	expect_error(&j, "time_decay", "{\"half_life\": 0}", AT_EBAD_OPTION, "half_life");
	expect_error(&j, "time_decay", "{\"half_life\": \"7 fortnights\"}", AT_EBAD_OPTION, "7 fortnights");
	expect_error(&j, "time_decay", "{\"normalize\": 1}", AT_EBAD_OPTION, "normalize");
	expect_error(&j, "custom", NULL, AT_EBAD_WEIGHTS, "weights");
	expect_error(&j, "custom", "{\"weights\": {\"FT\": 0.5, \"LT\": 0.4}}", AT_EBAD_WEIGHTS, "0.9");
	expect_error(&j, "custom", "{\"weights\": {\"FT\": 1.5, \"LT\": -0.5}}", AT_EBAD_WEIGHTS, "-0.5");
	expect_error(&j, "custom", "{\"weights\": {\"XX\": 1}}", AT_EBAD_WEIGHTS, "XX");
	expect_error(&j, "custom", "{\"weights\": {\"FT\": 0.5, \"ft\": 0.5}}", AT_EBAD_WEIGHTS, "ft");
	expect_error(&j, "linear", "{\"exclude_channels\": \"direct\"}", AT_EBAD_OPTION, "exclude_channels");
	expect_error(&j, "linear", "{\"exclude_channels\": [1]}", AT_EBAD_OPTION, "exclude_channels");
	expect_error(&j, "linear", "[1]", AT_EBAD_OPTION, "object");
	expect_error(&j, "linear", "{\"collapse_repeats\": true, \"collapse_repeats\": false}",
				 AT_EBAD_OPTION, "twice");
}

int
main(void)
{
	test_env_init(&T);
	single_touch_models();
	even_and_index_models();
	milestone_models();
	custom_model();
	time_decay();
	preparation();
	bad_options();
	test_env_reset(&T);
	printf("models: %d checks, %d failed\n", test_checks, test_failures);
	return test_failures != 0;
}
