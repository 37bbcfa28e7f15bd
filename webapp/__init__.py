"""webapp: `selfinstruct serve`, a local web app over the registry and the rating studies.

    from webapp.app import create_app
    app = create_app(registry_root="~/reg", studies_path="studies.sqlite")   # any ASGI server runs it

Pages are Jinja2 templates with autoescape; every asset ships in the package (no CDN).
"""
