"""Input contracts shared by the gateway (validating at the HTTP edge) and the services
(validating their RPC arguments again): one pydantic model per payload, defined once."""

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
