/*
 * shapley.c — exact Shapley values over journeys' channel sets: the fit
 * (journeys and conversions per exact channel set, a "coalition"), its byte
 * and text forms, and the values.
 *
 * v(S) = conversions / journeys over the journeys whose set of unique channels
 * is exactly S, 0 when S was never observed (the empty set counts when
 * journeys without touches were fitted).  The Shapley value of i in N is
 *   phi_i = sum_{S in N \ i} w(|S|) (v(S + i) - v(S)),  w(s) = s! (n-s-1)! / n!
 * which regroups over the observed subsets T of N with v(T) > 0 only:
 *   phi_i = sum_{T in N, i in T} w(|T|-1) v(T) - sum_{T in N, i not in T} w(|T|) v(T).
 * So the cost is the number of observed subsets, not 2^n: they are found by
 * enumerating the subsets of N when that is cheaper, else by scanning the
 * observed coalitions.  Journeys may hold up to AT_SHAPLEY_MAX_CHANNELS unique
 * channels; w(s) = 1 / (n C(n-1, s)) stays a normal double well beyond that.
 *
 * Byte form (little-endian), version 1:
 *   u8 'S', u8 version, u8 0, u8 flags (0), u32 nchannels, u32 ncoalitions,
 *   u32 0, u64 checksum,
 *   nchannels x (u32 length, bytes)                        sorted, unique
 *   ncoalitions x (u32 size, size x u32 channel ascending, u64 journeys,
 *                  u64 conversions)                        sorted, unique
 * Text form: {"type":"shapley","version":1,"journeys":J,"conversions":C,
 *   "coalitions":[[[names...],journeys,conversions],...]}.
 */
#include "dd_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct coal_stat
{
	uint64_t	journeys;
	uint64_t	conversions;
} coal_stat;

struct at_shapley_fit
{
	dd_names	channels;
	dd_tuples	coalitions;		/* sorted fit channel ids */
	coal_stat  *stat;
	uint32_t	stat_cap;
	uint32_t   *map;			/* scratch */
	uint32_t	map_cap;
	uint32_t   *set;
	uint32_t	set_cap;
};

at_status
at_shapley_fit_create(at_env *env, at_shapley_fit **out)
{
	at_shapley_fit *f = at_alloc(env, sizeof(*f));

	if (f == NULL)
		return AT_ENOMEM;
	memset(f, 0, sizeof(*f));
	*out = f;
	return AT_OK;
}

static void
sort_u32(uint32_t *a, uint32_t n)
{
	/* sets are small; insertion sort below 32, else a shell sort */
	uint32_t	gap = n < 32 ? 1 : n / 3;

	for (;;)
	{
		for (uint32_t i = gap; i < n; i++)
		{
			uint32_t	v = a[i],
						k = i;

			while (k >= gap && a[k - gap] > v)
			{
				a[k] = a[k - gap];
				k -= gap;
			}
			a[k] = v;
		}
		if (gap == 1)
			break;
		gap = gap / 3 > 1 ? gap / 3 : 1;
	}
}

static at_status
too_many(at_env *env, uint32_t n)
{
	at_fail(env, AT_ELIMIT, "journey has too many unique channels for exact Shapley values");
	at_detail(env, "The journey has %u unique channels; the limit is %d.", n,
			  AT_SHAPLEY_MAX_CHANNELS);
	return at_hint(env, "Group channels more coarsely, or leave such journeys out of the fit.");
}

/* add `count` journeys with set[0..n) (sorted fit ids) */
static at_status
add_coalition(at_env *env, at_shapley_fit *f, const uint32_t *set, uint32_t n,
			  uint64_t journeys, uint64_t conversions)
{
	uint32_t	id;
	bool		added;
	at_status	st;

	if ((st = dd_tuples_add(env, &f->coalitions, set, n, &id, &added)) != AT_OK)
		return st;
	if (added)
	{
		if ((st = dd_grow(env, (void **) &f->stat, &f->stat_cap, f->coalitions.n,
						  sizeof(coal_stat))) != AT_OK)
			return st;
		f->stat[id].journeys = f->stat[id].conversions = 0;
	}
	if ((st = dd_add_count(env, &f->stat[id].journeys, journeys)) != AT_OK)
		return st;
	return dd_add_count(env, &f->stat[id].conversions, conversions);
}

