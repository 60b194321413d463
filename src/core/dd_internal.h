/*
 * dd_internal.h — helpers shared by the data-driven core files (dd_util.c,
 * markov_fit.c, markov_solve.c, shapley.c); not part of the core's interface.
 */
#ifndef ATTRIB_DD_INTERNAL_H
#define ATTRIB_DD_INTERNAL_H

#include "datadriven.h"

#define DD_MAX_ALLOC	((size_t) 0x3fffffff)	/* PostgreSQL's MaxAllocSize */
/* poll the interrupt hook once every 4096 steps of a loop */
#define DD_POLL(env, i) ((((i) & 4095u) == 4095u) && at_interrupted(env))

#define DD_MARKOV_MAGIC		0x4d	/* 'M' */
#define DD_SHAPLEY_MAGIC	0x53	/* 'S' */
#define DD_VERSION			1
#define DD_HEADER			24		/* bytes of the common header */

/* Grow *p (elements of elem bytes, capacity *cap) to hold at least need. */
at_status	dd_grow(at_env *env, void **p, uint32_t *cap, size_t need, size_t elem);

uint64_t	dd_hash_bytes(const void *p, size_t n);
uint64_t	dd_hash_u32s(const uint32_t *p, uint32_t n);
/* checksum of a serialized value: every byte except the 8 at offset 16 */
uint64_t	dd_checksum(const uint8_t *data, size_t len);

/* count += add, refusing to pass AT_DD_MAX_COUNT */
at_status	dd_add_count(at_env *env, uint64_t *count, uint64_t add);

/* Names: a find-or-insert dictionary of byte strings. */
typedef struct dd_span
{
	uint32_t	off;			/* into the pool */
	uint32_t	len;
} dd_span;

typedef struct dd_names
{
	uint32_t	n;
	uint32_t	cap;
	dd_span    *ent;
	char	   *pool;
	uint32_t	pool_len;
	uint32_t	pool_cap;
	uint32_t   *slots;			/* 0 empty, else index + 1 */
	uint32_t	nslots;			/* power of two */
} dd_names;

int64_t		dd_names_find(const dd_names *d, const char *p, uint32_t len);
at_status	dd_names_add(at_env *env, dd_names *d, const char *p, uint32_t len,
						 uint32_t *idx, bool *added);
#define DD_NAME(d, i) ((d)->pool + (d)->ent[i].off)

/* Tuples: a find-or-insert set of uint32 sequences (states, coalitions). */
typedef struct dd_tuples
{
	uint32_t	n;
	uint32_t	cap;
	dd_span    *ent;
	uint32_t   *pool;
	uint32_t	pool_len;
	uint32_t	pool_cap;
	uint32_t   *slots;
	uint32_t	nslots;
} dd_tuples;

int64_t		dd_tuples_find(const dd_tuples *d, const uint32_t *t, uint32_t len);
at_status	dd_tuples_add(at_env *env, dd_tuples *d, const uint32_t *t, uint32_t len,
						  uint32_t *idx, bool *added);
#define DD_TUPLE(d, i) ((d)->pool + (d)->ent[i].off)

/* Pairs: (a, b) -> count, added to. */
typedef struct dd_pair
{
	uint64_t	key;			/* a << 32 | b */
	uint64_t	count;
} dd_pair;

typedef struct dd_pairs
{
	uint32_t	n;
	uint32_t	cap;
	dd_pair    *ent;
	uint32_t   *slots;
	uint32_t	nslots;
} dd_pairs;

/* counts[(a, b)] += count; *added tells whether the pair was new */
at_status	dd_pairs_add(at_env *env, dd_pairs *d, uint32_t a, uint32_t b, uint64_t count,
						 bool *added);

/*
 * Stable merge sort of idx[0..n) by cmp (negative, 0, positive); allocates
 * its scratch through env.
 */
typedef int (*dd_cmp) (const void *ctx, uint32_t a, uint32_t b);
at_status	dd_sort(at_env *env, uint32_t *idx, uint32_t n, dd_cmp cmp, const void *ctx);

int			dd_cmp_bytes(const char *a, uint32_t alen, const char *b, uint32_t blen);
/* lexicographic; a proper prefix sorts first */
int			dd_cmp_u32s(const uint32_t *a, uint32_t alen, const uint32_t *b, uint32_t blen);

/* Serialized form: a writer into a buffer sized in advance, and a reader. */
typedef struct dd_writer
{
	uint8_t    *p;
	size_t		len;
} dd_writer;

void		dd_put_u8(dd_writer *w, uint32_t v);
void		dd_put_u32(dd_writer *w, uint32_t v);
void		dd_put_u64(dd_writer *w, uint64_t v);
void		dd_put_bytes(dd_writer *w, const void *p, size_t n);

typedef struct dd_reader
{
	const uint8_t *p;
	size_t		left;
} dd_reader;

bool		dd_get_u8(dd_reader *r, uint32_t *v);
bool		dd_get_u32(dd_reader *r, uint32_t *v);
bool		dd_get_u64(dd_reader *r, uint64_t *v);

/* Check a channel name read back (non-empty, at most AT_MAX_ID_LEN, no NUL). */
const char *dd_bad_name(const char *p, uint32_t len);

/* Text output */
typedef struct dd_text
{
	at_env	   *env;
	char	   *p;
	size_t		len;
	size_t		cap;
} dd_text;

at_status	dd_text_put(dd_text *t, const char *s);
at_status	dd_text_string(dd_text *t, const char *s, size_t len);	/* JSON string */
at_status	dd_text_u64(dd_text *t, uint64_t v);

/* Text input: a non-negative JSON integer (no sign, fraction or exponent). */
bool		dd_json_u64(const at_json *v, uint64_t *out);
bool		dd_key_is(const at_str *k, const char *name);

/* at_fail(env, st, "<prefix>: <fmt>", ...) */
at_status	dd_bad(at_env *env, at_status st, const char *prefix, const char *fmt,...) AT_PRINTF(4, 5);

/* printable, truncated copy of a name for messages */
const char *dd_shown(const char *p, size_t len, char *buf, size_t bufsize);

/* index of name in sorted channels, or -1 */
int64_t		dd_find_sorted(const at_str *channels, uint32_t n, const char *p, uint32_t len);

/* Shapley values of one set, choosing the enumeration: 0 auto, 1 subsets, 2 scan */
at_status	dd_shapley_values_mode(at_env *env, const at_shapley_model *m, const uint32_t *ids,
								   uint32_t nseen, uint32_t nunseen, double *phi,
								   double *phi_unseen, int mode);

#endif							/* ATTRIB_DD_INTERNAL_H */
