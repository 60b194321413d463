/*
 * datadriven.h — the data-driven models (SPEC §3 "Data-driven"): exact Markov
 * chains of order 1..4 and exact Shapley values, fitted from journeys with an
 * outcome.  Plain C11, no PostgreSQL header, like the rest of the core.
 *
 * A *fit* is a growing set of counts (at_markov_fit, at_shapley_fit) with its
 * own channel-name dictionary.  Fits merge by adding counts (names remapped), so
 * merging is associative and commutative and a fit does not depend on the
 * order its journeys or parts arrive in.  A fit's *counts* (at_markov_counts,
 * at_shapley_counts) are its canonical snapshot: channels sorted bytewise,
 * everything else sorted by channel index, so equal fits have equal bytes and
 * equal text.  Counts encode to a versioned little-endian byte form and to a
 * readable JSON text; both decoders validate every length, index, count and
 * ordering (and Markov flow conservation) and reject anything else with
 * AT_ECORRUPT (bytes) or AT_ESYNTAX / AT_ECORRUPT (text).
 *
 * A *model* (at_markov_model, at_shapley_model) is what counts are turned into
 * to be used: removal effects and channel weights, or Shapley lookup tables.
 * Models point into the counts they were made from.
 *
 * Memory: every function allocates through env and never frees; a fit's own
 * arrays are allocated through the env passed to the functions that grow it
 * (create, add, add_counts), so that env must outlive the fit.  A failed add
 * may leave a fit partly updated: discard it.
 */
#ifndef ATTRIB_DATADRIVEN_H
#define ATTRIB_DATADRIVEN_H

#include "attrib_core.h"

/* ------------------------------------------------------------------ */
/* Limits and tolerances                                                */
/* ------------------------------------------------------------------ */

#define AT_MARKOV_MAX_ORDER		4
#define AT_SHAPLEY_MAX_CHANNELS	1000	/* unique channels in one journey */
#define AT_DD_MAX_COUNT			INT64_MAX	/* every count and sum of counts */

/*
 * The Markov solver: strongly connected components of at most
 * AT_MARKOV_DENSE_MAX states are solved by direct elimination; larger ones by
 * Gauss-Seidel sweeps from below (0) and above (1) at once, which bracket the
 * exact solution, until every state's bracket is within AT_MARKOV_TOLERANCE
 * (relative), at most AT_MARKOV_MAX_SWEEPS sweeps (AT_ELIMIT beyond), with
 * certified geometric extrapolation (markov_solve.c).
 */
#define AT_MARKOV_DENSE_MAX		400
#define AT_MARKOV_TOLERANCE		1e-13
#define AT_MARKOV_MAX_SWEEPS	100000

/*
 * Removal effects below AT_DD_ZERO, and Shapley values within AT_DD_ZERO times
 * the largest characteristic value involved of 0, are rounding noise and count
 * as exactly 0.
 */
#define AT_DD_ZERO				1e-12

/* ------------------------------------------------------------------ */
/* Markov                                                               */
/* ------------------------------------------------------------------ */

/*
 * State numbering in counts: 0 is start, 1..nstates the transient states (in
 * canonical order), nstates + 1 conversion, nstates + 2 null.
 */
typedef struct at_markov_trans
{
	uint32_t	from;
	uint32_t	to;
	uint64_t	count;
} at_markov_trans;

typedef struct at_markov_counts
{
	uint32_t	order;			/* 1..AT_MARKOV_MAX_ORDER */
	uint32_t	nchannels;
	at_str	   *channels;		/* sorted bytewise, unique */
	uint64_t   *ch_journeys;	/* journeys with at least one touch of the channel */
	uint64_t   *ch_conversions; /* ... of which converted */
	uint32_t	nstates;
	uint8_t    *state_len;		/* 1..order */
	uint32_t   *state_ch;		/* nstates * order channel indices (unused slots 0) */
	uint32_t	ntrans;
	at_markov_trans *trans;		/* sorted by (from, to), counts >= 1 */
	uint64_t	journeys;		/* derived: transitions out of start */
	uint64_t	conversions;	/* derived: transitions into conversion */
} at_markov_counts;

typedef struct at_markov_fit at_markov_fit;

/* Order outside 1..AT_MARKOV_MAX_ORDER: AT_EBAD_OPTION naming it. */
at_status	at_markov_check_order(at_env *env, int64_t order);

at_status	at_markov_fit_create(at_env *env, uint32_t order, at_markov_fit **out);
uint32_t	at_markov_fit_order(const at_markov_fit *f);

/*
 * One journey: start -> its states -> conversion or null.  State i is the tuple
 * of the last min(i, order) channels up to touch i, so the states near the
 * start of a path are its shorter prefixes (SPEC).  A journey without touches
 * is start -> conversion/null.  Repeated channels are kept (self-loops).
 */
at_status	at_markov_fit_add(at_env *env, at_markov_fit *f, const at_journey *j,
							  bool converted);
/* Add counts (a decoded model); orders must match (AT_EBAD_VALUE). */
at_status	at_markov_fit_add_counts(at_env *env, at_markov_fit *f, const at_markov_counts *c);
/* The canonical snapshot (arrays allocated through env; f unchanged). */
at_status	at_markov_fit_counts(at_env *env, const at_markov_fit *f, at_markov_counts *out);

at_status	at_markov_encode(at_env *env, const at_markov_counts *c, uint8_t **out, size_t *len);
/* Validates everything; the counts point into data (channel names). */
at_status	at_markov_decode(at_env *env, const uint8_t *data, size_t len, at_markov_counts *out);
at_status	at_markov_to_text(at_env *env, const at_markov_counts *c, char **out, size_t *len);
at_status	at_markov_from_text(at_env *env, const char *text, size_t len, at_markov_counts *out);

