/*
 * attrib.c — module entry: the palloc-backed core environment and the single
 * mapping from core status codes to SQLSTATEs.
 */
#include "attrib.h"

#include "miscadmin.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

static void *
pg_alloc(void *ud, size_t size)
{
	return MemoryContextAllocExtended((MemoryContext) ud, size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

static void *
pg_realloc(void *ud, void *ptr, size_t oldsize, size_t newsize)
{
	void	   *n = pg_alloc(ud, newsize);

	(void) ud;
	if (n != NULL && ptr != NULL)
	{
		memcpy(n, ptr, Min(oldsize, newsize));
		pfree(ptr);
	}
	return n;
}

static int
pg_interrupted(void *ud)
{
	(void) ud;
	CHECK_FOR_INTERRUPTS();
	return 0;
}

void
attrib_env_init(attrib_env *e, MemoryContext cxt)
{
	memset(e, 0, sizeof(*e));
	e->env.alloc = pg_alloc;
	e->env.realloc = pg_realloc;
	e->env.interrupted = pg_interrupted;
	e->env.ud = cxt ? cxt : CurrentMemoryContext;
	e->env.err = &e->err;
}

static int
sqlstate_of(at_status st)
{
	switch (st)
	{
		case AT_ENOMEM:
			return ERRCODE_OUT_OF_MEMORY;
		case AT_ELIMIT:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case AT_ENULL:
			return ERRCODE_NULL_VALUE_NOT_ALLOWED;
		case AT_ESYNTAX:
			return ERRCODE_INVALID_TEXT_REPRESENTATION;
		case AT_ECORRUPT:
			return ERRCODE_DATA_CORRUPTED;
		case AT_EDUPLICATE:
			return ERRCODE_UNIQUE_VIOLATION;
		case AT_EUNKNOWN_MODEL:
			return ERRCODE_UNDEFINED_OBJECT;
		case AT_EUNKNOWN_OPTION:
		case AT_EBAD_OPTION:
		case AT_EBAD_WEIGHTS:
		case AT_EBAD_VALUE:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		case AT_EBAD_AMOUNT:
			return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
		case AT_ECANCELED:
			return ERRCODE_QUERY_CANCELED;
		case AT_OK:
			break;
	}
	return ERRCODE_INTERNAL_ERROR;
}

void
attrib_raise(const at_error *err)
{
	ereport(ERROR,
			errcode(sqlstate_of(err->status)),
			errmsg("%s", err->message[0] ? err->message : "attribution failed"),
			err->detail[0] ? errdetail("%s", err->detail) : 0,
			err->hint[0] ? errhint("%s", err->hint) : 0);
	pg_unreachable();
}

const char *
attrib_text(Datum d, size_t *len)
{
	text	   *t = (text *) PG_DETOAST_DATUM_PACKED(d);

	*len = VARSIZE_ANY_EXHDR(t);
	return VARDATA_ANY(t);
}
