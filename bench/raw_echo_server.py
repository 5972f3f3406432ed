"""The baseline server: the same request/reply with pika and nothing else (no framework).

Consumes ``bench-raw-echo`` and answers each request on its ``reply_to`` queue with the same
body and correlation id, until killed. Run as ``python -m bench.raw_echo_server AMQP_URI``.
"""
import sys

import pika


def main(amqp_uri: str) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(amqp_uri))
    channel = connection.channel()
    channel.queue_declare("bench-raw-echo", auto_delete=True)
    channel.basic_qos(prefetch_count=50)

    def on_request(ch, method, props, body):
        ch.basic_publish("", props.reply_to, body,
                         pika.BasicProperties(correlation_id=props.correlation_id,
                                              content_type=props.content_type))
        ch.basic_ack(method.delivery_tag)

    channel.basic_consume("bench-raw-echo", on_request)
    print("ready", flush=True)
    channel.start_consuming()


if __name__ == "__main__":
    main(sys.argv[1])
