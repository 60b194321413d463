/*
 * env.c — error reporting, memory and interrupt helpers shared by the whole core.
 */
#include "attrib_core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void set_text(char *dst, const char *fmt, va_list ap) AT_PRINTF(2, 0);

static void
set_text(char *dst, const char *fmt, va_list ap)
{
	int			n = vsnprintf(dst, AT_MSG_LEN, fmt, ap);

	if (n < 0)
		dst[0] = '\0';
}

at_status
at_fail(at_env *env, at_status status, const char *fmt,...)
{
	va_list		ap;

	env->err->status = status;
	va_start(ap, fmt);
	set_text(env->err->message, fmt, ap);
	va_end(ap);
	env->err->detail[0] = '\0';
	env->err->hint[0] = '\0';
	return status;
}

at_status
at_detail(at_env *env, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	set_text(env->err->detail, fmt, ap);
	va_end(ap);
	return env->err->status;
}

at_status
at_hint(at_env *env, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	set_text(env->err->hint, fmt, ap);
	va_end(ap);
	return env->err->status;
}

void *
at_alloc(at_env *env, size_t size)
{
	void	   *p = env->alloc(env->ud, size ? size : 1);

	if (p == NULL)
		at_fail(env, AT_ENOMEM, "out of memory");
	return p;
}

void *
at_realloc(at_env *env, void *ptr, size_t oldsize, size_t newsize)
{
	void	   *p;

	if (ptr == NULL)
		return at_alloc(env, newsize);
	p = env->realloc(env->ud, ptr, oldsize, newsize ? newsize : 1);
	if (p == NULL)
		at_fail(env, AT_ENOMEM, "out of memory");
	return p;
}

bool
at_interrupted(at_env *env)
{
	if (env->interrupted != NULL && env->interrupted(env->ud))
	{
		at_fail(env, AT_ECANCELED, "canceling attribution on user request");
		return true;
	}
	return false;
}
