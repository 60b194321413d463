/*
 * dd_util.c — building blocks of the data-driven models: hashed dictionaries of
 * names, tuples and pairs, a stable sort, the little-endian byte writer and
 * reader with the format checksum, and JSON text helpers.
 */
#include "dd_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

at_status
dd_grow(at_env *env, void **p, uint32_t *cap, size_t need, size_t elem)
{
	size_t		newcap;
	void	   *n;

	if (need <= *cap)
		return AT_OK;
	if (need > UINT32_MAX || need > DD_MAX_ALLOC / elem)
	{
		at_fail(env, AT_ELIMIT, "data-driven model too large");
		return at_detail(env, "A table of the model would need %zu entries of %zu bytes; "
						 "the limit is %zu bytes.", need, elem, DD_MAX_ALLOC);
	}
	newcap = *cap < 16 ? 16 : (size_t) *cap * 2;
	if (newcap < need)
		newcap = need;
	if (newcap > UINT32_MAX)
		newcap = UINT32_MAX;
	if (newcap > DD_MAX_ALLOC / elem)
		newcap = DD_MAX_ALLOC / elem;
	n = at_realloc(env, *p, (size_t) *cap * elem, newcap * elem);
	if (n == NULL)
		return AT_ENOMEM;
	*p = n;
	*cap = (uint32_t) newcap;
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* Hashing                                                              */
/* ------------------------------------------------------------------ */

#define MIX1 0x9e3779b97f4a7c15ULL
#define MIX2 0xbf58476d1ce4e5b9ULL

static uint64_t
finish(uint64_t h)
{
	h ^= h >> 31;
	h *= MIX2;
	h ^= h >> 29;
	return h;
}

static uint64_t
load_le(const uint8_t *p, size_t n)
{
	uint64_t	w = 0;

	for (size_t i = 0; i < n; i++)
		w |= (uint64_t) p[i] << (8 * i);
	return w;
}

static uint64_t
hash_step(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= MIX1;
	return h ^ (h >> 32);
}

uint64_t
dd_hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t	h = 0x243f6a8885a308d3ULL ^ n;

	while (n >= 8)
	{
		h = hash_step(h, load_le(b, 8));
		b += 8;
		n -= 8;
	}
	if (n > 0)
		h = hash_step(h, load_le(b, n) | (1ULL << 63));
	return finish(h);
}

uint64_t
dd_hash_u32s(const uint32_t *p, uint32_t n)
{
	uint64_t	h = 0x13198a2e03707344ULL ^ n;
	uint32_t	i = 0;

	for (; i + 1 < n; i += 2)
		h = hash_step(h, (uint64_t) p[i] | (uint64_t) p[i + 1] << 32);
	if (i < n)
		h = hash_step(h, (uint64_t) p[i] | (1ULL << 63));
	return finish(h);
}

uint64_t
dd_checksum(const uint8_t *data, size_t len)
{
	uint64_t	a = dd_hash_bytes(data, len < 16 ? len : 16);

	if (len <= 24)
		return a;
	return finish(a ^ dd_hash_bytes(data + 24, len - 24) * MIX1);
}

