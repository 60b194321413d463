/*
 * test_markov.c — Markov chains of order 1..4: fits, removal effects and
 * per-touch weights on small examples worked out by hand below; the solver
 * against an independent dense Gaussian elimination (long double, self-loops
 * kept, partial pivoting) on random chains, both its direct and its iterative
 * path; merging in any order; byte and text forms; corrupt values; limits,
 * cancellation and out-of-memory.
 */
#include "dd_test_util.h"

#include <math.h>

#define EPS 1e-12

static test_env T;

typedef struct example
{
	const char *path;
	bool		converted;
} example;

/* fit the examples (order k) and return the canonical counts */
static at_markov_counts
fit(const example *ex, int n, uint32_t k)
{
	at_markov_fit *f;
	at_markov_counts c;

	memset(&c, 0, sizeof(c));
	CHECK(at_markov_fit_create(&T.env, k, &f) == AT_OK);
	for (int i = 0; i < n; i++)
	{
		at_journey	j = path(ex[i].path);

		CHECK(at_markov_fit_add(&T.env, f, &j, ex[i].converted) == AT_OK);
	}
	CHECK(at_markov_fit_counts(&T.env, f, &c) == AT_OK);
	return c;
}

static int64_t
channel(const at_markov_counts *c, const char *name)
{
	return dd_find_sorted(c->channels, c->nchannels, name, (uint32_t) strlen(name));
}

static void
expect_re(const at_markov_model *m, const char *name, double re, double w)
{
	int64_t		ch = channel(m->counts, name);

	CHECK(ch >= 0);
	if (ch < 0)
		return;
	CHECK_NEAR(m->removal_effect[ch], re, EPS);
	CHECK_NEAR(m->weight[ch], w, EPS);
}

static void
expect_weights(const at_markov_model *m, const char *p, const char *opts, const double *want)
{
	at_journey	j = path(p);
	at_options	o;
	double		w[64];
	uint32_t	pos[64],
				credited;

	CHECK(at_dd_options_parse(&T.env, "markov", opts, opts ? strlen(opts) : 0, &o) == AT_OK);
	CHECK(at_markov_touch_weights(&T.env, m, &j, &o, w, pos, &credited) == AT_OK);
	for (uint32_t i = 0; i < j.ntouches; i++)
		CHECK_NEAR(w[i], want[i], EPS);
}

/*
 * Example 1, order 1.
 *   J1: A B -> conversion    J2: A -> null    J3: B -> conversion    J4: B A -> null
 * Transitions: start->A 2, start->B 2; A->B 1, A->null 2; B->conv 2, B->A 1.
 *   x_A = 1/3 x_B;  x_B = 2/3 + 1/3 x_A  =>  x_B = 2/3 + 1/9 x_B  =>  x_B = 3/4, x_A = 1/4.
 *   P = 1/2 x_A + 1/2 x_B = 1/8 + 3/8 = 1/2  (= 2 conversions / 4 journeys).
 * Remove A (A's state -> null): x_B = 2/3, P_A = 1/2 * 2/3 = 1/3, RE(A) = 1 - (1/3)/(1/2) = 1/3.
 * Remove B: x_A = 0 (A->B now null), P_B = 0, RE(B) = 1.
 * Weights: A = (1/3)/(4/3) = 1/4, B = 1/(4/3) = 3/4.
 * Journey B A B: 3/4, 1/4, 3/4 normalized by 7/4 -> 3/7, 1/7, 3/7.
 */
static const example EX1[] = {{"A B", true}, {"A", false}, {"B", true}, {"B A", false}};

static void
example1(void)
{
	at_markov_counts c;
	at_markov_model m;
	double		p;

	test_env_reset(&T);
	c = fit(EX1, 4, 1);
	CHECK(c.journeys == 4 && c.conversions == 2);
	CHECK(c.nchannels == 2 && c.nstates == 2 && c.ntrans == 6);
	CHECK(c.ch_journeys[0] == 3 && c.ch_conversions[0] == 1);	/* A: J1, J2, J4; J1 */
	CHECK(c.ch_journeys[1] == 3 && c.ch_conversions[1] == 2);	/* B: J1, J3, J4; J1, J3 */
	CHECK(at_markov_probability(&T.env, &c, -1, &p, NULL) == AT_OK);
	CHECK_NEAR(p, 0.5, EPS);
	CHECK(at_markov_probability(&T.env, &c, 0, &p, NULL) == AT_OK);
	CHECK_NEAR(p, 1.0 / 3, EPS);
	CHECK(at_markov_probability(&T.env, &c, 1, &p, NULL) == AT_OK);
	CHECK_NEAR(p, 0, EPS);
	CHECK(at_markov_solve(&T.env, &c, &m) == AT_OK);
	CHECK_NEAR(m.p_conversion, 0.5, EPS);
	expect_re(&m, "A", 1.0 / 3, 0.25);
	expect_re(&m, "B", 1.0, 0.75);
	{
		static const double w1[] = {3.0 / 7, 1.0 / 7, 3.0 / 7};
		static const double w2[] = {0.25, 0.75};
		static const double w3[] = {0, 1};		/* C never seen: weight 0 */
		static const double w4[] = {0, 1};		/* nothing seen: last touch */
		static const double w5[] = {0, 0, 1};	/* B excluded: A alone */
		static const double w7[] = {1.0 / 7, 3.0 / 7, 3.0 / 7};

		expect_weights(&m, "B A B", NULL, w1);
		expect_weights(&m, "A B", NULL, w2);
		expect_weights(&m, "C A", NULL, w3);
		expect_weights(&m, "C D", NULL, w4);
		expect_weights(&m, "B B A", "{\"exclude_channels\": [\"B\"]}", w5);
		expect_weights(&m, "A B B", NULL, w7);
		{
			/* collapse_repeats: A B B -> A B, weights 1/4, 3/4, 0 */
			static const double w8[] = {0.25, 0.75, 0};

			expect_weights(&m, "A B B", "{\"collapse_repeats\": true}", w8);
		}
	}
}

