#!/usr/bin/env python3
"""PyTorch CPU twin of src/cli/bench.ts: the same LeNet-5 and ResNet-20 (same layers and parameter
counts, NCHW), Adam 1e-3, cross-entropy, random data, batch 128; and, with --epoch DIR, one epoch of the classic
LeNet-5 (6-16-120-84-10 with batch norm, as qnnlab's `lenet5`) on MNIST read from DIR's raw files, data pipeline
and the test-set evaluation included. Prints one JSON object:
{"torch": version, "threads": n, "blas": [libraries], "lenet5": {"msPerStep": median, "minMs": min,
 "cpuMsPerStep": median CPU time, "times": [...], "cpuTimes": [...], "steps": n, "params": p}, ...,
 "mnistEpoch": {"seconds": s, "cpuSeconds": c, "testAccuracy": a}}

Usage: python3 scripts/bench_torch.py [--models lenet5,resnet20] [--batch 128] [--steps 10] [--threads 1] [--epoch DIR]
The caller (npm run bench) also sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS: OpenBLAS starts
its own threads, which torch.set_num_threads does not limit. scripts/setup-bench.sh installs PyTorch and OpenBLAS.
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
            "times": times, "cpuTimes": cpu, "steps": steps, "params": params}


class ClassicLeNet5(nn.Module):
    """qnnlab's float `lenet5`: conv 6@5x5 'same' + BN + ReLU + max-pool 2, conv 16@5x5 + BN + ReLU + max-pool 2,
    dense 120 + BN + ReLU, dense 84 + BN + ReLU, dense 10. Batch-norm momentum 0.01 in PyTorch's convention is
    Keras's 0.99; eps 1e-3 as Keras's default."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6, eps=1e-3, momentum=0.01)
        self.conv2, self.bn2 = nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16, eps=1e-3, momentum=0.01)
        self.fc1, self.bn3 = nn.Linear(400, 120), nn.BatchNorm1d(120, eps=1e-3, momentum=0.01)
        self.fc2, self.bn4 = nn.Linear(120, 84), nn.BatchNorm1d(84, eps=1e-3, momentum=0.01)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.fc1(torch.flatten(x, 1))))
        return self.fc3(F.relu(self.bn4(self.fc2(x))))


def mnist_epoch(folder, batch):
    """One training epoch (shuffled, batch `batch`, Adam 1e-3) and one pass over the test set, from the raw files
    (N*784 pixel bytes, N label bytes) to the test accuracy, timed as a whole: what a user waits for."""
    import numpy as np

    torch.manual_seed(1)
    c0, t0 = time.process_time(), time.perf_counter()

    def split(name):
        x = np.fromfile(os.path.join(folder, name + "-images.u8"), dtype=np.uint8)
        y = np.fromfile(os.path.join(folder, name + "-labels.u8"), dtype=np.uint8)
        return torch.from_numpy(x).float().div_(255).view(-1, 1, 28, 28), torch.from_numpy(y).long()

    xtr, ytr = split("train")
    xte, yte = split("test")
    model = ClassicLeNet5()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    order = torch.randperm(len(ytr))
    for i in range(0, len(ytr), batch):
        idx = order[i:i + batch]
        opt.zero_grad()
        F.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
        opt.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(yte), 1000):
            correct += (model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item()
    return {"seconds": time.perf_counter() - t0, "cpuSeconds": time.process_time() - c0,
            "testAccuracy": correct / len(yte), "params": sum(p.numel() for p in model.parameters())}


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
    ap.add_argument("--epoch", default=None, help="folder of raw MNIST files: also time one classic LeNet-5 epoch")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_libraries(),
           "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}
    for name in filter(None, args.models.split(",")):
        out[name] = bench(name, args.batch, args.steps)
    if args.epoch:
        out["mnistEpoch"] = mnist_epoch(args.epoch, args.batch)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
