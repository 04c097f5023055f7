"""Serving the sizing app: Voilà in this process, on loopback, behind a Host check, with idle
kernels culled.

``llmphys app`` runs :func:`serve`.  What it adds to plain Voilà, and why:

* **One process.**  Voilà runs in the ``llmphys app`` process itself (not as a child), so the
  PID a user sees is the server's: SIGTERM or SIGINT (Ctrl-C) stops Voilà's loop, which shuts
  every kernel down before the process exits.  Nothing is left listening.
* **The Host header is checked** on every request, static files included: only ``localhost``
  and loopback addresses are served (403 otherwise).  A page on another site that resolves its
  own name to 127.0.0.1 (DNS rebinding) cannot reach the app.  Voilà 0.5 turns Jupyter's own
  check off (``allow_remote_access=True``), so the check sits in front of its application.
* **Idle kernels are culled.**  Each page view starts a kernel (~130 MB); a tab closed without
  its ``beforeunload`` request, or a page fetched by a script, would keep it forever.  A kernel
  with no browser connected and idle for ``cull_idle`` seconds is shut down (Jupyter's culler:
  ``MappingKernelManager.cull_idle_timeout``); an open page keeps its kernel.
* **The page fetches nothing from another site.**  It is rendered by the app's own Voilà
  template, ``llmphys`` (package data: ``share/voila/templates/llmphys``, found because the
  package's ``share`` folder is put first on ``JUPYTER_PATH``): Voilà's ``lab`` template
  without its links to Font Awesome on cdn.jsdelivr.net (voila.js bundles the same fonts), and
  with a small inline script that keeps the address bar on the page's shareable link.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["CULL_IDLE", "TEMPLATE", "is_local_host", "serve", "share_path", "voila_arguments"]

#: seconds a kernel with no page connected may stay idle before it is shut down
CULL_IDLE = 300

#: the app's Voilà template (``share/voila/templates/llmphys``: conf.json, index.html.j2)
TEMPLATE = "llmphys"


def share_path() -> Path:
    """The Jupyter data folder shipped in the package (``llmphys/app/share``), which holds
    :data:`TEMPLATE` under ``voila/templates``."""
    return Path(str(resources.files("llmphys.app").joinpath("share")))

_HOST = re.compile(r"^(?P<host>\[[^\]]*\]|[^:]*)(?::\d+)?$")


def is_local_host(header: str) -> bool:
    """Whether a ``Host`` header names this machine's loopback (``localhost``, 127.0.0.0/8,
    ``[::1]``), with or without a port.

    >>> [is_local_host(h) for h in ("127.0.0.1:8866", "localhost", "[::1]:80", "evil.example")]
    [True, True, True, False]
    """
    match = _HOST.match(header.strip())
    if match is None:
        return False
    host = match.group("host").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def voila_arguments(
    port: int, open_browser: bool = True, notebook: str | Path | None = None
) -> list[str]:
    """Voilà's command-line arguments for the app: loopback only, this port or none, Voilà's
    tracebacks kept off the page (errors reach it as the toolkit's messages), the app's own
    template (:data:`TEMPLATE`; Voilà finds it only with :func:`share_path` on JUPYTER_PATH, as
    :func:`serve` puts it).

    >>> voila_arguments(9000, open_browser=False)[1:]
    ['--Voila.ip=127.0.0.1', '--port=9000', '--Voila.port_retries=0', \
'--show_tracebacks=False', '--template=llmphys', '--no-browser']
    """
    from llmphys.app import notebook_path

    arguments = [
        str(notebook or notebook_path()),
        "--Voila.ip=127.0.0.1",
        f"--port={port}",
        "--Voila.port_retries=0",
        "--show_tracebacks=False",
        f"--template={TEMPLATE}",
    ]
    if not open_browser:
        arguments.append("--no-browser")
    return arguments


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether ``port`` on ``host`` can be listened on now (nothing else holds it)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port the system has free now, to suggest when the one asked for is taken."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def serve(port: int = 8866, open_browser: bool = True, cull_idle: float = CULL_IDLE) -> int:
    """Serve the app until SIGTERM or SIGINT; every kernel is shut down before it returns.

    ``cull_idle`` = 0 keeps idle kernels (Jupyter's default); otherwise they are checked every
    ``cull_idle / 4`` seconds (at least 1, at most 60).  While it serves, JUPYTER_PATH starts
    with :func:`share_path`, where Voilà looks up the app's template and its static files (on
    every request, not once).
    """
    from traitlets.config import Config

    config = Config()
    config.MappingKernelManager.cull_idle_timeout = int(cull_idle)
    config.MappingKernelManager.cull_interval = max(1, min(60, int(cull_idle) // 4))
    config.MappingKernelManager.cull_connected = False  # an open page keeps its kernel
    before = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(share_path()), before]))
    try:
        _app_class().launch_instance(voila_arguments(port, open_browser), config=config)
    finally:
        if before is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = before
    return 0


def _app_class() -> Any:
    """Voilà's application with the Host check in front of it (built on first use: Voilà and
    tornado are imported only to serve)."""
    from tornado import httputil
    from tornado.httpserver import HTTPServer
    from voila.app import Voila

    refused = b"403 Forbidden: this app answers only requests addressed to localhost\n"

    class Gate(httputil.HTTPMessageDelegate):
        """One request: refused at its headers unless its Host is local, else passed on."""

        def __init__(self, inner: Any, connection: Any) -> None:
            self.inner, self.connection, self.refused = inner, connection, False

        def headers_received(self, start_line: Any, headers: Any) -> Any:
            if is_local_host(headers.get("Host", "")):
                return self.inner.headers_received(start_line, headers)
            self.refused = True
            response = httputil.ResponseStartLine("HTTP/1.1", 403, "Forbidden")
            self.connection.write_headers(
                response,
                httputil.HTTPHeaders(
                    {"Content-Type": "text/plain", "Content-Length": str(len(refused))}
                ),
                refused,
            )
            self.connection.finish()
            return None

        def data_received(self, chunk: bytes) -> Any:
            return None if self.refused else self.inner.data_received(chunk)

        def finish(self) -> None:
            if not self.refused:
                self.inner.finish()

        def on_connection_close(self) -> None:
            if not self.refused:
                self.inner.on_connection_close()

    class Checked(httputil.HTTPServerConnectionDelegate):
        """Voilà's tornado application, every request through a :class:`Gate`."""

        def __init__(self, app: Any) -> None:
            self.app = app

        def start_request(self, server_conn: object, request_conn: Any) -> Any:
            return Gate(self.app.start_request(server_conn, request_conn), request_conn)

        def on_close(self, server_conn: object) -> None:
            self.app.on_close(server_conn)

        def listen(self, port: int, address: str = "", **kwargs: Any) -> HTTPServer:
            server = HTTPServer(self, **kwargs)
            server.listen(port, address)
            return server

        def __getattr__(self, name: str) -> Any:  # settings, handlers: Voilà's application
            return getattr(self.app, name)

    class LocalVoila(Voila):
        def listen(self) -> None:
            self.app = Checked(self.app)
            super().listen()

    return LocalVoila


if __name__ == "__main__":  # pragma: no cover - `python -m llmphys.app.server [port]`
    sys.exit(serve(int(sys.argv[1]) if len(sys.argv) > 1 else 8866, open_browser=False))
