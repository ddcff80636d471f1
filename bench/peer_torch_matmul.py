# Peer for `sea bench` (group gemm): PyTorch's fp32 matmul on the same shapes, same method
# (median of timed repeats after warm-up). Prints one JSON object per shape.
# Usage: python3 bench/peer_torch_matmul.py [threads] [--quick]
import json, statistics, sys, time
import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 2
quick = "--quick" in sys.argv
torch.set_num_threads(threads)
# name, M, N, K, trans_a, trans_b, in --quick  (as tools/bench_gemm.c)
SHAPES = [
    ("square 512", 512, 512, 512, 0, 0, 1), ("square 1024", 1024, 1024, 1024, 0, 0, 1),
    ("square 2048", 2048, 2048, 2048, 0, 0, 0), ("mlp up x.W^T", 256, 2048, 512, 0, 1, 1),
    ("mlp down x.W^T", 256, 512, 2048, 0, 1, 0), ("mlp up dX=dY.W", 256, 512, 2048, 0, 0, 0),
    ("mlp up dW=dY^T.X", 2048, 512, 256, 1, 0, 0), ("vocab4k x.W^T", 256, 4096, 512, 0, 1, 1),
    ("vocab4k dX=dY.W", 256, 512, 4096, 0, 0, 1), ("vocab4k dW=dY^T.X", 4096, 512, 256, 1, 0, 0),
    ("vocab50k x.W^T", 256, 50304, 512, 0, 1, 0), ("decode8 vocab4k", 8, 4096, 512, 0, 1, 1),
    ("decode1 vocab4k", 1, 4096, 512, 0, 1, 0), ("decode8 vocab50k", 8, 50304, 512, 0, 1, 0),
]
for name, M, N, K, ta, tb, q in SHAPES:
    if quick and not q:
        continue
    a = torch.rand(K, M) * 2 - 1 if ta else torch.rand(M, K) * 2 - 1
    b = torch.rand(N, K) * 2 - 1 if tb else torch.rand(K, N) * 2 - 1
    A = a.t() if ta else a  # views, as the stored layouts of sea bench
    B = b.t() if tb else b
    out = torch.empty(M, N)
    for _ in range(2):
        torch.mm(A, B, out=out)
    times, start = [], time.perf_counter()
    while len(times) < (3 if quick else 10) or time.perf_counter() - start < (0.1 if quick else 0.5):
        t0 = time.perf_counter()
        torch.mm(A, B, out=out)
        times.append(time.perf_counter() - t0)
        if len(times) >= 1000:
            break
    med = statistics.median(times)
    print(json.dumps({"group": "gemm", "name": name, "peer": "torch " + torch.__version__,
                      "threads": threads, "M": M, "N": N, "K": K, "gflops": 2.0 * M * N * K / med * 1e-9,
                      "median_ms": med * 1e3}), flush=True)
