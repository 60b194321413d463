/*
 * money.c — exact decimal amounts and the largest-remainder split (SPEC §4 Money).
 *
 * An at_amount is an integer number of minor units (10^-scale) held as base 10^9
 * limbs, so any amount numeric can print is represented exactly.  Splitting an
 * amount among touch weights makes the credits of an opportunity sum to its
 * amount to the minor unit:
 *
 *   1. the weights (doubles) are quantized to integers, exactly and the same
 *      way for equal weights: q_i = round(w_i 2^(P-e)) half to even, with 2^e
 *      the power of two just above the largest weight and P the largest
 *      integer for which S = sum q_i < 2^64 (quantize_weights below);
 *   2. each share is floor(q_i * |a| / S), computed exactly; the leftover minor
 *      units, fewer than the number of weights, go one each to the largest
 *      remainders q_i |a| mod S, ties to the lower index.
 *
 * Equal weights get equal q_i, hence equal floors and equal remainders: their
 * shares differ by at most one minor unit, the extra units on the earliest,
 * for any amount.  When all positive weights are equal the shares are exactly
 * floor(|a| / k) plus one for the first |a| mod k of them.
 *
 * No floating point touches money: doubles appear only in step 1, where each
 * weight is scaled by a power of two (exact) and rounded to an integer.
 * test/unit/money_ref.py reimplements all of this with Python integers and
 * fractions and compares.
 *
 * Precision: with W = sum w_i, |q_i / S - w_i / W| <= (1/2 + n/2 w_i/W) / S,
 * and S >= 2^63 - n/2, so each share is within 1 + |a| (1 + n w_i/W) / 2^63
 * minor units of w_i / W * |a| (the second term is under 1/8 for |a| < 10^15
 * units and n < 1000).  For larger amounts unequal weights drift by up to
 * that bound, while the shares still sum to a exactly.  Weights whose ratios
 * the q_i hold exactly (equal weights, 1:3, 0.4:0.2:0.4, 0.4:0.025) give the
 * exact largest-remainder split at any size.
 *
 * at_amount_scale multiplies by the double w exactly (w is a dyadic rational),
 * with no quantization at all.
 *
 * The arithmetic needs unsigned __int128 (GCC and Clang on 64-bit targets).
 */
#include "attrib_core.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#ifndef __SIZEOF_INT128__
#error "money.c needs a compiler with unsigned __int128 (64-bit GCC or Clang)"
#endif

__extension__ typedef unsigned __int128 u128;

#define LIMB_BASE		1000000000u
#define LIMB_DIGITS		9
#define TWO64			((u128) 1 << 64)

/* Longest amount text accepted; numeric_out prints at most ~147,500 characters. */
#define AMOUNT_MAX_TEXT 200000
/*
 * Most limbs an amount given to format/split/scale may have: far above what
 * parsing (at most ~22,300 limbs) or scaling that by a finite double (~35
 * more) produces, low enough that no size computation overflows.
 */
#define AMOUNT_MAX_LIMBS (1u << 24)

/* Poll the interrupt hook after this much work (touches, or touch-limbs). */
#define POLL_EVERY		1024

/* Longest slice of a bad text quoted in an error message. */
#define QUOTE_MAX		60

/* For the unit tests: path 1 forces the general (bignum) split path. */
at_status	at_amount_split_path(at_env *env, const at_amount *a, const double *weight,
								 uint32_t n, at_amount *out, int path);

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

