/*
 * fuzz_model_text.c — libFuzzer target: the text forms of attrib.markov_model
 * and attrib.shapley_model (markov_model_in, shapley_model_in), whose parsers
 * are separate from the byte decoders.
 *
 * The first byte picks the model (even: markov, odd: shapley); the rest is the
 * text.  A rejection must be AT_ESYNTAX (or AT_ELIMIT for JSON nested too
 * deep, or a resource status) with a message.  Anything accepted must encode
 * to bytes that decode (the byte decoder's checks are the same), print as the
 * canonical text, which parses back to the same bytes and prints identically
 * (text -> bytes -> text -> bytes is a fixed point after one step).
 */
#include "fuzz_dd.h"

static fz_env F;
static int	initialized;

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_rejection(at_status st, const char *call)
{
	fz_check_failure(&F, st, call);
	FZ_CHECK(st == AT_ESYNTAX || fz_resource_status(st),
			 "%s failed with status %d (not a syntax error): %s", call, (int) st, F.err.message);
}

static void
markov(const char *text, size_t tlen)
{
	at_markov_counts c,
				d,
				e;
	uint8_t    *b1,
			   *b2;
	size_t		l1,
				l2,
				n1,
				n2;
	char	   *t1,
			   *t2;
	at_status	st;

	st = at_markov_from_text(&F.env, text, tlen, &c);
	if (st != AT_OK)
	{
		check_rejection(st, "at_markov_from_text");
		return;
	}
	st = at_markov_encode(&F.env, &c, &b1, &l1);
	FZ_CHECK(st == AT_OK || fz_resource_status(st), "accepted text does not encode: %s",
			 F.err.message);
	if (st != AT_OK)
		return;
	st = at_markov_decode(&F.env, b1, l1, &d);
	FZ_CHECK(st == AT_OK, "accepted text encodes to bytes that do not decode: %s\n%.*s",
			 F.err.message, (int) tlen, text);
	st = at_markov_to_text(&F.env, &d, &t1, &n1);
	FZ_CHECK(st == AT_OK, "print: %s", F.err.message);
	st = at_markov_from_text(&F.env, t1, n1, &e);
	FZ_CHECK(st == AT_OK, "the canonical text does not parse: %s\n%s", F.err.message, t1);
	st = at_markov_encode(&F.env, &e, &b2, &l2);
	FZ_CHECK(st == AT_OK && l2 == l1 && memcmp(b1, b2, l1) == 0,
			 "text -> bytes -> text -> bytes changed the model:\n%s", t1);
	st = at_markov_to_text(&F.env, &e, &t2, &n2);
	FZ_CHECK(st == AT_OK && n2 == n1 && memcmp(t1, t2, n1) == 0,
			 "the canonical text prints differently:\n%s", t1);
	FZ_CHECK(c.journeys == d.journeys && c.conversions == d.conversions && c.order == d.order,
			 "the totals changed through bytes");
}

static void
shapley(const char *text, size_t tlen)
{
	at_shapley_counts c,
				d,
				e;
	uint8_t    *b1,
			   *b2;
	size_t		l1,
				l2,
				n1,
				n2;
	char	   *t1,
			   *t2;
	at_status	st;

	st = at_shapley_from_text(&F.env, text, tlen, &c);
	if (st != AT_OK)
	{
		check_rejection(st, "at_shapley_from_text");
		return;
	}
	st = at_shapley_encode(&F.env, &c, &b1, &l1);
	FZ_CHECK(st == AT_OK || fz_resource_status(st), "accepted text does not encode: %s",
			 F.err.message);
	if (st != AT_OK)
		return;
	st = at_shapley_decode(&F.env, b1, l1, &d);
	FZ_CHECK(st == AT_OK, "accepted text encodes to bytes that do not decode: %s\n%.*s",
			 F.err.message, (int) tlen, text);
	st = at_shapley_to_text(&F.env, &d, &t1, &n1);
	FZ_CHECK(st == AT_OK, "print: %s", F.err.message);
	st = at_shapley_from_text(&F.env, t1, n1, &e);
	FZ_CHECK(st == AT_OK, "the canonical text does not parse: %s\n%s", F.err.message, t1);
	st = at_shapley_encode(&F.env, &e, &b2, &l2);
	FZ_CHECK(st == AT_OK && l2 == l1 && memcmp(b1, b2, l1) == 0,
			 "text -> bytes -> text -> bytes changed the model:\n%s", t1);
	st = at_shapley_to_text(&F.env, &e, &t2, &n2);
	FZ_CHECK(st == AT_OK && n2 == n1 && memcmp(t1, t2, n1) == 0,
			 "the canonical text prints differently:\n%s", t1);
	FZ_CHECK(c.total_journeys == d.total_journeys && c.total_conversions == d.total_conversions,
			 "the totals changed through bytes");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!initialized)
	{
		fz_init(&F);
		initialized = 1;
	}
	if (size >= 1)
	{
		if (data[0] & 1)
			shapley((const char *) data + 1, size - 1);
		else
			markov((const char *) data + 1, size - 1);
	}
	fz_reset(&F);
	return 0;
}