at_status
at_shapley_fit_add(at_env *env, at_shapley_fit *f, const at_journey *j, bool converted)
{
	uint32_t	nch = j->nchannels,
				n = 0;
	at_status	st;

	if ((st = dd_grow(env, (void **) &f->map, &f->map_cap, (size_t) nch + 1,
					  sizeof(uint32_t))) != AT_OK ||
		(st = dd_grow(env, (void **) &f->set, &f->set_cap, (size_t) nch + 1,
					  sizeof(uint32_t))) != AT_OK)
		return st;
	for (uint32_t k = 0; k < nch; k++)
		f->map[k] = 0;			/* touched? */
	for (uint32_t i = 0; i < j->ntouches; i++)
	{
		if (DD_POLL(env, i))
			return AT_ECANCELED;
		f->map[j->touches[i].channel] = 1;
	}
	for (uint32_t k = 0; k < nch; k++)
		if (f->map[k])
			n++;
	if (n > AT_SHAPLEY_MAX_CHANNELS)
		return too_many(env, n);
	n = 0;
	for (uint32_t k = 0; k < nch; k++)
	{
		if (!f->map[k])
			continue;
		if ((st = dd_names_add(env, &f->channels, j->channels[k].p, j->channels[k].len,
							   &f->set[n], NULL)) != AT_OK)
			return st;
		n++;
	}
	sort_u32(f->set, n);
	return add_coalition(env, f, f->set, n, 1, converted ? 1 : 0);
}

at_status
at_shapley_fit_add_counts(at_env *env, at_shapley_fit *f, const at_shapley_counts *c)
{
	at_status	st;
	uint32_t	maxset = 0;

	for (uint32_t k = 0; k < c->ncoalitions; k++)
		if (c->off[k + 1] - c->off[k] > maxset)
			maxset = c->off[k + 1] - c->off[k];
	if ((st = dd_grow(env, (void **) &f->map, &f->map_cap, (size_t) c->nchannels + 1,
					  sizeof(uint32_t))) != AT_OK ||
		(st = dd_grow(env, (void **) &f->set, &f->set_cap, (size_t) maxset + 1,
					  sizeof(uint32_t))) != AT_OK)
		return st;
	for (uint32_t k = 0; k < c->nchannels; k++)
	{
		if (DD_POLL(env, k))
			return AT_ECANCELED;
		if ((st = dd_names_add(env, &f->channels, c->channels[k].p, c->channels[k].len,
							   &f->map[k], NULL)) != AT_OK)
			return st;
	}
	for (uint32_t k = 0; k < c->ncoalitions; k++)
	{
		uint32_t	n = c->off[k + 1] - c->off[k];

		if (DD_POLL(env, k))
			return AT_ECANCELED;
		for (uint32_t i = 0; i < n; i++)
			f->set[i] = f->map[c->members[c->off[k] + i]];
		sort_u32(f->set, n);
		if ((st = add_coalition(env, f, f->set, n, c->journeys[k], c->conversions[k])) != AT_OK)
			return st;
	}
	return AT_OK;
}

typedef struct sort_ctx
{
	const dd_names *names;
	const uint32_t *members;
	const uint32_t *off;
} sort_ctx;

static int
cmp_name(const void *ctx, uint32_t a, uint32_t b)
{
	const dd_names *d = ((const sort_ctx *) ctx)->names;

	return dd_cmp_bytes(DD_NAME(d, a), d->ent[a].len, DD_NAME(d, b), d->ent[b].len);
}

static int
cmp_coalition(const void *ctx, uint32_t a, uint32_t b)
{
	const sort_ctx *x = ctx;

	return dd_cmp_u32s(x->members + x->off[a], x->off[a + 1] - x->off[a],
					   x->members + x->off[b], x->off[b + 1] - x->off[b]);
}

