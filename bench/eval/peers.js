#!/usr/bin/env node
// Peer sentiment scorers for hearken's evaluation (called by bench/eval/run).
//
//   node peers.js --in TEXTS_DIR --out SCORES_DIR [--speed FILE] [--runs N]
//
// For every TEXTS_DIR/NAME.txt (UTF-8, one sentence per line, split on '\n' only) writes
// SCORES_DIR/NAME.tsv: a header line, then one line per input sentence with the scores of
//   vader-sentiment  (VADER JavaScript port)  compound
//   wink-sentiment                              score, normalizedScore
//   sentiment        (AFINN-165)                score, comparative
// With --speed FILE, also times each peer over FILE's sentences (single thread: plain JavaScript,
// one process), N runs each (default 3), and writes SCORES_DIR/speed.json with the median
// sentences/s. Timing covers the scoring loop only (no node start-up, no file I/O), which favours
// the peers over hearken, which is timed as a whole process.
'use strict';

const fs = require('fs');
const path = require('path');

function die(msg) {
  process.stderr.write(`peers.js: ${msg}\n`);
  process.exit(2);
}

let vader, wink, Sentiment;
try {
  vader = require('vader-sentiment');
  wink = require('wink-sentiment');
  Sentiment = require('sentiment');
} catch (e) {
  die(`cannot load a peer package (${e.message}); run npm ci in bench/eval`);
}
const afinn = new Sentiment();

const PEERS = {
  vader: (t) => [vader.SentimentIntensityAnalyzer.polarity_scores(t).compound],
  wink: (t) => {
    const r = wink(t);
    return [r.score, r.normalizedScore];
  },
  afinn: (t) => {
    const r = afinn.analyze(t);
    return [r.score, r.comparative];
  },
};
const COLUMNS = ['vader_compound', 'wink_score', 'wink_normalized', 'afinn_score', 'afinn_comparative'];

function parseArgs(argv) {
  const a = { runs: 3 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--in') { a.in = v; i++; }
    else if (k === '--out') { a.out = v; i++; }
    else if (k === '--speed') { a.speed = v; i++; }
    else if (k === '--runs') { a.runs = parseInt(v, 10); i++; }
    else die(`unknown argument ${k}`);
  }
  if (!a.in || !a.out) die('usage: peers.js --in TEXTS_DIR --out SCORES_DIR [--speed FILE] [--runs N]');
  if (!(a.runs >= 1)) die('--runs must be >= 1');
  return a;
}

function readLines(file) {
  let s = fs.readFileSync(file, 'utf8');
  if (s.endsWith('\n')) s = s.slice(0, -1);
  return s.length ? s.split('\n') : [];
}

function fmt(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return 'nan';
  return String(Math.round(x * 1e6) / 1e6);
}

function scoreFile(inFile, outFile) {
  const lines = readLines(inFile);
  const out = [COLUMNS.join('\t')];
  for (const t of lines) {
    const row = [...PEERS.vader(t), ...PEERS.wink(t), ...PEERS.afinn(t)];
    out.push(row.map(fmt).join('\t'));
  }
  fs.writeFileSync(outFile, out.join('\n') + '\n');
  return lines.length;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function timePeers(file, runs) {
  const lines = readLines(file);
  const res = {};
  let sink = 0;
  for (const [name, fn] of Object.entries(PEERS)) {
    const rates = [];
    for (let r = 0; r < runs; r++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < lines.length; i++) sink += fn(lines[i])[0];
      const ns = Number(process.hrtime.bigint() - t0);
      rates.push(lines.length / (ns / 1e9));
    }
    res[name] = { sentences: lines.length, runs: rates.map((x) => Math.round(x)), median: Math.round(median(rates)) };
    process.stderr.write(`peers.js: ${name}: ${res[name].median} sentences/s (runs ${res[name].runs.join(', ')})\n`);
  }
  if (Number.isNaN(sink)) process.stderr.write('peers.js: note: NaN score seen while timing\n');
  return res;
}

function main() {
  const a = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(a.in)) die(`no such directory ${a.in}`);
  fs.mkdirSync(a.out, { recursive: true });
  const names = fs.readdirSync(a.in).filter((f) => f.endsWith('.txt')).sort();
  if (!names.length) die(`no .txt files in ${a.in}`);
  for (const f of names) {
    const n = scoreFile(path.join(a.in, f), path.join(a.out, f.replace(/\.txt$/, '.tsv')));
    process.stderr.write(`peers.js: scored ${f} (${n} sentences)\n`);
  }
  if (a.speed) {
    const versions = {};
    for (const p of ['vader-sentiment', 'wink-sentiment', 'sentiment']) {
      try { versions[p] = require(`${p}/package.json`).version; } catch (e) { versions[p] = 'unknown'; }
    }
    const speed = { node: process.version, versions, peers: timePeers(a.speed, a.runs) };
    fs.writeFileSync(path.join(a.out, 'speed.json'), JSON.stringify(speed, null, 2) + '\n');
  }
}

main();
