"""Entry point of the bundled app: the same `studio` command line as the package."""

import multiprocessing

from studio.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # DataLoader workers re-enter the frozen executable
    raise SystemExit(main())
