#!/usr/bin/env bash
# Start or stop a background emulator for tests and the demo.
#   tools/emulator.sh start DIR [WORLD]   start it on a free loopback port; DIR/endpoint holds host:port
#   tools/emulator.sh stop DIR            stop it (idempotent)
# DIR also holds the state file, the log and (for host-side tests) the metadata unix socket.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${repo}/.venv/bin/python"
export PYTHONPATH="${repo}"
command="${1:?usage: emulator.sh start|stop DIR [WORLD]}"
dir="${2:?usage: emulator.sh start|stop DIR [WORLD]}"
world="${3:-}"
mkdir -p "${dir}"

# Whether PID is the emulator started for DIR (its command line names DIR's state file).
is_ours() {
    local cmdline
    cmdline="$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
    [[ "${cmdline}" == *"-m tests.emulator "*"--state ${dir}/state.json"* ]]
}

case "${command}" in
start)
    "$0" stop "${dir}"
    rm -f "${dir}/endpoint" "${dir}/state.json"
    args=(--port 0 --state "${dir}/state.json" --ready-file "${dir}/endpoint")
    if [[ -n "${world}" ]]; then args+=(--world "${world}"); fi
    if "${python}" -m tests.emulator --help | grep -q -- --metadata-socket; then
        args+=(--metadata-socket "${dir}/metadata.sock")
    fi
    # The whole background job is redirected (not only the emulator inside it), so that no process keeps the
    # caller's stdout open: callers read the endpoint with $(emulator.sh start ...), which waits for EOF.
    # exec makes the recorded PID the emulator's own, so that `stop` ends the emulator and not a wrapper.
    # setsid gives the emulator a session of its own: started from an Ansible task (the molecule labs), it would
    # otherwise share the task worker's process group, which ansible-core kills when a play ends while that
    # worker is still exiting (issue 9 item 17). In this non-interactive shell the background job is no group
    # leader, so setsid does not fork and the PID stays the emulator's.
    (cd "${repo}" && exec setsid env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy \
        PYTHONPATH="${repo}" nohup "${python}" -m tests.emulator "${args[@]}") >"${dir}/emulator.log" 2>&1 </dev/null &
    pid=$!
    echo "${pid}" >"${dir}/pid"
    # The emulator writes the endpoint once it listens. Bounded wait, generous for a loaded machine.
    timeout="${EMULATOR_START_TIMEOUT:-60}"
    for _ in $(seq 1 $((timeout * 10))); do
        if [[ -s "${dir}/endpoint" ]]; then
            cat "${dir}/endpoint"
            exit 0
        fi
        kill -0 "${pid}" 2>/dev/null || break
        sleep 0.1
    done
    echo "emulator.sh: the emulator (pid ${pid}) did not write ${dir}/endpoint within ${timeout}s or exited; log follows" >&2
    cat "${dir}/emulator.log" >&2
    exit 1
    ;;
stop)
    if [[ -f "${dir}/pid" ]]; then
        pid="$(cat "${dir}/pid")"
        # Only the emulator of this DIR: a stale pid file's number may belong to another process by now.
        if is_ours "${pid}"; then
            kill "${pid}"
            for _ in $(seq 1 50); do is_ours "${pid}" || break; sleep 0.1; done
        fi
        rm -f "${dir}/pid"
    fi
    ;;
*)
    echo "usage: emulator.sh start|stop DIR [WORLD]" >&2
    exit 2
    ;;
esac
