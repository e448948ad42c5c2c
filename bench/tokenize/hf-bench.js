#!/usr/bin/env node
// Single-threaded encode throughput of Hugging Face's Rust tokenizers (@anush008/tokenizers) on
// the same corpus as bench/Tokenize. Run with RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false.
// Usage: node hf-bench.js TOKENIZER_JSON CORPUS_JSONL [TARGET_BYTES] [RUNS] [line|batch] [repeat|unique]
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require(path.join(__dirname, '..', '..', 'tests', 'fixtures', 'npm', 'node_modules', '@anush008', 'tokenizers'));

async function main() {
  const [file, corpusPath, target = '1500000', runsArg = '5', mode = 'line', lineMode = 'repeat'] = process.argv.slice(2);
  const tok = Tokenizer.fromFile(file);
  const corpus = fs.readFileSync(corpusPath, 'utf8').split('\n').filter(l => l.length).map(l => JSON.parse(l));
  const build = run => {
    const out = [];
    let total = 0;
    for (let rep = 0; total < Number(target); rep++) for (const o of corpus) { const l = lineMode === 'unique' ? `${run}.${rep}: ${o}` : o; out.push(l); total += Buffer.byteLength(l); }
    return out;
  };
  let lines = build(-1);
  const bytes = lines.reduce((a, l) => a + Buffer.byteLength(l), 0);
  console.log(`lines=${lines.length} bytes=${bytes} mode=${mode}`);
  const rates = [];
  for (let run = -1; run < Number(runsArg); run++) {
    if (lineMode === 'unique') lines = build(run);
    let tokens = 0;
    const t0 = process.hrtime.bigint();
    if (mode === 'batch') {
      for (let i = 0; i < lines.length; i += 1000) {
        const encs = await tok.encodeBatch(lines.slice(i, i + 1000), { addSpecialTokens: false });
        for (const e of encs) tokens += e.getIds().length;
      }
    } else {
      for (const l of lines) tokens += (await tok.encode(l, null, { addSpecialTokens: false })).getIds().length;
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (run >= 0) rates.push(tokens / s);
    console.log(`run=${run} tokens=${tokens} seconds=${s.toFixed(3)} tokens_per_s=${(tokens / s).toFixed(0)}`);
  }
  rates.sort((a, b) => a - b);
  console.log(`median_tokens_per_s=${rates[Math.floor(rates.length / 2)].toFixed(0)}`);
}
main().catch(e => { console.error(e); process.exit(1); });
