"""`selfinstruct serve`: run the web app with uvicorn."""

from __future__ import annotations

import secrets
import socket
import sqlite3

import click

from records.exits import bad_input, describe_os_error


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
@click.option("--chat-model", type=click.Path(exists=True, file_okay=False),
              help="Fine-tuned checkpoint folder for the chat page (run in-process).")
@click.option("--chat-endpoint", metavar="URL", help="OpenAI-compatible endpoint for the chat page instead.")
@click.option("--chat-model-name", help="Model name at --chat-endpoint (default: the first it lists).")
@click.option("--chat-template", help="Prompt format: a finetune template name or file, chat or plain "
                                      "(default: the one recorded with the model).")
@click.option("--chat-max-tokens", type=int, default=512, show_default=True, help="Longest reply in tokens.")
def serve(host, port, registry_root, studies_path, token, max_body, chat_model, chat_endpoint, chat_model_name,
          chat_template, chat_max_tokens):
    """Browse the registry, diff versions and run blind rating studies in a local web app.

    Example: selfinstruct serve --registry ~/reg   (then open http://127.0.0.1:8000/)
    """
    import uvicorn

    from webapp.app import create_app
    from webapp.chat import ChatService
    from webapp.security import is_loopback

    if chat_model and chat_endpoint:
        raise click.UsageError("give --chat-model or --chat-endpoint, not both")

    loopback = is_loopback(host)
    if not loopback:
        click.echo(f"warning: binding {host} makes the app reachable from other machines; every request "
                   "must carry the access token", err=True)
        token = token or secrets.token_urlsafe(24)
    chat = ChatService(model=chat_model, base_url=chat_endpoint, model_name=chat_model_name, template=chat_template,
                       max_new_tokens=chat_max_tokens)
    try:
        app = create_app(registry_root, studies_path, token=token, loopback_only=loopback, max_body=max_body,
                         chat=chat)
    except (OSError, sqlite3.Error) as e:
        where = f"--studies {studies_path}" if studies_path else \
            "the studies database beside the registry (choose another with --studies)"
        reason = describe_os_error(e) if isinstance(e, OSError) else str(e)
        raise bad_input(f"{where}: cannot open or create it ({reason})") from None
    sock = bind(host, port)  # before the URL is printed: a busy port is one line, not a URL that never answers
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else f"[{host}]" if ":" in host else host
    click.echo(f"selfinstruct serve: http://{shown}:{port}/" + (f"?token={token}" if token else ""), err=True)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)
    uvicorn.Server(config).run(sockets=[sock])


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or exit 2 naming why (port in use, address not on this machine)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        raise bad_input(f"cannot listen on {host}:{port}: {e.strerror or e} "
                        "(another server on that port? choose one with --port)") from None
    sock.set_inheritable(True)
    return sock
