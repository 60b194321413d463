/*
 * test_money.c — unit tests for src/core/money.c (SPEC §4 Money).
 *
 *   test_money            run every check; prints "money: N checks, N failed"
 *                         and exits non-zero on any failure
 *   test_money --cases    driver for test/unit/money_ref.py: reads cases on
 *                         stdin, prints one result line each (protocol in that
 *                         script's header)
 *
 * Expected values are worked out by hand in the comments.  The split quantizes
 * the weights to integers q_i with sum S < 2^64 (money.c, step 1); in most
 * cases here the q_i carry the weights' ratios exactly (equal weights get equal
 * q_i; {1, 3} gives {m, 3m}), so the expected shares are simply the exact
 * largest-remainder shares of w_i / sum(w) * A, ties to the lower index.
 */
#include "test_env.h"

#include <math.h>
#include <stdint.h>

/* Not in attrib_core.h: path 1 forces the general (bignum) split. */
extern at_status at_amount_split_path(at_env *env, const at_amount *a,
									  const double *weight, uint32_t n,
									  at_amount *out, int path);

static test_env T;

static const char *
status_name(at_status s)
{
	static const char *const names[] = {
		"OK", "ENOMEM", "ELIMIT", "ENULL", "ESYNTAX", "ECORRUPT", "EDUPLICATE",
		"EUNKNOWN_MODEL", "EUNKNOWN_OPTION", "EBAD_OPTION", "EBAD_WEIGHTS",
		"EBAD_AMOUNT", "EBAD_VALUE", "ECANCELED"
	};

	if ((unsigned) s < sizeof(names) / sizeof(names[0]))
		return names[s];
	return "?";
}

/* Parse text (must succeed). */
static at_amount
amt(const char *text, int scale)
{
	at_amount	a;
	at_status	st = at_amount_parse(&T.env, text, strlen(text), scale, &a);

	CHECK(st == AT_OK);
	if (st != AT_OK)
	{
		fprintf(stderr, "  parse \"%s\": %s\n", text, T.err.message);
		memset(&a, 0, sizeof(a));
		a.scale = scale;
	}
	return a;
}

/* Format a (must succeed); the string lives in T's memory. */
static const char *
fmt(const at_amount *a)
{
	char	   *s = NULL;
	size_t		len = 0;
	at_status	st = at_amount_format(&T.env, a, &s, &len);

	CHECK(st == AT_OK);
	if (st != AT_OK)
		return "<format failed>";
	CHECK(len == strlen(s));
	return s;
}

static void
check_parse(const char *text, int scale, const char *want)
{
	at_amount	a = amt(text, scale);

	CHECK_STR(fmt(&a), want);
	/* canonical: no leading zero limb, zero never negative */
	CHECK(a.nlimbs == 0 || a.limbs[a.nlimbs - 1] != 0);
	CHECK(a.nlimbs > 0 || !a.negative);
}

static void
check_parse_fails(const char *text, size_t len, int scale, at_status want,
				  const char *msg_part)
{
	at_amount	a;
	at_status	st = at_amount_parse(&T.env, text, len, scale, &a);

	CHECK(st == want);
	CHECK(T.err.status == want);
	if (msg_part && strstr(T.err.message, msg_part) == NULL)
	{
		test_failures++;
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", T.err.message, msg_part);
	}
	test_checks++;
}

/* Shares of text over weights by both paths, formatted, against want[]. */
static void
check_split(const char *text, int scale, const double *w, uint32_t n,
			const char *const *want)
{
	at_amount	a = amt(text, scale);
	at_amount  *fast = calloc(n, sizeof(at_amount));
	at_amount  *gen = calloc(n, sizeof(at_amount));
	uint32_t	i;

	CHECK(at_amount_split(&T.env, &a, w, n, fast) == AT_OK);
	CHECK(at_amount_split_path(&T.env, &a, w, n, gen, 1) == AT_OK);
	for (i = 0; i < n; i++)
	{
		CHECK_STR(fmt(&fast[i]), want[i]);
		CHECK_STR(fmt(&gen[i]), want[i]);
		CHECK(fast[i].scale == scale);
		CHECK(fast[i].nlimbs > 0 || !fast[i].negative);
	}
	free(fast);
	free(gen);
}

/* ------------------------------------------------------------------ */

static void
test_parse(void)
{
	/* rounding half away from zero on the first dropped digit */
	check_parse("0.125", 2, "0.13");
	check_parse("-0.125", 2, "-0.13");
	check_parse("0.124", 2, "0.12");
	check_parse("-0.124", 2, "-0.12");
	check_parse("0.005", 2, "0.01");
	check_parse("0.0049999", 2, "0.00");
	check_parse("-0.001", 2, "0.00");	/* rounds to zero: not negative */
	check_parse("-0", 2, "0.00");
	check_parse("0", 0, "0");
	check_parse("999.995", 2, "1000.00");
	/* 99999999999 minor units + 1 carries into a new limb: 100 * 10^9 */
	check_parse("999999999.995", 2, "1000000000.00");
	check_parse("12.5", 0, "13");
	check_parse("-12.5", 0, "-13");
	check_parse("12.4999", 0, "12");
	check_parse(".5", 0, "1");
	check_parse("-.5", 0, "-1");
	check_parse("5.", 2, "5.00");
	check_parse("  +12.5 \t\n", 0, "13");
	check_parse("000123.4500", 3, "123.450");
	check_parse("1.0005", 3, "1.001");
	check_parse("1.0004999", 3, "1.000");
	check_parse("7", 3, "7.000");
	check_parse("0.1", 10, "0.1000000000");
	check_parse("-1234.5678", 4, "-1234.5678");
	check_parse("99999999999.99", 2, "99999999999.99");
	check_parse("0.001", 2, "0.00");

	/* scale 1000: "1." followed by 1000 zeros */
	{
		char	   *want = malloc(1003);
		at_amount	a;

		memcpy(want, "1.", 2);
		memset(want + 2, '0', 1000);
		want[1002] = '\0';
		a = amt("1", AT_MAX_SCALE);
		CHECK_STR(fmt(&a), want);
		free(want);
	}

	/* numeric's longest integer part: 131072 nines ".995" rounds up to 10^131072 */
	{
		size_t		nd = 131072;
		char	   *text = malloc(nd + 5);
		char	   *want = malloc(nd + 5);
		at_amount	a;

		memset(text, '9', nd);
		memcpy(text + nd, ".995", 5);
		want[0] = '1';
		memset(want + 1, '0', nd);
		memcpy(want + 1 + nd, ".00", 4);
		a = amt(text, 2);
		CHECK_STR(fmt(&a), want);
		/* and one that round-trips unchanged: 131072 nines ".99" */
		text[nd + 3] = '\0';
		a = amt(text, 2);
		CHECK_STR(fmt(&a), text);
		free(text);
		free(want);
	}

	/* not NUL-terminated: len decides */
	{
		at_amount	a;

		CHECK(at_amount_parse(&T.env, "12.345junk", 6, 2, &a) == AT_OK);
		CHECK_STR(fmt(&a), "12.35");
	}

	/* bad text: status, message naming the text, hint */
	check_parse_fails("NaN", 3, 2, AT_EBAD_AMOUNT, "invalid amount \"NaN\"");
	CHECK(strstr(T.err.detail, "NaN") != NULL);
	CHECK(T.err.hint[0] != '\0');
	check_parse_fails("Infinity", 8, 2, AT_EBAD_AMOUNT, "\"Infinity\"");
	check_parse_fails("-Infinity", 9, 2, AT_EBAD_AMOUNT, "\"-Infinity\"");
	check_parse_fails("inf", 3, 2, AT_EBAD_AMOUNT, "\"inf\"");
	check_parse_fails("", 0, 2, AT_EBAD_AMOUNT, "invalid amount \"\"");
	check_parse_fails(NULL, 0, 2, AT_EBAD_AMOUNT, "invalid amount");
	check_parse_fails("   ", 3, 2, AT_EBAD_AMOUNT, NULL);
	check_parse_fails("-", 1, 2, AT_EBAD_AMOUNT, "\"-\"");
	check_parse_fails(".", 1, 2, AT_EBAD_AMOUNT, NULL);
	check_parse_fails("+.", 2, 2, AT_EBAD_AMOUNT, NULL);
	check_parse_fails("1e5", 3, 2, AT_EBAD_AMOUNT, "\"1e5\"");
	check_parse_fails("1.5E-3", 6, 2, AT_EBAD_AMOUNT, NULL);
	check_parse_fails("1.2.3", 5, 2, AT_EBAD_AMOUNT, NULL);
	check_parse_fails("--1", 3, 2, AT_EBAD_AMOUNT, NULL);
	check_parse_fails("+-1", 3, 2, AT_EBAD_AMOUNT, NULL);
	check_parse_fails("1 2", 3, 2, AT_EBAD_AMOUNT, NULL);
	check_parse_fails("0x10", 4, 2, AT_EBAD_AMOUNT, NULL);
	check_parse_fails("1,50", 4, 2, AT_EBAD_AMOUNT, "\"1,50\"");
	check_parse_fails("12\0" "3", 4, 2, AT_EBAD_AMOUNT, "\"12?3\"");
	check_parse_fails("$5", 2, 2, AT_EBAD_AMOUNT, NULL);
	check_parse_fails("1", 1, -1, AT_EBAD_VALUE, "-1");
	check_parse_fails("1", 1, AT_MAX_SCALE + 1, AT_EBAD_VALUE, "1001");
	{
		at_amount	a;

		CHECK(at_amount_parse(&T.env, "1", 1, 2, NULL) == AT_ENULL);
		CHECK(at_amount_parse(&T.env, NULL, 5, 2, &a) == AT_ENULL);
	}

	/* long garbage: quoted to 60 bytes and "..." */
	{
		char		text[200];
		char		want[100];

		memset(text, 'x', sizeof(text));
		snprintf(want, sizeof(want), "invalid amount \"%.60s...\"", text);
		check_parse_fails(text, sizeof(text), 2, AT_EBAD_AMOUNT, want);
		CHECK(strlen(T.err.message) == strlen(want));
		/* a cut never splits a UTF-8 sequence: 59 x then "é" (2 bytes) */
		memcpy(text + 59, "\xc3\xa9", 2);
		check_parse_fails(text, sizeof(text), 2, AT_EBAD_AMOUNT, NULL);
		snprintf(want, sizeof(want), "invalid amount \"%.59s...\"", text);
		CHECK_STR(T.err.message, want);
	}

	/* too long */
	{
		size_t		len = 200001;
		char	   *text = malloc(len);

		at_amount	a;

		memset(text, '1', len);
		check_parse_fails(text, len, 2, AT_ELIMIT, NULL);
		CHECK(at_amount_parse(&T.env, text, len - 1, 0, &a) == AT_OK);
		CHECK(a.nlimbs == (200000 + 8) / 9);
		free(text);
	}
	test_env_reset(&T);
}

