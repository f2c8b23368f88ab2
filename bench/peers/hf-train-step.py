"""Peer timing (run by hand, never a dependency): one training step of Hugging Face transformers' BltForCausalLM
on PyTorch's CPU backend, the same model and step as bench/blt-train.ts (../shared/bench/README.md): batch 4 x 512
bytes, fixed patch lengths 1, 4, 5, 4, 5, ... (115 patches), cross-entropy over all 2048 targets, backward,
grad-norm clip 1.0, AdamW (lr 4e-4, betas 0.9/0.95, eps 1e-8, wd 0.1) over every parameter except the entropy
model's. Prints the median of STEPS timed steps after one warm-up, as bytes/s = 2048 / step.

    pip install torch transformers   # for this comparison only; not a dependency of the project
    python3 bench/peers/hf-train-step.py [--threads 2] [--steps 5] [--config ../shared/bench/blt-small/config.json]
"""
import argparse, os, statistics, time

import torch
from transformers import BltConfig, BltForCausalLM

here = os.path.dirname(os.path.abspath(__file__))
p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=2)
p.add_argument("--steps", type=int, default=5)
p.add_argument("--config", default=os.path.join(here, "..", "..", "..", "shared", "bench", "blt-small", "config.json"))
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)

cfg = BltConfig.from_json_file(a.config)
model = BltForCausalLM(cfg).train()
params = [t for n, t in model.named_parameters() if "patcher" not in n]
opt = torch.optim.AdamW(params, lr=4e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)

B, T = 4, 512
g = torch.Generator().manual_seed(0)
ids = torch.randint(4, 260, (B, T + 1), generator=g)
ids[:, 0] = 1  # BOS
lengths = [1]
while sum(lengths) < T:
    lengths.append(min(4 if len(lengths) % 2 == 1 else 5, T - sum(lengths)))
patch_lengths = torch.tensor([lengths] * B)
inputs, targets = ids[:, :T], ids[:, 1:]


def step():
    logits = model(input_ids=inputs, patch_lengths=patch_lengths, use_cache=False).logits
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss.item()


step()  # warm-up
times, cpu = [], []
for s in range(a.steps):
    t0, c0 = time.perf_counter(), time.process_time()
    loss = step()
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)  # CPU time of all threads: moves less than wall time on a busy machine
    print(f"step {s}: {1000 * times[-1]:.0f} ms (CPU time {1000 * cpu[-1]:.0f} ms), loss {loss:.4f}")
m = statistics.median(times)
print(f"HF BltForCausalLM, torch {torch.__version__}, {a.threads} thread(s): median step {1000 * m:.0f} ms "
      f"(median CPU time {1000 * statistics.median(cpu):.0f} ms) -> {B * T / m:.0f} bytes/s")
