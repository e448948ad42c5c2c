"""PyTorch peer of bench/Represent: Stage 1's work on the same synthetic corpus (see Program.cs for its formula),
the way our RepresentationComputer does it, so that the two time the same kernels: conversations sorted by length
(longest first, ties by index) and batched up to --batch-tokens with right padding; under no_grad a forward pass,
then on the trained positions (t where token t+1 is trained) the top-K logits in fp16 with their int32 ids and
the cross entropy of the next token, copied to the host. --dtype=bf16 holds the weights in bf16, as Hugging Face
does with torch_dtype=torch.bfloat16. Prints one JSON line."""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train-step"))
from llama_peer import Llama, check_dtype, parse_args  # noqa: E402

args = parse_args(sys.argv[1:])
get = lambda k, d: int(args.get(k, d))
threads, conversations = get("threads", 1), get("conversations", 64)
min_length, max_length, batch_tokens = get("min-length", 32), get("max-length", 512), get("batch-tokens", 4096)
top_k, repeats = get("top-k", 10), get("repeats", 3)
layers, width, heads = get("layers", 4), get("width", 256), get("heads", 4)
vocab, intermediate = get("vocab", 32000), get("intermediate", 688)
device = torch.device(args.get("device", "cpu"))
dtype = check_dtype(args.get("dtype", "f32"))
torch.set_num_threads(threads)
torch.manual_seed(0)
model = Llama(layers, width, heads, intermediate, vocab, max_length, device,
              torch.bfloat16 if dtype == "bf16" else torch.float32, requires_grad=False,
              experts=get("experts", 0), per_token=get("experts-per-token", 2), expert_intermediate=get("expert-intermediate", 0))

corpus = []
for i in range(conversations):
    length = min_length + (i * 7919) % (max_length - min_length + 1)
    corpus.append([(31 * i + 17 * t) % vocab for t in range(length)])


def compute(items):
    order = sorted(range(len(items)), key=lambda i: (-len(items[i]), i))
    tokens = padded = 0
    ce_sums = {}
    start = 0
    while start < len(order):
        longest = len(items[order[start]])
        count = max(1, min(len(order) - start, batch_tokens // longest))
        batch = order[start:start + count]
        ids = torch.zeros(count, longest, dtype=torch.long)
        rows, gold = [], []
        for b, i in enumerate(batch):
            seq = torch.tensor(items[i])
            n = len(seq)
            ids[b, :n] = seq
            rows.append(torch.arange(b * longest + n // 2 - 1, b * longest + n - 1))  # token t+1 is trained from n/2 on
            gold.append(seq[n // 2:])
        with torch.no_grad():
            logits = model.forward(ids.to(device))
            selected = logits.reshape(-1, vocab).index_select(0, torch.cat(rows).to(device)).float()
            values, indices = selected.topk(top_k, -1)
            ce = selected.logsumexp(-1) - selected.gather(1, torch.cat(gold).to(device).unsqueeze(1)).squeeze(1)
            values, indices, ce = values.half().cpu(), indices.int().cpu(), ce.cpu()
        offset = 0
        for i in batch:
            n = len(items[i]) - len(items[i]) // 2
            ce_sums[i] = ce[offset:offset + n].mean().item()
            offset += n
        real = sum(len(items[i]) for i in batch)
        tokens += real
        padded += count * longest - real
        start += count
    return tokens, padded, ce_sums


compute(corpus[:4])  # warm-up
if device.type == "cuda":
    torch.cuda.reset_peak_memory_stats(device)
times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    tokens, padded, ce = compute(corpus)
    times.append(time.perf_counter() - t0)
times.sort()
median = times[len(times) // 2]
print(json.dumps({"impl": "pytorch", "device": str(device), "dtype": dtype, "threads": threads, "median_s": round(median, 5),
                  "tokens": tokens, "padded": padded, "tokens_per_s": round(tokens / median, 1),
                  "mean_metric_ce": round(sum(ce.values()) / len(ce), 4), "torch": torch.__version__,
                  **({"peak_gpu_bytes": torch.cuda.max_memory_allocated(device)} if device.type == "cuda" else {})},
                 separators=(",", ":")))