static void
test_format(void)
{
	uint32_t	five[] = {5};
	uint32_t	big[] = {230000000, 123456789, 0};
	uint32_t	billion[] = {0, 1};
	uint32_t	badlimb[] = {1000000000};
	at_amount	a = {false, 2, 0, NULL};
	char	   *s;
	size_t		len;

	CHECK_STR(fmt(&a), "0.00");
	a.scale = 0;
	CHECK_STR(fmt(&a), "0");
	a.negative = true;			/* a negative zero prints as zero */
	CHECK_STR(fmt(&a), "0");
	a = (at_amount) {false, 0, 1, five};
	CHECK_STR(fmt(&a), "5");
	a.scale = 3;
	CHECK_STR(fmt(&a), "0.005");
	a.negative = true;
	CHECK_STR(fmt(&a), "-0.005");
	a.scale = 1;
	CHECK_STR(fmt(&a), "-0.5");
	/* 123456789 * 10^9 + 230000000 = 123456789230000000, a leading zero limb tolerated */
	a = (at_amount) {false, 2, 3, big};
	CHECK_STR(fmt(&a), "1234567892300000.00");
	a.scale = 17;
	CHECK_STR(fmt(&a), "1.23456789230000000");
	a.scale = 18;
	CHECK_STR(fmt(&a), "0.123456789230000000");
	a = (at_amount) {false, 9, 2, billion};
	CHECK_STR(fmt(&a), "1.000000000");
	a.scale = 10;
	CHECK_STR(fmt(&a), "0.1000000000");

	a = (at_amount) {false, 0, 1, badlimb};
	CHECK(at_amount_format(&T.env, &a, &s, &len) == AT_EBAD_VALUE);
	a = (at_amount) {false, -2, 1, five};
	CHECK(at_amount_format(&T.env, &a, &s, &len) == AT_EBAD_VALUE);
	CHECK(at_amount_format(&T.env, NULL, &s, &len) == AT_ENULL);
	test_env_reset(&T);
}

static void
test_to_int64(void)
{
	at_amount	a;
	int64_t		v = 42;

	a = amt("9223372036854775807", 0);
	CHECK(at_amount_to_int64(&a, &v) && v == INT64_MAX);
	a = amt("92233720368547758.07", 2);
	CHECK(at_amount_to_int64(&a, &v) && v == INT64_MAX);
	a = amt("9223372036854775808", 0);
	CHECK(!at_amount_to_int64(&a, &v));
	a = amt("-9223372036854775808", 0);
	CHECK(at_amount_to_int64(&a, &v) && v == INT64_MIN);
	a = amt("-9223372036854775809", 0);
	CHECK(!at_amount_to_int64(&a, &v));
	a = amt("1000000000000000000000000000", 0);	/* 10^27: four limbs */
	CHECK(!at_amount_to_int64(&a, &v));
	a = amt("-0.001", 2);
	CHECK(at_amount_to_int64(&a, &v) && v == 0);
	a = amt("-1234.5678", 4);
	CHECK(at_amount_to_int64(&a, &v) && v == -12345678);
	a = amt("1000000000", 0);	/* exactly one limb boundary: {0, 1} */
	CHECK(at_amount_to_int64(&a, &v) && v == 1000000000);
	CHECK(!at_amount_to_int64(NULL, &v));
	test_env_reset(&T);
}

