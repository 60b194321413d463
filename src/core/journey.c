/*
 * journey.c — journeys: timestamps, the canonical journey, the aggregate's builder
 * and its partial state, the byte and JSON text forms, and attaching an
 * opportunity's context.
 *
 * Canonical journey: touches sorted by (at, id bytewise, shorter first on a
 * common prefix), ids unique, channels numbered in order of first appearance,
 * every channel used, ids pool laid out in touch order.  Equal journeys thus
 * encode to equal bytes.
 *
 * Times are microseconds since 2000-01-01 UTC.  A valid time lies in PostgreSQL's
 * timestamptz range, -4713-11-24T00:00:00Z (4714 BC) up to but excluding
 * 294277-01-01T00:00:00Z; +-infinity (INT64_MAX / INT64_MIN) and anything outside
 * are rejected wherever a time enters the core (builder, decode, parse, context).
 * They print as YYYY-MM-DDTHH:MM:SS[.f]Z in UTC, the fraction with trailing zeros
 * trimmed (as PostgreSQL prints); years outside 0001..9999 print with a sign
 * ("-0001", astronomical numbering) or more digits ("10000") and parse back.
 *
 * Byte formats are little-endian and written and read byte by byte (no struct
 * copies, no alignment assumptions).  Decoding checks every length against the
 * bytes that remain before using it, every index and the canonical order, and
 * fails with AT_ECORRUPT and a message of its own for each problem.
 *
 * Text form (canonical output; keys in this order, absent parts omitted):
 *   {"touches":[["id","2024-01-05T10:00:00Z","channel"],...],
 *    "context":{"status":"won|open|lost","created_at":"...","closed_at":"...",
 *               "lead_created_at":"...","as_of":"...","stages":{"MQL":"...",...}}}
 * Strings escape '"', '\\' and control bytes (as \u00XX); other bytes pass as
 * they are.  Input takes any key order and whitespace; touches go through the
 * builder (any order, duplicates rejected); the context is kept as given.
 */
#include "attrib_core.h"

#include <stdio.h>
#include <string.h>

#define USECS_PER_SEC	INT64_C(1000000)
#define USECS_PER_DAY	INT64_C(86400000000)
/* PostgreSQL's timestamptz range: MIN_TIMESTAMP (4714-11-24 BC) .. END_TIMESTAMP */
#define TIME_MIN	INT64_C(-211813488000000000)
#define TIME_END	INT64_C(9223371331200000000)

/* PostgreSQL's MaxAllocSize: no array, pool or output may be larger */
#define MAX_ALLOC	((size_t) 0x3fffffff)
/* touches, ids and channel names of one journey, encoded (leaves room for context) */
#define MAX_CONTENT ((size_t) 1000000000)

/* poll the interrupt hook every 1024 iterations of a loop that grows with data */
#define POLL(env, i) (((i) & 1023) == 1023 && at_interrupted(env))

/* A valid time: finite and inside PostgreSQL's range. */
static bool
time_ok(int64_t t)
{
	return t >= TIME_MIN && t < TIME_END;
}

/* bytes the touches, ids and channels take in the journey byte format */
static size_t
content_size(size_t ntouches, size_t ids_len, size_t nchannels, size_t chan_len)
{
	return 16 + ntouches * 16 + ids_len + nchannels * 4 + chan_len;
}

/* the context's times by AT_HAS_* bit number: created, closed, lead, as_of */
static const char *const time_names[4] = {"created_at", "closed_at", "lead_created_at", "as_of"};

static int64_t *
ctx_time(at_context *c, int k)
{
	return k == 0 ? &c->created_at : k == 1 ? &c->closed_at :
		k == 2 ? &c->lead_created_at : &c->as_of;
}

static int64_t
ctx_get(const at_context *c, int k)
{
	return k == 0 ? c->created_at : k == 1 ? c->closed_at :
		k == 2 ? c->lead_created_at : c->as_of;
}

/* touches and their id pool, for the comparators */
typedef struct touch_set
{
	const at_touch *t;
	const char *ids;
} touch_set;

typedef int (*index_cmp) (const void *ctx, uint32_t a, uint32_t b);

#define DAYS_1970_2000	10957
#define JOURNEY_VERSION 1
#define STATE_VERSION	0xB1	/* partial aggregate state, format 1 */

/*
 * A value for an error message: quoted, at most 48 bytes (cut at a UTF-8
 * character boundary, "..." appended), control bytes shown as '?'.
 */
