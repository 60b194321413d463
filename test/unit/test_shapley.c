/*
 * test_shapley.c — exact Shapley values over journeys' channel sets: small
 * examples worked out by hand below; the values against an independent
 * brute force over every ordering of the channels (the textbook definition)
 * on random models, through both ways of finding observed subsets; per-touch
 * weights; the global channel table; merging; byte and text forms; corrupt
 * values; the channel limit; cancellation.
 */
#include "dd_test_util.h"

#include <math.h>

#define EPS 1e-12

static test_env T;

typedef struct example
{
	const char *path;
	bool		converted;
	int			times;
} example;

static at_shapley_counts
fit(const example *ex, int n)
{
	at_shapley_fit *f;
	at_shapley_counts c;

	memset(&c, 0, sizeof(c));
	CHECK(at_shapley_fit_create(&T.env, &f) == AT_OK);
	for (int i = 0; i < n; i++)
		for (int t = 0; t < ex[i].times; t++)
		{
			at_journey	j = path(ex[i].path);

			CHECK(at_shapley_fit_add(&T.env, f, &j, ex[i].converted) == AT_OK);
		}
	CHECK(at_shapley_fit_counts(&T.env, f, &c) == AT_OK);
	return c;
}

static int64_t
channel(const at_shapley_counts *c, const char *name)
{
	return dd_find_sorted(c->channels, c->nchannels, name, (uint32_t) strlen(name));
}

/* Shapley values of the named channels (all seen) */
static void
expect_values(const at_shapley_model *m, int n, const char *const *names, const double *want)
{
	uint32_t	ids[16];
	double		phi[16],
				unseen;

	for (int i = 0; i < n; i++)
		ids[i] = (uint32_t) channel(m->counts, names[i]);	/* names given in sorted order */
	for (int mode = 0; mode <= 2; mode++)
	{
		CHECK(dd_shapley_values_mode(&T.env, m, ids, (uint32_t) n, 0, phi, &unseen, mode) == AT_OK);
		for (int i = 0; i < n; i++)
			CHECK_NEAR(phi[i], want[i], EPS);
	}
}

static void
expect_weights(const at_shapley_model *m, const char *p, const char *opts, const double *want)
{
	at_journey	j = path(p);
	at_options	o;
	double		w[64];
	uint32_t	pos[64],
				credited;

	CHECK(at_dd_options_parse(&T.env, "shapley", opts, opts ? strlen(opts) : 0, &o) == AT_OK);
	CHECK(at_shapley_touch_weights(&T.env, m, &j, &o, w, pos, &credited) == AT_OK);
	for (uint32_t i = 0; i < j.ntouches; i++)
		CHECK_NEAR(w[i], want[i], EPS);
}

/*
 * Example 1: two channels.
 *   {A}: 4 journeys, 1 converted -> v(A) = 1/4
 *   {B}: 2 journeys, 1 converted -> v(B) = 1/2
 *   {A,B}: 2 journeys, 2 converted -> v(AB) = 1;  v(empty) = 0 (never observed)
 * N = {A,B}: phi_A = 1/2 (v(A) - 0) + 1/2 (v(AB) - v(B)) = 1/8 + 1/4 = 3/8,
 *            phi_B = 1/2 (v(B) - 0) + 1/2 (v(AB) - v(A)) = 1/4 + 3/8 = 5/8  (sum v(AB) = 1).
 * Journey A B A: A's 3/8 split over its two touches, 3/16 each; B 5/8.
 * Channel table over converting journeys: {A} x1: A 1/4;  {B} x1: B 1/2;
 *   {A,B} x2: A 2 * 3/8 = 3/4, B 2 * 5/8 = 5/4.  A = 1/4 + 3/4 = 1, B = 1/2 + 5/4 = 7/4;
 *   shares 1 / (11/4) = 4/11 and 7/11.  Journeys A: 4 + 2 = 6 (3 converted), B: 2 + 2 = 4 (3).
 */
