# Shared by the infra/local scripts: free ports, waiting, and stopping by PID.
# shellcheck shell=bash

# free_port: prints a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  python3 - <<'PY' 2>/dev/null || node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# alive PID: true while the process runs. A zombie (killed, not yet reaped by its parent: this
# machine's init reaps late, and a container without an init never does) answers kill -0 but is
# dead, and must not be taken for a running broker or a process still to wait for.
alive() {
  local pid=$1 state
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null || true)
  [ "$state" != Z ]
}

# stop_pid FILE [SIGNAL]: stops the process whose PID is in FILE (only that one) and waits for it.
stop_pid() {
  local file=$1 sig=${2:-TERM} pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if alive "$pid"; then
    kill "-$sig" "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; sleep 0.2; fi
  fi
  rm -f "$file"
}

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
