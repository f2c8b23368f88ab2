"""Peer timing (run by hand, never a dependency): Hugging Face transformers' `generate` (greedy) on BltForCausalLM
with PyTorch's CPU backend, on the shapes of bench/generate.ts: a 512-byte prefix (the same deterministic text)
and NEW new bytes, with entropy patching on, use_cache=False (its KV cache does not build for BLT in transformers
5.18). HF re-runs the whole model (entropy model included) for every new
byte, so its per-byte time grows with the prefix. Weights are random (HF's init): the time depends on the shapes.

    pip install torch transformers   # for this comparison only; not a dependency of the project
    python3 bench/peers/hf-generate.py [--threads 2] [--new 256] [--prefix 512]
        [--config ../shared/bench/blt-small/config.json] [--dtype float32|bfloat16]
"""
import argparse, os, time

import torch
from transformers import BltConfig, BltForCausalLM

here = os.path.dirname(os.path.abspath(__file__))
p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=2)
p.add_argument("--new", type=int, default=256)
p.add_argument("--prefix", type=int, default=512, help="prefix bytes (bench/generate.ts uses 512)")
p.add_argument("--config", default=os.path.join(here, "..", "..", "..", "shared", "bench", "blt-small", "config.json"))
p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)

cfg = BltConfig.from_json_file(a.config)
cfg.patch_in_forward = True
# built directly in the dtype: a BLT-1B-shaped model built in float32 first needs 18.5 GB before the cast
torch.set_default_dtype(getattr(torch, a.dtype))
model = BltForCausalLM(cfg).eval()


def prefix_text(n=512):
    # the same text as prefixText() in bench/generate.ts
    s, out = 12345, []
    for _ in range(n):
        s = (s * 1664525 + 1013904223) % 2**32
        out.append(" " if (s >> 24) % 6 == 0 else chr(97 + ((s >> 16) % 26)))
    return "".join(out)


ids = torch.tensor([[1] + [b + 4 for b in prefix_text(a.prefix).encode()]])  # BOS + bytes + 4
with torch.no_grad():
    model.generate(ids, max_new_tokens=2, do_sample=False, use_cache=False)  # warm-up (HF: no KV cache for BLT)
    t0 = time.perf_counter()
    out = model.generate(ids, max_new_tokens=1, do_sample=False, use_cache=False)
    t1 = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = model.generate(ids, max_new_tokens=a.new, do_sample=False, min_new_tokens=a.new, use_cache=False)
    tn = time.perf_counter() - t0
steady = (tn - t1) / (a.new - 1)
print(f"HF generate, torch {torch.__version__}, {a.threads} thread(s), {a.dtype}: {a.prefix}-byte prefix + {out.shape[1] - ids.shape[1]} "
      f"bytes in {tn:.2f} s ({1000 * tn / a.new:.1f} ms/byte; steady {1000 * steady:.1f} ms/byte)")
