"""
moto 5.2.1, extended where it lacks an AWS behaviour `platform` relies on, served over TLS on a free loopback port.

Usage: python3 moto_server.py CERT KEY
Prints "PORT <n>" on stdout once the server listens, then serves until killed.

Every patch below restores one documented AWS behaviour and names the API reference it follows. None of them changes
what the tool sends or how it reads answers: the tool stays as it is for real AWS; moto is taught the missing part.
"""
import sys

from werkzeug.serving import make_server

import moto  # noqa: F401  (fails loudly when moto is not installed)
from moto.server import DomainDispatcherApplication, create_backend_app

import moto_patches

moto_patches.apply()


def main() -> None:
    cert, key = sys.argv[1], sys.argv[2]
    app = moto_patches.wrap_app(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=(cert, key))
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
