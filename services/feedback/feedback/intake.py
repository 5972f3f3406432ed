"""The intake queue's consumer: ``feedback.intake`` → the feedback service, acked after the write.

The queue is declared the same way by the gateway (which publishes to it with confirms before
answering 202) and here (``portal_common.schemas.feedback.INTAKE_QUEUE_ARGUMENTS``), so
whichever starts first creates it and submissions wait in it while the service is stopped.

Outcomes: the handler returned → ack (the record is stored); it raised ``Invalid`` (a message
that breaks the schema would fail the same way every time) → rejected to
``feedback.dead-letters`` at once; anything else → back to the queue, where the quorum queue's
delivery limit parks it in the dead-letter queue after ``INTAKE_DELIVERY_LIMIT`` tries.
"""
from __future__ import annotations

import logging

from kombu import Connection, Exchange, Queue
from nameko.messaging import Consumer

from portal_common.errors import Invalid
from portal_common.events.consumer import DeadLetterDepth, RejectingQueueConsumer
from portal_common.schemas.feedback import (
    INTAKE_DEAD_LETTER_EXCHANGE, INTAKE_DEAD_LETTER_KEY, INTAKE_DEAD_LETTER_QUEUE, INTAKE_QUEUE,
    INTAKE_QUEUE_ARGUMENTS)

log = logging.getLogger(__name__)


def intake_queue() -> Queue:
    return Queue(INTAKE_QUEUE, durable=True, auto_delete=False,
                 queue_arguments=dict(INTAKE_QUEUE_ARGUMENTS))


class IntakeConsumer(Consumer):
    queue_consumer = RejectingQueueConsumer()

    def setup(self):
        exchange = Exchange(INTAKE_DEAD_LETTER_EXCHANGE, type="direct", durable=True)
        dlq = Queue(INTAKE_DEAD_LETTER_QUEUE, exchange=exchange,
                    routing_key=INTAKE_DEAD_LETTER_KEY, durable=True,
                    queue_arguments={"x-queue-type": "quorum"})
        with Connection(self.container.config["AMQP_URI"]) as conn:
            exchange(conn.default_channel).declare()
            dlq(conn.default_channel).declare()
        DeadLetterDepth.watch(dlq.name, self.container.config["AMQP_URI"])
        super().setup()

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is not None and isinstance(exc_info[1], Invalid):
            log.error("intake message rejected to %s: %s", INTAKE_DEAD_LETTER_QUEUE, exc_info[1])
            if message.channel.connection:
                message.reject(requeue=False)
            return
        super().handle_message_processed(message, result, exc_info)


def intake_consumer(fn):
    return IntakeConsumer.decorator(intake_queue(), requeue_on_error=True)(fn)
