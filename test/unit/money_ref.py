#!/usr/bin/env python3
"""
money_ref.py — an independent Python reference for src/core/money.c.

Reimplements at_amount_parse / at_amount_format / at_amount_split /
at_amount_scale with Python integers and fractions.Fraction, with no floating
point arithmetic at all (weights are taken as the exact rationals they are; the
C code's ldexp-and-round quantization is claimed exact, and this checks it),
generates a few thousand random cases (fixed seed), feeds them to the C test
driver and compares every result.  It also checks, exactly, that the shares sum
to the amount, that each is within one minor unit of q_i * |a| / S and within the
documented bound of w_i / sum(w) * |a|, and that equal weights get shares that
differ by at most one unit, the larger ones first.

Usage:
    python3 test/unit/money_ref.py PATH/TO/test_money [--cases N] [--seed S]

PATH/TO/test_money is the binary built from test/unit/test_money.c; it is run
as `test_money --cases` and speaks this line protocol (tokens separated by
single spaces; weights as hex floats, which C's strtod and float.fromhex share):

    P <scale> <text>                 ->  OK <formatted>      | ERR <STATUS>
    S <scale> <text> <n> <w>...      ->  OK <share>...       | ERR <STATUS>
    W <scale> <text> <w>             ->  OK <scaled>         | ERR <STATUS>

For S the driver runs both the fast and the forced general (bignum) path and
answers PATHDIFF if they differ.  Exit status: 0 when everything agrees,
1 on any mismatch, 2 on a usage or driver error.
"""

import collections
import math
import random
import re
import subprocess
import sys
from fractions import Fraction

if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)

TWO64 = 1 << 64
MAX_SCALE = 1000
SPACE = " \t\n\r\v\f"
AMOUNT_RE = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?")


class Err(Exception):
    def __init__(self, status):
        super().__init__(status)
        self.status = status


# ---------------------------------------------------------------- reference

def parse(text, scale):
    """Minor units (a signed int) of text rounded half away from zero."""
    if not 0 <= scale <= MAX_SCALE:
        raise Err("EBAD_VALUE")
    t = text.strip(SPACE)
    m = AMOUNT_RE.fullmatch(t)
    if not m or (m.group(2) == "" and not m.group(3)):
        raise Err("EBAD_AMOUNT")
    neg = m.group(1) == "-"
    ip, fp = m.group(2), m.group(3) or ""
    digits = int((ip + fp) or "0")          # value * 10^len(fp)
    drop = len(fp) - scale
    if drop <= 0:
        units = digits * 10 ** (-drop)
    else:
        units, rem = divmod(digits, 10 ** drop)
        if 2 * rem >= 10 ** drop:
            units += 1
    return -units if neg else units


def fmt(units, scale):
    s = str(abs(units)).rjust(scale + 1, "0")
    if scale:
        s = s[:-scale] + "." + s[-scale:]
    return ("-" if units < 0 else "") + s


def check_weights(ws):
    if not ws:
        raise Err("EBAD_WEIGHTS")
    for w in ws:
        if not math.isfinite(w) or w < 0:
            raise Err("EBAD_WEIGHTS")
    if not any(w > 0 for w in ws):
        raise Err("EBAD_WEIGHTS")


def first_ranked(cand, k, key):
    return sorted(cand, key=key)[:k]


def round_half_even(num, den):
    """round(num / den), half to even, for integers num >= 0, den > 0."""
    x, r = divmod(num, den)
    if 2 * r > den or (2 * r == den and x % 2 == 1):
        x += 1
    return x


def quantize(ws, stats=None):
    """(q, S, P): q_i = round(w_i 2^(P-e)) half to even, exactly, with 2^e the
    power of two just above max(w) (frexp) and P the largest integer with
    S = sum q_i < 2^64 (money.c, step 1).  Searched from 64 down, one step at
    a time (the C code estimates P instead)."""
    n = len(ws)
    _, e = math.frexp(max(ws))
    ratios = [w.as_integer_ratio() for w in ws]     # exact; denominators 2^k

    def at(p):
        sh = p - e
        if sh >= 0:
            return [round_half_even(num << sh, den) for num, den in ratios]
        return [round_half_even(num, den << -sh) for num, den in ratios]

    p = 64
    q = at(p)
    assert sum(at(p + 1)) >= TWO64, "P could exceed 64"
    while sum(q) >= TWO64:
        p -= 1
        q = at(p)
    s = sum(q)
    # the documented bounds
    assert p >= 63 - (n - 1).bit_length(), "P below 63 - ceil(log2 n)"
    assert 2 * s >= TWO64 - n, "S below 2^63 - n/2"
    assert all(qi == 0 for w, qi in zip(ws, q) if w == 0)
    if stats is not None:
        stats["P=%d" % p if p >= 60 else "P<60"] += 1
    return q, s, p


