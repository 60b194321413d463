/*
 * attrib_core.h — the attribution engine's pure-C interface.
 *
 * Nothing here includes a PostgreSQL header: the core is plain C11 and is unit
 * tested, sanitized and fuzzed as a standalone program.  The glue (src/, one level up)
 * supplies memory and interrupt callbacks through at_env and maps at_status codes
 * to SQLSTATEs in one place (src/attrib_error.c).
 *
 * Times are int64 microseconds since 2000-01-01 00:00:00 UTC, the same epoch and
 * unit as PostgreSQL's timestamptz, so the glue passes them through unchanged.
 */
#ifndef ATTRIB_CORE_H
#define ATTRIB_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Status codes and errors                                              */
/* ------------------------------------------------------------------ */

typedef enum at_status
{
	AT_OK = 0,
	AT_ENOMEM,					/* allocation failed */
	AT_ELIMIT,					/* beyond a documented size limit */
	AT_ENULL,					/* NULL where a value is required */
	AT_ESYNTAX,					/* malformed text input (journey text, option JSON) */
	AT_ECORRUPT,				/* corrupt binary / serialized value */
	AT_EDUPLICATE,				/* the same touch id twice in one journey */
	AT_EUNKNOWN_MODEL,			/* model name not known */
	AT_EUNKNOWN_OPTION,			/* option name not known for the model */
	AT_EBAD_OPTION,				/* option value out of range or of wrong type */
	AT_EBAD_WEIGHTS,			/* custom weights negative or not summing to 1 */
	AT_EBAD_AMOUNT,				/* NaN, infinity or malformed amount */
	AT_EBAD_VALUE,				/* other invalid argument value (empty id, infinite time, ...) */
	AT_ECANCELED				/* the interrupt hook asked us to stop */
} at_status;

#define AT_MSG_LEN 512

/* Filled by a failing core function; the glue turns it into ereport(ERROR). */
typedef struct at_error
{
	at_status	status;
	char		message[AT_MSG_LEN];	/* lower case, no trailing period */
	char		detail[AT_MSG_LEN];		/* full sentence naming the bad value, or "" */
	char		hint[AT_MSG_LEN];		/* full sentence, or "" */
} at_error;

/*
 * The environment every core call runs in.  alloc/realloc never return memory the
 * caller must free individually: in PostgreSQL they are palloc/repalloc in the
 * current memory context; in unit tests they may be malloc with a tracking list.
 * alloc returning NULL means out of memory (core returns AT_ENOMEM).
 * interrupted is polled in loops that grow with the data; non-zero means cancel.
 * (In PostgreSQL the hook may simply CHECK_FOR_INTERRUPTS(), which longjmps; the
 * core holds no resources outside env memory, so that is safe.)
 */
typedef struct at_env
{
	void	   *(*alloc) (void *ud, size_t size);
	void	   *(*realloc) (void *ud, void *ptr, size_t oldsize, size_t newsize);
	int			(*interrupted) (void *ud);
	void	   *ud;
	at_error   *err;			/* never NULL */
} at_env;

/*
 * Errors: at_fail sets the status and the message (printf format) and clears
 * detail and hint; at_detail and at_hint then set those and return the status,
 * so a failure reads:  at_fail(env, AT_EBAD_OPTION, "invalid half_life \"%s\"", s);
 *                      return at_hint(env, "Give a positive number of days.");
 */
#if defined(__GNUC__) || defined(__clang__)
#define AT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define AT_PRINTF(f, a)
#endif
at_status	at_fail(at_env *env, at_status status, const char *fmt,...) AT_PRINTF(3, 4);
at_status	at_detail(at_env *env, const char *fmt,...) AT_PRINTF(2, 3);
at_status	at_hint(at_env *env, const char *fmt,...) AT_PRINTF(2, 3);
void	   *at_alloc(at_env *env, size_t size);	/* NULL on OOM (err set) */
void	   *at_realloc(at_env *env, void *p, size_t oldsize, size_t newsize);
bool		at_interrupted(at_env *env);	/* true: err set to AT_ECANCELED */

