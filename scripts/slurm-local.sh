#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for trying the lab's `slurm` executor and for CI
# (recipe: ../shared/docs/stack-notes.md, "Slurm on one machine").
#
#   npm run slurm:local -- start     start munged, slurmctld and slurmd (writes /etc/slurm/slurm.conf if absent)
#   npm run slurm:local -- status    which daemons run, and sinfo
#   npm run slurm:local -- stop      stop the daemons this script started (by their pid files)
#
# Idempotent: start skips what already runs, stop skips what is not running. Needs root (it starts system
# daemons) and the Debian packages `slurm-wlm` and `munge`. A slurm.conf that this script did not write is
# used as it is, never overwritten.
set -euo pipefail

CONF=/etc/slurm/slurm.conf
MARK="# written by lst-lab scripts/slurm-local.sh"
MUNGE_PID=/run/munge/munged.pid
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid

need_install() {
  echo "Slurm is not installed on this machine. Install it with:" >&2
  echo "  sudo apt-get install -y slurm-wlm munge" >&2
  exit 2
}

alive() { # alive <pidfile>: the daemon named in the pid file runs (a stale file whose pid was reused does not count)
  local p
  p=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$(basename "$1" .pid)" ]
}

write_conf() {
  local host node
  host=$(hostname)
  # the node line: the first line of `slurmd -C` (CPUs, sockets, cores, threads, RealMemory of this machine)
  node=$(slurmd -C | head -n 1)
  mkdir -p /etc/slurm
  cat >"$CONF" <<EOF
$MARK
ClusterName=ci
SlurmctldHost=$host
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
$node State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
  command -v slurmctld >/dev/null 2>&1 && command -v munged >/dev/null 2>&1 || need_install
  [ "$(id -u)" -eq 0 ] || { echo "slurm:local start needs root (it starts munged, slurmctld and slurmd)" >&2; exit 2; }
  mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
  chown munge:munge /run/munge
  chown slurm:slurm /var/spool/slurmctld /var/log/slurm
  if [ ! -f "$CONF" ]; then
    write_conf
    echo "wrote $CONF"
  elif ! grep -qF "$MARK" "$CONF"; then
    echo "using the existing $CONF (not written by this script)"
  fi
  if alive "$MUNGE_PID"; then echo "munged runs (pid $(cat "$MUNGE_PID"))"; else runuser -u munge -- /usr/sbin/munged; echo "started munged"; fi
  if alive "$CTLD_PID"; then echo "slurmctld runs (pid $(cat "$CTLD_PID"))"; else /usr/sbin/slurmctld; echo "started slurmctld"; fi
  if alive "$SLURMD_PID"; then echo "slurmd runs (pid $(cat "$SLURMD_PID"))"; else /usr/sbin/slurmd; echo "started slurmd"; fi
  # wait until the node takes jobs (idle, mixed or allocated)
  for _ in $(seq 1 60); do
    if sinfo -h -o "%t" 2>/dev/null | grep -Eq '^(idle|mix|alloc)'; then
      sinfo
      return 0
    fi
    sleep 1
  done
  echo "the Slurm node did not come up within 60 s; see /var/log/slurm/slurmctld.log and slurmd.log" >&2
  sinfo >&2 || true
  exit 1
}

stop_one() { # stop_one <name> <pidfile>
  if alive "$2"; then
    kill "$(cat "$2")"
    for _ in $(seq 1 20); do alive "$2" || break; sleep 0.5; done
    echo "stopped $1"
  else
    echo "$1 is not running"
  fi
}

stop() {
  stop_one slurmd "$SLURMD_PID"
  stop_one slurmctld "$CTLD_PID"
  stop_one munged "$MUNGE_PID"
}

status() {
  command -v slurmctld >/dev/null 2>&1 || need_install
  local down=0
  for d in "munged $MUNGE_PID" "slurmctld $CTLD_PID" "slurmd $SLURMD_PID"; do
    set -- $d
    if alive "$2"; then echo "$1: running (pid $(cat "$2"))"; else echo "$1: not running"; down=1; fi
  done
  if [ "$down" -eq 0 ]; then sinfo; else echo "start it with: npm run slurm:local -- start"; exit 1; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: npm run slurm:local -- start|stop|status" >&2; exit 2 ;;
esac