/*
 * Self-loops (order 1): J1 becomes A A B.  A's self-loop A->A is new, every
 * other count is unchanged, and A still leaves by A->B 1, A->null 2; a
 * self-loop never changes an absorption probability, so RE and weights are
 * those of example 1.
 */
static void
self_loops(void)
{
	static const example ex[] = {{"A A B", true}, {"A", false}, {"B", true}, {"B A", false}};
	at_markov_counts c;
	at_markov_model m;

	test_env_reset(&T);
	c = fit(ex, 4, 1);
	CHECK(c.ntrans == 7);
	CHECK(at_markov_solve(&T.env, &c, &m) == AT_OK);
	expect_re(&m, "A", 1.0 / 3, 0.25);
	expect_re(&m, "B", 1.0, 0.75);
	/* order 2 keeps (A,A) as a state of its own: A A B is start->(A)->(A,A)->(A,B) */
	c = fit(ex, 4, 2);
	CHECK(c.nstates == 5);		/* (A) (A,A) (A,B) (B) (B,A) */
}

/*
 * Example 2, orders 1 and 2.
 *   J1: A B -> conversion    J2: C B -> null    J3: A -> null
 * Order 1: start->A 2, start->C 1; A->B 1, A->null 1; C->B 1; B->conv 1, B->null 1.
 *   x_B = 1/2, x_A = 1/2 x_B = 1/4, x_C = x_B = 1/2;  P = 2/3 1/4 + 1/3 1/2 = 1/3.
 *   Remove A: P = 1/3 x_C = 1/6, RE = 1/2.  Remove B: P = 0, RE = 1.
 *   Remove C: P = 2/3 1/4 = 1/6, RE = 1/2.  Weights 1/4, 1/2, 1/4.
 * Order 2: states (A), (C), (A,B), (C,B):
 *   start->(A) 2, start->(C) 1; (A)->(A,B) 1, (A)->null 1; (C)->(C,B) 1;
 *   (A,B)->conv 1; (C,B)->null 1.
 *   x(A,B) = 1, x(C,B) = 0, x(A) = 1/2, x(C) = 0;  P = 2/3 1/2 = 1/3.
 *   Remove A: only start->(C)->(C,B)->null is left, P = 0, RE = 1.
 *   Remove B: (A,B), (C,B) -> null, P = 0, RE = 1.
 *   Remove C: P = 2/3 1/2 = 1/3, RE = 0.   Weights 1/2, 1/2, 0.
 */
static void
example2(void)
{
	static const example ex[] = {{"A B", true}, {"C B", false}, {"A", false}};
	at_markov_counts c;
	at_markov_model m;

	test_env_reset(&T);
	c = fit(ex, 3, 1);
	CHECK(at_markov_solve(&T.env, &c, &m) == AT_OK);
	CHECK_NEAR(m.p_conversion, 1.0 / 3, EPS);
	expect_re(&m, "A", 0.5, 0.25);
	expect_re(&m, "B", 1.0, 0.5);
	expect_re(&m, "C", 0.5, 0.25);
	c = fit(ex, 3, 2);
	CHECK(c.nstates == 4);
	CHECK(at_markov_solve(&T.env, &c, &m) == AT_OK);
	expect_re(&m, "A", 1.0, 0.5);
	expect_re(&m, "B", 1.0, 0.5);
	expect_re(&m, "C", 0.0, 0.0);
}

