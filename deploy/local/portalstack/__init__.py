"""The local platform: installs and runs RabbitMQ, FerretDB, Elasticsearch and the portal's processes.

Standard library only, so it runs with the machine's own ``python3`` before any virtualenv exists.
Entry point: ``deploy/local/stack.py`` (wrapped by the Makefile). Everything it creates lives under
``var/`` in the repository root (data, logs, pid files, built tools) and ``.venv/``.
"""
