#!/usr/bin/env python3
"""hearken evaluation: corpora preparation, hearken runs and metrics (python3 stdlib only).

Called by bench/eval/run; each step can be run on its own:

  eval.py prep    --out OUT [--data DIR] [--devset DIR]
  eval.py hearken --out OUT --bin BIN [--lexicons DIR] [--lang LANG] [--runs N]
  eval.py report  --out OUT --md FILE [--hearken-status TEXT]

prep writes OUT/texts/NAME.txt (one sentence a line, what the peers read), OUT/jsonl/NAME.jsonl
(the same sentences as {"id","comment"} objects, what hearken reads), OUT/gold/NAME.json (the
human labels) and OUT/speed_input.txt (the 23,703 vader/ sentences as plain text lines).
hearken runs `BIN score` on every set and times it over speed_input.txt (whole process, median of
N runs). report reads OUT/peers/ (written by peers.js) and OUT/hearken/ and prints one markdown
table, also written to FILE, plus OUT/eval.json with every figure.
"""

import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

VADER_SETS = [  # (set name, file, column title)
    ("vader_tweets", "tweets_GroundTruth.txt", "tweets"),
    ("vader_amazon", "amazonReviewSnippets_GroundTruth.txt", "amazon"),
    ("vader_movie", "movieReviewSnippets_GroundTruth.txt", "movie"),
    ("vader_nyt", "nytEditorialSnippets_GroundTruth.txt", "nyt"),
]
UCI_SETS = [
    ("uci_amazon", "amazon_cells_labelled.txt", "amazon"),
    ("uci_imdb", "imdb_labelled.txt", "imdb"),
    ("uci_yelp", "yelp_labelled.txt", "yelp"),
]
DEV_SETS = [("dev_dev", "dev.tsv", "dev.tsv"), ("dev_holdout", "holdout.tsv", "holdout.tsv")]
DIMS = ["sentiment", "felt_heard", "felt_valued", "advocacy", "ease"]
DEV_HEADER = ["id", "scenario"] + DIMS + ["comment"]
SPEED_SENTENCES = 23703
TIMEOUT = 600  # seconds allowed for one hearken run

# Dead zone that maps a score in [-1, 1] to a class: > +DEAD -> +1, < -DEAD -> -1, else 0.
DEAD = 0.05

# The peers, and the field of each used for every metric: the better-correlating field on the
# vader/ sets (wink: normalizedScore beats score on all four; AFINN: score beats comparative on
# tweets, amazon and nyt, ties on movie). The other field's figures are reported in the notes.
PEERS = [
    # key, label, column used, alternative column
    ("vader", "VADER JS 1.1.3 (compound)", "vader_compound", None),
    ("wink", "wink-sentiment 5.0.2 (normalizedScore)", "wink_normalized", "wink_score"),
    ("afinn", "sentiment 5.0.2, AFINN-165 (score)", "afinn_score", "afinn_comparative"),
]


class EvalError(Exception):
    pass


# ---------------------------------------------------------------- reading the data