/* ------------------------------------------------------------------ */
/* Limits                                                               */
/* ------------------------------------------------------------------ */

#define AT_MAX_TOUCHES		(1u << 22)	/* 4,194,304 touches in one journey */
#define AT_MAX_ID_LEN		1024		/* bytes of a touch id, channel or stage name */
#define AT_MAX_STAGES		24			/* stage events attached to one journey */
#define AT_MAX_SCALE		1000		/* decimal places of a money amount */

/* ------------------------------------------------------------------ */
/* Journeys                                                             */
/* ------------------------------------------------------------------ */

typedef struct at_str
{
	const char *p;
	uint32_t	len;
} at_str;

typedef struct at_touch
{
	int64_t		at;				/* occurred_at, microseconds since 2000-01-01 UTC */
	uint32_t	channel;		/* index into at_journey.channels */
	uint32_t	id_off;			/* offset of the id's bytes in at_journey.ids */
	uint32_t	id_len;
} at_touch;

typedef enum at_outcome
{
	AT_OUTCOME_NONE = 0,		/* no opportunity context attached */
	AT_OUTCOME_WON = 1,
	AT_OUTCOME_OPEN = 2,
	AT_OUTCOME_LOST = 3
} at_outcome;

typedef struct at_stage
{
	at_str		name;
	int64_t		at;				/* first time the opportunity/contacts entered it */
} at_stage;

/* Bits of at_context.has */
#define AT_HAS_CREATED	0x01
#define AT_HAS_CLOSED	0x02
#define AT_HAS_LEAD		0x04
#define AT_HAS_AS_OF	0x08

typedef struct at_context
{
	uint8_t		outcome;		/* at_outcome */
	uint8_t		has;			/* AT_HAS_* bits: which times below are set */
	int64_t		created_at;		/* opportunity created */
	int64_t		closed_at;		/* opportunity closed (won or lost) */
	int64_t		lead_created_at;	/* earliest lead creation of in-scope contacts */
	int64_t		as_of;			/* "now" for open opportunities */
	uint32_t	nstages;
	at_stage   *stages;			/* at most AT_MAX_STAGES, names unique */
} at_context;

/*
 * A journey: touches ordered by (at, id bytewise), ids unique, channel names
 * deduplicated in order of first appearance.  This canonical form means equal
 * journeys serialize to equal bytes.
 */
typedef struct at_journey
{
	uint32_t	ntouches;
	at_touch   *touches;
	uint32_t	nchannels;
	at_str	   *channels;
	const char *ids;			/* pool of touch id bytes */
	size_t		ids_len;
	bool		has_context;
	at_context	ctx;
} at_journey;

/* Growing, unsorted collection of touches: the aggregate's transition state. */
typedef struct at_builder
{
	uint32_t	ntouches;
	uint32_t	cap_touches;
	at_touch   *touches;
	char	   *ids;
	size_t		ids_len;
	size_t		ids_cap;
	uint32_t	nchannels;
	uint32_t	cap_channels;
	at_str	   *channels;		/* names copied into chan_pool */
	char	   *chan_pool;
	size_t		chan_len;
	size_t		chan_cap;
	uint32_t   *chan_hash;		/* open addressing, 0 = empty, else index+1 */
	uint32_t	hash_cap;
} at_builder;

void		at_builder_init(at_builder *b);
at_status	at_builder_add(at_env *env, at_builder *b, const char *id, size_t id_len,
						   int64_t at, const char *channel, size_t channel_len);
/* Add every touch of src to dst (the aggregate combine function). */
at_status	at_builder_merge(at_env *env, at_builder *dst, const at_builder *src);
/* Sort, check ids unique, produce the canonical journey (no context). */
at_status	at_builder_finish(at_env *env, const at_builder *b, at_journey *out);

