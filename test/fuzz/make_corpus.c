/*
 * make_corpus.c — writes the seed corpus of the fuzz targets (a few small files
 * each) into test/fuzz/corpus/<target>/, using the core itself for the byte
 * forms so the seeds always match the current formats.  Built and run by
 * test/fuzz/make_corpus.sh; the output is committed.
 *
 * Usage: make_corpus CORPUS_DIR
 */
#include "attrib_core.h"
#include "datadriven.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static at_error err;

static void *
c_alloc(void *ud, size_t size)
{
	(void) ud;
	return malloc(size ? size : 1);		/* a one-shot program: never freed */
}

static void *
c_realloc(void *ud, void *p, size_t oldsize, size_t newsize)
{
	(void) ud;
	(void) oldsize;
	return realloc(p, newsize ? newsize : 1);
}

static at_env env = {c_alloc, c_realloc, NULL, NULL, &err};
static const char *root;

static void
die(const char *what)
{
	fprintf(stderr, "make_corpus: %s: %s\n", what, err.message[0] ? err.message : strerror(errno));
	exit(1);
}

static void
write_file(const char *target, const char *name, const void *data, size_t len)
{
	char		path[4096];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", root, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die(path);
	snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die(path);
}

static void
write_text(const char *target, const char *name, const char *text)
{
	write_file(target, name, text, strlen(text));
}

/* a model byte followed by options text (fuzz_options) */
static void
write_options(const char *name, at_model_id m, const char *json)
{
	char		buf[1024];
	size_t		n = strlen(json);

	buf[0] = (char) m;
	memcpy(buf + 1, json, n);
	write_file("fuzz_options", name, buf, n + 1);
}

static const char *const journeys[] = {
	"{\"touches\":[]}",
	"{\"touches\":[[\"t1\",\"2024-01-01T00:00:00Z\",\"paid_search\"],"
	"[\"t2\",\"2024-01-02T00:00:00Z\",\"email\"],[\"t3\",\"2024-01-03T00:00:00Z\",\"webinar\"],"
	"[\"t4\",\"2024-01-04T00:00:00Z\",\"email\"],[\"t5\",\"2024-01-05T00:00:00Z\",\"direct\"]]}",
	"{\"touches\":[[\"b\",\"2024-03-01T10:00:00.5+02:00\",\"x\"],[\"a\",\"2024-03-01T08:00:00.5Z\",\"y\"]],"
	"\"context\":{\"status\":\"won\",\"created_at\":\"2024-02-01T00:00:00Z\","
	"\"closed_at\":\"2024-04-01T00:00:00Z\",\"lead_created_at\":\"2024-02-15T00:00:00Z\","
	"\"stages\":{\"MQL\":\"2024-02-10T00:00:00Z\",\"SQL\":\"2024-02-20T00:00:00Z\"}}}",
	"{\"context\":{\"status\":\"open\",\"as_of\":\"294276-12-31T23:59:59.999999Z\"},"
	"\"touches\":[[\"\\u00e9\\\"\\\\\",\"-4713-11-24T00:00:00Z\",\"a\\nb\"]]}",
	"{\"touches\":[[\"x\",\"2024-01-01T00:00:00Z\",\"c\"]],\"context\":{\"status\":\"lost\",\"closed_at\":\"2023-12-31T00:00:00Z\"}}",
};

static void
journey_seeds(void)
{
	for (size_t i = 0; i < sizeof(journeys) / sizeof(journeys[0]); i++)
	{
		at_journey	j;
		uint8_t    *bytes;
		size_t		len;
		char		name[32];

		snprintf(name, sizeof(name), "seed%zu.json", i + 1);
		write_text("fuzz_journey_text", name, journeys[i]);
		if (at_journey_from_text(&env, journeys[i], strlen(journeys[i]), &j) != AT_OK)
			die(journeys[i]);
		if (at_journey_encode(&env, &j, &bytes, &len) != AT_OK)
			die("encode");
		snprintf(name, sizeof(name), "seed%zu.bin", i + 1);
		write_file("fuzz_journey_decode", name, bytes, len);
	}
	write_text("fuzz_journey_text", "bad1.json", "{\"touches\":[[\"a\",\"2024-02-30T00:00:00Z\",\"x\"]]}");
}

