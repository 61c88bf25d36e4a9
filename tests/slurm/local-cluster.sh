#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for `just test-slurm` and the ignored
# integration test: Debian's slurmctld, slurmd and munge, no systemd (proctrack/linuxproc,
# task/none), state under $PRISM_SLURM_DIR (default /tmp/prism-slurm).
#
#   tests/slurm/local-cluster.sh install   # apt packages (root; once per machine)
#   tests/slurm/local-cluster.sh start     # config, munge key, daemons; waits for the node
#   tests/slurm/local-cluster.sh stop
set -euo pipefail

DIR=${PRISM_SLURM_DIR:-/tmp/prism-slurm}
CONF_DIR=/etc/slurm
HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))

install() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
        return
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurmctld slurmd slurm-client munge >/dev/null
}

start() {
    install
    stop_quietly
    mkdir -p "$DIR"/{state,spool,log} /run/munge /var/log/munge /var/lib/munge "$CONF_DIR"
    # munge: a key, owned by the user munged runs as.
    local munge_user=munge
    id munge >/dev/null 2>&1 || munge_user=root
    if [ ! -s /etc/munge/munge.key ]; then
        mkdir -p /etc/munge
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
    fi
    chown -R "$munge_user" /etc/munge /run/munge /var/log/munge /var/lib/munge
    chmod 700 /etc/munge; chmod 400 /etc/munge/munge.key
    if [ "$munge_user" = root ]; then munged --force; else su -s /bin/sh munge -c "munged --force"; fi

    cat > "$CONF_DIR/slurm.conf" <<CONF
ClusterName=prism
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=600
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
    slurmctld -c   # -c: a clean start, no state from an earlier cluster
    slurmd
    for _ in $(seq 60); do
        if sinfo -h -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
            sinfo
            return
        fi
        sleep 1
    done
    echo "local-cluster: the node did not come up; logs in $DIR/log" >&2
    sinfo >&2 || true
    exit 1
}

stop_quietly() {
    pkill -x slurmd 2>/dev/null || true
    pkill -x slurmctld 2>/dev/null || true
    pkill -x munged 2>/dev/null || true
    sleep 1
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop_quietly ;;
    *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
