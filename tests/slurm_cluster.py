"""A one-node SLURM cluster on localhost for tests: Debian's packages, started and stopped by PID.

``install()`` installs ``slurmctld slurmd slurm-client munge`` with apt-get when
missing. ``Cluster`` writes ``/etc/slurm/slurm.conf`` (the jobstep plugin
strips ``SLURM_CONF``, so jobs only find the config there), starts munged,
slurmctld and slurmd in the foreground as child processes, and stops exactly
those processes again. There is no accounting (no slurmdbd): job status comes
from ``squeue``, and jobs stay visible there for ``MinJobAge`` seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

PACKAGES = ["slurmctld", "slurmd", "slurm-client", "munge"]
PROGRAMS = ["munged", "munge", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol", "scancel"]
SLURM_CONF = Path("/etc/slurm/slurm.conf")
GRES_CONF = Path("/etc/slurm/gres.conf")
MARKER = "# Written by isoflat's SLURM test (tests/slurm_cluster.py); removed when the test ends."
MUNGE_SOCKET_DIR = Path("/run/munge")
MUNGE_KEY = Path("/etc/munge/munge.key")


class ClusterUnavailable(RuntimeError):
    """SLURM cannot be installed or run on this machine (the test skips with this message)."""


def program(name: str) -> str | None:
    """Path of a program; daemons live in /usr/sbin, which a user's PATH may lack."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def missing_programs() -> list[str]:
    return [p for p in PROGRAMS if program(p) is None]


