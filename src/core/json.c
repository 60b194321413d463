/*
 * json.c — a small, strict JSON parser (RFC 8259) for journey text and model
 * options.
 *
 * The parser builds a tree of at_json nodes in env memory.  It is strict: no
 * trailing commas, comments, single quotes, NaN/Infinity, leading zeros or raw
 * control characters in strings.  Escapes (including \uXXXX and surrogate pairs)
 * are decoded to UTF-8; an unpaired surrogate and \u0000 are rejected (text values
 * in PostgreSQL cannot hold NUL).  Other bytes >= 0x80 are passed through as they
 * are: the server has already checked the input against the database encoding,
 * and the journey text output passes such bytes through, so rejecting them here
 * would break text round trips in non-UTF8 databases.
 *
 * Numbers are checked against the JSON grammar, then converted with strtod on a
 * NUL-terminated copy (PostgreSQL keeps LC_NUMERIC at "C"); the copy is kept in
 * at_json.str.  A number too large for a double is an error.
 *
 * Duplicate object keys are kept, in order: callers decide what they mean.
 * Nesting deeper than 64 arrays/objects is AT_ELIMIT; every other error is
 * AT_ESYNTAX "invalid JSON at byte N: ...", N being the 0-based offset of the
 * offending byte.  Memory use is proportional to the input length.
 */
#include "attrib_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

typedef struct json_parser
{
	at_env	   *env;
	const char *s;
	size_t		len;
	size_t		pos;
	uint32_t	count;			/* values parsed, for polling the interrupt hook */
} json_parser;

static at_status parse_value(json_parser *p, int depth, at_json *out);

static at_status
syntax_error(json_parser *p, const char *what)
{
	return at_fail(p->env, AT_ESYNTAX, "invalid JSON at byte %zu: %s", p->pos, what);
}

/* "unexpected character 'x'" or "unexpected end of input" at the current byte */
static at_status
unexpected(json_parser *p)
{
	unsigned char c;

	if (p->pos >= p->len)
		return syntax_error(p, "unexpected end of input");
	c = (unsigned char) p->s[p->pos];
	if (c > 0x20 && c < 0x7f)
		return at_fail(p->env, AT_ESYNTAX,
					   "invalid JSON at byte %zu: unexpected character '%c'", p->pos, c);
	return at_fail(p->env, AT_ESYNTAX,
				   "invalid JSON at byte %zu: unexpected byte 0x%02x", p->pos, c);
}

