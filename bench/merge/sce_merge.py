"""PyTorch peer of bench/run merge: the same SCE merge (paper variant, select_topk 0.1) of the same
safetensors folders, tensor by tensor, written as straightforwardly as the FuseChat authors' scripts
(stacked deltas). Reads safetensors with struct + json (no safetensors package on Debian).
Prints one JSON line: seconds, GB/s of input read, peak resident memory."""
import json
import os
import resource
import struct
import sys
import time

import torch

DTYPES = {"BF16": torch.bfloat16, "F16": torch.float16, "F32": torch.float32}


def index(folder):
    """tensor name -> (file, header entry, data start)."""
    out = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".safetensors"):
            continue
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            n = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(n))
        for k, v in header.items():
            if k != "__metadata__":
                out[k] = (path, v, 8 + n)
    return out


def read(entry):
    path, v, start = entry
    a, b = v["data_offsets"]
    with open(path, "rb") as f:
        f.seek(start + a)
        raw = bytearray(f.read(b - a))
    return torch.frombuffer(raw, dtype=DTYPES[v["dtype"]]).reshape(v["shape"])


def sce(pivot, targets, tau):
    p = pivot.float()
    deltas = torch.stack([t.float() - p for t in targets])
    var = deltas.var(dim=0, unbiased=False)
    nnz = int((var != 0).sum())
    k = int(tau * nnz)
    mask = torch.zeros_like(var, dtype=torch.bool)
    if k > 0:
        mask.view(-1)[torch.topk(var.view(-1), k).indices] = True
    w = (deltas * mask).pow(2).mean(dim=tuple(range(1, deltas.dim())))
    w = w / w.sum() if w.sum() > 0 else torch.full_like(w, 1.0 / len(targets))
    majority = torch.where(deltas.sum(0) >= 0, 1.0, -1.0)
    erase = (deltas.sign() == majority).float()
    shape = (-1,) + (1,) * (deltas.dim() - 1)
    num = (w.view(shape) * erase * deltas).sum(0)
    den = (w.view(shape) * erase).sum(0)
    den[den == 0] = 1
    return p + num / den


def main(root, out):
    torch.set_num_threads(1)
    pivot = index(os.path.join(root, "pivot"))
    targets = [index(os.path.join(root, d)) for d in sorted(os.listdir(root)) if d.startswith("target")]
    bytes_read = sum(os.path.getsize(os.path.join(root, d, f)) for d in ["pivot"] + [x for x in os.listdir(root) if x.startswith("target")]
                     for f in os.listdir(os.path.join(root, d)) if f.endswith(".safetensors"))
    t0 = time.perf_counter()
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    os.makedirs(out, exist_ok=True)
    tmp = os.path.join(out, "model.safetensors.tmp")
    with open(tmp + ".data", "wb") as data:
        for name, entry in pivot.items():
            merged = sce(read(entry), [read(t[name]) for t in targets], 0.1).to(torch.bfloat16)
            raw = merged.contiguous().view(torch.int16).numpy().tobytes()
            header[name] = {"dtype": "BF16", "shape": list(merged.shape), "data_offsets": [offset, offset + len(raw)]}
            data.write(raw)
            offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(tmp, "wb") as f, open(tmp + ".data", "rb") as d:
        f.write(struct.pack("<Q", len(h)) + h)
        while True:
            block = d.read(64 << 20)
            if not block:
                break
            f.write(block)
    os.remove(tmp + ".data")
    os.replace(tmp, os.path.join(out, "model.safetensors"))
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"impl": "pytorch", "seconds": round(seconds, 3), "gb_per_s": round(bytes_read / seconds / 1e9, 4),
                      "peak_rss_mb": round(peak_mb, 1), "bytes_read": bytes_read}, separators=(",", ":")))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