/* Partial aggregate state <-> bytes (versioned, length-checked). */
at_status	at_builder_serialize(at_env *env, const at_builder *b, uint8_t **out, size_t *len);
at_status	at_builder_deserialize(at_env *env, const uint8_t *data, size_t len, at_builder *out);

/*
 * Journey <-> bytes.  The byte form is the storage and the binary send/recv form
 * (little-endian, leading format version).  at_journey_decode checks every length,
 * index and the canonical order, and rejects anything else with AT_ECORRUPT; the
 * decoded journey points into data (no copy) except for its arrays.
 */
at_status	at_journey_encode(at_env *env, const at_journey *j, uint8_t **out, size_t *len);
at_status	at_journey_decode(at_env *env, const uint8_t *data, size_t len, at_journey *out);

/* Journey <-> readable JSON text (times in UTC, ISO 8601). */
at_status	at_journey_to_text(at_env *env, const at_journey *j, char **out, size_t *len);
at_status	at_journey_from_text(at_env *env, const char *text, size_t len, at_journey *out);

/* Timestamps <-> "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (input also takes ±HH:MM). */
size_t		at_time_format(int64_t t, char *buf);	/* buf >= 40 bytes; returns length */
at_status	at_time_parse(at_env *env, const char *s, size_t len, int64_t *out);

/*
 * Attach an opportunity's context and cut the journey to its window: touches
 * before created_at - lookback (when lookback >= 0 and created_at is set) and
 * after closed_at (won/lost) or as_of (open, when set) are dropped.  lookback < 0
 * means no limit.  The result is a new journey (channels re-canonicalized).
 */
at_status	at_journey_with_context(at_env *env, const at_journey *in,
									const at_context *ctx, int64_t lookback,
									at_journey *out);

/* ------------------------------------------------------------------ */
/* Minimal JSON (journey text and model options)                        */
/* ------------------------------------------------------------------ */

typedef enum at_json_kind
{
	AT_JSON_NULL,
	AT_JSON_FALSE,
	AT_JSON_TRUE,
	AT_JSON_NUMBER,
	AT_JSON_STRING,
	AT_JSON_ARRAY,
	AT_JSON_OBJECT
} at_json_kind;

typedef struct at_json
{
	at_json_kind kind;
	double		num;			/* AT_JSON_NUMBER */
	at_str		str;			/* AT_JSON_STRING (unescaped, NUL-terminated); NUMBER: its text */
	uint32_t	n;				/* ARRAY/OBJECT: number of items */
	struct at_json *items;		/* ARRAY/OBJECT values */
	at_str	   *keys;			/* OBJECT keys (unescaped), parallel to items */
} at_json;

/* Parse one JSON value (RFC 8259; nesting at most 64 deep). */
at_status	at_json_parse(at_env *env, const char *text, size_t len, at_json **out);

/* ------------------------------------------------------------------ */
/* Milestones and models                                                */
/* ------------------------------------------------------------------ */

/* Position bits; stage k of the context is bit AT_POS_STAGE0 << k. */
#define AT_POS_FT		0x01u
#define AT_POS_LC		0x02u
#define AT_POS_OC		0x04u
#define AT_POS_CW		0x08u
#define AT_POS_LT		0x10u
#define AT_POS_STAGE0	0x20u
#define AT_POS_NFIXED	5

typedef enum at_model_id
{
	AT_M_FIRST_TOUCH,
	AT_M_LAST_TOUCH,
	AT_M_LEAD_CREATION,
	AT_M_OPPORTUNITY_CREATION,
	AT_M_LAST_NON_DIRECT,
	AT_M_FIRST_NON_DIRECT,
	AT_M_LINEAR,
	AT_M_POSITION_BASED,
	AT_M_J_SHAPED,
	AT_M_INVERSE_J,
	AT_M_U_SHAPED,
	AT_M_W_SHAPED,
	AT_M_FULL_PATH,
	AT_M_CUSTOM,
	AT_M_TIME_DECAY,
	AT_M_INFLUENCE,
	AT_M_NMODELS
} at_model_id;