/*
 * Example 3, orders 1 and 3.
 *   J1: A B C D -> conversion    J2: A B C -> null    J3: D -> null
 * Order 1: start->A 2, start->D 1; A->B 2; B->C 2; C->D 1, C->null 1; D->conv 1, D->null 1.
 *   x_D = 1/2, x_C = 1/2 x_D = 1/4, x_B = x_A = 1/4;  P = 2/3 1/4 + 1/3 1/2 = 1/3.
 *   Remove A, B or C: only start->D is left, P = 1/3 1/2 = 1/6, RE = 1/2 each.
 *   Remove D: P = 0, RE = 1.  Sum RE = 5/2: weights 1/5, 1/5, 1/5, 2/5.
 * Order 3: states (A), (A,B), (A,B,C), (B,C,D), (D):
 *   start->(A) 2, start->(D) 1; (A)->(A,B) 2; (A,B)->(A,B,C) 2;
 *   (A,B,C)->(B,C,D) 1, (A,B,C)->null 1; (B,C,D)->conv 1; (D)->null 1.
 *   x(B,C,D) = 1, x(A,B,C) = x(A,B) = x(A) = 1/2, x(D) = 0;  P = 2/3 1/2 = 1/3.
 *   Removing any of A, B, C, D cuts the one converting path: RE = 1 each, weights 1/4.
 */
static void
example3(void)
{
	static const example ex[] = {{"A B C D", true}, {"A B C", false}, {"D", false}};
	at_markov_counts c;
	at_markov_model m;

	test_env_reset(&T);
	c = fit(ex, 3, 1);
	CHECK(at_markov_solve(&T.env, &c, &m) == AT_OK);
	expect_re(&m, "A", 0.5, 0.2);
	expect_re(&m, "B", 0.5, 0.2);
	expect_re(&m, "C", 0.5, 0.2);
	expect_re(&m, "D", 1.0, 0.4);
	c = fit(ex, 3, 3);
	CHECK(c.nstates == 5 && c.ntrans == 8);
	CHECK(at_markov_solve(&T.env, &c, &m) == AT_OK);
	expect_re(&m, "A", 1.0, 0.25);
	expect_re(&m, "D", 1.0, 0.25);
}

/* The text form shows the states: order 4, prefixes then shifts. */
static void
text_form(void)
{
	static const example ex[] = {{"A B C D E", true}, {"E", false}};
	at_markov_counts c,
				back;
	char	   *s;
	size_t		len;
	uint8_t    *b1,
			   *b2;
	size_t		l1,
				l2;

	test_env_reset(&T);
	c = fit(ex, 2, 4);
	CHECK(at_markov_to_text(&T.env, &c, &s, &len) == AT_OK);
	CHECK_STR(s, "{\"type\":\"markov\",\"version\":1,\"order\":4,\"journeys\":2,\"conversions\":1,"
			  "\"channels\":[[\"A\",1,1],[\"B\",1,1],[\"C\",1,1],[\"D\",1,1],[\"E\",2,1]],"
			  "\"transitions\":[[\"start\",[\"A\"],1],[\"start\",[\"E\"],1],"
			  "[[\"A\"],[\"A\",\"B\"],1],[[\"A\",\"B\"],[\"A\",\"B\",\"C\"],1],"
			  "[[\"A\",\"B\",\"C\"],[\"A\",\"B\",\"C\",\"D\"],1],"
			  "[[\"A\",\"B\",\"C\",\"D\"],[\"B\",\"C\",\"D\",\"E\"],1],"
			  "[[\"B\",\"C\",\"D\",\"E\"],\"conversion\",1],[[\"E\"],\"null\",1]]}");
	CHECK(at_markov_from_text(&T.env, s, len, &back) == AT_OK);
	CHECK(at_markov_encode(&T.env, &c, &b1, &l1) == AT_OK);
	CHECK(at_markov_encode(&T.env, &back, &b2, &l2) == AT_OK);
	CHECK(l1 == l2 && memcmp(b1, b2, l1) == 0);
	/* text in any order reads to the same canonical value */
	{
		const char *any = "{\"order\":1,\"type\":\"markov\",\"version\":1,\"journeys\":1,"
			"\"conversions\":1,\"transitions\":[[[\"b\"],\"conversion\",1],"
			"[[\"a\"],[\"b\"],1],[\"start\",[\"a\"],1]],"
			"\"channels\":[[\"b\",1,1],[\"a\",1,1]]}";

		CHECK(at_markov_from_text(&T.env, any, strlen(any), &back) == AT_OK);
		if (T.err.status != AT_OK)
			fprintf(stderr, "  %s\n", T.err.message);
	}
	CHECK(back.nchannels == 2 && back.trans[0].from == 0 && back.trans[0].to == 1);
}

static at_status
text_error(const char *s)
{
	at_markov_counts c;

	return at_markov_from_text(&T.env, s, strlen(s), &c);
}