static const char *
quoted(char *buf, const char *s, size_t len)
{
	size_t		n = len,
				k = 0;

	if (n > 48)
	{
		n = 48;
		while (n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80)
			n--;
	}
	buf[k++] = '"';
	for (size_t i = 0; i < n; i++)
		buf[k++] = ((unsigned char) s[i] < 0x20) ? '?' : s[i];
	if (n < len)
	{
		memcpy(buf + k, "...", 3);
		k += 3;
	}
	buf[k++] = '"';
	buf[k] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ */
/* Timestamps                                                           */
/* ------------------------------------------------------------------ */

/* Howard Hinnant's days_from_civil / civil_from_days (days since 1970-01-01). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era,
				yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era,
				doe,
				yoe,
				doy,
				mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
days_in_month(int64_t y, int m)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool		leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return (m == 2 && leap) ? 29 : mdays[m - 1];
}

size_t
at_time_format(int64_t t, char *buf)
{
	int64_t		days = t / USECS_PER_DAY,
				us = t % USECS_PER_DAY,
				y;
	int			m,
				d,
				n,
				frac;

	if (us < 0)
	{
		days--;
		us += USECS_PER_DAY;
	}
	civil_from_days(days + DAYS_1970_2000, &y, &m, &d);
	frac = (int) (us % USECS_PER_SEC);
	us /= USECS_PER_SEC;
	n = snprintf(buf, 40, "%s%04lld-%02d-%02dT%02d:%02d:%02d",
				 y < 0 ? "-" : "", (long long) (y < 0 ? -y : y), m, d,
				 (int) (us / 3600), (int) (us / 60 % 60), (int) (us % 60));
	if (frac != 0)
	{
		int			digits = 6;

		while (frac % 10 == 0)
		{
			frac /= 10;
			digits--;
		}
		n += snprintf(buf + n, 40 - n, ".%0*d", digits, frac);
	}
	buf[n++] = 'Z';
	buf[n] = '\0';
	return (size_t) n;
}

static at_status
time_error(at_env *env, const char *s, size_t len, const char *why)
{
	char		q[64];

	at_fail(env, AT_ESYNTAX, "invalid timestamp %s", quoted(q, s, len));
	at_detail(env, "%s", why);
	return at_hint(env, "Write times as YYYY-MM-DDTHH:MM:SS[.ffffff] followed by Z or a UTC offset such as +02:00.");
}

/* n decimal digits at *pos into *out */
static bool
read_digits(const char *s, size_t len, size_t *pos, int n, int64_t *out)
{
	int64_t		v = 0;

	if (len - *pos < (size_t) n)
		return false;
	for (int i = 0; i < n; i++)
	{
		char		c = s[*pos + i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*pos += n;
	*out = v;
	return true;
}

static bool
read_char(const char *s, size_t len, size_t *pos, char c)
{
	if (*pos < len && s[*pos] == c)
	{
		(*pos)++;
		return true;
	}
	return false;
}

at_status
at_time_parse(at_env *env, const char *s, size_t len, int64_t *out)
{
	size_t		pos = 0;
	int			ydigits = 0;
	bool		neg;
	int64_t		y = 0,
				mo,
				d,
				h,
				mi,
				sec,
				frac = 0,
				oh = 0,
				om = 0,
				days,
				t;
	char		why[96];
	const char *shape = "The text does not have the form YYYY-MM-DDTHH:MM:SS[.ffffff]Z.";

	if (s == NULL)
		len = 0;
	neg = read_char(s, len, &pos, '-');
	while (pos < len && s[pos] >= '0' && s[pos] <= '9' && ydigits < 7)
	{
		y = y * 10 + (s[pos++] - '0');
		ydigits++;
	}
	if (ydigits < 4 || ydigits > 6)
		return time_error(env, s, len, "The year must have 4 to 6 digits.");
	if (!read_char(s, len, &pos, '-') || !read_digits(s, len, &pos, 2, &mo) ||
		!read_char(s, len, &pos, '-') || !read_digits(s, len, &pos, 2, &d) ||
		!(read_char(s, len, &pos, 'T') || read_char(s, len, &pos, ' ')) ||
		!read_digits(s, len, &pos, 2, &h) || !read_char(s, len, &pos, ':') ||
		!read_digits(s, len, &pos, 2, &mi) || !read_char(s, len, &pos, ':') ||
		!read_digits(s, len, &pos, 2, &sec))
		return time_error(env, s, len, shape);
	if (read_char(s, len, &pos, '.'))
	{
		int			n = 0;

		while (pos < len && s[pos] >= '0' && s[pos] <= '9' && n < 7)
		{
			frac = frac * 10 + (s[pos++] - '0');
			n++;
		}
		if (n == 0 || n > 6)
			return time_error(env, s, len, "The fraction of a second must have 1 to 6 digits.");
		while (n++ < 6)
			frac *= 10;
	}
	if (!read_char(s, len, &pos, 'Z'))
	{
		bool		east = read_char(s, len, &pos, '+');

		if (!east && !read_char(s, len, &pos, '-'))
			return time_error(env, s, len, "The time zone must be Z or an offset such as +02:00.");
		if (!read_digits(s, len, &pos, 2, &oh))
			return time_error(env, s, len, "The time zone must be Z or an offset such as +02:00.");
		if (pos < len)
		{
			read_char(s, len, &pos, ':');
			if (!read_digits(s, len, &pos, 2, &om))
				return time_error(env, s, len, "The time zone must be Z or an offset such as +02:00.");
		}
		if (oh > 15 || om > 59)
			return time_error(env, s, len, "The UTC offset is out of range.");
		if (east)
		{
			oh = -oh;
			om = -om;
		}
	}
	if (pos != len)
		return time_error(env, s, len, shape);
	if (neg)
		y = -y;
	if (mo < 1 || mo > 12)
		snprintf(why, sizeof(why), "Month %02d does not exist.", (int) mo);
	else if (d < 1 || d > days_in_month(y, (int) mo))
		snprintf(why, sizeof(why), "Day %02d does not exist in that month.", (int) d);
	else if (h > 23 || mi > 59 || sec > 59)
		snprintf(why, sizeof(why), "Time of day %02d:%02d:%02d does not exist.",
				 (int) h, (int) mi, (int) sec);
	else
		why[0] = '\0';
	if (why[0])
		return time_error(env, s, len, why);

	/* |days| < 4e8 and the range check precedes the multiplication: no overflow */
	days = days_from_civil(y, (int) mo, (int) d) - DAYS_1970_2000;
	if (days < TIME_MIN / USECS_PER_DAY - 1 || days > TIME_END / USECS_PER_DAY + 1)
		return time_error(env, s, len, "Times range from 4714 BC to 294276 AD.");
	t = days * USECS_PER_DAY + ((h + oh) * 3600 + (mi + om) * 60 + sec) * USECS_PER_SEC + frac;
	if (!time_ok(t))
		return time_error(env, s, len, "Times range from 4714 BC to 294276 AD.");
	*out = t;
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* Sorting touches and names (stable merge sort of an index array)      */
/* ------------------------------------------------------------------ */

static int
cmp_bytes(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
	int			r = memcmp(a, b, alen < blen ? alen : blen);

	if (r != 0)
		return r;
	return (alen > blen) - (alen < blen);
}

static int
cmp_touch_id(const void *ctx, uint32_t a, uint32_t b)
{
	const touch_set *s = ctx;

	return cmp_bytes(s->ids + s->t[a].id_off, s->t[a].id_len,
					 s->ids + s->t[b].id_off, s->t[b].id_len);
}

static int
cmp_touch_order(const void *ctx, uint32_t a, uint32_t b)
{
	const touch_set *s = ctx;

	if (s->t[a].at != s->t[b].at)
		return s->t[a].at < s->t[b].at ? -1 : 1;
	return cmp_touch_id(ctx, a, b);
}

static int
cmp_names(const void *ctx, uint32_t a, uint32_t b)
{
	const at_str *s = ctx;

	return cmp_bytes(s[a].p, s[a].len, s[b].p, s[b].len);
}

/* Sort 0..n-1 by cmp; *sorted gets the index array (env memory). */
static at_status
sort_index(at_env *env, uint32_t n, index_cmp cmp, const void *ctx, uint32_t **sorted)
{
	uint32_t   *a = at_alloc(env, (size_t) n * sizeof(uint32_t)),
			   *b = at_alloc(env, (size_t) n * sizeof(uint32_t)),
			   *swap;
	uint32_t	work = 0;

	if (a == NULL || b == NULL)
		return AT_ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		a[i] = i;
	for (size_t width = 1; width < n; width *= 2)
	{
		for (size_t lo = 0; lo < n; lo += 2 * width)
		{
			size_t		mid = lo + width < n ? lo + width : n,
						hi = lo + 2 * width < n ? lo + 2 * width : n,
						i = lo,
						j = mid,
						k = lo;

			while (k < hi)
			{
				if (POLL(env, work++))
					return AT_ECANCELED;
				if (j >= hi || (i < mid && cmp(ctx, a[i], a[j]) <= 0))
					b[k++] = a[i++];
				else
					b[k++] = a[j++];
			}
		}
		swap = a;
		a = b;
		b = swap;
	}
	*sorted = a;
	return AT_OK;
}

static uint32_t fnv1a(const char *p, size_t n);

/*
 * Two touches with equal ids: *found, and their indexes in *x, *y.  Of all
 * repeated ids the bytewise smallest is reported, with its first two
 * occurrences (x < y), as a stable sort by id would find them.  One pass over
 * an open-addressing hash of the ids (at most half full): linear in n, where a
 * sort cost n log n comparisons on every decode of a stored journey.
 */
static at_status
find_duplicate_id(at_env *env, const touch_set *s, uint32_t n, bool *found,
				  uint32_t *x, uint32_t *y)
{
	uint32_t	cap = 16,
				mask,
			   *slot;

	*found = false;
	if (n < 2)
		return AT_OK;
	while (cap < 2 * (size_t) n)
		cap *= 2;
	mask = cap - 1;
	if ((slot = at_alloc(env, (size_t) cap * sizeof(uint32_t))) == NULL)
		return AT_ENOMEM;
	memset(slot, 0, (size_t) cap * sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++)
	{
		const at_touch *t = &s->t[i];
		uint32_t	h = fnv1a(s->ids + t->id_off, t->id_len) & mask;

		if (POLL(env, i))
			return AT_ECANCELED;
		for (;;)
		{
			uint32_t	e = slot[h];

			if (e == 0)
			{
				slot[h] = i + 1;
				break;
			}
			if (cmp_touch_id(s, e - 1, i) == 0)
			{
				/* a repeat: keep the smallest id (its first two occurrences) */
				if (!*found || cmp_touch_id(s, e - 1, *x) < 0)
				{
					*found = true;
					*x = e - 1;
					*y = i;
				}
				break;
			}
			h = (h + 1) & mask;
		}
	}
	return AT_OK;
}

/*
 * The canonical journey of the touches perm[0..n-1] (already in order) of
 * (t, ids, chans): channels renumbered by first appearance, names and ids copied.
 */
static at_status
build_journey(at_env *env, const touch_set *s, const at_str *chans, uint32_t nchans,
			  const uint32_t *perm, uint32_t n, at_journey *out)
{
	uint32_t   *map = at_alloc(env, (size_t) nchans * sizeof(uint32_t));
	at_touch   *touches = at_alloc(env, (size_t) n * sizeof(at_touch));
	at_str	   *channels;
	char	   *ids,
			   *names;
	size_t		ids_len = 0,
				names_len = 0;
	uint32_t	nused = 0;

	memset(out, 0, sizeof(*out));
	if (map == NULL || touches == NULL)
		return AT_ENOMEM;
	memset(map, 0xff, (size_t) nchans * sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++)
	{
		const at_touch *t = &s->t[perm[i]];

		if (POLL(env, i))
			return AT_ECANCELED;
		if (map[t->channel] == UINT32_MAX)
		{
			map[t->channel] = nused++;
			names_len += chans[t->channel].len;
		}
		ids_len += t->id_len;
	}
	channels = at_alloc(env, (size_t) nused * sizeof(at_str));
	names = at_alloc(env, names_len);
	ids = at_alloc(env, ids_len);
	if (channels == NULL || names == NULL || ids == NULL)
		return AT_ENOMEM;
	names_len = 0;
	for (uint32_t c = 0; c < nchans; c++)
	{
		if (map[c] == UINT32_MAX)
			continue;
		memcpy(names + names_len, chans[c].p, chans[c].len);
		channels[map[c]].p = names + names_len;
		channels[map[c]].len = chans[c].len;
		names_len += chans[c].len;
	}
	ids_len = 0;
	for (uint32_t i = 0; i < n; i++)
	{
		const at_touch *t = &s->t[perm[i]];

		if (POLL(env, i))
			return AT_ECANCELED;
		touches[i].at = t->at;
		touches[i].channel = map[t->channel];
		touches[i].id_off = (uint32_t) ids_len;
		touches[i].id_len = t->id_len;
		memcpy(ids + ids_len, s->ids + t->id_off, t->id_len);
		ids_len += t->id_len;
	}
	out->ntouches = n;
	out->touches = touches;
	out->nchannels = nused;
	out->channels = channels;
	out->ids = ids;
	out->ids_len = ids_len;
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* Builder                                                              */
/* ------------------------------------------------------------------ */

/* Grow *p (of *cap elements of elem bytes) to hold need elements, doubling. */
static at_status
grow(at_env *env, void **p, size_t *cap, size_t need, size_t elem)
{
	size_t		newcap = *cap ? *cap : 16;
	void	   *n;

	if (need <= *cap)
		return AT_OK;
	while (newcap < need)
		newcap *= 2;
	if (newcap > MAX_ALLOC / elem)
		newcap = need > MAX_ALLOC / elem ? need : MAX_ALLOC / elem;
	n = at_realloc(env, *p, *cap * elem, newcap * elem);
	if (n == NULL)
		return AT_ENOMEM;
	*p = n;
	*cap = newcap;
	return AT_OK;
}

static uint32_t
fnv1a(const char *p, size_t n)
{
	uint32_t	h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char) p[i]) * 16777619u;
	return h;
}

/* The hash slot holding name, or the empty slot where it belongs. */
static uint32_t *
hash_slot(const at_builder *b, const char *name, size_t len)
{
	uint32_t	mask = b->hash_cap - 1,
				i = fnv1a(name, len) & mask;

	for (;;)
	{
		uint32_t	e = b->chan_hash[i];

		if (e == 0 || (b->channels[e - 1].len == len &&
					   memcmp(b->channels[e - 1].p, name, len) == 0))
			return &b->chan_hash[i];
		i = (i + 1) & mask;
	}
}

/* Rebuild the hash for at least `need` channels at <= 50% load; *dup: a repeat. */
static at_status
rehash(at_env *env, at_builder *b, uint32_t need, int64_t *dup)
{
	uint32_t	cap = 16;

	while (cap < 2 * need)
		cap *= 2;
	b->chan_hash = at_alloc(env, (size_t) cap * sizeof(uint32_t));
	if (b->chan_hash == NULL)
	{
		b->hash_cap = 0;
		return AT_ENOMEM;
	}
	memset(b->chan_hash, 0, (size_t) cap * sizeof(uint32_t));
	b->hash_cap = cap;
	*dup = -1;
	for (uint32_t c = 0; c < b->nchannels; c++)
	{
		uint32_t   *slot = hash_slot(b, b->channels[c].p, b->channels[c].len);

		if (*slot != 0)
			*dup = c;
		else
			*slot = c + 1;
	}
	return AT_OK;
}

void
at_builder_init(at_builder *b)
{
	memset(b, 0, sizeof(*b));
}

/* Append one touch (arguments already checked). */
static at_status
add_touch(at_env *env, at_builder *b, const char *id, size_t id_len, int64_t at,
		  const char *ch, size_t ch_len)
{
	uint32_t   *slot;
	bool		newch;
	size_t		cap;
	int64_t		dup;
	at_status	st;

	if (b->ntouches >= AT_MAX_TOUCHES)
	{
		at_fail(env, AT_ELIMIT, "journey has more than %u touches", AT_MAX_TOUCHES);
		return at_hint(env, "Shorten the lookback window or narrow the contact scope.");
	}
	if ((size_t) (b->nchannels + 1) * 2 > b->hash_cap &&
		(st = rehash(env, b, b->nchannels + 1, &dup)) != AT_OK)
		return st;
	slot = hash_slot(b, ch, ch_len);
	newch = (*slot == 0);
	if (content_size(b->ntouches + 1, b->ids_len + id_len, b->nchannels + newch,
					 b->chan_len + (newch ? ch_len : 0)) > MAX_CONTENT)
	{
		at_fail(env, AT_ELIMIT, "journey is too large");
		at_detail(env, "Its touches, ids and channel names would take more than %zu bytes.",
				  MAX_CONTENT);
		return at_hint(env, "Shorten the lookback window or narrow the contact scope.");
	}
	cap = b->cap_touches;
	if ((st = grow(env, (void **) &b->touches, &cap, b->ntouches + 1, sizeof(at_touch))) != AT_OK)
		return st;
	b->cap_touches = (uint32_t) cap;
	if ((st = grow(env, (void **) &b->ids, &b->ids_cap, b->ids_len + id_len, 1)) != AT_OK)
		return st;
	if (newch)
	{
		size_t		old_cap = b->chan_cap;

		cap = b->cap_channels;
		if ((st = grow(env, (void **) &b->channels, &cap, b->nchannels + 1,
					   sizeof(at_str))) != AT_OK)
			return st;
		b->cap_channels = (uint32_t) cap;
		if ((st = grow(env, (void **) &b->chan_pool, &b->chan_cap,
					   b->chan_len + ch_len, 1)) != AT_OK)
			return st;
		if (b->chan_cap != old_cap)
		{
			/* names lie back to back in the pool: re-point them */
			size_t		off = 0;

			for (uint32_t c = 0; c < b->nchannels; c++)
			{
				b->channels[c].p = b->chan_pool + off;
				off += b->channels[c].len;
			}
		}
		memcpy(b->chan_pool + b->chan_len, ch, ch_len);
		b->channels[b->nchannels].p = b->chan_pool + b->chan_len;
		b->channels[b->nchannels].len = (uint32_t) ch_len;
		b->chan_len += ch_len;
		*slot = ++b->nchannels;
	}
	memcpy(b->ids + b->ids_len, id, id_len);
	b->touches[b->ntouches].at = at;
	b->touches[b->ntouches].channel = *slot - 1;
	b->touches[b->ntouches].id_off = (uint32_t) b->ids_len;
	b->touches[b->ntouches].id_len = (uint32_t) id_len;
	b->ids_len += id_len;
	b->ntouches++;
	return AT_OK;
}

static at_status
check_name(at_env *env, at_status status, const char *what, const char *p, size_t len)
{
	if (len == 0)
		return at_fail(env, status, "%s is empty", what);
	if (len > AT_MAX_ID_LEN)
	{
		at_fail(env, status, "%s is %zu bytes long", what, len);
		return at_hint(env, "Touch ids, channel names and stage names may be at most %d bytes long.",
					   AT_MAX_ID_LEN);
	}
	if (p == NULL)
		return at_fail(env, AT_ENULL, "%s is NULL", what);
	if (memchr(p, '\0', len) != NULL)
		return at_fail(env, status, "%s contains a NUL byte", what);
	return AT_OK;
}

at_status
at_builder_add(at_env *env, at_builder *b, const char *id, size_t id_len,
			   int64_t at, const char *channel, size_t channel_len)
{
	at_status	st;
	char		q[64];

	if ((st = check_name(env, AT_EBAD_VALUE, "touch id", id, id_len)) != AT_OK)
		return st;
	if ((st = check_name(env, AT_EBAD_VALUE, "channel name", channel, channel_len)) != AT_OK)
		return at_detail(env, "The touch is %s.", quoted(q, id, id_len));
	if (!time_ok(at))
	{
		at_fail(env, AT_EBAD_VALUE, "touch time is %s",
				(at == INT64_MAX || at == INT64_MIN) ? "infinite" : "out of range");
		return at_detail(env, "The touch is %s.", quoted(q, id, id_len));
	}
	return add_touch(env, b, id, id_len, at, channel, channel_len);
}

at_status
at_builder_merge(at_env *env, at_builder *dst, const at_builder *src)
{
	at_status	st;

	if (dst == src)
		return at_fail(env, AT_EBAD_VALUE, "cannot merge a journey state into itself");
	for (uint32_t i = 0; i < src->ntouches; i++)
	{
		const at_touch *t = &src->touches[i];
		const at_str *c = &src->channels[t->channel];

		if (POLL(env, i))
			return AT_ECANCELED;
		if ((st = add_touch(env, dst, src->ids + t->id_off, t->id_len, t->at,
							c->p, c->len)) != AT_OK)
			return st;
	}
	return AT_OK;
}

at_status
at_builder_finish(at_env *env, const at_builder *b, at_journey *out)
{
	touch_set	s = {b->touches, b->ids};
	uint32_t   *perm;
	uint32_t	x,
				y;
	bool		dup;
	at_status	st;
	char		q[64],
				t1[40],
				t2[40];

	memset(out, 0, sizeof(*out));
	if ((st = find_duplicate_id(env, &s, b->ntouches, &dup, &x, &y)) != AT_OK)
		return st;
	if (dup)
	{
		const at_touch *a = &b->touches[x],
				   *c = &b->touches[y];

		at_time_format(a->at < c->at ? a->at : c->at, t1);
		at_time_format(a->at < c->at ? c->at : a->at, t2);
		at_fail(env, AT_EDUPLICATE, "touch id %s appears twice in one journey",
				quoted(q, b->ids + a->id_off, a->id_len));
		if (a->at == c->at)
			at_detail(env, "Both rows occurred at %s.", t1);
		else
			at_detail(env, "The rows occurred at %s and at %s.", t1, t2);
		return at_hint(env, "A join probably repeats touch rows (one per contact, "
					   "opportunity or campaign); aggregate each touch once, e.g. with DISTINCT.");
	}
	if ((st = sort_index(env, b->ntouches, cmp_touch_order, &s, &perm)) != AT_OK)
		return st;
	return build_journey(env, &s, b->channels, b->nchannels, perm, b->ntouches, out);
}

/* ------------------------------------------------------------------ */
/* Context and window                                                   */
/* ------------------------------------------------------------------ */

static at_status
check_context(at_env *env, const at_context *c)
{
	char		q[64];
	at_status	st;

	if (c->outcome > AT_OUTCOME_LOST)
		return at_fail(env, AT_EBAD_VALUE, "invalid opportunity outcome %u", c->outcome);
	if (c->has & ~0x0fu)
		return at_fail(env, AT_EBAD_VALUE, "invalid opportunity context bits 0x%02x", c->has);
	if (c->outcome == AT_OUTCOME_NONE && (c->has != 0 || c->nstages != 0))
		return at_fail(env, AT_EBAD_VALUE, "opportunity context has times or stages but no status");
	for (int k = 0; k < 4; k++)
		if ((c->has & (1 << k)) && !time_ok(ctx_get(c, k)))
			return at_fail(env, AT_EBAD_VALUE, "opportunity %s is infinite or out of range",
						   time_names[k]);
	if (c->nstages > AT_MAX_STAGES)
	{
		at_fail(env, AT_ELIMIT, "opportunity has %u stages, more than the limit of %d",
				c->nstages, AT_MAX_STAGES);
		return at_hint(env, "Keep only the funnel stages the models use.");
	}
	if (c->nstages > 0 && c->stages == NULL)
		return at_fail(env, AT_ENULL, "opportunity stages are NULL");
	for (uint32_t k = 0; k < c->nstages; k++)
	{
		const at_stage *sg = &c->stages[k];

		if ((st = check_name(env, AT_EBAD_VALUE, "stage name", sg->name.p, sg->name.len)) != AT_OK)
			return st;
		if (!time_ok(sg->at))
			return at_fail(env, AT_EBAD_VALUE, "stage %s time is infinite or out of range",
						   quoted(q, sg->name.p, sg->name.len));
		for (uint32_t e = 0; e < k; e++)
			if (cmp_bytes(c->stages[e].name.p, c->stages[e].name.len,
						  sg->name.p, sg->name.len) == 0)
				return at_fail(env, AT_EBAD_VALUE, "stage %s appears twice in one opportunity",
							   quoted(q, sg->name.p, sg->name.len));
	}
	return AT_OK;
}

at_status
at_journey_with_context(at_env *env, const at_journey *in, const at_context *ctx,
						int64_t lookback, at_journey *out)
{
	at_journey	src;
	at_context	cx;
	touch_set	s;
	int64_t		lo = INT64_MIN,
				hi = INT64_MAX;
	uint32_t   *keep,
				n = 0;
	size_t		names = 0;
	char	   *pool;
	at_status	st;

	if (ctx == NULL)
		return at_fail(env, AT_ENULL, "opportunity context is NULL");
	/* out may be in, and ctx may be in->ctx: work from copies */
	src = *in;
	cx = *ctx;
	in = &src;
	ctx = &cx;
	s.t = in->touches;
	s.ids = in->ids;
	memset(out, 0, sizeof(*out));
	if ((st = check_context(env, ctx)) != AT_OK)
		return st;
	if (lookback >= 0 && (ctx->has & AT_HAS_CREATED))
		/* saturate: a lookback reaching before the representable range is no limit */
		lo = ctx->created_at >= INT64_MIN + lookback ? ctx->created_at - lookback : INT64_MIN;
	if ((ctx->outcome == AT_OUTCOME_WON || ctx->outcome == AT_OUTCOME_LOST) &&
		(ctx->has & AT_HAS_CLOSED))
		hi = ctx->closed_at;
	if (ctx->outcome == AT_OUTCOME_OPEN && (ctx->has & AT_HAS_AS_OF))
		hi = ctx->as_of;

	keep = at_alloc(env, (size_t) in->ntouches * sizeof(uint32_t));
	if (keep == NULL)
		return AT_ENOMEM;
	for (uint32_t i = 0; i < in->ntouches; i++)
	{
		if (POLL(env, i))
			return AT_ECANCELED;
		if (in->touches[i].at >= lo && in->touches[i].at <= hi)
			keep[n++] = i;
	}
	if ((st = build_journey(env, &s, in->channels, in->nchannels, keep, n, out)) != AT_OK)
		return st;
	if (ctx->outcome == AT_OUTCOME_NONE)
		return AT_OK;

	/* deep copy of the context, unset times zeroed */
	out->has_context = true;
	out->ctx.outcome = ctx->outcome;
	out->ctx.has = ctx->has;
	for (int k = 0; k < 4; k++)
		if (ctx->has & (1 << k))
			*ctx_time(&out->ctx, k) = ctx_get(ctx, k);
	for (uint32_t k = 0; k < ctx->nstages; k++)
		names += ctx->stages[k].name.len;
	out->ctx.stages = at_alloc(env, (size_t) ctx->nstages * sizeof(at_stage));
	pool = at_alloc(env, names);
	if (out->ctx.stages == NULL || pool == NULL)
		return AT_ENOMEM;
	for (uint32_t k = 0; k < ctx->nstages; k++)
	{
		memcpy(pool, ctx->stages[k].name.p, ctx->stages[k].name.len);
		out->ctx.stages[k].name.p = pool;
		out->ctx.stages[k].name.len = ctx->stages[k].name.len;
		out->ctx.stages[k].at = ctx->stages[k].at;
		pool += ctx->stages[k].name.len;
	}
	out->ctx.nstages = ctx->nstages;
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* Little-endian bytes                                                  */
/* ------------------------------------------------------------------ */

static uint8_t *
put_u32(uint8_t *w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		*w++ = (uint8_t) (v >> (8 * i));
	return w;
}

static uint8_t *
put_i64(uint8_t *w, int64_t v)
{
	uint64_t	u = (uint64_t) v;

	for (int i = 0; i < 8; i++)
		*w++ = (uint8_t) (u >> (8 * i));
	return w;
}

static uint8_t *
put_bytes(uint8_t *w, const char *p, uint32_t len)
{
	w = put_u32(w, len);
	if (len > 0)
		memcpy(w, p, len);
	return w + len;
}

typedef struct reader
{
	const uint8_t *p;
	size_t		left;
} reader;

static bool
get_u8(reader *r, uint32_t *v)
{
	if (r->left < 1)
		return false;
	*v = *r->p++;
	r->left--;
	return true;
}

static bool
get_u16(reader *r, uint32_t *v)
{
	if (r->left < 2)
		return false;
	*v = r->p[0] | (uint32_t) r->p[1] << 8;
	r->p += 2;
	r->left -= 2;
	return true;
}

static bool
get_u32(reader *r, uint32_t *v)
{
	if (r->left < 4)
		return false;
	*v = r->p[0] | (uint32_t) r->p[1] << 8 | (uint32_t) r->p[2] << 16 |
		(uint32_t) r->p[3] << 24;
	r->p += 4;
	r->left -= 4;
	return true;
}

static bool
get_i64(reader *r, int64_t *v)
{
	uint64_t	u = 0;

	if (r->left < 8)
		return false;
	for (int i = 7; i >= 0; i--)
		u = u << 8 | r->p[i];
	r->p += 8;
	r->left -= 8;
	*v = u <= (uint64_t) INT64_MAX ? (int64_t) u : -(int64_t) (~u) - 1;
	return true;
}

/* len bytes of name (1..AT_MAX_ID_LEN, no NUL) at r; false: truncated or bad */
static bool
get_name(reader *r, uint32_t len, at_str *out)
{
	if (len == 0 || len > AT_MAX_ID_LEN || r->left < len ||
		memchr(r->p, '\0', len) != NULL)
		return false;
	out->p = (const char *) r->p;
	out->len = len;
	r->p += len;
	r->left -= len;
	return true;
}

/* ------------------------------------------------------------------ */
/* Partial aggregate state                                              */
/* ------------------------------------------------------------------ */

/*
 * Format: u8 0xB1; u32 ntouches; u32 nchannels; per channel u32 len + bytes;
 * per touch (in insertion order) i64 at, u32 channel, u32 id_len, id bytes.
 */
at_status
at_builder_serialize(at_env *env, const at_builder *b, uint8_t **out, size_t *len)
{
	size_t		size = 9 + (size_t) b->nchannels * 4 + b->chan_len +
		(size_t) b->ntouches * 16 + b->ids_len;
	uint8_t    *buf = at_alloc(env, size),
			   *w = buf;

	*out = NULL;
	*len = 0;
	if (buf == NULL)
		return AT_ENOMEM;
	*w++ = STATE_VERSION;
	w = put_u32(w, b->ntouches);
	w = put_u32(w, b->nchannels);
	for (uint32_t c = 0; c < b->nchannels; c++)
		w = put_bytes(w, b->channels[c].p, b->channels[c].len);
	for (uint32_t i = 0; i < b->ntouches; i++)
	{
		if (POLL(env, i))
			return AT_ECANCELED;
		w = put_i64(w, b->touches[i].at);
		w = put_u32(w, b->touches[i].channel);
		w = put_bytes(w, b->ids + b->touches[i].id_off, b->touches[i].id_len);
	}
	*out = buf;
	*len = size;
	return AT_OK;
}

#define STATE_CORRUPT(env, ...) \
	at_fail((env), AT_ECORRUPT, "corrupt attrib partial state: " __VA_ARGS__)

at_status
at_builder_deserialize(at_env *env, const uint8_t *data, size_t len, at_builder *out)
{
	reader		r = {data, len};
	uint32_t	version,
				nt,
				nch,
				n;
	size_t		chan_len = 0;
	int64_t		dup;
	at_str		name;
	at_status	st;

	at_builder_init(out);
	if (len < 9 || data == NULL)
		return STATE_CORRUPT(env, "%zu bytes is too short", len);
	if (len > MAX_ALLOC)
		return STATE_CORRUPT(env, "%zu bytes is too long", len);
	get_u8(&r, &version);
	get_u32(&r, &nt);
	get_u32(&r, &nch);
	if (version != STATE_VERSION)
		return STATE_CORRUPT(env, "unsupported format version 0x%02x", version);
	if (nt > AT_MAX_TOUCHES)
		return STATE_CORRUPT(env, "%u touches is more than the limit of %u", nt, AT_MAX_TOUCHES);
	if (nch > nt)
		return STATE_CORRUPT(env, "%u channels for %u touches", nch, nt);
	if ((size_t) nch * 5 + (size_t) nt * 17 > r.left)
		return STATE_CORRUPT(env, "%u touches and %u channels do not fit in %zu bytes",
							 nt, nch, len);

	/* channels: check, then copy into one pool */
	{
		reader		scan = r;

		for (uint32_t c = 0; c < nch; c++)
		{
			if (!get_u32(&scan, &n) || n > scan.left)
				return STATE_CORRUPT(env, "truncated channel %u", c);
			if (!get_name(&scan, n, &name))
				return STATE_CORRUPT(env, "channel %u has a bad name of %u bytes", c, n);
			chan_len += n;
		}
	}
	out->channels = at_alloc(env, (size_t) nch * sizeof(at_str));
	out->chan_pool = at_alloc(env, chan_len);
	if (out->channels == NULL || out->chan_pool == NULL)
		return AT_ENOMEM;
	out->cap_channels = nch;
	out->chan_cap = chan_len;
	for (uint32_t c = 0; c < nch; c++)
	{
		get_u32(&r, &n);
		get_name(&r, n, &name);
		memcpy(out->chan_pool + out->chan_len, name.p, n);
		out->channels[c].p = out->chan_pool + out->chan_len;
		out->channels[c].len = n;
		out->chan_len += n;
		out->nchannels++;
	}
	if ((st = rehash(env, out, nch, &dup)) != AT_OK)
		return st;
	if (dup >= 0)
		return STATE_CORRUPT(env, "channel %u repeats an earlier channel", (uint32_t) dup);

	/* touches: without trailing bytes, the ids take what the fixed fields leave */
	if ((size_t) nt * 17 > r.left)
		return STATE_CORRUPT(env, "%u touches do not fit in %zu bytes", nt, r.left);
	out->ids_cap = r.left - (size_t) nt * 16;
	out->ids = at_alloc(env, out->ids_cap);
	out->touches = at_alloc(env, (size_t) nt * sizeof(at_touch));
	if (out->ids == NULL || out->touches == NULL)
		return AT_ENOMEM;
	out->cap_touches = nt;
	for (uint32_t i = 0; i < nt; i++)
	{
		at_touch   *t = &out->touches[i];
		uint32_t	ch;

		if (POLL(env, i))
			return AT_ECANCELED;
		if (!get_i64(&r, &t->at) || !get_u32(&r, &ch) || !get_u32(&r, &n) || n > r.left)
			return STATE_CORRUPT(env, "truncated touch %u", i);
		if (!time_ok(t->at))
			return STATE_CORRUPT(env, "touch %u has an invalid time", i);
		if (ch >= nch)
			return STATE_CORRUPT(env, "touch %u has channel %u of %u", i, ch, nch);
		if (!get_name(&r, n, &name))
			return STATE_CORRUPT(env, "touch %u has a bad id of %u bytes", i, n);
		/* the rest must hold the remaining touches: then the ids fit the pool */
		if (r.left < (size_t) (nt - i - 1) * 17)
			return STATE_CORRUPT(env, "truncated touch %u", i + 1);
		memcpy(out->ids + out->ids_len, name.p, n);
		t->channel = ch;
		t->id_off = (uint32_t) out->ids_len;
		t->id_len = n;
		out->ids_len += n;
		out->ntouches++;
	}
	if (r.left != 0)
		return STATE_CORRUPT(env, "%zu bytes follow the last touch", r.left);
	if (content_size(nt, out->ids_len, nch, out->chan_len) > MAX_CONTENT)
		return STATE_CORRUPT(env, "the journey is larger than the limit");
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* Journey bytes                                                        */
/* ------------------------------------------------------------------ */

static bool
writes_context(const at_journey *j)
{
	return j->has_context && j->ctx.outcome != AT_OUTCOME_NONE;
}

at_status
at_journey_encode(at_env *env, const at_journey *j, uint8_t **out, size_t *len)
{
	size_t		size = 12 + (size_t) j->ntouches * 16 + (size_t) j->nchannels * 4;
	uint8_t    *buf,
			   *w;
	at_context	c = j->ctx;

	*out = NULL;
	*len = 0;
	for (uint32_t i = 0; i < j->nchannels; i++)
		size += j->channels[i].len;
	for (uint32_t i = 0; i < j->ntouches; i++)
		size += j->touches[i].id_len;
	if (writes_context(j))
	{
		size += 40 + (size_t) c.nstages * 12;
		for (uint32_t k = 0; k < c.nstages; k++)
			size += c.stages[k].name.len;
	}
	if (size > MAX_ALLOC - 8)
		return at_fail(env, AT_ELIMIT, "journey is too large to store (%zu bytes)", size);
	if ((buf = at_alloc(env, size)) == NULL)
		return AT_ENOMEM;
	w = buf;
	*w++ = JOURNEY_VERSION;
	*w++ = writes_context(j) ? 1 : 0;
	*w++ = 0;
	*w++ = 0;
	w = put_u32(w, j->ntouches);
	w = put_u32(w, j->nchannels);
	if (writes_context(j))
	{
		*w++ = c.outcome;
		*w++ = c.has;
		*w++ = 0;
		*w++ = 0;
		for (int k = 0; k < 4; k++)
			w = put_i64(w, (c.has & (1 << k)) ? ctx_get(&c, k) : 0);
		w = put_u32(w, c.nstages);
		for (uint32_t k = 0; k < c.nstages; k++)
		{
			w = put_bytes(w, c.stages[k].name.p, c.stages[k].name.len);
			w = put_i64(w, c.stages[k].at);
		}
	}
	for (uint32_t i = 0; i < j->nchannels; i++)
		w = put_bytes(w, j->channels[i].p, j->channels[i].len);
	for (uint32_t i = 0; i < j->ntouches; i++)
	{
		const at_touch *t = &j->touches[i];

		if (POLL(env, i))
			return AT_ECANCELED;
		w = put_i64(w, t->at);
		w = put_u32(w, t->channel);
		w = put_bytes(w, j->ids + t->id_off, t->id_len);
	}
	*out = buf;
	*len = size;
	return AT_OK;
}

#define CORRUPT(env, ...) at_fail((env), AT_ECORRUPT, "corrupt journey: " __VA_ARGS__)

static at_status
decode_context(at_env *env, reader *r, at_context *c)
{
	uint32_t	outcome,
				has,
				zero,
				n;

	if (!get_u8(r, &outcome) || !get_u8(r, &has) || !get_u16(r, &zero))
		return CORRUPT(env, "truncated context");
	if (outcome < AT_OUTCOME_WON || outcome > AT_OUTCOME_LOST)
		return CORRUPT(env, "context has outcome %u", outcome);
	if (has & ~0x0fu)
		return CORRUPT(env, "context has unknown bits 0x%02x", has);
	if (zero != 0)
		return CORRUPT(env, "reserved context bytes are not zero");
	c->outcome = (uint8_t) outcome;
	c->has = (uint8_t) has;
	for (int k = 0; k < 4; k++)
	{
		int64_t    *t = ctx_time(c, k);

		if (!get_i64(r, t))
			return CORRUPT(env, "truncated context");
		if ((has & (1 << k)) ? !time_ok(*t) : *t != 0)
			return CORRUPT(env, "context has an invalid %s", time_names[k]);
	}
	if (!get_u32(r, &c->nstages))
		return CORRUPT(env, "truncated context");
	if (c->nstages > AT_MAX_STAGES)
		return CORRUPT(env, "%u stages is more than the limit of %d", c->nstages, AT_MAX_STAGES);
	c->stages = at_alloc(env, (size_t) c->nstages * sizeof(at_stage));
	if (c->stages == NULL)
		return AT_ENOMEM;
	for (uint32_t k = 0; k < c->nstages; k++)
	{
		if (!get_u32(r, &n) || n > r->left)
			return CORRUPT(env, "truncated stage %u", k);
		if (!get_name(r, n, &c->stages[k].name))
			return CORRUPT(env, "stage %u has a bad name of %u bytes", k, n);
		if (!get_i64(r, &c->stages[k].at))
			return CORRUPT(env, "truncated stage %u", k);
		if (!time_ok(c->stages[k].at))
			return CORRUPT(env, "stage %u has an invalid time", k);
		for (uint32_t e = 0; e < k; e++)
			if (cmp_bytes(c->stages[e].name.p, c->stages[e].name.len,
						  c->stages[k].name.p, c->stages[k].name.len) == 0)
				return CORRUPT(env, "stage %u repeats stage %u", k, e);
	}
	return AT_OK;
}

at_status
at_journey_decode(at_env *env, const uint8_t *data, size_t len, at_journey *out)
{
	reader		r = {data, len};
	uint32_t	u,
				nt = 0,
				nch = 0,
				n,
				next_channel = 0,
				*idx,
				x,
				y;
	char	   *ids;
	touch_set	s;
	bool		dup;
	at_status	st;
	char		q[64];

	memset(out, 0, sizeof(*out));
	if (len < 12 || data == NULL)
		return CORRUPT(env, "%zu bytes is too short", len);
	if (len > MAX_ALLOC)
		return CORRUPT(env, "%zu bytes is too long", len);
	get_u8(&r, &u);
	if (u != JOURNEY_VERSION)
		return CORRUPT(env, "unsupported format version %u", u);
	get_u8(&r, &u);
	if (u & ~1u)
		return CORRUPT(env, "unknown flags 0x%02x", u);
	out->has_context = (u & 1) != 0;
	get_u16(&r, &u);
	if (u != 0)
		return CORRUPT(env, "reserved header bytes are not zero");
	get_u32(&r, &nt);
	get_u32(&r, &nch);
	if (nt > AT_MAX_TOUCHES)
		return CORRUPT(env, "%u touches is more than the limit of %u", nt, AT_MAX_TOUCHES);
	if (nch > nt)
		return CORRUPT(env, "%u channels for %u touches", nch, nt);
	if (out->has_context && (st = decode_context(env, &r, &out->ctx)) != AT_OK)
		return st;
	if ((size_t) nch * 5 + (size_t) nt * 17 > r.left)
		return CORRUPT(env, "%u touches and %u channels do not fit in %zu bytes", nt, nch, len);

	out->channels = at_alloc(env, (size_t) nch * sizeof(at_str));
	if (out->channels == NULL)
		return AT_ENOMEM;
	for (uint32_t c = 0; c < nch; c++)
	{
		at_str	   *name = &out->channels[c];

		if (POLL(env, c))
			return AT_ECANCELED;
		if (!get_u32(&r, &n) || n > r.left)
			return CORRUPT(env, "truncated channel %u", c);
		if (!get_name(&r, n, name))
			return CORRUPT(env, "channel %u has a bad name of %u bytes", c, n);
	}
	out->nchannels = nch;
	if ((st = sort_index(env, nch, cmp_names, out->channels, &idx)) != AT_OK)
		return st;
	for (uint32_t c = 1; c < nch; c++)
		if (cmp_names(out->channels, idx[c - 1], idx[c]) == 0)
			return CORRUPT(env, "channel %u repeats channel %u",
						   idx[c - 1] > idx[c] ? idx[c - 1] : idx[c],
						   idx[c - 1] > idx[c] ? idx[c] : idx[c - 1]);

	/* touches: without trailing bytes, the ids take what the fixed fields leave */
	if ((size_t) nt * 17 > r.left)
		return CORRUPT(env, "%u touches do not fit in %zu bytes", nt, r.left);
	ids = at_alloc(env, r.left - (size_t) nt * 16);
	out->touches = at_alloc(env, (size_t) nt * sizeof(at_touch));
	if (ids == NULL || out->touches == NULL)
		return AT_ENOMEM;
	out->ids = ids;
	s.t = out->touches;
	s.ids = ids;
	for (uint32_t i = 0; i < nt; i++)
	{
		at_touch   *t = &out->touches[i];
		at_str		id;

		if (POLL(env, i))
			return AT_ECANCELED;
		if (!get_i64(&r, &t->at) || !get_u32(&r, &t->channel) || !get_u32(&r, &n) ||
			n > r.left)
			return CORRUPT(env, "truncated touch %u", i);
		if (!time_ok(t->at))
			return CORRUPT(env, "touch %u has an invalid time", i);
		if (t->channel >= nch)
			return CORRUPT(env, "touch %u has channel %u of %u", i, t->channel, nch);
		if (t->channel > next_channel)
			return CORRUPT(env, "channel %u appears before channel %u", t->channel, next_channel);
		if (t->channel == next_channel)
			next_channel++;
		if (!get_name(&r, n, &id))
			return CORRUPT(env, "touch %u has a bad id of %u bytes", i, n);
		/* the rest must hold the remaining touches: then the ids fit the pool */
		if (r.left < (size_t) (nt - i - 1) * 17)
			return CORRUPT(env, "truncated touch %u", i + 1);
		memcpy(ids + out->ids_len, id.p, n);
		t->id_off = (uint32_t) out->ids_len;
		t->id_len = n;
		out->ids_len += n;
		out->ntouches = i + 1;
		if (i > 0 && cmp_touch_order(&s, i - 1, i) >= 0)
		{
			if (cmp_touch_order(&s, i - 1, i) == 0)
				return CORRUPT(env, "touch id %s appears twice", quoted(q, id.p, n));
			return CORRUPT(env, "touch %u is out of order", i);
		}
	}
	if (next_channel != nch)
		return CORRUPT(env, "channel %u is never used", next_channel);
	if (r.left != 0)
		return CORRUPT(env, "%zu bytes follow the last touch", r.left);
	if ((st = find_duplicate_id(env, &s, nt, &dup, &x, &y)) != AT_OK)
		return st;
	if (dup)
		return CORRUPT(env, "touch id %s appears twice",
					   quoted(q, ids + out->touches[x].id_off, out->touches[x].id_len));
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* Text                                                                 */
/* ------------------------------------------------------------------ */

typedef struct text_buf
{
	at_env	   *env;
	char	   *p;
	size_t		len;
	size_t		cap;
} text_buf;

static at_status
tb_reserve(text_buf *b, size_t n)
{
	size_t		need = b->len + n + 1;

	if (need <= b->cap)
		return AT_OK;
	if (need > MAX_ALLOC - 8)
		return at_fail(b->env, AT_ELIMIT, "journey text would be longer than %zu bytes",
					   MAX_ALLOC - 8);
	return grow(b->env, (void **) &b->p, &b->cap, need, 1);
}

static at_status
tb_put(text_buf *b, const char *s)
{
	size_t		n = strlen(s);
	at_status	st = tb_reserve(b, n);

	if (st == AT_OK)
	{
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
	return st;
}

/* a JSON string: quotes, backslashes and control bytes escaped, others as is */
static at_status
tb_string(text_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	at_status	st = tb_reserve(b, 6 * len + 2);

	if (st != AT_OK)
		return st;
	b->p[b->len++] = '"';
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '"' || c == '\\')
		{
			b->p[b->len++] = '\\';
			b->p[b->len++] = (char) c;
		}
		else if (c < 0x20)
		{
			memcpy(b->p + b->len, "\\u00", 4);
			b->p[b->len + 4] = hex[c >> 4];
			b->p[b->len + 5] = hex[c & 15];
			b->len += 6;
		}
		else
			b->p[b->len++] = (char) c;
	}
	b->p[b->len++] = '"';
	return AT_OK;
}

static at_status
tb_time(text_buf *b, int64_t t)
{
	char		buf[40];
	size_t		n = at_time_format(t, buf);

	return tb_string(b, buf, n);
}

at_status
at_journey_to_text(at_env *env, const at_journey *j, char **out, size_t *len)
{
	static const char *const status[4] = {"", "won", "open", "lost"};
	text_buf	b = {env, NULL, 0, 0};
	const at_context *c = &j->ctx;
	at_status	st;

	*out = NULL;
	*len = 0;
#define PUT(x) do { if ((st = (x)) != AT_OK) return st; } while (0)
	PUT(tb_reserve(&b, 64 + (size_t) j->ntouches * 40));
	PUT(tb_put(&b, "{\"touches\":["));
	for (uint32_t i = 0; i < j->ntouches; i++)
	{
		const at_touch *t = &j->touches[i];

		if (POLL(env, i))
			return AT_ECANCELED;
		PUT(tb_put(&b, i ? ",[" : "["));
		PUT(tb_string(&b, j->ids + t->id_off, t->id_len));
		PUT(tb_put(&b, ","));
		PUT(tb_time(&b, t->at));
		PUT(tb_put(&b, ","));
		PUT(tb_string(&b, j->channels[t->channel].p, j->channels[t->channel].len));
		PUT(tb_put(&b, "]"));
	}
	PUT(tb_put(&b, "]"));
	if (writes_context(j) && c->outcome <= AT_OUTCOME_LOST)
	{
		PUT(tb_put(&b, ",\"context\":{\"status\":\""));
		PUT(tb_put(&b, status[c->outcome]));
		PUT(tb_put(&b, "\""));
		for (int k = 0; k < 4; k++)
		{
			if (!(c->has & (1 << k)))
				continue;
			PUT(tb_put(&b, ",\""));
			PUT(tb_put(&b, time_names[k]));
			PUT(tb_put(&b, "\":"));
			PUT(tb_time(&b, ctx_get(c, k)));
		}
		if (c->nstages > 0)
		{
			PUT(tb_put(&b, ",\"stages\":{"));
			for (uint32_t k = 0; k < c->nstages; k++)
			{
				if (k > 0)
					PUT(tb_put(&b, ","));
				PUT(tb_string(&b, c->stages[k].name.p, c->stages[k].name.len));
				PUT(tb_put(&b, ":"));
				PUT(tb_time(&b, c->stages[k].at));
			}
			PUT(tb_put(&b, "}"));
		}
		PUT(tb_put(&b, "}"));
	}
	PUT(tb_put(&b, "}"));
#undef PUT
	b.p[b.len] = '\0';
	*out = b.p;
	*len = b.len;
	return AT_OK;
}

/* Prefix the error's detail with where in the text it happened. */
static at_status
locate(at_env *env, const char *where)
{
	char		old[AT_MSG_LEN];

	memcpy(old, env->err->detail, AT_MSG_LEN);
	if (old[0])
		return at_detail(env, "In %s: %s", where, old);
	return at_detail(env, "In %s.", where);
}

static bool
key_is(const at_str *k, const char *name)
{
	return k->len == strlen(name) && memcmp(k->p, name, k->len) == 0;
}

static at_status
text_time(at_env *env, const at_json *v, const char *where, int64_t *out)
{
	if (v->kind != AT_JSON_STRING)
		return at_fail(env, AT_ESYNTAX, "%s in journey text must be a time string", where);
	if (at_time_parse(env, v->str.p, v->str.len, out) != AT_OK)
		return locate(env, where);
	return AT_OK;
}

static at_status
text_context(at_env *env, const at_json *o, at_context *c)
{
	const at_json *stages = NULL;
	uint32_t	seen = 0;
	char		q[64];
	at_status	st;

	if (o->kind != AT_JSON_OBJECT)
		return at_fail(env, AT_ESYNTAX, "\"context\" in journey text must be an object");
	for (uint32_t i = 0; i < o->n; i++)
	{
		static const char *const keys[6] = {"created_at", "closed_at", "lead_created_at",
		"as_of", "status", "stages"};
		const at_json *v = &o->items[i];
		int			k = 0;

		while (k < 6 && !key_is(&o->keys[i], keys[k]))
			k++;
		if (k == 6)
		{
			at_fail(env, AT_ESYNTAX, "unknown key %s in journey context",
					quoted(q, o->keys[i].p, o->keys[i].len));
			return at_hint(env, "The context keys are status, created_at, closed_at, "
						   "lead_created_at, as_of and stages.");
		}
		if (seen & (1u << k))
			return at_fail(env, AT_ESYNTAX, "duplicate key \"%s\" in journey context", keys[k]);
		seen |= 1u << k;
		if (k < 4)
		{
			char		where[40];

			snprintf(where, sizeof(where), "context \"%s\"", keys[k]);
			if ((st = text_time(env, v, where, ctx_time(c, k))) != AT_OK)
				return st;
			c->has |= 1 << k;
		}
		else if (k == 4)
		{
			if (v->kind == AT_JSON_STRING && strcmp(v->str.p, "won") == 0)
				c->outcome = AT_OUTCOME_WON;
			else if (v->kind == AT_JSON_STRING && strcmp(v->str.p, "open") == 0)
				c->outcome = AT_OUTCOME_OPEN;
			else if (v->kind == AT_JSON_STRING && strcmp(v->str.p, "lost") == 0)
				c->outcome = AT_OUTCOME_LOST;
			else
				return at_fail(env, AT_ESYNTAX, "context \"status\" in journey text must be "
							   "\"won\", \"open\" or \"lost\"");
		}
		else
			stages = v;
	}
	if (c->outcome == AT_OUTCOME_NONE)
		return at_fail(env, AT_ESYNTAX, "journey context has no \"status\"");
	if (stages == NULL)
		return AT_OK;
	if (stages->kind != AT_JSON_OBJECT)
		return at_fail(env, AT_ESYNTAX, "context \"stages\" in journey text must be an object");
	if (stages->n > AT_MAX_STAGES)
		return at_fail(env, AT_ELIMIT, "journey context has %u stages, more than the limit of %d",
					   stages->n, AT_MAX_STAGES);
	c->stages = at_alloc(env, (size_t) stages->n * sizeof(at_stage));
	if (c->stages == NULL)
		return AT_ENOMEM;
	for (uint32_t k = 0; k < stages->n; k++)
	{
		at_stage   *sg = &c->stages[k];
		char		where[80];

		if ((st = check_name(env, AT_ESYNTAX, "stage name in journey context",
							 stages->keys[k].p, stages->keys[k].len)) != AT_OK)
			return st;
		sg->name = stages->keys[k];
		for (uint32_t e = 0; e < k; e++)
			if (cmp_bytes(c->stages[e].name.p, c->stages[e].name.len,
						  sg->name.p, sg->name.len) == 0)
				return at_fail(env, AT_ESYNTAX, "stage %s appears twice in journey context",
							   quoted(q, sg->name.p, sg->name.len));
		snprintf(where, sizeof(where), "stage %s", quoted(q, sg->name.p, sg->name.len));
		if ((st = text_time(env, &stages->items[k], where, &sg->at)) != AT_OK)
			return st;
		c->nstages++;
	}
	return AT_OK;
}

at_status
at_journey_from_text(at_env *env, const char *text, size_t len, at_journey *out)
{
	at_json    *root;
	const at_json *touches = NULL,
			   *context = NULL;
	at_builder	b;
	at_status	st;
	char		q[64];

	memset(out, 0, sizeof(*out));
	if ((st = at_json_parse(env, text, len, &root)) != AT_OK)
		return st;
	if (root->kind != AT_JSON_OBJECT)
		return at_fail(env, AT_ESYNTAX, "journey text must be a JSON object");
	for (uint32_t i = 0; i < root->n; i++)
	{
		const at_json **slot = key_is(&root->keys[i], "touches") ? &touches :
			key_is(&root->keys[i], "context") ? &context : NULL;

		if (slot == NULL)
		{
			at_fail(env, AT_ESYNTAX, "unknown key %s in journey text",
					quoted(q, root->keys[i].p, root->keys[i].len));
			return at_hint(env, "A journey is {\"touches\": [...], \"context\": {...}}.");
		}
		if (*slot != NULL)
			return at_fail(env, AT_ESYNTAX, "duplicate key \"%s\" in journey text",
						   root->keys[i].p);
		*slot = &root->items[i];
	}
	if (touches == NULL)
		return at_fail(env, AT_ESYNTAX, "journey text has no \"touches\"");
	if (touches->kind != AT_JSON_ARRAY)
		return at_fail(env, AT_ESYNTAX, "\"touches\" in journey text must be an array");
	at_builder_init(&b);
	for (uint32_t i = 0; i < touches->n; i++)
	{
		const at_json *t = &touches->items[i];
		char		where[40];
		int64_t		at;

		if (POLL(env, i))
			return AT_ECANCELED;
		snprintf(where, sizeof(where), "touches[%u]", i);
		if (t->kind != AT_JSON_ARRAY || t->n != 3 || t->items[0].kind != AT_JSON_STRING ||
			t->items[1].kind != AT_JSON_STRING || t->items[2].kind != AT_JSON_STRING)
		{
			at_fail(env, AT_ESYNTAX, "%s in journey text must be an array of three strings",
					where);
			return at_hint(env, "Write each touch as [\"id\", \"2024-01-05T10:00:00Z\", \"channel\"].");
		}
		if ((st = text_time(env, &t->items[1], where, &at)) != AT_OK)
			return st;
		if ((st = at_builder_add(env, &b, t->items[0].str.p, t->items[0].str.len, at,
								 t->items[2].str.p, t->items[2].str.len)) != AT_OK)
			return locate(env, where);
	}
	if ((st = at_builder_finish(env, &b, out)) != AT_OK)
		return st;
	if (context != NULL)
	{
		if ((st = text_context(env, context, &out->ctx)) != AT_OK)
			return st;
		out->has_context = true;
	}
	return AT_OK;
}
