/*
 * dd_glue.h — the glue of the data-driven models (dd_object.c, markov_glue.c,
 * shapley_glue.c): fitted values as an expanded object so the aggregates can
 * update their state in place, and the cache of solved models for credits.
 */
#ifndef ATTRIB_DD_GLUE_H
#define ATTRIB_DD_GLUE_H

#include "attrib.h"

#include "datadriven.h"
#include "utils/expandeddatum.h"

typedef enum dd_kind
{
	DD_MARKOV = 'M',
	DD_SHAPLEY = 'S'
} dd_kind;

/*
 * A fit being aggregated: the core fit lives in the object's own memory
 * context (a child of the aggregate context), and its canonical bytes are
 * computed only when PostgreSQL flattens it (partial results sent to the
 * leader, the final value).
 */
typedef struct dd_object
{
	ExpandedObjectHeader hdr;
	dd_kind		kind;
	void	   *fit;			/* at_markov_fit or at_shapley_fit */
	attrib_env	env;			/* allocates in hdr.eoh_context */
	uint8	   *flat;			/* canonical bytes, NULL when stale */
	size_t		flat_len;
} dd_object;

extern MemoryContext dd_agg_context(FunctionCallInfo fcinfo, const char *fn, const char *agg);

/*
 * The aggregate state argument: our own read-write object in aggcxt is
 * returned as is (updated in place); any other value is copied into a new
 * object in aggcxt; NULL stays NULL.
 */
extern dd_object *dd_state_arg(FunctionCallInfo fcinfo, int argno, dd_kind kind,
							   MemoryContext aggcxt);
extern dd_object *dd_object_new(dd_kind kind, MemoryContext parent, uint32 order);
/* add a serialized value (validated) to the object */
extern void dd_object_add_bytes(dd_object *o, const uint8 *data, size_t len);
extern Datum dd_object_datum(dd_object *o);

/* bytes of a model argument (detoasted or flattened), and a new value */
extern const uint8 *dd_arg_bytes(Datum d, size_t *len);
extern Datum dd_value(const uint8 *bytes, size_t len, const char *what);

/* A model argument decoded and made ready to use, cached in fn_extra. */
typedef struct dd_cache
{
	MemoryContext cxt;			/* holds this struct, the bytes and the model */
	dd_kind		kind;
	uint8	   *bytes;
	size_t		len;
	at_markov_counts markov_counts;
	at_markov_model markov;
	at_shapley_counts shapley_counts;
	at_shapley_model shapley;
} dd_cache;

extern dd_cache *dd_cached_model(FunctionCallInfo fcinfo, int argno, dd_kind kind);

/* options jsonb argument -> core options of the data-driven models */
extern void dd_options_arg(attrib_env *e, FunctionCallInfo fcinfo, int argno,
						   const char *model_name, at_options *opt);

#endif