at_status
at_shapley_fit_counts(at_env *env, const at_shapley_fit *f, at_shapley_counts *out)
{
	uint32_t	nch = f->channels.n,
				nc = f->coalitions.n,
				total = f->coalitions.pool_len;
	uint32_t   *perm = at_alloc(env, sizeof(uint32_t) * (nch + 1));
	uint32_t   *newch = at_alloc(env, sizeof(uint32_t) * (nch + 1));
	uint32_t   *members = at_alloc(env, sizeof(uint32_t) * ((size_t) total + 1));
	uint32_t   *off = at_alloc(env, sizeof(uint32_t) * ((size_t) nc + 1));
	uint32_t   *cperm = at_alloc(env, sizeof(uint32_t) * ((size_t) nc + 1));
	sort_ctx	ctx = {&f->channels, members, off};
	at_status	st;

	memset(out, 0, sizeof(*out));
	if (!perm || !newch || !members || !off || !cperm)
		return AT_ENOMEM;
	out->nchannels = nch;
	out->ncoalitions = nc;
	out->channels = at_alloc(env, sizeof(at_str) * (nch + 1));
	out->off = at_alloc(env, sizeof(uint32_t) * ((size_t) nc + 1));
	out->members = at_alloc(env, sizeof(uint32_t) * ((size_t) total + 1));
	out->journeys = at_alloc(env, sizeof(uint64_t) * ((size_t) nc + 1));
	out->conversions = at_alloc(env, sizeof(uint64_t) * ((size_t) nc + 1));
	if (!out->channels || !out->off || !out->members || !out->journeys || !out->conversions)
		return AT_ENOMEM;
	for (uint32_t i = 0; i < nch; i++)
		perm[i] = i;
	if ((st = dd_sort(env, perm, nch, cmp_name, &ctx)) != AT_OK)
		return st;
	for (uint32_t i = 0; i < nch; i++)
	{
		newch[perm[i]] = i;
		out->channels[i].p = DD_NAME(&f->channels, perm[i]);
		out->channels[i].len = f->channels.ent[perm[i]].len;
	}
	total = 0;
	for (uint32_t k = 0; k < nc; k++)
	{
		const uint32_t *t = DD_TUPLE(&f->coalitions, k);
		uint32_t	n = f->coalitions.ent[k].len;

		if (DD_POLL(env, k))
			return AT_ECANCELED;
		off[k] = total;
		for (uint32_t i = 0; i < n; i++)
			members[total + i] = newch[t[i]];
		sort_u32(members + total, n);
		total += n;
		cperm[k] = k;
	}
	off[nc] = total;
	if ((st = dd_sort(env, cperm, nc, cmp_coalition, &ctx)) != AT_OK)
		return st;
	total = 0;
	for (uint32_t i = 0; i < nc; i++)
	{
		uint32_t	k = cperm[i],
					n = off[k + 1] - off[k];

		if (DD_POLL(env, i))
			return AT_ECANCELED;

		out->off[i] = total;
		memcpy(out->members + total, members + off[k], sizeof(uint32_t) * n);
		total += n;
		out->journeys[i] = f->stat[k].journeys;
		out->conversions[i] = f->stat[k].conversions;
		if ((st = dd_add_count(env, &out->total_journeys, out->journeys[i])) != AT_OK ||
			(st = dd_add_count(env, &out->total_conversions, out->conversions[i])) != AT_OK)
			return st;
	}
	out->off[nc] = total;
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* Bytes                                                                */
/* ------------------------------------------------------------------ */

at_status
at_shapley_encode(at_env *env, const at_shapley_counts *c, uint8_t **out, size_t *len)
{
	size_t		size = DD_HEADER;
	dd_writer	w;

	for (uint32_t i = 0; i < c->nchannels; i++)
		size += 4 + (size_t) c->channels[i].len;
	size += (size_t) c->ncoalitions * 20 + (size_t) c->off[c->ncoalitions] * 4;
	if (size > DD_MAX_ALLOC - 8)
	{
		at_fail(env, AT_ELIMIT, "shapley model too large to store");
		return at_detail(env, "The model of %u channel sets needs %zu bytes; "
						 "a value is limited to 1 GB.", c->ncoalitions, size);
	}
	w.p = at_alloc(env, size);
	w.len = 0;
	if (w.p == NULL)
		return AT_ENOMEM;
	dd_put_u8(&w, DD_SHAPLEY_MAGIC);
	dd_put_u8(&w, DD_VERSION);
	dd_put_u8(&w, 0);
	dd_put_u8(&w, 0);
	dd_put_u32(&w, c->nchannels);
	dd_put_u32(&w, c->ncoalitions);
	dd_put_u32(&w, 0);
	dd_put_u64(&w, 0);
	for (uint32_t i = 0; i < c->nchannels; i++)
	{
		dd_put_u32(&w, c->channels[i].len);
		dd_put_bytes(&w, c->channels[i].p, c->channels[i].len);
	}
	for (uint32_t k = 0; k < c->ncoalitions; k++)
	{
		if (DD_POLL(env, k))
			return AT_ECANCELED;
		dd_put_u32(&w, c->off[k + 1] - c->off[k]);
		for (uint32_t i = c->off[k]; i < c->off[k + 1]; i++)
			dd_put_u32(&w, c->members[i]);
		dd_put_u64(&w, c->journeys[k]);
		dd_put_u64(&w, c->conversions[k]);
	}
	{
		dd_writer	h = {w.p, 16};

		dd_put_u64(&h, dd_checksum(w.p, w.len));
	}
	*out = w.p;
	*len = w.len;
	return AT_OK;
}

/* totals, and every channel in some coalition */
static at_status
check_model(at_env *env, at_shapley_counts *c, at_status bad, const char *prefix)
{
	uint8_t    *used = at_alloc(env, (size_t) c->nchannels + 1);

	if (used == NULL)
		return AT_ENOMEM;
	memset(used, 0, (size_t) c->nchannels + 1);
	c->total_journeys = c->total_conversions = 0;
	for (uint32_t k = 0; k < c->ncoalitions; k++)
	{
		if (DD_POLL(env, k))
			return AT_ECANCELED;
		if (dd_add_count(env, &c->total_journeys, c->journeys[k]) != AT_OK ||
			dd_add_count(env, &c->total_conversions, c->conversions[k]) != AT_OK)
			return dd_bad(env, bad, prefix, "the journey counts overflow");
		for (uint32_t i = c->off[k]; i < c->off[k + 1]; i++)
			used[c->members[i]] = 1;
	}
	if (c->ncoalitions == 0)
		return dd_bad(env, bad, prefix, "no channel set");
	for (uint32_t ch = 0; ch < c->nchannels; ch++)
		if (!used[ch])
			return dd_bad(env, bad, prefix, "channel %u is in no channel set", ch);
	return AT_OK;
}

#define CORRUPT(env, ...) dd_bad((env), AT_ECORRUPT, "corrupt shapley model", __VA_ARGS__)

at_status
at_shapley_decode(at_env *env, const uint8_t *data, size_t len, at_shapley_counts *c)
{
	dd_reader	r = {data, len};
	uint32_t	magic,
				version,
				pad,
				flags,
				reserved,
				total = 0;
	uint64_t	sum;
	const char *why;

	memset(c, 0, sizeof(*c));
	if (data == NULL || len < DD_HEADER)
		return CORRUPT(env, "%zu bytes is too short", len);
	if (len > DD_MAX_ALLOC)
		return CORRUPT(env, "%zu bytes is too long", len);
	dd_get_u8(&r, &magic);
	dd_get_u8(&r, &version);
	dd_get_u8(&r, &pad);
	dd_get_u8(&r, &flags);
	if (magic != DD_SHAPLEY_MAGIC)
		return CORRUPT(env, "not a shapley model (leading byte 0x%02x)", magic);
	if (version != DD_VERSION)
		return CORRUPT(env, "unsupported format version %u", version);
	if (pad != 0 || flags != 0)
		return CORRUPT(env, "unknown flags 0x%02x%02x", pad, flags);
	dd_get_u32(&r, &c->nchannels);
	dd_get_u32(&r, &c->ncoalitions);
	dd_get_u32(&r, &reserved);
	dd_get_u64(&r, &sum);
	if (reserved != 0)
		return CORRUPT(env, "reserved header bytes are not zero");
	if (sum != dd_checksum(data, len))
		return CORRUPT(env, "checksum mismatch");
	if ((uint64_t) c->nchannels * 5 + (uint64_t) c->ncoalitions * 20 > r.left)
		return CORRUPT(env, "%u channels and %u channel sets do not fit in %zu bytes",
					   c->nchannels, c->ncoalitions, len);
	c->channels = at_alloc(env, sizeof(at_str) * ((size_t) c->nchannels + 1));
	c->off = at_alloc(env, sizeof(uint32_t) * ((size_t) c->ncoalitions + 1));
	c->journeys = at_alloc(env, sizeof(uint64_t) * ((size_t) c->ncoalitions + 1));
	c->conversions = at_alloc(env, sizeof(uint64_t) * ((size_t) c->ncoalitions + 1));
	c->members = at_alloc(env, sizeof(uint32_t) * (r.left / 4 + 1));
	if (!c->channels || !c->off || !c->members || !c->journeys || !c->conversions)
		return AT_ENOMEM;
	for (uint32_t i = 0; i < c->nchannels; i++)
	{
		uint32_t	n;

		if (DD_POLL(env, i))
			return AT_ECANCELED;
		if (!dd_get_u32(&r, &n) || n > r.left)
			return CORRUPT(env, "channel %u runs past the end", i);
		c->channels[i].p = (const char *) r.p;
		c->channels[i].len = n;
		r.p += n;
		r.left -= n;
		if ((why = dd_bad_name(c->channels[i].p, n)) != NULL)
			return CORRUPT(env, "channel %u is %s", i, why);
		if (i > 0 && dd_cmp_bytes(c->channels[i - 1].p, c->channels[i - 1].len,
								  c->channels[i].p, n) >= 0)
			return CORRUPT(env, "channel %u is out of order or repeated", i);
	}
	for (uint32_t k = 0; k < c->ncoalitions; k++)
	{
		uint32_t	n;

		if (DD_POLL(env, k))
			return AT_ECANCELED;
		if (!dd_get_u32(&r, &n) || (uint64_t) n * 4 + 16 > r.left)
			return CORRUPT(env, "channel set %u runs past the end", k);
		if (n > AT_SHAPLEY_MAX_CHANNELS || n > c->nchannels)
			return CORRUPT(env, "channel set %u has %u channels", k, n);
		c->off[k] = total;
		for (uint32_t i = 0; i < n; i++)
		{
			uint32_t   *m = &c->members[total + i];

			dd_get_u32(&r, m);
			if (*m >= c->nchannels)
				return CORRUPT(env, "channel set %u names channel %u of %u", k, *m, c->nchannels);
			if (i > 0 && m[-1] >= *m)
				return CORRUPT(env, "channel set %u is not in ascending order", k);
		}
		total += n;
		dd_get_u64(&r, &c->journeys[k]);
		dd_get_u64(&r, &c->conversions[k]);
		if (c->journeys[k] < 1 || c->journeys[k] > AT_DD_MAX_COUNT)
			return CORRUPT(env, "channel set %u has %llu journeys", k,
						   (unsigned long long) c->journeys[k]);
		if (c->conversions[k] > c->journeys[k])
			return CORRUPT(env, "channel set %u has more conversions than journeys", k);
		if (k > 0 && dd_cmp_u32s(c->members + c->off[k - 1], c->off[k] - c->off[k - 1],
								 c->members + c->off[k], n) >= 0)
			return CORRUPT(env, "channel set %u is out of order or repeated", k);
	}
	c->off[c->ncoalitions] = total;
	if (r.left != 0)
		return CORRUPT(env, "%zu bytes after the end", r.left);
	return check_model(env, c, AT_ECORRUPT, "corrupt shapley model");
}

/* ------------------------------------------------------------------ */
/* Text                                                                 */
/* ------------------------------------------------------------------ */

at_status
at_shapley_to_text(at_env *env, const at_shapley_counts *c, char **out, size_t *len)
{
	dd_text		t = {env, NULL, 0, 0};
	at_status	st;
	char		head[160];

	snprintf(head, sizeof(head),
			 "{\"type\":\"shapley\",\"version\":%d,\"journeys\":%llu,\"conversions\":%llu,"
			 "\"coalitions\":[", DD_VERSION, (unsigned long long) c->total_journeys,
			 (unsigned long long) c->total_conversions);
	if ((st = dd_text_put(&t, head)) != AT_OK)
		return st;
	for (uint32_t k = 0; k < c->ncoalitions; k++)
	{
		if (DD_POLL(env, k))
			return AT_ECANCELED;
		if ((st = dd_text_put(&t, k > 0 ? ",[[" : "[[")) != AT_OK)
			return st;
		for (uint32_t i = c->off[k]; i < c->off[k + 1]; i++)
		{
			const at_str *ch = &c->channels[c->members[i]];

			if ((i > c->off[k] && (st = dd_text_put(&t, ",")) != AT_OK) ||
				(st = dd_text_string(&t, ch->p, ch->len)) != AT_OK)
				return st;
		}
		if ((st = dd_text_put(&t, "],")) != AT_OK ||
			(st = dd_text_u64(&t, c->journeys[k])) != AT_OK ||
			(st = dd_text_put(&t, ",")) != AT_OK ||
			(st = dd_text_u64(&t, c->conversions[k])) != AT_OK ||
			(st = dd_text_put(&t, "]")) != AT_OK)
			return st;
	}
	if ((st = dd_text_put(&t, "]}")) != AT_OK)
		return st;
	*out = t.p;
	*len = t.len;
	return AT_OK;
}

#define BADTEXT(env, ...) dd_bad((env), AT_ESYNTAX, "invalid shapley model text", __VA_ARGS__)

at_status
at_shapley_from_text(at_env *env, const char *text, size_t len, at_shapley_counts *out)
{
	static const char *const keys[] = {"type", "version", "journeys", "conversions", "coalitions"};
	const at_json *val[5] = {0};
	at_json    *root;
	at_shapley_fit *f;
	uint64_t	version,
				journeys,
				conversions;
	at_status	st;
	char		buf[80];

	memset(out, 0, sizeof(*out));
	if ((st = at_json_parse(env, text, len, &root)) != AT_OK)
		return st;
	if (root->kind != AT_JSON_OBJECT)
		return BADTEXT(env, "not a JSON object");
	for (uint32_t i = 0; i < root->n; i++)
	{
		size_t		k;

		for (k = 0; k < 5; k++)
			if (dd_key_is(&root->keys[i], keys[k]))
				break;
		if (k == 5)
			return BADTEXT(env, "unknown key \"%s\"",
						   dd_shown(root->keys[i].p, root->keys[i].len, buf, sizeof(buf)));
		if (val[k] != NULL)
			return BADTEXT(env, "key \"%s\" is given twice", keys[k]);
		val[k] = &root->items[i];
	}
	for (size_t k = 0; k < 5; k++)
		if (val[k] == NULL)
			return BADTEXT(env, "key \"%s\" is missing", keys[k]);
	if (val[0]->kind != AT_JSON_STRING || !dd_key_is(&val[0]->str, "shapley"))
		return BADTEXT(env, "\"type\" must be \"shapley\"");
	if (!dd_json_u64(val[1], &version) || version != DD_VERSION)
		return BADTEXT(env, "unsupported \"version\" (this release reads version %d)", DD_VERSION);
	if (!dd_json_u64(val[2], &journeys) || !dd_json_u64(val[3], &conversions))
		return BADTEXT(env, "\"journeys\" and \"conversions\" must be non-negative integers");
	if (val[4]->kind != AT_JSON_ARRAY)
		return BADTEXT(env, "\"coalitions\" must be an array");
	if ((st = at_shapley_fit_create(env, &f)) != AT_OK)
		return st;
	for (uint32_t k = 0; k < val[4]->n; k++)
	{
		const at_json *e = &val[4]->items[k];
		uint64_t	j,
					cv;
		uint32_t	id,
					n;
		bool		added;

		if (DD_POLL(env, k))
			return AT_ECANCELED;
		if (e->kind != AT_JSON_ARRAY || e->n != 3 || e->items[0].kind != AT_JSON_ARRAY)
			return BADTEXT(env, "channel set %u must be [[names...], journeys, conversions]", k);
		n = e->items[0].n;
		if (n > AT_SHAPLEY_MAX_CHANNELS)
			return BADTEXT(env, "channel set %u has %u channels; the limit is %d", k, n,
						   AT_SHAPLEY_MAX_CHANNELS);
		if ((st = dd_grow(env, (void **) &f->set, &f->set_cap, (size_t) n + 1,
						  sizeof(uint32_t))) != AT_OK)
			return st;
		for (uint32_t i = 0; i < n; i++)
		{
			const at_json *name = &e->items[0].items[i];
			const char *why;

			if (name->kind != AT_JSON_STRING)
				return BADTEXT(env, "channel set %u: channel names must be strings", k);
			if ((why = dd_bad_name(name->str.p, name->str.len)) != NULL)
				return BADTEXT(env, "channel set %u has %s", k, why);
			if ((st = dd_names_add(env, &f->channels, name->str.p, name->str.len,
								   &f->set[i], NULL)) != AT_OK)
				return st;
		}
		sort_u32(f->set, n);
		for (uint32_t i = 1; i < n; i++)
			if (f->set[i] == f->set[i - 1])
				return BADTEXT(env, "channel set %u names a channel twice", k);
		if (!dd_json_u64(&e->items[1], &j) || !dd_json_u64(&e->items[2], &cv) ||
			j < 1 || j > AT_DD_MAX_COUNT || cv > j)
			return BADTEXT(env, "channel set %u: journeys must be an integer from 1 to %lld "
						   "and conversions at most journeys", k, (long long) AT_DD_MAX_COUNT);
		if ((st = dd_tuples_add(env, &f->coalitions, f->set, n, &id, &added)) != AT_OK)
			return st;
		if (!added)
			return BADTEXT(env, "channel set %u repeats an earlier one", k);
		if ((st = dd_grow(env, (void **) &f->stat, &f->stat_cap, f->coalitions.n,
						  sizeof(coal_stat))) != AT_OK)
			return st;
		f->stat[id].journeys = j;
		f->stat[id].conversions = cv;
	}
	if ((st = at_shapley_fit_counts(env, f, out)) != AT_OK)
		return st;
	if ((st = check_model(env, out, AT_ESYNTAX, "invalid shapley model text")) != AT_OK)
		return st;
	if (out->total_journeys != journeys || out->total_conversions != conversions)
		return BADTEXT(env, "\"journeys\" and \"conversions\" do not match the channel sets "
					   "(%llu and %llu)", (unsigned long long) out->total_journeys,
					   (unsigned long long) out->total_conversions);
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* Values                                                               */
/* ------------------------------------------------------------------ */

static int64_t
find_coalition(const at_shapley_model *m, const uint32_t *set, uint32_t n)
{
	const at_shapley_counts *c = m->counts;
	uint32_t	k = (uint32_t) dd_hash_u32s(set, n) & (m->nslots - 1);

	while (m->slots[k] != 0)
	{
		uint32_t	i = m->slots[k] - 1;

		if (c->off[i + 1] - c->off[i] == n &&
			(n == 0 || memcmp(c->members + c->off[i], set, sizeof(uint32_t) * n) == 0))
			return i;
		k = (k + 1) & (m->nslots - 1);
	}
	return -1;
}

at_status
at_shapley_prepare(at_env *env, const at_shapley_counts *c, at_shapley_model *m)
{
	uint32_t	nslots = 16;

	memset(m, 0, sizeof(*m));
	m->counts = c;
	while (nslots < 2 * (uint64_t) c->ncoalitions + 2)
		nslots *= 2;
	m->nslots = nslots;
	m->slots = at_alloc(env, sizeof(uint32_t) * nslots);
	m->v = at_alloc(env, sizeof(double) * ((size_t) c->ncoalitions + 1));
	m->positive = at_alloc(env, sizeof(uint32_t) * ((size_t) c->ncoalitions + 1));
	m->ch_journeys = at_alloc(env, sizeof(uint64_t) * ((size_t) c->nchannels + 1));
	m->ch_conversions = at_alloc(env, sizeof(uint64_t) * ((size_t) c->nchannels + 1));
	if (!m->slots || !m->v || !m->positive || !m->ch_journeys || !m->ch_conversions)
		return AT_ENOMEM;
	memset(m->slots, 0, sizeof(uint32_t) * nslots);
	memset(m->ch_journeys, 0, sizeof(uint64_t) * ((size_t) c->nchannels + 1));
	memset(m->ch_conversions, 0, sizeof(uint64_t) * ((size_t) c->nchannels + 1));
	for (uint32_t i = 0; i < c->ncoalitions; i++)
	{
		uint32_t	n = c->off[i + 1] - c->off[i];
		uint32_t	k = (uint32_t) dd_hash_u32s(c->members + c->off[i], n) & (nslots - 1);

		if (DD_POLL(env, i))
			return AT_ECANCELED;
		while (m->slots[k] != 0)
			k = (k + 1) & (nslots - 1);
		m->slots[k] = i + 1;
		m->v[i] = (double) c->conversions[i] / (double) c->journeys[i];
		if (n == 0)
			m->v_empty = m->v[i];
		else if (m->v[i] > 0)
			m->positive[m->npositive++] = i;
		for (uint32_t x = c->off[i]; x < c->off[i + 1]; x++)
		{
			/* sums of counts of a valid model never pass its total (< 2^63) */
			m->ch_journeys[c->members[x]] += c->journeys[i];
			m->ch_conversions[c->members[x]] += c->conversions[i];
		}
	}
	return AT_OK;
}

/* position of id in the sorted ids, or -1 */
static int64_t
position(const uint32_t *ids, uint32_t n, uint32_t id)
{
	uint32_t	lo = 0,
				hi = n;

	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;

		if (ids[mid] == id)
			return mid;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* scratch for one set of at most AT_SHAPLEY_MAX_CHANNELS channels */
typedef struct values_scratch
{
	double		w[AT_SHAPLEY_MAX_CHANNELS + 1];
	uint32_t	set[AT_SHAPLEY_MAX_CHANNELS + 1];
	uint32_t	pos[AT_SHAPLEY_MAX_CHANNELS + 1];
} values_scratch;

static at_status
values(at_env *env, const at_shapley_model *m, const uint32_t *ids, uint32_t nseen,
	   uint32_t nunseen, double *phi, double *phi_unseen, int mode, values_scratch *sc)
{
	const at_shapley_counts *c = m->counts;
	uint32_t	n = nseen + nunseen;
	double	   *w = sc->w,
				minus = 0,
				vmax = 0;
	uint32_t   *set = sc->set,
			   *pos = sc->pos;
	bool		enumerate;

	*phi_unseen = 0;
	for (uint32_t i = 0; i < nseen; i++)
		phi[i] = 0;
	if (n == 0)
		return AT_OK;
	if (n > AT_SHAPLEY_MAX_CHANNELS)
		return too_many(env, n);

	/* w(s) = s! (n-s-1)! / n! = 1 / (n C(n-1, s)); w(n) = 0 (no i outside N) */
	{
		double		binom = 1;

		for (uint32_t s = 0; s < n; s++)
		{
			w[s] = 1.0 / ((double) n * binom);
			binom = binom * (double) (n - 1 - s) / (double) (s + 1);
		}
		w[n] = 0;
	}

	/*
	 * Each observed T in N with v(T) > 0: members gain (w(s-1) + w(s)) v(T),
	 * everyone loses w(s) v(T) (collected in minus).
	 */
	if (m->v_empty > 0)
	{
		minus += w[0] * m->v_empty;
		vmax = m->v_empty;
	}
	enumerate = mode == 1 ||
		(mode == 0 && nseen < 24 && ((uint64_t) 1 << nseen) * nseen <= (uint64_t) m->npositive * 8);
	if (enumerate)
	{
		uint64_t	limit = (uint64_t) 1 << nseen;

		for (uint64_t mask = 1; mask < limit; mask++)
		{
			uint32_t	s = 0;
			int64_t		k;

			if (DD_POLL(env, mask))
				return AT_ECANCELED;
			for (uint32_t i = 0; i < nseen; i++)
				if (mask & ((uint64_t) 1 << i))
				{
					pos[s] = i;
					set[s++] = ids[i];
				}
			k = find_coalition(m, set, s);
			if (k < 0 || !(m->v[k] > 0))
				continue;
			minus += w[s] * m->v[k];
			if (m->v[k] > vmax)
				vmax = m->v[k];
			for (uint32_t i = 0; i < s; i++)
				phi[pos[i]] += (w[s - 1] + w[s]) * m->v[k];
		}
	}
	else
	{
		for (uint32_t x = 0; x < m->npositive; x++)
		{
			uint32_t	k = m->positive[x],
						s = c->off[k + 1] - c->off[k];
			bool		subset = s <= nseen;

			if (DD_POLL(env, x))
				return AT_ECANCELED;
			for (uint32_t i = 0; i < s && subset; i++)
			{
				int64_t		p = position(ids, nseen, c->members[c->off[k] + i]);

				subset = p >= 0;
				if (subset)
					pos[i] = (uint32_t) p;
			}
			if (!subset)
				continue;
			minus += w[s] * m->v[k];
			if (m->v[k] > vmax)
				vmax = m->v[k];
			for (uint32_t i = 0; i < s; i++)
				phi[pos[i]] += (w[s - 1] + w[s]) * m->v[k];
		}
	}
	for (uint32_t i = 0; i < nseen; i++)
	{
		phi[i] -= minus;
		if (fabs(phi[i]) <= AT_DD_ZERO * vmax)
			phi[i] = 0;
	}
	*phi_unseen = -minus;
	if (fabs(*phi_unseen) <= AT_DD_ZERO * vmax)
		*phi_unseen = 0;
	return AT_OK;
}

at_status
dd_shapley_values_mode(at_env *env, const at_shapley_model *m, const uint32_t *ids,
					   uint32_t nseen, uint32_t nunseen, double *phi, double *phi_unseen,
					   int mode)
{
	values_scratch *sc = at_alloc(env, sizeof(values_scratch));

	if (sc == NULL)
		return AT_ENOMEM;
	return values(env, m, ids, nseen, nunseen, phi, phi_unseen, mode, sc);
}

at_status
at_shapley_values(at_env *env, const at_shapley_model *m, const uint32_t *ids, uint32_t nseen,
				  uint32_t nunseen, double *phi, double *phi_unseen)
{
	return dd_shapley_values_mode(env, m, ids, nseen, nunseen, phi, phi_unseen, 0);
}

at_status
at_shapley_channels(at_env *env, const at_shapley_model *m, double *value, double *share)
{
	const at_shapley_counts *c = m->counts;
	double	   *phi = at_alloc(env, sizeof(double) * (AT_SHAPLEY_MAX_CHANNELS + 1));
	values_scratch *sc = at_alloc(env, sizeof(values_scratch));
	double		sum = 0,
				unseen;
	at_status	st;

	if (phi == NULL || sc == NULL)
		return AT_ENOMEM;
	for (uint32_t ch = 0; ch < c->nchannels; ch++)
		value[ch] = share[ch] = 0;
	for (uint32_t k = 0; k < c->ncoalitions; k++)
	{
		const uint32_t *set = c->members + c->off[k];
		uint32_t	n = c->off[k + 1] - c->off[k];

		if (c->conversions[k] == 0 || n == 0)
			continue;
		if (at_interrupted(env))
			return AT_ECANCELED;
		if ((st = values(env, m, set, n, 0, phi, &unseen, 0, sc)) != AT_OK)
			return st;
		for (uint32_t i = 0; i < n; i++)
			value[set[i]] += (double) c->conversions[k] * phi[i];
	}
	for (uint32_t ch = 0; ch < c->nchannels; ch++)
		if (value[ch] > 0)
			sum += value[ch];
	for (uint32_t ch = 0; ch < c->nchannels; ch++)
		share[ch] = sum > 0 && value[ch] > 0 ? value[ch] / sum : 0;
	return AT_OK;
}
