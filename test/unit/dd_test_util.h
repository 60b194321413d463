/*
 * dd_test_util.h — journeys written as paths ("A B A") for the data-driven
 * unit tests (test_markov.c, test_shapley.c), and a tiny deterministic PRNG.
 */
#ifndef ATTRIB_DD_TEST_UTIL_H
#define ATTRIB_DD_TEST_UTIL_H

#include "test_env.h"
#include "../../src/core/dd_internal.h"

#define DD_MAX_PATH 4096

/*
 * A journey from a path of space-separated channel names, touch i at day i,
 * ids t1..tn; the storage is static and reused by the next call.
 */
static at_journey
path(const char *p)
{
	static char names[DD_MAX_PATH * 8];
	static at_touch touches[DD_MAX_PATH];
	static at_str channels[DD_MAX_PATH];
	static char ids[DD_MAX_PATH * 8];
	at_journey	j;
	size_t		nl = 0;

	memset(&j, 0, sizeof(j));
	j.touches = touches;
	j.channels = channels;
	j.ids = ids;
	while (*p)
	{
		const char *start;
		uint32_t	len,
					c;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != ' ')
			p++;
		len = (uint32_t) (p - start);
		for (c = 0; c < j.nchannels; c++)
			if (channels[c].len == len && memcmp(channels[c].p, start, len) == 0)
				break;
		if (c == j.nchannels)
		{
			memcpy(names + nl, start, len);
			channels[c].p = names + nl;
			channels[c].len = len;
			nl += len;
			j.nchannels++;
		}
		touches[j.ntouches].at = (int64_t) j.ntouches * 86400000000LL;
		touches[j.ntouches].channel = c;
		touches[j.ntouches].id_off = (uint32_t) j.ids_len;
		touches[j.ntouches].id_len = (uint32_t) sprintf(ids + j.ids_len, "t%u", j.ntouches + 1);
		j.ids_len += touches[j.ntouches].id_len;
		j.ntouches++;
	}
	return j;
}

static uint64_t rng_state = 88172645463325252ULL;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t) (rng_state % n);
}

/* a random path of 1..maxlen touches over nch channels "c0".."c<nch-1>" */
static const char *
random_path(uint32_t nch, uint32_t maxlen, char *buf)
{
	uint32_t	len = 1 + rnd(maxlen);
	char	   *w = buf;

	for (uint32_t i = 0; i < len; i++)
		w += sprintf(w, "%sc%u", i ? " " : "", rnd(nch));
	return buf;
}

/* recompute the checksum after a test tampers with a serialized model */
static void
reseal(uint8_t *data, size_t len)
{
	uint64_t	sum;

	if (len < 24)
		return;
	sum = dd_checksum(data, len);
	for (int i = 0; i < 8; i++)
		data[16 + i] = (uint8_t) (sum >> (8 * i));
}

#endif
