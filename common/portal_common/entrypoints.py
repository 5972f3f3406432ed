"""Nameko entrypoints with the platform's conventions.

``rpc`` is Nameko's RPC entrypoint, speaking Nameko's protocol unchanged, with two conventions:

- the domain errors (``PortalError``: not found, invalid, conflict, forbidden) are declared as
  expected: they are answers to the caller, logged as warnings, not as failures of the service;
- replies are published without publisher confirms. A reply goes to the caller's own reply
  queue over a connection the broker already holds; a confirm would only tell the service what
  the caller learns anyway (the answer arrives, or the caller times out: ``504`` at the
  gateway), and it costs the broker and the service a third of a call's CPU
  (docs/decisions.md, "RPC replies are not confirmed"). Requests stay confirmed and mandatory:
  that is how a caller learns at once that no service is there to answer.

Every RPC entrypoint of a service must come from here: two consumer kinds on one service's
queue would each receive calls meant for the other's methods.
"""
from __future__ import annotations

from nameko import rpc as nameko_rpc
from nameko.amqp.publish import Publisher
from nameko.constants import (AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, DEFAULT_SERIALIZER,
                              LOGIN_METHOD_CONFIG_KEY, SERIALIZER_CONFIG_KEY)

from portal_common.errors import PortalError


class ReplyPublisher(Publisher):
    use_confirms = False


class Responder(nameko_rpc.Responder):
    publisher_cls = ReplyPublisher


class RpcConsumer(nameko_rpc.RpcConsumer):
    """Nameko's consumer of ``rpc-<service>``, answering through ``Responder`` above."""

    def handle_result(self, message, result, exc_info):
        config = self.container.config
        responder = Responder(
            config[AMQP_URI_CONFIG_KEY], nameko_rpc.get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY), login_method=config.get(LOGIN_METHOD_CONFIG_KEY))
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class Rpc(nameko_rpc.Rpc):
    rpc_consumer = RpcConsumer()


def rpc(fn=None, *, expected_exceptions=(PortalError,), **kwargs):
    decorator = Rpc.decorator(expected_exceptions=expected_exceptions, **kwargs)
    return decorator(fn) if fn is not None else decorator
