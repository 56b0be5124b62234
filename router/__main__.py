"""``python -m router --model-map FILE [--host H] [--port P]``: run the router.
``python -m router status [URL] [--key KEY]``: show a running router's ``/fleet/status``.

Exit status 2 (with every problem printed) when a setting or the model map is invalid. Each command
imports only what it needs: ``status`` never loads the server.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def serve_main(argv: Sequence[str] | None) -> int:
    """Parse settings, then serve; returns the process exit status."""
    from config.errors import ConfigError
    from router.runtime.server import serve
    from router.runtime.settings import SettingsError, load_settings

    try:
        settings = load_settings(argv)
        serve(settings)
    except SettingsError as error:
        print(f"router: {error}", file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"router: invalid model map: {error}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` names (serving by default); returns the process exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["status"]:
        from router.runtime.status_cli import main as status_main

        return status_main(args[1:])
    return serve_main(argv)


if __name__ == "__main__":
    sys.exit(main())