static const example EX1[] = {
	{"A", true, 1}, {"A", false, 3}, {"B", true, 1}, {"B", false, 1}, {"A B", true, 1},
	{"B A B", true, 1},
};

static void
example1(void)
{
	static const char *const ab[] = {"A", "B"};
	static const double phi[] = {3.0 / 8, 5.0 / 8};
	at_shapley_counts c;
	at_shapley_model m;
	double		value[2],
				share[2];

	test_env_reset(&T);
	c = fit(EX1, 6);
	CHECK(c.nchannels == 2 && c.ncoalitions == 3);
	CHECK(c.total_journeys == 8 && c.total_conversions == 4);
	CHECK(at_shapley_prepare(&T.env, &c, &m) == AT_OK);
	CHECK(m.ch_journeys[0] == 6 && m.ch_conversions[0] == 3);
	CHECK(m.ch_journeys[1] == 4 && m.ch_conversions[1] == 3);
	expect_values(&m, 2, ab, phi);
	{
		static const double w1[] = {3.0 / 16, 5.0 / 8, 3.0 / 16};
		static const double w2[] = {1};
		static const double w3[] = {0, 1};	/* unseen C: see below */
		static const double w4[] = {0, 1};	/* nothing seen: last touch */
		static const double w5[] = {3.0 / 8, 5.0 / 8, 0};	/* collapsed: A B (B) */

		expect_weights(&m, "A B A", NULL, w1);
		expect_weights(&m, "A", NULL, w2);

		/*
		 * C A, C never seen: N = {A, C}, the only observed subset is {A}:
		 * phi_A = 1/2 v(A) + 1/2 (v(AC) - v(C)) = 1/8, phi_C = 1/2 (0 - 0) + 1/2 (0 - v(A)) = -1/8
		 * -> clamped to 0; A gets 100%.
		 */
		expect_weights(&m, "C A", NULL, w3);
		expect_weights(&m, "C D", NULL, w4);
		expect_weights(&m, "A B B", "{\"collapse_repeats\": true}", w5);
	}
	CHECK(at_shapley_channels(&T.env, &m, value, share) == AT_OK);
	CHECK_NEAR(value[0], 1.0, EPS);
	CHECK_NEAR(value[1], 7.0 / 4, EPS);
	CHECK_NEAR(share[0], 4.0 / 11, EPS);
	CHECK_NEAR(share[1], 7.0 / 11, EPS);
}

/*
 * Example 2: three channels, n = 3 so w(0) = 1/3, w(1) = 1/6, w(2) = 1/3.
 *   v(A) = 1/2 (2 journeys, 1 conv), v(B) = 1/4 (4, 1), v(C) = 0 (1, 0),
 *   v(AB) = 1/2 (2, 1), v(AC) = 3/4 (4, 3), v(BC) = 1/4 (4, 1), v(ABC) = 1 (1, 1).
 * phi_A = 1/3 (1/2 - 0) + 1/6 (v(AB) - v(B)) + 1/6 (v(AC) - v(C)) + 1/3 (v(ABC) - v(BC))
 *       = 1/6 + 1/24 + 1/8 + 1/4 = 14/24 = 7/12
 * phi_B = 1/3 (1/4) + 1/6 (1/2 - 1/2) + 1/6 (1/4 - 0) + 1/3 (1 - 3/4) = 1/12 + 0 + 1/24 + 1/12 = 5/24
 * phi_C = 1/3 (0) + 1/6 (3/4 - 1/2) + 1/6 (1/4 - 1/4) + 1/3 (1 - 1/2) = 1/24 + 0 + 1/6 = 5/24
 * Sum 14/24 + 5/24 + 5/24 = 1 = v(ABC).
 */
static const example EX2[] = {
	{"A", true, 1}, {"A", false, 1}, {"B", true, 1}, {"B", false, 3}, {"C", false, 1},
	{"A B", true, 1}, {"B A", false, 1}, {"A C", true, 3}, {"C A C", false, 1},
	{"B C", true, 1}, {"C B", false, 3}, {"A B C", true, 1},
};

