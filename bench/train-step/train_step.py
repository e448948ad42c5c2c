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
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from llama_peer import Llama, check_dtype, parse_args, process_memory  # noqa: E402

args = parse_args(sys.argv[1:])
get = lambda k, d: int(args.get(k, d))
threads, steps, warmup = get("threads", 1), get("steps", 10), get("warmup", 3)
batch, length = get("batch", 4), get("length", 256)
layers, width, heads = get("layers", 4), get("width", 256), get("heads", 4)
vocab, intermediate = get("vocab", 32000), get("intermediate", 688)
checkpointing = get("checkpointing", 0) != 0
device = torch.device(args.get("device", "cpu"))
dtype = check_dtype(args.get("dtype", "f32"))
torch.set_num_threads(threads)
torch.manual_seed(0)
model = Llama(layers, width, heads, intermediate, vocab, length, device,
              experts=get("experts", 0), per_token=get("experts-per-token", 2), expert_intermediate=get("expert-intermediate", 0))
params = model.params
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
        logits = model.forward(ids, checkpointing)
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
