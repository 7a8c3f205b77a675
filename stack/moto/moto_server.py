"""The local stack's moto server: DynamoDB, DynamoDB Streams and S3 on one loopback port.

Started by ``ddb-lake up`` with the venv's python as ``python stack/moto/moto_server.py --port N``.
It applies our fixes for moto bugs (moto_patches.apply) before moto serves anything, then runs
moto's own server, which answers every AWS service it knows on the one port.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import moto_patches  # needs the path above


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback by default)")
    parser.add_argument("--port", type=int, required=True, help="port to serve on")
    args = parser.parse_args(argv)

    moto_patches.apply()

    from moto.server import main as moto_main

    moto_main(["--host", args.host, "--port", str(args.port)])


if __name__ == "__main__":
    main()
