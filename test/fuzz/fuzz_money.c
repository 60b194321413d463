/*
 * fuzz_money.c — libFuzzer target: exact money on its own (attrib.split_amount
 * and the amount argument of every credits function).
 *
 * Input: u8 scale selector, u8 weight count n, n raw 8-byte doubles (any bit
 * pattern: NaN, infinities, negatives, subnormals), then the amount text; or,
 * for n = 255, u8 pattern, u64 seed, u16 count: 2049..8192 generated weights
 * (equal, uniform, half zero, any magnitude, one big and the rest tiny), which
 * take the split's quantization below 53 bits.
 *   - at_amount_parse of the text either fails with a message, or gives a
 *     well-formed amount that formats (at_amount_format) to text that parses
 *     back, at the same scale, to the same amount;
 *   - at_amount_split with invalid weights (not finite, negative, all zero)
 *     fails; with valid ones its parts sum exactly to the amount (exact integer
 *     check), and a weight-0 part is 0;
 *   - at_amount_scale of every valid weight <= 1 is at most the amount, and
 *     exactly the amount for weight 1.
 */
#include "fuzz_common.h"

static fz_env F;
static int	initialized;

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same_amount(const at_amount *a, const at_amount *b)
{
	return a->scale == b->scale && a->nlimbs == b->nlimbs &&
		(a->nlimbs == 0 || a->negative == b->negative) &&
		fz_cmp_mag(a->limbs, a->nlimbs, b->limbs, b->nlimbs) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_reader	r = {data, size};
	uint32_t	s,
				n;
	int32_t		scale;
	double	   *w;
	at_amount	a,
				back,
			   *part;
	char	   *txt;
	size_t		tlen;
	bool		valid = true,
				positive = false;
	at_status	st;

	if (!initialized)
	{
		fz_init(&F);
		initialized = 1;
	}
	s = fz_u8(&r);
	scale = (s & 0x80) ? (int32_t) (s & 0x7f) * 8 : (int32_t) (s % 12);
	if (scale > AT_MAX_SCALE)
		scale = AT_MAX_SCALE;
	n = fz_u8(&r);
	if (n == 255)
	{
		/* many weights (> 2048: the quantization's P < 53 path), from a seed */
		uint32_t	kind = fz_u8(&r);
		uint64_t	seed = fz_u64(&r);

		n = 2049 + fz_u16(&r) % 6144;
		w = malloc(sizeof(double) * n);
		part = calloc(n, sizeof(at_amount));
		FZ_CHECK(w && part, "out of memory");
		for (uint32_t i = 0; i < n; i++)
		{
			double		u;

			seed = seed * 6364136223846793005u + 1442695040888963407u;
			u = (double) (seed >> 11) / 9007199254740992.0;
			switch (kind % 5)
			{
				case 0:
					w[i] = 1;			/* all equal */
					break;
				case 1:
					w[i] = u;
					break;
				case 2:
					w[i] = (seed >> 60) < 8 ? 0 : u;	/* half zeros */
					break;
				case 3:
					w[i] = ldexp(u + 0.5, (int) ((seed >> 32) % 2000) - 1000);	/* any magnitude */
					break;
				default:
					w[i] = i == 0 ? 1 : ldexp(1, -60 - (int) (i % 8));	/* one big, the rest tiny */
			}
			if (w[i] > 0)
				positive = true;
		}
		goto weights_done;
	}
	w = malloc(sizeof(double) * (n ? n : 1));
	part = calloc(n ? n : 1, sizeof(at_amount));
	FZ_CHECK(w && part, "out of memory");
	for (uint32_t i = 0; i < n; i++)
	{
		uint64_t	bits = fz_u64(&r);

		/* half the time a small "nice" weight instead of raw bits */
		if (bits >> 63 && (bits & 0xff00) == 0)
			w[i] = (double) (bits & 0xff) / 16;
		else
			memcpy(&w[i], &bits, sizeof(double));
		if (!isfinite(w[i]) || w[i] < 0)
			valid = false;
		else if (w[i] > 0)
			positive = true;
	}

weights_done:
	st = at_amount_parse(&F.env, (const char *) r.p, r.left, scale, &a);
	if (st != AT_OK)
	{
		fz_check_failure(&F, st, "at_amount_parse");
		FZ_CHECK(st == AT_EBAD_AMOUNT || fz_resource_status(st),
				 "amount parse failed with status %d: %s", (int) st, F.err.message);
		goto done;
	}
	fz_check_amount(&a, "parsed amount");
	FZ_CHECK(a.scale == scale, "parsed at scale %d, asked %d", (int) a.scale, (int) scale);

	st = at_amount_format(&F.env, &a, &txt, &tlen);
	FZ_CHECK(st == AT_OK, "a parsed amount does not format: %s", F.err.message);
	FZ_CHECK(strlen(txt) == tlen, "format length %zu, strlen %zu", tlen, strlen(txt));
	st = at_amount_parse(&F.env, txt, tlen, scale, &back);
	FZ_CHECK(st == AT_OK, "formatted amount \"%s\" does not parse: %s", txt, F.err.message);
	FZ_CHECK(same_amount(&a, &back), "amount \"%s\" changes when parsed back", txt);

	if (n == 0)
		goto done;
	st = at_amount_split(&F.env, &a, w, n, part);
	if (!valid || !positive)
	{
		FZ_CHECK(st != AT_OK, "split accepted %s weights", valid ? "all-zero" : "invalid");
		fz_check_failure(&F, st, "at_amount_split");
	}
	else if (st != AT_OK)
	{
		fz_check_failure(&F, st, "at_amount_split");
		FZ_CHECK(fz_resource_status(st), "split failed on valid weights: status %d: %s",
				 (int) st, F.err.message);
	}
	else
	{
		fz_check_split_sum(&a, part, n);
		for (uint32_t i = 0; i < n; i++)
			FZ_CHECK(w[i] > 0 || part[i].nlimbs == 0, "weight 0 got money");
	}

	for (uint32_t i = 0; i < n; i++)
	{
		at_amount	c;

		st = at_amount_scale(&F.env, &a, w[i], &c);
		if (!isfinite(w[i]) || w[i] < 0)
		{
			FZ_CHECK(st != AT_OK, "scale accepted weight %g", w[i]);
			fz_check_failure(&F, st, "at_amount_scale");
			continue;
		}
		if (st != AT_OK)
		{
			fz_check_failure(&F, st, "at_amount_scale");
			FZ_CHECK(fz_resource_status(st), "scale failed on weight %.17g: %s", w[i],
					 F.err.message);
			continue;
		}
		fz_check_amount(&c, "scaled amount");
		FZ_CHECK(c.scale == a.scale, "scaled amount changed scale");
		FZ_CHECK(c.nlimbs == 0 || c.negative == a.negative, "scaled amount changed sign");
		if (w[i] <= 1)
			FZ_CHECK(fz_cmp_mag(c.limbs, c.nlimbs, a.limbs, a.nlimbs) <= 0,
					 "weight %.17g scales the amount up", w[i]);
		if (w[i] == 1)
			FZ_CHECK(same_amount(&a, &c), "weight 1 changes the amount");
		if (w[i] == 0)
			FZ_CHECK(c.nlimbs == 0, "weight 0 gives money");
	}

done:
	free(w);
	free(part);
	fz_reset(&F);
	return 0;
}
