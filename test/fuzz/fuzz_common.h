/*
 * fuzz_common.h — what every libFuzzer target of the core shares: a malloc-backed
 * at_env whose blocks are all freed after each input (so LeakSanitizer sees
 * nothing), with a memory budget and an optional cancellation after N polls;
 * checks that abort with a message (libFuzzer then saves the input); a byte
 * reader for targets that decode structured input; and an exact checker of
 * at_amount sums.
 *
 * Targets are test/fuzz/fuzz_*.c; test/fuzz/run.sh builds each one with
 * clang -fsanitize=fuzzer,address,undefined against every src/core/*.c.
 */
#ifndef ATTRIB_FUZZ_COMMON_H
#define ATTRIB_FUZZ_COMMON_H

#include "attrib_core.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* The environment                                                      */
/* ------------------------------------------------------------------ */

typedef struct fz_block
{
	struct fz_block *next;
	/* payload follows, 16-byte aligned */
} fz_block;

#define FZ_HDR ((size_t) 16)

typedef struct fz_env
{
	at_env		env;
	at_error	err;
	fz_block   *blocks;
	size_t		used;
	size_t		limit;			/* bytes the core may allocate per input */
	long		cancel_after;	/* < 0: never; else interrupted() after N polls */
} fz_env;

/* 256 MB: far above what any input of libFuzzer's default 4 KB max_len needs
 * legitimately; a claim beyond it gets AT_ENOMEM, as palloc would fail. */
#define FZ_DEFAULT_LIMIT ((size_t) 256 << 20)

static void *
fz_alloc(void *ud, size_t size)
{
	fz_env	   *f = ud;
	fz_block   *b;

	if (size > f->limit || f->used + size > f->limit)
		return NULL;
	b = malloc(FZ_HDR + size);
	if (b == NULL)
		return NULL;
	b->next = f->blocks;
	f->blocks = b;
	f->used += size;
	/* garbage, not zeros: the core must not rely on fresh memory being zero */
	memset((char *) b + FZ_HDR, 0xA5, size);
	return (char *) b + FZ_HDR;
}

static void *
fz_realloc(void *ud, void *ptr, size_t oldsize, size_t newsize)
{
	void	   *n = fz_alloc(ud, newsize);

	if (n != NULL && ptr != NULL)
		memcpy(n, ptr, oldsize < newsize ? oldsize : newsize);
	return n;					/* the old block goes at reset */
}

static int
fz_interrupted(void *ud)
{
	fz_env	   *f = ud;

	if (f->cancel_after < 0)
		return 0;
	if (f->cancel_after == 0)
		return 1;
	f->cancel_after--;
	return 0;
}

static void
fz_init(fz_env *f)
{
	memset(f, 0, sizeof(*f));
	f->env.alloc = fz_alloc;
	f->env.realloc = fz_realloc;
	f->env.interrupted = fz_interrupted;
	f->env.ud = f;
	f->env.err = &f->err;
	f->limit = FZ_DEFAULT_LIMIT;
	f->cancel_after = -1;
}

static void
fz_reset(fz_env *f)
{
	while (f->blocks != NULL)
	{
		fz_block   *n = f->blocks->next;

		free(f->blocks);
		f->blocks = n;
	}
	f->used = 0;
	memset(&f->err, 0, sizeof(f->err));
}

/* ------------------------------------------------------------------ */
/* Checks                                                               */
/* ------------------------------------------------------------------ */

static void fz_die(const char *file, int line, const char *fmt,...)
			__attribute__((format(printf, 3, 4), noreturn));