typedef struct at_markov_stats
{
	uint32_t	solves;			/* linear systems solved (1 per channel) */
	uint32_t	components;		/* strongly connected components solved */
	uint32_t	largest;		/* states in the largest one */
	uint32_t	iterative;		/* components solved by Gauss-Seidel */
	uint32_t	max_sweeps;		/* most sweeps one of them needed */
	uint32_t	extrapolations; /* certified extrapolations accepted */
} at_markov_stats;

typedef struct at_markov_model
{
	const at_markov_counts *counts;
	double		p_conversion;	/* = conversions / journeys (exact identity) */
	double	   *removal_effect; /* per channel, in [0, 1] */
	double	   *weight;			/* RE / sum RE; all 0 when sum RE = 0 */
	at_markov_stats stats;
} at_markov_model;

/*
 * P(conversion from start) with every state containing channel `removed`
 * redirected to null (removed < 0: nothing removed), solved exactly.
 */
at_status	at_markov_probability(at_env *env, const at_markov_counts *c, int64_t removed,
								  double *p, at_markov_stats *stats);
/* Removal effects and weights of every channel. */
at_status	at_markov_solve(at_env *env, const at_markov_counts *c, at_markov_model *out);

/* ------------------------------------------------------------------ */
/* Shapley                                                              */
/* ------------------------------------------------------------------ */

/* Coalition k has members members[off[k] .. off[k+1]) (ascending channel indices). */
typedef struct at_shapley_counts
{
	uint32_t	nchannels;
	at_str	   *channels;		/* sorted bytewise, unique */
	uint32_t	ncoalitions;
	uint32_t   *off;			/* ncoalitions + 1 */
	uint32_t   *members;
	uint64_t   *journeys;		/* journeys whose channel set is exactly the coalition */
	uint64_t   *conversions;	/* ... of which converted */
	uint64_t	total_journeys; /* derived */
	uint64_t	total_conversions;	/* derived */
} at_shapley_counts;

typedef struct at_shapley_fit at_shapley_fit;

at_status	at_shapley_fit_create(at_env *env, at_shapley_fit **out);
/* One journey: its set of unique channels (at most AT_SHAPLEY_MAX_CHANNELS). */
at_status	at_shapley_fit_add(at_env *env, at_shapley_fit *f, const at_journey *j,
							   bool converted);
at_status	at_shapley_fit_add_counts(at_env *env, at_shapley_fit *f, const at_shapley_counts *c);
at_status	at_shapley_fit_counts(at_env *env, const at_shapley_fit *f, at_shapley_counts *out);

at_status	at_shapley_encode(at_env *env, const at_shapley_counts *c, uint8_t **out, size_t *len);
at_status	at_shapley_decode(at_env *env, const uint8_t *data, size_t len, at_shapley_counts *out);
at_status	at_shapley_to_text(at_env *env, const at_shapley_counts *c, char **out, size_t *len);
at_status	at_shapley_from_text(at_env *env, const char *text, size_t len, at_shapley_counts *out);

typedef struct at_shapley_model
{
	const at_shapley_counts *counts;
	double	   *v;				/* per coalition: conversions / journeys */
	double		v_empty;		/* v of the empty set (journeys without touches), else 0 */
	uint64_t   *ch_journeys;	/* per channel, summed over coalitions holding it */
	uint64_t   *ch_conversions;
	uint32_t   *slots;			/* hash of coalitions, 0 empty else index + 1 */
	uint32_t	nslots;
	uint32_t   *positive;		/* non-empty coalitions with v > 0 */
	uint32_t	npositive;
} at_shapley_model;

at_status	at_shapley_prepare(at_env *env, const at_shapley_counts *c, at_shapley_model *out);

/*
 * Exact Shapley values over the set N = ids (nseen ascending model channel
 * indices) plus nunseen channels the model has never seen, with v(S) the
 * conversion rate of journeys whose channel set is exactly S (0 if never
 * observed).  phi[k] is the value of ids[k]; *phi_unseen that of each unseen
 * channel (they are symmetric).  Not clamped.
 */
at_status	at_shapley_values(at_env *env, const at_shapley_model *m, const uint32_t *ids,
							  uint32_t nseen, uint32_t nunseen, double *phi,
							  double *phi_unseen);
/*
 * The global channel table: value[c] = sum over converting journeys of c's
 * Shapley value in the journey's channel set; share[c] = max(value, 0) / sum.
 */
at_status	at_shapley_channels(at_env *env, const at_shapley_model *m, double *value,
								double *share);

/* ------------------------------------------------------------------ */
/* Per-touch weights (credits)                                          */
/* ------------------------------------------------------------------ */

/*
 * Options of the data-driven models: exclude_channels and collapse_repeats
 * (JSON object, may be NULL/empty).  model_name ("markov", "shapley") is named
 * in errors.
 */
at_status	at_dd_options_parse(at_env *env, const char *model_name, const char *json,
								size_t len, at_options *out);

/*
 * Weights of the journey's touches, as at_weights: touches removed by the
 * options get 0; the others get their channel's weight normalized within the
 * journey (Markov), or their channel's clamped Shapley value split equally
 * among its touches and normalized (Shapley); all zero -> the last touch 100%.
 */
at_status	at_markov_touch_weights(at_env *env, const at_markov_model *m, const at_journey *j,
									const at_options *opt, double *weight, uint32_t *pos,
									uint32_t *credited);
at_status	at_shapley_touch_weights(at_env *env, const at_shapley_model *m, const at_journey *j,
									 const at_options *opt, double *weight, uint32_t *pos,
									 uint32_t *credited);

#endif							/* ATTRIB_DATADRIVEN_H */
