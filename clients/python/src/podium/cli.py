"""The ``podium`` command: run a model, list your requests, read or wait for one.

    podium run echo -i numbers='[[1, 2]]'
    podium run sentiment -i text="What a lovely day"
    podium requests list
    podium requests get ID --wait

``PODIUM_URL`` (default http://localhost:8080) names the server, ``PODIUM_TOKEN`` the token;
without one an anonymous session is made and kept in ``~/.config/podium/token`` for the next
command.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from .client import Podium
from .errors import PodiumError


def _token_file() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "podium" / "token"


def _client() -> Podium:
    base_url = os.environ.get("PODIUM_URL", "http://localhost:8080")
    token = os.environ.get("PODIUM_TOKEN")
    if token:
        return Podium(base_url, token)
    stored = _token_file()
    if stored.exists():
        return Podium(base_url, stored.read_text().strip())
    client = Podium.anonymous(base_url)
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_text(client.token or "")
    stored.chmod(0o600)
    return client


def _inputs(pairs: List[str]) -> Dict[str, Any]:
    """``name=value`` pairs: a value that reads as JSON (numbers, arrays) is that, else text."""
    inputs: Dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"podium: -i takes name=value, not {pair!r}")
        try:
            inputs[name] = json.loads(value)
        except json.JSONDecodeError:
            inputs[name] = value
    return inputs


def _printable(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {key: _printable(item) for key, item in value.items()}
    return value


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="podium", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a model and print its result")
    run.add_argument("model")
    run.add_argument("-i", "--input", action="append", default=[], metavar="NAME=VALUE")
    run.add_argument("--timeout", type=float, default=300)
    requests = commands.add_parser("requests", help="your requests").add_subparsers(dest="action", required=True)
    listing = requests.add_parser("list", help="your latest requests")
    listing.add_argument("--status")
    listing.add_argument("--limit", type=int, default=20)
    get = requests.add_parser("get", help="one request")
    get.add_argument("id")
    get.add_argument("--wait", action="store_true", help="wait for its end")
    args = parser.parse_args(argv)

    try:
        with _client() as client:
            if args.command == "run":
                print(json.dumps(_printable(client.run(args.model, _inputs(args.input), timeout=args.timeout))))
            elif args.action == "list":
                for count, request in enumerate(client.requests(status=args.status)):
                    if count == args.limit:
                        break
                    print(f"{request.id}  {request.status:<10}  {request.model}  {request.view['createdAt']}")
            else:
                request = client.get(args.id)
                if args.wait:
                    request.wait()
                print(json.dumps(request.view))
    except PodiumError as error:
        print(f"podium: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
