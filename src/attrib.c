/*
 * attrib.c — module entry: the palloc-backed core environment and the single
 * mapping from core status codes to SQLSTATEs.
 */
#include "attrib.h"

#include "funcapi.h"
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
	/*
	 * Not a memset of the whole struct: the error's three message buffers are
	 * 768 bytes, and the aggregate's transition function sets up an
	 * environment for every row.  at_fail() fills status and message and
	 * clears detail and hint; attrib_raise() reads the first bytes.
	 */
	e->err.status = AT_OK;
	e->err.message[0] = '\0';
	e->err.detail[0] = '\0';
	e->err.hint[0] = '\0';
	memset(&e->env, 0, sizeof(e->env));
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

/*
 * Set up a materialized SRF result (tuplestore and descriptor).
 *
 * InitMaterializedSRF(fcinfo, 0) builds the descriptor with
 * get_call_result_type() in the per-query context on every call; the executor
 * frees the descriptor itself afterwards but not the catalog arrays and names
 * built along the way, about 0.8 kB per call, so a query calling the function
 * for every journey grew by gigabytes.  With an expectedDesc (always there in
 * FROM and for composite results in a select list) a copy of it is used, which
 * the executor frees.  Without one, the descriptor is built in a temporary
 * context that is deleted once its copy is in the per-query context.
 */
void
attrib_srf_init(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext tmp,
				old;
	TupleDesc	desc;

	if (rsinfo != NULL && IsA(rsinfo, ReturnSetInfo) && rsinfo->expectedDesc != NULL)
	{
		InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
		return;
	}
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
	{
		/* let InitMaterializedSRF report it as for any other function */
		InitMaterializedSRF(fcinfo, 0);
		return;
	}
	tmp = AllocSetContextCreate(CurrentMemoryContext, "attrib SRF descriptor",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(tmp);
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	desc = CreateTupleDescCopy(desc);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap((rsinfo->allowedModes & SFRM_Materialize_Random) != 0,
											  false, work_mem);
	rsinfo->setDesc = desc;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
}
