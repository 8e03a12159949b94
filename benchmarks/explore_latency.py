"""Explorer latency end to end: a race asked of a running ``ravine explore`` server over HTTP.

The issue's case: 6 optimizers (sgd, momentum, nesterov, rmsprop, adam, adagrad), 3 starts,
500 steps on rosenbrock, each at the landscape's default learning rate. The server (the
application ``ravine explore`` serves, uvicorn in a thread of this process, warmed up at
start as the command does) streams the race; the client (httpx, in this process) times the
first chunk line (what the page draws first) and the last line (the race complete, with its
outcomes), from the request's start. Prints the median over rounds with the range, the
first request after the warm-up, and the load average before and after.

    python benchmarks/explore_latency.py                       # 15 rounds
    python benchmarks/explore_latency.py --rounds 25 --threads 2 --no-warm
"""

from __future__ import annotations

import math
import os
import statistics
import threading
import time

import httpx
import torch
import uvicorn
from race_latency import NAMES, parser, starts_for

from ravine.explore.app import create_app
from ravine.explore.serve import listen, url


def serve(warm: bool) -> tuple[str, uvicorn.Server, threading.Event]:
    """The explorer on a free port of 127.0.0.1, started; its address and warm-up event."""
    sock = listen("127.0.0.1", 0)
    app = create_app(warm=warm)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return url("127.0.0.1", sock.getsockname()[1]), server, app.state.warmed


def timed_race(http: httpx.Client, body: dict) -> tuple[float, float, int]:
    """(seconds to the first chunk line, seconds to the last line, bytes) of one race."""
    t0 = time.perf_counter()
    first, size = None, 0
    with http.stream("POST", "/api/race", json=body) as reply:
        reply.raise_for_status()
        for line in reply.iter_lines():
            size += len(line) + 1
            if first is None and line.startswith('{"type":"chunk"'):
                first = time.perf_counter() - t0
            last = line
    assert last == '{"type":"done"}', last[:200]
    return first if first is not None else math.nan, time.perf_counter() - t0, size


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--no-warm", action="store_true", help="start the server cold")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()
    t0 = time.perf_counter()
    address, server, warmed = serve(warm=not args.no_warm)
    if not args.no_warm:
        warmed.wait()
    ready = time.perf_counter() - t0
    body = {
        "landscape": args.landscape,
        "starts": starts_for(args.landscape),
        "steps": args.steps,
        "optimizers": [{"name": n} for n in NAMES],
    }
    with httpx.Client(base_url=address, timeout=120) as http:
        first = timed_race(http, body)
        rounds = [timed_race(http, body) for _ in range(args.rounds)]
    server.should_exit = True
    print(
        f"{args.landscape}: {len(NAMES)} optimizers x 3 starts x {args.steps} steps over HTTP; "
        f"torch {torch.__version__}, {args.threads} thread(s), {args.rounds} rounds"
    )
    print(f"load average before: {load}")
    warm = "cold start" if args.no_warm else "started and warmed up"
    print(f"server {warm} in {ready:.2f} s; response {first[2] / 1024:.0f} KiB")
    print(f"first request: first chunk {first[0] * 1e3:.0f} ms, complete {first[1] * 1e3:.0f} ms")
    for name, k in (("first chunk", 0), ("complete", 1)):
        xs = [r[k] for r in rounds]
        print(
            f"{name:>12}: median {statistics.median(xs) * 1e3:6.1f} ms "
            f"(range {min(xs) * 1e3:.1f}-{max(xs) * 1e3:.1f})"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