/* Option bits: which options a model accepts */
#define AT_OPT_EXCLUDE		0x01u	/* exclude_channels: [text] */
#define AT_OPT_COLLAPSE		0x02u	/* collapse_repeats: bool */
#define AT_OPT_DIRECT		0x04u	/* direct_channels: [text] */
#define AT_OPT_HALF_LIFE	0x08u	/* half_life: days (number) or "N unit" */
#define AT_OPT_NORMALIZE	0x10u	/* normalize: bool */
#define AT_OPT_WEIGHTS		0x20u	/* weights: {"FT":..,"stage:SQL":..,"middle":..} */

typedef struct at_model_info
{
	const char *name;
	const char *family;			/* single-touch, even, index-positional, ... */
	bool		additive;
	uint32_t	options;		/* AT_OPT_* */
	const char *definition;
	const char *source;
} at_model_info;

const at_model_info *at_model_catalog(at_model_id m);
/* Look a model name up (case-sensitive); AT_EUNKNOWN_MODEL names it and hints. */
at_status	at_model_lookup(at_env *env, const char *name, size_t len, at_model_id *out);

typedef struct at_weight_entry
{
	at_str		position;		/* "FT","LC","OC","CW","LT","middle" or "stage:NAME" */
	double		weight;
	uint64_t	units;			/* weight exactly, in units of 1 / wscale (if exact) */
} at_weight_entry;

typedef struct at_options
{
	at_model_id model;
	uint32_t	nexclude;
	at_str	   *exclude;		/* channel names, exact match */
	bool		collapse_repeats;
	uint32_t	ndirect;		/* 0: the default, "direct" */
	at_str	   *direct;			/* compared case-insensitively (ASCII) */
	double		half_life_us;	/* > 0; default 7 days */
	bool		normalize;		/* default true */
	uint32_t	nweights;		/* custom: entries other than middle */
	at_weight_entry *weights;
	double		middle;			/* custom: middle share */
	/*
	 * custom: when wexact, every weight (and middle) is the decimal fraction
	 * units / wscale exactly (the shortest decimal that reads back as the given
	 * double, at most 18 digits), so the money split can use exact ratios.
	 */
	bool		wexact;
	uint64_t	middle_units;
	uint64_t	wscale;			/* a power of ten, <= 10^18 */
} at_options;

/* Defaults for model m, then apply the JSON object options (may be NULL/empty). */
at_status	at_options_parse(at_env *env, at_model_id m, const char *json, size_t len,
							 at_options *out);

/*
 * The positions every touch of j holds (FT, LC, OC, CW, LT, stages), as bits,
 * for the journey exactly as stored (no exclusion): the journey timeline.
 */
at_status	at_positions(at_env *env, const at_journey *j, uint32_t *pos);

/*
 * Weights of every touch of j under the options' model.  weight[i] >= 0 for every
 * touch; touches removed by exclude_channels / collapse_repeats or not counted by
 * the model get 0.  pos[i] gets the positions touch i holds in the prepared
 * journey (0 for removed touches).  For additive models the weights sum to 1 when
 * at least one touch remains; *credited is the number of touches that remain.
 */
at_status	at_weights(at_env *env, const at_journey *j, const at_options *opt,
					   double *weight, uint32_t *pos, uint32_t *credited);

/*
 * at_weights, and also the weights as exact integers when the model's weights
 * are rational (single-touch, linear, the positional models, custom weights
 * given as decimals): then *exact is set and weight[i] = q[i] / sum(q) exactly,
 * with 0 < sum(q) < 2^64 (when at least one touch is credited).  SPEC §4's
 * remainder ties are exact ties only with exact ratios (0.4 : 0.2/3 is not one
 * in binary floating point).  Otherwise (time decay, influence, no credited
 * touch, or ratios too large for 64 bits) *exact is false and q is unspecified.
 */