static void
test_split_spec(void)
{
	static const double one3[] = {1, 1, 1};
	static const double one7[] = {1, 1, 1, 1, 1, 1, 1};

	/*
	 * Equal weights get equal q (here 2^62 for three, 2^61 for seven), so the
	 * shares are floor(A / k), and the A mod k leftover units go to the first
	 * indices (equal remainders tie).
	 *
	 * 0.01 over 3: A = 1 unit, floors 0, L = 1: index 0.
	 */
	check_split("0.01", 2, one3, 3, (const char *[]) {"0.01", "0.00", "0.00"});

	/* 0.03 over 7: floors 0, L = 3: indices 0, 1, 2 */
	check_split("0.03", 2, one7, 7,
				(const char *[]) {"0.01", "0.01", "0.01", "0.00", "0.00", "0.00", "0.00"});

	/* 100.00 over 3: 10000 = 3 * 3333 + 1: index 0 gets the unit */
	check_split("100.00", 2, one3, 3, (const char *[]) {"33.34", "33.33", "33.33"});

	/* 99999999999.99 = 9999999999999 units over 7 = 7 * 1428571428571 + 2 */
	check_split("99999999999.99", 2, one7, 7,
				(const char *[]) {"14285714285.72", "14285714285.72", "14285714285.71",
					"14285714285.71", "14285714285.71", "14285714285.71", "14285714285.71"});

	/* -10.00: 1000 = 3 * 333 + 1; signs follow the amount */
	check_split("-10.00", 2, one3, 3, (const char *[]) {"-3.34", "-3.33", "-3.33"});
	/* an amount that parses to 0 splits into zeros, none negative */
	check_split("-0.001", 2, one3, 3, (const char *[]) {"0.00", "0.00", "0.00"});
	check_split("0", 2, one3, 3, (const char *[]) {"0.00", "0.00", "0.00"});

	/* scale 0: 10 = 3 * 3 + 1 */
	check_split("10", 0, one3, 3, (const char *[]) {"4", "3", "3"});
	/* parse rounds first: 9.5 -> 10 */
	check_split("9.5", 0, one3, 3, (const char *[]) {"4", "3", "3"});
	/* scale 3: 1000 units, as -10.00 */
	check_split("1", 3, one3, 3, (const char *[]) {"0.334", "0.333", "0.333"});

	/*
	 * {0.4, 0.2, 0.4}: fl(0.2) = fl(0.4) / 2 exactly, so q = {2m, m, 2m} (m =
	 * fl(0.2) 2^63) and S = 5m: 100 units give exactly {40, 20, 40}.
	 */
	check_split("1.00", 2, (const double[]) {0.4, 0.2, 0.4}, 3,
				(const char *[]) {"0.40", "0.20", "0.40"});
	/* {2, 3}: q = {2m, 3m}; 10 units: exactly 4 and 6 */
	check_split("0.10", 2, (const double[]) {2, 3}, 2, (const char *[]) {"0.04", "0.06"});
	check_split("5.00", 2, (const double[]) {1, 0, 0}, 3,
				(const char *[]) {"5.00", "0.00", "0.00"});
	check_split("5.00", 2, (const double[]) {0, 0, 1}, 3,
				(const char *[]) {"0.00", "0.00", "5.00"});
	/* a zero weight never gets the leftover: 0.01 over {0, 1, 1} */
	check_split("0.01", 2, (const double[]) {0, 1, 1}, 3,
				(const char *[]) {"0.00", "0.01", "0.00"});
	/* {1, 3}: q = {m, 3m}; 2 units: 0.5 and 1.5, equal remainders: index 0 */
	check_split("0.02", 2, (const double[]) {1, 3}, 2, (const char *[]) {"0.01", "0.01"});
	/* one weight takes everything */
	check_split("-123456789012345678901234567890.12", 2, (const double[]) {0.25}, 1,
				(const char *[]) {"-123456789012345678901234567890.12"});

	/* tiny, subnormal and huge weights behave like their ratios */
	check_split("1.00", 2, (const double[]) {1e-300, 1e-300, 1e-300}, 3,
				(const char *[]) {"0.34", "0.33", "0.33"});
	/* 1e-300 next to 1: 1e-300 2^63 rounds to 0, q = {0, 2^63} */
	check_split("1.00", 2, (const double[]) {1e-300, 1}, 2, (const char *[]) {"0.00", "1.00"});
	/* four equal subnormals: equal q, exactly 25 units each */
	check_split("1.00", 2, (const double[]) {5e-324, 5e-324, 5e-324, 5e-324}, 4,
				(const char *[]) {"0.25", "0.25", "0.25", "0.25"});
	/* the sum of two near-DBL_MAX weights would overflow without scaling */
	check_split("1.00", 2, (const double[]) {1.7e308, 1.7e308}, 2,
				(const char *[]) {"0.50", "0.50"});

	/*
	 * Position-based over five touches: {0.4, fl(0.2/3) x3, 0.4}, 100000
	 * units.  Both values are multiples of 2^(e-P) (e = -1, P = 62), so the q
	 * carry the weights' ratios exactly.  By fractions the ends get
	 * 40000.00000000000055 and the middle 6666.67 each: floors sum to 99998,
	 * and the 2 leftover units go to the first two of the equal middle weights.
	 */
	check_split("1000.00", 2, (const double[]) {0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.4}, 5,
				(const char *[]) {"400.00", "66.67", "66.67", "66.66", "400.00"});
	/*
	 * {0.4, 0.025 x8, 0.4}: fl(0.4) = 16 fl(0.025), so the weights are exactly
	 * 16:1:...:1:16 (sum 40).  695096 units: 278038.4 and 17377.4, floors sum
	 * to 695092; the 4 leftover units tie (.4 each): indices 0, 1, 2, 3.
	 */
	check_split("6950.96", 2,
				(const double[]) {0.4, 0.025, 0.025, 0.025, 0.025, 0.025, 0.025, 0.025,
					0.025, 0.4}, 10,
				(const char *[]) {"2780.39", "173.78", "173.78", "173.78", "173.77", "173.77",
					"173.77", "173.77", "173.77", "2780.38"});
	test_env_reset(&T);
}

/*
 * Splitting S = sum q_i minor units shows the quantized weights themselves:
 * every q_i * S / S is exact, no leftover.
 */
static void
test_quantization(void)
{
	/*
	 * Round half to even, and specks that round to 0.  The largest weight is
	 * 1 = 0.5 2^1, so e = 1; S(64) = 2^63 + 10 < 2^64, so P = 64 and x_i =
	 * w_i 2^63 = {2^63, 0.5, 1.5, 2, 2.5, 3.5, 0.25}: q = {2^63, 0, 2, 2, 2, 4,
	 * 0}.  The positive weights 2^-64 and 2^-65 get nothing.
	 */
	check_split("9223372036854775818", 0,
				(const double[]) {1, 0x1p-64, 0x1.8p-63, 0x1p-62, 0x1.4p-62, 0x1.cp-62, 0x1p-65},
				7,
				(const char *[]) {"9223372036854775808", "0", "2", "2", "2", "4", "0"});

	/*
	 * {0.7033293535128509, 0.7038367793552841}: both in [0.5, 1), e = 0, P =
	 * 63 (the sum is over 1): q_i = w_i 2^63 exactly, the weights' own ratio.
	 * 2^53 units: w_i / W 2^53 = ...295.437 and ...696.563 (by fractions), so
	 * the leftover unit goes to index 1: the exact largest-remainder answer.
	 */
	check_split("9007199254740992", 0,
				(const double[]) {0.7033293535128509, 0.7038367793552841}, 2,
				(const char *[]) {"4501975623792295", "4505223630948697"});

	/*
	 * More than 2048 weights: 4096 ones and a speck.  At P = 53, q = 2^52 for
	 * the ones and the speck has x = 2^-52 2^52 = 1 (or 2 for 2^-51): S =
	 * 2^64 + 1 (+ 2), too big.  At P = 52: ones 2^51, S = 2^63 + q_speck, with
	 * x_speck = 0.5 -> 0 (half to even) for 2^-52, and 1 for 2^-51.
	 */
	{
		uint32_t	n = 4097;
		double	   *w = malloc(n * sizeof(double));
		at_amount  *out = malloc(n * sizeof(at_amount));
		at_amount  *gen = malloc(n * sizeof(at_amount));
		int			k;

		for (k = 0; k < 2; k++)
		{
			at_amount	a = amt(k == 0 ? "9223372036854775808" : "9223372036854775809", 0);
			uint32_t	i;
			uint32_t	bad = 0;

			for (i = 0; i < n - 1; i++)
				w[i] = 1.0;
			w[n - 1] = k == 0 ? 0x1p-52 : 0x1p-51;
			CHECK(at_amount_split(&T.env, &a, w, n, out) == AT_OK);
			CHECK(at_amount_split_path(&T.env, &a, w, n, gen, 1) == AT_OK);
			for (i = 0; i < n - 1; i++)
				bad += strcmp(fmt(&out[i]), "2251799813685248") != 0 ||
					strcmp(fmt(&gen[i]), "2251799813685248") != 0;
			CHECK(bad == 0);
			CHECK_STR(fmt(&out[n - 1]), k == 0 ? "0" : "1");
			CHECK_STR(fmt(&gen[n - 1]), k == 0 ? "0" : "1");
			test_env_reset(&T);
		}
		free(w);
		free(out);
		free(gen);
	}
	test_env_reset(&T);
}

