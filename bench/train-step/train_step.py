"""PyTorch peer of bench/TrainStep: the same Llama-style model, composed from the same operations,
one training step (forward, backward, AdamW) timed per step. Prints one JSON line.

--device=cuda:0 runs it on a GPU; --dtype=bf16 trains the way Hugging Face's Trainer does with bf16=True
(fp32 weights and AdamW, matrix products under torch.autocast in bf16), the usual peer of our bf16 parameters
with fp32 master weights. Attention is torch's fused scaled_dot_product_attention where torch has it (2.x), as
our shim's is; on 1.13 both compose it from matmul and softmax. --checkpointing=1 recomputes each layer in the
backward pass (torch.utils.checkpoint, non-reentrant, as Hugging Face's gradient_checkpointing), the peer of our
CheckpointedForward. Memory: peak_gpu_bytes on a GPU (max_memory_allocated since just before the first step), and
on the CPU peak_rss_delta_bytes, the resident high-water mark above the resident size before the first step."""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F
import torch.utils.checkpoint

args = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:] if "=" in a)
get = lambda k, d: int(args.get(k, d))
threads, steps, warmup = get("threads", 1), get("steps", 10), get("warmup", 3)
batch, length = get("batch", 4), get("length", 256)
layers, width, heads = get("layers", 4), get("width", 256), get("heads", 4)
vocab, intermediate = get("vocab", 32000), get("intermediate", 688)
checkpointing = get("checkpointing", 0) != 0
device = torch.device(args.get("device", "cpu"))
dtype = args.get("dtype", "f32")
if dtype not in ("f32", "bf16"):
    sys.exit(f"unknown --dtype={dtype} (expected f32 or bf16)")
torch.set_num_threads(threads)
torch.manual_seed(0)
head_dim = width // heads


def rms_norm(x, w, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotary(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def attention(q, k, v):
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    scores = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]))
    causal = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool, device=q.device).tril()
    scores = scores.masked_fill(causal.logical_not(), float("-inf"))
    return torch.matmul(torch.softmax(scores, -1), v)


def param(*shape, ones=False):
    t = torch.ones(*shape) if ones else torch.randn(*shape) * 0.02
    return t.to(device).requires_grad_(True)


embed = param(vocab, width)
blocks = [dict(n1=param(width, ones=True), q=param(width, width), k=param(width, width), v=param(width, width),
               o=param(width, width), n2=param(width, ones=True), g=param(intermediate, width),
               u=param(intermediate, width), d=param(width, intermediate)) for _ in range(layers)]
norm = param(width, ones=True)
head = param(vocab, width)
params = [embed] + [p for b in blocks for p in b.values()] + [norm, head]

inv = 1.0 / (10000 ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
ang = torch.outer(torch.arange(length, dtype=torch.float64), inv)
ang = torch.cat([ang, ang], -1)
cos, sin = ang.cos().float().to(device), ang.sin().float().to(device)


def layer(h, blk):
    b, n, _ = h.shape
    x = rms_norm(h, blk["n1"])
    q = rotary(F.linear(x, blk["q"]).view(b, n, heads, head_dim).transpose(1, 2), cos, sin)
    k = rotary(F.linear(x, blk["k"]).view(b, n, heads, head_dim).transpose(1, 2), cos, sin)
    v = F.linear(x, blk["v"]).view(b, n, heads, head_dim).transpose(1, 2)
    a = attention(q, k, v).transpose(1, 2).reshape(b, n, width)
    h = h + F.linear(a, blk["o"])
    x = rms_norm(h, blk["n2"])
    return h + F.linear(F.silu(F.linear(x, blk["g"])) * F.linear(x, blk["u"]), blk["d"])


def forward(ids):
    h = F.embedding(ids, embed)
    for blk in blocks:
        h = torch.utils.checkpoint.checkpoint(layer, h, blk, use_reentrant=False) if checkpointing else layer(h, blk)
    return F.linear(rms_norm(h, norm), head)


def process_memory(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return 1024 * int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
ids = torch.randint(0, vocab, (batch, length)).to(device)
autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=dtype == "bf16")
resident_before = process_memory("VmRSS")
if device.type == "cuda":
    torch.cuda.reset_peak_memory_stats(device)
times = []
for step in range(warmup + steps):
    t0 = time.perf_counter()
    with autocast:
        logits = forward(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, vocab).float(), ids[:, 1:].reshape(-1), ignore_index=-100)
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    value = loss.item()  # reads the value back, so on a GPU the step's kernels have finished
    if step >= warmup:
        times.append(time.perf_counter() - t0)
times.sort()
median = times[len(times) // 2]
memory = ({"peak_gpu_bytes": torch.cuda.max_memory_allocated(device)} if device.type == "cuda"
          else {"peak_rss_delta_bytes": process_memory("VmHWM") - resident_before})
print(json.dumps({"impl": "pytorch", "device": str(device), "dtype": dtype, "threads": threads, "median_step_s": round(median, 5),
                  "tokens_per_s": round(batch * length / median, 1), "loss": round(value, 4), "checkpointing": int(checkpointing),
                  "params": sum(p.numel() for p in params), "torch": torch.__version__, **memory}, separators=(",", ":")))