def read_text(path):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise EvalError(f"cannot read {path}: {e.strerror}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise EvalError(f"{path}: not UTF-8 at byte {e.start}")


def split_lines(text):
    """Split on '\\n' only (imdb holds U+0085 inside lines); drop one final empty line."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [l[:-1] if l.endswith("\r") else l for l in lines]


def clean(s):
    # Sentences travel one a line: make sure none holds a line break of its own.
    return s.replace("\r", " ").replace("\n", " ")


def load_vader(path):
    rows = []
    for n, line in enumerate(split_lines(read_text(path)), 1):
        parts = line.split("\t", 2)
        if len(parts) != 3:
            raise EvalError(f"{path}:{n}: expected id<TAB>mean<TAB>text")
        rows.append((clean(parts[2]), float(parts[1])))
    return rows


def load_uci(path):
    rows = []
    for n, line in enumerate(split_lines(read_text(path)), 1):
        if not line.strip():
            continue
        text, sep, label = line.rpartition("\t")
        if not sep or label.strip() not in ("0", "1"):
            raise EvalError(f"{path}:{n}: expected text<TAB>0|1")
        rows.append((clean(text), 1 if label.strip() == "1" else -1))
    return rows


def load_devset(path):
    lines = split_lines(read_text(path))
    if not lines or lines[0].split("\t") != DEV_HEADER:
        raise EvalError(f"{path}: header must be {'<TAB>'.join(DEV_HEADER)}")
    rows = []
    for n, line in enumerate(lines[1:], 2):
        parts = line.split("\t")
        if len(parts) != len(DEV_HEADER):
            raise EvalError(f"{path}:{n}: expected {len(DEV_HEADER)} TAB-separated columns, got {len(parts)}")
        labels = {}
        for d, v in zip(DIMS, parts[2:7]):
            if v not in ("-1", "0", "1", "+1"):
                raise EvalError(f"{path}:{n}: label {d}={v!r} is not -1, 0 or +1")
            labels[d] = int(v)
        rows.append((parts[7], labels, parts[0], parts[1]))
    return rows


# ---------------------------------------------------------------- prep


def write_set(out, name, texts, gold):
    with open(os.path.join(out, "texts", name + ".txt"), "w", encoding="utf-8", newline="\n") as f:
        for t in texts:
            f.write(t + "\n")
    with open(os.path.join(out, "jsonl", name + ".jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": f"{name}-{i}", "comment": t}, ensure_ascii=False) + "\n")
    with open(os.path.join(out, "gold", name + ".json"), "w", encoding="utf-8") as f:
        json.dump(gold, f)


def cmd_prep(a):
    for sub in ("texts", "jsonl", "gold"):
        os.makedirs(os.path.join(a.out, sub), exist_ok=True)
    speed = []
    counts = {}
    for name, fn, _ in VADER_SETS:
        rows = load_vader(os.path.join(a.data, "vader", fn))
        write_set(a.out, name, [t for t, _ in rows], [g for _, g in rows])
        speed.extend(t for t, _ in rows)
        counts[name] = len(rows)
    for name, fn, _ in UCI_SETS:
        rows = load_uci(os.path.join(a.data, "uci", fn))
        write_set(a.out, name, [t for t, _ in rows], [g for _, g in rows])
        counts[name] = len(rows)
    for name, fn, _ in DEV_SETS:
        rows = load_devset(os.path.join(a.devset, fn))
        write_set(a.out, name, [t for t, *_ in rows], [l for _, l, *_ in rows])
        counts[name] = len(rows)
    if len(speed) != SPEED_SENTENCES:
        raise EvalError(f"vader/ sets hold {len(speed)} sentences, expected {SPEED_SENTENCES}")
    with open(os.path.join(a.out, "speed_input.txt"), "w", encoding="utf-8", newline="\n") as f:
        for t in speed:
            f.write(t + "\n")
    print("prep: " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)


# ---------------------------------------------------------------- hearken


def hearken_argv(a):
    argv = [a.bin, "score"]
    if a.lexicons:
        argv += ["--lexicons", a.lexicons]
    if a.lang:
        argv += ["--lang", a.lang]
    return argv


def parse_hearken(raw, ids, where):
    out_lines = [l for l in raw.decode("utf-8", "replace").split("\n") if l.strip()]
    if len(out_lines) != len(ids):
        raise EvalError(f"{where}: hearken wrote {len(out_lines)} lines for {len(ids)} comments")
    res = []
    for n, (line, want) in enumerate(zip(out_lines, ids), 1):
        try:
            obj = json.loads(line)
        except ValueError as e:
            raise EvalError(f"{where}: output line {n} is not JSON ({e}): {line[:120]}")
        if not isinstance(obj, dict):
            raise EvalError(f"{where}: output line {n} is not a JSON object")
        if obj.get("id") not in (None, want):
            raise EvalError(f"{where}: output line {n} has id {obj.get('id')!r}, expected {want!r}")
        row = {}
        for d in DIMS:
            if d not in obj:
                raise EvalError(f"{where}: output line {n} has no field {d!r}")
            v = obj[d]
            if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or not -1.0 <= v <= 1.0):
                raise EvalError(f"{where}: output line {n}: {d}={v!r} is not a number in [-1, 1] or null")
            row[d] = v
        res.append(row)
    return res


def run_proc(argv, stdin_path, stdout_path, where):
    with open(stdin_path, "rb") as fin, open(stdout_path, "wb") as fout:
        t0 = time.perf_counter()
        try:
            p = subprocess.run(argv, stdin=fin, stdout=fout, stderr=subprocess.PIPE, cwd=REPO,
                               timeout=TIMEOUT)
        except OSError as e:
            raise EvalError(f"{where}: cannot run {argv[0]}: {e.strerror}")
        except subprocess.TimeoutExpired:
            raise EvalError(f"{where}: {' '.join(argv)} did not finish within {TIMEOUT} s")
        dt = time.perf_counter() - t0
    if p.returncode != 0:
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise EvalError(f"{where}: {' '.join(argv)} exited with {p.returncode}: " + " | ".join(err))
    return dt


def cmd_hearken(a):
    hd = os.path.join(a.out, "hearken")
    os.makedirs(hd, exist_ok=True)
    argv = hearken_argv(a)
    for name, *_ in VADER_SETS + UCI_SETS + DEV_SETS:
        src = os.path.join(a.out, "jsonl", name + ".jsonl")
        dst = os.path.join(hd, name + ".raw.jsonl")
        run_proc(argv, src, dst, name)
        with open(src, encoding="utf-8") as f:
            ids = [json.loads(l)["id"] for l in f]
        with open(dst, "rb") as f:
            scores = parse_hearken(f.read(), ids, name)
        with open(os.path.join(hd, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(scores, f)
        print(f"hearken: scored {name} ({len(scores)} comments)", file=sys.stderr)
    # Speed: the plain-text vader/ sentences, the whole process timed, median of N runs.
    src = os.path.join(a.out, "speed_input.txt")
    dst = os.path.join(hd, "speed_out.jsonl")
    times = []
    for r in range(a.runs):
        times.append(run_proc(argv, src, dst, "speed"))
        with open(dst, "rb") as f:
            n = sum(1 for l in f if l.strip())
        if n != SPEED_SENTENCES:
            raise EvalError(f"speed: hearken wrote {n} lines for {SPEED_SENTENCES} plain-text sentences")
    rates = [SPEED_SENTENCES / t for t in times]
    med = sorted(rates)[len(rates) // 2] if len(rates) % 2 else sum(sorted(rates)[len(rates) // 2 - 1:len(rates) // 2 + 1]) / 2
    speed = {"sentences": SPEED_SENTENCES, "seconds": times, "runs": [round(x) for x in rates], "median": round(med),
             "argv": argv[1:]}
    with open(os.path.join(hd, "speed.json"), "w", encoding="utf-8") as f:
        json.dump(speed, f, indent=2)
    print(f"hearken: {speed['median']} sentences/s (runs {', '.join(map(str, speed['runs']))})", file=sys.stderr)


# ---------------------------------------------------------------- metrics


def pearson(xs, ys):
    n = len(xs)
    if n < 2:
        return float("nan")
    mx = sum(xs) / n
    my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    if sxx == 0 or syy == 0:
        return float("nan")
    return sxy / math.sqrt(sxx * syy)


def accuracy(scores, labels):
    ok = sum(1 for s, l in zip(scores, labels) if (s > 0 and l > 0) or (s < 0 and l < 0))
    return ok / len(labels)


def to_class(s):
    if s is None:
        return 0
    return 1 if s > DEAD else (-1 if s < -DEAD else 0)


def macro_f1(pred, gold):
    """Mean F1 over the classes -1, 0, +1 that occur in gold or pred."""
    f1s = []
    for c in (-1, 0, 1):
        tp = sum(1 for p, g in zip(pred, gold) if p == c and g == c)
        fp = sum(1 for p, g in zip(pred, gold) if p == c and g != c)
        fn = sum(1 for p, g in zip(pred, gold) if p != c and g == c)
        if tp + fp + fn == 0:
            continue
        f1s.append(2 * tp / (2 * tp + fp + fn))
    return sum(f1s) / len(f1s) if f1s else float("nan")


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_peer_scores(out, name, n):
    path = os.path.join(out, "peers", name + ".tsv")
    lines = split_lines(read_text(path))
    cols = lines[0].split("\t")
    rows = [dict(zip(cols, (float(x) for x in l.split("\t")))) for l in lines[1:]]
    if len(rows) != n:
        raise EvalError(f"{path}: {len(rows)} score lines for {n} sentences")
    for r in rows:
        for c, v in r.items():
            if math.isnan(v):  # e.g. wink's score for a word like "constructor" (Object.prototype)
                r[c] = 0.0
                NOT_A_NUMBER[c] = NOT_A_NUMBER.get(c, 0) + 1
    return rows


NOT_A_NUMBER = {}
ALT_NAME = {"wink": "score", "afinn": "comparative"}


def f3(x):
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


def fint(x):
    return "n/a" if x is None else f"{x:,.0f}"


def machine():
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for l in f:
                if l.startswith("model name"):
                    cpu = l.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


def git_rev():
    try:
        p = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        rev = p.stdout.strip() or "no commit"
        d = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True)
        return rev + ("+dirty" if d.stdout.strip() else "")
    except OSError:
        return "unknown"


def cmd_report(a):
    out = a.out
    gold = {name: load_json(os.path.join(out, "gold", name + ".json")) for name, *_ in VADER_SETS + UCI_SETS + DEV_SETS}
    have_h = os.path.exists(os.path.join(out, "hearken", "speed.json"))
    res = {"generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "machine": machine(), "repo": git_rev(), "dead_zone": DEAD, "scorers": {}}

    # scores[scorer][set] -> list of per-dimension dicts (peers: sentiment only)
    scores = {}
    null_sent = 0
    if have_h:
        scores["hearken"] = {}
        for name, *_ in VADER_SETS + UCI_SETS + DEV_SETS:
            rows = load_json(os.path.join(out, "hearken", name + ".json"))
            null_sent += sum(1 for r in rows if r["sentiment"] is None)
            scores["hearken"][name] = rows
    alt = {}
    for key, _, col, altcol in PEERS:
        scores[key] = {}
        for name, *_ in VADER_SETS + UCI_SETS + DEV_SETS:
            rows = load_peer_scores(out, name, len(gold[name]))
            scores[key][name] = [{"sentiment": r[col]} for r in rows]
            if altcol:
                alt.setdefault(key, {})[name] = [r[altcol] for r in rows]

    def sent(key, name):
        return [0.0 if r["sentiment"] is None else r["sentiment"] for r in scores[key][name]]

    for key in scores:
        m = {}
        for name, _, title in VADER_SETS:
            m["r_" + title] = pearson(sent(key, name), gold[name])
        for name, _, title in UCI_SETS:
            m["uci_" + title] = accuracy(sent(key, name), gold[name])
        for name, _, title in DEV_SETS:
            dims = DIMS if key == "hearken" else ["sentiment"]
            for d in dims:
                pred = [to_class(r[d]) for r in scores[key][name]]
                m[f"f1_{d}_{name[4:]}"] = macro_f1(pred, [g[d] for g in gold[name]])
        res["scorers"][key] = m
    alt_r = {}
    for key, per in alt.items():
        alt_r[key] = {title: pearson(per[name], gold[name]) for name, _, title in VADER_SETS}
        alt_r[key].update({"uci_" + t: accuracy(per[n], gold[n]) for n, _, t in UCI_SETS})
    res["alternative_fields"] = alt_r

    pspeed = load_json(os.path.join(out, "peers", "speed.json"))
    for key, *_ in PEERS:
        res["scorers"][key]["speed"] = pspeed["peers"][key]["median"]
        res["scorers"][key]["speed_runs"] = pspeed["peers"][key]["runs"]
    fastest_key = max((k for k, *_ in PEERS), key=lambda k: res["scorers"][k]["speed"])
    fastest = res["scorers"][fastest_key]["speed"]
    if have_h:
        hs = load_json(os.path.join(out, "hearken", "speed.json"))
        res["scorers"]["hearken"]["speed"] = hs["median"]
        res["scorers"]["hearken"]["speed_runs"] = hs["runs"]
        res["scorers"]["hearken"]["speed_ratio"] = hs["median"] / fastest
    res["peer_versions"] = pspeed.get("versions")
    res["node"] = pspeed.get("node")

    # ---- the table
    H = res["scorers"].get("hearken")
    peer_keys = [k for k, *_ in PEERS]

    def best_peer(metric):
        return max(res["scorers"][k][metric] for k in peer_keys)

    def verdict(ok):
        if H is None:
            return "not run"
        return "**yes**" if ok else "no"

    rows = []
    for _, _, title in VADER_SETS:
        m = "r_" + title
        bp = best_peer(m)
        rows.append((f"Pearson r, vader {title}", m, f3, f"≥ best peer ({bp:.3f})",
                     H is not None and H[m] >= bp))
    for _, _, title in UCI_SETS:
        m = "uci_" + title
        rows.append((f"UCI accuracy, {title} (0 = wrong)", m, f3, "≥ 0.75", H is not None and H[m] >= 0.75))
    rows.append(("speed, sentences/s (1 thread, 23,703 vader sentences)", "speed", fint, "≥ 1,000,000",
                 H is not None and H["speed"] >= 1e6))
    for d in DIMS:
        m = f"f1_{d}_dev"
        rows.append((f"macro-F1 {d}, dev.tsv (tuning set)", m, f3, "(tuned on; no target)", None))
        m = f"f1_{d}_holdout"
        rows.append((f"macro-F1 {d}, holdout.tsv", m, f3, "≥ 0.80", H is not None and H[m] >= 0.80))

    names = {"hearken": "hearken"}
    names.update({k: lbl for k, lbl, *_ in PEERS})
    cols = ["hearken"] + peer_keys
    lines = []
    lines.append("| measure | " + " | ".join(names[c] for c in cols) + " | SPEC target | hearken meets it |")
    lines.append("|---|" + "---:|" * len(cols) + "---|---|")
    for label, m, fmt, target, ok in rows:
        cells = []
        for c in cols:
            sc = res["scorers"].get(c)
            cells.append("not run" if sc is None else (fmt(sc[m]) if m in sc else "—"))
        v = "—" if ok is None else verdict(ok)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} | {v} |")
    ratio = H["speed_ratio"] if H else None
    ratio_cell = "not run" if ratio is None else f"{ratio:.1f}×"
    lines.append(f"| speed ratio hearken / fastest peer ({names[fastest_key]}) | {ratio_cell} | "
                 + " | ".join("—" for _ in peer_keys) + f" | ≥ 5× | {verdict(ratio is not None and ratio >= 5)} |")
    table = "\n".join(lines)

    counts = {name: len(gold[name]) for name, *_ in VADER_SETS + UCI_SETS + DEV_SETS}
    notes = [
        f"Measured {res['generated']} on {res['machine']}; repo {res['repo']}; node {res['node']}; "
        f"python {platform.python_version()}.",
        "hearken: " + (a.hearken_status or ("`hearken-analyzer score`" if H else "not run")) + ".",
        "Pearson r: score vs the human mean rating on each vader/ set (n = "
        + ", ".join(f"{t} {counts[n]}" for n, _, t in VADER_SETS) + "). hearken uses `sentiment`; "
        "VADER `compound`; wink `normalizedScore`; AFINN `score` (the better-correlating field of each, used for "
        "every measure; the other field, r on tweets/amazon/movie/nyt and UCI amazon/imdb/yelp: "
        + "; ".join(
            f"{k} `{ALT_NAME[k]}` r {'/'.join(f3(alt_r[k][t]) for _, _, t in VADER_SETS)}, UCI "
            f"{'/'.join(f3(alt_r[k]['uci_' + t]) for _, _, t in UCI_SETS)}"
            for k in alt_r) + ").",
        "UCI: positive if score > 0, negative if < 0, exactly 0 counted wrong (n = 1,000 each).",
        "Speed: hearken is the whole `hearken-analyzer score` process fed the 23,703 vader sentences as plain "
        "text lines, output to a file, median of the runs "
        + (f"({', '.join(map(fint, H['speed_runs']))})" if H else "") + "; peers are timed in one node process "
        f"over the same sentences, scoring loop only (no start-up or I/O, which favours them), median of {a.runs} "
        "(" + "; ".join(f"{k} {', '.join(map(fint, res['scorers'][k]['speed_runs']))}" for k in peer_keys) + ").",
        f"macro-F1: mean F1 over the classes -1/0/+1 (classes absent from both gold and prediction skipped); a score "
        f"maps to +1 if > +{DEAD}, -1 if < -{DEAD}, else 0; hearken's null counts as 0. Dev set "
        f"tests/data/devset: dev.tsv n = {counts['dev_dev']}, holdout.tsv n = {counts['dev_holdout']} "
        "(holdout.tsv is never used for tuning). Peers have only sentiment.",
    ]
    if NOT_A_NUMBER:
        notes.append("Peer output that was not a number, counted as 0: "
                     + ", ".join(f"{c} {k}×" for c, k in sorted(NOT_A_NUMBER.items())) + ".")
    if null_sent:
        notes.append(f"warning: hearken returned null sentiment {null_sent} times (counted as 0).")
    md = ("# hearken evaluation\n\n" + table + "\n\n" + "\n".join("- " + n for n in notes) + "\n")
    os.makedirs(os.path.dirname(os.path.abspath(a.md)), exist_ok=True)
    with open(a.md, "w", encoding="utf-8") as f:
        f.write(md)
    with open(os.path.join(out, "eval.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, indent=2, default=lambda x: None)
    print(md)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("prep")
    s.add_argument("--out", required=True)
    s.add_argument("--data", default="/work/shared/data/eval")
    s.add_argument("--devset", default=os.path.join(REPO, "tests", "data", "devset"))
    s = sub.add_parser("hearken")
    s.add_argument("--out", required=True)
    s.add_argument("--bin", required=True)
    s.add_argument("--lexicons")
    s.add_argument("--lang")
    s.add_argument("--runs", type=int, default=3)
    s = sub.add_parser("report")
    s.add_argument("--out", required=True)
    s.add_argument("--md", required=True)
    s.add_argument("--hearken-status")
    s.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    try:
        {"prep": cmd_prep, "hearken": cmd_hearken, "report": cmd_report}[a.cmd](a)
    except EvalError as e:
        print(f"eval.py {a.cmd}: error: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
