/*
 * fuzz_builder_state.c — libFuzzer target: journey_agg's partial state, as a
 * parallel worker hands it to the leader (journey_agg_deserialize).
 *
 * Any bytes go to at_builder_deserialize.  An accepted state must serialize
 * back to exactly the input bytes, merge into another builder, and finish:
 * either a canonical journey (which must encode, decode and re-encode
 * identically) or a duplicate-id / limit error, never anything else.
 */
#include "fuzz_common.h"

static fz_env F;
static int	initialized;

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	at_builder	b,
				m;
	at_journey	j,
				k;
	uint8_t    *out,
			   *out2;
	size_t		len,
				len2;
	at_status	st;

	if (!initialized)
	{
		fz_init(&F);
		initialized = 1;
	}

	st = at_builder_deserialize(&F.env, data, size, &b);
	if (st != AT_OK)
	{
		fz_check_failure(&F, st, "at_builder_deserialize");
		FZ_CHECK(st == AT_ECORRUPT || fz_resource_status(st),
				 "deserialize failed with status %d (not corrupt): %s", (int) st, F.err.message);
		goto done;
	}

	st = at_builder_serialize(&F.env, &b, &out, &len);
	FZ_CHECK(st == AT_OK, "an accepted state does not serialize: %s", F.err.message);
	FZ_CHECK(len == size && memcmp(out, data, size) == 0,
			 "state of %zu bytes re-serializes differently (%zu bytes)", size, len);

	/* the combine function: merge into an empty builder, as with a NULL first state */
	at_builder_init(&m);
	st = at_builder_merge(&F.env, &m, &b);
	FZ_CHECK(st == AT_OK || st == AT_EDUPLICATE || fz_resource_status(st),
			 "merge failed with status %d: %s", (int) st, F.err.message);
	if (st != AT_OK)
		goto done;
	FZ_CHECK(m.ntouches == b.ntouches, "merge kept %u of %u touches", m.ntouches, b.ntouches);

	st = at_builder_finish(&F.env, &b, &j);
	if (st != AT_OK)
	{
		fz_check_failure(&F, st, "at_builder_finish");
		FZ_CHECK(st == AT_EDUPLICATE || fz_resource_status(st),
				 "finish failed with status %d: %s", (int) st, F.err.message);
		goto done;
	}
	FZ_CHECK(j.ntouches == b.ntouches, "finish kept %u of %u touches", j.ntouches, b.ntouches);
	st = at_journey_encode(&F.env, &j, &out, &len);
	FZ_CHECK(st == AT_OK || fz_resource_status(st), "encode failed: %s", F.err.message);
	if (st != AT_OK)
		goto done;
	st = at_journey_decode(&F.env, out, len, &k);
	FZ_CHECK(st == AT_OK, "a finished journey does not decode: %s", F.err.message);
	st = at_journey_encode(&F.env, &k, &out2, &len2);
	FZ_CHECK(st == AT_OK && len2 == len && memcmp(out, out2, len) == 0,
			 "a finished journey does not re-encode identically");

	/* the merged copy finishes to the same journey */
	st = at_builder_finish(&F.env, &m, &k);
	FZ_CHECK(st == AT_OK, "the merged copy does not finish: %s", F.err.message);
	st = at_journey_encode(&F.env, &k, &out2, &len2);
	FZ_CHECK(st == AT_OK && len2 == len && memcmp(out, out2, len) == 0,
			 "the merged copy finishes to a different journey");

done:
	fz_reset(&F);
	return 0;
}
