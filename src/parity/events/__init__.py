"""Events: what happened in the registry, a monitor or a deployment, kept in an outbox and
delivered to webhooks, signed."""