/* Amounts of 2^64 - 1 units (fast path) and beyond (general path). */
static void
test_split_big(void)
{
	static const double one3[] = {1, 1, 1};
	static const double one7[] = {1, 1, 1, 1, 1, 1, 1};

	/*
	 * A = 2^64 - 1 = 18446744073709551615 (largest fast-path amount), equal
	 * weights.  Over 3: 2^64 = 1 mod 3, so A = 3 * 6148914691236517205
	 * exactly.  Over 7: 2^64 = 2^(3*21+1) = 2 mod 7, so A mod 7 = 1 and A / 7
	 * = 2635249153387078802: index 0 gets ...803.
	 */
	check_split("18446744073709551615", 0, one3, 3,
				(const char *[]) {"6148914691236517205", "6148914691236517205",
					"6148914691236517205"});
	check_split("18446744073709551615", 0, one7, 7,
				(const char *[]) {"2635249153387078803", "2635249153387078802",
					"2635249153387078802", "2635249153387078802", "2635249153387078802",
					"2635249153387078802", "2635249153387078802"});
	/* A = 2^64 takes the general path: A mod 3 = 1, the unit to index 0 */
	check_split("18446744073709551616", 0, one3, 3,
				(const char *[]) {"6148914691236517206", "6148914691236517205",
					"6148914691236517205"});

	/*
	 * A 40-digit amount over 7 equal weights: A = 12345678901234567890123456
	 * 7890123456789012 cents.  10^6 = 1 mod 7, and its six-digit groups
	 * 123456, 789012, 345678, 901234, 567890, 123456, 789012 are 4, 0, 4, 5,
	 * 1, 4, 0 mod 7: A mod 7 = 18 mod 7 = 4.  A / 7 (by Python ints) =
	 * 17636684144620811271604938270017636684144: four shares of X + 1, then
	 * three of X.  (The old 2^53 quantization gave 3 x ...911.40, ...911.39
	 * and 3 x ...081.51 here: 1.4 * 10^17 units apart.)
	 */
	check_split("1234567890123456789012345678901234567890.12", 2, one7, 7,
				(const char *[]) {"176366841446208112716049382700176366841.45",
					"176366841446208112716049382700176366841.45",
					"176366841446208112716049382700176366841.45",
					"176366841446208112716049382700176366841.45",
					"176366841446208112716049382700176366841.44",
					"176366841446208112716049382700176366841.44",
					"176366841446208112716049382700176366841.44"});

	/*
	 * 60 digits, exact binary weights.  {1, 1}: A = 10^59 + 1 is odd: both
	 * remainders equal, the unit goes to index 0.
	 */
	check_split("100000000000000000000000000000000000000000000000000000000001", 0,
				(const double[]) {1, 1}, 2,
				(const char *[]) {"50000000000000000000000000000000000000000000000000000000001",
					"50000000000000000000000000000000000000000000000000000000000"});

	/*
	 * {1, 3}: q = {m, 3m}; A = 10^59 + 3 = 4k + 3 with k = 25 10^57: A/4 =
	 * k + 0.75, 3A/4 = 3k + 2.25; L = 1 to index 0: {k + 1, 3k + 2}.
	 */
	check_split("100000000000000000000000000000000000000000000000000000000003", 0,
				(const double[]) {1, 3}, 2,
				(const char *[]) {"25000000000000000000000000000000000000000000000000000000001",
					"75000000000000000000000000000000000000000000000000000000002"});

	/*
	 * 10^59 at scale 2 over {1,1,1}: 10^61 units = 3u + 1 with u = 333...3
	 * (61 threes): {u + 1, u, u}.
	 */
	check_split("100000000000000000000000000000000000000000000000000000000000.00", 2, one3, 3,
				(const char *[]) {"33333333333333333333333333333333333333333333333333333333333.34",
					"33333333333333333333333333333333333333333333333333333333333.33",
					"33333333333333333333333333333333333333333333333333333333333.33"});
	test_env_reset(&T);
}

/* ------------------------------------------------------------------ */
/* Property tests                                                       */
/* ------------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t
rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static double
rng_unit(void)
{
	return (double) (rng() >> 11) / 9007199254740992.0;
}

/* sum += limbs (base 10^9); sum has room for cap limbs */
static void
big_add(uint32_t *sum, uint32_t cap, const uint32_t *limbs, uint32_t n)
{
	uint64_t	carry = 0;
	uint32_t	i;

	for (i = 0; i < cap; i++)
	{
		uint64_t	t = (uint64_t) sum[i] + (i < n ? limbs[i] : 0) + carry;

		sum[i] = (uint32_t) (t % 1000000000u);
		carry = t / 1000000000u;
		if (i >= n && carry == 0)
			break;
	}
}

static bool
big_equal(const uint32_t *sum, uint32_t cap, const at_amount *a)
{
	uint32_t	i;

	for (i = 0; i < cap; i++)
		if (sum[i] != (i < a->nlimbs ? a->limbs[i] : 0))
			return false;
	return true;
}

static double
amount_value(const at_amount *a)
{
	double		v = 0;
	uint32_t	i;

	for (i = a->nlimbs; i > 0; i--)
		v = v * 1e9 + a->limbs[i - 1];
	return v;
}

static void
random_weights(double *w, uint32_t n)
{
	uint32_t	kind = (uint32_t) (rng() % 6);
	uint32_t	i;
	bool		positive = false;

	for (i = 0; i < n; i++)
	{
		switch (kind)
		{
			case 0:
				w[i] = 1.0;
				break;
			case 1:
				w[i] = rng_unit();
				break;
			case 2:
				w[i] = rng() % 3 == 0 ? 0.0 : rng_unit();
				break;
			case 3:
				w[i] = ldexp(rng_unit(), (int) (rng() % 400) - 200);
				break;
			case 4:
				w[i] = (double) (rng() % 5);
				break;
			default:			/* time-decay like */
				w[i] = ldexp(1.0 + rng_unit(), -(int) (rng() % 40));
				break;
		}
		if (w[i] > 0)
			positive = true;
	}
	if (!positive)
		w[rng() % n] = 1.0;
}

