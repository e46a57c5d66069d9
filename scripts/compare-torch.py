#!/usr/bin/env python3
"""make compare: the report's final model trained in PyTorch, timed per epoch, beside
simdmlp's own run of the same training (scripts/compare.sh runs both).

The same work as `simdmlp train`: 784-600-200-10 (relu, relu, softmax), he_normal
(truncated, Keras's) hidden weights and glorot_uniform softmax weights, zero biases,
Adam with Keras's constants (lr 1e-3, beta1 0.9, beta2 0.999, eps 1e-7), batch 64,
mean cross-entropy, pixels / 255; 54,000 training images reshuffled every epoch and
6,000 held out, evaluated after each epoch; the test set at the end. An epoch's time
covers the training steps and the validation pass, as simdmlp's does.

PyTorch runs twice: as installed ("default": its own thread settings, denormals not
flushed) and "tuned" (one intra-op thread, so that torch's OpenMP threads do not
compete with OpenBLAS's, which use every CPU unless OPENBLAS_NUM_THREADS says
otherwise; denormals flushed, which avoids the slow subnormal paths of x86 FPUs:
the best setting measured here). Only the standard library and torch are needed.
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

try:
    import torch
except ImportError:
    print("compare: PyTorch is not installed for", sys.executable, file=sys.stderr)
    sys.exit(3)


def read_idx(folder, stem):
    """The IDX file folder/stem (gzipped or not) as (dims, bytes)."""
    for name in (stem, stem + ".gz"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rb") as f:
                data = f.read()
            break
    else:
        sys.exit(f"compare: {folder}: no {stem} or {stem}.gz (expected the four MNIST IDX files)")
    zero, kind, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08:
        sys.exit(f"compare: {stem}: not an IDX file of unsigned bytes (magic {data[:4].hex()})")
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    body = data[4 + 4 * ndim :]
    if len(body) != math.prod(dims):
        sys.exit(f"compare: {stem}: {len(body)} bytes of data, want {math.prod(dims)} for dims {dims}")
    return dims, body


def load(folder, prefix):
    dims, pix = read_idx(folder, prefix + "-images-idx3-ubyte")
    _, lab = read_idx(folder, prefix + "-labels-idx1-ubyte")
    x = torch.frombuffer(bytearray(pix), dtype=torch.uint8).reshape(dims[0], dims[1] * dims[2]).float() / 255
    y = torch.frombuffer(bytearray(lab), dtype=torch.uint8).long()
    return x, y


def model(seed):
    torch.manual_seed(seed)
    layers = []
    sizes = [784, 600, 200, 10]
    for i in range(3):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1])
        if i < 2:
            # Keras he_normal: truncated normal, stddev sqrt(2/fan_in)/0.8796...
            std = math.sqrt(2 / sizes[i]) / 0.87962566103423978
            torch.nn.init.trunc_normal_(lin.weight, std=std, a=-2 * std, b=2 * std)
        else:
            torch.nn.init.xavier_uniform_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def evaluate(net, x, y, batch):
    net.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for lo in range(0, len(x), batch):
            out = net(x[lo : lo + batch])
            loss += torch.nn.functional.cross_entropy(out, y[lo : lo + batch], reduction="sum").item()
            correct += (out.argmax(1) == y[lo : lo + batch]).sum().item()
    net.train()
    return loss / len(x), correct / len(x)


def run(mode, xtr, ytr, xval, yval, xte, yte, epochs, batch, seed):
    if mode == "tuned":
        torch.set_num_threads(1)
        torch.set_flush_denormal(True)
    net = model(seed)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    gen = torch.Generator().manual_seed(seed)
    times = []
    for e in range(epochs):
        start = time.perf_counter()
        perm = torch.randperm(len(xtr), generator=gen)
        for lo in range(0, len(xtr), batch):
            idx = perm[lo : lo + batch]
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(net(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        vl, va = evaluate(net, xval, yval, batch)
        times.append(time.perf_counter() - start)
        print(f"  torch {mode:7s} epoch {e + 1}: {times[-1]:.2f} s  val_loss {vl:.4f} val_accuracy {va:.4f}", file=sys.stderr)
    _, ta = evaluate(net, xte, yte, batch)
    threads = torch.get_num_threads()
    torch.set_flush_denormal(False)
    return times, ta, threads


def blas():
    """The BLAS library Debian's alternatives give torch: the reference BLAS is many
    times slower than OpenBLAS (apt-get install libopenblas0-pthread)."""
    import glob

    for link in glob.glob("/etc/alternatives/libblas.so.3*"):
        target = os.path.realpath(link)
        if "openblas" in target:
            return "OpenBLAS (" + target + ")"
        if "/blas/" in target:
            return "reference BLAS (" + target + "): slow; apt-get install libopenblas0-pthread for a fair comparison"
        return target
    return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="folder with the four MNIST IDX files")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ours", help="simdmlp train -json output of the same training, to print beside")
    args = ap.parse_args()

    x, y = load(args.data, "train")
    xte, yte = load(args.data, "t10k")
    g = torch.Generator().manual_seed(args.seed)
    perm = torch.randperm(len(x), generator=g)
    nval = round(0.1 * len(x))
    xval, yval = x[perm[:nval]], y[perm[:nval]]
    xtr, ytr = x[perm[nval:]], y[perm[nval:]]

    results = {}
    for mode in ("default", "tuned"):
        results[mode] = run(mode, xtr, ytr, xval, yval, xte, yte, args.epochs, args.batch, args.seed)

    ours, ours_acc, ours_threads, backend = None, None, None, "?"
    if args.ours:
        with open(args.ours) as f:
            rec = json.load(f)
        res = rec.get("result", rec)
        ours = [e["seconds"] for e in res["epochs"]]
        ours_acc, ours_threads, backend = res.get("test_accuracy"), res.get("threads"), res.get("backend", "?")

    print(f"\nfinal model 784-600-200-10, adam, batch {args.batch}, {len(xtr)} training + {nval} validation images per epoch")
    print(f"torch {torch.__version__} ({torch.__config__.parallel_info().splitlines()[-1].strip()}), BLAS {blas()}")
    head = f"{'epoch':>5}"
    if ours is not None:
        head += f" {'simdmlp s':>10}"
    head += f" {'torch s':>10} {'tuned s':>10}"
    if ours is not None:
        head += f" {'torch/simdmlp':>14} {'tuned/simdmlp':>14}"
    print(head)
    td, tt = results["default"][0], results["tuned"][0]
    for e in range(args.epochs):
        line = f"{e + 1:>5}"
        if ours is not None:
            line += f" {ours[e]:>10.3f}"
        line += f" {td[e]:>10.3f} {tt[e]:>10.3f}"
        if ours is not None:
            line += f" {td[e] / ours[e]:>14.2f} {tt[e] / ours[e]:>14.2f}"
        print(line)
    mean = lambda v: sum(v) / len(v)
    line = f"{'mean':>5}"
    if ours is not None:
        line += f" {mean(ours[: args.epochs]):>10.3f}"
    line += f" {mean(td):>10.3f} {mean(tt):>10.3f}"
    if ours is not None:
        line += f" {mean(td) / mean(ours[: args.epochs]):>14.2f} {mean(tt) / mean(ours[: args.epochs]):>14.2f}"
    print(line)
    acc = f"test accuracy: torch {results['default'][1]:.4f} ({results['default'][2]} threads), tuned {results['tuned'][1]:.4f} ({results['tuned'][2]} threads)"
    if ours is not None:
        acc += f", simdmlp {ours_acc:.4f} ({backend}, {ours_threads} threads)"
    print(acc)


if __name__ == "__main__":
    main()
