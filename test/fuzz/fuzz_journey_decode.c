/*
 * fuzz_journey_decode.c — libFuzzer target: the journey byte form (storage,
 * binary send/recv, attrib.journey_from_bytea).
 *
 * Any bytes go to at_journey_decode.  Anything accepted must re-encode to
 * exactly the input bytes (the byte form is canonical), print as text, and the
 * text must parse back to the same bytes; the timeline (at_positions) must be
 * computable.  Anything rejected must carry a status and a message.
 */
#include "fuzz_common.h"

static fz_env F;
static int	initialized;

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	at_journey	j,
				k;
	uint8_t    *out,
			   *out2;
	size_t		len,
				len2;
	char	   *text;
	size_t		tlen;
	uint32_t   *pos;
	at_status	st;

	if (!initialized)
	{
		fz_init(&F);
		initialized = 1;
	}

	st = at_journey_decode(&F.env, data, size, &j);
	if (st != AT_OK)
	{
		fz_check_failure(&F, st, "at_journey_decode");
		FZ_CHECK(st == AT_ECORRUPT || fz_resource_status(st),
				 "decode failed with status %d (not corrupt): %s", (int) st, F.err.message);
		goto done;
	}

	st = at_journey_encode(&F.env, &j, &out, &len);
	FZ_CHECK(st == AT_OK, "a decoded journey does not encode: %s", F.err.message);
	FZ_CHECK(len == size && memcmp(out, data, size) == 0,
			 "decode accepted %zu bytes that re-encode differently (%zu bytes)", size, len);

	st = at_journey_to_text(&F.env, &j, &text, &tlen);
	FZ_CHECK(st == AT_OK, "a decoded journey does not print: %s", F.err.message);
	st = at_journey_from_text(&F.env, text, tlen, &k);
	FZ_CHECK(st == AT_OK, "the text of a decoded journey does not parse: %s\n%s",
			 F.err.message, text);
	st = at_journey_encode(&F.env, &k, &out2, &len2);
	FZ_CHECK(st == AT_OK, "encode after text round trip failed: %s", F.err.message);
	FZ_CHECK(len2 == size && memcmp(out2, data, size) == 0,
			 "bytes -> text -> bytes changed the journey:\n%s", text);

	pos = malloc(sizeof(uint32_t) * (j.ntouches ? j.ntouches : 1));
	FZ_CHECK(pos != NULL, "out of memory");
	st = at_positions(&F.env, &j, pos);
	FZ_CHECK(st == AT_OK || fz_resource_status(st), "at_positions failed: %s", F.err.message);
	free(pos);

done:
	fz_reset(&F);
	return 0;
}
