/*
 * markov_fit.c — fitting Markov chains of order 1..4 from journeys: the
 * growing fit (transition counts), merging fits, the canonical snapshot, and
 * its byte and text forms with full validation.
 *
 * A journey c1 c2 ... cn visits start, then state i = the last min(i, k)
 * channels up to touch i (so (c1), (c1,c2), ... near the start of the path
 * when k > 1), then conversion or null.  Every visit of a transient state
 * enters it once and leaves it once, so a valid model conserves flow at every
 * transient state; decoding checks this together with the shape of every
 * transition (a state of length L < k goes to its one-channel extension, a
 * full state to its shift), which also guarantees the solver an absorbing chain.
 *
 * Byte form (little-endian), version 1:
 *   u8 'M', u8 version, u8 order, u8 flags (0), u32 nchannels, u32 nstates,
 *   u32 ntransitions, u64 checksum (of every other byte),
 *   nchannels x (u32 length, bytes)            sorted bytewise, unique
 *   nchannels x (u64 journeys, u64 conversions)
 *   nstates x (u8 length 1..order, length x u32 channel)   sorted, unique
 *   ntransitions x (u32 from, u32 to, u64 count)           sorted by (from, to)
 * State numbers: 0 start, 1..nstates, nstates + 1 conversion, nstates + 2 null.
 *
 * Text form: {"type":"markov","version":1,"order":k,"journeys":J,
 *   "conversions":C,"channels":[[name,journeys,conversions],...],
 *   "transitions":[[from,to,count],...]} where a state is an array of channel
 *   names, and from may be "start", to "conversion" or "null".
 */
#include "dd_internal.h"

#include <stdio.h>
#include <string.h>

#define FIT_CONV	0xfffffffeu
#define FIT_NULL	0xffffffffu

typedef struct ch_stat
{
	uint64_t	journeys;
	uint64_t	conversions;
} ch_stat;

struct at_markov_fit
{
	uint32_t	order;
	dd_names	channels;
	ch_stat    *stat;
	uint32_t	stat_cap;
	dd_tuples	states;
	dd_pairs	trans;			/* from: 0 start, s + 1; to: s + 1, FIT_CONV, FIT_NULL */
	uint32_t   *map;			/* scratch: channel / state remapping */
	uint32_t	map_cap;
	uint32_t   *smap;
	uint32_t	smap_cap;
};

at_status
at_markov_check_order(at_env *env, int64_t order)
{
	if (order < 1 || order > AT_MARKOV_MAX_ORDER)
	{
		at_fail(env, AT_EBAD_OPTION, "markov order must be between 1 and %d",
				AT_MARKOV_MAX_ORDER);
		at_detail(env, "The order is %lld.", (long long) order);
		return at_hint(env, "Order 1 (the default) conditions each step on the last channel, "
					   "order k on the last k channels.");
	}
	return AT_OK;
}

at_status
at_markov_fit_create(at_env *env, uint32_t order, at_markov_fit **out)
{
	at_markov_fit *f;
	at_status	st;

	if ((st = at_markov_check_order(env, order)) != AT_OK)
		return st;
	f = at_alloc(env, sizeof(*f));
	if (f == NULL)
		return AT_ENOMEM;
	memset(f, 0, sizeof(*f));
	f->order = order;
	*out = f;
	return AT_OK;
}

uint32_t
at_markov_fit_order(const at_markov_fit *f)
{
	return f->order;
}

/* find or add a channel, with zeroed statistics */
static at_status
fit_channel(at_env *env, at_markov_fit *f, const char *p, uint32_t len, uint32_t *id)
{
	bool		added;
	at_status	st;

	if ((st = dd_names_add(env, &f->channels, p, len, id, &added)) != AT_OK)
		return st;
	if (added)
	{
		if ((st = dd_grow(env, (void **) &f->stat, &f->stat_cap, f->channels.n,
						  sizeof(ch_stat))) != AT_OK)
			return st;
		f->stat[*id].journeys = 0;
		f->stat[*id].conversions = 0;
	}
	return AT_OK;
}

