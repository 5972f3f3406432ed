"""``python -m bench`` (``make bench``): run every benchmark and write bench/results/."""
import sys

from bench import rpc_roundtrip

BENCHMARKS = {"rpc_roundtrip": rpc_roundtrip.run}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; "
              f"known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    for name in chosen:
        BENCHMARKS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