at_status	at_weights_exact(at_env *env, const at_journey *j, const at_options *opt,
							 double *weight, uint64_t *q, bool *exact,
							 uint32_t *pos, uint32_t *credited);

/* "FT", "LC", "OC", "CW", "LT" for k = 0..4 (bit 1 << k); stage k is "stage:" + name. */
const char *at_fixed_position_name(int k);

/* ------------------------------------------------------------------ */
/* Money                                                                */
/* ------------------------------------------------------------------ */

/*
 * An exact decimal amount in minor units: value = (negative ? -1 : 1) *
 * (sum of limbs[i] * 10^(9*i)) / 10^scale.  limbs are base 10^9, little-endian,
 * no leading zero limbs (zero has nlimbs == 0).
 */
typedef struct at_amount
{
	bool		negative;
	int32_t		scale;
	uint32_t	nlimbs;
	uint32_t   *limbs;
} at_amount;

/*
 * Parse a decimal text ("-1234.5678", as numeric_out prints; no exponent) and round
 * it half away from zero to `scale` decimals.  "NaN", "Infinity", "-Infinity" and
 * malformed text give AT_EBAD_AMOUNT naming the text.
 */
at_status	at_amount_parse(at_env *env, const char *text, size_t len, int32_t scale,
							at_amount *out);
/* Decimal text of an amount with exactly `scale` decimals (NUL-terminated). */
at_status	at_amount_format(at_env *env, const at_amount *a, char **out, size_t *len);
/* true and *out set when the minor-unit value fits in int64 */
bool		at_amount_to_int64(const at_amount *a, int64_t *out);

/*
 * Split a among n weights (>= 0, finite, not all 0) by the largest-remainder method.
 * The weights are first quantized exactly to integers: with 2^e the power of two
 * just above the largest weight (frexp), q_i = round(w_i * 2^(P-e)), half to even,
 * where P is the largest integer for which S = sum q_i < 2^64 (so S >= 2^63 - n/2:
 * the ratios keep about 63 bits; 41 <= P <= 64).  Zero weights get q_i = 0, and so
 * do positive weights with w_i * 2^(P-e) <= 1/2 (about 2^-64 of the sum or less):
 * they get no money.  Then share_i = floor(q_i * |a| / S) in exact integer
 * arithmetic, and the leftover minor units (fewer than n) go one each to the
 * largest remainders q_i * |a| mod S, ties to the lower index.  Equal weights thus
 * get equal shares give or take one minor unit, the extra units to the lowest
 * indices, for any amount.  The results sum to a exactly; signs follow a.
 */
at_status	at_amount_split(at_env *env, const at_amount *a, const double *weight,
							uint32_t n, at_amount *out);
/*
 * The same split with exact integer weights q_i (not all 0, sum < 2^64): share_i =
 * floor(q_i * |a| / S), leftover units to the largest remainders, ties to the
 * lower index.  at_amount_split is this after quantizing its double weights.
 */
at_status	at_amount_split_exact(at_env *env, const at_amount *a, const uint64_t *q,
								  uint32_t n, at_amount *out);
/*
 * The same splits with the shares as integers of a's minor units (share *
 * 10^scale), for amounts with |a| * 10^scale <= INT64_MAX: then *done is true
 * and out64[0..n-1] holds exactly the shares of the at_amount versions;
 * otherwise *done is false and out64 is untouched (use those).  No limbs are
 * allocated: what credit_arrays stores needs only these integers.
 */
at_status	at_amount_split_i64(at_env *env, const at_amount *a, const double *weight,
								uint32_t n, int64_t *out64, bool *done);
at_status	at_amount_split_exact_i64(at_env *env, const at_amount *a, const uint64_t *q,
									  uint32_t n, int64_t *out64, bool *done);
/* One non-additive share: w * a rounded half away from zero to a's scale (w >= 0). */
at_status	at_amount_scale(at_env *env, const at_amount *a, double w, at_amount *out);

#endif							/* ATTRIB_CORE_H */