static void
state_seeds(void)
{
	static const struct
	{
		const char *id;
		int64_t		at;
		const char *channel;
	}			touches[] = {
		{"t3", 757555200000000, "webinar"}, {"t1", 757382400000000, "paid_search"},
		{"t2", 757468800000000, "email"}, {"t4", 757555200000000, "email"},
	};
	at_builder	b;
	uint8_t    *bytes;
	size_t		len;
	char		name[32];

	at_builder_init(&b);
	if (at_builder_serialize(&env, &b, &bytes, &len) != AT_OK)
		die("serialize");
	write_file("fuzz_builder_state", "empty.bin", bytes, len);
	for (size_t i = 0; i < sizeof(touches) / sizeof(touches[0]); i++)
	{
		if (at_builder_add(&env, &b, touches[i].id, strlen(touches[i].id), touches[i].at,
						   touches[i].channel, strlen(touches[i].channel)) != AT_OK)
			die("builder_add");
		if (at_builder_serialize(&env, &b, &bytes, &len) != AT_OK)
			die("serialize");
		snprintf(name, sizeof(name), "state%zu.bin", i + 1);
		write_file("fuzz_builder_state", name, bytes, len);
	}
}

static void
options_seeds(void)
{
	write_options("linear_empty", AT_M_LINEAR, "{}");
	write_options("common", AT_M_W_SHAPED,
				  "{\"exclude_channels\": [\"direct\"], \"collapse_repeats\": true, "
				  "\"direct_channels\": [\"Direct\", \"organic\"]}");
	write_options("time_decay", AT_M_TIME_DECAY, "{\"half_life\": \"36 hours\", \"normalize\": false}");
	write_options("time_decay_days", AT_M_TIME_DECAY, "{\"half_life\": 7.5e0}");
	write_options("custom", AT_M_CUSTOM,
				  "{\"weights\": {\"FT\": 0.3, \"LC\": 0.2, \"OC\": 0.2, \"stage:SQL\": 0.2, \"middle\": 0.1}}");
	write_options("null", AT_M_FIRST_TOUCH, "null");
	write_options("nested", AT_M_LINEAR, "[{\"a\": [1, -2.5e-3, true, false, null, \"\\ud83d\\ude00\"]}]");
}

/* Builds fuzz_credits inputs byte by byte (see the format in fuzz_credits.c). */
typedef struct bytes
{
	uint8_t		b[512];
	size_t		n;
} bytes;

static void
add(bytes *x, int v)
{
	x->b[x->n++] = (uint8_t) v;
}

static void
add16(bytes *x, int v)
{
	add(x, v & 0xff);
	add(x, (v >> 8) & 0xff);
}

