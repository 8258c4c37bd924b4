"""A volume larger than the cluster's memory, convolved through Dask; dask-image beside it.

``python -m convolib._dask_bench [--side 768] [--chunk 128] [--taps 7] [--workers 2]
[--memory-limit 512MiB] [--quick] [--out DIR]`` starts a `distributed.LocalCluster`
of worker processes (one thread each, ``--memory-limit`` each, enforced by their
nannies, which restart a worker that passes 95 % of it), generates a float32 volume
of ``side**3`` lazily with ``dask.array.random`` (never held whole anywhere), and
reduces three graphs on it to a float64 sum, so nothing large reaches the client:

1. ``x.sum()``: generating the volume alone, the floor under both convolutions;
2. ``convolib.convolve(x, g, "same", boundary="symmetric").sum()``;
3. ``dask_image.ndfilters.convolve(x, g, mode="reflect").sum()`` (scipy.ndimage's
   ``reflect`` is convolib's ``symmetric``; for an odd kernel ndimage's centring is
   origin 0), skipped with a note when dask-image is not installed.

``g`` is a sampled 3-D Gaussian of ``taps**3``. For each, the wall time and the peak
of the workers' summed resident memory (psutil, sampled every 20 ms; the nannies and
the client are not in it) are reported. Before timing, slices of the convolib result
are checked against in-memory oracles (at a corner, where the boundary acts: ``np.pad``
of the corner then a ``valid`` convolution; across interior chunk boundaries: a
``valid`` convolution of the slice with its halo) and against dask-image's values.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .api import convolve

MIB = 2**20


def gaussian_kernel(taps: int, sigma: float, ndim: int = 3) -> np.ndarray:
    """A sampled Gaussian of ``taps`` per axis (odd), summing to 1, in float32.

    >>> k = gaussian_kernel(5, 1.0)
    >>> k.shape, round(float(k.sum()), 6)
    ((5, 5, 5), 1.0)
    """
    t = np.arange(taps) - (taps - 1) / 2
    g = np.exp(-(t**2) / (2 * sigma**2))
    g /= g.sum()
    k = g
    for _ in range(ndim - 1):
        k = np.multiply.outer(k, g)
    return k.astype(np.float32)


class RssSampler:
    """The peak of the summed resident memory of some processes, sampled in a thread."""

    def __init__(self, pids: list[int], every_s: float = 0.02) -> None:
        import psutil

        self._processes = [psutil.Process(pid) for pid in pids]
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.peak_bytes = 0
        self.samples = 0

    def _rss(self) -> int:
        total = 0
        for p in self._processes:
            with contextlib.suppress(Exception):  # a worker that was restarted is gone
                total += p.memory_info().rss
        return total

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._rss())
            self.samples += 1
            self._stop.wait(self._every_s)

    def __enter__(self) -> RssSampler:
        self.peak_bytes = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _client_rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def _measured(client: Any, pids: list[int], graph: Any) -> dict[str, Any]:
    """Compute ``graph`` (a small result) on the cluster: seconds, peaks, value."""
    client_before = _client_rss()
    with RssSampler(pids) as sampler:
        start = time.perf_counter()
        value = client.compute(graph).result()
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "workers_peak_rss_mib": sampler.peak_bytes / MIB,
        "rss_samples": sampler.samples,
        "client_rss_growth_mib": max(0, _client_rss() - client_before) / MIB,
        "value": float(value),
    }


def _checks(x: Any, y: Any, k: np.ndarray, chunk: int, dask_image: Any | None) -> dict[str, Any]:
    """Max relative differences of slices of ``y`` against in-memory oracles."""
    h = k.shape[0] // 2
    c = min(24, x.shape[0] - 2 * h)
    corner = np.pad(x[: c + h, : c + h, : c + h].compute(), [(h, 0)] * 3, mode="symmetric")
    want_corner = convolve(corner, k, "valid")
    a = max(h, min(chunk - c // 2, x.shape[0] - c - h))  # straddles a chunk boundary
    inner = x[a - h : a + c + h, a - h : a + c + h, a - h : a + c + h].compute()
    want_inner = convolve(inner, k, "valid")

    def rel(got: np.ndarray, want: np.ndarray) -> float:
        return float(np.max(np.abs(got - want)) / max(float(np.max(np.abs(want))), 1e-30))

    got_corner = y[:c, :c, :c].compute()
    result = {
        "corner_vs_np_pad": rel(got_corner, want_corner),
        "interior_vs_in_memory": rel(y[a : a + c, a : a + c, a : a + c].compute(), want_inner),
    }
    if dask_image is not None:
        result["corner_vs_dask_image"] = rel(got_corner, dask_image[:c, :c, :c].compute())
    return result


def run(
    side: int = 768,
    chunk: int = 128,
    taps: int = 7,
    sigma: float = 1.5,
    n_workers: int = 2,
    memory_limit: str = "512MiB",
    seed: int = 0,
    peers: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the benchmark described in the module docstring; every figure, as a dict."""
    import dask.array as da
    from dask.distributed import Client, LocalCluster
    from dask.utils import parse_bytes

    say = progress or (lambda _: None)
    k = gaussian_kernel(taps, sigma)
    volume_bytes = side**3 * 4
    cap = n_workers * parse_bytes(memory_limit)
    report: dict[str, Any] = {
        "volume": {"shape": [side] * 3, "dtype": "float32", "bytes": volume_bytes},
        "chunks": [chunk] * 3,
        "kernel": {"shape": list(k.shape), "what": f"sampled Gaussian, sigma {sigma}"},
        "boundary": "symmetric (scipy.ndimage 'reflect')",
        "cluster": {
            "workers": n_workers,
            "threads_per_worker": 1,
            "memory_limit_per_worker": memory_limit,
            "memory_cap_bytes": cap,
            "volume_over_cap": volume_bytes / cap,
        },
        "notes": [],
    }
    with (
        _single_threaded_blas(),  # the worker processes inherit it
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit,
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        Client(cluster) as client,
    ):
        say("warming the workers up (imports, compiled loops) ...")
        small = da.random.default_rng(1).standard_normal((48,) * 3, chunks=24, dtype=np.float32)
        client.compute(convolve(small, k, "same", boundary="symmetric").sum()).result()
        pids = list(client.run(os.getpid).values())
        report["cluster"]["workers_idle_rss_mib"] = RssSampler(pids)._rss() / MIB

        x = da.random.default_rng(seed).standard_normal((side,) * 3, chunks=chunk, dtype=np.float32)
        y = convolve(x, k, "same", boundary="symmetric")
        z = None
        if peers:
            try:
                from dask_image.ndfilters import convolve as ndi_convolve
            except ImportError as exc:
                report["notes"].append(f"dask-image: skipped, not installed ({exc.name})")
            else:
                z = ndi_convolve(x, k, mode="reflect")
                client.compute(ndi_convolve(small, k, mode="reflect").sum()).result()
        say("checking slices against in-memory oracles ...")
        report["checks_max_relative_difference"] = _checks(x, y, k, chunk, z)

        say(f"generating the {volume_bytes / 2**30:.2f} GiB volume alone ...")
        report["generate_only"] = _measured(client, pids, x.sum(dtype=np.float64))
        say("convolib through dask ...")
        report["convolib"] = _measured(client, pids, y.sum(dtype=np.float64))
        if z is not None:
            say("dask-image ...")
            report["dask_image"] = _measured(client, pids, z.sum(dtype=np.float64))
        restarted = sorted(set(pids) - set(client.run(os.getpid).values()))
        report["cluster"]["workers_restarted"] = len(restarted)
    return report