static void
test_split_random(void)
{
	enum
	{
		MAXN = 64, CAP = 16
	};
	double		w[MAXN];
	at_amount	out[MAXN];
	at_amount	gen[MAXN];
	char		text[200];
	int			iter;
	int			bad_sum = 0;
	int			bad_sign = 0;
	int			bad_near = 0;
	int			bad_path = 0;
	int			bad_i64 = 0;
	int			n_i64 = 0;

	for (iter = 0; iter < 4000; iter++)
	{
		uint32_t	n = 1 + (uint32_t) (rng() % (iter % 10 == 0 ? MAXN : 9));
		int			ndig = 1 + (int) (rng() % (iter % 4 == 0 ? 60 : 15));
		bool		neg = rng() % 3 == 0;
		uint32_t	sum[CAP];
		at_amount	a;
		double		s = 0;
		double		av;
		int			i;
		uint32_t	k;

		/* random digits, scale 2 */
		text[0] = neg ? '-' : '+';
		for (i = 0; i < ndig; i++)
			text[1 + i] = (char) ('0' + rng() % 10);
		text[1 + ndig] = '\0';
		a = amt(text, 2);
		random_weights(w, n);
		for (k = 0; k < n; k++)
			s += w[k];

		if (at_amount_split(&T.env, &a, w, n, out) != AT_OK)
		{
			CHECK(false);
			test_env_reset(&T);
			continue;
		}
		memset(sum, 0, sizeof(sum));
		av = amount_value(&a);
		for (k = 0; k < n; k++)
		{
			if (out[k].nlimbs > 0 && out[k].negative != a.negative)
				bad_sign++;
			if (out[k].nlimbs > 0 && w[k] == 0)
				bad_sign++;
			big_add(sum, CAP, out[k].limbs, out[k].nlimbs);
			/* within one unit of w/s * A, where doubles can tell (A < 2^53 / 64) */
			if (av < 1.4e14)
			{
				long double want = (long double) w[k] / s * av;
				long double got = amount_value(&out[k]);

				if (fabsl(got - want) > 1.0L + av * 1e-12)
					bad_near++;
			}
		}
		if (!big_equal(sum, CAP, &a))
			bad_sum++;

		/*
		 * the int64 shares (credit_arrays): given exactly when |A| fits int64
		 * minor units, then equal to the shares above
		 */
		{
			int64_t		s64[MAXN];
			bool		done = false;
			int64_t		whole;
			bool		fits = at_amount_to_int64(&a, &whole);

			CHECK(at_amount_split_i64(&T.env, &a, w, n, s64, &done) == AT_OK);
			if (done != fits)
				bad_i64++;
			for (k = 0; done && k < n; k++)
			{
				int64_t		v;

				if (!at_amount_to_int64(&out[k], &v) || v != s64[k])
					bad_i64++;
			}
			if (done)
				n_i64++;
		}

		/* the general path agrees, share for share */
		if (iter % 3 == 0)
		{
			CHECK(at_amount_split_path(&T.env, &a, w, n, gen, 1) == AT_OK);
			for (k = 0; k < n; k++)
				if (gen[k].nlimbs != out[k].nlimbs || gen[k].negative != out[k].negative ||
					(out[k].nlimbs > 0 &&
					 memcmp(gen[k].limbs, out[k].limbs, out[k].nlimbs * sizeof(uint32_t)) != 0))
					bad_path++;
		}
		test_env_reset(&T);
	}
	CHECK(bad_sum == 0);
	CHECK(bad_sign == 0);
	CHECK(bad_near == 0);
	CHECK(bad_path == 0);
	CHECK(bad_i64 == 0);
	CHECK(n_i64 > 1000);		/* both outcomes of done were seen */
	CHECK(n_i64 < 3990);
	if (bad_sum + bad_sign + bad_near + bad_path + bad_i64)
		fprintf(stderr, "random splits: %d sums, %d signs, %d far, %d path diffs, %d int64 diffs\n",
				bad_sum, bad_sign, bad_near, bad_path, bad_i64);
}

/*
 * at_amount_split_exact against a direct largest-remainder split in 128-bit
 * integers (amounts below 2^63 minor units), and against at_amount_split given
 * the same integers as doubles (exact ratios when q < 2^20, so equal results).
 */
static void
test_split_exact(void)
{
	enum
	{
		MAXN = 40
	};
	uint64_t	q[MAXN];
	double		w[MAXN];
	at_amount	out[MAXN];
	at_amount	out2[MAXN];
	int			bad_ref = 0;
	int			bad_double = 0;

	for (int iter = 0; iter < 20000; iter++)
	{
		uint32_t	n = 1 + (uint32_t) (rng() % MAXN);
		bool		small = iter % 2 == 0;
		int64_t		av = (int64_t) (rng() >> (1 + rng() % 63));
		bool		neg = rng() % 4 == 0;
		char		text[40];
		unsigned __int128 sum = 0;
		uint64_t	want[MAXN];
		unsigned __int128 rem[MAXN];
		uint64_t	left;
		at_amount	a;

		for (uint32_t k = 0; k < n; k++)
		{
			/* many ties: values from a small set */
			q[k] = small ? rng() % 6 : (rng() >> 8) / n;
			if (small && rng() % 3 == 0)
				q[k] = q[0];
			sum += q[k];
		}
		if (sum == 0)
		{
			q[0] = 1;
			sum = 1;
		}
		snprintf(text, sizeof(text), "%s%lld.%02d", neg ? "-" : "", (long long) (av / 100),
				 (int) (av % 100));
		a = amt(text, 2);
		left = (uint64_t) av;
		for (uint32_t k = 0; k < n; k++)
		{
			unsigned __int128 t = (unsigned __int128) q[k] * (uint64_t) av;

			want[k] = (uint64_t) (t / sum);
			rem[k] = t % sum;
			left -= want[k];
		}
		while (left-- > 0)
		{
			uint32_t	best = 0;

			for (uint32_t k = 1; k < n; k++)
				if (rem[k] > rem[best])
					best = k;
			want[best]++;
			rem[best] = 0;
		}
		if (at_amount_split_exact(&T.env, &a, q, n, out) != AT_OK)
		{
			CHECK(false);
			test_env_reset(&T);
			continue;
		}
		for (uint32_t k = 0; k < n; k++)
		{
			int64_t		got;

			if (!at_amount_to_int64(&out[k], &got) || got != (neg && want[k] ? -(int64_t) want[k] : (int64_t) want[k]))
				bad_ref++;
		}
		/* the same shares as int64 minor units (av < 2^63: always given) */
		{
			int64_t		s64[MAXN];
			bool		done = false;

			CHECK(at_amount_split_exact_i64(&T.env, &a, q, n, s64, &done) == AT_OK);
			if (!done)
				bad_ref++;
			for (uint32_t k = 0; done && k < n; k++)
				if (s64[k] != (neg ? -(int64_t) want[k] : (int64_t) want[k]))
					bad_ref++;
		}
		if (small)
		{
			for (uint32_t k = 0; k < n; k++)
				w[k] = (double) q[k];
			CHECK(at_amount_split(&T.env, &a, w, n, out2) == AT_OK);
			for (uint32_t k = 0; k < n; k++)
				if (out2[k].nlimbs != out[k].nlimbs ||
					(out[k].nlimbs > 0 &&
					 memcmp(out2[k].limbs, out[k].limbs, out[k].nlimbs * sizeof(uint32_t)) != 0))
					bad_double++;
		}
		test_env_reset(&T);
	}
	CHECK(bad_ref == 0);
	CHECK(bad_double == 0);
	if (bad_ref + bad_double)
		fprintf(stderr, "exact splits: %d differ from the reference, %d from the double split\n",
				bad_ref, bad_double);

	/* bad integer weights */
	{
		at_amount	a;
		uint64_t	z[3] = {0, 0, 0};
		uint64_t	big[2] = {UINT64_MAX, 1};

		a = amt("10.00", 2);
		CHECK(at_amount_split_exact(&T.env, &a, z, 3, out) == AT_EBAD_WEIGHTS);
		test_env_reset(&T);
		a = amt("10.00", 2);
		CHECK(at_amount_split_exact(&T.env, &a, big, 2, out) == AT_EBAD_WEIGHTS);
		test_env_reset(&T);
		a = amt("10.00", 2);
		CHECK(at_amount_split_exact(&T.env, &a, z, 0, out) == AT_EBAD_WEIGHTS);
		test_env_reset(&T);
	}
}

/* Magnitudes: 0 when x == y, 1 when x == y + 1, else -1 (both trimmed). */
static int
unit_gap(const at_amount *x, const at_amount *y)
{
	uint32_t	t[17];
	uint32_t	n = y->nlimbs;
	uint32_t	i;
	bool		same = x->nlimbs == n;

	for (i = 0; same && i < n; i++)
		same = x->limbs[i] == y->limbs[i];
	if (same)
		return 0;
	if (n >= 17)
		return -1;
	for (i = 0; i < n; i++)
		t[i] = y->limbs[i];
	/* t = y + 1 */
	for (i = 0; i < n && t[i] == 999999999u; i++)
		t[i] = 0;
	if (i == n)
		t[n++] = 1;
	else
		t[i]++;
	if (x->nlimbs != n)
		return -1;
	for (i = 0; i < n; i++)
		if (x->limbs[i] != t[i])
			return -1;
	return 1;
}

