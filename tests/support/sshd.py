"""A real OpenSSH server for tests: Debian ``openssh-server``'s sshd on 127.0.0.1, stopped by the test.

Temporary host key and client key (``ssh-keygen``), an authorized key, a
known_hosts file with the host key, and the SFTP subsystem. Key auth only.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def available() -> bool:
    return Path(SSHD).is_file() and shutil.which("ssh-keygen") is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


@dataclass
class Sshd:
    port: int
    user: str
    client_key: Path
    known_hosts: Path
    wrong_known_hosts: Path
    proc: subprocess.Popen

    def url(self, path: Path | str) -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start(folder: Path) -> Sshd:
    """Start sshd on a free loopback port with keys under ``folder``; wait until it accepts connections."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    host_pub = _keygen(folder / "host_ed25519")
    client_pub = _keygen(folder / "client_ed25519")
    other_pub = _keygen(folder / "other_host_ed25519")
    (folder / "authorized_keys").write_text(client_pub + "\n")
    os.chmod(folder / "authorized_keys", 0o600)
    port = free_port()
    host_type, host_key = host_pub.split()[:2]
    (folder / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_type} {host_key}\n")
    (folder / "wrong_known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(other_pub.split()[:2])}\n")
    config = folder / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {folder / 'host_ed25519'}",
        f"AuthorizedKeysFile {folder / 'authorized_keys'}", f"PidFile {folder / 'sshd.pid'}",
        "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
        "PermitRootLogin prohibit-password", "UsePAM no", "StrictModes no", "Subsystem sftp internal-sftp",
        "LogLevel ERROR", ""]))
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL,
                            stderr=open(folder / "sshd.log", "wb"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited: {(folder / 'sshd.log').read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(4).startswith(b"SSH"):
                    break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("sshd did not start listening")
    return Sshd(port, getpass.getuser(), folder / "client_ed25519", folder / "known_hosts",
                folder / "wrong_known_hosts", proc)