def summary(report: dict[str, Any]) -> str:
    """The report as a few lines of text."""
    v, c = report["volume"], report["cluster"]
    lines = [
        f"volume {'x'.join(map(str, v['shape']))} {v['dtype']} = {v['bytes'] / 2**30:.2f} GiB "
        f"in chunks of {report['chunks'][0]}^3; kernel {report['kernel']['shape']} "
        f"({report['kernel']['what']}); boundary {report['boundary']}",
        f"cluster: {c['workers']} worker processes x 1 thread, memory_limit "
        f"{c['memory_limit_per_worker']} each (cap {c['memory_cap_bytes'] / 2**30:.2f} GiB, "
        f"volume = {c['volume_over_cap']:.2f} x cap); idle workers {c['workers_idle_rss_mib']:.0f} "
        f"MiB in all; workers restarted: {c['workers_restarted']}",
    ]
    for key, label in (
        ("generate_only", "generate + sum only"),
        ("convolib", "convolib (dask)"),
        ("dask_image", "dask_image.ndfilters"),
    ):
        if key in report:
            r = report[key]
            lines.append(
                f"{label:<22} {r['seconds']:8.1f} s   workers' peak RSS "
                f"{r['workers_peak_rss_mib']:7.0f} MiB   client grew "
                f"{r['client_rss_growth_mib']:.0f} MiB   sum {r['value']:.6g}"
            )
    checks = ", ".join(f"{k} {v:.1e}" for k, v in report["checks_max_relative_difference"].items())
    lines.append(f"checks (max relative difference): {checks}")
    lines += [f"note: {n}" for n in report["notes"]]
    return "\n".join(lines)


def sizes(quick: bool) -> dict[str, int]:
    """The volume and chunk sides of a full run (1.69 GiB) or a quick one (27 MiB).

    >>> sizes(True)
    {'side': 192, 'chunk': 64}
    """
    return {"side": 192, "chunk": 64} if quick else {"side": 768, "chunk": 128}


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {n: os.environ.get(n) for n in names}
    os.environ.update(dict.fromkeys(names, "1"))
    try:
        yield
    finally:
        for n, value in saved.items():
            if value is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m convolib._dask_bench", description=__doc__)
    parser.add_argument("--side", type=int, default=768, help="volume side (default 768)")
    parser.add_argument("--chunk", type=int, default=128, help="chunk side (default 128)")
    parser.add_argument("--taps", type=int, default=7, help="kernel side, odd (default 7)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="512MiB", help="per worker (default 512MiB)")
    parser.add_argument("--no-peers", action="store_true", help="skip dask-image")
    parser.add_argument("--quick", action="store_true", help="a 192^3 volume, chunks of 64")
    parser.add_argument("--out", help="folder for dask-bench.json")
    args = parser.parse_args(argv)
    size = sizes(args.quick) if args.quick else {"side": args.side, "chunk": args.chunk}
    report = run(
        **size,
        taps=args.taps,
        n_workers=args.workers,
        memory_limit=args.memory_limit,
        peers=not args.no_peers,
        progress=lambda s: print(s, file=sys.stderr, flush=True),
    )
    print(summary(report))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "dask-bench.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
