/*
 * test_journey.c — unit tests of the journey core (src/core/journey.c) and the
 * JSON parser (src/core/json.c): timestamps, the builder, the partial state and
 * journey byte formats (round trips, every truncation, random corruption), the
 * text form, the context window, cancellation and out-of-memory paths.
 *
 * Expected values are worked out by hand in the comments.  Times are
 * microseconds since 2000-01-01T00:00:00Z; DAY = 86,400,000,000 us.
 */
#include "test_env.h"

#include <stdint.h>

#define SEC		INT64_C(1000000)
#define MIN		(60 * SEC)
#define HOUR	(60 * MIN)
#define DAY		(24 * HOUR)
/*
 * 2024-01-01: 24 years after 2000-01-01, with leap days in 2000, 2004, 2008,
 * 2012, 2016 and 2020: 24 * 365 + 6 = 8766 days -> 757,382,400,000,000 us.
 */
#define JAN1_2024 (8766 * DAY)
#define TIME_MIN INT64_C(-211813488000000000)	/* -4713-11-24T00:00:00Z */
#define TIME_END INT64_C(9223371331200000000)	/* 294277-01-01T00:00:00Z */

static test_env T;

#define E (&T.env)

typedef struct spec
{
	const char *id;
	int64_t		at;
	const char *ch;
} spec;

