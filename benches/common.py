"""What the benches that start a server share: a free port, and waiting until the server answers."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_answers(url: str, proc: subprocess.Popen, timeout: float) -> float:
    """Poll `url` until it answers 200; the seconds waited. RuntimeError if the server exits or stays silent."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the server did not answer at {url} within {timeout:g} s")


def machine() -> dict[str, object]:
    return {"nproc": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}