static void
bad_text(void)
{
	test_env_reset(&T);
	CHECK(text_error("[]") == AT_ESYNTAX);
	CHECK(text_error("{\"type\":\"markov\"") == AT_ESYNTAX);
	CHECK(text_error("{\"type\":\"markov\",\"version\":1,\"order\":5,\"journeys\":0,"
					 "\"conversions\":0,\"channels\":[],\"transitions\":[]}") == AT_ESYNTAX);
	CHECK(strstr(T.err.message, "order") != NULL);
	/* flow: a enters once, leaves twice */
	CHECK(text_error("{\"type\":\"markov\",\"version\":1,\"order\":1,\"journeys\":1,"
					 "\"conversions\":1,\"channels\":[[\"a\",1,1]],\"transitions\":"
					 "[[\"start\",[\"a\"],1],[[\"a\"],\"conversion\",1],[[\"a\"],\"null\",1]]}")
		  == AT_ESYNTAX);
	CHECK(strstr(T.err.message, "entered 1 times but left 2 times") != NULL);
	/* shape: (a) cannot go to (b,c) in order 2 */
	CHECK(text_error("{\"type\":\"markov\",\"version\":1,\"order\":2,\"journeys\":1,"
					 "\"conversions\":0,\"channels\":[[\"a\",1,0],[\"b\",1,0],[\"c\",1,0]],"
					 "\"transitions\":[[\"start\",[\"a\"],1],[[\"a\"],[\"b\",\"c\"],1],"
					 "[[\"b\",\"c\"],\"null\",1]]}") == AT_ESYNTAX);
	CHECK(strstr(T.err.message, "cannot follow") != NULL);
	/* unknown channel, repeated transition, totals that do not match */
	CHECK(text_error("{\"type\":\"markov\",\"version\":1,\"order\":1,\"journeys\":1,"
					 "\"conversions\":0,\"channels\":[],\"transitions\":"
					 "[[\"start\",[\"a\"],1]]}") == AT_ESYNTAX);
	CHECK(strstr(T.err.message, "not in \"channels\"") != NULL);
	CHECK(text_error("{\"type\":\"markov\",\"version\":1,\"order\":1,\"journeys\":2,"
					 "\"conversions\":0,\"channels\":[],\"transitions\":"
					 "[[\"start\",\"null\",1],[\"start\",\"null\",1]]}") == AT_ESYNTAX);
	CHECK(text_error("{\"type\":\"markov\",\"version\":1,\"order\":1,\"journeys\":3,"
					 "\"conversions\":0,\"channels\":[],\"transitions\":"
					 "[[\"start\",\"null\",2]]}") == AT_ESYNTAX);
	CHECK(strstr(T.err.message, "do not match") != NULL);
	CHECK(text_error("{\"type\":\"markov\",\"version\":1,\"order\":1,\"journeys\":1,"
					 "\"conversions\":0,\"channels\":[],\"transitions\":"
					 "[[\"start\",\"null\",-1]]}") == AT_ESYNTAX);
	CHECK(text_error("{\"type\":\"markov\",\"version\":2,\"order\":1,\"journeys\":1,"
					 "\"conversions\":0,\"channels\":[],\"transitions\":[]}") == AT_ESYNTAX);
	/* a channel that no state uses */
	CHECK(text_error("{\"type\":\"markov\",\"version\":1,\"order\":1,\"journeys\":1,"
					 "\"conversions\":0,\"channels\":[[\"z\",1,0]],\"transitions\":"
					 "[[\"start\",\"null\",1]]}") == AT_ESYNTAX);
}

/*
 * Every truncation and every single-byte change of a real model is rejected:
 * changed bytes by the checksum; and with the checksum recomputed, by the
 * structural checks (or it decodes to a value that re-encodes to itself).
 */
static void
corrupt_bytes(void)
{
	at_markov_counts c,
				d;
	uint8_t    *b,
			   *x;
	size_t		len;

	test_env_reset(&T);
	c = fit(EX1, 4, 2);
	CHECK(at_markov_encode(&T.env, &c, &b, &len) == AT_OK);
	CHECK(at_markov_decode(&T.env, b, len, &d) == AT_OK);
	x = malloc(len + 1);
	for (size_t n = 0; n < len; n++)
		CHECK(at_markov_decode(&T.env, b, n, &d) == AT_ECORRUPT);
	memcpy(x, b, len);
	x[len] = 0;
	CHECK(at_markov_decode(&T.env, x, len + 1, &d) == AT_ECORRUPT);
	for (size_t i = 0; i < len; i++)
	{
		for (int bit = 0; bit < 8; bit++)
		{
			at_status	st;

			memcpy(x, b, len);
			x[i] ^= (uint8_t) (1u << bit);
			test_checks++;
			if (at_markov_decode(&T.env, x, len, &d) != AT_ECORRUPT)
			{
				test_failures++;
				fprintf(stderr, "flip of byte %zu bit %d accepted\n", i, bit);
			}
			if (i >= 16 && i < 24)
				continue;
			reseal(x, len);
			st = at_markov_decode(&T.env, x, len, &d);
			test_checks++;
			if (st == AT_OK)
			{
				uint8_t    *y;
				size_t		ylen;

				/* a resealed change that still decodes must be a valid, canonical model */
				if (at_markov_encode(&T.env, &d, &y, &ylen) != AT_OK || ylen != len ||
					memcmp(x, y, len) != 0)
				{
					test_failures++;
					fprintf(stderr, "resealed flip of byte %zu bit %d decodes non-canonically\n",
							i, bit);
				}
			}
			else if (st != AT_ECORRUPT)
			{
				test_failures++;
				fprintf(stderr, "resealed flip of byte %zu: status %d\n", i, (int) st);
			}
		}
	}
	free(x);
}

