"""``python -m router --model-map FILE [--host H] [--port P]``: run the router.

Exit status 2 (with every problem printed) when a setting or the model map is invalid.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from config.errors import ConfigError
from router.runtime.server import serve
from router.runtime.settings import SettingsError, load_settings


def main(argv: Sequence[str] | None = None) -> int:
    """Parse settings, then serve; returns the process exit status."""
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


if __name__ == "__main__":
    sys.exit(main())