/* Count `cost` units of work; poll the interrupt hook every POLL_EVERY units. */
static bool
work_tick(at_env *env, uint64_t *work, uint64_t cost)
{
	*work += cost;
	if (*work < POLL_EVERY)
		return false;
	*work = 0;
	return at_interrupted(env);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Copy at most QUOTE_MAX bytes of text into buf (>= QUOTE_MAX + 4 bytes) for an
 * error message: control bytes become '?', a cut never splits a UTF-8 sequence,
 * and "..." marks a cut.
 */
static void
quote_text(char *buf, const char *text, size_t len)
{
	size_t		n = len;
	size_t		i;

	if (n > QUOTE_MAX)
	{
		n = QUOTE_MAX;
		/* back off to the start of a UTF-8 sequence */
		while (n > 0 && ((unsigned char) text[n] & 0xC0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) text[i];

		buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char) c;
	}
	if (n < len)
	{
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
}

/* Case-insensitive (ASCII) comparison of text[0..len) with a lower-case word. */
static bool
equals_word(const char *text, size_t len, const char *word)
{
	size_t		i;

	if (strlen(word) != len)
		return false;
	for (i = 0; i < len; i++)
	{
		char		c = text[i];

		if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		if (c != word[i])
			return false;
	}
	return true;
}

/* Render a weight for a message: "NaN", "Infinity", "-Infinity" or %.17g. */
static const char *
weight_text(double w, char *buf, size_t cap)
{
	if (isnan(w))
		return "NaN";
	if (isinf(w))
		return w > 0 ? "Infinity" : "-Infinity";
	snprintf(buf, cap, "%.17g", w);
	return buf;
}

/*
 * Check an amount built outside at_amount_parse: scale in range, limbs below
 * 10^9, not absurdly long.  Leading zero limbs and a negative zero are tolerated
 * (*nl gets the length without leading zeros; a zero is never negative).
 */
static at_status
check_amount(at_env *env, const at_amount *a, uint32_t *nl)
{
	uint32_t	n;
	uint32_t	i;

	if (a == NULL)
		return at_fail(env, AT_ENULL, "amount is NULL");
	if (a->scale < 0 || a->scale > AT_MAX_SCALE)
	{
		at_fail(env, AT_EBAD_VALUE, "invalid amount scale %d", (int) a->scale);
		return at_detail(env, "The scale must be between 0 and %d.", AT_MAX_SCALE);
	}
	n = a->nlimbs;
	if (n > 0 && a->limbs == NULL)
		return at_fail(env, AT_EBAD_VALUE, "malformed amount: %u limbs but no data",
					   (unsigned) n);
	if (n > AMOUNT_MAX_LIMBS)
		return at_fail(env, AT_ELIMIT, "amount has too many digits");
	for (i = 0; i < n; i++)
		if (a->limbs[i] >= LIMB_BASE)
			return at_fail(env, AT_EBAD_VALUE, "malformed amount: limb %u is %u",
						   (unsigned) i, (unsigned) a->limbs[i]);
	while (n > 0 && a->limbs[n - 1] == 0)
		n--;
	*nl = n;
	return AT_OK;
}

/* Drop leading zero limbs. */
static uint32_t
trim_limbs(const uint32_t *limbs, uint32_t n)
{
	while (n > 0 && limbs[n - 1] == 0)
		n--;
	return n;
}

/* Multiply limbs[0..n) in place by small (< 2^32); returns the new length. */
static uint32_t
mul_small(uint32_t *limbs, uint32_t n, uint64_t small)
{
	uint64_t	carry = 0;
	uint32_t	i;

	for (i = 0; i < n; i++)
	{
		uint64_t	t = (uint64_t) limbs[i] * small + carry;

		limbs[i] = (uint32_t) (t % LIMB_BASE);
		carry = t / LIMB_BASE;
	}
	while (carry > 0)
	{
		limbs[n++] = (uint32_t) (carry % LIMB_BASE);
		carry /= LIMB_BASE;
	}
	return n;
}

/* Divide limbs[0..n) in place by 2^k (1 <= k <= 29), rounding down. */
static uint32_t
shr_small(uint32_t *limbs, uint32_t n, int k)
{
	uint64_t	rem = 0;
	uint32_t	i = n;

	while (i > 0)
	{
		uint64_t	cur;

		i--;
		cur = rem * LIMB_BASE + limbs[i];
		limbs[i] = (uint32_t) (cur >> k);
		rem = cur & (((uint64_t) 1 << k) - 1);
	}
	return trim_limbs(limbs, n);
}

/* Add one to limbs[0..n) (room for n + 1 limbs); returns the new length. */
static uint32_t
add_one(uint32_t *limbs, uint32_t n)
{
	uint32_t	i;

	for (i = 0; i < n; i++)
	{
		if (limbs[i] < LIMB_BASE - 1)
		{
			limbs[i]++;
			return n;
		}
		limbs[i] = 0;
	}
	limbs[n] = 1;
	return n + 1;
}

static void
set_zero(at_amount *out, int32_t scale)
{
	out->negative = false;
	out->scale = scale;
	out->nlimbs = 0;
	out->limbs = NULL;
}

/* ------------------------------------------------------------------ */
/* Parsing and formatting                                               */
/* ------------------------------------------------------------------ */

at_status
at_amount_parse(at_env *env, const char *text, size_t len, int32_t scale,
				at_amount *out)
{
	char		quoted[QUOTE_MAX + 4];
	size_t		b = 0;
	size_t		e = len;
	size_t		body;
	bool		negative = false;
	const char *ip;				/* integer digits, leading zeros dropped */
	size_t		ni = 0;
	const char *fp = "";		/* fraction digits */
	size_t		nf = 0;
	size_t		nd;				/* digits of the minor-unit integer */
	bool		round_up;
	uint32_t	cap;
	uint32_t	nl;
	uint32_t   *limbs;
	uint32_t	k;

	if (out == NULL || (text == NULL && len > 0))
		return at_fail(env, AT_ENULL, "amount is NULL");
	if (text == NULL)
		text = "";
	if (scale < 0 || scale > AT_MAX_SCALE)
	{
		at_fail(env, AT_EBAD_VALUE, "invalid amount scale %d", (int) scale);
		return at_detail(env, "The scale must be between 0 and %d.", AT_MAX_SCALE);
	}
	if (len > AMOUNT_MAX_TEXT)
	{
		at_fail(env, AT_ELIMIT, "amount text is too long");
		return at_detail(env, "The text has %zu characters; at most %d are accepted.",
						 len, AMOUNT_MAX_TEXT);
	}

	/* [space] [+|-] (digits [. [digits]] | . digits) [space] */
	while (b < e && is_space(text[b]))
		b++;
	while (e > b && is_space(text[e - 1]))
		e--;
	body = b;
	if (b < e && (text[b] == '+' || text[b] == '-'))
	{
		negative = text[b] == '-';
		b++;
	}
	ip = text + b;
	while (b < e && is_digit(text[b]))
	{
		b++;
		ni++;
	}
	if (b < e && text[b] == '.')
	{
		b++;
		fp = text + b;
		while (b < e && is_digit(text[b]))
		{
			b++;
			nf++;
		}
	}
	if (b != e || ni + nf == 0)
	{
		const char *word = text + body;
		size_t		wlen = e - body;

		quote_text(quoted, text, len);
		at_fail(env, AT_EBAD_AMOUNT, "invalid amount \"%s\"", quoted);
		if (wlen > 0 && (word[0] == '+' || word[0] == '-'))
		{
			word++;
			wlen--;
		}
		if (equals_word(word, wlen, "nan") || equals_word(word, wlen, "infinity") ||
			equals_word(word, wlen, "inf"))
		{
			at_detail(env, "NaN and infinite amounts cannot be split into credits.");
			return at_hint(env, "Attribute a finite number: filter out or replace NaN and infinite amounts before calling.");
		}
		at_detail(env, "An amount is decimal digits with an optional sign and decimal point, without an exponent.");
		return at_hint(env, "Pass the amount as numeric, for example 1234.56.");
	}

	while (ni > 0 && *ip == '0')
	{
		ip++;
		ni--;
	}

	/* Minor units: the integer digits, then `scale` fraction digits (0-padded). */
	nd = ni + (size_t) scale;
	round_up = nf > (size_t) scale && fp[scale] >= '5';
	if (nd == 0 && !round_up)
	{
		set_zero(out, scale);
		return AT_OK;
	}
	cap = (uint32_t) (nd / LIMB_DIGITS + 2);
	limbs = at_alloc(env, (size_t) cap * sizeof(uint32_t));
	if (limbs == NULL)
		return env->err->status;

	nl = (uint32_t) ((nd + LIMB_DIGITS - 1) / LIMB_DIGITS);
	for (k = 0; k < nl; k++)
	{
		size_t		end = nd - (size_t) k * LIMB_DIGITS;
		size_t		p = end >= LIMB_DIGITS ? end - LIMB_DIGITS : 0;
		uint32_t	v = 0;

		for (; p < end; p++)
		{
			char		c;

			if (p < ni)
				c = ip[p];
			else if (p - ni < nf)
				c = fp[p - ni];
			else
				c = '0';
			v = v * 10 + (uint32_t) (c - '0');
		}
		limbs[k] = v;
	}
	/* The first dropped digit >= 5: round the magnitude up (half away from 0). */
	if (round_up)
		nl = add_one(limbs, nl);
	nl = trim_limbs(limbs, nl);
	if (nl == 0)
	{
		set_zero(out, scale);
		return AT_OK;
	}
	out->negative = negative;
	out->scale = scale;
	out->nlimbs = nl;
	out->limbs = limbs;
	return AT_OK;
}

at_status
at_amount_format(at_env *env, const at_amount *a, char **out, size_t *len)
{
	uint32_t	nl;
	size_t		ndig = 0;
	size_t		intlen;
	size_t		total;
	size_t		ndigits;
	size_t		j;
	size_t		scale;
	bool		negative;
	char	   *buf;
	char	   *p;
	uint32_t	cur = 0;
	int			left = 0;
	uint32_t	li = 0;

	if (out == NULL)
		return at_fail(env, AT_ENULL, "output is NULL");
	if (check_amount(env, a, &nl) != AT_OK)
		return env->err->status;
	scale = (size_t) a->scale;
	negative = a->negative && nl > 0;
	if (nl > 0)
	{
		uint32_t	top = a->limbs[nl - 1];

		ndig = (size_t) (nl - 1) * LIMB_DIGITS;
		while (top > 0)
		{
			ndig++;
			top /= 10;
		}
	}
	intlen = ndig > scale ? ndig - scale : 1;
	ndigits = intlen + scale;
	total = (negative ? 1 : 0) + ndigits + (scale > 0 ? 1 : 0);
	buf = at_alloc(env, total + 1);
	if (buf == NULL)
		return env->err->status;

	/* Write digits from the least significant up, inserting the point. */
	p = buf + total;
	*p = '\0';
	for (j = 0; j < ndigits; j++)
	{
		if (left == 0)
		{
			cur = li < nl ? a->limbs[li] : 0;
			li++;
			left = LIMB_DIGITS;
		}
		if (scale > 0 && j == scale)
			*--p = '.';
		*--p = (char) ('0' + cur % 10);
		cur /= 10;
		left--;
	}
	if (negative)
		*--p = '-';
	*out = buf;
	if (len != NULL)
		*len = total;
	return AT_OK;
}

bool
at_amount_to_int64(const at_amount *a, int64_t *out)
{
	u128		v = 0;
	uint32_t	n;
	uint32_t	i;

	if (a == NULL || out == NULL)
		return false;
	n = a->nlimbs;
	if (n > 0 && a->limbs == NULL)
		return false;
	while (n > 0 && a->limbs[n - 1] == 0)
		n--;
	if (n > 3)
		return false;			/* >= 10^27 */
	for (i = n; i > 0; i--)
		v = v * LIMB_BASE + a->limbs[i - 1];
	if (!a->negative || v == 0)
	{
		if (v > (u128) INT64_MAX)
			return false;
		*out = (int64_t) v;
		return true;
	}
	if (v > (u128) INT64_MAX + 1)
		return false;
	if (v == (u128) INT64_MAX + 1)
		*out = INT64_MIN;
	else
		*out = -(int64_t) v;
	return true;
}

/* ------------------------------------------------------------------ */
/* Largest-remainder selection                                          */
/* ------------------------------------------------------------------ */

/*
 * A candidate for one extra (or one fewer) unit.  Candidates rank by key
 * descending, then idx ascending ("largest first, ties to the lower index");
 * a selection that wants the reverse order stores ~key and ~idx.  idx values
 * are distinct, so the order is strict and the set of the k first-ranked
 * candidates is unique, whatever algorithm finds it.
 */
typedef struct rank_item
{
	uint64_t	key;
	uint32_t	idx;
} rank_item;

static bool
ranks_before(const rank_item *x, const rank_item *y)
{
	return x->key > y->key || (x->key == y->key && x->idx < y->idx);
}

static void
swap_items(rank_item *x, rank_item *y)
{
	rank_item	t = *x;

	*x = *y;
	*y = t;
}

/* Heapsort items[0..m) into rank order (introselect's fallback). */
static void
sort_items(rank_item *it, uint32_t m)
{
	uint32_t	size = m;
	uint32_t	i;

	/* a heap whose root ranks last */
	for (i = m / 2; i-- > 0;)
	{
		uint32_t	j = i;

		for (;;)
		{
			uint32_t	c = 2 * j + 1;

			if (c >= size)
				break;
			if (c + 1 < size && ranks_before(&it[c], &it[c + 1]))
				c++;
			if (!ranks_before(&it[j], &it[c]))
				break;
			swap_items(&it[j], &it[c]);
			j = c;
		}
	}
	while (size > 1)
	{
		uint32_t	j = 0;

		size--;
		swap_items(&it[0], &it[size]);
		for (;;)
		{
			uint32_t	c = 2 * j + 1;

			if (c >= size)
				break;
			if (c + 1 < size && ranks_before(&it[c], &it[c + 1]))
				c++;
			if (!ranks_before(&it[j], &it[c]))
				break;
			swap_items(&it[j], &it[c]);
			j = c;
		}
	}
}

/*
 * Rearrange items[0..m) so that the k first-ranked are items[0..k), in any
 * order: quickselect with a median-of-three pivot, falling back to heapsort
 * when the partitions stop shrinking (introselect), so O(m) expected and
 * O(m log m) at worst.  Polls the interrupt hook.
 */
static at_status
select_first(at_env *env, uint64_t *work, rank_item *it, uint32_t m, uint32_t k)
{
	uint32_t	lo = 0;
	uint32_t	hi = m;
	uint32_t	v;
	int			depth = 8;

	if (k == 0 || k >= m)
		return AT_OK;
	for (v = m; v > 1; v >>= 1)
		depth += 2;				/* 2 log2(m) + 8 partitions at most */
	while (hi - lo > 16)
	{
		uint32_t	mid = lo + (hi - lo) / 2;
		uint32_t	store = lo;
		uint32_t	i;

		if (work_tick(env, work, hi - lo))
			return AT_ECANCELED;
		if (depth-- == 0)
		{
			sort_items(it + lo, hi - lo);
			return AT_OK;
		}
		/* median of three to it[hi - 1] */
		if (ranks_before(&it[mid], &it[lo]))
			swap_items(&it[mid], &it[lo]);
		if (ranks_before(&it[hi - 1], &it[lo]))
			swap_items(&it[hi - 1], &it[lo]);
		if (ranks_before(&it[mid], &it[hi - 1]))
			swap_items(&it[mid], &it[hi - 1]);
		for (i = lo; i < hi - 1; i++)
			if (ranks_before(&it[i], &it[hi - 1]))
				swap_items(&it[i], &it[store++]);
		swap_items(&it[store], &it[hi - 1]);
		/* it[lo..store) rank before the pivot, now at store */
		if (store == k)
			return AT_OK;
		if (store > k)
			hi = store;
		else
			lo = store + 1;
	}
	sort_items(it + lo, hi - lo);
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* Splitting                                                            */
/* ------------------------------------------------------------------ */

/*
 * Step 1: integer weights.  Let 2^e be the power of two just above the largest
 * weight (frexp: wmax = f 2^e, 1/2 <= f < 1).  For a precision P, define
 *
 *   q_i(P) = round(w_i 2^(P-e)), half to even,   S(P) = sum of the q_i(P),
 *
 * and use the largest P with S(P) < 2^64.
 *
 * w_i 2^(P-e) is computed exactly (ldexp of a double by a power of two; it is
 * below 2^P <= 2^64, and where ldexp underflows to a subnormal the value is
 * below 2^-1022 and rounds to 0 anyway), so q_i is the correctly rounded
 * integer, whatever the platform.  Equal weights get equal q_i.  Zero weights
 * get 0, and so does a positive weight with w_i 2^(P-e) <= 1/2, about 2^-64 of
 * the sum or less: it is not promoted to 1, which would credit it far more
 * than its share.
 *
 * S grows with P (round is monotonic) and S(P+1) <= 2 S(P) + n, so the chosen
 * S is at least 2^63 - n/2: the q_i carry the weights' ratios to about 2^-63
 * of the sum, and exactly when every weight is a multiple of 2^(e-P) (equal
 * weights, 1:3, 0.4:0.2:0.4, 0.4:0.025).  P <= 64 (at n = 1, q_0 = f 2^64) and
 * P >= 63 - ceil(log2 n), where q_i <= 2^P gives S <= 2^63; so P >= 41.
 *
 * Search: S(64) is summed in 128 bits (< 2^86).  If it is 2^64 or more, with
 * b its bit length, P = 64 - (b - 63) fits, since S(P) <= 2^(P-64) (S(64) +
 * n/2) + n/2 < 2^63 + n; then P steps up while S(P + 1) < 2^64.  A few O(n)
 * passes, each polling the interrupt hook.
 */

/* S(P) for shift = P - e; q[] gets the q_i(P) unless q is NULL. */
static at_status
quantize_pass(at_env *env, uint64_t *work, const double *weight, uint32_t n,
			  int shift, uint64_t *q, u128 *sum)
{
	u128		s = 0;
	uint32_t	i;

	for (i = 0; i < n; i++)
	{
		uint64_t	qi = 0;

		if (weight[i] > 0)
		{
			double		x = ldexp(weight[i], shift);	/* 0 <= x < 2^64, exact */
			uint64_t	fl = (uint64_t) x;
			double		f = x - (double) fl;	/* exact; 0 when x >= 2^52 */

			qi = fl + ((f > 0.5 || (f == 0.5 && (fl & 1))) ? 1 : 0);
		}
		if (q != NULL)
			q[i] = qi;
		s += qi;
		if (work_tick(env, work, 1))
			return AT_ECANCELED;
	}
	*sum = s;
	return AT_OK;
}

/*
 * *q gets the q_i(P) and *sum = S(P) < 2^64 for the P above.  *q and *spare
 * are two arrays of n: trial passes use *spare, and the two may be swapped.
 * The weights are valid (finite, >= 0, one > 0).
 */
static at_status
quantize_weights(at_env *env, uint64_t *work, const double *weight, uint32_t n,
				 uint64_t **q, uint64_t **spare, uint64_t *sum)
{
	double		wmax = 0.0;
	int			e;
	int			p = 64;
	u128		s;
	uint32_t	i;

	for (i = 0; i < n; i++)
		if (weight[i] > wmax)
			wmax = weight[i];
	(void) frexp(wmax, &e);

	if (quantize_pass(env, work, weight, n, p - e, *q, &s) != AT_OK)
		return env->err->status;
	if (s >= TWO64)
	{
		int			bits = 0;
		u128		t;

		for (t = s; t > 0; t >>= 1)
			bits++;
		p = 64 - (bits - 63);
		if (quantize_pass(env, work, weight, n, p - e, *q, &s) != AT_OK)
			return env->err->status;
		if (s >= TWO64)
			return at_fail(env, AT_EBAD_VALUE, "money split: weight quantization overflowed");
		while (p < 64)
		{
			u128		s2;
			uint64_t   *tmp;

			if (quantize_pass(env, work, weight, n, p + 1 - e, *spare, &s2) != AT_OK)
				return env->err->status;
			if (s2 >= TWO64)
				break;
			p++;
			s = s2;
			tmp = *q;
			*q = *spare;
			*spare = tmp;
		}
	}
	if (s == 0)					/* impossible: the largest weight has q >= 2^(P-1) */
		return at_fail(env, AT_EBAD_VALUE, "money split: weight quantization overflowed");
	*sum = (uint64_t) s;
	return AT_OK;
}

/* 1 to AT_MAX_TOUCHES weights */
static at_status
check_count(at_env *env, uint32_t n)
{
	if (n == 0)
	{
		at_fail(env, AT_EBAD_WEIGHTS, "no weights to split an amount among");
		return at_detail(env, "An amount is split among at least one weight.");
	}
	if (n > AT_MAX_TOUCHES)
	{
		at_fail(env, AT_ELIMIT, "too many weights to split an amount among");
		return at_detail(env, "There are %u weights; at most %u are allowed.",
						 (unsigned) n, (unsigned) AT_MAX_TOUCHES);
	}
	return AT_OK;
}

static at_status
check_weights(at_env *env, const double *weight, uint32_t n)
{
	char		buf[40];
	bool		positive = false;
	uint32_t	i;

	if (check_count(env, n) != AT_OK)
		return env->err->status;
	for (i = 0; i < n; i++)
	{
		double		w = weight[i];

		if (!isfinite(w) || w < 0)
		{
			at_fail(env, AT_EBAD_WEIGHTS, "invalid weight %s (weight %u of %u)",
					weight_text(w, buf, sizeof(buf)), (unsigned) i + 1, (unsigned) n);
			return at_detail(env, "Weights must be finite and non-negative.");
		}
		if (w > 0)
			positive = true;
	}
	if (!positive)
	{
		at_fail(env, AT_EBAD_WEIGHTS, "weights are all zero");
		return at_detail(env, "All %u weights are 0; at least one must be positive to split an amount.",
						 (unsigned) n);
	}
	return AT_OK;
}

/* Exact integer weights: 1..AT_MAX_TOUCHES of them, not all 0, summing below 2^64. */
static at_status
check_exact_weights(at_env *env, const uint64_t *q, uint32_t n)
{
	u128		s = 0;
	uint32_t	i;

	if (check_count(env, n) != AT_OK)
		return env->err->status;
	for (i = 0; i < n; i++)
		s += q[i];
	if (s == 0)
	{
		at_fail(env, AT_EBAD_WEIGHTS, "weights are all zero");
		return at_detail(env, "All %u weights are 0; at least one must be positive to split an amount.",
						 (unsigned) n);
	}
	if (s >= TWO64)
		return at_fail(env, AT_EBAD_WEIGHTS, "exact weights sum to 2^64 or more");
	return AT_OK;
}

/*
 * at_amount_split, with path 1 forcing the general (bignum) path on amounts
 * the fast path (|a| < 2^64, one 128-bit product per share) would take; both
 * give identical results.  Shares of the fast path are slices of one block.
 * On failure out[] is unspecified.
 */
static at_status
split(at_env *env, const at_amount *a, const double *weight, const uint64_t *qin,
	  uint32_t n, at_amount *out, int path, int64_t *out64, bool *done)
{
	const uint32_t *alimbs;
	uint32_t	nl;
	int32_t		scale;
	bool		negative;
	bool		fast;
	uint64_t	amag = 0;		/* |a| on the fast path */
	uint64_t	work = 0;
	uint64_t   *q;
	uint64_t   *key;
	uint64_t	sq = 1;			/* S, the sum of the q_i: 0 < S < 2^64 */
	rank_item  *cand;
	uint32_t   *prod = NULL;
	u128		sumr = 0;
	uint64_t	leftover;
	uint32_t	m;
	uint32_t	i;

	if ((weight == NULL && qin == NULL) || (out == NULL && (out64 == NULL || done == NULL)))
		return at_fail(env, AT_ENULL, "weights or output are NULL");
	if (done != NULL)
		*done = false;
	if (check_amount(env, a, &nl) != AT_OK)
		return env->err->status;
	if (qin != NULL ? check_exact_weights(env, qin, n) != AT_OK
		: check_weights(env, weight, n) != AT_OK)
		return env->err->status;

	/* Copy a's fields: out may alias a. */
	alimbs = a->limbs;
	scale = a->scale;
	negative = a->negative;
	if (nl == 0)
	{
		for (i = 0; i < n; i++)
		{
			if (out64 != NULL)
				out64[i] = 0;
			else
				set_zero(&out[i], scale);
		}
		if (done != NULL)
			*done = true;
		return AT_OK;
	}
	if (nl <= 3)
	{
		u128		v = 0;

		for (i = nl; i > 0; i--)
			v = v * LIMB_BASE + alimbs[i - 1];
		fast = v <= UINT64_MAX; /* else >= 2^64: general path */
		if (fast)
			amag = (uint64_t) v;
	}
	else
		fast = false;
	if (path == 1)
		fast = false;
	if (out64 != NULL && (!fast || amag > (uint64_t) INT64_MAX))
		return AT_OK;			/* *done = false: not in int64 minor units */

	q = at_alloc(env, (size_t) n * sizeof(uint64_t));
	key = q ? at_alloc(env, (size_t) n * sizeof(uint64_t)) : NULL;
	cand = key ? at_alloc(env, (size_t) n * sizeof(rank_item)) : NULL;
	if (cand == NULL)
		return env->err->status;
	if (!fast)
	{
		/* q_i < 2^64 < 10^27: the product has at most three more limbs */
		prod = at_alloc(env, ((size_t) nl + 3) * sizeof(uint32_t));
		if (prod == NULL)
			return env->err->status;
	}

	if (qin != NULL)
	{
		sq = 0;
		for (i = 0; i < n; i++)
		{
			q[i] = qin[i];
			sq += qin[i];		/* checked: no overflow, > 0 */
		}
	}
	else if (quantize_weights(env, &work, weight, n, &q, &key, &sq) != AT_OK)
		return env->err->status;

	/*
	 * Step 2: share_i = floor(q_i * |a| / S), r_i the remainder (in key[i]).
	 * Fast path: q[i] becomes the share (q_i |a| < 2^128; the share <= |a|).
	 * General path: out[i] gets the share's limbs, with room for one more.
	 */
	for (i = 0; i < n; i++)
	{
		uint64_t	qi = q[i];

		key[i] = 0;
		if (fast)
		{
			u128		t = (u128) qi * amag;
			uint64_t	share = (uint64_t) (t / sq);

			q[i] = share;
			key[i] = (uint64_t) (t - (u128) share * sq);
			if (work_tick(env, &work, 1))
				return AT_ECANCELED;
		}
		else
		{
			u128		carry = 0;
			uint64_t	rem = 0;
			uint32_t	j;
			uint32_t	len;

			set_zero(&out[i], scale);
			if (qi == 0)
				continue;
			/* prod = q_i * |a|, base 10^9 (carry < q_i < 2^64) */
			for (j = 0; j < nl; j++)
			{
				u128		t = (u128) alimbs[j] * qi + carry;

				prod[j] = (uint32_t) (t % LIMB_BASE);
				carry = t / LIMB_BASE;
			}
			for (j = nl; j < nl + 3; j++)
			{
				prod[j] = (uint32_t) (carry % LIMB_BASE);
				carry /= LIMB_BASE;
			}
			/* divide by S from the top, in place: rem < S, so digits < 10^9 */
			for (j = nl + 3; j > 0; j--)
			{
				u128		cur = (u128) rem * LIMB_BASE + prod[j - 1];
				uint32_t	digit = (uint32_t) (cur / sq);

				prod[j - 1] = digit;
				rem = (uint64_t) (cur - (u128) digit * sq);
			}
			key[i] = rem;
			len = trim_limbs(prod, nl + 3);
			if (len > 0)
			{
				uint32_t   *limbs = at_alloc(env, ((size_t) len + 1) * sizeof(uint32_t));

				if (limbs == NULL)
					return env->err->status;
				memcpy(limbs, prod, (size_t) len * sizeof(uint32_t));
				out[i].limbs = limbs;
				out[i].nlimbs = len;
				out[i].negative = negative;
			}
			if (work_tick(env, &work, 1 + (uint64_t) nl))
				return AT_ECANCELED;
		}
		sumr += key[i];
	}

	/*
	 * sum(shares) * S + sum r_i = |a| * S, so the leftover sum r_i / S is a
	 * whole number of minor units, below n, and fewer than the indices with
	 * r_i > 0 (each r_i < S).  The remainders share the denominator S, so
	 * they rank as integers.
	 */
	if (sumr % sq != 0)
		return at_fail(env, AT_EBAD_VALUE, "money split lost a remainder");
	leftover = (uint64_t) (sumr / sq);
	m = 0;
	for (i = 0; i < n; i++)
		if (key[i] > 0)
		{
			cand[m].key = key[i];
			cand[m++].idx = i;
		}
	if (leftover > m)
		return at_fail(env, AT_EBAD_VALUE, "money split lost a remainder");
	if (select_first(env, &work, cand, m, (uint32_t) leftover) != AT_OK)
		return env->err->status;

	if (fast && out64 != NULL)
	{
		/* Add the leftover units; the shares are at most |a| <= INT64_MAX. */
		for (i = 0; i < (uint32_t) leftover; i++)
			q[cand[i].idx]++;
		for (i = 0; i < n; i++)
			out64[i] = negative ? -(int64_t) q[i] : (int64_t) q[i];
		*done = true;
	}
	else if (fast)
	{
		/* Add the leftover units, then lay every share out in one block. */
		size_t		total = 0;
		uint32_t   *pool;

		for (i = 0; i < (uint32_t) leftover; i++)
			q[cand[i].idx]++;
		for (i = 0; i < n; i++)
		{
			uint64_t	v = q[i];

			while (v > 0)
			{
				total++;
				v /= LIMB_BASE;
			}
		}
		pool = at_alloc(env, (total > 0 ? total : 1) * sizeof(uint32_t));
		if (pool == NULL)
			return env->err->status;
		for (i = 0; i < n; i++)
		{
			uint64_t	v = q[i];
			uint32_t	len = 0;

			set_zero(&out[i], scale);
			if (v == 0)
				continue;
			out[i].limbs = pool;
			while (v > 0)
			{
				pool[len++] = (uint32_t) (v % LIMB_BASE);
				v /= LIMB_BASE;
			}
			out[i].nlimbs = len;
			out[i].negative = negative;
			pool += len;
		}
	}
	else
	{
		for (i = 0; i < (uint32_t) leftover; i++)
		{
			at_amount  *o = &out[cand[i].idx];

			if (o->limbs == NULL)
			{
				o->limbs = at_alloc(env, sizeof(uint32_t));
				if (o->limbs == NULL)
					return env->err->status;
			}
			o->nlimbs = add_one(o->limbs, o->nlimbs);
			o->negative = negative;
		}
	}
	return AT_OK;
}

at_status
at_amount_split_path(at_env *env, const at_amount *a, const double *weight,
					 uint32_t n, at_amount *out, int path)
{
	return split(env, a, weight, NULL, n, out, path, NULL, NULL);
}

at_status
at_amount_split(at_env *env, const at_amount *a, const double *weight, uint32_t n,
				at_amount *out)
{
	return split(env, a, weight, NULL, n, out, 0, NULL, NULL);
}

at_status
at_amount_split_exact(at_env *env, const at_amount *a, const uint64_t *q, uint32_t n,
					  at_amount *out)
{
	if (q == NULL)
		return at_fail(env, AT_ENULL, "weights or output are NULL");
	return split(env, a, NULL, q, n, out, 0, NULL, NULL);
}

at_status
at_amount_split_i64(at_env *env, const at_amount *a, const double *weight, uint32_t n,
					int64_t *out64, bool *done)
{
	if (weight == NULL || out64 == NULL || done == NULL)
		return at_fail(env, AT_ENULL, "weights or output are NULL");
	return split(env, a, weight, NULL, n, NULL, 0, out64, done);
}

at_status
at_amount_split_exact_i64(at_env *env, const at_amount *a, const uint64_t *q, uint32_t n,
						  int64_t *out64, bool *done)
{
	if (q == NULL || out64 == NULL || done == NULL)
		return at_fail(env, AT_ENULL, "weights or output are NULL");
	return split(env, a, NULL, q, n, NULL, 0, out64, done);
}

/* ------------------------------------------------------------------ */
/* Scaling                                                              */
/* ------------------------------------------------------------------ */

/*
 * w * |a| rounded half away from zero, exactly: w is a double, so w = mant * 2^e
 * with an integer mant < 2^53; the product mant * |a| is shifted left by e, or
 * right by -e with the last bit shifted out deciding the rounding.
 */
at_status
at_amount_scale(at_env *env, const at_amount *a, double w, at_amount *out)
{
	char		buf[40];
	const uint32_t *alimbs;
	uint32_t	nl;
	int32_t		scale;
	bool		negative;
	uint64_t	bits;
	uint64_t	mant;
	int			e;
	int			exponent;
	uint32_t	cap;
	uint32_t	len;
	uint32_t   *limbs;

	if (out == NULL)
		return at_fail(env, AT_ENULL, "output is NULL");
	if (check_amount(env, a, &nl) != AT_OK)
		return env->err->status;
	if (!isfinite(w) || w < 0)
	{
		at_fail(env, AT_EBAD_VALUE, "invalid weight %s", weight_text(w, buf, sizeof(buf)));
		return at_detail(env, "A weight must be finite and non-negative.");
	}
	alimbs = a->limbs;
	scale = a->scale;
	negative = a->negative;
	if (nl == 0 || w == 0)
	{
		set_zero(out, scale);
		return AT_OK;
	}

	/* w = mant * 2^e */
	memcpy(&bits, &w, sizeof(bits));
	exponent = (int) ((bits >> 52) & 0x7ff);
	mant = bits & (((uint64_t) 1 << 52) - 1);
	if (exponent == 0)
		e = -1074;				/* subnormal */
	else
	{
		mant |= (uint64_t) 1 << 52;
		e = exponent - 1075;
	}
	while ((mant & 1) == 0)
	{
		mant >>= 1;
		e++;
	}

	/* mant * |a| needs nl + 2 limbs; each 29-bit left shift at most one more. */
	cap = nl + 2 + (e > 0 ? (uint32_t) (e / 29 + 1) : 0);
	limbs = at_alloc(env, (size_t) cap * sizeof(uint32_t));
	if (limbs == NULL)
		return env->err->status;
	{
		u128		carry = 0;
		uint32_t	j;

		for (j = 0; j < nl; j++)
		{
			u128		t = (u128) alimbs[j] * mant + carry;

			limbs[j] = (uint32_t) (t % LIMB_BASE);
			carry = t / LIMB_BASE;
		}
		limbs[nl] = (uint32_t) (carry % LIMB_BASE);
		limbs[nl + 1] = (uint32_t) (carry / LIMB_BASE);
		len = trim_limbs(limbs, nl + 2);
	}

	if (e > 0)
	{
		while (e > 0)
		{
			int			k = e > 29 ? 29 : e;

			len = mul_small(limbs, len, (uint64_t) 1 << k);
			e -= k;
		}
	}
	else if (e < 0)
	{
		int			s = -e;

		if ((uint64_t) s > (uint64_t) len * 30 + 1)
			len = 0;			/* product < 2^(s-2): w * |a| < 1/2 */
		else
		{
			int			left = s - 1;
			uint32_t	half;

			/* floor(product / 2^(s-1)), then halve rounding the last bit up */
			while (left > 0 && len > 0)
			{
				int			k = left > 29 ? 29 : left;

				len = shr_small(limbs, len, k);
				left -= k;
			}
			half = len > 0 ? (limbs[0] & 1) : 0;
			if (len > 0)
				len = shr_small(limbs, len, 1);
			if (half)
				len = add_one(limbs, len);
		}
	}

	if (len == 0)
	{
		set_zero(out, scale);
		return AT_OK;
	}
	out->negative = negative;
	out->scale = scale;
	out->nlimbs = len;
	out->limbs = limbs;
	return AT_OK;
}