/*
 * Equal weights get shares that differ by at most one minor unit, the larger
 * ones first, for amounts of up to 60 digits; when every positive weight is
 * equal the k shares are exactly floor(|A| / k), one more for the first
 * |A| mod k.  Zero weights get nothing; shares sum to A; both paths agree.
 */
static void
test_split_equal(void)
{
	enum
	{
		MAXN = 40, NG = 4, CAP = 16
	};
	double		w[MAXN];
	uint32_t	grp[MAXN];
	at_amount	out[MAXN];
	at_amount	gen[MAXN];
	char		text[80];
	int			iter;
	int			bad_gap = 0;
	int			bad_exact = 0;
	int			bad_zero = 0;
	int			bad_sum = 0;
	int			bad_path = 0;
	int			groups = 0;

	for (iter = 0; iter < 3000; iter++)
	{
		uint32_t	n = 1 + (uint32_t) (rng() % (iter % 5 == 0 ? MAXN : 10));
		int			ndig = 1 + (int) (rng() % 60);
		bool		all_equal = iter % 2 == 0;
		uint32_t	ngroups = all_equal ? 1 : 1 + (uint32_t) (rng() % NG);
		double		val[NG];
		uint32_t	sum[CAP];
		uint32_t	quo[CAP];
		uint64_t	rem = 0;
		uint32_t	k = 0;
		uint32_t	g;
		uint32_t	i;
		int			d;
		char	   *p = text;
		at_amount	a;
		at_amount	qa;

		/* amount: up to 60 random digits, the last two after the point */
		if (rng() % 3 == 0)
			*p++ = '-';
		for (d = 0; d < ndig; d++)
		{
			if (d == ndig - 2)
				*p++ = '.';
			*p++ = (char) ('0' + rng() % 10);
		}
		*p = '\0';
		a = amt(text, 2);

		/* weights: a few distinct positive values, each used repeatedly, and zeros */
		for (g = 0; g < ngroups; g++)
		{
			switch (rng() % 4)
			{
				case 0:
					val[g] = 1.0;
					break;
				case 1:
					val[g] = rng_unit() + 0x1p-30;
					break;
				case 2:
					val[g] = ldexp(1.0 + rng_unit(), (int) (rng() % 120) - 60);
					break;
				default:
					val[g] = 0.2 / (double) (1 + rng() % 9);
					break;
			}
		}
		for (i = 0; i < n; i++)
			grp[i] = rng() % 5 == 0 ? NG : (uint32_t) (rng() % ngroups);
		grp[rng() % n] = 0;		/* one positive weight at least */
		for (i = 0; i < n; i++)
			w[i] = grp[i] == NG ? 0.0 : val[grp[i]];

		if (at_amount_split(&T.env, &a, w, n, out) != AT_OK)
		{
			CHECK(false);
			test_env_reset(&T);
			continue;
		}

		/* within each group of equal weights, in index order */
		for (g = 0; g < ngroups; g++)
		{
			int			first = -1;
			int			prev = -1;

			for (i = 0; i < n; i++)
			{
				if (grp[i] != g)
					continue;
				if (first < 0)
					first = (int) i;
				else
				{
					int			a1 = unit_gap(&out[prev], &out[i]);
					int			a2 = unit_gap(&out[first], &out[i]);

					if (a1 < 0 || a2 < 0)
						bad_gap++;
				}
				prev = (int) i;
			}
			if (first >= 0 && prev != first)
				groups++;
		}

		memset(sum, 0, sizeof(sum));
		for (i = 0; i < n; i++)
		{
			if (grp[i] == NG && out[i].nlimbs > 0)
				bad_zero++;
			if (out[i].nlimbs > 0 && out[i].negative != a.negative)
				bad_zero++;
			big_add(sum, CAP, out[i].limbs, out[i].nlimbs);
			k += grp[i] != NG;
		}
		if (!big_equal(sum, CAP, &a))
			bad_sum++;

		/* all positive weights equal: exactly floor(|A| / k), +1 for the first |A| mod k */
		if (all_equal)
		{
			uint32_t	j = 0;

			for (i = a.nlimbs; i > 0; i--)
			{
				uint64_t	cur = rem * 1000000000u + a.limbs[i - 1];

				quo[i - 1] = (uint32_t) (cur / k);
				rem = cur % k;
			}
			qa.negative = a.negative;
			qa.scale = a.scale;
			qa.limbs = quo;
			qa.nlimbs = a.nlimbs;
			while (qa.nlimbs > 0 && quo[qa.nlimbs - 1] == 0)
				qa.nlimbs--;
			for (i = 0; i < n; i++)
				if (grp[i] != NG)
				{
					if (unit_gap(&out[i], &qa) != (j < rem ? 1 : 0))
						bad_exact++;
					j++;
				}
		}

		if (iter % 3 == 0)
		{
			CHECK(at_amount_split_path(&T.env, &a, w, n, gen, 1) == AT_OK);
			for (i = 0; i < n; i++)
				if (unit_gap(&gen[i], &out[i]) != 0 || gen[i].negative != out[i].negative)
					bad_path++;
		}
		test_env_reset(&T);
	}
	CHECK(bad_gap == 0);
	CHECK(bad_exact == 0);
	CHECK(bad_zero == 0);
	CHECK(bad_sum == 0);
	CHECK(bad_path == 0);
	CHECK(groups > 1000);
	if (bad_gap + bad_exact + bad_zero + bad_sum + bad_path)
		fprintf(stderr, "equal weights: %d gaps, %d inexact, %d zero/sign, %d sums, %d path diffs\n",
				bad_gap, bad_exact, bad_zero, bad_sum, bad_path);
}

/* Many touches: exact sum, and only positive weights get money. */
static void
test_split_many(void)
{
	uint32_t	n = 300000;
	double	   *w = malloc(n * sizeof(double));
	at_amount  *out = malloc(n * sizeof(at_amount));
	at_amount	a = amt("1234567.89", 2);
	uint64_t	total = 0;
	uint32_t	i;
	uint32_t	n824 = 0;
	uint32_t	last824 = 0;
	uint32_t	odd = 0;
	uint32_t	other = 0;

	/* equal weights on the even indices: 150000 of them share 123456789 units */
	for (i = 0; i < n; i++)
		w[i] = (i % 2 == 0) ? 1.0 : 0.0;
	CHECK(at_amount_split(&T.env, &a, w, n, out) == AT_OK);
	for (i = 0; i < n; i++)
	{
		int64_t		v = -1;

		CHECK(at_amount_to_int64(&out[i], &v));
		total += (uint64_t) v;
		if (i % 2 == 1)
			odd += v != 0;
		else if (v == 824)
		{
			n824++;
			last824 = i;
		}
		else if (v != 823)
			other++;
	}
	CHECK(total == 123456789);
	CHECK(odd == 0);
	CHECK(other == 0);
	/*
	 * 123456789 / 150000 = 823.045..., 123456789 - 150000 * 823 = 6789 shares
	 * of 824, on the earliest indices (the equal weights tie): 0, 2, ...,
	 * 2 * 6788.
	 */
	CHECK(n824 == 6789);
	CHECK(last824 == 2 * 6788);
	free(w);
	free(out);
	test_env_reset(&T);
}

/* ------------------------------------------------------------------ */
/* Scaling                                                              */
/* ------------------------------------------------------------------ */

static void
check_scale(const char *text, int scale, double w, const char *want)
{
	at_amount	a = amt(text, scale);
	at_amount	o;

	CHECK(at_amount_scale(&T.env, &a, w, &o) == AT_OK);
	CHECK_STR(fmt(&o), want);
	CHECK(o.scale == scale);
}