/* Fitting in one go equals fitting parts and merging them in any order. */
static void
merging(void)
{
	char		buf[512];

	for (uint32_t k = 1; k <= AT_MARKOV_MAX_ORDER; k++)
	{
		at_markov_fit *all,
				   *part[3],
				   *m1,
				   *m2;
		at_markov_counts c,
					pc[3];
		uint8_t    *b1,
				   *b2,
				   *b3;
		size_t		l1,
					l2,
					l3;

		test_env_reset(&T);
		rng_state = 12345 + k;
		CHECK(at_markov_fit_create(&T.env, k, &all) == AT_OK);
		for (int p = 0; p < 3; p++)
			CHECK(at_markov_fit_create(&T.env, k, &part[p]) == AT_OK);
		for (int i = 0; i < 300; i++)
		{
			at_journey	j = path(random_path(6, 9, buf));
			bool		conv = rnd(3) == 0;

			CHECK(at_markov_fit_add(&T.env, all, &j, conv) == AT_OK);
			CHECK(at_markov_fit_add(&T.env, part[rnd(3)], &j, conv) == AT_OK);
		}
		CHECK(at_markov_fit_counts(&T.env, all, &c) == AT_OK);
		CHECK(at_markov_encode(&T.env, &c, &b1, &l1) == AT_OK);
		for (int p = 0; p < 3; p++)
		{
			uint8_t    *b;
			size_t		l;

			/* through the byte form, as the aggregate's combine does */
			CHECK(at_markov_fit_counts(&T.env, part[p], &pc[p]) == AT_OK);
			CHECK(at_markov_encode(&T.env, &pc[p], &b, &l) == AT_OK);
			CHECK(at_markov_decode(&T.env, b, l, &pc[p]) == AT_OK);
		}
		CHECK(at_markov_fit_create(&T.env, k, &m1) == AT_OK);
		CHECK(at_markov_fit_create(&T.env, k, &m2) == AT_OK);
		for (int p = 0; p < 3; p++)
		{
			CHECK(at_markov_fit_add_counts(&T.env, m1, &pc[p]) == AT_OK);
			CHECK(at_markov_fit_add_counts(&T.env, m2, &pc[2 - p]) == AT_OK);
		}
		CHECK(at_markov_fit_counts(&T.env, m1, &c) == AT_OK);
		CHECK(at_markov_encode(&T.env, &c, &b2, &l2) == AT_OK);
		CHECK(at_markov_fit_counts(&T.env, m2, &c) == AT_OK);
		CHECK(at_markov_encode(&T.env, &c, &b3, &l3) == AT_OK);
		CHECK(l1 == l2 && memcmp(b1, b2, l1) == 0);
		CHECK(l1 == l3 && memcmp(b1, b3, l1) == 0);
		/* and the merged model decodes (flow conserved) */
		CHECK(at_markov_decode(&T.env, b2, l2, &c) == AT_OK);
		CHECK(c.order == k);
	}
	{
		at_markov_fit *f1,
				   *f2;
		at_markov_counts c;
		at_journey	j = path("A B");

		test_env_reset(&T);
		CHECK(at_markov_fit_create(&T.env, 1, &f1) == AT_OK);
		CHECK(at_markov_fit_create(&T.env, 2, &f2) == AT_OK);
		CHECK(at_markov_fit_add(&T.env, f2, &j, true) == AT_OK);
		CHECK(at_markov_fit_counts(&T.env, f2, &c) == AT_OK);
		CHECK(at_markov_fit_add_counts(&T.env, f1, &c) == AT_EBAD_VALUE);
		CHECK(strstr(T.err.message, "different orders") != NULL);
		CHECK(strstr(T.err.detail, "order 2") != NULL);
		CHECK(at_markov_fit_create(&T.env, 0, &f1) == AT_EBAD_OPTION);
		CHECK(strstr(T.err.detail, "0") != NULL);
		CHECK(at_markov_fit_create(&T.env, 5, &f1) == AT_EBAD_OPTION);
		CHECK(at_markov_check_order(&T.env, -1) == AT_EBAD_OPTION);
	}
}

/* ------------------------------------------------------------------ */
/* The solver against an independent dense elimination                  */
/* ------------------------------------------------------------------ */