def split(units, ws, stats=None):
    check_weights(ws)
    n = len(ws)
    a = abs(units)
    q, s, p = quantize(ws, stats)
    qr = [divmod(qi * a, s) for qi in q]
    shares = [x for x, _ in qr]
    rems = [r for _, r in qr]
    assert sum(rems) % s == 0
    left = sum(rems) // s
    assert left < n
    for i in first_ranked([i for i in range(n) if rems[i] > 0], left,
                          lambda i: (-rems[i], i)):
        shares[i] += 1
    # exact properties, independent of the ranking
    assert sum(shares) == a, "shares do not sum to the amount"
    for qi, sh in zip(q, shares):
        assert abs(sh * s - qi * a) < s, "share more than 1 unit off q_i |a| / S"
    sf = sum(Fraction(w) for w in ws)
    for w, sh in zip(ws, shares):
        exact = Fraction(w) / sf * a
        # |q_i/S - w_i/W| <= (1/2 + n/2 w_i/W) / S  (money.c, Precision)
        assert abs(sh - exact) <= 1 + a * (Fraction(1, 2) + Fraction(n, 2) * Fraction(w) / sf) / s, \
            "share far from w_i / sum * amount"
    # equal weights: shares differ by at most one unit, the larger ones first
    groups = {}
    for i, w in enumerate(ws):
        if w > 0:
            groups.setdefault(w, []).append(shares[i])
    for g in groups.values():
        assert g[0] - g[-1] <= 1 and g == sorted(g, reverse=True), \
            "equal weights, unequal shares"
        if stats is not None and len(g) > 1:
            stats["equal groups"] += 1
    if len(groups) == 1:
        (g,) = groups.values()
        k = len(g)
        assert g == [a // k + 1] * (a % k) + [a // k] * (k - a % k)
    return [-x for x in shares] if units < 0 else shares


def scale_share(units, w):
    if not math.isfinite(w) or w < 0:
        raise Err("EBAD_VALUE")
    v = Fraction(w) * abs(units)
    x, r = divmod(v.numerator, v.denominator)
    if 2 * r >= v.denominator:
        x += 1
    return -x if units < 0 else x


# ---------------------------------------------------------------- cases

def rand_digits(rng, n):
    return "".join(rng.choice("0123456789") for _ in range(n))


def rand_amount(rng):
    """(text, scale): a decimal text, often with more decimals than scale."""
    scale = rng.choice([0, 2, 2, 2, 2, 2, 3, 4, 6, 9, 10, 12, 18])
    ndig = rng.choice([0, 1, 1, 2, 3, 5, 9, 10, 13, 18, 19, 20, 21, 27, 30, 40, 40, 60])
    ip = rand_digits(rng, ndig)
    if ndig and rng.random() < 0.8:
        ip = str(rng.randint(1, 9)) + ip[1:]
    nf = max(0, scale + rng.choice([-2, -1, 0, 0, 0, 1, 1, 2, 4, 8]))
    fp = rand_digits(rng, nf)
    if nf > scale and rng.random() < 0.3:     # exactly half, or just below
        fp = fp[:scale] + rng.choice(["5", "50", "5000", "4999", "49", "51"])
    sign = rng.choice(["", "", "", "-", "+"])
    if not ip and not fp:
        ip = "0"
    if fp or rng.random() < 0.1:
        return sign + ip + "." + fp, scale
    return sign + ip, scale


def rand_weights(rng):
    n = rng.choice([1, 2, 2, 3, 3, 4, 5, 6, 7, 8, 10, 13, 20, 40, 100])
    if rng.random() < 0.005:    # thousands of weights
        n = rng.choice([2049, 3000, 4100, 6000])
    kind = rng.randrange(10)
    if kind == 0:
        ws = [1.0] * n
    elif kind == 1:
        ws = [rng.random() for _ in range(n)]
    elif kind == 2:
        ws = [rng.random() if rng.random() < 0.6 else 0.0 for _ in range(n)]
    elif kind == 3:     # wildly different magnitudes
        ws = [math.ldexp(rng.random(), rng.randint(-1074, 1000)) for _ in range(n)]
    elif kind == 4:
        ws = [float(rng.randint(0, 9)) for _ in range(n)]
    elif kind == 5:     # position-based / U-shaped style
        ws = [0.4] + [0.2 / max(1, n - 2)] * max(0, n - 2) + ([0.4] if n > 1 else [])
    elif kind == 6:     # a dominant weight and specks
        ws = [1.0] + [rng.choice([2.0 ** -53, 2.0 ** -54, 1e-17, 1e-30, 0.0])
                      for _ in range(n - 1)]
        rng.shuffle(ws)
    elif kind == 7:     # time-decay style
        ws = [2.0 ** (-rng.uniform(0, 20)) for _ in range(n)]
    elif kind == 8:     # huge and tiny absolute scales
        base = rng.choice([1e300, 1.7e308, 1e-300, 5e-324, 2.2250738585072014e-308])
        ws = [base * rng.choice([1, 1, 0.5, 0.25, 0]) for _ in range(n)]
        if not any(w > 0 for w in ws):
            ws[0] = base
    else:
        ws = [rng.choice([1 / 3, 0.1, 0.2, 0.3, 0.7, 1.0, 2.0 / 3]) for _ in range(n)]
    if not any(w > 0 for w in ws):
        ws[rng.randrange(n)] = 1.0
    return ws


def make_cases(rng, count):
    cases = []
    for _ in range(count):
        r = rng.random()
        text, scale = rand_amount(rng)
        if r < 0.15:
            cases.append(("P", scale, text))
        elif r < 0.30:
            w = rng.choice([rng.random(), rng.uniform(0, 3), 0.5, 0.1, 1 / 3, 0.0,
                            math.ldexp(rng.random(), rng.randint(-200, 200)),
                            rng.choice([5e-324, 1e-320, 1e300])])
            cases.append(("W", scale, text, w))
        else:
            cases.append(("S", scale, text, rand_weights(rng)))
    # bad input and edge cases
    fixed = [
        ("P", 2, "NaN"), ("P", 2, "-Infinity"), ("P", 2, "1e5"), ("P", 2, "1.2.3"),
        ("P", 2, "."), ("P", 2, "-"), ("P", -1, "1"), ("P", 1001, "1"),
        ("P", 1000, "0." + "0" * 999 + "5"), ("P", 0, "9" * 5000 + ".5"),
        ("S", 2, "1.00", [1.0, -0.5]), ("S", 2, "1.00", [1.0, float("nan")]),
        ("S", 2, "1.00", [float("inf")]), ("S", 2, "1.00", [0.0, 0.0]),
        ("S", 2, "NaN", [1.0]),
        ("S", 2, "0.01", [1.0, 1.0, 1.0]), ("S", 2, "0.03", [1.0] * 7),
        ("S", 2, "100.00", [1.0] * 3), ("S", 2, "99999999999.99", [1.0] * 7),
        ("S", 2, "-10.00", [1.0] * 3), ("S", 0, "1" + "0" * 59, [1.0] * 3),
        ("S", 2, "18446744073709551.61", [1.0] * 3),    # 2^64 - 1 units
        ("S", 2, "18446744073709551.62", [1.0] * 3),    # 2^64 units
        ("S", 0, "9007199254740992", [0.7033293535128509, 0.7038367793552841]),
        ("S", 2, "123456.78", [rng.random() for _ in range(5000)]),
        # equal weights, amounts far beyond 2^53 units
        ("S", 2, "1234567890123456789012345678901234567890.12", [1.0] * 7),
        ("S", 0, "18446744073709551615", [1.0] * 3), ("S", 0, "18446744073709551615", [1.0] * 7),
        ("S", 0, "18446744073709551616", [0.1] * 7),
        ("S", 2, "-" + "9" * 58 + ".99", [1 / 3] * 13 + [0.0] + [1 / 3] * 4),
        # half-to-even quantization and specks that round to 0
        # (P = 64, x_i = w_i 2^63: q = {2^63, 0, 2, 2, 2, 4, 0}; split S units)
        ("S", 0, "9223372036854775818",
         [1.0, 2.0 ** -64, 1.5 * 2.0 ** -63, 2.0 ** -62, 1.25 * 2.0 ** -62,
          1.75 * 2.0 ** -62, 2.0 ** -65]),
        # thousands of weights: P down to the 40s
        ("S", 0, "9223372036854775808", [1.0] * 4096 + [2.0 ** -52]),
        ("S", 2, "98765432109876543210.98", [float(1 + i % 13) for i in range(5000)]),
        ("S", 2, "12345.67", [1.0] + [1.5 * 2.0 ** -52] * 3000),
        ("S", 2, "5" * 45 + ".55", [rng.random() for _ in range(2049)]),
        ("S", 2, "77.77", [0.4] + [0.2 / 3] * 3 + [0.4]),
        ("W", 2, "1.00", -1.0), ("W", 2, "1.00", float("nan")),
        ("W", 2, "0.05", 0.1), ("W", 0, "1" + "0" * 40, 1.7976931348623157e308),
    ]
    return fixed + cases


def encode(case):
    kind, scale, text = case[0], case[1], case[2]
    if kind == "P":
        return "P %d %s" % (scale, text)
    if kind == "W":
        return "W %d %s %s" % (scale, text, case[3].hex())
    ws = case[3]
    return "S %d %s %d %s" % (scale, text, len(ws), " ".join(w.hex() for w in ws))


def expect(case, stats):
    kind, scale, text = case[0], case[1], case[2]
    try:
        units = parse(text, scale)
        if kind == "P":
            return "OK " + fmt(units, scale)
        if kind == "W":
            return "OK " + fmt(scale_share(units, case[3]), scale)
        return "OK " + " ".join(fmt(x, scale) for x in split(units, case[3], stats))
    except Err as e:
        return "ERR " + e.status


def main(argv):
    args = argv[1:]
    if not args or args[0].startswith("-"):
        print(__doc__.strip().split("\n\n")[2], file=sys.stderr)
        return 2
    binary, count, seed = args[0], 4000, 20240601
    i = 1
    while i < len(args):
        if args[i] == "--cases" and i + 1 < len(args):
            count = int(args[i + 1])
        elif args[i] == "--seed" and i + 1 < len(args):
            seed = int(args[i + 1])
        else:
            print("money_ref.py: unknown argument %r" % args[i], file=sys.stderr)
            return 2
        i += 2

    rng = random.Random(seed)
    cases = make_cases(rng, count)
    stdin = "".join(encode(c) + "\n" for c in cases)
    try:
        proc = subprocess.run([binary, "--cases"], input=stdin, capture_output=True,
                              text=True, timeout=600)
    except OSError as e:
        print("money_ref.py: cannot run %s: %s" % (binary, e), file=sys.stderr)
        return 2
    if proc.returncode != 0:
        print("money_ref.py: %s --cases exited with %d\n%s"
              % (binary, proc.returncode, proc.stderr), file=sys.stderr)
        return 2
    got = proc.stdout.split("\n")
    if got and got[-1] == "":
        got.pop()
    if len(got) != len(cases):
        print("money_ref.py: %d cases sent, %d answers" % (len(cases), len(got)),
              file=sys.stderr)
        return 2

    stats = collections.Counter()
    mismatches = 0
    kinds = {}
    for case, answer in zip(cases, got):
        want = expect(case, stats)
        kinds[case[0]] = kinds.get(case[0], 0) + 1
        if answer != want:
            mismatches += 1
            if mismatches <= 10:
                line = encode(case)
                print("MISMATCH for: %s\n   C: %s\n  py: %s"
                      % (line[:300], answer[:300], want[:300]))
    print("money_ref: %d cases (%s), splits by P: %s, %d groups of equal weights, "
          "%d mismatches"
          % (len(cases), ", ".join("%s %d" % kv for kv in sorted(kinds.items())),
             " ".join("%s %d" % kv for kv in sorted(stats.items()) if kv[0] != "equal groups"),
             stats["equal groups"], mismatches))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
