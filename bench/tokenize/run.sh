#!/usr/bin/env bash
# about: tokenizer throughput, C# HfTokenizer vs Hugging Face tokenizers (Rust, Node binding), Llama-2 and Llama-3, one thread
# Tokenizer throughput: our C# HfTokenizer vs Hugging Face's Rust tokenizers (Node binding), both
# single-threaded, encoding the test corpus repeated to ~1.5 MB line by line, for Llama-2 and Llama-3.
# Prints tokens/s of each, the HF batch figure (no per-call Node/async overhead) for context, and
# last `ratio(csharp/hf)=X`: the median over tokenizers of median-of-runs C# / HF line-by-line.
# The corpus repeats, so word caches (ours and HF's) hit often; the "unique" rows prefix every line
# with its run and repetition number, which defeats whole-line caching (Llama-2 has no
# pre-tokenizer, so a whole line is one BPE word there).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
tests/fixtures/fetch-npm.sh >/dev/null
target="${TOKENIZE_BENCH_BYTES:-1500000}"
runs="${TOKENIZE_BENCH_RUNS:-5}"
"$root/bench/quiet-build.sh" -c Release bench/Tokenize
bin="bench/Tokenize/bin/Release/net10.0/FuseChat.Bench.Tokenize.dll"
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
ratios=()
for name in llama2 llama3; do
  dir="tests/fixtures/npm/node_modules/@lenml/tokenizer-$name/models"
  cs=$(dotnet "$bin" "$dir" tests/fixtures/corpus.jsonl "$target" "$runs" | tail -1 | cut -d= -f2)
  hf=$(node bench/tokenize/hf-bench.js "$dir/tokenizer.json" tests/fixtures/corpus.jsonl "$target" "$runs" line | tail -1 | cut -d= -f2)
  hfb=$(node bench/tokenize/hf-bench.js "$dir/tokenizer.json" tests/fixtures/corpus.jsonl "$target" "$runs" batch | tail -1 | cut -d= -f2)
  r=$(awk -v a="$cs" -v b="$hf" 'BEGIN { printf "%.2f", a / b }')
  rb=$(awk -v a="$cs" -v b="$hfb" 'BEGIN { printf "%.2f", a / b }')
  echo "$name csharp_tokens_per_s=$cs hf_line_tokens_per_s=$hf hf_batch_tokens_per_s=$hfb ratio_line=$r ratio_batch=$rb"
  ratios+=("$r")
  csu=$(dotnet "$bin" "$dir" tests/fixtures/corpus.jsonl "$target" "$runs" unique | tail -1 | cut -d= -f2)
  hfu=$(node bench/tokenize/hf-bench.js "$dir/tokenizer.json" tests/fixtures/corpus.jsonl "$target" "$runs" line unique | tail -1 | cut -d= -f2)
  ru=$(awk -v a="$csu" -v b="$hfu" 'BEGIN { printf "%.2f", a / b }')
  echo "$name unique-lines csharp_tokens_per_s=$csu hf_line_tokens_per_s=$hfu ratio_line=$ru"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
echo "ratio(csharp/hf)=$median"
