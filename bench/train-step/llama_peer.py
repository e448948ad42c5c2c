"""The PyTorch side of the C# benches: a Llama-style model composed from the same operations as src/Fusion's
LlamaModel (RMSNorm, rotary positions, causal attention, SwiGLU), with its weights as plain tensors, and the
command-line and memory helpers the peers share. Imported by train_step.py and bench/represent/represent.py."""
import math
import sys

import torch
import torch.nn.functional as F
import torch.utils.checkpoint


def parse_args(argv):
    """--key=value arguments as a dict (a later one overrides an earlier one, as in the C# programs)."""
    return dict(a.lstrip("-").split("=", 1) for a in argv if "=" in a)


def process_memory(field):
    """A /proc/self/status figure (VmRSS, VmHWM) in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return 1024 * int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


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


class Llama:
    """Weights drawn from Normal(0, 0.02) (norms 1) on `device`, in `dtype`, in the order our LlamaModel registers them
    (so that the same seed gives the same model); rotary tables for `max_length`. With `experts`, every MLP is a
    Qwen-MoE-style sparse one: a router and `experts` SwiGLU experts `expert_intermediate` wide, `per_token` of them
    per token with renormalised weights, run as transformers 5's Qwen3MoeExperts does (a loop over the experts hit)."""

    def __init__(self, layers, width, heads, intermediate, vocab, max_length, device, dtype=torch.float32, requires_grad=True,
                 experts=0, per_token=2, expert_intermediate=0):
        self.width, self.heads, self.head_dim, self.vocab = width, heads, width // heads, vocab
        self.experts, self.per_token = experts, per_token
        expert_intermediate = expert_intermediate or intermediate

        def param(*shape, ones=False):
            t = torch.ones(*shape) if ones else torch.randn(*shape) * 0.02
            return t.to(device=device, dtype=dtype).requires_grad_(requires_grad)

        def block():
            b = dict(n1=param(width, ones=True), q=param(width, width), k=param(width, width), v=param(width, width),
                     o=param(width, width), n2=param(width, ones=True))
            if experts == 0:
                b.update(g=param(intermediate, width), u=param(intermediate, width), d=param(width, intermediate))
                return b
            b["router"] = param(experts, width)
            for e in range(experts):
                b[f"g{e}"], b[f"u{e}"] = param(expert_intermediate, width), param(expert_intermediate, width)
                b[f"d{e}"] = param(width, expert_intermediate)
            return b

        self.embed = param(vocab, width)
        self.blocks = [block() for _ in range(layers)]
        self.norm = param(width, ones=True)
        self.head = param(vocab, width)
        self.params = [self.embed] + [p for b in self.blocks for p in b.values()] + [self.norm, self.head]
        inv = 1.0 / (10000 ** (torch.arange(0, self.head_dim, 2, dtype=torch.float64) / self.head_dim))
        ang = torch.outer(torch.arange(max_length, dtype=torch.float64), inv)
        ang = torch.cat([ang, ang], -1)
        self.cos, self.sin = ang.cos().to(device=device, dtype=dtype), ang.sin().to(device=device, dtype=dtype)

    def layer(self, h, blk):
        b, n, _ = h.shape
        cos, sin = self.cos[:n].to(h.dtype), self.sin[:n].to(h.dtype)
        heads, head_dim = self.heads, self.head_dim
        x = rms_norm(h, blk["n1"])
        q = rotary(F.linear(x, blk["q"]).view(b, n, heads, head_dim).transpose(1, 2), cos, sin)
        k = rotary(F.linear(x, blk["k"]).view(b, n, heads, head_dim).transpose(1, 2), cos, sin)
        v = F.linear(x, blk["v"]).view(b, n, heads, head_dim).transpose(1, 2)
        a = attention(q, k, v).transpose(1, 2).reshape(b, n, self.width)
        h = h + F.linear(a, blk["o"])
        x = rms_norm(h, blk["n2"])
        if self.experts:
            return h + self.sparse(x, blk)
        return h + F.linear(F.silu(F.linear(x, blk["g"])) * F.linear(x, blk["u"]), blk["d"])

    def sparse(self, x, blk):
        b, n, w = x.shape
        t = x.reshape(-1, w)
        probs = torch.softmax(F.linear(t, blk["router"]).float(), -1)
        top_w, top_i = probs.topk(self.per_token, -1)
        top_w = (top_w / top_w.sum(-1, keepdim=True)).to(x.dtype)
        out = torch.zeros_like(t)
        mask = F.one_hot(top_i, self.experts).permute(2, 1, 0)
        for e in torch.greater(mask.sum(dim=(-1, -2)), 0).nonzero():
            e = int(e[0])
            slot, rows = torch.where(mask[e])
            cur = t[rows]
            y = F.linear(F.silu(F.linear(cur, blk[f"g{e}"])) * F.linear(cur, blk[f"u{e}"]), blk[f"d{e}"])
            out.index_add_(0, rows, (y * top_w[rows, slot, None]).to(out.dtype))
        return out.view(b, n, w)

    def forward(self, ids, checkpointing=False):
        h = F.embedding(ids, self.embed)
        for blk in self.blocks:
            h = torch.utils.checkpoint.checkpoint(self.layer, h, blk, use_reentrant=False) if checkpointing else self.layer(h, blk)
        return F.linear(rms_norm(h, self.norm), self.head)


def check_dtype(name):
    if name not in ("f32", "bf16"):
        sys.exit(f"unknown --dtype={name} (expected f32 or bf16)")
    return name