at_status
at_markov_fit_add(at_env *env, at_markov_fit *f, const at_journey *j, bool converted)
{
	uint32_t	tuple[AT_MARKOV_MAX_ORDER];
	uint32_t	len = 0,
				prev = 0,
				nch = j->nchannels;
	at_status	st;

	if ((st = dd_grow(env, (void **) &f->map, &f->map_cap, (size_t) nch + 1,
					  sizeof(uint32_t))) != AT_OK ||
		(st = dd_grow(env, (void **) &f->smap, &f->smap_cap, (size_t) nch + 1,
					  sizeof(uint32_t))) != AT_OK)
		return st;
	for (uint32_t k = 0; k < nch; k++)
	{
		if (DD_POLL(env, k))
			return AT_ECANCELED;
		if ((st = fit_channel(env, f, j->channels[k].p, j->channels[k].len, &f->map[k])) != AT_OK)
			return st;
		f->smap[k] = 0;			/* touches of channel k seen in this journey */
	}
	for (uint32_t i = 0; i < j->ntouches; i++)
	{
		uint32_t	c = f->map[j->touches[i].channel],
					s;

		if (DD_POLL(env, i))
			return AT_ECANCELED;
		f->smap[j->touches[i].channel] = 1;
		if (len < f->order)
			tuple[len++] = c;
		else
		{
			memmove(tuple, tuple + 1, sizeof(uint32_t) * (f->order - 1));
			tuple[f->order - 1] = c;
		}
		if ((st = dd_tuples_add(env, &f->states, tuple, len, &s, NULL)) != AT_OK ||
			(st = dd_pairs_add(env, &f->trans, prev, s + 1, 1, NULL)) != AT_OK)
			return st;
		prev = s + 1;
	}
	if ((st = dd_pairs_add(env, &f->trans, prev, converted ? FIT_CONV : FIT_NULL, 1, NULL)) != AT_OK)
		return st;
	for (uint32_t k = 0; k < nch; k++)
	{
		ch_stat    *cs = &f->stat[f->map[k]];

		if (f->smap[k] == 0)
			continue;
		if ((st = dd_add_count(env, &cs->journeys, 1)) != AT_OK ||
			(converted && (st = dd_add_count(env, &cs->conversions, 1)) != AT_OK))
			return st;
	}
	return AT_OK;
}