static void
credits_seeds(void)
{
	bytes		x;
	char		name[32];

	/* every model on five touches, no context, default options, 1000.00 */
	for (int m = 0; m < AT_M_NMODELS; m++)
	{
		x.n = 0;
		add(&x, m);
		add(&x, 0);				/* flags */
		add(&x, 5);				/* touches */
		for (int i = 0; i < 5; i++)
		{
			add(&x, (i * 3 % 8) | 3 << 3);	/* channel, unit days */
			add(&x, 1);
			add(&x, i);
		}
		add(&x, 0x00);			/* option bits */
		add(&x, 0);
		add(&x, 0);
		add(&x, 0);
		add(&x, 3);				/* weights: 4 (read by custom only) */
		for (int k = 0; m == AT_M_CUSTOM && k < 4; k++)
		{
			add(&x, k);
			add(&x, 3 + k);
		}
		add(&x, 2);				/* amount: scale 2 */
		add(&x, 4);
		add(&x, 2);
		add(&x, 1);
		add(&x, 0);
		add(&x, 0);
		add(&x, 0);
		add(&x, 0);
		add(&x, 0);
		snprintf(name, sizeof(name), "model%02d.bin", m);
		write_file("fuzz_credits", name, x.b, x.n);
	}

	/* w_shaped with a won context, stages, options and a negative amount */
	x.n = 0;
	add(&x, AT_M_W_SHAPED);
	add(&x, 0x01);
	add(&x, 8);
	for (int i = 0; i < 8; i++)
	{
		add(&x, (i % 8) | 2 << 3);
		add(&x, 20);
		add(&x, i);
	}
	add(&x, 0);					/* won */
	add(&x, 0x07);				/* created, closed, lead */
	add16(&x, 60);
	add16(&x, 200);
	add16(&x, 40);
	add16(&x, 0);
	add(&x, 30);				/* lookback 30 days */
	add(&x, 2);
	add(&x, 0);
	add16(&x, 50);
	add(&x, 1);
	add16(&x, 70);
	add(&x, 0x07);
	add(&x, 0x01);
	add(&x, 0x06);
	add(&x, 0);
	add(&x, 0);
	add(&x, 0x80 | 0x40 | 1);	/* negative, scale 16 */
	add(&x, 12);
	add(&x, 3);
	for (int i = 0; i < 15; i++)
		add(&x, 7 * i + 1);
	write_file("fuzz_credits", "context_won.bin", x.b, x.n);

	/* custom weights on a journey attached as stored, open with as_of */
	x.n = 0;
	add(&x, AT_M_CUSTOM);
	add(&x, 0x02);
	add(&x, 4);
	for (int i = 0; i < 4; i++)
	{
		add(&x, (i % 3) | 1 << 3);
		add(&x, 100);
		add(&x, i);
	}
	add(&x, 1);					/* open */
	add(&x, 0x09);				/* created, as_of */
	add16(&x, 0);
	add16(&x, 0);
	add16(&x, 0);
	add16(&x, 1);
	add(&x, 0);
	add(&x, 1);
	add(&x, 1);
	add16(&x, 0);
	add(&x, 0);
	add(&x, 0);
	add(&x, 0);
	add(&x, 0);
	add(&x, 5);					/* 6 weights */
	for (int k = 0; k < 6; k++)
	{
		add(&x, k + 2);
		add(&x, k);
	}
	add(&x, 0);
	add(&x, 1);
	add(&x, 0);
	add(&x, 7);
	write_file("fuzz_credits", "custom_open.bin", x.b, x.n);

	/* a large generated journey (n > 2048) under time decay */
	x.n = 0;
	add(&x, AT_M_TIME_DECAY);
	add(&x, 0x40);
	add16(&x, 100);
	add16(&x, 0x1234);
	add16(&x, 0x5678);
	add(&x, 0x08);
	add(&x, 0);
	add(&x, 0);
	add(&x, 4);
	add(&x, 0);
	add(&x, 2);
	add(&x, 6);
	add(&x, 0);
	for (int i = 0; i < 6; i++)
		add(&x, 9 - i);
	write_file("fuzz_credits", "large_time_decay.bin", x.b, x.n);

	/* raw options and raw amount text */
	{
		static const char opt[] = "{\"exclude_channels\":[\"x\",\"email\"]}";
		static const char amt[] = " -0.005 ";

		x.n = 0;
		add(&x, AT_M_LINEAR);
		add(&x, 0x04 | 0x10);
		add(&x, 3);
		for (int i = 0; i < 3; i++)
		{
			add(&x, (7 - i) | 0 << 3);	/* equal times */
			add(&x, 0);
			add(&x, i);
		}
		add(&x, (int) strlen(opt));
		memcpy(x.b + x.n, opt, strlen(opt));
		x.n += strlen(opt);
		add(&x, 2);
		add(&x, (int) strlen(amt));
		memcpy(x.b + x.n, amt, strlen(amt));
		x.n += strlen(amt);
		write_file("fuzz_credits", "raw_text.bin", x.b, x.n);
	}
}

static void
money_seeds(void)
{
	static const struct
	{
		const char *name;
		int			scale;
		double		w[4];
		int			n;
		const char *amount;
	}			seeds[] = {
		{"thirds", 2, {1, 1, 1}, 3, "100"},
		{"wshape", 2, {0.3, 0.3, 0.3, 0.1}, 4, "-1234567.895"},
		{"tiny", 0, {1e-300, 1, 5e-324}, 3, "999999999999999999999999999999"},
		{"zero", 3, {0, 0}, 2, "1.0005"},
		{"bad", 2, {1, -1}, 2, "NaN"},
	};

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
	{
		uint8_t		buf[256];
		size_t		n = 0;

		buf[n++] = (uint8_t) seeds[i].scale;
		buf[n++] = (uint8_t) seeds[i].n;
		for (int k = 0; k < seeds[i].n; k++)
		{
			memcpy(buf + n, &seeds[i].w[k], 8);		/* little-endian hosts */
			n += 8;
		}
		memcpy(buf + n, seeds[i].amount, strlen(seeds[i].amount));
		n += strlen(seeds[i].amount);
		write_file("fuzz_money", seeds[i].name, buf, n);
	}
	for (int kind = 0; kind < 5; kind++)
	{
		/* n = 255: generated weights, pattern kind, seed, count, amount */
		uint8_t		buf[32] = {2, 255, (uint8_t) kind, 1, 2, 3, 4, 5, 6, 7, 8,
		(uint8_t) (kind * 37), 3, '9', '8', '7', '6', '5', '.', '4', '3', '2', '1'};
		char		name[32];

		snprintf(name, sizeof(name), "many%d", kind);
		write_file("fuzz_money", name, buf, 23);
	}
}

