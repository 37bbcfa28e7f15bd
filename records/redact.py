"""Keep credentials out of everything written or printed: URLs, lineage, error messages.

One place decides what a credential looks like:

- a URL loses its user:password part and the values of query parameters that carry keys or
  signatures (`?api-key=`, `?token=`, `?sig=` ...);
- a mapping key names a credential when one of its words is a secret word (`token`, `secret`,
  `password`, `authorization`, `cookie` ...) or two neighbouring words are `api key`,
  `private key`, `access key`, `secret key`, ...: `OPENAI_API_KEY`, `X-Api-Key`,
  `Proxy-Authorization`, `hf_token`, `client_secret` all match, `max_tokens` and
  `rouge_tokenizer` do not;
- free text has every URL in it redacted.

    redact_url("https://user:pw@host/v1?api-key=abc")  ->  "https://host/v1?api-key=<redacted>"
    redact({"headers": {"X-Api-Key": "k"}})              ->  {"headers": {"X-Api-Key": "<redacted>"}}
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "<redacted>"

SECRET_WORDS = frozenset({
    "secret", "password", "passwd", "pwd", "passphrase", "authorization", "auth", "bearer", "cookie",
    "credential", "credentials", "apikey", "signature", "sig", "session", "jwt", "privatekey", "accesskey",
    "secretkey", "clientsecret", "accesstoken", "refreshtoken", "sastoken",
})
SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key"),
                          ("account", "key"), ("signing", "key"), ("session", "key"), ("master", "key")})
# query parameters whose value is a credential even when the name alone is a plain word
SECRET_QUERY = frozenset({"key", "code"})
# "token" names a credential as a name's last word (hf_token, access_token), except a tokenizer's
# special tokens and counts (pad_token, flops_per_token); token_counter is no credential either
NOT_SECRET_BEFORE_TOKEN = frozenset({"bos", "eos", "pad", "unk", "sep", "cls", "mask", "special", "per", "max",
                                     "num", "first", "last", "next", "end", "start"})

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://(?:<redacted>|[^\s'\"<>()\[\]{}])+")  # idempotent


def _words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", name).lower()) if w]


def is_secret_key(name) -> bool:
    """Whether a mapping key or parameter name names a credential (case and separators ignored)."""
    words = _words(str(name))
    if any(w in SECRET_WORDS for w in words):
        return True
    if words and words[-1] == "token" and (len(words) == 1 or words[-2] not in NOT_SECRET_BEFORE_TOKEN):
        return True
    return any(pair in SECRET_PAIRS for pair in zip(words, words[1:]))


def redact_url(url: str) -> str:
    """`url` without userinfo and with credential-carrying query values replaced; non-URLs pass."""
    if not isinstance(url, str) or "://" not in url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # an unparsable port or bracket: keep only the scheme
        return url.split("://", 1)[0] + "://" + REDACTED
    netloc = parts.netloc
    if "@" in netloc:
        netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_secret_param(k) for k, _ in pairs):
            query = urlencode([(k, REDACTED if _secret_param(k) else v) for k, v in pairs], safe="<>")
    fragment = REDACTED if parts.fragment and ("=" in parts.fragment) else parts.fragment
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def _secret_param(name: str) -> bool:
    return name.lower() in SECRET_QUERY or is_secret_key(name)


def redact_text(text: str) -> str:
    """Free text (an error message, a log line) with every URL in it redacted."""
    if not isinstance(text, str) or "://" not in text:
        return text
    return _URL.sub(lambda m: redact_url(m.group(0)), text)


def endpoint_host(url: str) -> str:
    """host[:port] of an endpoint URL, never its userinfo."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return REDACTED
    if not host:
        return redact_text(url)
    return (f"[{host}]" if ":" in host else host) + (f":{port}" if port is not None else "")


def redact(value):
    """`value` (lineage, a config, a summary) with credential-named keys' values replaced and every
    URL inside a string redacted, recursively; the input is not modified."""
    if isinstance(value, dict):
        return {k: (REDACTED if is_secret_key(k) and value[k] not in (None, "") else redact(v))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value
