"""``make prod``'s process manager: honcho, with a longer grace period on shutdown.

honcho sends SIGTERM to every process on Ctrl-C and SIGKILLs what is left after 5 s. An RQ
worker's warm shutdown finishes its running job first, so give it ``STOP_TIMEOUT`` seconds
(default 120). A job cut off anyway is retried by RQ and is idempotent.
"""

import os
import sys

import honcho.manager
from honcho.command import main

honcho.manager.KILL_WAIT = int(os.environ.get("STOP_TIMEOUT", "120"))

if __name__ == "__main__":
    sys.exit(main())
