"""The Nameko side of the RPC benchmark: a service whose method returns its argument."""
from nameko.rpc import rpc


class EchoService:
    name = "bench_echo"

    @rpc
    def echo(self, value):
        return value
