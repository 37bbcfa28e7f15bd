"""`selfinstruct serve`: run the web app with uvicorn."""

from __future__ import annotations

import secrets

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but loopback needs an access token (given or generated).")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--registry", "registry_root", metavar="PATH", envvar="SELFINSTRUCT_REGISTRY",
              help="Registry root [env SELFINSTRUCT_REGISTRY; default: the user data folder].")
@click.option("--studies", "studies_path", type=click.Path(dir_okay=False),
              help="SQLite file of rating studies (default: studies.sqlite beside the registry).")
@click.option("--token", help="Access token every request must carry (cookie after opening ?token=...). "
                              "Generated when binding beyond loopback without one.")
@click.option("--max-body", type=int, default=16 * 1024 * 1024, show_default=True, help="Largest request body in bytes.")
def serve(host, port, registry_root, studies_path, token, max_body):
    """Browse the registry, diff versions and run blind rating studies in a local web app.

    Example: selfinstruct serve --registry ~/reg   (then open http://127.0.0.1:8000/)
    """
    import uvicorn

    from webapp.app import create_app
    from webapp.security import is_loopback

    loopback = is_loopback(host)
    if not loopback:
        click.echo(f"warning: binding {host} makes the app reachable from other machines; every request "
                   "must carry the access token", err=True)
        token = token or secrets.token_urlsafe(24)
    app = create_app(registry_root, studies_path, token=token, loopback_only=loopback, max_body=max_body)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    click.echo(f"selfinstruct serve: http://{shown}:{port}/" + (f"?token={token}" if token else ""), err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)
