"""Reference training throughput for `npm run bench`: the tiny model's architecture in
PyTorch on CPU, trained as the engine trains it (next-token cross-entropy, AdamW), on the
same batch and sequence length. Prints one JSON line.

The model is written here from the config (Llama: RMSNorm, rotary positions, grouped-query
causal attention, SwiGLU MLP, tied embeddings), not loaded from a library, so the same
operations run on both sides.

Usage: python3 train_step.py CONFIG_JSON --batch 16 --seq 128 --steps 20 --warmup 3 --threads N
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):  # [B, T, d]
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotary(seq, head_dim, theta):
    """cos, sin [T, head_dim] for the HF Llama rotation (halves rotated)."""
    inv = 1.0 / theta ** (torch.arange(0, head_dim, 2).float() / head_dim)
    angles = torch.outer(torch.arange(seq).float(), inv)  # [T, hd/2]
    angles = torch.cat([angles, angles], dim=-1)  # [T, hd]
    return angles.cos(), angles.sin()


def rotate(x, cos, sin):  # x [B, H, T, hd]
    half = x.shape[-1] // 2
    turned = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + turned * sin


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, hd = c["hidden_size"], c["head_dim"]
        self.h, self.kv, self.hd = c["num_attention_heads"], c["num_key_value_heads"], hd
        self.input_layernorm = RMSNorm(d, c["rms_norm_eps"])
        self.q = nn.Linear(d, self.h * hd, bias=False)
        self.k = nn.Linear(d, self.kv * hd, bias=False)
        self.v = nn.Linear(d, self.kv * hd, bias=False)
        self.o = nn.Linear(self.h * hd, d, bias=False)
        self.post_attention_layernorm = RMSNorm(d, c["rms_norm_eps"])
        i = c["intermediate_size"]
        self.gate = nn.Linear(d, i, bias=False)
        self.up = nn.Linear(d, i, bias=False)
        self.down = nn.Linear(i, d, bias=False)

    def forward(self, x, cos, sin, mask):  # x [B, T, d]; mask [T, T] additive
        b, t, _ = x.shape
        y = self.input_layernorm(x)
        q = self.q(y).view(b, t, self.h, self.hd).transpose(1, 2)  # [B, H, T, hd]
        k = self.k(y).view(b, t, self.kv, self.hd).transpose(1, 2)  # [B, KV, T, hd]
        v = self.v(y).view(b, t, self.kv, self.hd).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        groups = self.h // self.kv
        k = k.repeat_interleave(groups, dim=1)  # [B, H, T, hd]
        v = v.repeat_interleave(groups, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.hd) + mask  # [B, H, T, T]
        att = F.softmax(scores, dim=-1) @ v  # [B, H, T, hd]
        x = x + self.o(att.transpose(1, 2).reshape(b, t, self.h * self.hd))
        y = self.post_attention_layernorm(x)
        return x + self.down(F.silu(self.gate(y)) * self.up(y))


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(Block(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.c = c
        # HF Llama's initialisation (as the engine's): matrices normal(0, initializer_range).
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, c["initializer_range"])

    def forward(self, ids):  # [B, T] -> logits [B, T, V]
        t = ids.shape[1]
        cos, sin = rotary(t, self.c["head_dim"], self.c["rope_theta"])
        mask = torch.full((t, t), float("-inf")).triu(1)
        x = self.embed(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.norm(x) @ self.embed.weight.T  # tied lm head


def blas_library():
    """The BLAS library this process loaded (Debian picks it by update-alternatives)."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line.lower()}
    return ", ".join(sorted({os.path.realpath(lib).split("/")[-2] for lib in libs})) or "unknown"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("config")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.config) as f:
        c = json.load(f)
    torch.manual_seed(0)
    model = Llama(c)
    # The engine's AdamW: betas (0.9, 0.95), decay 0.01, global-norm clipping at 1.
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.01)
    ids = torch.randint(0, c["vocab_size"], (args.batch, args.seq + 1))
    x, y = ids[:, :-1], ids[:, 1:]

    def step():
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, c["vocab_size"]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - start)
    times.sort()
    median = times[len(times) // 2]
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "blas": blas_library(),
                "batch": args.batch,
                "seq": args.seq,
                "median_step_ms": median * 1000,
                "tokens_per_second": args.batch * args.seq / median,
                "loss": loss,
                "parameters": sum(p.numel() for p in model.parameters()),
            }
        )
    )


if __name__ == "__main__":
    main()
