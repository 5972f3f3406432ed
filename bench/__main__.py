"""``python -m bench`` (``make bench``): run every benchmark and write bench/results/."""
import logging
import sys

from bench import (analytics, feedback_intake, gateway_serving, news_reads, rpc_roundtrip,
                   search_latency, search_relevance)

BENCHMARKS = {"rpc_roundtrip": rpc_roundtrip.run,
              "gateway_serving": gateway_serving.run,
              "news_reads": news_reads.run,
              "search_relevance": search_relevance.run,
              "search_latency": search_latency.run,
              "pageview_ingest": analytics.run_pageview_ingest,
              "visitors_latency": analytics.run_visitors_latency,
              "feedback_intake": feedback_intake.run}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; "
              f"known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # py-amqp warns about frames that arrive while a benchmark client closes its channel
    logging.getLogger("amqp").setLevel(logging.ERROR)
    for name in chosen:
        BENCHMARKS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
