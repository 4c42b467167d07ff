"""The portal's routes, one module per page group; :func:`portal.app.create_app` includes their routers."""
