/*
 * markov_solve.c — exact absorption probabilities of a fitted Markov chain and
 * the removal effects of its channels.
 *
 * x(s) = P(conversion | at s) solves x(s) = sum_t P(s,t) x(t) + P(s,conv) with
 * P(s,t) = count(s,t) / out(s).  A self-loop never changes x (the chain leaves
 * s by its other transitions in the same proportions), so self-loops are left
 * out of the equations, which keeps every row strictly diagonally dominant.
 *
 * For the full chain x(start) = conversions / journeys exactly (the expected
 * number of visits of every state equals its count), so only the chains with
 * a channel removed are solved: every state containing the channel becomes
 * null.  Each solve keeps the states reachable from start that can still reach
 * conversion (all others have x = 0), splits them into strongly connected
 * components (Tarjan, iterative), and solves the components in reverse
 * topological order:
 *   - one state: x = (sum count * x(succ) + conv) / out;
 *   - up to AT_MARKOV_DENSE_MAX states: direct elimination in the GTH manner
 *     (state reduction where every quantity is a sum of positive terms, so no
 *     cancellation), exact up to rounding;
 *   - larger: Gauss-Seidel from x = 0 (rises to x) and from x = 1 (falls to x)
 *     at once; the two bracket the exact solution, and sweeping stops when every
 *     state's bracket is within AT_MARKOV_TOLERANCE relative, or fails with
 *     AT_ELIMIT after AT_MARKOV_MAX_SWEEPS.  States are swept nearest-to-exit
 *     first so values flow back towards start within one sweep.  Every few
 *     sweeps each bound is extrapolated geometrically and the extrapolation is
 *     kept only when one evaluation certifies it is still a super- (sub-)
 *     solution, so the bracket stays rigorous (this roughly halves the sweeps).
 * Lower and upper values are carried through every component, so the result
 * at start is bracketed too; it is reported as the midpoint.
 */
#include "dd_internal.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define F_DEAD		0x01
#define F_FWD		0x02
#define F_BWD		0x04
#define F_DONE		0x08
#define RELEVANT(f) (((f) & (F_DEAD | F_FWD | F_BWD)) == (F_FWD | F_BWD))
#define UNVISITED	UINT32_MAX

typedef struct solver
{
	at_env	   *env;
	const at_markov_counts *c;
	uint32_t	n;				/* states: 0 start, 1..nstates */
	uint32_t   *row;			/* successors (transient, not self) */
	uint32_t   *col;
	double	   *cnt;
	uint32_t   *rrow;			/* predecessors */
	uint32_t   *rcol;
	double	   *conv;
	double	   *nul;
	double	   *out;			/* everything leaving, self-loops excluded */
	uint32_t   *crow;			/* channel -> states containing it */
	uint32_t   *cstate;
	/* per solve */
	uint8_t    *flag;
	double	   *lo;
	double	   *hi;
	uint32_t   *queue;
	uint32_t   *index;
	uint32_t   *low;
	uint32_t   *stack;
	uint32_t   *frame;
	uint32_t   *iter;
	int32_t    *local;
	uint32_t   *members;
	/* dense components */
	double	   *a;
	double	   *elo;
	double	   *ehi;
	double	   *dx;
	double	   *delim;
	/* iterative components */
	uint32_t   *grow;
	uint32_t   *gcol;
	double	   *gcnt;
	uint32_t   *gpos;
	at_markov_stats *stats;
} solver;

static void *
alloc_array(solver *sv, size_t n, size_t elem, bool *fail)
{
	void	   *p = at_alloc(sv->env, (n ? n : 1) * elem);

	if (p == NULL)
		*fail = true;
	return p;
}

