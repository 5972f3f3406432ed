# The local platform. `make up` starts it (installing what is missing), `make test` runs the tests.
# Everything runs from packages on this machine (no Docker); state lives in var/ (see deploy/local/).

PYTHON ?= python3
STACK  := $(PYTHON) deploy/local/stack.py

.DEFAULT_GOAL := help
.PHONY: help up down status logs test bench clean

help: ## this list
	@echo "usage: make TARGET [VAR=value]"
	@awk 'BEGIN {FS = ":.*## "} /^[a-z]+:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

up: ## install (first run) and start RabbitMQ, FerretDB, Elasticsearch, the services and the gateway
	@$(STACK) up

down: ## stop everything make up / make test started (external servers are left alone)
	@$(STACK) down

status: ## which component runs, its pid and address, local or external
	@$(STACK) status

logs: ## tail var/log/*.log; SERVICE=news for one log, FOLLOW=1 to follow, LINES=200 for more
	@$(STACK) logs $(if $(SERVICE),--service $(SERVICE)) $(if $(filter 1 yes true,$(FOLLOW)),--follow) $(if $(LINES),--lines $(LINES))

test: ## start the infrastructure if needed, then pytest tests (extra arguments: ARGS="-k foo")
	@$(STACK) test -- $(ARGS)

bench: ## start the infrastructure if needed, then python -m bench (extra arguments: ARGS=...)
	@$(STACK) bench -- $(ARGS)

clean: ## make down, then DELETE var/: all local data (databases, broker, index), logs, built tools
	@$(STACK) clean