at_status
at_markov_fit_add_counts(at_env *env, at_markov_fit *f, const at_markov_counts *c)
{
	uint32_t	tuple[AT_MARKOV_MAX_ORDER];
	at_status	st;

	if (c->order != f->order)
	{
		at_fail(env, AT_EBAD_VALUE, "cannot merge markov models of different orders");
		at_detail(env, "A model of order %u is merged into one of order %u.", c->order, f->order);
		return at_hint(env, "Fit every part with the same order.");
	}
	if ((st = dd_grow(env, (void **) &f->map, &f->map_cap, (size_t) c->nchannels + 1,
					  sizeof(uint32_t))) != AT_OK ||
		(st = dd_grow(env, (void **) &f->smap, &f->smap_cap, (size_t) c->nstates + 1,
					  sizeof(uint32_t))) != AT_OK)
		return st;
	for (uint32_t k = 0; k < c->nchannels; k++)
	{
		ch_stat    *cs;

		if (DD_POLL(env, k))
			return AT_ECANCELED;
		if ((st = fit_channel(env, f, c->channels[k].p, c->channels[k].len, &f->map[k])) != AT_OK)
			return st;
		cs = &f->stat[f->map[k]];
		if ((st = dd_add_count(env, &cs->journeys, c->ch_journeys[k])) != AT_OK ||
			(st = dd_add_count(env, &cs->conversions, c->ch_conversions[k])) != AT_OK)
			return st;
	}
	f->smap[0] = 0;
	for (uint32_t s = 0; s < c->nstates; s++)
	{
		const uint32_t *t = c->state_ch + (size_t) s * c->order;
		uint32_t	id;

		if (DD_POLL(env, s))
			return AT_ECANCELED;
		for (uint32_t i = 0; i < c->state_len[s]; i++)
			tuple[i] = f->map[t[i]];
		if ((st = dd_tuples_add(env, &f->states, tuple, c->state_len[s], &id, NULL)) != AT_OK)
			return st;
		f->smap[s + 1] = id + 1;
	}
	for (uint32_t i = 0; i < c->ntrans; i++)
	{
		const at_markov_trans *t = &c->trans[i];
		uint32_t	to = t->to == c->nstates + 1 ? FIT_CONV
			: t->to == c->nstates + 2 ? FIT_NULL : f->smap[t->to];

		if (DD_POLL(env, i))
			return AT_ECANCELED;
		if ((st = dd_pairs_add(env, &f->trans, f->smap[t->from], to, t->count, NULL)) != AT_OK)
			return st;
	}
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* The canonical snapshot                                               */
/* ------------------------------------------------------------------ */

typedef struct sort_ctx
{
	const dd_names *names;
	const uint32_t *tuples;		/* remapped states, stride order */
	const uint8_t *lens;
	uint32_t	order;
	const at_markov_trans *trans;
} sort_ctx;

static int
cmp_name(const void *ctx, uint32_t a, uint32_t b)
{
	const dd_names *d = ((const sort_ctx *) ctx)->names;

	return dd_cmp_bytes(DD_NAME(d, a), d->ent[a].len, DD_NAME(d, b), d->ent[b].len);
}

static int
cmp_state(const void *ctx, uint32_t a, uint32_t b)
{
	const sort_ctx *x = ctx;

	return dd_cmp_u32s(x->tuples + (size_t) a * x->order, x->lens[a],
					   x->tuples + (size_t) b * x->order, x->lens[b]);
}

static int
cmp_trans(const void *ctx, uint32_t a, uint32_t b)
{
	const at_markov_trans *t = ((const sort_ctx *) ctx)->trans;

	if (t[a].from != t[b].from)
		return t[a].from < t[b].from ? -1 : 1;
	return t[a].to < t[b].to ? -1 : t[a].to > t[b].to;
}

/*
 * The totals the decoder derives from a snapshot (how often each state is
 * entered and left, how many touches end in each channel) must stay within
 * AT_DD_MAX_COUNT too, or the snapshot encodes to bytes that at_markov_decode
 * rejects as corrupt.  Adding fits (markov_merge) can pass that limit while
 * every single count stays below it, e.g. a model with a large self-loop added
 * to itself; that is a count overflow (AT_ELIMIT), reported here.
 */
static at_status
check_totals(at_env *env, const at_markov_counts *c)
{
	uint32_t	ns = c->nstates;
	uint64_t   *in = at_alloc(env, sizeof(uint64_t) * ((size_t) ns + 3));
	uint64_t   *out = at_alloc(env, sizeof(uint64_t) * ((size_t) ns + 3));
	uint64_t   *ending = at_alloc(env, sizeof(uint64_t) * ((size_t) c->nchannels + 1));
	at_status	st;

	if (in == NULL || out == NULL || ending == NULL)
		return AT_ENOMEM;
	memset(in, 0, sizeof(uint64_t) * ((size_t) ns + 3));
	memset(out, 0, sizeof(uint64_t) * ((size_t) ns + 3));
	memset(ending, 0, sizeof(uint64_t) * ((size_t) c->nchannels + 1));
	for (uint32_t i = 0; i < c->ntrans; i++)
	{
		if (DD_POLL(env, i))
			return AT_ECANCELED;
		if ((st = dd_add_count(env, &out[c->trans[i].from], c->trans[i].count)) != AT_OK ||
			(st = dd_add_count(env, &in[c->trans[i].to], c->trans[i].count)) != AT_OK)
			return st;
	}
	for (uint32_t s = 1; s <= ns; s++)
	{
		if (DD_POLL(env, s))
			return AT_ECANCELED;
		if ((st = dd_add_count(env, &ending[c->state_ch[(size_t) (s - 1) * c->order +
													  c->state_len[s - 1] - 1]], in[s])) != AT_OK)
			return st;
	}
	return AT_OK;
}

at_status
at_markov_fit_counts(at_env *env, const at_markov_fit *f, at_markov_counts *out)
{
	uint32_t	nch = f->channels.n,
				ns = f->states.n,
				nt = f->trans.n,
				k = f->order;
	uint32_t   *perm = at_alloc(env, sizeof(uint32_t) * (nch + 1));
	uint32_t   *newch = at_alloc(env, sizeof(uint32_t) * (nch + 1));
	uint32_t   *tuples = at_alloc(env, sizeof(uint32_t) * ((size_t) ns * k + 1));
	uint8_t    *lens = at_alloc(env, (size_t) ns + 1);
	uint32_t   *sperm = at_alloc(env, sizeof(uint32_t) * (ns + 1));
	uint32_t   *newst = at_alloc(env, sizeof(uint32_t) * (ns + 1));
	at_markov_trans *tr = at_alloc(env, sizeof(at_markov_trans) * (nt + 1));
	uint32_t   *tperm = at_alloc(env, sizeof(uint32_t) * (nt + 1));
	sort_ctx	ctx = {&f->channels, tuples, lens, k, tr};
	at_status	st;

	memset(out, 0, sizeof(*out));
	if (!perm || !newch || !tuples || !lens || !sperm || !newst || !tr || !tperm)
		return AT_ENOMEM;
	out->order = k;
	out->nchannels = nch;
	out->nstates = ns;
	out->ntrans = nt;
	out->channels = at_alloc(env, sizeof(at_str) * (nch + 1));
	out->ch_journeys = at_alloc(env, sizeof(uint64_t) * (nch + 1));
	out->ch_conversions = at_alloc(env, sizeof(uint64_t) * (nch + 1));
	out->state_len = at_alloc(env, (size_t) ns + 1);
	out->state_ch = at_alloc(env, sizeof(uint32_t) * ((size_t) ns * k + 1));
	out->trans = at_alloc(env, sizeof(at_markov_trans) * (nt + 1));
	if (!out->channels || !out->ch_journeys || !out->ch_conversions || !out->state_len ||
		!out->state_ch || !out->trans)
		return AT_ENOMEM;

	/* channels by name */
	for (uint32_t i = 0; i < nch; i++)
		perm[i] = i;
	if ((st = dd_sort(env, perm, nch, cmp_name, &ctx)) != AT_OK)
		return st;
	for (uint32_t i = 0; i < nch; i++)
	{
		uint32_t	o = perm[i];

		if (DD_POLL(env, i))
			return AT_ECANCELED;
		newch[o] = i;
		out->channels[i].p = DD_NAME(&f->channels, o);
		out->channels[i].len = f->channels.ent[o].len;
		out->ch_journeys[i] = f->stat[o].journeys;
		out->ch_conversions[i] = f->stat[o].conversions;
	}

	/* states by their renamed tuples */
	for (uint32_t s = 0; s < ns; s++)
	{
		const uint32_t *t = DD_TUPLE(&f->states, s);

		if (DD_POLL(env, s))
			return AT_ECANCELED;
		lens[s] = (uint8_t) f->states.ent[s].len;
		for (uint32_t i = 0; i < k; i++)
			tuples[(size_t) s * k + i] = i < lens[s] ? newch[t[i]] : 0;
		sperm[s] = s;
	}
	if ((st = dd_sort(env, sperm, ns, cmp_state, &ctx)) != AT_OK)
		return st;
	for (uint32_t i = 0; i < ns; i++)
	{
		uint32_t	o = sperm[i];

		if (DD_POLL(env, i))
			return AT_ECANCELED;

		newst[o] = i + 1;
		out->state_len[i] = lens[o];
		memcpy(out->state_ch + (size_t) i * k, tuples + (size_t) o * k, sizeof(uint32_t) * k);
	}

	/* transitions by (from, to) */
	for (uint32_t i = 0; i < nt; i++)
	{
		uint32_t	from = (uint32_t) (f->trans.ent[i].key >> 32);
		uint32_t	to = (uint32_t) f->trans.ent[i].key;

		if (DD_POLL(env, i))
			return AT_ECANCELED;
		tr[i].from = from == 0 ? 0 : newst[from - 1];
		tr[i].to = to == FIT_CONV ? ns + 1 : to == FIT_NULL ? ns + 2 : newst[to - 1];
		tr[i].count = f->trans.ent[i].count;
		tperm[i] = i;
		if (tr[i].from == 0 && (st = dd_add_count(env, &out->journeys, tr[i].count)) != AT_OK)
			return st;
		if (tr[i].to == ns + 1 && (st = dd_add_count(env, &out->conversions, tr[i].count)) != AT_OK)
			return st;
	}
	if ((st = dd_sort(env, tperm, nt, cmp_trans, &ctx)) != AT_OK)
		return st;
	for (uint32_t i = 0; i < nt; i++)
		out->trans[i] = tr[tperm[i]];
	return check_totals(env, out);
}

/* ------------------------------------------------------------------ */
/* Validation shared by the byte and text forms                         */
/* ------------------------------------------------------------------ */

/*
 * Everything a model must satisfy beyond the sorted, in-range arrays the
 * readers check: the shape of each transition, flow conservation, totals and
 * channel statistics.  Sets c->journeys and c->conversions.
 */
static at_status
check_model(at_env *env, at_markov_counts *c, at_status bad, const char *prefix)
{
	uint32_t	ns = c->nstates,
				k = c->order;
	uint64_t   *in = at_alloc(env, sizeof(uint64_t) * ((size_t) ns + 3));
	uint64_t   *out = at_alloc(env, sizeof(uint64_t) * ((size_t) ns + 3));
	uint64_t   *ending = at_alloc(env, sizeof(uint64_t) * ((size_t) c->nchannels + 1));

	if (in == NULL || out == NULL || ending == NULL)
		return AT_ENOMEM;
	memset(in, 0, sizeof(uint64_t) * ((size_t) ns + 3));
	memset(out, 0, sizeof(uint64_t) * ((size_t) ns + 3));
	memset(ending, 0, sizeof(uint64_t) * ((size_t) c->nchannels + 1));
	for (uint32_t i = 0; i < c->ntrans; i++)
	{
		const at_markov_trans *t = &c->trans[i];

		if (DD_POLL(env, i))
			return AT_ECANCELED;
		if (t->to <= ns)
		{
			const uint32_t *dst = c->state_ch + (size_t) (t->to - 1) * k;
			uint32_t	dlen = c->state_len[t->to - 1];

			if (t->from == 0)
			{
				if (dlen != 1)
					return dd_bad(env, bad, prefix, "start goes to state %u of %u channels",
								  t->to, dlen);
			}
			else
			{
				const uint32_t *src = c->state_ch + (size_t) (t->from - 1) * k;
				uint32_t	slen = c->state_len[t->from - 1];
				bool		ok;

				if (slen < k)
					ok = dlen == slen + 1 && memcmp(src, dst, sizeof(uint32_t) * slen) == 0;
				else
					ok = dlen == k && memcmp(src + 1, dst, sizeof(uint32_t) * (k - 1)) == 0;
				if (!ok)
					return dd_bad(env, bad, prefix,
								  "state %u cannot follow state %u in a chain of order %u",
								  t->to, t->from, k);
			}
		}
		if (dd_add_count(env, &out[t->from], t->count) != AT_OK ||
			dd_add_count(env, &in[t->to], t->count) != AT_OK)
			return dd_bad(env, bad, prefix, "the counts of state %u overflow", t->from);
	}
	for (uint32_t s = 1; s <= ns; s++)
	{
		if (DD_POLL(env, s))
			return AT_ECANCELED;
		if (in[s] == 0)
			return dd_bad(env, bad, prefix, "state %u is never entered", s);
		if (in[s] != out[s])
			return dd_bad(env, bad, prefix,
						  "state %u is entered %llu times but left %llu times", s,
						  (unsigned long long) in[s], (unsigned long long) out[s]);
		if (dd_add_count(env, &ending[c->state_ch[(size_t) (s - 1) * k + c->state_len[s - 1] - 1]],
						 in[s]) != AT_OK)
			return dd_bad(env, bad, prefix, "the counts of state %u overflow", s);
	}
	if (out[0] == 0)
		return dd_bad(env, bad, prefix, "no journey leaves start");
	c->journeys = out[0];
	c->conversions = in[ns + 1];
	for (uint32_t ch = 0; ch < c->nchannels; ch++)
	{
		if (c->ch_journeys[ch] == 0)
			return dd_bad(env, bad, prefix, "channel %u has no journey", ch);
		if (c->ch_conversions[ch] > c->ch_journeys[ch])
			return dd_bad(env, bad, prefix, "channel %u has more conversions than journeys", ch);
		if (c->ch_journeys[ch] > c->journeys || c->ch_conversions[ch] > c->conversions)
			return dd_bad(env, bad, prefix, "channel %u has more journeys or conversions "
						  "than the model", ch);
		if (ending[ch] < c->ch_journeys[ch])
			return dd_bad(env, bad, prefix, "channel %u has more journeys than touches", ch);
	}
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* Bytes                                                                */
/* ------------------------------------------------------------------ */

at_status
at_markov_encode(at_env *env, const at_markov_counts *c, uint8_t **out, size_t *len)
{
	size_t		size = DD_HEADER;
	dd_writer	w;

	for (uint32_t i = 0; i < c->nchannels; i++)
		size += 4 + (size_t) c->channels[i].len + 16;
	for (uint32_t s = 0; s < c->nstates; s++)
		size += 1 + 4 * (size_t) c->state_len[s];
	size += (size_t) c->ntrans * 16;
	if (size > DD_MAX_ALLOC - 8)
	{
		at_fail(env, AT_ELIMIT, "markov model too large to store");
		return at_detail(env, "The model of %u states and %u transitions needs %zu bytes; "
						 "a value is limited to 1 GB.", c->nstates, c->ntrans, size);
	}
	w.p = at_alloc(env, size);
	w.len = 0;
	if (w.p == NULL)
		return AT_ENOMEM;
	dd_put_u8(&w, DD_MARKOV_MAGIC);
	dd_put_u8(&w, DD_VERSION);
	dd_put_u8(&w, c->order);
	dd_put_u8(&w, 0);
	dd_put_u32(&w, c->nchannels);
	dd_put_u32(&w, c->nstates);
	dd_put_u32(&w, c->ntrans);
	dd_put_u64(&w, 0);			/* checksum, below */
	for (uint32_t i = 0; i < c->nchannels; i++)
	{
		dd_put_u32(&w, c->channels[i].len);
		dd_put_bytes(&w, c->channels[i].p, c->channels[i].len);
	}
	for (uint32_t i = 0; i < c->nchannels; i++)
	{
		dd_put_u64(&w, c->ch_journeys[i]);
		dd_put_u64(&w, c->ch_conversions[i]);
	}
	for (uint32_t s = 0; s < c->nstates; s++)
	{
		if (DD_POLL(env, s))
			return AT_ECANCELED;
		dd_put_u8(&w, c->state_len[s]);
		for (uint32_t i = 0; i < c->state_len[s]; i++)
			dd_put_u32(&w, c->state_ch[(size_t) s * c->order + i]);
	}
	for (uint32_t i = 0; i < c->ntrans; i++)
	{
		if (DD_POLL(env, i))
			return AT_ECANCELED;
		dd_put_u32(&w, c->trans[i].from);
		dd_put_u32(&w, c->trans[i].to);
		dd_put_u64(&w, c->trans[i].count);
	}
	{
		dd_writer	h = {w.p, 16};

		dd_put_u64(&h, dd_checksum(w.p, w.len));
	}
	*out = w.p;
	*len = w.len;
	return AT_OK;
}

#define CORRUPT(env, ...) dd_bad((env), AT_ECORRUPT, "corrupt markov model", __VA_ARGS__)

at_status
at_markov_decode(at_env *env, const uint8_t *data, size_t len, at_markov_counts *c)
{
	dd_reader	r = {data, len};
	uint32_t	magic,
				version,
				order,
				flags;
	uint64_t	sum;
	const char *why;

	memset(c, 0, sizeof(*c));
	if (data == NULL || len < DD_HEADER)
		return CORRUPT(env, "%zu bytes is too short", len);
	if (len > DD_MAX_ALLOC)
		return CORRUPT(env, "%zu bytes is too long", len);
	dd_get_u8(&r, &magic);
	dd_get_u8(&r, &version);
	dd_get_u8(&r, &order);
	dd_get_u8(&r, &flags);
	if (magic != DD_MARKOV_MAGIC)
		return CORRUPT(env, "not a markov model (leading byte 0x%02x)", magic);
	if (version != DD_VERSION)
		return CORRUPT(env, "unsupported format version %u", version);
	if (order < 1 || order > AT_MARKOV_MAX_ORDER)
		return CORRUPT(env, "order %u is not between 1 and %d", order, AT_MARKOV_MAX_ORDER);
	if (flags != 0)
		return CORRUPT(env, "unknown flags 0x%02x", flags);
	dd_get_u32(&r, &c->nchannels);
	dd_get_u32(&r, &c->nstates);
	dd_get_u32(&r, &c->ntrans);
	dd_get_u64(&r, &sum);
	c->order = order;
	if (sum != dd_checksum(data, len))
		return CORRUPT(env, "checksum mismatch");
	if ((uint64_t) c->nchannels * 21 > r.left ||
		(uint64_t) c->nstates * 5 > r.left ||
		(uint64_t) c->ntrans * 16 > r.left ||
		(uint64_t) c->nchannels * 21 + (uint64_t) c->nstates * 5 + (uint64_t) c->ntrans * 16 > r.left)
		return CORRUPT(env, "%u channels, %u states and %u transitions do not fit in %zu bytes",
					   c->nchannels, c->nstates, c->ntrans, len);
	if (c->nstates >= UINT32_MAX - 3)
		return CORRUPT(env, "too many states");
	c->channels = at_alloc(env, sizeof(at_str) * ((size_t) c->nchannels + 1));
	c->ch_journeys = at_alloc(env, sizeof(uint64_t) * ((size_t) c->nchannels + 1));
	c->ch_conversions = at_alloc(env, sizeof(uint64_t) * ((size_t) c->nchannels + 1));
	c->state_len = at_alloc(env, (size_t) c->nstates + 1);
	c->state_ch = at_alloc(env, sizeof(uint32_t) * ((size_t) c->nstates * order + 1));
	c->trans = at_alloc(env, sizeof(at_markov_trans) * ((size_t) c->ntrans + 1));
	if (!c->channels || !c->ch_journeys || !c->ch_conversions || !c->state_len ||
		!c->state_ch || !c->trans)
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
	for (uint32_t i = 0; i < c->nchannels; i++)
	{
		if (!dd_get_u64(&r, &c->ch_journeys[i]) || !dd_get_u64(&r, &c->ch_conversions[i]))
			return CORRUPT(env, "channel statistics run past the end");
		if (c->ch_journeys[i] > AT_DD_MAX_COUNT)
			return CORRUPT(env, "channel %u has a count out of range", i);
	}
	for (uint32_t s = 0; s < c->nstates; s++)
	{
		uint32_t	n,
				   *t = c->state_ch + (size_t) s * order;

		if (DD_POLL(env, s))
			return AT_ECANCELED;
		if (!dd_get_u8(&r, &n) || (size_t) n * 4 > r.left)
			return CORRUPT(env, "state %u runs past the end", s + 1);
		if (n < 1 || n > order)
			return CORRUPT(env, "state %u has %u channels in a chain of order %u", s + 1, n, order);
		c->state_len[s] = (uint8_t) n;
		for (uint32_t i = 0; i < order; i++)
		{
			t[i] = 0;
			if (i < n)
			{
				dd_get_u32(&r, &t[i]);
				if (t[i] >= c->nchannels)
					return CORRUPT(env, "state %u names channel %u of %u", s + 1, t[i], c->nchannels);
			}
		}
		if (s > 0 && dd_cmp_u32s(t - order, c->state_len[s - 1], t, n) >= 0)
			return CORRUPT(env, "state %u is out of order or repeated", s + 1);
	}
	for (uint32_t i = 0; i < c->ntrans; i++)
	{
		at_markov_trans *t = &c->trans[i];

		if (DD_POLL(env, i))
			return AT_ECANCELED;
		if (!dd_get_u32(&r, &t->from) || !dd_get_u32(&r, &t->to) || !dd_get_u64(&r, &t->count))
			return CORRUPT(env, "transition %u runs past the end", i);
		if (t->from > c->nstates || t->to < 1 || t->to > c->nstates + 2)
			return CORRUPT(env, "transition %u goes from state %u to state %u of %u",
						   i, t->from, t->to, c->nstates);
		if (t->count < 1 || t->count > AT_DD_MAX_COUNT)
			return CORRUPT(env, "transition %u has count %llu", i, (unsigned long long) t->count);
		if (i > 0 && (t[-1].from > t->from || (t[-1].from == t->from && t[-1].to >= t->to)))
			return CORRUPT(env, "transition %u is out of order or repeated", i);
	}
	if (r.left != 0)
		return CORRUPT(env, "%zu bytes after the end", r.left);
	return check_model(env, c, AT_ECORRUPT, "corrupt markov model");
}

/* ------------------------------------------------------------------ */
/* Text                                                                 */
/* ------------------------------------------------------------------ */

static at_status
text_state(dd_text *t, const at_markov_counts *c, uint32_t s)
{
	at_status	st;

	if (s == 0)
		return dd_text_put(t, "\"start\"");
	if (s == c->nstates + 1)
		return dd_text_put(t, "\"conversion\"");
	if (s == c->nstates + 2)
		return dd_text_put(t, "\"null\"");
	if ((st = dd_text_put(t, "[")) != AT_OK)
		return st;
	for (uint32_t i = 0; i < c->state_len[s - 1]; i++)
	{
		const at_str *ch = &c->channels[c->state_ch[(size_t) (s - 1) * c->order + i]];

		if ((i > 0 && (st = dd_text_put(t, ",")) != AT_OK) ||
			(st = dd_text_string(t, ch->p, ch->len)) != AT_OK)
			return st;
	}
	return dd_text_put(t, "]");
}

at_status
at_markov_to_text(at_env *env, const at_markov_counts *c, char **out, size_t *len)
{
	dd_text		t = {env, NULL, 0, 0};
	at_status	st;
	char		head[160];

	snprintf(head, sizeof(head),
			 "{\"type\":\"markov\",\"version\":%d,\"order\":%u,\"journeys\":%llu,"
			 "\"conversions\":%llu,\"channels\":[", DD_VERSION, c->order,
			 (unsigned long long) c->journeys, (unsigned long long) c->conversions);
	if ((st = dd_text_put(&t, head)) != AT_OK)
		return st;
	for (uint32_t i = 0; i < c->nchannels; i++)
	{
		if ((st = dd_text_put(&t, i > 0 ? ",[" : "[")) != AT_OK ||
			(st = dd_text_string(&t, c->channels[i].p, c->channels[i].len)) != AT_OK ||
			(st = dd_text_put(&t, ",")) != AT_OK ||
			(st = dd_text_u64(&t, c->ch_journeys[i])) != AT_OK ||
			(st = dd_text_put(&t, ",")) != AT_OK ||
			(st = dd_text_u64(&t, c->ch_conversions[i])) != AT_OK ||
			(st = dd_text_put(&t, "]")) != AT_OK)
			return st;
	}
	if ((st = dd_text_put(&t, "],\"transitions\":[")) != AT_OK)
		return st;
	for (uint32_t i = 0; i < c->ntrans; i++)
	{
		if (DD_POLL(env, i))
			return AT_ECANCELED;
		if ((st = dd_text_put(&t, i > 0 ? ",[" : "[")) != AT_OK ||
			(st = text_state(&t, c, c->trans[i].from)) != AT_OK ||
			(st = dd_text_put(&t, ",")) != AT_OK ||
			(st = text_state(&t, c, c->trans[i].to)) != AT_OK ||
			(st = dd_text_put(&t, ",")) != AT_OK ||
			(st = dd_text_u64(&t, c->trans[i].count)) != AT_OK ||
			(st = dd_text_put(&t, "]")) != AT_OK)
			return st;
	}
	if ((st = dd_text_put(&t, "]}")) != AT_OK)
		return st;
	*out = t.p;
	*len = t.len;
	return AT_OK;
}

#define BADTEXT(env, ...) dd_bad((env), AT_ESYNTAX, "invalid markov model text", __VA_ARGS__)

static bool
is_string(const at_json *v, const char *s)
{
	return v->kind == AT_JSON_STRING && dd_key_is(&v->str, s);
}

/* a state of the text: "start" (as_from), "conversion"/"null" (!as_from), or [names] */
static at_status
text_read_state(at_env *env, at_markov_fit *f, const at_json *v, bool as_from, uint32_t i,
				uint32_t *out)
{
	uint32_t	tuple[AT_MARKOV_MAX_ORDER];
	char		buf[80];

	if (as_from && is_string(v, "start"))
	{
		*out = 0;
		return AT_OK;
	}
	if (!as_from && is_string(v, "conversion"))
	{
		*out = FIT_CONV;
		return AT_OK;
	}
	if (!as_from && is_string(v, "null"))
	{
		*out = FIT_NULL;
		return AT_OK;
	}
	if (v->kind != AT_JSON_ARRAY || v->n < 1 || v->n > f->order)
		return BADTEXT(env, "transition %u: %s state must be %s or an array of 1 to %u "
					   "channel names", i, as_from ? "a from" : "a to",
					   as_from ? "\"start\"" : "\"conversion\", \"null\"", f->order);
	for (uint32_t k = 0; k < v->n; k++)
	{
		int64_t		id;

		if (v->items[k].kind != AT_JSON_STRING)
			return BADTEXT(env, "transition %u: channel names must be strings", i);
		id = dd_names_find(&f->channels, v->items[k].str.p, v->items[k].str.len);
		if (id < 0)
			return BADTEXT(env, "transition %u: channel \"%s\" is not in \"channels\"", i,
						   dd_shown(v->items[k].str.p, v->items[k].str.len, buf, sizeof(buf)));
		tuple[k] = (uint32_t) id;
	}
	{
		uint32_t	s;
		at_status	st = dd_tuples_add(env, &f->states, tuple, v->n, &s, NULL);

		*out = s + 1;
		return st;
	}
}

at_status
at_markov_from_text(at_env *env, const char *text, size_t len, at_markov_counts *out)
{
	static const char *const keys[] = {"type", "version", "order", "journeys",
	"conversions", "channels", "transitions"};
	const at_json *val[7] = {0};
	at_json    *root;
	at_markov_fit *f;
	uint64_t	order,
				version,
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

		for (k = 0; k < 7; k++)
			if (dd_key_is(&root->keys[i], keys[k]))
				break;
		if (k == 7)
			return BADTEXT(env, "unknown key \"%s\"",
						   dd_shown(root->keys[i].p, root->keys[i].len, buf, sizeof(buf)));
		if (val[k] != NULL)
			return BADTEXT(env, "key \"%s\" is given twice", keys[k]);
		val[k] = &root->items[i];
	}
	for (size_t k = 0; k < 7; k++)
		if (val[k] == NULL)
			return BADTEXT(env, "key \"%s\" is missing", keys[k]);
	if (!is_string(val[0], "markov"))
		return BADTEXT(env, "\"type\" must be \"markov\"");
	if (!dd_json_u64(val[1], &version) || version != DD_VERSION)
		return BADTEXT(env, "unsupported \"version\" (this release reads version %d)", DD_VERSION);
	if (!dd_json_u64(val[2], &order) || order < 1 || order > AT_MARKOV_MAX_ORDER)
		return BADTEXT(env, "\"order\" must be an integer between 1 and %d", AT_MARKOV_MAX_ORDER);
	if (!dd_json_u64(val[3], &journeys) || !dd_json_u64(val[4], &conversions))
		return BADTEXT(env, "\"journeys\" and \"conversions\" must be non-negative integers");
	if (val[5]->kind != AT_JSON_ARRAY || val[6]->kind != AT_JSON_ARRAY)
		return BADTEXT(env, "\"channels\" and \"transitions\" must be arrays");
	if ((st = at_markov_fit_create(env, (uint32_t) order, &f)) != AT_OK)
		return st;
	for (uint32_t i = 0; i < val[5]->n; i++)
	{
		const at_json *e = &val[5]->items[i];
		uint32_t	id;
		const char *why;

		if (e->kind != AT_JSON_ARRAY || e->n != 3 || e->items[0].kind != AT_JSON_STRING)
			return BADTEXT(env, "channel %u must be [name, journeys, conversions]", i);
		if ((why = dd_bad_name(e->items[0].str.p, e->items[0].str.len)) != NULL)
			return BADTEXT(env, "channel %u is %s", i, why);
		if ((st = fit_channel(env, f, e->items[0].str.p, e->items[0].str.len, &id)) != AT_OK)
			return st;
		if (id != f->channels.n - 1)
			return BADTEXT(env, "channel \"%s\" is listed twice",
						   dd_shown(e->items[0].str.p, e->items[0].str.len, buf, sizeof(buf)));
		if (!dd_json_u64(&e->items[1], &f->stat[id].journeys) ||
			!dd_json_u64(&e->items[2], &f->stat[id].conversions) ||
			f->stat[id].journeys > AT_DD_MAX_COUNT)
			return BADTEXT(env, "channel %u: journeys and conversions must be integers "
						   "from 0 to %lld", i, (long long) AT_DD_MAX_COUNT);
	}
	for (uint32_t i = 0; i < val[6]->n; i++)
	{
		const at_json *e = &val[6]->items[i];
		uint32_t	from,
					to;
		uint64_t	count;
		bool		added;

		if (DD_POLL(env, i))
			return AT_ECANCELED;
		if (e->kind != AT_JSON_ARRAY || e->n != 3)
			return BADTEXT(env, "transition %u must be [from, to, count]", i);
		if ((st = text_read_state(env, f, &e->items[0], true, i, &from)) != AT_OK ||
			(st = text_read_state(env, f, &e->items[1], false, i, &to)) != AT_OK)
			return st;
		if (!dd_json_u64(&e->items[2], &count) || count < 1 || count > AT_DD_MAX_COUNT)
			return BADTEXT(env, "transition %u: count must be an integer from 1 to %lld", i,
						   (long long) AT_DD_MAX_COUNT);
		if ((st = dd_pairs_add(env, &f->trans, from, to, count, &added)) != AT_OK)
			return st;
		if (!added)
			return BADTEXT(env, "transition %u repeats an earlier one", i);
	}
	if ((st = at_markov_fit_counts(env, f, out)) != AT_OK)
		return st;
	if ((st = check_model(env, out, AT_ESYNTAX, "invalid markov model text")) != AT_OK)
		return st;
	if (out->journeys != journeys || out->conversions != conversions)
		return BADTEXT(env, "\"journeys\" and \"conversions\" do not match the transitions "
					   "(%llu and %llu)", (unsigned long long) out->journeys,
					   (unsigned long long) out->conversions);
	return AT_OK;
}