static void
example2(void)
{
	static const char *const abc[] = {"A", "B", "C"};
	static const double phi[] = {7.0 / 12, 5.0 / 24, 5.0 / 24};
	at_shapley_counts c;
	at_shapley_model m;

	test_env_reset(&T);
	c = fit(EX2, 12);
	CHECK(c.ncoalitions == 7);
	CHECK(at_shapley_prepare(&T.env, &c, &m) == AT_OK);
	expect_values(&m, 3, abc, phi);
	{
		/* A B C C: A 7/12, B 5/24, C 5/24 split over two touches: 5/48 each */
		static const double w[] = {7.0 / 12, 5.0 / 24, 5.0 / 48, 5.0 / 48};

		expect_weights(&m, "A B C C", NULL, w);
	}
}

/*
 * Example 3: a negative value is clamped.  v(A) = 1/2 (2, 1), v(AB) = 1/4 (4, 1),
 * B alone never observed.  N = {A,B}:
 *   phi_A = 1/2 (1/2 - 0) + 1/2 (1/4 - 0) = 3/8,  phi_B = 1/2 (0 - 0) + 1/2 (1/4 - 1/2) = -1/8.
 * Journey B A: B clamped to 0, A 100%.  Channel table: {A} x1 -> A 1/2; {A,B} x1 -> A 3/8,
 * B -1/8: A = 7/8, B = -1/8; shares A 1, B 0.
 */
static void
example3(void)
{
	static const example ex[] = {{"A", true, 1}, {"A", false, 1}, {"A B", true, 1},
	{"B A", false, 3}};
	static const char *const ab[] = {"A", "B"};
	static const double phi[] = {3.0 / 8, -1.0 / 8};
	static const double w[] = {0, 1};
	at_shapley_counts c;
	at_shapley_model m;
	double		value[2],
				share[2];

	test_env_reset(&T);
	c = fit(ex, 4);
	CHECK(at_shapley_prepare(&T.env, &c, &m) == AT_OK);
	expect_values(&m, 2, ab, phi);
	expect_weights(&m, "B A", NULL, w);
	CHECK(at_shapley_channels(&T.env, &m, value, share) == AT_OK);
	CHECK_NEAR(value[0], 7.0 / 8, EPS);
	CHECK_NEAR(value[1], -1.0 / 8, EPS);
	CHECK_NEAR(share[0], 1, EPS);
	CHECK_NEAR(share[1], 0, EPS);
}

/*
 * Example 4: journeys without touches make v(empty) > 0.
 *   v(empty) = 1/2 (2 journeys, 1 converted), v(A) = 1 (1, 1), v(B) = 0 (1, 0), v(AB) = 1 (1, 1).
 * N = {A,B}: phi_A = 1/2 (1 - 1/2) + 1/2 (1 - 0) = 3/4, phi_B = 1/2 (0 - 1/2) + 1/2 (1 - 1) = -1/4;
 * sum = v(AB) - v(empty) = 1/2.  N = {B}: phi_B = 0 - 1/2 = -1/2: all clamped, last touch.
 */
static void
example4(void)
{
	static const example ex[] = {{"", true, 1}, {"", false, 1}, {"A", true, 1}, {"B", false, 1},
	{"A B", true, 1}};
	static const char *const ab[] = {"A", "B"};
	static const double phi[] = {3.0 / 4, -1.0 / 4};
	static const double w[] = {0, 1};
	at_shapley_counts c;
	at_shapley_model m;

	test_env_reset(&T);
	c = fit(ex, 5);
	CHECK(c.ncoalitions == 4 && c.off[1] == 0);	/* the empty set sorts first */
	CHECK(at_shapley_prepare(&T.env, &c, &m) == AT_OK);
	CHECK_NEAR(m.v_empty, 0.5, EPS);
	expect_values(&m, 2, ab, phi);
	expect_weights(&m, "B B", NULL, w);
}