/*
 * P(conversion from start) with `removed`'s states sent to null, by Gaussian
 * elimination with partial pivoting in long double on (I - Q) x = b over every
 * state, self-loops kept in Q.
 */
static double
reference_probability(const at_markov_counts *c, int64_t removed)
{
	uint32_t	n = c->nstates + 1;
	long double *a = calloc((size_t) n * (n + 1), sizeof(long double));
	long double *out = calloc(n, sizeof(long double));
	bool	   *dead = calloc(n, sizeof(bool));
	double		p;

	for (uint32_t s = 1; s < n && removed >= 0; s++)
		for (uint32_t i = 0; i < c->state_len[s - 1]; i++)
			if (c->state_ch[(size_t) (s - 1) * c->order + i] == (uint32_t) removed)
				dead[s] = true;
	for (uint32_t i = 0; i < c->ntrans; i++)
		out[c->trans[i].from] += (long double) c->trans[i].count;
	for (uint32_t s = 0; s < n; s++)
		a[(size_t) s * (n + 1) + s] = 1;
	for (uint32_t i = 0; i < c->ntrans; i++)
	{
		const at_markov_trans *t = &c->trans[i];
		long double pr = (long double) t->count / out[t->from];

		if (dead[t->from])
			continue;			/* x = 0 */
		if (t->to == c->nstates + 1)
			a[(size_t) t->from * (n + 1) + n] += pr;
		else if (t->to <= c->nstates)
			a[(size_t) t->from * (n + 1) + t->to] -= pr;
	}
	for (uint32_t col = 0; col < n; col++)
	{
		uint32_t	piv = col;
		long double *pc;

		for (uint32_t r = col + 1; r < n; r++)
			if (fabsl(a[(size_t) r * (n + 1) + col]) > fabsl(a[(size_t) piv * (n + 1) + col]))
				piv = r;
		if (piv != col)
			for (uint32_t k = 0; k <= n; k++)
			{
				long double t = a[(size_t) col * (n + 1) + k];

				a[(size_t) col * (n + 1) + k] = a[(size_t) piv * (n + 1) + k];
				a[(size_t) piv * (n + 1) + k] = t;
			}
		pc = a + (size_t) col * (n + 1);
		for (uint32_t r = col + 1; r < n; r++)
		{
			long double *pr = a + (size_t) r * (n + 1);
			long double f;

			if (pr[col] == 0)
				continue;
			f = pr[col] / pc[col];
			for (uint32_t k = col; k <= n; k++)
				pr[k] -= f * pc[k];
		}
	}
	for (uint32_t r = n; r-- > 0;)	/* back substitution; the solution goes to column n */
	{
		long double *pr = a + (size_t) r * (n + 1);
		long double v = pr[n];

		for (uint32_t k = r + 1; k < n; k++)
			v -= pr[k] * a[(size_t) k * (n + 1) + n];
		pr[n] = v / pr[r];
	}
	p = (double) a[n];
	free(a);
	free(out);
	free(dead);
	return p;
}