static void
skip_ws(json_parser *p)
{
	while (p->pos < p->len)
	{
		char		c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Read the 4 hex digits of a \u escape at p->pos; -1 if malformed. */
static long
read_hex4(json_parser *p)
{
	long		v = 0;

	if (p->len - p->pos < 4)
		return -1;
	for (int i = 0; i < 4; i++)
	{
		int			h = hex_value(p->s[p->pos + i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	p->pos += 4;
	return v;
}

static size_t
put_utf8(char *dst, unsigned long cp)
{
	if (cp < 0x80)
	{
		dst[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		dst[0] = (char) (0xc0 | (cp >> 6));
		dst[1] = (char) (0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000)
	{
		dst[0] = (char) (0xe0 | (cp >> 12));
		dst[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
		dst[2] = (char) (0x80 | (cp & 0x3f));
		return 3;
	}
	dst[0] = (char) (0xf0 | (cp >> 18));
	dst[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
	dst[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
	dst[3] = (char) (0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decode the XXXX of \uXXXX at p->pos, and the low surrogate that must follow
 * a high one, into a code point; an error message if they are invalid.
 */
static const char *
unicode_escape(json_parser *p, size_t end, unsigned long *out)
{
	long		cp = read_hex4(p),
				lo;

	if (cp < 0)
		return "invalid \\u escape";
	if (cp == 0)
		return "\\u0000 is not allowed";
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return "unpaired low surrogate in \\u escape";
	if (cp >= 0xd800 && cp <= 0xdbff)
	{
		if (end - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
			return "unpaired high surrogate in \\u escape";
		p->pos += 2;
		lo = read_hex4(p);
		if (lo < 0)
			return "invalid \\u escape";
		if (lo < 0xdc00 || lo > 0xdfff)
			return "unpaired high surrogate in \\u escape";
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	*out = (unsigned long) cp;
	return NULL;
}

/*
 * Parse a string starting at the opening quote into *out (unescaped,
 * NUL-terminated).  The unescaped text is never longer than the raw text, so one
 * allocation of the raw length suffices.
 */
static at_status
parse_string(json_parser *p, at_str *out)
{
	size_t		start = p->pos + 1;
	size_t		end = start;
	char	   *buf;
	size_t		n = 0;

	/* find the closing quote, skipping escaped characters */
	while (end < p->len && p->s[end] != '"')
		end += (p->s[end] == '\\') ? 2 : 1;
	if (end >= p->len)
	{
		p->pos = p->len;
		return syntax_error(p, "unterminated string");
	}
	if (end - start >= UINT32_MAX)
		return at_fail(p->env, AT_ELIMIT, "JSON string at byte %zu is too long", p->pos);
	buf = at_alloc(p->env, end - start + 1);
	if (buf == NULL)
		return AT_ENOMEM;

	p->pos = start;
	while (p->pos < end)
	{
		unsigned char c = (unsigned char) p->s[p->pos];
		size_t		esc = p->pos;
		unsigned long cp;
		const char *why;

		if (c < 0x20)
			return syntax_error(p, "control character in string");
		if (c != '\\')
		{
			buf[n++] = (char) c;
			p->pos++;
			continue;
		}
		/* errors in an escape point at its backslash */
		p->pos++;
		switch (p->s[p->pos++])
		{
			case '"':
				buf[n++] = '"';
				break;
			case '\\':
				buf[n++] = '\\';
				break;
			case '/':
				buf[n++] = '/';
				break;
			case 'b':
				buf[n++] = '\b';
				break;
			case 'f':
				buf[n++] = '\f';
				break;
			case 'n':
				buf[n++] = '\n';
				break;
			case 'r':
				buf[n++] = '\r';
				break;
			case 't':
				buf[n++] = '\t';
				break;
			case 'u':
				if ((why = unicode_escape(p, end, &cp)) != NULL)
				{
					p->pos = esc;
					return syntax_error(p, why);
				}
				n += put_utf8(buf + n, cp);
				break;
			default:
				p->pos = esc;
				return syntax_error(p, "invalid escape in string");
		}
	}
	buf[n] = '\0';
	p->pos = end + 1;
	out->p = buf;
	out->len = (uint32_t) n;
	return AT_OK;
}

static bool
is_digit(json_parser *p)
{
	return p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9';
}

static at_status
parse_number(json_parser *p, at_json *out)
{
	size_t		start = p->pos;
	char	   *copy;
	char	   *endp;

	if (p->s[p->pos] == '-')
		p->pos++;
	if (!is_digit(p))
		return syntax_error(p, "invalid number");
	if (p->s[p->pos] == '0')
		p->pos++;
	else
		while (is_digit(p))
			p->pos++;
	if (p->pos < p->len && p->s[p->pos] == '.')
	{
		p->pos++;
		if (!is_digit(p))
			return syntax_error(p, "invalid number");
		while (is_digit(p))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E'))
	{
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (!is_digit(p))
			return syntax_error(p, "invalid number");
		while (is_digit(p))
			p->pos++;
	}
	if (p->pos - start >= UINT32_MAX)
		return at_fail(p->env, AT_ELIMIT, "JSON number at byte %zu is too long", start);

	copy = at_alloc(p->env, p->pos - start + 1);
	if (copy == NULL)
		return AT_ENOMEM;
	memcpy(copy, p->s + start, p->pos - start);
	copy[p->pos - start] = '\0';
	out->kind = AT_JSON_NUMBER;
	out->num = strtod(copy, &endp);
	out->str.p = copy;
	out->str.len = (uint32_t) (p->pos - start);
	if (*endp != '\0')
	{
		p->pos = start;
		return syntax_error(p, "invalid number");
	}
	if (isinf(out->num))
	{
		p->pos = start;
		return syntax_error(p, "number out of range");
	}
	return AT_OK;
}

static at_status
parse_literal(json_parser *p, const char *word, at_json_kind kind, at_json *out)
{
	size_t		n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return unexpected(p);
	p->pos += n;
	out->kind = kind;
	return AT_OK;
}

/* Make room for one more item (and key) in an array or object node. */
static at_status
grow_items(json_parser *p, at_json *node, uint32_t *cap, bool with_keys)
{
	uint32_t	newcap;
	void	   *items,
			   *keys;

	if (node->n < *cap)
		return AT_OK;
	if (*cap >= UINT32_MAX / 2)
		return at_fail(p->env, AT_ELIMIT, "JSON array or object at byte %zu has too many items",
					   p->pos);
	newcap = *cap ? *cap * 2 : 4;
	items = at_realloc(p->env, node->items, (size_t) *cap * sizeof(at_json),
					   (size_t) newcap * sizeof(at_json));
	if (items == NULL)
		return AT_ENOMEM;
	node->items = items;
	if (with_keys)
	{
		keys = at_realloc(p->env, node->keys, (size_t) *cap * sizeof(at_str),
						  (size_t) newcap * sizeof(at_str));
		if (keys == NULL)
			return AT_ENOMEM;
		node->keys = keys;
	}
	*cap = newcap;
	return AT_OK;
}

/* Parse an array or object starting at its opening bracket. */
static at_status
parse_container(json_parser *p, int depth, at_json *out)
{
	bool		object = p->s[p->pos] == '{';
	char		close = object ? '}' : ']';
	uint32_t	cap = 0;
	at_status	st;

	if (depth >= JSON_MAX_DEPTH)
		return at_fail(p->env, AT_ELIMIT,
					   "invalid JSON at byte %zu: nested more than %d levels deep",
					   p->pos, JSON_MAX_DEPTH);
	out->kind = object ? AT_JSON_OBJECT : AT_JSON_ARRAY;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close)
	{
		p->pos++;
		return AT_OK;
	}
	for (;;)
	{
		if ((st = grow_items(p, out, &cap, object)) != AT_OK)
			return st;
		if (object)
		{
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return p->pos >= p->len ? unexpected(p) :
					syntax_error(p, "expected a string as object key");
			if ((st = parse_string(p, &out->keys[out->n])) != AT_OK)
				return st;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return p->pos >= p->len ? unexpected(p) :
					syntax_error(p, "expected ':' after object key");
			p->pos++;
		}
		if ((st = parse_value(p, depth + 1, &out->items[out->n])) != AT_OK)
			return st;
		out->n++;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',')
		{
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close)
		{
			p->pos++;
			return AT_OK;
		}
		if (p->pos >= p->len)
			return unexpected(p);
		return syntax_error(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static at_status
parse_value(json_parser *p, int depth, at_json *out)
{
	memset(out, 0, sizeof(*out));
	if ((++p->count & 1023) == 0 && at_interrupted(p->env))
		return AT_ECANCELED;
	skip_ws(p);
	if (p->pos >= p->len)
		return unexpected(p);
	switch (p->s[p->pos])
	{
		case '{':
		case '[':
			return parse_container(p, depth, out);
		case '"':
			out->kind = AT_JSON_STRING;
			return parse_string(p, &out->str);
		case 't':
			return parse_literal(p, "true", AT_JSON_TRUE, out);
		case 'f':
			return parse_literal(p, "false", AT_JSON_FALSE, out);
		case 'n':
			return parse_literal(p, "null", AT_JSON_NULL, out);
		case '-':
		case '0':
		case '1':
		case '2':
		case '3':
		case '4':
		case '5':
		case '6':
		case '7':
		case '8':
		case '9':
			return parse_number(p, out);
		default:
			return unexpected(p);
	}
}

at_status
at_json_parse(at_env *env, const char *text, size_t len, at_json **out)
{
	json_parser p;
	at_json    *root;
	at_status	st;

	*out = NULL;
	if (text == NULL && len > 0)
		return at_fail(env, AT_ENULL, "JSON text is NULL");
	p.env = env;
	p.s = text ? text : "";
	p.len = len;
	p.pos = 0;
	p.count = 0;
	root = at_alloc(env, sizeof(at_json));
	if (root == NULL)
		return AT_ENOMEM;
	if ((st = parse_value(&p, 0, root)) != AT_OK)
		return st;
	skip_ws(&p);
	if (p.pos < p.len)
		return syntax_error(&p, "unexpected data after the JSON value");
	*out = root;
	return AT_OK;
}
