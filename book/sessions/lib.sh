# Sourced by every recorded session (book/sessions/*.sh); run them with
# `cargo xtask sessions`, which compares what they print with the recording
# the book includes (book/sessions/*.txt), and `--update` re-records.
#
# A session runs in a fresh directory inside target/, so `cargo run -p ...`
# finds the workspace and `data/` starts empty. What a reader types is shown
# as `$ command` and then run; what a reader would run in another terminal
# is started in the background with its output kept in a log, shown with
# `log` when the book shows it. Everything started is stopped at the end.

set -u

SESSION_LOGS=${SESSION_LOGS:-$(mktemp -d)}
mkdir -p "$SESSION_LOGS"
# curl prints a progress meter when its output is not a terminal; in a
# reader's terminal it would not.
export CURL_HOME="$SESSION_LOGS/curl"
mkdir -p "$CURL_HOME"
echo 'no-progress-meter' >"$CURL_HOME/.curlrc"
declare -A session_pids=()

# show 'command': print it as typed, then run it (stderr too, as a terminal
# would). In this shell, so `TOKEN=$(...)` stays set for the next command.
# Output that does not end its last line (curl's JSON) gets a line break,
# so the next prompt starts on a line of its own.
show() {
    printf '$ %s\n' "$1"
    local out="$SESSION_LOGS/.show-output"
    { eval "$1"; } >"$out" 2>&1
    cat "$out"
    if [ -s "$out" ] && [ -n "$(tail -c 1 "$out")" ]; then
        echo
    fi
}

# typed: `show` for the command on stdin, as the book prints it (from a
# quoted here-document, so JSON bodies need no escaping).
typed() { show "$(cat)"; }

# until_true 'command' [seconds]: wait, unshown, until the command succeeds
# (an event has arrived, say).
until_true() {
    local seconds=${2:-30}
    for _ in $(seq 1 $((seconds * 10))); do
        if { eval "$1"; } >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    echo "session: gave up after ${seconds} s waiting for: $1" >&2
    exit 1
}

# quietly 'command': run without showing (setup a reader already did).
quietly() {
    { eval "$1"; } >/dev/null 2>&1
}

# `cargo run -p PACKAGE [--bin NAME] [-- ARGS]`, as the book shows it, runs
# the binary cargo built for the tests (`cargo xtask sessions` builds them
# and sets SESSION_BIN_DIR): the same code, built once with the features
# the whole workspace resolves, where a `cargo run` per package would
# resolve fewer features and compile most of the workspace again, once for
# each package. Any other cargo command is cargo's.
cargo() {
    if [ "${1:-}" != run ] || [ -z "${SESSION_BIN_DIR:-}" ]; then
        command cargo "$@"
        return
    fi
    shift
    local package='' bin=''
    while [ $# -gt 0 ]; do
        case $1 in
        -p | --package) package=$2 && shift 2 ;;
        --bin) bin=$2 && shift 2 ;;
        --) shift && break ;;
        *)
            echo "session: \`cargo run $1\` is not supported here" >&2
            return 2
            ;;
        esac
    done
    local program="$SESSION_BIN_DIR/${bin:-$package}"
    if [ -n "${SESSION_EXEC:-}" ]; then
        exec "$program" "$@"
    fi
    "$program" "$@"
}
export -f cargo

# start NAME 'command': show it, then run it in the background, as in a
# second terminal. Its own process group, so `stop` reaches every child
# (cargo and the program it runs), as Ctrl-C in a terminal would.
start() {
    local name=$1
    printf '$ %s\n' "$2"
    SESSION_EXEC=1 setsid bash -c "$2" >"$SESSION_LOGS/$name.log" 2>&1 &
    session_pids[$name]=$!
    # Out of this shell's job table: a program the session kills on
    # purpose (`kill -9` in chapter 3) must not make this shell print
    # "Killed" into whatever command it runs next. `stop` polls the pid.
    disown "$!"
    echo 0 >"$SESSION_LOGS/.$name.shown"
}