static void
random_chains(void)
{
	char		buf[512];
	static const struct
	{
		uint32_t	order,
					channels,
					maxlen,
					journeys;
	}			cases[] = {
		{1, 3, 4, 20}, {1, 8, 10, 200}, {2, 5, 8, 300}, {3, 4, 10, 400},
		{4, 3, 12, 300}, {1, 40, 12, 2000}, {2, 24, 14, 3000},
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
	{
		at_markov_fit *f;
		at_markov_counts c;
		at_markov_stats stats;
		double		p;

		test_env_reset(&T);
		rng_state = 777 + k;
		CHECK(at_markov_fit_create(&T.env, cases[k].order, &f) == AT_OK);
		for (uint32_t i = 0; i < cases[k].journeys; i++)
		{
			at_journey	j = path(random_path(cases[k].channels, cases[k].maxlen, buf));

			/* conversions depend on the path, so channels matter unequally */
			bool		conv = rnd(4) == 0 || (j.ntouches > 2 && j.touches[1].channel == 0);

			CHECK(at_markov_fit_add(&T.env, f, &j, conv) == AT_OK);
		}
		CHECK(at_markov_fit_counts(&T.env, f, &c) == AT_OK);
		/* the full chain: P = conversions / journeys, by the solver and the reference */
		CHECK(at_markov_probability(&T.env, &c, -1, &p, &stats) == AT_OK);
		CHECK_NEAR(p, (double) c.conversions / (double) c.journeys, 1e-11);
		CHECK_NEAR(reference_probability(&c, -1), (double) c.conversions / (double) c.journeys,
				   1e-11);
		for (uint32_t ch = 0; ch < c.nchannels; ch += c.nstates > 200 ? c.nchannels / 3 : 1)
		{
			double		ref = reference_probability(&c, ch);

			CHECK(at_markov_probability(&T.env, &c, ch, &p, &stats) == AT_OK);
			CHECK_NEAR(p, ref, 1e-11 * (ref > 1 ? ref : 1));
		}
		if (c.nstates > AT_MARKOV_DENSE_MAX)
		{
			/*
			 * The big case exercises the iterative path, with certified
			 * extrapolations: the midpoint of the final bracket is within its
			 * half-width (AT_MARKOV_TOLERANCE relative) of the exact value.
			 */
			double		exact = (double) c.conversions / (double) c.journeys;

			CHECK(at_markov_probability(&T.env, &c, -1, &p, &stats) == AT_OK);
			CHECK(stats.iterative >= 1);
			CHECK(stats.largest > AT_MARKOV_DENSE_MAX);
			CHECK(stats.extrapolations >= 1);
			CHECK_NEAR(p, exact, AT_MARKOV_TOLERANCE * exact);
		}
	}
}

/* Removal effects add up as documented: weights sum to 1, each in [0, 1]. */
static void
weights_sum(void)
{
	char		buf[512];
	at_markov_fit *f;
	at_markov_counts c;
	at_markov_model m;
	double		sum = 0;

	test_env_reset(&T);
	rng_state = 4242;
	CHECK(at_markov_fit_create(&T.env, 2, &f) == AT_OK);
	for (int i = 0; i < 500; i++)
	{
		at_journey	j = path(random_path(10, 8, buf));

		CHECK(at_markov_fit_add(&T.env, f, &j, j.touches[j.ntouches - 1].channel % 3 == 0) == AT_OK);
	}
	CHECK(at_markov_fit_counts(&T.env, f, &c) == AT_OK);
	CHECK(at_markov_solve(&T.env, &c, &m) == AT_OK);
	for (uint32_t ch = 0; ch < c.nchannels; ch++)
	{
		CHECK(m.removal_effect[ch] >= 0 && m.removal_effect[ch] <= 1);
		sum += m.weight[ch];
	}
	CHECK_NEAR(sum, 1, 1e-12);
}

/* No conversion: every removal effect 0, every journey falls back to last touch. */
static void
no_conversions(void)
{
	static const example ex[] = {{"A B", false}, {"B", false}, {"", false}};
	at_markov_counts c;
	at_markov_model m;
	static const double w[] = {0, 1};

	test_env_reset(&T);
	c = fit(ex, 3, 1);
	CHECK(c.journeys == 3 && c.conversions == 0);
	CHECK(at_markov_solve(&T.env, &c, &m) == AT_OK);
	expect_re(&m, "A", 0, 0);
	expect_re(&m, "B", 0, 0);
	expect_weights(&m, "A B", NULL, w);
}

/*
 * Empty journeys go start -> conversion/null.  They raise P and so shrink
 * every removal effect by the same factor, leaving the weights unchanged:
 * example 1 plus one empty converting journey: start->A 2/5, start->B 2/5,
 * start->conv 1/5, x_A = 1/4 and x_B = 3/4 as before:
 *   P = 2/5 1/4 + 2/5 3/4 + 1/5 = 3/5;  P_A = 2/5 2/3 + 1/5 = 7/15, RE(A) = 1 - 7/9 = 2/9;
 *   P_B = 1/5, RE(B) = 1 - 1/3 = 2/3.  Weights (2/9) / (8/9) = 1/4 and 3/4 as before.
 */
static void
empty_journeys(void)
{
	static const example ex[] = {{"A B", true}, {"A", false}, {"B", true}, {"B A", false},
	{"", true}};
	at_markov_counts c;
	at_markov_model m;

	test_env_reset(&T);
	c = fit(ex, 5, 1);
	CHECK(at_markov_solve(&T.env, &c, &m) == AT_OK);
	CHECK_NEAR(m.p_conversion, 0.6, EPS);
	expect_re(&m, "A", 2.0 / 9, 0.25);
	expect_re(&m, "B", 2.0 / 3, 0.75);
}

static void
options(void)
{
	at_options	o;

	test_env_reset(&T);
	CHECK(at_dd_options_parse(&T.env, "markov", "{\"half_life\": 3}", 16, &o) == AT_EUNKNOWN_OPTION);
	CHECK(strstr(T.err.message, "does not apply") != NULL);
	CHECK(strstr(T.err.detail, "markov") != NULL);
	CHECK(at_dd_options_parse(&T.env, "markov", "{\"order\": 3}", 12, &o) == AT_EUNKNOWN_OPTION);
	CHECK(strstr(T.err.hint, "markov_fit") != NULL);
	CHECK(at_dd_options_parse(&T.env, "shapley", "{\"x\": 3}", 8, &o) == AT_EUNKNOWN_OPTION);
	CHECK(strstr(T.err.message, "unknown option") != NULL);
	CHECK(at_dd_options_parse(&T.env, "markov", "{\"collapse_repeats\": 1}", 23, &o) == AT_EBAD_OPTION);
	CHECK(at_dd_options_parse(&T.env, "markov", NULL, 0, &o) == AT_OK);
}

/*
 * Merging can pass the count limit in a total while every single count stays
 * below it: a large self-loop added to itself enters state A 2 x 5e18 times.
 * The snapshot reports the overflow (it used to succeed and encode to bytes
 * that the decoder rejected as corrupt: markov_merge stored an unreadable value).
 * Found by fuzz_markov_decode.
 */
static void
merge_overflow(void)
{
	static const char loop[] =
		"{\"type\":\"markov\",\"version\":1,\"order\":1,\"journeys\":1000000000000000000,"
		"\"conversions\":1000000000000000000,\"channels\":[[\"A\",1000000000000000000,"
		"1000000000000000000]],\"transitions\":[[\"start\",[\"A\"],1000000000000000000],"
		"[[\"A\"],[\"A\"],4000000000000000000],[[\"A\"],\"conversion\",1000000000000000000]]}";
	/* the same totals in a text: the overflow is the count limit's error too */
	static const char over[] =
		"{\"type\":\"markov\",\"version\":1,\"order\":1,\"journeys\":2000000000000000000,"
		"\"conversions\":2000000000000000000,\"channels\":[[\"A\",2000000000000000000,"
		"2000000000000000000]],\"transitions\":[[\"start\",[\"A\"],2000000000000000000],"
		"[[\"A\"],[\"A\"],8000000000000000000],[[\"A\"],\"conversion\",2000000000000000000]]}";
	at_markov_counts c,
				d;
	at_markov_fit *f;
	uint8_t    *b;
	size_t		l;

	test_env_reset(&T);
	CHECK(at_markov_from_text(&T.env, loop, strlen(loop), &c) == AT_OK);
	CHECK(at_markov_fit_create(&T.env, 1, &f) == AT_OK);
	CHECK(at_markov_fit_add_counts(&T.env, f, &c) == AT_OK);
	CHECK(at_markov_fit_counts(&T.env, f, &d) == AT_OK);
	CHECK(at_markov_encode(&T.env, &d, &b, &l) == AT_OK);
	CHECK(at_markov_decode(&T.env, b, l, &d) == AT_OK);
	CHECK(at_markov_fit_add_counts(&T.env, f, &c) == AT_OK);
	CHECK(at_markov_fit_counts(&T.env, f, &d) == AT_ELIMIT);
	CHECK(T.err.status == AT_ELIMIT && strstr(T.err.message, "overflow") != NULL);
	CHECK(at_markov_from_text(&T.env, over, strlen(over), &d) == AT_ELIMIT);
	CHECK(strstr(T.err.message, "overflow") != NULL);
}

/* Long inputs poll the interrupt hook; allocation failures are clean errors. */
static void
cancel_and_memory(void)
{
	static char big[DD_MAX_PATH * 8];
	char	   *w = big;
	at_markov_fit *f;
	at_markov_counts c;
	at_markov_model m;
	at_journey	j;
	char		buf[512];

	for (int i = 0; i < DD_MAX_PATH; i++)
		w += sprintf(w, "%sc%d", i ? " " : "", i % 50);
	j = path(big);
	test_env_reset(&T);
	CHECK(at_markov_fit_create(&T.env, 3, &f) == AT_OK);
	T.cancel_after = 0;
	CHECK(at_markov_fit_add(&T.env, f, &j, true) == AT_ECANCELED);
	CHECK(strstr(T.err.message, "cancel") != NULL);

	test_env_reset(&T);
	CHECK(at_markov_fit_create(&T.env, 3, &f) == AT_OK);
	CHECK(at_markov_fit_add(&T.env, f, &j, true) == AT_OK);
	CHECK(at_markov_fit_add(&T.env, f, &j, false) == AT_OK);
	CHECK(at_markov_fit_counts(&T.env, f, &c) == AT_OK);
	T.cancel_after = 3;
	CHECK(at_markov_solve(&T.env, &c, &m) == AT_ECANCELED);

	test_env_reset(&T);
	T.limit = 4096;
	{
		at_status	st = at_markov_fit_create(&T.env, 2, &f);

		for (int i = 0; i < 100 && st == AT_OK; i++)
		{
			at_journey	r = path(random_path(20, 20, buf));

			st = at_markov_fit_add(&T.env, f, &r, true);
		}
		CHECK(st == AT_ENOMEM);
		CHECK(strstr(T.err.message, "out of memory") != NULL);
	}
}

int
main(void)
{
	test_env_init(&T);
	example1();
	self_loops();
	example2();
	example3();
	empty_journeys();
	no_conversions();
	text_form();
	bad_text();
	corrupt_bytes();
	merging();
	merge_overflow();
	random_chains();
	weights_sum();
	options();
	cancel_and_memory();
	test_env_reset(&T);
	printf("markov: %d checks, %d failed\n", test_checks, test_failures);
	return test_failures != 0;
}
