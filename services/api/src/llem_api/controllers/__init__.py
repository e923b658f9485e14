"""The API's routes, one module per domain, each a `Router` of thin handlers over the logic modules.

Routers rather than `Controller` classes: a Controller registers its handlers sorted by name, and
the OpenAPI document lists paths in registration order; a Router keeps the order it is given, so
the committed document (and the web app's client generated from it) reads as the API is laid out.
"""