def install(timeout: float = 600) -> None:
    """Install Debian's SLURM and munge packages when a program is missing.

    Raises:
      ClusterUnavailable: not root, no apt-get, or apt-get failed (its output's tail is included).
    """
    missing = missing_programs()
    if not missing:
        return
    if os.geteuid() != 0:
        raise ClusterUnavailable(f"SLURM programs {missing} are missing and installing them needs root")
    if shutil.which("apt-get") is None:
        raise ClusterUnavailable(f"SLURM programs {missing} are missing and there is no apt-get to install them")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES],
    ):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
        if proc.returncode != 0:
            raise ClusterUnavailable(
                f"{' '.join(cmd)} failed ({proc.returncode}):\n{(proc.stdout + proc.stderr)[-2000:]}"
            )
    if missing_programs():
        raise ClusterUnavailable(f"SLURM programs {missing_programs()} are still missing after apt-get install")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def slurm_conf(node: str, state: Path, cpus: int, ctld_port: int, slurmd_port: int) -> str:
    """slurm.conf of a one-node cluster without accounting or cgroups (they are unavailable in containers).

    The node declares two GPUs as a generic resource (backed by /dev/null and /dev/zero):
    jobs asking for ``--gres=gpu:1`` are scheduled as on a GPU node.
    ``SlurmdParameters=config_overrides`` lets the node claim ``cpus`` and 64 GB
    whatever the machine has.
    """
    return f"""{MARKER}
ClusterName=isoflat-test
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={state}/ctld
SlurmdSpoolDir={state}/spool
SlurmctldPidFile={state}/slurmctld.pid
SlurmdPidFile={state}/slurmd.pid
SlurmctldLogFile={state}/slurmctld.log
SlurmdLogFile={state}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
GresTypes=gpu
ReturnToService=2
MinJobAge=600
NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=64000 Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


def gres_conf(node: str) -> str:
    # Each GPU needs a device file; these two exist everywhere.
    gpus = "".join(f"NodeName={node} Name=gpu File={dev}\n" for dev in ("/dev/null", "/dev/zero"))
    return f"{MARKER}\nAutoDetect=off\n{gpus}"


def munge_works() -> bool:
    """Whether a munged answers on the default socket."""
    try:
        cred = subprocess.run(["munge", "-n"], capture_output=True, timeout=10)
        return (
            cred.returncode == 0 and subprocess.run(["unmunge"], input=cred.stdout, capture_output=True).returncode == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


def _tail(path: Path, n: int = 3000) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else f"({path} missing)"


class Cluster:
    """Start with ``start()``, stop with ``stop()`` (also after a failed start)."""

    def __init__(self, state: Path):
        self.state = state
        self.node = socket.gethostname().split(".")[0]
        self.procs: dict[str, subprocess.Popen] = {}
        self.wrote_conf: list[Path] = []

    def _check_conf_is_ours(self) -> None:
        for path in (SLURM_CONF, GRES_CONF):
            if path.exists() and MARKER not in path.read_text(errors="replace"):
                raise ClusterUnavailable(f"{path} exists and was not written by this test: not overwriting it")

    def _spawn(self, name: str, cmd: list[str], **kwargs) -> None:
        out = open(self.state / f"{name}.out", "w")  # noqa: SIM115 (closed with the process)
        self.procs[name] = subprocess.Popen([program(cmd[0]), *cmd[1:]], stdout=out, stderr=subprocess.STDOUT, **kwargs)

    def start(self, timeout: float = 60) -> None:
        if os.geteuid() != 0:
            raise ClusterUnavailable("slurmd must run as root to start jobs as their user")
        self._check_conf_is_ours()
        (self.state / "ctld").mkdir(parents=True, exist_ok=True)
        (self.state / "spool").mkdir(parents=True, exist_ok=True)
        # Twice the cores: a job spends seconds starting Python and waiting to be
        # polled, so a little oversubscription keeps the machine busy.
        cpus = 2 * (os.cpu_count() or 1)
        SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SLURM_CONF.write_text(slurm_conf(self.node, self.state, cpus, free_port(), free_port()))
        GRES_CONF.write_text(gres_conf(self.node))
        self.wrote_conf = [SLURM_CONF, GRES_CONF]
        if not munge_works():
            self._start_munge()
        self._spawn("slurmctld", ["slurmctld", "-D", "-i"])
        self._spawn("slurmd", ["slurmd", "-D", "-N", self.node])
        self._wait_idle(timeout)

    def _start_munge(self) -> None:
        if not MUNGE_KEY.exists():
            subprocess.run(["mungekey", "--create"], check=True, user="munge", group="munge")
        MUNGE_SOCKET_DIR.mkdir(parents=True, exist_ok=True)
        shutil.chown(MUNGE_SOCKET_DIR, "munge", "munge")
        # munged refuses to run as root; as user munge it owns its key and seed files.
        self._spawn("munged", ["munged", "-F"], user="munge", group="munge")
        deadline = time.monotonic() + 15
        while not munge_works():
            if time.monotonic() > deadline or self.procs["munged"].poll() is not None:
                raise RuntimeError(f"munged did not start:\n{_tail(self.state / 'munged.out')}")
            time.sleep(0.2)

    def _wait_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited ({proc.returncode}):\n{_tail(self.state / f'{name}.out')}")
            sinfo = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True)
            state = sinfo.stdout.strip()
            if state == "idle":
                return
            time.sleep(0.5)
        raise RuntimeError(
            f"the node is {state!r}, not idle, after {timeout:g} s:\n"
            f"{_tail(self.state / 'slurmctld.log')}\n{_tail(self.state / 'slurmd.log')}"
        )

    def job_ids(self) -> list[int]:
        """Ids of the jobs slurmctld has seen complete, from its log."""
        log = (self.state / "slurmctld.log").read_text(errors="replace")
        return sorted({int(j) for j in re.findall(r"_job_complete: JobId=(\d+) done", log)})

    def stop(self) -> None:
        """Cancel leftover jobs, stop the daemons this object started (by PID), remove the configs it wrote."""
        if "slurmctld" in self.procs and self.procs["slurmctld"].poll() is None:
            # Every job on this private cluster is the test's: end them before their slurmd.
            subprocess.run(["scancel", "--full", "--partition=debug"], capture_output=True, timeout=30)
            deadline = time.monotonic() + 30
            while (
                time.monotonic() < deadline
                and subprocess.run(["squeue", "-h"], capture_output=True, text=True).stdout.strip()
            ):
                time.sleep(0.5)
        for name in ("slurmd", "slurmctld", "munged"):
            proc = self.procs.get(name)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for path in self.wrote_conf:
            path.unlink(missing_ok=True)
        self.wrote_conf = []
