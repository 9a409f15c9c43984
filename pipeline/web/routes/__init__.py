"""The web app's routes, one module per area; each exposes ``register(app, web)``."""
