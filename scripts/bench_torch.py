#!/usr/bin/env python3
"""PyTorch CPU twin of src/cli/bench.ts: the same LeNet-5 and ResNet-20 (same layers and parameter
counts, NCHW), Adam 1e-3, cross-entropy, random data, batch 128. Prints one JSON object:
{"torch": version, "threads": n, "blas": [libraries], "lenet5": {"msPerStep": median, "minMs": min, "cpuMsPerStep": median CPU time,
 "steps": n, "params": p}, ...}

Usage: python3 scripts/bench_torch.py [--models lenet5,resnet20] [--batch 128] [--steps 10] [--threads 1]
Optional: only `npm run bench` calls it, when `import torch` works (Debian: apt-get install python3-torch).
"""
import argparse
import json
import os
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc1 = nn.Linear(4 * 4 * 50, 500)
        self.fc2 = nn.Linear(500, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


def conv_bn(cin, cout, k, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, padding=k // 2, bias=False), nn.BatchNorm2d(cout))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = conv_bn(cin, cout, 3, stride)
        self.b = conv_bn(cout, cout, 3, 1)
        self.shortcut = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        return F.relu(self.b(F.relu(self.a(x))) + self.shortcut(x))


class ResNet20(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 1)
        blocks, cin = [], 16
        for stage, cout in enumerate([16, 32, 64]):
            for block in range(3):
                blocks.append(BasicBlock(cin, cout, 2 if stage > 0 and block == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.blocks(F.relu(self.stem(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


MODELS = {"lenet5": (LeNet5, (1, 28, 28)), "resnet20": (ResNet20, (3, 32, 32))}


def bench(name, batch, steps):
    make, shape = MODELS[name]
    torch.manual_seed(1)
    model = make()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, *shape)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    step()  # warm-up, excluded
    times, cpu = [], []
    for _ in range(steps):
        c0, t0 = time.process_time(), time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"msPerStep": statistics.median(times), "minMs": min(times), "cpuMsPerStep": statistics.median(cpu),
            "steps": steps, "params": params}


def blas_libraries():
    """The BLAS shared objects this process really mapped (Debian switches libblas.so.3 between the
    reference BLAS and OpenBLAS with update-alternatives; dense layers depend on it)."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
        return sorted(os.path.realpath(p) for p in paths)
    except OSError:
        return []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="lenet5,resnet20")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_libraries()}
    for name in args.models.split(","):
        out[name] = bench(name, args.batch, args.steps)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