static void
test_scale(void)
{
	at_amount	a;
	at_amount	o;

	check_scale("100.00", 2, 0.5, "50.00");
	check_scale("0.01", 2, 0.5, "0.01");	/* 0.005 -> away from zero */
	check_scale("-0.01", 2, 0.5, "-0.01");
	check_scale("0.03", 2, 0.5, "0.02");	/* 1.5 units */
	check_scale("0.03", 2, 0.25, "0.01");	/* 0.75 units */
	check_scale("0.01", 2, 0.25, "0.00");
	check_scale("-0.01", 2, 0.25, "0.00");	/* zero is never negative */
	/* fl(0.1) = 0.1000000000000000055511...: 100 units -> 10.00000000000000055 */
	check_scale("1.00", 2, 0.1, "0.10");
	/* 5 units * fl(0.1) = 0.50000000000000003 > 1/2: rounds up (exact product) */
	check_scale("0.05", 2, 0.1, "0.01");
	check_scale("1.00", 2, 0.0, "0.00");
	check_scale("1.00", 2, 1e6, "1000000.00");
	check_scale("1.00", 2, 1.0, "1.00");
	check_scale("7", 0, 3.0, "21");
	/* 2^-1074 * 10^40: about 2e-284, rounds to 0 */
	check_scale("10000000000000000000000000000000000000000", 0, 5e-324, "0");
	/* 2^70 * 3 = 3541774862152233910272 */
	check_scale("3", 0, 0x1p70, "3541774862152233910272");
	/* 2^-3 * 4 = 0.5 -> 1; 2^-3 * 3 = 0.375 -> 0; 2^-3 * 12 = 1.5 -> 2 */
	check_scale("4", 0, 0.125, "1");
	check_scale("3", 0, 0.125, "0");
	check_scale("-12", 0, 0.125, "-2");
	/* 2^100 = 1267650600228229401496703205376: 10^30 / 2^100 = 0.788... -> 1, 10^33 / 2^100 = 788.86... -> 789 */
	check_scale("1000000000000000000000000000000", 0, 0x1p-100, "1");
	check_scale("1000000000000000000000000000000000", 0, 0x1p-100, "789");
	/* 2^-100 * 2^99 = 0.5 exactly -> 1; (2^99 - 1) * 2^-100 < 0.5 -> 0 */
	check_scale("633825300114114700748351602688", 0, 0x1p-100, "1");
	check_scale("633825300114114700748351602687", 0, 0x1p-100, "0");
	/* 10^30 * (1 + 2^-52) = 10^30 + 10^30 / 2^52 = 10^30 + 222044604925031.308 */
	check_scale("1000000000000000000000000000000", 0, 1.0000000000000002,
				"1000000000000000222044604925031");

	/*
	 * The largest parsable amount times DBL_MAX still formats: (10^200000 - 1)
	 * * (2^1024 - 2^971) has 200309 digits, 17976931348623157081... (DBL_MAX
	 * is 1.7976931348623157081e308) and ends in ...41632 (by Python ints).
	 */
	{
		char	   *text = malloc(200000);
		char	   *s;
		size_t		len;

		memset(text, '9', 200000);
		CHECK(at_amount_parse(&T.env, text, 200000, 0, &a) == AT_OK);
		CHECK(at_amount_scale(&T.env, &a, 1.7976931348623157e308, &o) == AT_OK);
		CHECK(at_amount_format(&T.env, &o, &s, &len) == AT_OK);
		CHECK(len == 200309);
		CHECK(strncmp(s, "17976931348623157081", 20) == 0);
		CHECK(strcmp(s + len - 5, "41632") == 0);
		free(text);
		test_env_reset(&T);
	}

	a = amt("1.00", 2);
	CHECK(at_amount_scale(&T.env, &a, -0.5, &o) == AT_EBAD_VALUE);
	CHECK(strstr(T.err.message, "-0.5") != NULL);
	CHECK(at_amount_scale(&T.env, &a, NAN, &o) == AT_EBAD_VALUE);
	CHECK(strstr(T.err.message, "NaN") != NULL);
	CHECK(at_amount_scale(&T.env, &a, INFINITY, &o) == AT_EBAD_VALUE);
	CHECK(strstr(T.err.message, "Infinity") != NULL);
	CHECK(at_amount_scale(&T.env, &a, -0.0, &o) == AT_OK && o.nlimbs == 0);
	CHECK(at_amount_scale(&T.env, NULL, 1.0, &o) == AT_ENULL);
	CHECK(at_amount_scale(&T.env, &a, 1.0, NULL) == AT_ENULL);
	/* out may alias a */
	a = amt("-3.00", 2);
	CHECK(at_amount_scale(&T.env, &a, 0.5, &a) == AT_OK);
	CHECK_STR(fmt(&a), "-1.50");
	test_env_reset(&T);
}

/* ------------------------------------------------------------------ */
/* Bad input, memory, cancel                                            */
/* ------------------------------------------------------------------ */

static void
check_weights_fail(const double *w, uint32_t n, at_status want, const char *msg_part)
{
	at_amount	a = amt("1.00", 2);
	at_amount	out[8];

	CHECK(at_amount_split(&T.env, &a, w, n, out) == want);
	CHECK(T.err.status == want);
	if (msg_part && strstr(T.err.message, msg_part) == NULL)
	{
		test_failures++;
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", T.err.message, msg_part);
	}
	test_checks++;
}

static void
test_bad_weights(void)
{
	at_amount	a = amt("1.00", 2);
	at_amount	out[4];
	uint32_t	bad[] = {1000000000};
	at_amount	corrupt = {false, 2, 1, bad};

	check_weights_fail((const double[]) {1, -0.5}, 2, AT_EBAD_WEIGHTS,
					   "invalid weight -0.5 (weight 2 of 2)");
	check_weights_fail((const double[]) {NAN, 1}, 2, AT_EBAD_WEIGHTS,
					   "invalid weight NaN (weight 1 of 2)");
	check_weights_fail((const double[]) {1, 2, INFINITY}, 3, AT_EBAD_WEIGHTS,
					   "invalid weight Infinity (weight 3 of 3)");
	check_weights_fail((const double[]) {-INFINITY}, 1, AT_EBAD_WEIGHTS, "-Infinity");
	check_weights_fail((const double[]) {0, 0, 0}, 3, AT_EBAD_WEIGHTS, "all zero");
	CHECK(strstr(T.err.detail, "3 weights") != NULL);
	check_weights_fail((const double[]) {0, -0.0}, 2, AT_EBAD_WEIGHTS, "all zero");
	check_weights_fail((const double[]) {1}, 0, AT_EBAD_WEIGHTS, "no weights");
	check_weights_fail((const double[]) {1}, AT_MAX_TOUCHES + 1, AT_ELIMIT, NULL);
	CHECK(at_amount_split(&T.env, &a, NULL, 1, out) == AT_ENULL);
	CHECK(at_amount_split(&T.env, &a, (const double[]) {1}, 1, NULL) == AT_ENULL);
	CHECK(at_amount_split(&T.env, NULL, (const double[]) {1}, 1, out) == AT_ENULL);
	CHECK(at_amount_split(&T.env, &corrupt, (const double[]) {1}, 1, out) == AT_EBAD_VALUE);
	/* -0.0 is a zero weight, accepted */
	CHECK(at_amount_split(&T.env, &a, (const double[]) {-0.0, 1}, 2, out) == AT_OK);
	CHECK_STR(fmt(&out[0]), "0.00");
	CHECK_STR(fmt(&out[1]), "1.00");
	/* out[0] may be a itself */
	out[0] = amt("-0.03", 2);
	CHECK(at_amount_split(&T.env, &out[0], (const double[]) {1, 1}, 2, out) == AT_OK);
	CHECK_STR(fmt(&out[0]), "-0.02");
	CHECK_STR(fmt(&out[1]), "-0.01");
	out[0] = amt("-0.03", 2);
	CHECK(at_amount_split_path(&T.env, &out[0], (const double[]) {1, 1}, 2, out, 1) == AT_OK);
	CHECK_STR(fmt(&out[0]), "-0.02");
	CHECK_STR(fmt(&out[1]), "-0.01");
	test_env_reset(&T);
}

