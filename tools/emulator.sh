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
    (cd "${repo}" && exec env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy \
        PYTHONPATH="${repo}" nohup "${python}" -m tests.emulator "${args[@]}") >"${dir}/emulator.log" 2>&1 </dev/null &
    echo $! >"${dir}/pid"
    for _ in $(seq 1 100); do
        if [[ -s "${dir}/endpoint" ]]; then
            cat "${dir}/endpoint"
            exit 0
        fi
        sleep 0.1
    done
    echo "emulator did not start; log follows" >&2
    cat "${dir}/emulator.log" >&2
    exit 1
    ;;
stop)
    if [[ -f "${dir}/pid" ]]; then
        pid="$(cat "${dir}/pid")"
        if kill -0 "${pid}" 2>/dev/null; then
            kill "${pid}"
            for _ in $(seq 1 50); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.1; done
        fi
        rm -f "${dir}/pid"
    fi
    ;;
*)
    echo "usage: emulator.sh start|stop DIR [WORLD]" >&2
    exit 2
    ;;
esac
