/*
 * fuzz_journey_text.c — libFuzzer target: journey text input.
 *
 * Any bytes go to at_journey_from_text.  Whatever it accepts must print
 * (at_journey_to_text), and the printed text must parse back to a journey that
 * prints identically and encodes to identical bytes; the bytes must decode.
 * Whatever it rejects must be rejected with a status and a message.
 */
#include "fuzz_common.h"

static fz_env F;
static int	initialized;

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	at_journey	j1,
				j2,
				j3;
	char	   *t1,
			   *t2;
	size_t		n1,
				n2;
	uint8_t    *b1,
			   *b2;
	size_t		l1,
				l2;
	at_status	st;

	if (!initialized)
	{
		fz_init(&F);
		initialized = 1;
	}

	st = at_journey_from_text(&F.env, (const char *) data, size, &j1);
	if (st != AT_OK)
	{
		fz_check_failure(&F, st, "at_journey_from_text");
		goto done;
	}

	st = at_journey_to_text(&F.env, &j1, &t1, &n1);
	FZ_CHECK(st == AT_OK, "an accepted journey does not print: %s", F.err.message);
	FZ_CHECK(strlen(t1) == n1, "to_text length %zu but strlen %zu", n1, strlen(t1));

	st = at_journey_from_text(&F.env, t1, n1, &j2);
	FZ_CHECK(st == AT_OK, "printed text does not parse back: %s\n%s", F.err.message, t1);
	st = at_journey_to_text(&F.env, &j2, &t2, &n2);
	FZ_CHECK(st == AT_OK, "reparsed journey does not print: %s", F.err.message);
	FZ_CHECK(n1 == n2 && memcmp(t1, t2, n1) == 0,
			 "text round trip differs:\n%s\n%s", t1, t2);

	st = at_journey_encode(&F.env, &j1, &b1, &l1);
	FZ_CHECK(st == AT_OK || fz_resource_status(st), "encode failed: %s", F.err.message);
	if (st != AT_OK)
		goto done;
	st = at_journey_encode(&F.env, &j2, &b2, &l2);
	FZ_CHECK(st == AT_OK, "encode of the reparsed journey failed: %s", F.err.message);
	FZ_CHECK(l1 == l2 && memcmp(b1, b2, l1) == 0, "the two journeys encode differently");
	st = at_journey_decode(&F.env, b1, l1, &j3);
	FZ_CHECK(st == AT_OK, "the bytes of an accepted journey do not decode: %s", F.err.message);
	FZ_CHECK(j3.ntouches == j1.ntouches && j3.nchannels == j1.nchannels,
			 "decoded journey has %u touches / %u channels, not %u / %u",
			 j3.ntouches, j3.nchannels, j1.ntouches, j1.nchannels);

done:
	fz_reset(&F);
	return 0;
}