/*
 * Every allocation failure must come back as AT_ENOMEM: retry with a byte
 * budget growing by one until the call succeeds.
 */
static void
test_out_of_memory(void)
{
	static const char *const texts[] = {
		"1234.56",
		"123456789012345678901234567890123456789012345678901234567890.12"
	};
	double		w[50];
	at_amount	out[50];
	int			t;
	uint32_t	i;

	for (i = 0; i < 50; i++)
		w[i] = 1.0 + i % 7;
	for (t = 0; t < 2; t++)
	{
		int			kind;

		for (kind = 0; kind < 5; kind++)
		{
			size_t		budget;
			int			failures = 0;
			bool		done = false;

			for (budget = 1; budget < 100000 && !done; budget++)
			{
				at_amount	a = amt(texts[t], 2);
				at_amount	o;
				char	   *s;
				size_t		len;
				at_status	st;

				T.limit = T.used + budget;
				switch (kind)
				{
					case 0:
						st = at_amount_parse(&T.env, texts[t], strlen(texts[t]), 2, &o);
						break;
					case 1:
						st = at_amount_format(&T.env, &a, &s, &len);
						break;
					case 2:
						st = at_amount_split(&T.env, &a, w, 50, out);
						break;
					case 3:
						st = at_amount_split_path(&T.env, &a, w, 50, out, 1);
						break;
					default:
						st = at_amount_scale(&T.env, &a, 0x1p100, &o);
						break;
				}
				if (st == AT_OK)
					done = true;
				else if (st == AT_ENOMEM && T.err.status == AT_ENOMEM)
					failures++;
				else
				{
					CHECK(st == AT_ENOMEM);
					done = true;
				}
				test_env_reset(&T);
			}
			CHECK(done);
			CHECK(failures > 0);
		}
	}
}

static void
test_cancel(void)
{
	uint32_t	n = 100000;
	double	   *w = malloc(n * sizeof(double));
	at_amount  *out = malloc(n * sizeof(at_amount));
	at_amount	a;
	uint32_t	i;
	int			after;

	for (i = 0; i < n; i++)
		w[i] = 1.0 + (i % 13);
	for (after = 0; after < 4; after++)
	{
		a = amt("98765.43", 2);
		T.cancel_after = after;
		CHECK(at_amount_split(&T.env, &a, w, n, out) == AT_ECANCELED);
		CHECK(T.err.status == AT_ECANCELED);
		test_env_reset(&T);

		/* the general path polls too: a 200-digit amount, 2000 touches */
		{
			char		text[202];

			memset(text, '7', 200);
			text[200] = '\0';
			a = amt(text, 0);
			T.cancel_after = after;
			CHECK(at_amount_split(&T.env, &a, w, 2000, out) == AT_ECANCELED);
			test_env_reset(&T);
		}
	}
	/* polls that never say stop change nothing */
	a = amt("98765.43", 2);
	T.cancel_after = 1000000;
	CHECK(at_amount_split(&T.env, &a, w, n, out) == AT_OK);
	free(w);
	free(out);
	test_env_reset(&T);
}

/* ------------------------------------------------------------------ */
/* Driver for money_ref.py                                              */
/* ------------------------------------------------------------------ */

static char *tok_buf;
static size_t tok_cap;

/* Next whitespace-separated token of stdin, or NULL at end of input. */
static char *
next_token(void)
{
	size_t		n = 0;
	int			c;

	do
		c = getchar();
	while (c == ' ' || c == '\n' || c == '\r' || c == '\t');
	if (c == EOF)
		return NULL;
	while (c != EOF && c != ' ' && c != '\n' && c != '\r' && c != '\t')
	{
		if (n + 1 >= tok_cap)
		{
			tok_cap = tok_cap ? tok_cap * 2 : 256;
			tok_buf = realloc(tok_buf, tok_cap);
			if (!tok_buf)
				exit(3);
		}
		tok_buf[n++] = (char) c;
		c = getchar();
	}
	tok_buf[n] = '\0';
	return tok_buf;
}

static char *
next_copy(void)
{
	char	   *t = next_token();
	char	   *copy;

	if (!t)
	{
		fprintf(stderr, "test_money --cases: truncated input\n");
		exit(3);
	}
	copy = malloc(strlen(t) + 1);
	if (!copy)
		exit(3);
	strcpy(copy, t);
	return copy;
}

static void
print_amounts(const at_amount *a, uint32_t n)
{
	uint32_t	i;

	fputs("OK", stdout);
	for (i = 0; i < n; i++)
	{
		putchar(' ');
		fputs(fmt(&a[i]), stdout);
	}
	putchar('\n');
}

static int
run_cases(void)
{
	char	   *kind;

	while ((kind = next_token()) != NULL)
	{
		char		k = kind[0];
		int			scale = atoi(next_token());
		char	   *text = next_copy();
		at_amount	a;
		at_status	st = at_amount_parse(&T.env, text, strlen(text), scale, &a);

		if (k == 'P')
		{
			if (st == AT_OK)
				print_amounts(&a, 1);
		}
		else if (k == 'W')
		{
			char	   *wt = next_copy();
			at_amount	o;

			if (st == AT_OK)
				st = at_amount_scale(&T.env, &a, strtod(wt, NULL), &o);
			if (st == AT_OK)
				print_amounts(&o, 1);
			free(wt);
		}
		else if (k == 'S')
		{
			uint32_t	n = (uint32_t) strtoul(next_token(), NULL, 10);
			double	   *w = malloc((n ? n : 1) * sizeof(double));
			at_amount  *fast = malloc((n ? n : 1) * sizeof(at_amount));
			at_amount  *gen = malloc((n ? n : 1) * sizeof(at_amount));
			uint32_t	i;

			for (i = 0; i < n; i++)
			{
				char	   *t = next_token();

				w[i] = t ? strtod(t, NULL) : 0;
			}
			if (st == AT_OK)
			{
				at_status	st2 = at_amount_split_path(&T.env, &a, w, n, gen, 1);

				st = at_amount_split(&T.env, &a, w, n, fast);
				if (st != st2)
				{
					puts("PATHDIFF");
					st = AT_OK;
					n = 0;
				}
				else if (st == AT_OK)
				{
					for (i = 0; i < n; i++)
						if (strcmp(fmt(&fast[i]), fmt(&gen[i])) != 0)
							break;
					if (i < n)
						puts("PATHDIFF");
					else
						print_amounts(fast, n);
				}
			}
			free(w);
			free(fast);
			free(gen);
		}
		else
		{
			fprintf(stderr, "test_money --cases: unknown case kind \"%s\"\n", kind);
			return 3;
		}
		if (st != AT_OK)
			printf("ERR %s\n", status_name(st));
		free(text);
		test_env_reset(&T);
	}
	free(tok_buf);
	return 0;
}

int
main(int argc, char **argv)
{
	test_env_init(&T);
	if (argc > 1 && strcmp(argv[1], "--cases") == 0)
		return run_cases();

	test_parse();
	test_format();
	test_to_int64();
	test_split_spec();
	test_quantization();
	test_split_big();
	test_split_random();
	test_split_exact();
	test_split_equal();
	test_split_many();
	test_scale();
	test_bad_weights();
	test_out_of_memory();
	test_cancel();
	test_env_reset(&T);

	printf("money: %d checks, %d failed\n", test_checks, test_failures);
	return test_failures != 0;
}