/* ------------------------------------------------------------------ */
/* Fitted models (fuzz_markov_decode, fuzz_shapley_decode, fuzz_model_text) */
/* ------------------------------------------------------------------ */

/* a journey from a path of space-separated channel names, one touch a day */
static at_journey
path_journey(const char *p)
{
	at_builder	b;
	at_journey	j;
	uint32_t	n = 0;

	at_builder_init(&b);
	while (*p)
	{
		const char *start;
		char		id[16];

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != ' ')
			p++;
		snprintf(id, sizeof(id), "t%u", n);
		if (at_builder_add(&env, &b, id, strlen(id), INT64_C(757382400000000) +
						   (int64_t) n * INT64_C(86400000000), start, (size_t) (p - start)) != AT_OK)
			die("builder_add");
		n++;
	}
	if (at_builder_finish(&env, &b, &j) != AT_OK)
		die("builder_finish");
	return j;
}

typedef struct dd_example
{
	const char *path;
	bool		converted;
} dd_example;

/* the hand-worked examples of docs/datadriven.md and the unit tests, and more */
static const dd_example dd_ex1[] = {
	{"A B", true}, {"A", false}, {"B", true}, {"B A", false},
};
static const dd_example dd_ex2[] = {
	{"paid_search email webinar email direct", true}, {"email email", false},
	{"webinar", true}, {"", false}, {"direct paid_search", false},
	{"email webinar direct", true}, {"A B C D E", true}, {"E D C B A", false},
	{"\xc3\xa9t\xc3\xa9 \"q\"\\", true},
};
static const dd_example dd_ex3[] = {
	{"A", false}, {"A", false}, {"B", false},
};

static void
write_model_text(const char *name, int shapley, const char *text, size_t len)
{
	char	   *buf = malloc(len + 1);

	if (buf == NULL)
		die("malloc");
	buf[0] = (char) shapley;
	memcpy(buf + 1, text, len);
	write_file("fuzz_model_text", name, buf, len + 1);
	free(buf);
}

static void
markov_seed(const char *name, const dd_example *ex, size_t n, uint32_t order)
{
	at_markov_fit *f;
	at_markov_counts c;
	uint8_t    *bytes;
	size_t		len;
	char	   *text;
	size_t		tlen;

	if (at_markov_fit_create(&env, order, &f) != AT_OK)
		die("markov_fit_create");
	for (size_t i = 0; i < n; i++)
	{
		at_journey	j = path_journey(ex[i].path);

		if (at_markov_fit_add(&env, f, &j, ex[i].converted) != AT_OK)
			die("markov_fit_add");
	}
	if (at_markov_fit_counts(&env, f, &c) != AT_OK ||
		at_markov_encode(&env, &c, &bytes, &len) != AT_OK ||
		at_markov_to_text(&env, &c, &text, &tlen) != AT_OK)
		die("markov seed");
	write_file("fuzz_markov_decode", name, bytes, len);
	write_model_text(name, 0, text, tlen);
}

static void
shapley_seed(const char *name, const dd_example *ex, size_t n)
{
	at_shapley_fit *f;
	at_shapley_counts c;
	uint8_t    *bytes;
	size_t		len;
	char	   *text;
	size_t		tlen;

	if (at_shapley_fit_create(&env, &f) != AT_OK)
		die("shapley_fit_create");
	for (size_t i = 0; i < n; i++)
	{
		at_journey	j = path_journey(ex[i].path);

		if (at_shapley_fit_add(&env, f, &j, ex[i].converted) != AT_OK)
			die("shapley_fit_add");
	}
	if (at_shapley_fit_counts(&env, f, &c) != AT_OK ||
		at_shapley_encode(&env, &c, &bytes, &len) != AT_OK ||
		at_shapley_to_text(&env, &c, &text, &tlen) != AT_OK)
		die("shapley seed");
	write_file("fuzz_shapley_decode", name, bytes, len);
	write_model_text(name, 1, text, tlen);
}

