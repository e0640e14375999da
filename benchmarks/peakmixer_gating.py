"""Cost of PeakMixer's class-gated output: one mixer pass per class vs one shared mixer.

For each size and number of classes, the forward time (batch of spectra, eval mode, one
torch thread) and the training step time (forward + backward) of ``class_gated=True`` and
of its peer ``class_gated=False`` are measured in one run, in rotating blocks so that load
on the machine hits both alike, and printed as a table with the ratio gated / shared.

Usage: python benchmarks/peakmixer_gating.py [--points 352] [--batch 32] [--calls 20]
"""

from __future__ import annotations

import argparse
import time

import torch

from spectrakit.models import create


def _step(net: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, train: bool) -> None:
    if not train:
        with torch.no_grad():
            net(x)
        return
    loss = torch.nn.functional.cross_entropy(net(x), y)
    loss.backward()


def _seconds(nets: dict, x: torch.Tensor, y: torch.Tensor, train: bool, calls: int) -> dict:
    """Median seconds per call of each net, in rotating blocks after warm-up."""
    times: dict[str, list[float]] = {k: [] for k in nets}
    keys = list(nets)
    for r in range(4):
        for k in keys[r % 2 :] + keys[: r % 2]:
            nets[k].train(train)
            for _ in range(2):
                _step(nets[k], x, y, train)
            for _ in range(max(1, calls // 4)):
                t = time.perf_counter()
                _step(nets[k], x, y, train)
                times[k].append(time.perf_counter() - t)
    return {k: sorted(v)[len(v) // 2] for k, v in times.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--points", type=int, default=352)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--models", default="peakmixer_tiny,peakmixer_small")
    p.add_argument("--classes", default="2,8")
    args = p.parse_args()
    torch.set_num_threads(1)
    print("| model | classes | step | gated ms | shared ms | gated / shared |")
    print("|---|---|---|---|---|---|")
    for name in args.models.split(","):
        for n in map(int, args.classes.split(",")):
            torch.manual_seed(0)
            nets = {g: create(name, n_outputs=n, input_length=args.points, class_gated=g)
                    for g in (True, False)}  # fmt: skip
            x = torch.randn(args.batch, 1, args.points)
            y = torch.randint(0, n, (args.batch,))
            for train in (False, True):
                sec = _seconds(nets, x, y, train, args.calls)
                step = "train" if train else "forward"
                print(f"| {name} | {n} | {step} | {1e3 * sec[True]:.1f} | "
                      f"{1e3 * sec[False]:.1f} | {sec[True] / sec[False]:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
