/*
 * test_env.h — a malloc-backed at_env and a tiny assertion kit for the core's
 * standalone unit tests.  Every allocation is remembered and freed by
 * test_env_reset(), so tests leak nothing under LeakSanitizer.
 */
#ifndef ATTRIB_TEST_ENV_H
#define ATTRIB_TEST_ENV_H

#include "../../src/core/attrib_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct test_block
{
	struct test_block *next;
	size_t		size;
	/* payload follows, max-aligned */
} test_block;

typedef struct test_env
{
	at_env		env;
	at_error	err;
	test_block *blocks;
	size_t		limit;			/* 0 = unlimited bytes; else alloc fails past it */
	size_t		used;
	int			cancel_after;	/* <0 never; else interrupted() true after N polls */
} test_env;

#define TEST_HDR (((sizeof(test_block) + 15) / 16) * 16)

static void *
test_alloc(void *ud, size_t size)
{
	test_env   *t = ud;
	test_block *b;

	if (t->limit && t->used + size > t->limit)
		return NULL;
	b = malloc(TEST_HDR + size);
	if (!b)
		return NULL;
	b->size = size;
	b->next = t->blocks;
	t->blocks = b;
	t->used += size;
	return (char *) b + TEST_HDR;
}

static void *
test_realloc(void *ud, void *ptr, size_t oldsize, size_t newsize)
{
	void	   *n = test_alloc(ud, newsize);

	if (n && ptr)
		memcpy(n, ptr, oldsize < newsize ? oldsize : newsize);
	return n;					/* the old block is freed at reset */
}

static int
test_interrupted(void *ud)
{
	test_env   *t = ud;

	if (t->cancel_after < 0)
		return 0;
	if (t->cancel_after == 0)
		return 1;
	t->cancel_after--;
	return 0;
}

static void
test_env_init(test_env *t)
{
	memset(t, 0, sizeof(*t));
	t->env.alloc = test_alloc;
	t->env.realloc = test_realloc;
	t->env.interrupted = test_interrupted;
	t->env.ud = t;
	t->env.err = &t->err;
	t->cancel_after = -1;
}

static void
test_env_reset(test_env *t)
{
	while (t->blocks)
	{
		test_block *n = t->blocks->next;

		free(t->blocks);
		t->blocks = n;
	}
	t->used = 0;
	t->limit = 0;
	t->cancel_after = -1;
	memset(&t->err, 0, sizeof(t->err));
}

static int	test_failures = 0;
static int	test_checks = 0;

#define CHECK(cond) do { \
	test_checks++; \
	if (!(cond)) { test_failures++; \
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	test_checks++; \
	if (strcmp(a_, b_) != 0) { test_failures++; \
		fprintf(stderr, "%s:%d: got \"%s\", expected \"%s\"\n", __FILE__, __LINE__, a_, b_); } \
} while (0)

#define CHECK_NEAR(a, b, eps) do { \
	double a_ = (a), b_ = (b); \
	test_checks++; \
	if (!(a_ - b_ <= (eps) && b_ - a_ <= (eps))) { test_failures++; \
		fprintf(stderr, "%s:%d: got %.17g, expected %.17g\n", __FILE__, __LINE__, a_, b_); } \
} while (0)

#endif