/* counts near the limit (2^63 - 1), through the text parsers */
static void
big_seeds(void)
{
	static const char mk[] =
		"{\"type\":\"markov\",\"version\":1,\"order\":1,\"journeys\":6917529027641081856,"
		"\"conversions\":4611686018427387904,\"channels\":[[\"A\",2305843009213693952,"
		"2305843009213693952],[\"B\",6917529027641081856,4611686018427387904]],"
		"\"transitions\":[[\"start\",[\"A\"],2305843009213693952],[\"start\",[\"B\"],"
		"4611686018427387904],[[\"A\"],[\"B\"],2305843009213693952],[[\"B\"],\"conversion\","
		"4611686018427387904],[[\"B\"],\"null\",2305843009213693952]]}";
	static const char sh[] =
		"{\"type\":\"shapley\",\"version\":1,\"journeys\":9223372036854775805,"
		"\"conversions\":4611686018427387906,\"coalitions\":[[[],1,1],[[\"A\"],"
		"4611686018427387900,1],[[\"A\",\"B\"],4611686018427387902,4611686018427387902],"
		"[[\"B\"],2,2]]}";
	static const char reordered[] =
		"{ \"transitions\": [[[\"B\"], \"conversion\", 1], [\"start\", [\"B\"], 1]],"
		" \"channels\": [[\"B\", 1, 1]], \"conversions\": 1, \"journeys\": 1,"
		" \"order\": 2, \"version\": 1, \"type\": \"markov\" }";
	/* a big self-loop: fine alone, but added to itself state A is entered > 2^63 times */
	static const char loop[] =
		"{\"type\":\"markov\",\"version\":1,\"order\":1,\"journeys\":1000000000000000000,"
		"\"conversions\":1000000000000000000,\"channels\":[[\"A\",1000000000000000000,"
		"1000000000000000000]],\"transitions\":[[\"start\",[\"A\"],1000000000000000000],"
		"[[\"A\"],[\"A\"],4000000000000000000],[[\"A\"],\"conversion\",1000000000000000000]]}";
	at_markov_counts mc;
	at_shapley_counts sc;
	uint8_t    *bytes;
	size_t		len;

	if (at_markov_from_text(&env, mk, strlen(mk), &mc) != AT_OK ||
		at_markov_encode(&env, &mc, &bytes, &len) != AT_OK)
		die("big markov seed");
	write_file("fuzz_markov_decode", "big_counts", bytes, len);
	write_model_text("markov_big_counts", 0, mk, strlen(mk));
	if (at_markov_from_text(&env, loop, strlen(loop), &mc) != AT_OK ||
		at_markov_encode(&env, &mc, &bytes, &len) != AT_OK)
		die("big self-loop seed");
	write_file("fuzz_markov_decode", "big_self_loop", bytes, len);
	write_model_text("markov_big_self_loop", 0, loop, strlen(loop));
	if (at_shapley_from_text(&env, sh, strlen(sh), &sc) != AT_OK ||
		at_shapley_encode(&env, &sc, &bytes, &len) != AT_OK)
		die("big shapley seed");
	write_file("fuzz_shapley_decode", "big_counts", bytes, len);
	write_model_text("shapley_big_counts", 1, sh, strlen(sh));
	/* text in another key order, with spaces: the parser takes it, prints canonically */
	write_model_text("markov_reordered", 0, reordered, strlen(reordered));
}

static void
model_seeds(void)
{
	char		name[32];

	for (uint32_t k = 1; k <= AT_MARKOV_MAX_ORDER; k++)
	{
		snprintf(name, sizeof(name), "markov_o%u", k);
		markov_seed(name, dd_ex2, sizeof(dd_ex2) / sizeof(dd_ex2[0]), k);
	}
	markov_seed("markov_example1", dd_ex1, sizeof(dd_ex1) / sizeof(dd_ex1[0]), 1);
	markov_seed("markov_no_conversion", dd_ex3, sizeof(dd_ex3) / sizeof(dd_ex3[0]), 2);
	shapley_seed("shapley_example1", dd_ex1, sizeof(dd_ex1) / sizeof(dd_ex1[0]));
	shapley_seed("shapley_mixed", dd_ex2, sizeof(dd_ex2) / sizeof(dd_ex2[0]));
	shapley_seed("shapley_no_conversion", dd_ex3, sizeof(dd_ex3) / sizeof(dd_ex3[0]));
	big_seeds();
}

int
main(int argc, char **argv)
{
	if (argc != 2)
	{
		fprintf(stderr, "usage: make_corpus CORPUS_DIR\n");
		return 2;
	}
	root = argv[1];
	if (mkdir(root, 0755) != 0 && errno != EEXIST)
		die(root);
	journey_seeds();
	state_seeds();
	options_seeds();
	credits_seeds();
	money_seeds();
	model_seeds();
	return 0;
}