/* ------------------------------------------------------------------ */
/* Brute force: the average marginal contribution over every ordering    */
/* ------------------------------------------------------------------ */

static double
v_of(const at_shapley_counts *c, const uint32_t *ids, uint32_t mask)
{
	uint32_t	set[16],
				n = 0;

	for (uint32_t i = 0; i < 16; i++)
		if (mask & (1u << i))
			set[n++] = ids[i];
	for (uint32_t k = 0; k < c->ncoalitions; k++)
		if (c->off[k + 1] - c->off[k] == n &&
			(n == 0 || memcmp(c->members + c->off[k], set, n * sizeof(uint32_t)) == 0))
			return (double) c->conversions[k] / (double) c->journeys[k];
	return 0;
}

static void
brute_force(const at_shapley_counts *c, const uint32_t *ids, uint32_t n, double *phi)
{
	uint32_t	perm[16];
	double		count = 0;

	for (uint32_t i = 0; i < n; i++)
	{
		perm[i] = i;
		phi[i] = 0;
	}
	for (;;)
	{
		uint32_t	mask = 0;
		int			i,
					j;

		for (uint32_t k = 0; k < n; k++)
		{
			double		before = v_of(c, ids, mask);

			mask |= 1u << perm[k];
			phi[perm[k]] += v_of(c, ids, mask) - before;
		}
		count++;
		/* next permutation */
		for (i = (int) n - 2; i >= 0 && perm[i] > perm[i + 1]; i--)
			;
		if (i < 0)
			break;
		for (j = (int) n - 1; perm[j] < perm[i]; j--)
			;
		{
			uint32_t	t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
		for (int a = i + 1, b = (int) n - 1; a < b; a++, b--)
		{
			uint32_t	t = perm[a];

			perm[a] = perm[b];
			perm[b] = t;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		phi[i] /= count;
}

static void
random_models(void)
{
	char		buf[512];

	for (int round = 0; round < 12; round++)
	{
		at_shapley_fit *f;
		at_shapley_counts c;
		at_shapley_model m;
		uint32_t	nch = 3 + (uint32_t) round % 5;

		test_env_reset(&T);
		rng_state = 99 + (uint64_t) round;
		CHECK(at_shapley_fit_create(&T.env, &f) == AT_OK);
		for (int i = 0; i < 400; i++)
		{
			at_journey	j = path(round % 3 == 0 && rnd(20) == 0 ? "" : random_path(nch, 6, buf));

			CHECK(at_shapley_fit_add(&T.env, f, &j, rnd(3) == 0 || (j.ntouches > 0 && j.touches[0].channel == 1)) == AT_OK);
		}
		CHECK(at_shapley_fit_counts(&T.env, f, &c) == AT_OK);
		CHECK(at_shapley_prepare(&T.env, &c, &m) == AT_OK);
		/* every channel set, seen or not, up to all channels */
		for (uint32_t mask = 1; mask < (1u << c.nchannels); mask += 1 + rnd(3))
		{
			uint32_t	ids[16],
						n = 0;
			double		want[16],
						phi[16],
						unseen,
						sum = 0;

			for (uint32_t i = 0; i < c.nchannels; i++)
				if (mask & (1u << i))
					ids[n++] = i;
			brute_force(&c, ids, n, want);
			for (int mode = 0; mode <= 2; mode++)
			{
				CHECK(dd_shapley_values_mode(&T.env, &m, ids, n, 0, phi, &unseen, mode) == AT_OK);
				for (uint32_t i = 0; i < n; i++)
					CHECK_NEAR(phi[i], want[i], 1e-12);
			}
			/* efficiency: the values sum to v(N) - v(empty) */
			for (uint32_t i = 0; i < n; i++)
				sum += phi[i];
			CHECK_NEAR(sum, v_of(&c, ids, (1u << n) - 1) - m.v_empty, 1e-12);
		}
		/* unseen channels: their value is as if they were seen and never observed */
		{
			uint32_t	ids[2] = {0, 1};
			double		phi[3],
						unseen,
						want[3];
			uint32_t	ids3[3] = {0, 1, 0};

			CHECK(at_shapley_values(&T.env, &m, ids, 2, 1, phi, &unseen) == AT_OK);
			/* brute force with a third id no coalition holds */
			ids3[2] = 1u << 20;
			brute_force(&c, ids3, 3, want);
			CHECK_NEAR(phi[0], want[0], 1e-12);
			CHECK_NEAR(phi[1], want[1], 1e-12);
			CHECK_NEAR(unseen, want[2], 1e-12);
		}
	}
}

/* Fitting in one go equals fitting parts and merging them, in any order. */
static void
merging(void)
{
	char		buf[512];
	at_shapley_fit *all,
			   *part[3],
			   *m1,
			   *m2;
	at_shapley_counts c,
				pc[3];
	uint8_t    *b1,
			   *b2,
			   *b3;
	size_t		l1,
				l2,
				l3;

	test_env_reset(&T);
	rng_state = 5150;
	CHECK(at_shapley_fit_create(&T.env, &all) == AT_OK);
	for (int p = 0; p < 3; p++)
		CHECK(at_shapley_fit_create(&T.env, &part[p]) == AT_OK);
	for (int i = 0; i < 500; i++)
	{
		at_journey	j = path(rnd(30) == 0 ? "" : random_path(9, 7, buf));
		bool		conv = rnd(3) == 0;

		CHECK(at_shapley_fit_add(&T.env, all, &j, conv) == AT_OK);
		CHECK(at_shapley_fit_add(&T.env, part[rnd(3)], &j, conv) == AT_OK);
	}
	CHECK(at_shapley_fit_counts(&T.env, all, &c) == AT_OK);
	CHECK(at_shapley_encode(&T.env, &c, &b1, &l1) == AT_OK);
	for (int p = 0; p < 3; p++)
	{
		uint8_t    *b;
		size_t		l;

		CHECK(at_shapley_fit_counts(&T.env, part[p], &pc[p]) == AT_OK);
		CHECK(at_shapley_encode(&T.env, &pc[p], &b, &l) == AT_OK);
		CHECK(at_shapley_decode(&T.env, b, l, &pc[p]) == AT_OK);
	}
	CHECK(at_shapley_fit_create(&T.env, &m1) == AT_OK);
	CHECK(at_shapley_fit_create(&T.env, &m2) == AT_OK);
	for (int p = 0; p < 3; p++)
	{
		CHECK(at_shapley_fit_add_counts(&T.env, m1, &pc[p]) == AT_OK);
		CHECK(at_shapley_fit_add_counts(&T.env, m2, &pc[2 - p]) == AT_OK);
	}
	CHECK(at_shapley_fit_counts(&T.env, m1, &c) == AT_OK);
	CHECK(at_shapley_encode(&T.env, &c, &b2, &l2) == AT_OK);
	CHECK(at_shapley_fit_counts(&T.env, m2, &c) == AT_OK);
	CHECK(at_shapley_encode(&T.env, &c, &b3, &l3) == AT_OK);
	CHECK(l1 == l2 && memcmp(b1, b2, l1) == 0);
	CHECK(l1 == l3 && memcmp(b1, b3, l1) == 0);
}

static void
text_form(void)
{
	at_shapley_counts c,
				back;
	char	   *s;
	size_t		len;
	uint8_t    *b1,
			   *b2;
	size_t		l1,
				l2;

	test_env_reset(&T);
	c = fit(EX1, 6);
	CHECK(at_shapley_to_text(&T.env, &c, &s, &len) == AT_OK);
	CHECK_STR(s, "{\"type\":\"shapley\",\"version\":1,\"journeys\":8,\"conversions\":4,"
			  "\"coalitions\":[[[\"A\"],4,1],[[\"A\",\"B\"],2,2],[[\"B\"],2,1]]}");
	CHECK(at_shapley_from_text(&T.env, s, len, &back) == AT_OK);
	CHECK(at_shapley_encode(&T.env, &c, &b1, &l1) == AT_OK);
	CHECK(at_shapley_encode(&T.env, &back, &b2, &l2) == AT_OK);
	CHECK(l1 == l2 && memcmp(b1, b2, l1) == 0);
	{
		const char *any = "{\"coalitions\":[[[\"B\",\"A\"],2,2],[[],1,0],[[\"A\"],4,1]],"
			"\"type\":\"shapley\",\"version\":1,\"journeys\":7,\"conversions\":3}";

		CHECK(at_shapley_from_text(&T.env, any, strlen(any), &back) == AT_OK);
		CHECK(back.ncoalitions == 3 && back.off[1] == 0 && back.off[2] == 1);
	}
	{
		static const char *const bad[] = {
			"{}",
			"{\"type\":\"markov\",\"version\":1,\"journeys\":1,\"conversions\":0,\"coalitions\":[[[],1,0]]}",
			"{\"type\":\"shapley\",\"version\":1,\"journeys\":1,\"conversions\":0,\"coalitions\":[]}",
			"{\"type\":\"shapley\",\"version\":1,\"journeys\":1,\"conversions\":2,\"coalitions\":[[[\"a\"],1,2]]}",
			"{\"type\":\"shapley\",\"version\":1,\"journeys\":2,\"conversions\":0,\"coalitions\":[[[\"a\"],1,0],[[\"a\"],1,0]]}",
			"{\"type\":\"shapley\",\"version\":1,\"journeys\":1,\"conversions\":0,\"coalitions\":[[[\"a\",\"a\"],1,0]]}",
			"{\"type\":\"shapley\",\"version\":1,\"journeys\":9,\"conversions\":0,\"coalitions\":[[[\"a\"],1,0]]}",
			"{\"type\":\"shapley\",\"version\":1,\"journeys\":1,\"conversions\":0,\"coalitions\":[[[\"\"],1,0]]}",
			"{\"type\":\"shapley\",\"version\":1,\"journeys\":1,\"conversions\":0,\"coalitions\":[[[1],1,0]]}",
			"{\"type\":\"shapley\",\"version\":1,\"journeys\":0,\"conversions\":0,\"coalitions\":[[[\"a\"],0,0]]}",
			"{\"type\":\"shapley\",\"version\":1,\"journeys\":1,\"conversions\":0,\"coalitions\":[[[\"a\"],1,0]],\"x\":1}",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		{
			at_status	st = at_shapley_from_text(&T.env, bad[i], strlen(bad[i]), &back);

			test_checks++;
			if (st != AT_ESYNTAX)
			{
				test_failures++;
				fprintf(stderr, "bad text %zu accepted (status %d)\n", i, (int) st);
			}
		}
	}
}

static void
corrupt_bytes(void)
{
	at_shapley_counts c,
				d;
	uint8_t    *b,
			   *x;
	size_t		len;

	test_env_reset(&T);
	c = fit(EX2, 12);
	CHECK(at_shapley_encode(&T.env, &c, &b, &len) == AT_OK);
	CHECK(at_shapley_decode(&T.env, b, len, &d) == AT_OK);
	x = malloc(len + 1);
	for (size_t n = 0; n < len; n++)
		CHECK(at_shapley_decode(&T.env, b, n, &d) == AT_ECORRUPT);
	memcpy(x, b, len);
	x[len] = 0;
	CHECK(at_shapley_decode(&T.env, x, len + 1, &d) == AT_ECORRUPT);
	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit++)
		{
			at_status	st;

			memcpy(x, b, len);
			x[i] ^= (uint8_t) (1u << bit);
			CHECK(at_shapley_decode(&T.env, x, len, &d) == AT_ECORRUPT);
			if (i >= 16 && i < 24)
				continue;
			reseal(x, len);
			st = at_shapley_decode(&T.env, x, len, &d);
			if (st == AT_OK)
			{
				uint8_t    *y;
				size_t		ylen;

				CHECK(at_shapley_encode(&T.env, &d, &y, &ylen) == AT_OK);
				CHECK(ylen == len && memcmp(x, y, len) == 0);
			}
			else
				CHECK(st == AT_ECORRUPT);
		}
	free(x);
	/* a Markov model is not a Shapley model */
	{
		static const uint8_t m[24] = {'M', 1, 1, 0};

		CHECK(at_shapley_decode(&T.env, m, 24, &d) == AT_ECORRUPT);
		CHECK(strstr(T.err.message, "not a shapley model") != NULL);
	}
}

/* The unique-channel limit, and cancellation of a long computation. */
static void
limits(void)
{
	static char big[DD_MAX_PATH * 8];
	char	   *w = big;
	at_shapley_fit *f;
	at_shapley_counts c;
	at_shapley_model m;
	at_journey	j;
	double		value[AT_SHAPLEY_MAX_CHANNELS + 1],
				share[AT_SHAPLEY_MAX_CHANNELS + 1];

	for (int i = 0; i < AT_SHAPLEY_MAX_CHANNELS + 1; i++)
		w += sprintf(w, "%sc%d", i ? " " : "", i);
	j = path(big);
	test_env_reset(&T);
	CHECK(at_shapley_fit_create(&T.env, &f) == AT_OK);
	CHECK(at_shapley_fit_add(&T.env, f, &j, true) == AT_ELIMIT);
	CHECK(strstr(T.err.detail, "1001 unique channels") != NULL);

	/* exactly the limit works, and its values are exact: one observed set, v = 1 */
	j.ntouches--;
	j.nchannels--;
	test_env_reset(&T);
	CHECK(at_shapley_fit_create(&T.env, &f) == AT_OK);
	CHECK(at_shapley_fit_add(&T.env, f, &j, true) == AT_OK);
	CHECK(at_shapley_fit_counts(&T.env, f, &c) == AT_OK);
	CHECK(at_shapley_prepare(&T.env, &c, &m) == AT_OK);
	CHECK(at_shapley_channels(&T.env, &m, value, share) == AT_OK);
	/* N = T = all 1000: phi_i = w(999) v(N) = 1/1000 for each (symmetry) */
	CHECK_NEAR(value[0], 1.0 / AT_SHAPLEY_MAX_CHANNELS, 1e-15);
	CHECK_NEAR(share[AT_SHAPLEY_MAX_CHANNELS - 1], 1.0 / AT_SHAPLEY_MAX_CHANNELS, 1e-15);

	/* many converting sets: the channel table polls the interrupt hook */
	{
		char		buf[512];

		test_env_reset(&T);
		rng_state = 31337;
		CHECK(at_shapley_fit_create(&T.env, &f) == AT_OK);
		for (int i = 0; i < 300; i++)
		{
			at_journey	r = path(random_path(12, 12, buf));

			CHECK(at_shapley_fit_add(&T.env, f, &r, true) == AT_OK);
		}
		CHECK(at_shapley_fit_counts(&T.env, f, &c) == AT_OK);
		CHECK(at_shapley_prepare(&T.env, &c, &m) == AT_OK);
		T.cancel_after = 5;
		CHECK(at_shapley_channels(&T.env, &m, value, share) == AT_ECANCELED);
	}
}

int
main(void)
{
	test_env_init(&T);
	example1();
	example2();
	example3();
	example4();
	random_models();
	merging();
	text_form();
	corrupt_bytes();
	limits();
	test_env_reset(&T);
	printf("shapley: %d checks, %d failed\n", test_checks, test_failures);
	return test_failures != 0;
}