static uint64_t
rnd(uint64_t *s)
{
	/* splitmix64 */
	uint64_t	z = (*s += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static const char *
fmt(int64_t t)
{
	static char buf[8][48];
	static int	k;

	k = (k + 1) % 8;
	at_time_format(t, buf[k]);
	return buf[k];
}

static at_status
parse(const char *s, int64_t *out)
{
	return at_time_parse(E, s, strlen(s), out);
}

static int64_t
parsed(const char *s)
{
	int64_t		t = INT64_MIN;

	CHECK(parse(s, &t) == AT_OK);
	return t;
}

static at_status
add(at_builder *b, const char *id, int64_t at, const char *ch)
{
	return at_builder_add(E, b, id, strlen(id), at, ch, strlen(ch));
}

static void
add_all(at_builder *b, const spec *s, int n)
{
	for (int i = 0; i < n; i++)
		CHECK(add(b, s[i].id, s[i].at, s[i].ch) == AT_OK);
}

static at_journey
make(const spec *s, int n)
{
	at_builder	b;
	at_journey	j;

	at_builder_init(&b);
	add_all(&b, s, n);
	CHECK(at_builder_finish(E, &b, &j) == AT_OK);
	return j;
}

static bool
same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static bool
same_journey(const at_journey *a, const at_journey *b)
{
	uint8_t    *x,
			   *y;
	size_t		xl,
				yl;

	if (at_journey_encode(E, a, &x, &xl) != AT_OK || at_journey_encode(E, b, &y, &yl) != AT_OK)
		return false;
	return same_bytes(x, xl, y, yl);
}

static const char *
text(const at_journey *j)
{
	char	   *s = NULL;
	size_t		n;

	CHECK(at_journey_to_text(E, j, &s, &n) == AT_OK);
	CHECK(s != NULL && strlen(s) == n);
	return s ? s : "";
}

static at_status
from_text(const char *s, at_journey *j)
{
	return at_journey_from_text(E, s, strlen(s), j);
}

static bool
touch_is(const at_journey *j, uint32_t i, const char *id, int64_t at, const char *ch)
{
	const at_touch *t = &j->touches[i];
	const at_str *c = &j->channels[t->channel];

	return i < j->ntouches && t->at == at && t->id_len == strlen(id) &&
		memcmp(j->ids + t->id_off, id, t->id_len) == 0 &&
		c->len == strlen(ch) && memcmp(c->p, ch, c->len) == 0;
}

/* ------------------------------------------------------------------ */

static void
test_time_format(void)
{
	char		buf[48];

	CHECK_STR(fmt(0), "2000-01-01T00:00:00Z");
	CHECK_STR(fmt(JAN1_2024), "2024-01-01T00:00:00Z");
	CHECK(JAN1_2024 == INT64_C(757382400000000));
	CHECK_STR(fmt(-1), "1999-12-31T23:59:59.999999Z");
	CHECK_STR(fmt(1), "2000-01-01T00:00:00.000001Z");
	CHECK_STR(fmt(SEC / 2), "2000-01-01T00:00:00.5Z");	/* trailing zeros trimmed */
	CHECK_STR(fmt(123450), "2000-01-01T00:00:00.12345Z");
	/* 2024-02-29 = Jan 1 + 31 (January) + 28 days */
	CHECK_STR(fmt(JAN1_2024 + 59 * DAY + 12 * HOUR + 34 * MIN + 56 * SEC + 789000),
			  "2024-02-29T12:34:56.789Z");
	CHECK_STR(fmt(JAN1_2024 + 60 * DAY), "2024-03-01T00:00:00Z");
	/* 2000 is leap (divisible by 400): 2000-02-29 is day 31 + 28 = 59 */
	CHECK_STR(fmt(59 * DAY), "2000-02-29T00:00:00Z");
	CHECK_STR(fmt(60 * DAY), "2000-03-01T00:00:00Z");
	/* 2000..2099: 100 * 365 + 25 leap days (2000..2096) = 36525; 2100 is not leap */
	CHECK_STR(fmt(36525 * DAY + 59 * DAY), "2100-03-01T00:00:00Z");

	/*
	 * 2000-01-01 to 10000-01-01: 8000 * 365 + 2000 leap years (2000..9996) - 60
	 * century years not divisible by 400 (79 centuries 2100..9900, 19 of them
	 * 2400..9600 divisible by 400) = 2,921,940 days.
	 */
	CHECK_STR(fmt(2921940 * DAY - SEC), "9999-12-31T23:59:59Z");
	CHECK_STR(fmt(2921940 * DAY), "10000-01-01T00:00:00Z");

	/*
	 * 0001-01-01 to 2000-01-01: 1999 * 365 + 484 leap years (499 multiples of 4,
	 * minus 19 centuries, plus 400, 800, 1200, 1600) = 730,119 days.
	 */
	CHECK_STR(fmt(-730119 * DAY), "0001-01-01T00:00:00Z");
	CHECK_STR(fmt(-730120 * DAY), "0000-12-31T00:00:00Z");	/* 1 BC, astronomical 0 */
	CHECK_STR(fmt(-730120 * DAY - 366 * DAY), "-0001-12-31T00:00:00Z");	/* year 0 is leap */
	CHECK_STR(fmt(TIME_MIN), "-4713-11-24T00:00:00Z");
	CHECK_STR(fmt(TIME_END - 1), "294276-12-31T23:59:59.999999Z");
	/* not valid times, but formatting must not overflow the buffer */
	CHECK(at_time_format(INT64_MAX, buf) < 40 && strlen(buf) < 40);
	CHECK(at_time_format(INT64_MIN, buf) < 40 && strlen(buf) < 40);
	CHECK(buf[0] == '-');
}

static void
test_time_parse(void)
{
	int64_t		t = 42;
	uint64_t	seed = 7;

	CHECK(parsed("2024-01-01T00:00:00Z") == JAN1_2024);
	CHECK(parsed("2024-01-01 00:00:00Z") == JAN1_2024);
	CHECK(parsed("2024-01-01T02:00:00+02:00") == JAN1_2024);	/* 02:00 local - 2 h */
	CHECK(parsed("2024-01-01T02:00:00+02") == JAN1_2024);
	CHECK(parsed("2024-01-01T05:30:00+0530") == JAN1_2024);
	CHECK(parsed("2023-12-31T19:00:00-05:00") == JAN1_2024);	/* 19 + 5 = 24:00 */
	CHECK(parsed("2023-12-31T18:15:00-0545") == JAN1_2024);
	CHECK(parsed("2024-01-01T00:00:00.5Z") == JAN1_2024 + 500000);
	CHECK(parsed("2024-01-01T00:00:00.000001Z") == JAN1_2024 + 1);
	CHECK(parsed("2024-01-01T00:00:00.123456Z") == JAN1_2024 + 123456);
	CHECK(parsed("2024-01-01T00:00:00.12Z") == JAN1_2024 + 120000);
	CHECK(parsed("1999-12-31T23:59:59Z") == -SEC);
	CHECK(parsed("2000-02-29T00:00:00Z") == 59 * DAY);
	CHECK(parsed("2024-02-29T00:00:00Z") == JAN1_2024 + 59 * DAY);
	/* 2000-01-01 to 2400-01-01 = one 400-year cycle, 146097 days; + 59 = Feb 29 */
	CHECK(parsed("2400-02-29T00:00:00Z") == (146097 + 59) * DAY);
	CHECK(parsed("9999-12-31T23:59:59Z") == 2921940 * DAY - SEC);
	CHECK(parsed("0001-01-01T00:00:00Z") == -730119 * DAY);
	CHECK(parsed("10000-01-01T00:00:00Z") == 2921940 * DAY);
	CHECK(parsed("-0001-12-31T00:00:00Z") == -730120 * DAY - 366 * DAY);
	CHECK(parsed("-4713-11-24T00:00:00Z") == TIME_MIN);
	CHECK(parsed("294276-12-31T23:59:59.999999Z") == TIME_END - 1);
	CHECK(parsed("2024-01-01T00:00:00+15:59") == JAN1_2024 - 15 * HOUR - 59 * MIN);

	{
		static const char *const bad[] = {
			"", "2024-01-01", "2024-01-01T00:00:00", "2024-01-01T00:00Z",
			"2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "2024-04-31T00:00:00Z",
			"2024-01-32T00:00:00Z", "2024-01-00T00:00:00Z", "2023-02-29T00:00:00Z",
			"1900-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2024-01-01T24:00:00Z",
			"2024-01-01T23:60:00Z", "2024-01-01T23:59:60Z", "2024-01-01T00:00:00.1234567Z",
			"2024-01-01T00:00:00.Z", "2024-01-01T00:00:00+16:00", "2024-01-01T00:00:00+05:60",
			"2024-01-01T00:00:00z", "2024-01-01t00:00:00Z", "2024-01-01T00:00:00Z ",
			" 2024-01-01T00:00:00Z", "2024-1-01T00:00:00Z", "24-01-01T00:00:00Z",
			"+2024-01-01T00:00:00Z", "2024-01-01T00:00:00+5", "2024-01-01T00:00:00+05:",
			"2024-01-01T00:00:00+05:3", "2024-01-01T00:00:00+05:30:00", "2024-01-01T1:00:00Z",
			"1234567-01-01T00:00:00Z", "294277-01-01T00:00:00Z", "-4713-11-23T23:59:59Z",
			"-4713-11-24T00:00:00+00:01", "2024-01-01T00:00:00-00:00x", "infinity",
			"2024-01-01T00:00:00.-1Z", "2024-01-01T00:00:+0Z",
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		{
			int			before = test_failures;

			t = 42;
			CHECK(parse(bad[i], &t) == AT_ESYNTAX);
			CHECK(t == 42);
			CHECK(T.err.status == AT_ESYNTAX);
			if (test_failures != before)
				fprintf(stderr, "    accepted \"%s\"\n", bad[i]);
		}
	}
	CHECK(parse("2023-02-29T00:00:00Z", &t) == AT_ESYNTAX);
	CHECK_STR(T.err.message, "invalid timestamp \"2023-02-29T00:00:00Z\"");
	CHECK_STR(T.err.detail, "Day 29 does not exist in that month.");
	CHECK(T.err.hint[0] != '\0');
	CHECK(parse("2024-13-01T00:00:00Z", &t) == AT_ESYNTAX);
	CHECK_STR(T.err.detail, "Month 13 does not exist.");
	CHECK(parse("2024-01-01T24:00:00Z", &t) == AT_ESYNTAX);
	CHECK_STR(T.err.detail, "Time of day 24:00:00 does not exist.");
	/* long and control-character text is cut and masked in the message */
	CHECK(parse("0123456789012345678901234567890123456789012345678901234567890123456789\n",
				&t) == AT_ESYNTAX);
	CHECK_STR(T.err.message,
			  "invalid timestamp \"012345678901234567890123456789012345678901234567...\"");
	CHECK(at_time_parse(E, "2024-01-01T00:00:00Zjunk", 20, &t) == AT_OK && t == JAN1_2024);
	CHECK(at_time_parse(E, NULL, 0, &t) == AT_ESYNTAX);
	CHECK(parse("999999-01-01T00:00:00Z", &t) == AT_ESYNTAX);
	CHECK_STR(T.err.detail, "Times range from 4714 BC to 294276 AD.");
	CHECK(parse("-999999-01-01T00:00:00Z", &t) == AT_ESYNTAX);
	CHECK(parse("294276-12-31T23:59:59-00:01", &t) == AT_ESYNTAX);
	CHECK_STR(T.err.detail, "Times range from 4714 BC to 294276 AD.");

	/* round trips over the whole valid range, with and without fractions */
	for (int i = 0; i < 20000; i++)
	{
		uint64_t	below = (uint64_t) -TIME_MIN,
					off = rnd(&seed) % ((uint64_t) TIME_END + below);
		int64_t		x = off < below ? TIME_MIN + (int64_t) off : (int64_t) (off - below),
					y = 0;
		char		buf[48];
		size_t		n;

		if (i % 3 == 0)
			x -= ((x % SEC) + SEC) % SEC;	/* whole seconds */
		if (i % 3 == 1)
			x = JAN1_2024 + (int64_t) (rnd(&seed) % (uint64_t) (400 * 366 * DAY)) - 200 * 366 * DAY;
		if (x < TIME_MIN)
			x = TIME_MIN;
		n = at_time_format(x, buf);
		if (at_time_parse(E, buf, n, &y) != AT_OK || y != x)
		{
			CHECK(false);
			fprintf(stderr, "    round trip of %lld via %s gave %lld\n", (long long) x, buf,
					(long long) y);
			break;
		}
	}
	/* consecutive days across many years: format, parse and step agree */
	{
		int64_t		y = 0;
		int			m = 0,
					d = 0;

		for (int64_t day = -800000; day < 3000000; day += 1)
		{
			char		buf[48];
			int			yy,
						mm,
						dd;

			at_time_format(day * DAY, buf);
			if (sscanf(buf[0] == '-' ? buf + 1 : buf, "%d-%d-%d", &yy, &mm, &dd) != 3)
			{
				CHECK(false);
				break;
			}
			if (buf[0] == '-')
				yy = -yy;
			if (day > -800000 && !((yy == y && mm == m && dd == d + 1) ||
								   (yy == y && mm == m + 1 && dd == 1) ||
								   (yy == y + 1 && mm == 1 && dd == 1 && m == 12 && d == 31)))
			{
				CHECK(false);
				fprintf(stderr, "    %s does not follow %lld-%d-%d\n", buf, (long long) y, m, d);
				break;
			}
			y = yy;
			m = mm;
			d = dd;
			if (day % 997 == 0 && parsed(buf) != day * DAY)
				break;
		}
	}
	test_env_reset(&T);
}

/* ------------------------------------------------------------------ */

static void
test_builder(void)
{
	at_builder	b,
				c;
	at_journey	j;
	int64_t		t0 = JAN1_2024 + 4 * DAY + 10 * HOUR;	/* 2024-01-05T10:00:00Z */
	char		big[1600];
	static const spec s1[] = {
		{"t9", JAN1_2024 + 4 * DAY + 10 * HOUR, "email"},
		{"t10", JAN1_2024 + 4 * DAY + 10 * HOUR, "paid_search"},
		{"t1", JAN1_2024 + 4 * DAY + 11 * HOUR, "email"},
		{"x", JAN1_2024 + 3 * DAY + 10 * HOUR, "direct"},
		{"ab", JAN1_2024 + 5 * DAY, "direct"},
		{"a", JAN1_2024 + 5 * DAY, "email"},
	};

	/*
	 * Sorted by (at, id bytewise): x (Jan 4), t10 < t9 at Jan 5 10:00 ('1' <
	 * '9'), t1 (11:00), then at Jan 6 "a" before "ab" (prefix first).
	 * Channels by first appearance: direct 0, paid_search 1, email 2.
	 */
	j = make(s1, 6);
	CHECK(j.ntouches == 6 && j.nchannels == 3 && !j.has_context);
	CHECK(touch_is(&j, 0, "x", t0 - DAY, "direct"));
	CHECK(touch_is(&j, 1, "t10", t0, "paid_search"));
	CHECK(touch_is(&j, 2, "t9", t0, "email"));
	CHECK(touch_is(&j, 3, "t1", t0 + HOUR, "email"));
	CHECK(touch_is(&j, 4, "a", JAN1_2024 + 5 * DAY, "email"));
	CHECK(touch_is(&j, 5, "ab", JAN1_2024 + 5 * DAY, "direct"));
	CHECK(j.touches[0].channel == 0 && j.touches[1].channel == 1 && j.touches[2].channel == 2);
	CHECK(j.ids_len == 1 + 3 + 2 + 2 + 1 + 2);
	CHECK(j.touches[0].id_off == 0 && j.touches[1].id_off == 1 && j.touches[5].id_off == 9);
	CHECK(memcmp(j.ids, "xt10t9t1aab", 11) == 0);

	/* bad values */
	at_builder_init(&b);
	CHECK(add(&b, "", t0, "email") == AT_EBAD_VALUE);
	CHECK_STR(T.err.message, "touch id is empty");
	CHECK(add(&b, "t1", t0, "") == AT_EBAD_VALUE);
	CHECK_STR(T.err.message, "channel name is empty");
	CHECK_STR(T.err.detail, "The touch is \"t1\".");
	memset(big, 'c', sizeof(big));
	CHECK(at_builder_add(E, &b, "t1", 2, t0, big, 1500) == AT_EBAD_VALUE);
	CHECK_STR(T.err.message, "channel name is 1500 bytes long");
	CHECK(at_builder_add(E, &b, big, AT_MAX_ID_LEN + 1, t0, "e", 1) == AT_EBAD_VALUE);
	CHECK_STR(T.err.message, "touch id is 1025 bytes long");
	CHECK(at_builder_add(E, &b, big, AT_MAX_ID_LEN, t0, big, AT_MAX_ID_LEN) == AT_OK);
	CHECK(at_builder_add(E, &b, "a\0b", 3, t0, "e", 1) == AT_EBAD_VALUE);
	CHECK_STR(T.err.message, "touch id contains a NUL byte");
	CHECK(at_builder_add(E, &b, "ab", 2, t0, "e\0", 2) == AT_EBAD_VALUE);
	CHECK(at_builder_add(E, &b, NULL, 2, t0, "e", 1) == AT_ENULL);
	CHECK(add(&b, "t1", INT64_MAX, "e") == AT_EBAD_VALUE);
	CHECK_STR(T.err.message, "touch time is infinite");
	CHECK(add(&b, "t1", INT64_MIN, "e") == AT_EBAD_VALUE);
	CHECK(add(&b, "t1", TIME_END, "e") == AT_EBAD_VALUE);
	CHECK_STR(T.err.message, "touch time is out of range");
	CHECK(add(&b, "t1", TIME_MIN - 1, "e") == AT_EBAD_VALUE);
	CHECK(add(&b, "t1", TIME_MIN, "e") == AT_OK);
	CHECK(add(&b, "t2", TIME_END - 1, "e") == AT_OK);
	CHECK(b.ntouches == 3 && b.nchannels == 2);
	CHECK(at_builder_finish(E, &b, &j) == AT_OK && j.ntouches == 3);
	CHECK(j.touches[0].at == TIME_MIN && j.touches[2].at == TIME_END - 1);

	/* duplicates: at another time, and at the same time */
	at_builder_init(&b);
	CHECK(add(&b, "t1", t0, "email") == AT_OK);
	CHECK(add(&b, "t2", t0, "email") == AT_OK);
	CHECK(add(&b, "t1", t0 + DAY, "direct") == AT_OK);
	CHECK(at_builder_finish(E, &b, &j) == AT_EDUPLICATE);
	CHECK_STR(T.err.message, "touch id \"t1\" appears twice in one journey");
	CHECK_STR(T.err.detail, "The rows occurred at 2024-01-05T10:00:00Z and at 2024-01-06T10:00:00Z.");
	CHECK(strstr(T.err.hint, "DISTINCT") != NULL);
	at_builder_init(&b);
	CHECK(add(&b, "t2", t0, "email") == AT_OK);
	CHECK(add(&b, "t2", t0, "email") == AT_OK);
	CHECK(at_builder_finish(E, &b, &j) == AT_EDUPLICATE);
	CHECK_STR(T.err.detail, "Both rows occurred at 2024-01-05T10:00:00Z.");
	/* several repeated ids: the bytewise smallest is named, with its first two rows */
	at_builder_init(&b);
	CHECK(add(&b, "t9", t0, "email") == AT_OK);
	CHECK(add(&b, "t3", t0 + 1, "email") == AT_OK);
	CHECK(add(&b, "t9", t0 + 2, "email") == AT_OK);
	CHECK(add(&b, "t3", t0 + DAY, "email") == AT_OK);
	CHECK(add(&b, "t3", t0 + 2 * DAY, "email") == AT_OK);
	CHECK(at_builder_finish(E, &b, &j) == AT_EDUPLICATE);
	CHECK_STR(T.err.message, "touch id \"t3\" appears twice in one journey");
	CHECK_STR(T.err.detail, "The rows occurred at 2024-01-05T10:00:00.000001Z and at 2024-01-06T10:00:00Z.");
	/* a long id is cut to 48 bytes, at a UTF-8 character boundary: "a" + 23 "é" */
	{
		char		id[64] = "a";
		char		want[128] = "touch id \"a";

		for (int i = 0; i < 30; i++)
			strcat(id, "\xc3\xa9");
		for (int i = 0; i < 23; i++)
			strcat(want, "\xc3\xa9");
		strcat(want, "...\" appears twice in one journey");
		at_builder_init(&b);
		CHECK(add(&b, id, t0, "e") == AT_OK && add(&b, id, t0 + 1, "e") == AT_OK);
		CHECK(at_builder_finish(E, &b, &j) == AT_EDUPLICATE);
		CHECK_STR(T.err.message, want);
	}
	/* "t1" and "t1 " (prefix) are different ids */
	at_builder_init(&b);
	CHECK(add(&b, "t1", t0, "e") == AT_OK && add(&b, "t1 ", t0 - 1, "e") == AT_OK);
	CHECK(at_builder_finish(E, &b, &j) == AT_OK && j.ntouches == 2);

	/* limits, white box: pretend the builder is full */
	at_builder_init(&b);
	CHECK(add(&b, "t1", t0, "e") == AT_OK);
	b.ntouches = AT_MAX_TOUCHES;
	CHECK(add(&b, "t2", t0, "e") == AT_ELIMIT);
	CHECK_STR(T.err.message, "journey has more than 4194304 touches");
	CHECK(T.err.hint[0] != '\0');
	b.ntouches = 1;
	b.ids_len = 1000000000 - 16 - 32 - 5;	/* + 2 + 1 + channel 4 + 1 ... */
	CHECK(add(&b, "t2", t0, "e") == AT_ELIMIT);
	CHECK_STR(T.err.message, "journey is too large");

	/* the empty journey */
	at_builder_init(&b);
	CHECK(at_builder_finish(E, &b, &j) == AT_OK);
	CHECK(j.ntouches == 0 && j.nchannels == 0 && j.ids_len == 0);

	/* merge: equal to adding everything to one builder, channels remapped */
	at_builder_init(&b);
	at_builder_init(&c);
	add_all(&b, s1, 3);
	add_all(&c, s1 + 3, 3);
	CHECK(at_builder_merge(E, &b, &c) == AT_OK);
	CHECK(b.ntouches == 6 && b.nchannels == 3);
	CHECK(at_builder_finish(E, &b, &j) == AT_OK);
	{
		at_journey	k = make(s1, 6);

		CHECK(same_journey(&j, &k));
	}
	at_builder_init(&c);
	CHECK(at_builder_merge(E, &c, &b) == AT_OK);	/* into an empty one */
	CHECK(at_builder_merge(E, &c, &(at_builder) {0}) == AT_OK);
	CHECK(c.ntouches == 6);
	CHECK(at_builder_merge(E, &c, &c) == AT_EBAD_VALUE);
	CHECK(at_builder_merge(E, &c, &b) == AT_OK);	/* every touch twice now */
	CHECK(at_builder_finish(E, &c, &j) == AT_EDUPLICATE);
	test_env_reset(&T);
}

/* Many touches with ties, inserted in different orders, give one journey. */
static void
test_builder_random(void)
{
	enum
	{
		N = 3000
	};
	static spec s[N];
	static char names[N][16];
	static char chans[300][16];
	uint64_t	seed = 42;
	at_journey	j,
				k;

	for (int i = 0; i < 300; i++)
		snprintf(chans[i], sizeof(chans[i]), "ch%d", i);
	for (int i = 0; i < N; i++)
	{
		snprintf(names[i], sizeof(names[i]), "id%d", (int) (rnd(&seed) % 100000) * N + i);
		s[i].id = names[i];
		s[i].at = JAN1_2024 + (int64_t) (rnd(&seed) % 50) * HOUR;	/* many ties */
		s[i].ch = chans[rnd(&seed) % 300];
	}
	j = make(s, N);
	for (int round = 0; round < 2; round++)
	{
		for (int i = N - 1; i > 0; i--)
		{
			int			r = (int) (rnd(&seed) % (uint64_t) (i + 1));
			spec		x = s[i];

			s[i] = s[r];
			s[r] = x;
		}
		k = make(s, N);
		CHECK(same_journey(&j, &k));
	}
	CHECK(j.ntouches == N);
	for (uint32_t i = 1; i < j.ntouches; i++)
	{
		const at_touch *a = &j.touches[i - 1],
				   *b = &j.touches[i];
		size_t		n = a->id_len < b->id_len ? a->id_len : b->id_len;
		int			r = memcmp(j.ids + a->id_off, j.ids + b->id_off, n);

		if (!(a->at < b->at || (a->at == b->at && (r < 0 || (r == 0 && a->id_len < b->id_len)))))
		{
			CHECK(false);
			break;
		}
	}
	/* channels numbered by first appearance */
	{
		uint32_t	next = 0;

		for (uint32_t i = 0; i < j.ntouches; i++)
		{
			CHECK(j.touches[i].channel <= next);
			if (j.touches[i].channel == next)
				next++;
		}
		CHECK(next == j.nchannels);
	}
	test_env_reset(&T);
}

/* ------------------------------------------------------------------ */

static void
state_of(const spec *s, int n, uint8_t **out, size_t *len)
{
	at_builder	b;

	at_builder_init(&b);
	add_all(&b, s, n);
	CHECK(at_builder_serialize(E, &b, out, len) == AT_OK);
}

static void
test_state(void)
{
	static const spec s1[] = {
		{"t2", 5 * DAY, "email"},
		{"t1", 5 * DAY, "direct"},
		{"t3", 6 * DAY, "email"},
	};
	uint8_t    *bytes,
			   *again,
			   *copy;
	size_t		len,
				len2;
	at_builder	b,
				c;
	at_journey	j;
	uint64_t	seed = 1;

	/*
	 * 0xB1, ntouches 3, nchannels 2, "email" (4 + 5), "direct" (4 + 6),
	 * 3 touches of 8 + 4 + 4 + 2: 9 + 19 + 54 = 82 bytes.
	 */
	state_of(s1, 3, &bytes, &len);
	CHECK(len == 82);
	CHECK(bytes[0] == 0xB1 && bytes[1] == 3 && bytes[5] == 2 && bytes[9] == 5);
	CHECK(memcmp(bytes + 13, "email", 5) == 0);
	CHECK(at_builder_deserialize(E, bytes, len, &b) == AT_OK);
	CHECK(b.ntouches == 3 && b.nchannels == 2);
	CHECK(at_builder_serialize(E, &b, &again, &len2) == AT_OK);
	CHECK(same_bytes(bytes, len, again, len2));
	/* the result is a working builder: add, merge, dedup channels */
	CHECK(add(&b, "t4", 7 * DAY, "email") == AT_OK && b.nchannels == 2);
	CHECK(add(&b, "t5", 7 * DAY, "social") == AT_OK && b.nchannels == 3);
	at_builder_init(&c);
	CHECK(add(&c, "t6", 8 * DAY, "direct") == AT_OK);
	CHECK(at_builder_merge(E, &b, &c) == AT_OK && b.nchannels == 3);
	CHECK(at_builder_finish(E, &b, &j) == AT_OK && j.ntouches == 6);
	CHECK(touch_is(&j, 0, "t1", 5 * DAY, "direct"));
	CHECK(touch_is(&j, 5, "t6", 8 * DAY, "direct"));
	/* empty state */
	at_builder_init(&c);
	CHECK(at_builder_serialize(E, &c, &again, &len2) == AT_OK && len2 == 9);
	CHECK(at_builder_deserialize(E, again, len2, &c) == AT_OK && c.ntouches == 0);
	CHECK(add(&c, "t1", 0, "x") == AT_OK);

	/* every truncation, and one extra byte */
	for (size_t n = 0; n < len; n++)
		CHECK(at_builder_deserialize(E, bytes, n, &b) == AT_ECORRUPT);
	CHECK(strncmp(T.err.message, "corrupt attrib partial state: ", 30) == 0);
	copy = malloc(len + 1);
	memcpy(copy, bytes, len);
	copy[len] = 0;
	CHECK(at_builder_deserialize(E, copy, len + 1, &b) == AT_ECORRUPT);
	CHECK_STR(T.err.message, "corrupt attrib partial state: 1 bytes follow the last touch");
	CHECK(at_builder_deserialize(E, NULL, 0, &b) == AT_ECORRUPT);

	/* specific damage, each with its own message */
#define DAMAGE(off, val, msg) do { \
		memcpy(copy, bytes, len); copy[off] = (val); \
		CHECK(at_builder_deserialize(E, copy, len, &b) == AT_ECORRUPT); \
		CHECK_STR(T.err.message, "corrupt attrib partial state: " msg); \
	} while (0)
	DAMAGE(0, 0x01, "unsupported format version 0x01");
	DAMAGE(4, 0x01, "16777219 touches is more than the limit of 4194304");
	DAMAGE(1, 1, "2 channels for 1 touches");
	DAMAGE(1, 9, "9 touches and 2 channels do not fit in 82 bytes");
	DAMAGE(9, 0, "channel 0 has a bad name of 0 bytes");
	DAMAGE(9, 200, "truncated channel 0");
	DAMAGE(15, 0, "channel 0 has a bad name of 5 bytes");	/* "em\0il" */
	/* length 7 takes the first byte of touch 0's time, 0x00 (5 days = 0x6496A0E000) */
	DAMAGE(18, 7, "channel 1 has a bad name of 7 bytes");
	/* touch 0 starts at 9 + 9 + 10 = 28: at (8), channel (4), id_len (4), id (2) */
	DAMAGE(28 + 8, 2, "touch 0 has channel 2 of 2");
	DAMAGE(28 + 12, 0, "touch 0 has a bad id of 0 bytes");
	DAMAGE(28 + 12, 100, "truncated touch 0");
	DAMAGE(28 + 7, 0x80, "touch 0 has an invalid time");	/* < -4713 */
	DAMAGE(28 + 17, 0, "touch 0 has a bad id of 2 bytes");
	DAMAGE(28 + 18 + 18 + 12, 3, "truncated touch 2");
#undef DAMAGE
	/* a repeated channel name: build it by hand */
	{
		static const uint8_t dup[] = {
			0xB1, 2, 0, 0, 0, 2, 0, 0, 0,
			1, 0, 0, 0, 'a', 1, 0, 0, 0, 'a',
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'x',
			0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 'y',
		};

		/* touch 0's id of 10 bytes swallows touch 1's time (no NUL in 0x0101...) */
		static const uint8_t eats[] = {
			0xB1, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 'a',
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 'x', 'y',
			1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 'z',
		};

		CHECK(at_builder_deserialize(E, dup, sizeof(dup), &b) == AT_ECORRUPT);
		CHECK_STR(T.err.message, "corrupt attrib partial state: channel 1 repeats an earlier channel");
		CHECK(at_builder_deserialize(E, eats, sizeof(eats), &b) == AT_ECORRUPT);
		CHECK_STR(T.err.message, "corrupt attrib partial state: truncated touch 1");
	}

	/* random damage never crashes: accepted states are usable builders */
	for (int i = 0; i < 20000; i++)
	{
		int			flips = 1 + (int) (rnd(&seed) % 3);
		at_status	st;

		memcpy(copy, bytes, len);
		for (int f = 0; f < flips; f++)
			copy[rnd(&seed) % len] ^= (uint8_t) (1 + rnd(&seed) % 255);
		st = at_builder_deserialize(E, copy, len, &b);
		CHECK(st == AT_OK || st == AT_ECORRUPT);
		if (st == AT_OK)
		{
			st = at_builder_finish(E, &b, &j);
			CHECK(st == AT_OK || st == AT_EDUPLICATE);
			CHECK(at_builder_serialize(E, &b, &again, &len2) == AT_OK);
			CHECK(same_bytes(copy, len, again, len2));
			CHECK(add(&b, "new", 0, "email") == AT_OK);
		}
		if (i % 1000 == 999)
		{
			free(copy);
			test_env_reset(&T);
			state_of(s1, 3, &bytes, &len);
			copy = malloc(len + 1);
		}
	}
	free(copy);
	test_env_reset(&T);
}

/* ------------------------------------------------------------------ */

static at_journey
with_ctx(const at_journey *in, uint8_t outcome, int64_t lookback)
{
	static at_stage stages[2];
	at_context	c = {0};
	at_journey	out;

	stages[0].name.p = "MQL";
	stages[0].name.len = 3;
	stages[0].at = JAN1_2024 + 2 * DAY;
	stages[1].name.p = "SQL";
	stages[1].name.len = 3;
	stages[1].at = JAN1_2024 + 4 * DAY;
	c.outcome = outcome;
	c.has = AT_HAS_CREATED | AT_HAS_CLOSED | AT_HAS_LEAD;
	c.created_at = JAN1_2024 + 5 * DAY;
	c.closed_at = JAN1_2024 + 8 * DAY;
	c.lead_created_at = JAN1_2024 + 1 * DAY;
	c.nstages = 2;
	c.stages = stages;
	CHECK(at_journey_with_context(E, in, &c, lookback, &out) == AT_OK);
	return out;
}

static void
test_encode(void)
{
	static const spec one[] = {{"a", 1, "c"}};
	static const uint8_t one_bytes[] = {
		1, 0, 0, 0,				/* version 1, flags 0, reserved */
		1, 0, 0, 0,				/* ntouches */
		1, 0, 0, 0,				/* nchannels */
		1, 0, 0, 0, 'c',		/* channel "c" */
		1, 0, 0, 0, 0, 0, 0, 0, /* at = 1 us */
		0, 0, 0, 0,				/* channel 0 */
		1, 0, 0, 0, 'a',		/* id "a" */
	};
	static const spec s1[] = {
		{"t1", JAN1_2024, "email"}, {"t2", JAN1_2024 + DAY, "direct"},
		{"t3", JAN1_2024 + 7 * DAY, "email"}, {"t4", JAN1_2024 + 9 * DAY, "social"},
		{"t0", JAN1_2024 - 30 * DAY, "paid"},
	};
	at_journey	j,
				k,
				w;
	uint8_t    *bytes,
			   *again,
			   *copy;
	size_t		len,
				len2;
	uint64_t	seed = 99;

	j = make(one, 1);
	CHECK(at_journey_encode(E, &j, &bytes, &len) == AT_OK);
	CHECK(same_bytes(bytes, len, one_bytes, sizeof(one_bytes)));
	CHECK(at_journey_decode(E, one_bytes, sizeof(one_bytes), &k) == AT_OK);
	CHECK(k.ntouches == 1 && k.nchannels == 1 && touch_is(&k, 0, "a", 1, "c"));
	CHECK(k.channels[0].p == (const char *) one_bytes + 16);	/* points into data */

	/* with context: header, then outcome 1, has 7, 4 times, 2 stages */
	j = make(s1, 5);
	w = with_ctx(&j, AT_OUTCOME_WON, -1);
	CHECK(w.has_context && w.ntouches == 4);	/* t4 is after close */
	CHECK(at_journey_encode(E, &w, &bytes, &len) == AT_OK);
	/* 12 + 40 + 2 * (4 + 3 + 8) + channels (paid 8, email 9, direct 10) + 4 touches 18 */
	CHECK(len == 12 + 40 + 30 + 27 + 72);
	CHECK(bytes[1] == 1 && bytes[12] == 1 && bytes[13] == 7 && bytes[14] == 0);
	/* created_at = (8766 + 5) days = 757814400000000 us = 0x0002B13C...: check via decode */
	CHECK(bytes[16 + 24] == 0 && bytes[16 + 31] == 0);	/* as_of unset: zero */
	CHECK(at_journey_decode(E, bytes, len, &k) == AT_OK);
	CHECK(k.has_context && k.ctx.outcome == AT_OUTCOME_WON && k.ctx.has == 7);
	CHECK(k.ctx.created_at == JAN1_2024 + 5 * DAY && k.ctx.as_of == 0);
	CHECK(k.ctx.nstages == 2 && k.ctx.stages[1].at == JAN1_2024 + 4 * DAY);
	CHECK(k.ctx.stages[1].name.len == 3 && memcmp(k.ctx.stages[1].name.p, "SQL", 3) == 0);
	CHECK(at_journey_encode(E, &k, &again, &len2) == AT_OK);
	CHECK(same_bytes(bytes, len, again, len2));

	/* every truncation and an extra byte */
	for (size_t n = 0; n < len; n++)
		CHECK(at_journey_decode(E, bytes, n, &k) == AT_ECORRUPT);
	copy = malloc(len + 1);
	memcpy(copy, bytes, len);
	copy[len] = 0;
	CHECK(at_journey_decode(E, copy, len + 1, &k) == AT_ECORRUPT);
	CHECK_STR(T.err.message, "corrupt journey: 1 bytes follow the last touch");

	/*
	 * Offsets: header 0..11, context 12..51 (outcome 12, has 13, reserved 14,
	 * created 16, closed 24, lead 32, as_of 40, nstages 48), stage MQL 52..66,
	 * SQL 67..81, channels paid 82, email 90, direct 99, touches from 109:
	 * t0 109..126 (at 109, channel 117, id_len 121, id 125), t1 127.., t2 145..,
	 * t3 163..180.
	 */
#define DAMAGE(off, val, msg) do { \
		memcpy(copy, bytes, len); copy[off] = (val); \
		CHECK(at_journey_decode(E, copy, len, &k) == AT_ECORRUPT); \
		CHECK_STR(T.err.message, "corrupt journey: " msg); \
	} while (0)
	CHECK(len == 181);
	DAMAGE(0, 2, "unsupported format version 2");
	DAMAGE(1, 3, "unknown flags 0x03");
	DAMAGE(1, 0, "truncated channel 0");	/* context read as channel, length 0x0701 */
	DAMAGE(2, 1, "reserved header bytes are not zero");
	DAMAGE(4, 2, "3 channels for 2 touches");
	DAMAGE(7, 1, "16777220 touches is more than the limit of 4194304");
	DAMAGE(4, 200, "200 touches and 3 channels do not fit in 181 bytes");
	DAMAGE(12, 0, "context has outcome 0");
	DAMAGE(12, 4, "context has outcome 4");
	DAMAGE(13, 0x17, "context has unknown bits 0x17");
	DAMAGE(13, 3, "context has an invalid lead_created_at");	/* unset but not zero */
	DAMAGE(15, 1, "reserved context bytes are not zero");
	DAMAGE(16 + 7, 0x80, "context has an invalid created_at");
	DAMAGE(40, 1, "context has an invalid as_of");
	DAMAGE(48, 25, "25 stages is more than the limit of 24");
	/* stage SQL read as channel 0, the low half of its time as a length */
	DAMAGE(48, 1, "truncated channel 1");
	DAMAGE(52, 0, "stage 0 has a bad name of 0 bytes");
	DAMAGE(52, 200, "truncated stage 0");
	DAMAGE(57, 0, "stage 0 has a bad name of 3 bytes");	/* NUL in "MQL" */
	DAMAGE(59 + 7, 0x80, "stage 0 has an invalid time");
	DAMAGE(71, 'M', "stage 1 repeats stage 0");	/* "SQL" -> "MQL" */
	DAMAGE(82, 0, "channel 0 has a bad name of 0 bytes");
	DAMAGE(82, 1, "truncated channel 1");	/* "p", then length "aid\5" */
	DAMAGE(94, 0, "channel 1 has a bad name of 5 bytes");	/* NUL in "email" */
	DAMAGE(117, 1, "channel 1 appears before channel 0");
	DAMAGE(117, 3, "touch 0 has channel 3 of 3");
	DAMAGE(121, 0, "touch 0 has a bad id of 0 bytes");
	DAMAGE(121, 90, "truncated touch 0");
	DAMAGE(109 + 7, 0x80, "touch 0 has an invalid time");
	/* t1's time 757382400000000 = 0x0002B0D8A2C80000 loses 2 << 48: before t0 */
	DAMAGE(127 + 6, 0, "touch 1 is out of order");
	DAMAGE(180, '0', "touch id \"t0\" appears twice");	/* t3 -> t0, at another time */
	DAMAGE(162, '1', "touch id \"t1\" appears twice");	/* t2 -> t1 */
#undef DAMAGE
	/* channel never used: drop the last touch's channel use by hand */
	{
		static const uint8_t unused[] = {
			1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0,
			1, 0, 0, 0, 'a', 1, 0, 0, 0, 'b',
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'x',
			1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'y',
		};
		static const uint8_t twice[] = {
			1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0,
			1, 0, 0, 0, 'a', 1, 0, 0, 0, 'a',
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'x',
			1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 'y',
		};
		static const uint8_t equal[] = {
			1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0,
			1, 0, 0, 0, 'a',
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'x',
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 'x',
		};
		static const uint8_t infinite[] = {
			1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
			1, 0, 0, 0, 'a',
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 1, 0, 0, 0, 'x',
		};

		CHECK(at_journey_decode(E, unused, sizeof(unused), &k) == AT_ECORRUPT);
		CHECK_STR(T.err.message, "corrupt journey: channel 1 is never used");
		CHECK(at_journey_decode(E, twice, sizeof(twice), &k) == AT_ECORRUPT);
		CHECK_STR(T.err.message, "corrupt journey: channel 1 repeats channel 0");
		CHECK(at_journey_decode(E, equal, sizeof(equal), &k) == AT_ECORRUPT);
		CHECK_STR(T.err.message, "corrupt journey: touch id \"x\" appears twice");
		static const uint8_t eats[] = {
			1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 'a',
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 'x', 'y',
			1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 'z',
		};

		CHECK(at_journey_decode(E, eats, sizeof(eats), &k) == AT_ECORRUPT);
		CHECK_STR(T.err.message, "corrupt journey: truncated touch 1");
		CHECK(at_journey_decode(E, infinite, sizeof(infinite), &k) == AT_ECORRUPT);
		CHECK_STR(T.err.message, "corrupt journey: touch 0 has an invalid time");
	}

	/* random damage: accepted bytes are canonical (re-encode to the same bytes) */
	for (int i = 0; i < 30000; i++)
	{
		int			flips = 1 + (int) (rnd(&seed) % 3);
		at_status	st;

		memcpy(copy, bytes, len);
		for (int f = 0; f < flips; f++)
			copy[rnd(&seed) % len] ^= (uint8_t) (1 + rnd(&seed) % 255);
		st = at_journey_decode(E, copy, len, &k);
		CHECK(st == AT_OK || st == AT_ECORRUPT);
		if (st == AT_OK)
		{
			CHECK(at_journey_encode(E, &k, &again, &len2) == AT_OK);
			CHECK(same_bytes(copy, len, again, len2));
		}
		if (i % 1000 == 999)
		{
			free(copy);
			test_env_reset(&T);
			j = make(s1, 5);
			w = with_ctx(&j, AT_OUTCOME_WON, -1);
			CHECK(at_journey_encode(E, &w, &bytes, &len) == AT_OK);
			copy = malloc(len + 1);
		}
	}
	free(copy);

	/* a journey beyond the size limit is refused before anything is read */
	{
		at_touch	huge = {0, 0, 0, 0x40000000};
		at_journey	h = {1, &huge, 0, NULL, "", 0, false, {0}};
		char	   *txt;

		CHECK(at_journey_encode(E, &h, &bytes, &len) == AT_ELIMIT);
		CHECK(strncmp(T.err.message, "journey is too large to store", 29) == 0);
		CHECK(at_journey_to_text(E, &h, &txt, &len) == AT_ELIMIT);
		CHECK(strncmp(T.err.message, "journey text would be longer than", 33) == 0);
	}

	/* round trip of a large random journey */
	{
		at_builder	b;
		char		id[24];

		at_builder_init(&b);
		for (int i = 0; i < 2000; i++)
		{
			snprintf(id, sizeof(id), "touch-%d", (int) (rnd(&seed) % 1000000) * 2000 + i);
			CHECK(add(&b, id, (int64_t) (rnd(&seed) % 100) * DAY, i % 7 ? "web" : "call") == AT_OK);
		}
		CHECK(at_builder_finish(E, &b, &j) == AT_OK);
		CHECK(at_journey_encode(E, &j, &bytes, &len) == AT_OK);
		CHECK(at_journey_decode(E, bytes, len, &k) == AT_OK);
		CHECK(at_journey_encode(E, &k, &again, &len2) == AT_OK);
		CHECK(same_bytes(bytes, len, again, len2));
		CHECK(k.ids_len == j.ids_len && memcmp(k.ids, j.ids, j.ids_len) == 0);
	}
	test_env_reset(&T);
}

/* ------------------------------------------------------------------ */

static void
test_text(void)
{
	static const spec s1[] = {
		{"t1", JAN1_2024 + 4 * DAY + 10 * HOUR, "paid_search"},
		{"t2", JAN1_2024 + 5 * DAY, "direct"},
	};
	static const spec odd[] = {
		{"q\"b\\s\n\x01/\xc3\xa9", 1, "caf\xc3\xa9\t"},
	};
	at_journey	j,
				k;
	const char *s;

	/* 2024-01-05T10:00 = Jan 1 + 4 days + 10 h; Jan 6 = Jan 1 + 5 days */
	j = make(s1, 2);
	s = text(&j);
	CHECK_STR(s, "{\"touches\":[[\"t1\",\"2024-01-05T10:00:00Z\",\"paid_search\"],"
			  "[\"t2\",\"2024-01-06T00:00:00Z\",\"direct\"]]}");
	CHECK(from_text(s, &k) == AT_OK && same_journey(&j, &k));

	/* escapes: quote, backslash, control characters as \u00XX, UTF-8 as is */
	j = make(odd, 1);
	s = text(&j);
	CHECK_STR(s, "{\"touches\":[[\"q\\\"b\\\\s\\u000a\\u0001/\xc3\xa9\","
			  "\"2000-01-01T00:00:00.000001Z\",\"caf\xc3\xa9\\u0009\"]]}");
	CHECK(from_text(s, &k) == AT_OK && same_journey(&j, &k));
	CHECK(from_text("{\"touches\":[[\"q\\\"b\\\\s\\n\\u0001\\/\\u00e9\",\"2000-01-01T00:00:00.000001Z\","
					"\"caf\\u00E9\\t\"]]}", &k) == AT_OK);
	CHECK(same_journey(&j, &k));

	/* empty */
	j = make(s1, 0);
	CHECK_STR(text(&j), "{\"touches\":[]}");
	CHECK(from_text(" { \"touches\" : [ ] } ", &k) == AT_OK && k.ntouches == 0 && !k.has_context);

	/* context, all keys, in the canonical order */
	j = make(s1, 2);
	k = with_ctx(&j, AT_OUTCOME_WON, -1);
	s = text(&k);
	CHECK_STR(s, "{\"touches\":[[\"t1\",\"2024-01-05T10:00:00Z\",\"paid_search\"],"
			  "[\"t2\",\"2024-01-06T00:00:00Z\",\"direct\"]],"
			  "\"context\":{\"status\":\"won\",\"created_at\":\"2024-01-06T00:00:00Z\","
			  "\"closed_at\":\"2024-01-09T00:00:00Z\",\"lead_created_at\":\"2024-01-02T00:00:00Z\","
			  "\"stages\":{\"MQL\":\"2024-01-03T00:00:00Z\",\"SQL\":\"2024-01-05T00:00:00Z\"}}}");
	CHECK(from_text(s, &j) == AT_OK && same_journey(&j, &k));
	CHECK(j.ctx.stages[0].name.len == 3 && memcmp(j.ctx.stages[0].name.p, "MQL", 3) == 0);

	/* input: any order, offsets, any key order in context; output canonical */
	CHECK(from_text("{\"context\":{\"as_of\":\"2024-02-01T01:00:00+01:00\",\"status\":\"open\"},"
					"\"touches\":[[\"b\",\"2024-01-02T00:00:00Z\",\"x\"],"
					"[\"a\",\"2024-01-02T00:00:00Z\",\"y\"]]}", &k) == AT_OK);
	CHECK_STR(text(&k), "{\"touches\":[[\"a\",\"2024-01-02T00:00:00Z\",\"y\"],"
			  "[\"b\",\"2024-01-02T00:00:00Z\",\"x\"]],"
			  "\"context\":{\"status\":\"open\",\"as_of\":\"2024-02-01T00:00:00Z\"}}");
	CHECK(k.ctx.outcome == AT_OUTCOME_OPEN && k.ctx.has == AT_HAS_AS_OF);
	/* no window cut on input: a touch after closed_at stays */
	CHECK(from_text("{\"touches\":[[\"a\",\"2024-03-01T00:00:00Z\",\"y\"]],"
					"\"context\":{\"status\":\"lost\",\"closed_at\":\"2024-02-01T00:00:00Z\"}}",
					&k) == AT_OK);
	CHECK(k.ntouches == 1 && k.ctx.outcome == AT_OUTCOME_LOST && k.ctx.closed_at == JAN1_2024 + 31 * DAY);
	/* far years survive a text round trip */
	{
		static const spec far[] = {{"old", TIME_MIN, "x"}, {"new", TIME_END - 1, "x"}};

		j = make(far, 2);
		CHECK(from_text(text(&j), &k) == AT_OK && same_journey(&j, &k));
	}

	/* errors */
#define BAD(txt, st, msg) do { \
		CHECK(from_text(txt, &k) == (st)); \
		CHECK_STR(T.err.message, msg); \
	} while (0)
	BAD("", AT_ESYNTAX, "invalid JSON at byte 0: unexpected end of input");
	BAD("[]", AT_ESYNTAX, "journey text must be a JSON object");
	BAD("{}", AT_ESYNTAX, "journey text has no \"touches\"");
	BAD("{\"touches\":{}}", AT_ESYNTAX, "\"touches\" in journey text must be an array");
	BAD("{\"touches\":[],\"touches\":[]}", AT_ESYNTAX, "duplicate key \"touches\" in journey text");
	BAD("{\"touches\":[],\"foo\":1}", AT_ESYNTAX, "unknown key \"foo\" in journey text");
	BAD("{\"touches\":[[\"a\",\"2024-01-01T00:00:00Z\"]]}", AT_ESYNTAX,
		"touches[0] in journey text must be an array of three strings");
	BAD("{\"touches\":[[\"a\",\"2024-01-01T00:00:00Z\",\"x\"],[\"a\",1,\"x\"]]}", AT_ESYNTAX,
		"touches[1] in journey text must be an array of three strings");
	BAD("{\"touches\":[[\"a\",\"2024-01-01T00:00:00Z\",\"x\",\"y\"]]}", AT_ESYNTAX,
		"touches[0] in journey text must be an array of three strings");
	BAD("{\"touches\":[\"a\"]}", AT_ESYNTAX,
		"touches[0] in journey text must be an array of three strings");
	BAD("{\"touches\":[[\"a\",\"2024-02-30T00:00:00Z\",\"x\"]]}", AT_ESYNTAX,
		"invalid timestamp \"2024-02-30T00:00:00Z\"");
	CHECK_STR(T.err.detail, "In touches[0]: Day 30 does not exist in that month.");
	BAD("{\"touches\":[[\"\",\"2024-01-01T00:00:00Z\",\"x\"]]}", AT_EBAD_VALUE, "touch id is empty");
	CHECK_STR(T.err.detail, "In touches[0].");
	BAD("{\"touches\":[[\"a\",\"2024-01-01T00:00:00Z\",\"x\"],[\"a\",\"2024-01-02T00:00:00Z\",\"y\"]]}",
		AT_EDUPLICATE, "touch id \"a\" appears twice in one journey");
	BAD("{\"touches\":[[\"a\\u0000\",\"2024-01-01T00:00:00Z\",\"x\"]]}", AT_ESYNTAX,
		"invalid JSON at byte 15: \\u0000 is not allowed");
	BAD("{\"touches\":[],\"context\":[]}", AT_ESYNTAX, "\"context\" in journey text must be an object");
	BAD("{\"touches\":[],\"context\":{}}", AT_ESYNTAX, "journey context has no \"status\"");
	BAD("{\"touches\":[],\"context\":{\"status\":\"pending\"}}", AT_ESYNTAX,
		"context \"status\" in journey text must be \"won\", \"open\" or \"lost\"");
	BAD("{\"touches\":[],\"context\":{\"status\":1}}", AT_ESYNTAX,
		"context \"status\" in journey text must be \"won\", \"open\" or \"lost\"");
	BAD("{\"touches\":[],\"context\":{\"status\":\"won\",\"status\":\"won\"}}", AT_ESYNTAX,
		"duplicate key \"status\" in journey context");
	BAD("{\"touches\":[],\"context\":{\"status\":\"won\",\"closed\":\"x\"}}", AT_ESYNTAX,
		"unknown key \"closed\" in journey context");
	BAD("{\"touches\":[],\"context\":{\"status\":\"won\",\"closed_at\":null}}", AT_ESYNTAX,
		"context \"closed_at\" in journey text must be a time string");
	BAD("{\"touches\":[],\"context\":{\"status\":\"won\",\"closed_at\":\"yesterday\"}}", AT_ESYNTAX,
		"invalid timestamp \"yesterday\"");
	CHECK(strncmp(T.err.detail, "In context \"closed_at\": ", 24) == 0);
	BAD("{\"touches\":[],\"context\":{\"status\":\"won\",\"stages\":[]}}", AT_ESYNTAX,
		"context \"stages\" in journey text must be an object");
	BAD("{\"touches\":[],\"context\":{\"status\":\"won\",\"stages\":{\"\":\"2024-01-01T00:00:00Z\"}}}",
		AT_ESYNTAX, "stage name in journey context is empty");
	BAD("{\"touches\":[],\"context\":{\"status\":\"won\",\"stages\":{\"A\":\"2024-01-01T00:00:00Z\","
		"\"A\":\"2024-01-02T00:00:00Z\"}}}", AT_ESYNTAX, "stage \"A\" appears twice in journey context");
	BAD("{\"touches\":[],\"context\":{\"status\":\"won\",\"stages\":{\"A\":5}}}", AT_ESYNTAX,
		"stage \"A\" in journey text must be a time string");
	{
		char		buf[2048];
		size_t		n = (size_t) snprintf(buf, sizeof(buf),
										  "{\"touches\":[],\"context\":{\"status\":\"won\",\"stages\":{");

		for (int i = 0; i < 25; i++)
			n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s\"S%d\":\"2024-01-01T00:00:00Z\"",
								   i ? "," : "", i);
		snprintf(buf + n, sizeof(buf) - n, "}}}");
		BAD(buf, AT_ELIMIT, "journey context has 25 stages, more than the limit of 24");
		/* 24 is fine */
		memcpy(strstr(buf, ",\"S24\""), "}}}", 4);
		CHECK(from_text(buf, &k) == AT_OK && k.ctx.nstages == 24);
		CHECK(from_text(text(&k), &j) == AT_OK && same_journey(&j, &k));
	}