# start_quietly NAME 'command': the same, without showing the command.
start_quietly() {
    SESSION_EXEC=1 setsid bash -c "$2" >"$SESSION_LOGS/$1.log" 2>&1 &
    session_pids[$1]=$!
    disown "$!"
    echo 0 >"$SESSION_LOGS/.$1.shown"
}

# wait_for NAME 'extended regex' [seconds]: until NAME's log has a matching line.
wait_for() {
    local name=$1 pattern=$2 seconds=${3:-180}
    for _ in $(seq 1 $((seconds * 10))); do
        if grep -Eq -- "$pattern" "$SESSION_LOGS/$name.log" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "session: gave up waiting ${seconds} s for /$pattern/ in $name's log" >&2
    cat "$SESSION_LOGS/$name.log" >&2
    exit 1
}

# wait_for_count NAME RE COUNT [SECONDS]: like wait_for, until RE has
# matched COUNT lines (for lines that differ each run, such as jittered waits).
wait_for_count() {
    local name=$1 pattern=$2 count=$3 seconds=${4:-180}
    local seen
    for _ in $(seq 1 $((seconds * 10))); do
        seen=$(grep -Ec -- "$pattern" "$SESSION_LOGS/$name.log" 2>/dev/null || true)
        if [ "${seen:-0}" -ge "$count" ]; then
            return 0
        fi
        sleep 0.1
    done
    echo "session: gave up waiting ${seconds} s for ${count} lines /$pattern/ in $name's log" >&2
    cat "$SESSION_LOGS/$name.log" >&2
    exit 1
}

# log NAME [--grep RE] [--without RE]: the lines NAME printed since the
# last `log NAME`, without cargo's own progress lines.
log() {
    local name=$1
    shift
    local keep='' drop=''
    while [ $# -gt 0 ]; do
        case $1 in
        --grep) keep=$2 ;;
        --without) drop=$2 ;;
        esac
        shift 2
    done
    # How far the log has been shown is kept in a file, not a variable,
    # so `log NAME | filter` (which runs `log` in a subshell) counts too.
    local file="$SESSION_LOGS/$name.log" mark="$SESSION_LOGS/.$name.shown"
    local from total
    from=$(($(cat "$mark" 2>/dev/null || echo 0) + 1))
    total=$(wc -l <"$file")
    echo "$total" >"$mark"
    tail -n "+$from" "$file" | head -n $((total - from + 1)) |
        grep -Ev '^ *(Compiling|Finished|Running|Blocking|Building) ' |
        { if [ -n "$keep" ]; then grep -E -- "$keep"; else cat; fi; } |
        { if [ -n "$drop" ]; then grep -Ev -- "$drop"; else cat; fi; } || true
}

# stop NAME [SIGNAL]: signal the process group (INT is Ctrl-C) and wait for it.
stop() {
    local name=$1 signal=${2:-INT}
    local pid=${session_pids[$name]:-}
    [ -n "$pid" ] || return 0
    kill -s "$signal" -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "session: $name did not stop within 30 s of SIG$signal; killing it" >&2
        kill -s KILL -- "-$pid" 2>/dev/null || true
    fi
    unset "session_pids[$name]"
}

# forget_bookshop_queues [more queues]: start from a broker that has not
# seen Bookshop (the launcher's services declare these queues, and RabbitMQ
# keeps them, and their messages, between runs).
forget_bookshop_queues() {
    local queue
    for queue in notifications.orders notifications.orders.dead-letter \
        inventory.orders inventory.orders.dead-letter "$@"; do
        quietly "rabbitmqctl -q delete_queue $queue"
    done
}

# Anchors the book includes (`{{#include sessions/x.txt:name}}`).
begin() { echo "ANCHOR: $1"; }
end() { echo "ANCHOR_END: $1"; }

# Lines between these are compared in any order (services starting at once
# interleave their logs differently on every run).
any_order() { echo "ANCHOR: any-order"; }
end_any_order() { echo "ANCHOR_END: any-order"; }

# Numbers between these are compared as "a number" (measurements).
figures() { echo "ANCHOR: figures"; }
end_figures() { echo "ANCHOR_END: figures"; }

stop_everything() {
    local name
    for name in "${!session_pids[@]}"; do
        stop "$name" INT
    done
}
trap stop_everything EXIT
