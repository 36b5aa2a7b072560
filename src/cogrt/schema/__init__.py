"""Pure schema layer: signatures, validation types, OpenAPI, output encoding (no IO)."""