#undef BAD
	test_env_reset(&T);
}

/* ------------------------------------------------------------------ */

static void
test_json(void)
{
	at_json    *v;
	char		deep[200];

	CHECK(at_json_parse(E, " {\"a\": [1, -2.5e3, true, false, null, \"x\"], \"a\": {}} ", 53, &v) == AT_OK);
	CHECK(v->kind == AT_JSON_OBJECT && v->n == 2);
	CHECK(v->keys[0].len == 1 && v->keys[1].p[0] == 'a');	/* duplicate keys kept */
	CHECK(v->items[0].kind == AT_JSON_ARRAY && v->items[0].n == 6);
	CHECK(v->items[0].items[0].num == 1.0);
	CHECK(v->items[0].items[1].num == -2500.0);
	CHECK_STR(v->items[0].items[1].str.p, "-2.5e3");
	CHECK(v->items[0].items[2].kind == AT_JSON_TRUE && v->items[0].items[4].kind == AT_JSON_NULL);
	CHECK(v->items[1].kind == AT_JSON_OBJECT && v->items[1].n == 0);
	/* escapes: U+00E9 -> C3 A9, U+20AC -> E2 82 AC, U+1F600 (D83D DE00) -> F0 9F 98 80 */
	CHECK(at_json_parse(E, "\"\\u00e9\\u20AC\\ud83d\\ude00\\b\\f\\r\"", 32, &v) == AT_OK);
	CHECK(v->str.len == 12 && memcmp(v->str.p, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\b\f\r", 12) == 0);
	CHECK(at_json_parse(E, "0", 1, &v) == AT_OK && v->num == 0.0);
	CHECK(at_json_parse(E, "-0.0e-0", 7, &v) == AT_OK);
	CHECK(at_json_parse(E, "1E+2", 4, &v) == AT_OK && v->num == 100.0);
	CHECK(at_json_parse(E, "\"\xff\xfe\"", 4, &v) == AT_OK && v->str.len == 2);	/* bytes pass */
	/* only len bytes are read */
	CHECK(at_json_parse(E, "[1]]", 3, &v) == AT_OK);

	{
		static const struct
		{
			const char *text;
			const char *msg;
		}			bad[] = {
			{"", "invalid JSON at byte 0: unexpected end of input"},
			{"[1,]", "invalid JSON at byte 3: unexpected character ']'"},
			{"{\"a\":1,}", "invalid JSON at byte 7: expected a string as object key"},
			{"[1 2]", "invalid JSON at byte 3: expected ',' or ']'"},
			{"{\"a\" 1}", "invalid JSON at byte 5: expected ':' after object key"},
			{"{\"a\":1 \"b\":2}", "invalid JSON at byte 7: expected ',' or '}'"},
			{"// c\n1", "invalid JSON at byte 0: unexpected character '/'"},
			{"NaN", "invalid JSON at byte 0: unexpected character 'N'"},
			{"-Infinity", "invalid JSON at byte 1: invalid number"},
			{"01", "invalid JSON at byte 1: unexpected data after the JSON value"},
			{"1.", "invalid JSON at byte 2: invalid number"},
			{".5", "invalid JSON at byte 0: unexpected character '.'"},
			{"1e", "invalid JSON at byte 2: invalid number"},
			{"-", "invalid JSON at byte 1: invalid number"},
			{"1e999", "invalid JSON at byte 0: number out of range"},
			{"tru", "invalid JSON at byte 0: unexpected character 't'"},
			{"nul", "invalid JSON at byte 0: unexpected character 'n'"},
			{"\"abc", "invalid JSON at byte 4: unterminated string"},
			{"\"a\\", "invalid JSON at byte 3: unterminated string"},
			{"\"a\tb\"", "invalid JSON at byte 2: control character in string"},
			{"\"\\x\"", "invalid JSON at byte 1: invalid escape in string"},
			{"\"\\u12\"", "invalid JSON at byte 1: invalid \\u escape"},
			{"\"\\ud800\"", "invalid JSON at byte 1: unpaired high surrogate in \\u escape"},
			{"\"\\ud800\\u0041\"", "invalid JSON at byte 1: unpaired high surrogate in \\u escape"},
			{"\"\\udc00\"", "invalid JSON at byte 1: unpaired low surrogate in \\u escape"},
			{"\"\\u0000\"", "invalid JSON at byte 1: \\u0000 is not allowed"},
			{"'a'", "invalid JSON at byte 0: unexpected character '''"},
			{"[1] x", "invalid JSON at byte 4: unexpected data after the JSON value"},
			{"\x01", "invalid JSON at byte 0: unexpected byte 0x01"},
			{"[", "invalid JSON at byte 1: unexpected end of input"},
			{"{\"a\":", "invalid JSON at byte 5: unexpected end of input"},
			{"{1:2}", "invalid JSON at byte 1: expected a string as object key"},
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		{
			CHECK(at_json_parse(E, bad[i].text, strlen(bad[i].text), &v) == AT_ESYNTAX);
			CHECK_STR(T.err.message, bad[i].msg);
			CHECK(v == NULL);
		}
	}
	CHECK(at_json_parse(E, "\"a\0b\"", 5, &v) == AT_ESYNTAX);	/* raw NUL */
	CHECK(at_json_parse(E, NULL, 0, &v) == AT_ESYNTAX);
	CHECK(at_json_parse(E, NULL, 1, &v) == AT_ENULL);

	/* nesting: 64 levels are fine, 65 are not */
	memset(deep, '[', 65);
	memset(deep + 65, ']', 65);
	CHECK(at_json_parse(E, deep + 1, 128, &v) == AT_OK);
	CHECK(at_json_parse(E, deep, 130, &v) == AT_ELIMIT);
	CHECK_STR(T.err.message, "invalid JSON at byte 64: nested more than 64 levels deep");

	/* random damage to a valid document never crashes */
	{
		const char *doc = "{\"touches\":[[\"a\\u00e9\",\"2024-01-01T00:00:00Z\",\"x\"],[1.5e2,true,null]],"
			"\"k\":{\"s\":\"\\ud83d\\ude00\",\"n\":-0.25}}";
		size_t		n = strlen(doc);
		char	   *copy = malloc(n);
		uint64_t	seed = 5;

		for (int i = 0; i < 20000; i++)
		{
			at_status	st;

			memcpy(copy, doc, n);
			for (int f = 0; f < 2; f++)
				copy[rnd(&seed) % n] = (char) (rnd(&seed) % 256);
			st = at_json_parse(E, copy, rnd(&seed) % (n + 1), &v);
			CHECK(st == AT_OK || st == AT_ESYNTAX);
			st = at_journey_from_text(E, copy, n, &(at_journey) {0});
			CHECK(st != AT_ENOMEM && st != AT_ECORRUPT && st != AT_ECANCELED);
			if (i % 2000 == 1999)
				test_env_reset(&T);
		}
		free(copy);
	}
	test_env_reset(&T);
}

/* ------------------------------------------------------------------ */

static void
test_context(void)
{
	/* eleven touches, one a day from Jan 1 to Jan 11; channels a b c a b c ... */
	static spec s[11];
	static char ids[11][8];
	static const char *const ch[3] = {"a", "b", "c"};
	at_journey	j,
				w;
	at_context	c = {0};
	at_stage	st[25];

	for (int i = 0; i < 11; i++)
	{
		snprintf(ids[i], sizeof(ids[i]), "d%02d", i + 1);
		s[i].id = ids[i];
		s[i].at = JAN1_2024 + i * DAY;
		s[i].ch = ch[i % 3];
	}
	j = make(s, 11);

	/*
	 * won, created Jan 6, closed Jan 9, lookback 2 days: keep Jan 4 (= created -
	 * lookback, inclusive) .. Jan 9 (= closed, inclusive): d04..d09, six touches.
	 * d04 has channel a (index 3 % 3 = 0), so a, b, c renumber as 0, 1, 2.
	 */
	w = with_ctx(&j, AT_OUTCOME_WON, 0);	/* with_ctx: created Jan 6, closed Jan 9 */
	CHECK(w.ntouches == 4);		/* lookback 0: Jan 6 .. Jan 9 */
	w = with_ctx(&j, AT_OUTCOME_WON, 2 * DAY);
	CHECK(w.ntouches == 6 && touch_is(&w, 0, "d04", JAN1_2024 + 3 * DAY, "a"));
	CHECK(touch_is(&w, 5, "d09", JAN1_2024 + 8 * DAY, "c"));
	CHECK(w.has_context && w.ctx.outcome == AT_OUTCOME_WON && w.ctx.nstages == 2);
	w = with_ctx(&j, AT_OUTCOME_WON, 2 * DAY + 1);	/* one microsecond more: same */
	CHECK(w.ntouches == 6);
	w = with_ctx(&j, AT_OUTCOME_WON, 3 * DAY);	/* one day more: d03 too */
	CHECK(w.ntouches == 7);
	w = with_ctx(&j, AT_OUTCOME_WON, 2 * DAY - 1);	/* one less: d04 drops */
	CHECK(w.ntouches == 5 && touch_is(&w, 0, "d05", JAN1_2024 + 4 * DAY, "b"));
	CHECK(w.nchannels == 3 && w.touches[0].channel == 0 && w.touches[2].channel == 2);
	CHECK(w.channels[0].len == 1 && w.channels[0].p[0] == 'b');
	CHECK(w.ids_len == 15 && memcmp(w.ids, "d05d06d07d08d09", 15) == 0);
	w = with_ctx(&j, AT_OUTCOME_LOST, -1);	/* no lookback: Jan 1 .. Jan 9 */
	CHECK(w.ntouches == 9);
	w = with_ctx(&j, AT_OUTCOME_OPEN, -1);	/* open, no as_of: closed_at ignored */
	CHECK(w.ntouches == 11);

	/* open with as_of Jan 3 12:00: d01..d03 */
	c.outcome = AT_OUTCOME_OPEN;
	c.has = AT_HAS_AS_OF | AT_HAS_CREATED;
	c.created_at = JAN1_2024 + 2 * DAY;
	c.as_of = JAN1_2024 + 2 * DAY + 12 * HOUR;
	c.closed_at = 12345;		/* not set: ignored, stored as 0 */
	CHECK(at_journey_with_context(E, &j, &c, 30 * DAY, &w) == AT_OK);
	CHECK(w.ntouches == 3 && w.ctx.closed_at == 0 && w.ctx.as_of == c.as_of);
	CHECK_STR(text(&w), "{\"touches\":[[\"d01\",\"2024-01-01T00:00:00Z\",\"a\"],"
			  "[\"d02\",\"2024-01-02T00:00:00Z\",\"b\"],[\"d03\",\"2024-01-03T00:00:00Z\",\"c\"]],"
			  "\"context\":{\"status\":\"open\",\"created_at\":\"2024-01-03T00:00:00Z\","
			  "\"as_of\":\"2024-01-03T12:00:00Z\"}}");
	/* replacing a context; the window cut works on the input journey as given */
	CHECK(at_journey_with_context(E, &w, &c, 0, &w) == AT_OK && w.ntouches == 1);

	/* won without closed_at: no upper cut; huge lookback saturates */
	c.outcome = AT_OUTCOME_WON;
	c.has = AT_HAS_CREATED;
	c.created_at = TIME_MIN;
	CHECK(at_journey_with_context(E, &j, &c, INT64_MAX, &w) == AT_OK && w.ntouches == 11);
	c.created_at = JAN1_2024;
	CHECK(at_journey_with_context(E, &j, &c, INT64_MAX, &w) == AT_OK && w.ntouches == 11);
	/* created Jan 1, lookback 0: all kept (none before) */
	CHECK(at_journey_with_context(E, &j, &c, 0, &w) == AT_OK && w.ntouches == 11);
	c.created_at = JAN1_2024 + 11 * DAY;	/* everything before the window */
	CHECK(at_journey_with_context(E, &j, &c, 0, &w) == AT_OK);
	CHECK(w.ntouches == 0 && w.nchannels == 0 && w.has_context);
	CHECK(same_journey(&w, &w));

	/* NONE: no context at all, no cut */
	memset(&c, 0, sizeof(c));
	CHECK(at_journey_with_context(E, &j, &c, 0, &w) == AT_OK);
	CHECK(w.ntouches == 11 && !w.has_context && same_journey(&w, &j));

	/* validation */
#define BADCTX(st_, msg) do { \
		CHECK(at_journey_with_context(E, &j, &c, -1, &w) == (st_)); \
		CHECK_STR(T.err.message, msg); \
	} while (0)
	c.outcome = 4;
	BADCTX(AT_EBAD_VALUE, "invalid opportunity outcome 4");
	c.outcome = AT_OUTCOME_NONE;
	c.has = AT_HAS_CREATED;
	c.created_at = 0;
	BADCTX(AT_EBAD_VALUE, "opportunity context has times or stages but no status");
	c.outcome = AT_OUTCOME_WON;
	c.has = 0x10;
	BADCTX(AT_EBAD_VALUE, "invalid opportunity context bits 0x10");
	c.has = AT_HAS_CLOSED;
	c.closed_at = INT64_MAX;
	BADCTX(AT_EBAD_VALUE, "opportunity closed_at is infinite or out of range");
	c.closed_at = 0;
	c.has = AT_HAS_LEAD;
	c.lead_created_at = INT64_MIN;
	BADCTX(AT_EBAD_VALUE, "opportunity lead_created_at is infinite or out of range");
	c.has = 0;
	for (int i = 0; i < 25; i++)
	{
		st[i].name.p = ids[i % 11];
		st[i].name.len = 3;
		st[i].at = 0;
	}
	c.stages = st;
	c.nstages = 25;
	BADCTX(AT_ELIMIT, "opportunity has 25 stages, more than the limit of 24");
	c.nstages = 11;
	CHECK(at_journey_with_context(E, &j, &c, -1, &w) == AT_OK && w.ctx.nstages == 11);
	CHECK(w.ctx.stages[3].name.p != st[3].name.p);	/* deep copy */
	CHECK(memcmp(w.ctx.stages[3].name.p, "d04", 3) == 0);
	c.nstages = 12;
	BADCTX(AT_EBAD_VALUE, "stage \"d01\" appears twice in one opportunity");
	c.nstages = 2;
	st[1].name.len = 0;
	BADCTX(AT_EBAD_VALUE, "stage name is empty");
	st[1].name.len = 3;
	st[1].at = TIME_END;
	BADCTX(AT_EBAD_VALUE, "stage \"d02\" time is infinite or out of range");
	c.stages = NULL;
	BADCTX(AT_ENULL, "opportunity stages are NULL");
	CHECK(at_journey_with_context(E, &j, NULL, -1, &w) == AT_ENULL);
#undef BADCTX
	test_env_reset(&T);
}

/* ------------------------------------------------------------------ */

/* A journey of n touches, two channels, ids "id<k>", in the current env. */
static at_journey
big_journey(int n, at_builder *b)
{
	at_journey	j;
	char		id[16];

	at_builder_init(b);
	for (int i = 0; i < n; i++)
	{
		snprintf(id, sizeof(id), "id%d", (i * 7919) % n);
		CHECK(add(b, id, (int64_t) (i % 97) * HOUR, i % 2 ? "odd" : "even") == AT_OK);
	}
	CHECK(at_builder_finish(E, b, &j) == AT_OK);
	return j;
}

static void
test_cancel(void)
{
	at_builder	b,
				c;
	at_journey	j,
				k;
	at_context	ctx = {AT_OUTCOME_WON, 0, 0, 0, 0, 0, 0, NULL};
	uint8_t    *bytes;
	size_t		len;
	char	   *txt;
	at_json    *v;

	j = big_journey(5000, &b);
	CHECK(at_journey_encode(E, &j, &bytes, &len) == AT_OK);
	CHECK(at_journey_to_text(E, &j, &txt, &len) == AT_OK);
	CHECK(at_journey_encode(E, &j, &bytes, &len) == AT_OK);

	for (int after = 0; after < 3; after++)
	{
		T.cancel_after = after;
		CHECK(at_builder_finish(E, &b, &k) == AT_ECANCELED);
		CHECK_STR(T.err.message, "canceling attribution on user request");
		T.cancel_after = after;
		CHECK(at_journey_decode(E, bytes, len, &k) == AT_ECANCELED);
		T.cancel_after = after;
		CHECK(at_journey_to_text(E, &j, &txt, &len) == AT_ECANCELED);
		T.cancel_after = after;
		CHECK(at_journey_with_context(E, &j, &ctx, -1, &k) == AT_ECANCELED);
		T.cancel_after = after;
		at_builder_init(&c);
		CHECK(at_builder_merge(E, &c, &b) == AT_ECANCELED);
		T.cancel_after = after;
		CHECK(at_builder_serialize(E, &b, &bytes, &len) == AT_ECANCELED);
		T.cancel_after = -1;
		CHECK(at_builder_serialize(E, &b, &bytes, &len) == AT_OK);
		T.cancel_after = after;
		CHECK(at_builder_deserialize(E, bytes, len, &c) == AT_ECANCELED);
		T.cancel_after = -1;
		CHECK(at_journey_to_text(E, &j, &txt, &len) == AT_OK);
		T.cancel_after = after;
		CHECK(at_journey_from_text(E, txt, len, &k) == AT_ECANCELED);
		T.cancel_after = after;
		CHECK(at_json_parse(E, txt, len, &v) == AT_ECANCELED);
		T.cancel_after = -1;
		CHECK(at_journey_encode(E, &j, &bytes, &len) == AT_OK);
	}
	/* without a hook nothing is polled */
	T.env.interrupted = NULL;
	CHECK(at_builder_finish(E, &b, &k) == AT_OK);
	T.env.interrupted = test_interrupted;
	test_env_reset(&T);
}

/* Run op with growing memory limits: only AT_ENOMEM until it succeeds. */
#define OOM_LOOP(label, op) do { \
	at_status st_ = AT_ENOMEM; \
	size_t lim_; \
	for (lim_ = 0; lim_ < 4000000 && st_ == AT_ENOMEM; lim_ += 97) { \
		T.limit = T.used + lim_ + 1; \
		st_ = (op); \
		if (st_ != AT_OK && st_ != AT_ENOMEM) break; \
		if (st_ == AT_ENOMEM && strcmp(T.err.message, "out of memory") != 0) { st_ = AT_ELIMIT; break; } \
	} \
	T.limit = 0; \
	if (st_ != AT_OK) fprintf(stderr, "    %s: status %d at limit %zu\n", label, (int) st_, lim_); \
	CHECK(st_ == AT_OK); \
} while (0)

static void
test_oom(void)
{
	at_builder	b,
				c;
	at_journey	j,
				k;
	at_stage	stages[1] = {{{"MQL", 3}, 0}};
	at_context	ctx = {AT_OUTCOME_OPEN, AT_HAS_AS_OF, 0, 0, 0, 10 * HOUR, 1, stages};
	uint8_t    *bytes,
			   *state;
	size_t		len,
				slen,
				tlen;
	char	   *txt;
	at_json    *v;

	j = big_journey(300, &b);
	CHECK(at_journey_with_context(E, &j, &ctx, -1, &k) == AT_OK);
	CHECK(at_journey_encode(E, &k, &bytes, &len) == AT_OK);
	CHECK(at_journey_to_text(E, &k, &txt, &tlen) == AT_OK);
	CHECK(at_builder_serialize(E, &b, &state, &slen) == AT_OK);

	OOM_LOOP("finish", at_builder_finish(E, &b, &j));
	OOM_LOOP("with_context", at_journey_with_context(E, &j, &ctx, -1, &k));
	OOM_LOOP("encode", at_journey_encode(E, &k, &bytes, &len));
	OOM_LOOP("decode", at_journey_decode(E, bytes, len, &k));
	OOM_LOOP("to_text", at_journey_to_text(E, &k, &txt, &tlen));
	OOM_LOOP("from_text", at_journey_from_text(E, txt, tlen, &k));
	OOM_LOOP("json", at_json_parse(E, txt, tlen, &v));
	OOM_LOOP("serialize", at_builder_serialize(E, &b, &state, &slen));
	OOM_LOOP("deserialize", at_builder_deserialize(E, state, slen, &c));
	OOM_LOOP("merge", (at_builder_init(&c), at_builder_merge(E, &c, &b)));
	/* a builder that ran out of memory midway is still consistent */
	at_builder_init(&c);
	T.limit = T.used + 3000;
	{
		at_status	st = AT_OK;
		char		id[16];
		int			i;

		for (i = 0; i < 1000 && st == AT_OK; i++)
		{
			snprintf(id, sizeof(id), "x%d", i);
			st = add(&c, id, i, i % 3 ? "web" : "mail");
		}
		CHECK(st == AT_ENOMEM);
		T.limit = 0;
		CHECK((int) c.ntouches == i - 1);
		CHECK(at_builder_finish(E, &c, &j) == AT_OK && j.ntouches == c.ntouches);
	}
	test_env_reset(&T);
}

int
main(void)
{
	test_env_init(&T);
	test_time_format();
	test_time_parse();
	test_builder();
	test_builder_random();
	test_state();
	test_encode();
	test_text();
	test_json();
	test_context();
	test_cancel();
	test_oom();
	test_env_reset(&T);
	printf("journey: %d checks, %d failed\n", test_checks, test_failures);
	return test_failures != 0;
}