static void
fz_die(const char *file, int line, const char *fmt,...)
{
	va_list		ap;

	fprintf(stderr, "\n%s:%d: FUZZ CHECK FAILED: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define FZ_CHECK(cond, ...) \
	do { if (!(cond)) fz_die(__FILE__, __LINE__, __VA_ARGS__); } while (0)

/*
 * A failed core call must report the status it returns, with a message that is
 * a NUL-terminated, non-empty string (the glue prints it), and no failure may
 * be AT_OK.
 */
static void
fz_check_failure(const fz_env *f, at_status st, const char *call)
{
	FZ_CHECK(st != AT_OK, "%s: fz_check_failure on success", call);
	FZ_CHECK(f->err.status == st, "%s returned %d but err.status is %d", call, (int) st,
			 (int) f->err.status);
	FZ_CHECK(memchr(f->err.message, '\0', AT_MSG_LEN) != NULL &&
			 memchr(f->err.detail, '\0', AT_MSG_LEN) != NULL &&
			 memchr(f->err.hint, '\0', AT_MSG_LEN) != NULL,
			 "%s: error text is not NUL-terminated", call);
	FZ_CHECK(f->err.message[0] != '\0', "%s failed (status %d) without a message", call, (int) st);
}

/* The statuses any call may give for reasons outside the input's validity. */
static int
fz_resource_status(at_status st)
{
	return st == AT_ENOMEM || st == AT_ECANCELED || st == AT_ELIMIT;
}

/* ------------------------------------------------------------------ */
/* Reading structured input                                             */
/* ------------------------------------------------------------------ */

typedef struct fz_reader
{
	const uint8_t *p;
	size_t		left;
} fz_reader;

/* the next byte, or 0 once the input is used up */
static uint32_t
fz_u8(fz_reader *r)
{
	if (r->left == 0)
		return 0;
	r->left--;
	return *r->p++;
}

static uint32_t
fz_u16(fz_reader *r)
{
	uint32_t	lo = fz_u8(r);

	return lo | fz_u8(r) << 8;
}

static uint64_t
fz_u64(fz_reader *r)
{
	uint64_t	v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t) fz_u8(r) << (8 * i);
	return v;
}

/* ------------------------------------------------------------------ */
/* Exact sums of amounts                                                */
/* ------------------------------------------------------------------ */

#define FZ_LIMB_BASE 1000000000u

/* An amount must be well formed: limbs < 10^9, no leading zero limb. */
static void
fz_check_amount(const at_amount *a, const char *what)
{
	FZ_CHECK(a->nlimbs == 0 || a->limbs != NULL, "%s: %u limbs but no data", what, a->nlimbs);
	for (uint32_t i = 0; i < a->nlimbs; i++)
		FZ_CHECK(a->limbs[i] < FZ_LIMB_BASE, "%s: limb %u is %u", what, i, a->limbs[i]);
	FZ_CHECK(a->nlimbs == 0 || a->limbs[a->nlimbs - 1] != 0, "%s: leading zero limb", what);
}

/* |a| compared with |b|: -1, 0, 1 (both well formed) */
static int
fz_cmp_mag(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
	if (na != nb)
		return na < nb ? -1 : 1;
	for (uint32_t i = na; i-- > 0;)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* acc[0..*n) += limbs[0..m); acc has room for max(*n, m) + 1 limbs */
static void
fz_add_mag(uint32_t *acc, uint32_t *n, const uint32_t *limbs, uint32_t m)
{
	uint32_t	len = *n > m ? *n : m;
	uint32_t	carry = 0;

	for (uint32_t i = 0; i < len; i++)
	{
		uint32_t	s = (i < *n ? acc[i] : 0) + (i < m ? limbs[i] : 0) + carry;

		carry = s >= FZ_LIMB_BASE;
		acc[i] = carry ? s - FZ_LIMB_BASE : s;
	}
	if (carry)
		acc[len++] = 1;
	while (len > 0 && acc[len - 1] == 0)
		len--;
	*n = len;
}

/*
 * The parts of a split must each be well formed, at a's scale, of a's sign (or
 * zero), and their magnitudes must add up to |a| exactly.  Returns nothing;
 * aborts with the first violation.
 */
static void
fz_check_split_sum(const at_amount *a, const at_amount *part, uint32_t n)
{
	uint32_t	cap = a->nlimbs + 2;
	uint32_t   *acc;
	uint32_t	len = 0;

	for (uint32_t i = 0; i < n; i++)
		if (part[i].nlimbs + 2 > cap)
			cap = part[i].nlimbs + 2;
	acc = calloc(cap + 1, sizeof(uint32_t));
	FZ_CHECK(acc != NULL, "out of memory in the checker");
	fz_check_amount(a, "amount");
	for (uint32_t i = 0; i < n; i++)
	{
		char		what[32];

		snprintf(what, sizeof(what), "part %u", i);
		fz_check_amount(&part[i], what);
		FZ_CHECK(part[i].scale == a->scale, "part %u has scale %d, the amount %d", i,
				 (int) part[i].scale, (int) a->scale);
		FZ_CHECK(part[i].nlimbs == 0 || part[i].negative == a->negative,
				 "part %u has the wrong sign", i);
		FZ_CHECK(fz_cmp_mag(part[i].limbs, part[i].nlimbs, a->limbs, a->nlimbs) <= 0,
				 "part %u is larger than the amount", i);
		fz_add_mag(acc, &len, part[i].limbs, part[i].nlimbs);
		FZ_CHECK(len <= cap, "checker overflow");
	}
	FZ_CHECK(fz_cmp_mag(acc, len, a->limbs, a->nlimbs) == 0,
			 "the %u parts do not sum to the amount (%u vs %u limbs, low limb %u vs %u)",
			 n, len, a->nlimbs, len ? acc[0] : 0, a->nlimbs ? a->limbs[0] : 0);
	free(acc);
}

#endif							/* ATTRIB_FUZZ_COMMON_H */
