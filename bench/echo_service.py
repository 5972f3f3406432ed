"""The Nameko side of the RPC benchmark: a service whose method returns its argument, on the
platform's RPC entrypoint (``portal_common.entrypoints.rpc``) like every service."""
from portal_common.entrypoints import rpc


class EchoService:
    name = "bench_echo"

    @rpc
    def echo(self, value):
        return value