at_status
dd_add_count(at_env *env, uint64_t *count, uint64_t add)
{
	if (add > AT_DD_MAX_COUNT || *count > AT_DD_MAX_COUNT - add)
	{
		at_fail(env, AT_ELIMIT, "count overflow in a data-driven model");
		return at_detail(env, "A count would pass %lld.", (long long) AT_DD_MAX_COUNT);
	}
	*count += add;
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* Open-addressing tables                                               */
/* ------------------------------------------------------------------ */

/*
 * Slots hold index + 1 (0 = empty) and are kept at most half full; rebuilding
 * rehashes every entry through the caller's hash of entry i.
 */
typedef uint64_t (*entry_hash) (const void *table, uint32_t i);

static at_status
rebuild(at_env *env, uint32_t **slots, uint32_t *nslots, uint32_t n, const void *table,
		entry_hash hash)
{
	uint32_t	want = 16;
	uint32_t   *s;

	while ((uint64_t) want < 2 * (uint64_t) (n + 1))
	{
		if (want >= (1u << 31))
			return at_fail(env, AT_ELIMIT, "data-driven model too large");
		want *= 2;
	}
	s = at_alloc(env, (size_t) want * sizeof(uint32_t));
	if (s == NULL)
		return AT_ENOMEM;
	memset(s, 0, (size_t) want * sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++)
	{
		uint32_t	k = (uint32_t) hash(table, i) & (want - 1);

		while (s[k] != 0)
			k = (k + 1) & (want - 1);
		s[k] = i + 1;
	}
	*slots = s;
	*nslots = want;
	return AT_OK;
}

static uint64_t
name_hash(const void *table, uint32_t i)
{
	const dd_names *d = table;

	return dd_hash_bytes(DD_NAME(d, i), d->ent[i].len);
}

/* put entry n - 1 (hash h) into the slots, rebuilding them when half full */
static at_status
insert_slot(at_env *env, uint32_t **slots, uint32_t *nslots, uint32_t n, uint64_t h,
			const void *table, entry_hash hash)
{
	uint32_t	k;

	if ((uint64_t) 2 * n > *nslots)
		return rebuild(env, slots, nslots, n, table, hash);
	k = (uint32_t) h & (*nslots - 1);
	while ((*slots)[k] != 0)
		k = (k + 1) & (*nslots - 1);
	(*slots)[k] = n;
	return AT_OK;
}

int64_t
dd_names_find(const dd_names *d, const char *p, uint32_t len)
{
	uint32_t	k;

	if (d->nslots == 0)
		return -1;
	k = (uint32_t) dd_hash_bytes(p, len) & (d->nslots - 1);
	while (d->slots[k] != 0)
	{
		uint32_t	i = d->slots[k] - 1;

		if (d->ent[i].len == len && memcmp(DD_NAME(d, i), p, len) == 0)
			return i;
		k = (k + 1) & (d->nslots - 1);
	}
	return -1;
}

at_status
dd_names_add(at_env *env, dd_names *d, const char *p, uint32_t len, uint32_t *idx,
			 bool *added)
{
	int64_t		f = dd_names_find(d, p, len);
	at_status	st;

	if (added)
		*added = f < 0;
	if (f >= 0)
	{
		*idx = (uint32_t) f;
		return AT_OK;
	}
	if ((st = dd_grow(env, (void **) &d->ent, &d->cap, (size_t) d->n + 1, sizeof(dd_span))) != AT_OK)
		return st;
	if ((st = dd_grow(env, (void **) &d->pool, &d->pool_cap, (size_t) d->pool_len + len + 1,
					  1)) != AT_OK)
		return st;
	if (len > 0)
		memcpy(d->pool + d->pool_len, p, len);
	d->ent[d->n].off = d->pool_len;
	d->ent[d->n].len = len;
	d->pool_len += len;
	d->n++;
	*idx = d->n - 1;
	return insert_slot(env, &d->slots, &d->nslots, d->n, dd_hash_bytes(p, len), d, name_hash);
}

static uint64_t
tuple_hash(const void *table, uint32_t i)
{
	const dd_tuples *d = table;

	return dd_hash_u32s(DD_TUPLE(d, i), d->ent[i].len);
}

int64_t
dd_tuples_find(const dd_tuples *d, const uint32_t *t, uint32_t len)
{
	uint32_t	k;

	if (d->nslots == 0)
		return -1;
	k = (uint32_t) dd_hash_u32s(t, len) & (d->nslots - 1);
	while (d->slots[k] != 0)
	{
		uint32_t	i = d->slots[k] - 1;

		if (d->ent[i].len == len &&
			(len == 0 || memcmp(DD_TUPLE(d, i), t, (size_t) len * sizeof(uint32_t)) == 0))
			return i;
		k = (k + 1) & (d->nslots - 1);
	}
	return -1;
}

at_status
dd_tuples_add(at_env *env, dd_tuples *d, const uint32_t *t, uint32_t len, uint32_t *idx,
			  bool *added)
{
	int64_t		f = dd_tuples_find(d, t, len);
	at_status	st;

	if (added)
		*added = f < 0;
	if (f >= 0)
	{
		*idx = (uint32_t) f;
		return AT_OK;
	}
	if ((st = dd_grow(env, (void **) &d->ent, &d->cap, (size_t) d->n + 1, sizeof(dd_span))) != AT_OK)
		return st;
	if ((st = dd_grow(env, (void **) &d->pool, &d->pool_cap, (size_t) d->pool_len + len + 1,
					  sizeof(uint32_t))) != AT_OK)
		return st;
	if (len > 0)
		memcpy(d->pool + d->pool_len, t, (size_t) len * sizeof(uint32_t));
	d->ent[d->n].off = d->pool_len;
	d->ent[d->n].len = len;
	d->pool_len += len;
	d->n++;
	*idx = d->n - 1;
	return insert_slot(env, &d->slots, &d->nslots, d->n, dd_hash_u32s(t, len), d, tuple_hash);
}

static uint64_t
pair_key_hash(uint64_t key)
{
	return finish(key * MIX1);
}

static uint64_t
pair_hash(const void *table, uint32_t i)
{
	const dd_pairs *d = table;

	return pair_key_hash(d->ent[i].key);
}

at_status
dd_pairs_add(at_env *env, dd_pairs *d, uint32_t a, uint32_t b, uint64_t count, bool *added)
{
	uint64_t	key = (uint64_t) a << 32 | b;
	uint64_t	h = pair_key_hash(key);
	at_status	st;

	if (d->nslots > 0)
	{
		uint32_t	k = (uint32_t) h & (d->nslots - 1);

		while (d->slots[k] != 0)
		{
			uint32_t	i = d->slots[k] - 1;

			if (d->ent[i].key == key)
			{
				if (added)
					*added = false;
				return dd_add_count(env, &d->ent[i].count, count);
			}
			k = (k + 1) & (d->nslots - 1);
		}
	}
	if (added)
		*added = true;
	if (count > AT_DD_MAX_COUNT)
	{
		uint64_t	zero = 0;

		return dd_add_count(env, &zero, count);
	}
	if ((st = dd_grow(env, (void **) &d->ent, &d->cap, (size_t) d->n + 1, sizeof(dd_pair))) != AT_OK)
		return st;
	d->ent[d->n].key = key;
	d->ent[d->n].count = count;
	d->n++;
	return insert_slot(env, &d->slots, &d->nslots, d->n, h, d, pair_hash);
}

/* ------------------------------------------------------------------ */
/* Sorting and comparing                                                */
/* ------------------------------------------------------------------ */

at_status
dd_sort(at_env *env, uint32_t *idx, uint32_t n, dd_cmp cmp, const void *ctx)
{
	uint32_t   *tmp,
			   *src = idx,
			   *dst;
	uint32_t	polls = 0;

	if (n < 2)
		return AT_OK;
	tmp = at_alloc(env, (size_t) n * sizeof(uint32_t));
	if (tmp == NULL)
		return AT_ENOMEM;
	dst = tmp;
	/* bottom-up: insertion-sorted runs of 16, then merges */
	for (uint32_t lo = 0; lo < n; lo += 16)
	{
		uint32_t	hi = lo + 16 < n ? lo + 16 : n;

		for (uint32_t i = lo + 1; i < hi; i++)
		{
			uint32_t	v = src[i],
						k = i;

			while (k > lo && cmp(ctx, src[k - 1], v) > 0)
			{
				src[k] = src[k - 1];
				k--;
			}
			src[k] = v;
		}
	}
	for (uint32_t width = 16; width < n; width *= 2)
	{
		for (uint32_t lo = 0; lo < n; lo += 2 * width)
		{
			uint32_t	mid = lo + width < n ? lo + width : n;
			uint32_t	hi = lo + 2 * width < n ? lo + 2 * width : n;
			uint32_t	a = lo,
						b = mid,
						o = lo;

			if ((++polls & 63) == 0 && at_interrupted(env))
				return AT_ECANCELED;
			while (a < mid && b < hi)
				dst[o++] = cmp(ctx, src[b], src[a]) < 0 ? src[b++] : src[a++];
			while (a < mid)
				dst[o++] = src[a++];
			while (b < hi)
				dst[o++] = src[b++];
		}
		{
			uint32_t   *t = src;

			src = dst;
			dst = t;
		}
		if (width > UINT32_MAX / 4)
			break;
	}
	if (src != idx)
		memcpy(idx, src, (size_t) n * sizeof(uint32_t));
	return AT_OK;
}

int
dd_cmp_bytes(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
	int			c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

int
dd_cmp_u32s(const uint32_t *a, uint32_t alen, const uint32_t *b, uint32_t blen)
{
	uint32_t	n = alen < blen ? alen : blen;

	for (uint32_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

int64_t
dd_find_sorted(const at_str *channels, uint32_t n, const char *p, uint32_t len)
{
	uint32_t	lo = 0,
				hi = n;

	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;
		int			c = dd_cmp_bytes(channels[mid].p, channels[mid].len, p, len);

		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Bytes                                                                */
/* ------------------------------------------------------------------ */

void
dd_put_u8(dd_writer *w, uint32_t v)
{
	w->p[w->len++] = (uint8_t) v;
}

void
dd_put_u32(dd_writer *w, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		w->p[w->len++] = (uint8_t) (v >> (8 * i));
}

void
dd_put_u64(dd_writer *w, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		w->p[w->len++] = (uint8_t) (v >> (8 * i));
}

void
dd_put_bytes(dd_writer *w, const void *p, size_t n)
{
	if (n > 0)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

bool
dd_get_u8(dd_reader *r, uint32_t *v)
{
	if (r->left < 1)
		return false;
	*v = r->p[0];
	r->p++;
	r->left--;
	return true;
}

bool
dd_get_u32(dd_reader *r, uint32_t *v)
{
	if (r->left < 4)
		return false;
	*v = (uint32_t) load_le(r->p, 4);
	r->p += 4;
	r->left -= 4;
	return true;
}

bool
dd_get_u64(dd_reader *r, uint64_t *v)
{
	if (r->left < 8)
		return false;
	*v = load_le(r->p, 8);
	r->p += 8;
	r->left -= 8;
	return true;
}

const char *
dd_bad_name(const char *p, uint32_t len)
{
	if (len == 0)
		return "an empty channel name";
	if (len > AT_MAX_ID_LEN)
		return "a channel name longer than the limit";
	if (memchr(p, '\0', len) != NULL)
		return "a channel name with a NUL byte";
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Text                                                                 */
/* ------------------------------------------------------------------ */

static at_status
text_reserve(dd_text *t, size_t n)
{
	size_t		need = t->len + n + 1,
				newcap;
	char	   *p;

	if (need <= t->cap)
		return AT_OK;
	if (need > DD_MAX_ALLOC - 8)
		return at_fail(t->env, AT_ELIMIT, "model text would be longer than %zu bytes",
					   DD_MAX_ALLOC - 8);
	newcap = t->cap < 256 ? 256 : t->cap * 2;
	if (newcap < need)
		newcap = need;
	if (newcap > DD_MAX_ALLOC)
		newcap = DD_MAX_ALLOC;
	p = at_realloc(t->env, t->p, t->cap, newcap);
	if (p == NULL)
		return AT_ENOMEM;
	t->p = p;
	t->cap = newcap;
	return AT_OK;
}

at_status
dd_text_put(dd_text *t, const char *s)
{
	size_t		n = strlen(s);
	at_status	st = text_reserve(t, n);

	if (st != AT_OK)
		return st;
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
	return AT_OK;
}

at_status
dd_text_string(dd_text *t, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	at_status	st = text_reserve(t, 6 * len + 2);

	if (st != AT_OK)
		return st;
	t->p[t->len++] = '"';
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '"' || c == '\\')
		{
			t->p[t->len++] = '\\';
			t->p[t->len++] = (char) c;
		}
		else if (c < 0x20)
		{
			memcpy(t->p + t->len, "\\u00", 4);
			t->p[t->len + 4] = hex[c >> 4];
			t->p[t->len + 5] = hex[c & 15];
			t->len += 6;
		}
		else
			t->p[t->len++] = (char) c;
	}
	t->p[t->len++] = '"';
	t->p[t->len] = '\0';
	return AT_OK;
}

at_status
dd_text_u64(dd_text *t, uint64_t v)
{
	char		buf[24];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long) v);
	return dd_text_put(t, buf);
}

bool
dd_json_u64(const at_json *v, uint64_t *out)
{
	uint64_t	x = 0;

	if (v->kind != AT_JSON_NUMBER || v->str.len == 0)
		return false;
	for (uint32_t i = 0; i < v->str.len; i++)
	{
		char		c = v->str.p[i];

		if (c < '0' || c > '9')
			return false;
		if (x > (UINT64_MAX - (uint64_t) (c - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t) (c - '0');
	}
	*out = x;
	return true;
}

bool
dd_key_is(const at_str *k, const char *name)
{
	return k->len == strlen(name) && memcmp(k->p, name, k->len) == 0;
}

at_status
dd_bad(at_env *env, at_status st, const char *prefix, const char *fmt,...)
{
	char		msg[AT_MSG_LEN];
	va_list		ap;

	va_start(ap, fmt);
	if (vsnprintf(msg, sizeof(msg), fmt, ap) < 0)
		msg[0] = '\0';
	va_end(ap);
	return at_fail(env, st, "%s: %s", prefix, msg);
}

const char *
dd_shown(const char *p, size_t len, char *buf, size_t bufsize)
{
	size_t		n = len < bufsize - 4 ? len : bufsize - 4;

	memcpy(buf, p, n);
	if (n < len)
		memcpy(buf + n, "...", 4);
	else
		buf[n] = '\0';
	return buf;
}