static at_status
solver_init(at_env *env, const at_markov_counts *c, at_markov_stats *stats, solver *sv)
{
	uint32_t	ns = c->nstates,
				n = ns + 1,
				nedges = 0,
				k = c->order;
	bool		fail = false;

	memset(sv, 0, sizeof(*sv));
	sv->env = env;
	sv->c = c;
	sv->n = n;
	sv->stats = stats;
	for (uint32_t i = 0; i < c->ntrans; i++)
		if (c->trans[i].to <= ns && c->trans[i].to != c->trans[i].from)
			nedges++;
	sv->row = alloc_array(sv, (size_t) n + 1, sizeof(uint32_t), &fail);
	sv->col = alloc_array(sv, nedges, sizeof(uint32_t), &fail);
	sv->cnt = alloc_array(sv, nedges, sizeof(double), &fail);
	sv->rrow = alloc_array(sv, (size_t) n + 1, sizeof(uint32_t), &fail);
	sv->rcol = alloc_array(sv, nedges, sizeof(uint32_t), &fail);
	sv->conv = alloc_array(sv, n, sizeof(double), &fail);
	sv->nul = alloc_array(sv, n, sizeof(double), &fail);
	sv->out = alloc_array(sv, n, sizeof(double), &fail);
	sv->crow = alloc_array(sv, (size_t) c->nchannels + 1, sizeof(uint32_t), &fail);
	sv->cstate = alloc_array(sv, (size_t) ns * k, sizeof(uint32_t), &fail);
	sv->flag = alloc_array(sv, n, 1, &fail);
	sv->lo = alloc_array(sv, n, sizeof(double), &fail);
	sv->hi = alloc_array(sv, n, sizeof(double), &fail);
	sv->queue = alloc_array(sv, n, sizeof(uint32_t), &fail);
	sv->index = alloc_array(sv, n, sizeof(uint32_t), &fail);
	sv->low = alloc_array(sv, n, sizeof(uint32_t), &fail);
	sv->stack = alloc_array(sv, n, sizeof(uint32_t), &fail);
	sv->frame = alloc_array(sv, n, sizeof(uint32_t), &fail);
	sv->iter = alloc_array(sv, n, sizeof(uint32_t), &fail);
	sv->local = alloc_array(sv, n, sizeof(int32_t), &fail);
	sv->members = alloc_array(sv, n, sizeof(uint32_t), &fail);
	if (fail)
		return AT_ENOMEM;

	/* successors, in transition order (sorted by from) */
	memset(sv->row, 0, sizeof(uint32_t) * ((size_t) n + 1));
	memset(sv->rrow, 0, sizeof(uint32_t) * ((size_t) n + 1));
	for (uint32_t s = 0; s < n; s++)
		sv->conv[s] = sv->nul[s] = sv->out[s] = 0;
	nedges = 0;
	for (uint32_t i = 0; i < c->ntrans; i++)
	{
		const at_markov_trans *t = &c->trans[i];
		double		w = (double) t->count;

		if (DD_POLL(env, i))
			return AT_ECANCELED;

		if (t->to == t->from)
			continue;			/* self-loop */
		sv->out[t->from] += w;
		if (t->to == ns + 1)
			sv->conv[t->from] += w;
		else if (t->to == ns + 2)
			sv->nul[t->from] += w;
		else
		{
			sv->col[nedges] = t->to;
			sv->cnt[nedges] = w;
			nedges++;
			sv->row[t->from + 1]++;
			sv->rrow[t->to + 1]++;
		}
	}
	for (uint32_t s = 0; s < n; s++)
	{
		sv->row[s + 1] += sv->row[s];
		sv->rrow[s + 1] += sv->rrow[s];
	}
	/* predecessors */
	memcpy(sv->queue, sv->rrow, sizeof(uint32_t) * n);
	for (uint32_t s = 0; s < n; s++)
		for (uint32_t e = sv->row[s]; e < sv->row[s + 1]; e++)
			sv->rcol[sv->queue[sv->col[e]]++] = s;
	/* states containing each channel (each state listed once per channel) */
	memset(sv->crow, 0, sizeof(uint32_t) * ((size_t) c->nchannels + 1));
	for (int pass = 0; pass < 2; pass++)
	{
		if (pass == 1)
		{
			for (uint32_t ch = 0; ch < c->nchannels; ch++)
				sv->crow[ch + 1] += sv->crow[ch];
			memcpy(sv->queue, sv->crow, sizeof(uint32_t) * c->nchannels);
		}
		for (uint32_t s = 0; s < ns; s++)
		{
			const uint32_t *t = c->state_ch + (size_t) s * k;

			for (uint32_t i = 0; i < c->state_len[s]; i++)
			{
				bool		dup = false;

				for (uint32_t j = 0; j < i; j++)
					dup = dup || t[j] == t[i];
				if (dup)
					continue;
				if (pass == 0)
					sv->crow[t[i] + 1]++;
				else
					sv->cstate[sv->queue[t[i]]++] = s + 1;
			}
		}
	}
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* Components                                                           */
/* ------------------------------------------------------------------ */

/* x of a solved or irrelevant successor t: (lo, hi), 0 when irrelevant */
static inline double
succ_lo(const solver *sv, uint32_t t)
{
	return (sv->flag[t] & F_DONE) ? sv->lo[t] : 0.0;
}

static inline double
succ_hi(const solver *sv, uint32_t t)
{
	return (sv->flag[t] & F_DONE) ? sv->hi[t] : 0.0;
}

static void
solve_single(solver *sv, uint32_t s)
{
	double		lo = sv->conv[s],
				hi = sv->conv[s];

	for (uint32_t e = sv->row[s]; e < sv->row[s + 1]; e++)
	{
		lo += sv->cnt[e] * succ_lo(sv, sv->col[e]);
		hi += sv->cnt[e] * succ_hi(sv, sv->col[e]);
	}
	sv->lo[s] = lo / sv->out[s];
	sv->hi[s] = hi / sv->out[s];
}

/*
 * GTH-style elimination of the m members (local indices 0..m-1).  a[p][t] are
 * rates within the component, dx[p] the rate of leaving it, elo/ehi the rate
 * times the value reached when leaving.  Eliminating i folds every path
 * p -> i -> t into p -> t; self-loops are ignored (they do not change x).
 */
static at_status
solve_dense(solver *sv, uint32_t m)
{
	double	   *a = sv->a,
			   *elo = sv->elo,
			   *ehi = sv->ehi,
			   *dx = sv->dx,
			   *dl = sv->delim;

	memset(a, 0, sizeof(double) * (size_t) m * m);
	for (uint32_t i = 0; i < m; i++)
	{
		uint32_t	s = sv->members[i];

		dx[i] = sv->conv[s] + sv->nul[s];
		elo[i] = ehi[i] = sv->conv[s];
		for (uint32_t e = sv->row[s]; e < sv->row[s + 1]; e++)
		{
			uint32_t	t = sv->col[e];

			if (sv->local[t] >= 0)
				a[(size_t) i * m + (uint32_t) sv->local[t]] += sv->cnt[e];
			else
			{
				dx[i] += sv->cnt[e];
				elo[i] += sv->cnt[e] * succ_lo(sv, t);
				ehi[i] += sv->cnt[e] * succ_hi(sv, t);
			}
		}
	}
	for (uint32_t i = 0; i < m; i++)
	{
		double	   *ai = a + (size_t) i * m;
		double		d = dx[i];

		if ((i & 15) == 15 && at_interrupted(sv->env))
			return AT_ECANCELED;
		for (uint32_t t = i + 1; t < m; t++)
			d += ai[t];
		dl[i] = d;
		if (!(d > 0))
			continue;			/* cannot happen in an absorbing component */
		for (uint32_t p = i + 1; p < m; p++)
		{
			double	   *ap = a + (size_t) p * m;
			double		f;

			if (ap[i] == 0)
				continue;
			f = ap[i] / d;
			ap[i] = 0;
			for (uint32_t t = i + 1; t < m; t++)
				if (ai[t] != 0)
					ap[t] += f * ai[t];
			dx[p] += f * dx[i];
			elo[p] += f * elo[i];
			ehi[p] += f * ehi[i];
		}
	}
	for (uint32_t ii = m; ii-- > 0;)
	{
		const double *ai = a + (size_t) ii * m;
		uint32_t	s = sv->members[ii];
		double		lo = elo[ii],
					hi = ehi[ii];

		for (uint32_t t = ii + 1; t < m; t++)
			if (ai[t] != 0)
			{
				lo += ai[t] * sv->lo[sv->members[t]];
				hi += ai[t] * sv->hi[sv->members[t]];
			}
		sv->lo[s] = dl[ii] > 0 ? lo / dl[ii] : 0;
		sv->hi[s] = dl[ii] > 0 ? hi / dl[ii] : 0;
	}
	return AT_OK;
}

#define EXTRAPOLATE_EVERY 5		/* sweeps between attempts */
#define EXTRAPOLATE_SHARE 0.999	/* of the estimated remaining error removed */

/*
 * Extrapolate one bound geometrically and keep the result only if it is
 * certified.  Sweeping from 1 (or 0) with a nonnegative iteration matrix, the
 * error is asymptotically a nonnegative eigenvector times rho^k, so
 * x - step * rho / (1 - rho) removes most of it.  The candidate y is kept only
 * if T(y) <= y (upper) or T(y) >= y (lower), up to the rounding of the row
 * sum, by one Jacobi evaluation: a super-solution lies above the exact solution and a
 * sub-solution below it, so the bracket stays rigorous.  x becomes T(y).
 */
static bool
extrapolate(const solver *sv, uint32_t m, double *x, const double *step, double rho,
			const double *e, bool upper, const double *other, double *y, double *t)
{
	double		f = EXTRAPOLATE_SHARE * rho / (1 - rho);

	for (uint32_t q = 0; q < m; q++)
	{
		y[q] = upper ? x[q] - f * step[q] : x[q] + f * step[q];
		if (upper ? y[q] < other[q] : y[q] > other[q])
			y[q] = other[q];	/* never cross the other bound */
	}
	for (uint32_t q = 0; q < m; q++)
	{
		double		v = e[q],
					slack = (sv->grow[q + 1] - sv->grow[q] + 4) * DBL_EPSILON * y[q];

		for (uint32_t k = sv->grow[q]; k < sv->grow[q + 1]; k++)
			v += sv->gcnt[k] * y[sv->gcol[k]];
		v /= sv->dx[q];
		if (upper ? v > y[q] + slack : v < y[q] - slack)
			return false;
		t[q] = upper ? (v < y[q] ? v : y[q]) : (v > y[q] ? v : y[q]);
	}
	memcpy(x, t, sizeof(double) * m);
	return true;
}

/* Gauss-Seidel from below and above at once (see the file comment). */
static at_status
solve_iterative(solver *sv, uint32_t m)
{
	uint32_t	head = 0,
				tail = 0,
				nnz = 0,
				sweeps = 0;
	uint32_t   *order = sv->queue;
	double	   *elo = sv->elo,
			   *ehi = sv->ehi,
			   *lo,
			   *hi,
			   *dlo,
			   *dhi,
			   *y,
			   *t,
				slo = 0,
				shi = 0,
				slo_prev,
				shi_prev;
	uint32_t	since = 0;
	bool		done = false;

	/* sweep order: members with a way out first, then breadth-first backwards */
	for (uint32_t i = 0; i < m; i++)
	{
		uint32_t	s = sv->members[i];
		bool		exits = sv->conv[s] > 0 || sv->nul[s] > 0;

		for (uint32_t e = sv->row[s]; e < sv->row[s + 1] && !exits; e++)
			exits = sv->local[sv->col[e]] < 0;
		sv->gpos[i] = UNVISITED;
		if (exits)
		{
			sv->gpos[i] = tail;
			order[tail++] = i;
		}
	}
	while (head < tail)
	{
		uint32_t	s = sv->members[order[head++]];

		for (uint32_t e = sv->rrow[s]; e < sv->rrow[s + 1]; e++)
		{
			int32_t		p = sv->local[sv->rcol[e]];

			if (p >= 0 && sv->gpos[p] == UNVISITED)
			{
				sv->gpos[p] = tail;
				order[tail++] = (uint32_t) p;
			}
		}
	}
	for (uint32_t i = 0; i < m; i++)	/* unreachable in an absorbing component */
		if (sv->gpos[i] == UNVISITED)
		{
			sv->gpos[i] = tail;
			order[tail++] = i;
		}

	/* rows in sweep order, columns as sweep positions */
	for (uint32_t q = 0; q < m; q++)
	{
		uint32_t	s = sv->members[order[q]];

		sv->grow[q] = nnz;
		elo[q] = ehi[q] = sv->conv[s];
		for (uint32_t e = sv->row[s]; e < sv->row[s + 1]; e++)
		{
			uint32_t	t = sv->col[e];

			if (sv->local[t] >= 0)
			{
				sv->gcol[nnz] = sv->gpos[sv->local[t]];
				sv->gcnt[nnz] = sv->cnt[e];
				nnz++;
			}
			else
			{
				elo[q] += sv->cnt[e] * succ_lo(sv, t);
				ehi[q] += sv->cnt[e] * succ_hi(sv, t);
			}
		}
		sv->dx[q] = sv->out[s];
	}
	sv->grow[m] = nnz;
	lo = sv->a;					/* sweep-ordered vectors; a has room for six */
	hi = sv->a + m;
	dlo = sv->a + 2 * (size_t) m;
	dhi = sv->a + 3 * (size_t) m;
	y = sv->a + 4 * (size_t) m;
	t = sv->a + 5 * (size_t) m;
	for (uint32_t q = 0; q < m; q++)
	{
		lo[q] = 0;
		hi[q] = 1;
	}
	while (!done)
	{
		if (sweeps >= AT_MARKOV_MAX_SWEEPS)
		{
			at_fail(sv->env, AT_ELIMIT, "markov chain did not converge");
			at_detail(sv->env, "A strongly connected set of %u states was still not solved "
					  "to a relative %g after %d sweeps.", m, AT_MARKOV_TOLERANCE,
					  AT_MARKOV_MAX_SWEEPS);
			return at_hint(sv->env, "Fit a lower order, or group rare channels together.");
		}
		if (at_interrupted(sv->env))
			return AT_ECANCELED;
		sweeps++;
		since++;
		slo_prev = slo;
		shi_prev = shi;
		slo = shi = 0;
		for (uint32_t q = 0; q < m; q++)
		{
			double		l = elo[q],
						h = ehi[q];

			for (uint32_t e = sv->grow[q]; e < sv->grow[q + 1]; e++)
			{
				l += sv->gcnt[e] * lo[sv->gcol[e]];
				h += sv->gcnt[e] * hi[sv->gcol[e]];
			}
			l /= sv->dx[q];
			h /= sv->dx[q];
			l = l > lo[q] ? l : lo[q];	/* monotone; guards rounding */
			h = h < hi[q] ? h : hi[q];
			dlo[q] = l - lo[q];
			dhi[q] = hi[q] - h;
			slo += dlo[q];
			shi += dhi[q];
			lo[q] = l;
			hi[q] = h;
		}
		if (since >= EXTRAPOLATE_EVERY && slo_prev > 0 && shi_prev > 0)
		{
			double		rlo = slo / slo_prev,
						rhi = shi / shi_prev;

			if (rhi > 0 && rhi < 0.9999 &&
				extrapolate(sv, m, hi, dhi, rhi, ehi, true, lo, y, t))
				sv->stats->extrapolations++;
			if (rlo > 0 && rlo < 0.9999 &&
				extrapolate(sv, m, lo, dlo, rlo, elo, false, hi, y, t))
				sv->stats->extrapolations++;
			since = 0;
		}
		done = true;
		for (uint32_t q = 0; q < m && done; q++)
			done = hi[q] - lo[q] <= AT_MARKOV_TOLERANCE * hi[q];
	}
	for (uint32_t q = 0; q < m; q++)
	{
		uint32_t	s = sv->members[order[q]];

		sv->lo[s] = lo[q];
		sv->hi[s] = hi[q];
	}
	sv->stats->iterative++;
	if (sweeps > sv->stats->max_sweeps)
		sv->stats->max_sweeps = sweeps;
	return AT_OK;
}

static at_status
ensure_component_space(solver *sv, uint32_t m)
{
	bool		fail = false;
	uint32_t	nd = m <= AT_MARKOV_DENSE_MAX ? AT_MARKOV_DENSE_MAX : sv->n;

	if (sv->a != NULL && (m <= AT_MARKOV_DENSE_MAX || sv->grow != NULL))
		return AT_OK;
	if (m <= AT_MARKOV_DENSE_MAX)
	{
		sv->a = alloc_array(sv, (size_t) nd * nd, sizeof(double), &fail);
		sv->elo = alloc_array(sv, sv->n, sizeof(double), &fail);
		sv->ehi = alloc_array(sv, sv->n, sizeof(double), &fail);
		sv->dx = alloc_array(sv, sv->n, sizeof(double), &fail);
		sv->delim = alloc_array(sv, nd, sizeof(double), &fail);
		return fail ? AT_ENOMEM : AT_OK;
	}
	/* iterative: every array sized for the whole chain, the dense ones too */
	if (sv->a == NULL || (size_t) AT_MARKOV_DENSE_MAX * AT_MARKOV_DENSE_MAX < 6 * (size_t) sv->n)
	{
		size_t		na = (size_t) AT_MARKOV_DENSE_MAX * AT_MARKOV_DENSE_MAX;

		if (na < 6 * (size_t) sv->n)
			na = 6 * (size_t) sv->n;
		sv->a = alloc_array(sv, na, sizeof(double), &fail);
		if (sv->elo == NULL)
		{
			sv->elo = alloc_array(sv, sv->n, sizeof(double), &fail);
			sv->ehi = alloc_array(sv, sv->n, sizeof(double), &fail);
			sv->dx = alloc_array(sv, sv->n, sizeof(double), &fail);
			sv->delim = alloc_array(sv, AT_MARKOV_DENSE_MAX, sizeof(double), &fail);
		}
	}
	sv->grow = alloc_array(sv, (size_t) sv->n + 1, sizeof(uint32_t), &fail);
	sv->gcol = alloc_array(sv, sv->row[sv->n], sizeof(uint32_t), &fail);
	sv->gcnt = alloc_array(sv, sv->row[sv->n], sizeof(double), &fail);
	sv->gpos = alloc_array(sv, sv->n, sizeof(uint32_t), &fail);
	return fail ? AT_ENOMEM : AT_OK;
}

static at_status
solve_component(solver *sv, uint32_t m)
{
	at_status	st;

	sv->stats->components++;
	if (m > sv->stats->largest)
		sv->stats->largest = m;
	if (m == 1)
		solve_single(sv, sv->members[0]);
	else
	{
		for (uint32_t i = 0; i < m; i++)
			sv->local[sv->members[i]] = (int32_t) i;
		if ((st = ensure_component_space(sv, m)) != AT_OK)
			return st;
		st = m <= AT_MARKOV_DENSE_MAX ? solve_dense(sv, m) : solve_iterative(sv, m);
		for (uint32_t i = 0; i < m; i++)
			sv->local[sv->members[i]] = -1;
		if (st != AT_OK)
			return st;
	}
	for (uint32_t i = 0; i < m; i++)
		sv->flag[sv->members[i]] |= F_DONE;
	return AT_OK;
}

/* ------------------------------------------------------------------ */
/* One solve                                                            */
/* ------------------------------------------------------------------ */

static at_status
solver_run(solver *sv, int64_t removed, double *p)
{
	uint32_t	n = sv->n,
				head = 0,
				tail = 0,
				counter = 0,
				sp = 0,
				top = 0;
	at_status	st;

	*p = 0;
	sv->stats->solves++;
	if (at_interrupted(sv->env))
		return AT_ECANCELED;
	memset(sv->flag, 0, n);
	for (uint32_t s = 0; s < n; s++)
	{
		sv->index[s] = UNVISITED;
		sv->local[s] = -1;
	}
	if (removed >= 0)
		for (uint32_t e = sv->crow[removed]; e < sv->crow[removed + 1]; e++)
			sv->flag[sv->cstate[e]] |= F_DEAD;

	/* forward from start, then backward from the states that convert */
	sv->flag[0] |= F_FWD;
	sv->queue[tail++] = 0;
	while (head < tail)
	{
		uint32_t	s = sv->queue[head++];

		if (DD_POLL(sv->env, head))
			return AT_ECANCELED;
		for (uint32_t e = sv->row[s]; e < sv->row[s + 1]; e++)
		{
			uint32_t	t = sv->col[e];

			if (!(sv->flag[t] & (F_DEAD | F_FWD)))
			{
				sv->flag[t] |= F_FWD;
				sv->queue[tail++] = t;
			}
		}
	}
	head = tail = 0;
	for (uint32_t s = 0; s < n; s++)
		if ((sv->flag[s] & (F_DEAD | F_FWD)) == F_FWD && sv->conv[s] > 0)
		{
			sv->flag[s] |= F_BWD;
			sv->queue[tail++] = s;
		}
	while (head < tail)
	{
		uint32_t	s = sv->queue[head++];

		if (DD_POLL(sv->env, head))
			return AT_ECANCELED;
		for (uint32_t e = sv->rrow[s]; e < sv->rrow[s + 1]; e++)
		{
			uint32_t	t = sv->rcol[e];

			if ((sv->flag[t] & (F_DEAD | F_FWD | F_BWD)) == F_FWD)
			{
				sv->flag[t] |= F_BWD;
				sv->queue[tail++] = t;
			}
		}
	}
	if (!RELEVANT(sv->flag[0]))
		return AT_OK;			/* no way to convert: P = 0 */

	/* Tarjan from start over the relevant states; components come sinks first */
	sv->index[0] = sv->low[0] = counter++;
	sv->stack[sp++] = 0;
	sv->frame[top] = 0;
	sv->iter[top] = sv->row[0];
	top++;
	while (top > 0)
	{
		uint32_t	v = sv->frame[top - 1];

		if (sv->iter[top - 1] < sv->row[v + 1])
		{
			uint32_t	w = sv->col[sv->iter[top - 1]++];

			if (!RELEVANT(sv->flag[w]))
				continue;
			if (sv->index[w] == UNVISITED)
			{
				if (DD_POLL(sv->env, counter))
					return AT_ECANCELED;
				sv->index[w] = sv->low[w] = counter++;
				sv->stack[sp++] = w;
				sv->frame[top] = w;
				sv->iter[top] = sv->row[w];
				top++;
			}
			else if (!(sv->flag[w] & F_DONE) && sv->index[w] < sv->low[v])
				sv->low[v] = sv->index[w];	/* w is on the stack */
			continue;
		}
		top--;
		if (sv->low[v] == sv->index[v])
		{
			uint32_t	m = 0,
						w;

			do
			{
				w = sv->stack[--sp];
				sv->members[m++] = w;
			} while (w != v);
			if ((st = solve_component(sv, m)) != AT_OK)
				return st;
		}
		if (top > 0)
		{
			uint32_t	u = sv->frame[top - 1];

			if (sv->low[v] < sv->low[u])
				sv->low[u] = sv->low[v];
		}
	}
	*p = (sv->lo[0] + sv->hi[0]) / 2;
	return AT_OK;
}

at_status
at_markov_probability(at_env *env, const at_markov_counts *c, int64_t removed, double *p,
					  at_markov_stats *stats)
{
	solver		sv;
	at_markov_stats local;
	at_status	st;

	if (stats == NULL)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	if (removed >= (int64_t) c->nchannels)
		return at_fail(env, AT_EBAD_VALUE, "channel %lld is not in the model", (long long) removed);
	if ((st = solver_init(env, c, stats, &sv)) != AT_OK)
		return st;
	return solver_run(&sv, removed, p);
}

at_status
at_markov_solve(at_env *env, const at_markov_counts *c, at_markov_model *m)
{
	solver		sv;
	double		sum = 0;
	at_status	st;
	uint32_t	nch = c->nchannels;

	memset(m, 0, sizeof(*m));
	m->counts = c;
	m->removal_effect = at_alloc(env, sizeof(double) * (nch ? nch : 1));
	m->weight = at_alloc(env, sizeof(double) * (nch ? nch : 1));
	if (m->removal_effect == NULL || m->weight == NULL)
		return AT_ENOMEM;
	m->p_conversion = c->journeys > 0 ? (double) c->conversions / (double) c->journeys : 0;
	for (uint32_t ch = 0; ch < nch; ch++)
		m->removal_effect[ch] = m->weight[ch] = 0;
	if (c->conversions == 0)
		return AT_OK;			/* nothing converts: every removal effect is 0 */
	if ((st = solver_init(env, c, &m->stats, &sv)) != AT_OK)
		return st;
	for (uint32_t ch = 0; ch < nch; ch++)
	{
		double		pc,
					re;

		if ((st = solver_run(&sv, ch, &pc)) != AT_OK)
			return st;
		re = 1.0 - pc / m->p_conversion;
		if (!(re >= AT_DD_ZERO))
			re = 0;				/* rounding noise, or NaN */
		if (re > 1)
			re = 1;
		m->removal_effect[ch] = re;
		sum += re;
	}
	for (uint32_t ch = 0; ch < nch; ch++)
		m->weight[ch] = sum > 0 ? m->removal_effect[ch] / sum : 0;
	return AT_OK;
}
