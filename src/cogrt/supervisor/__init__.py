"""The supervisor: ``python -m cogrt`` keeps serving when user code kills the interpreter.

A predictor can end the process where no ``try`` reaches: ``os._exit()``, a
segfault in a C extension, the OOM killer. The runtime stays one process;
serving runs it as the child of a small supervisor that

* holds the listening socket the whole time, so clients wait in the kernel's
  backlog while a runtime restarts instead of being refused;
* logs why a runtime died (``exit 1``, ``killed by SIGSEGV``; the runtime
  prints where, with :mod:`faulthandler`) and starts a new one: at once after
  a first crash, then after a delay that doubles while crashes come less than
  ``STABLE_SECONDS`` apart (capped at ``MAX_DELAY``);
* passes SIGTERM and SIGINT on as messages, not signals: when a whole process
  group is signalled (Ctrl-C, systemd's default ``KillMode``) the runtime
  must see one stop, not two (a second signal means "exit now");
* exits with the runtime's status when the runtime stops on request, or when
  it dies before it was ever ready (a model that crashes while loading would
  only crash again): orchestrators see those failures as they are.

The modules, in the order a serve goes through them:

* :mod:`~cogrt.supervisor.entry`: decides whether to supervise, forks the
  first runtime and execs the minimal supervisor image;
* :mod:`~cogrt.supervisor.loop`: the supervisor in that image, watching
  runtimes, passing stops on and spawning the next runtime after a crash;
* :mod:`~cogrt.supervisor.policy`: how it names an exit, how long it waits
  before a restart, and its log lines;
* :mod:`~cogrt.supervisor.link`: the runtime's side (socket, readiness, stop
  requests, crash journal), imported by the CLI, not from here.

The exec'd image loads ``loop`` and ``policy`` without running this file.
"""

from __future__ import annotations

from cogrt.supervisor.entry import Inheritance, inherited, main, start, supervision_wanted
from cogrt.supervisor.policy import MAX_DELAY, STABLE_SECONDS, describe_exit, restart_delay

__all__ = [
    "MAX_DELAY",
    "STABLE_SECONDS",
    "Inheritance",
    "describe_exit",
    "inherited",
    "main",
    "restart_delay",
    "start",
    "supervision_wanted",
]
