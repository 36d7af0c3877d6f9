#!/bin/sh
# Connections per second through three superservers on loopback, with one client:
# vinit's, Debian's xinetd and Debian's openbsd-inetd, rate limits lifted on all three;
# and, as the ceiling for starting programs, a bare accept + posix_spawn loop.
#
#   benches/superserver.sh            (as root; needs apt-get, dpkg-deb, cc)
#
# Services on each: a fork/exec nowait service running /bin/cat; the same with a cat
# built without libc (x86-64 only), whose start costs little beyond the exec itself, so
# the superserver's own cost shows; and the internal echo. Each is measured with one
# client opening connections one after another, then with 4 client processes at once.
# Every run goes through the servers in turn; the figures are medians over RUNS runs.
# Also reported: each superserver's resident memory.
#
# Environment: RUNS (5), EXEC_SERIAL (1500), EXEC_PARALLEL (600 per client),
# ECHO_SERIAL (6000), ECHO_PARALLEL (3000 per client), CARGO (cargo), BENCH_DIR
# (a fresh temporary directory). Peers are fetched into BENCH_DIR with apt-get download
# and unpacked there; nothing is installed and no system service is enabled.
set -eu

RUNS=${RUNS:-5}
EXEC_SERIAL=${EXEC_SERIAL:-1500}
EXEC_PARALLEL=${EXEC_PARALLEL:-600}
ECHO_SERIAL=${ECHO_SERIAL:-6000}
ECHO_PARALLEL=${ECHO_PARALLEL:-3000}
CARGO=${CARGO:-cargo}
REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-$(mktemp -d /tmp/superserver-bench.XXXXXX)}
ADDR=127.0.0.1

# Ports: vinit, xinetd, openbsd-inetd, bare loops. openbsd-inetd finds its internal
# services by name only, so its echo is on the echo port from /etc/services (7).
OURS_CAT=31001 OURS_ECHO=31002 OURS_TINY=31003
XI_CAT=31011 XI_ECHO=31012 XI_TINY=31013
OB_CAT=31021 OB_ECHO=7 OB_TINY=31023
BARE_CAT=31031 BARE_TINY=31033

PIDS=""
cleanup() {
    for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

say() { printf '%s\n' "$*" >&2; }

# --- build and fetch ------------------------------------------------------------------
say "building vinit (release)"
(cd "$REPO" && $CARGO build --release --quiet)
VINIT=$REPO/target/release/vinit

mkdir -p "$WORK/debs" "$WORK/peers"
cd "$WORK/debs"
if [ ! -x "$WORK/peers/usr/sbin/xinetd" ] || [ ! -x "$WORK/peers/usr/sbin/inetd" ]; then
    say "fetching xinetd, openbsd-inetd and libwrap0 into $WORK"
    apt-get download xinetd openbsd-inetd libwrap0 >/dev/null 2>&1
    for deb in ./*.deb; do dpkg-deb -x "$deb" "$WORK/peers"; done
fi
PEER_LIBS=$WORK/peers/usr/lib/x86_64-linux-gnu:$WORK/peers/lib/x86_64-linux-gnu
cc -O2 -o "$WORK/client" "$REPO/benches/superserver_client.c"
cc -O2 -o "$WORK/bare" "$REPO/benches/superserver_bare.c"
CLIENT=$WORK/client
TINY=
if [ "$(uname -m)" = x86_64 ]; then
    cc -O2 -static -nostdlib -fno-stack-protector -o "$WORK/tinycat" "$REPO/benches/superserver_tinycat.c"
    TINY=$WORK/tinycat
fi

# --- configurations -------------------------------------------------------------------
mkdir -p "$WORK/vinit/etc" "$WORK/vinit/run"
exec_service() { # name port program
    printf 'service %s\n{\n\ttype        = UNLISTED\n\tport        = %s\n\tbind        = %s\n' "$1" "$2" "$ADDR"
    printf '\tsocket_type = stream\n\twait        = no\n\tuser        = root\n\tserver      = %s\n}\n' "$3"
}
xinetd_conf() { # cat-port echo-port tiny-port
    printf 'defaults\n{\n\tinstances      = UNLIMITED\n\tper_source     = UNLIMITED\n'
    printf '\tcps            = 1000000 1\n\tlog_on_success =\n\tlog_on_failure =\n}\n'
    exec_service cat-bench "$1" /bin/cat
    [ -z "$TINY" ] || exec_service tiny-bench "$3" "$TINY"
    printf 'service echo\n{\n\ttype        = INTERNAL UNLISTED\n\tport        = %s\n' "$2"
    printf '\tbind        = %s\n\tsocket_type = stream\n\twait        = no\n}\n' "$ADDR"
}
xinetd_conf $OURS_CAT $OURS_ECHO $OURS_TINY >"$WORK/vinit/etc/xinetd.conf"
xinetd_conf $XI_CAT $XI_ECHO $XI_TINY >"$WORK/xinetd.conf"
{
    echo "$ADDR:"
    printf '%s\tstream\ttcp\tnowait.1000000\troot\t/bin/cat\tcat\n' $OB_CAT
    [ -z "$TINY" ] || printf '%s\tstream\ttcp\tnowait.1000000\troot\t%s\ttinycat\n' $OB_TINY "$TINY"
    printf 'echo\tstream\ttcp\tnowait.1000000\troot\tinternal\n'
} >"$WORK/inetd.conf"

# --- start the servers ----------------------------------------------------------------
port_free() { ! ss -ltn "( sport = :$1 )" | grep -q LISTEN; }
PORTS="$OURS_CAT $OURS_ECHO $XI_CAT $XI_ECHO $OB_CAT $OB_ECHO $BARE_CAT"
[ -z "$TINY" ] || PORTS="$PORTS $OURS_TINY $XI_TINY $OB_TINY $BARE_TINY"
for port in $PORTS; do
    port_free "$port" || { say "port $port is in use"; exit 1; }
done

"$VINIT" xinetd --root "$WORK/vinit" -dontfork -filelog "$WORK/vinit.log" 2>/dev/null &
OURS_PID=$!
PIDS="$PIDS $OURS_PID"
LD_LIBRARY_PATH=$PEER_LIBS "$WORK/peers/usr/sbin/xinetd" -dontfork -f "$WORK/xinetd.conf" \
    -pidfile "$WORK/xinetd.pid" -filelog "$WORK/xinetd.log" &
XI_PID=$!
PIDS="$PIDS $XI_PID"
# openbsd-inetd writes /run/inetd.pid: give it a private /run when possible.
if unshare -m sh -c 'mount -t tmpfs none /run' 2>/dev/null; then
    LD_LIBRARY_PATH=$PEER_LIBS unshare -m sh -c \
        "mount -t tmpfs none /run && exec '$WORK/peers/usr/sbin/inetd' -i '$WORK/inetd.conf'" &
else
    LD_LIBRARY_PATH=$PEER_LIBS "$WORK/peers/usr/sbin/inetd" -i "$WORK/inetd.conf" &
fi
OB_PID=$!
PIDS="$PIDS $OB_PID"
"$WORK/bare" $BARE_CAT /bin/cat &
PIDS="$PIDS $!"
if [ -n "$TINY" ]; then
    "$WORK/bare" $BARE_TINY "$TINY" &
    PIDS="$PIDS $!"
fi

for port in $PORTS; do
    tries=0
    while port_free "$port"; do
        tries=$((tries + 1))
        [ $tries -lt 200 ] || { say "nothing listens on $port"; exit 1; }
        sleep 0.05
    done
done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
RSS_IDLE="$(rss $OURS_PID) $(rss $XI_PID) $(rss $OB_PID)"

# --- measure --------------------------------------------------------------------------
RESULTS=$WORK/results
: >"$RESULTS"
measure() { # name port connections workers
    rate=$("$CLIENT" "$ADDR" "$2" "$3" "$4") || { say "$1: connections failed"; exit 1; }
    printf '%s %s\n' "$1" "$rate" >>"$RESULTS"
}
run=1
while [ $run -le "$RUNS" ]; do
    say "run $run of $RUNS"
    for server in ours xinetd openbsd bare; do
        case $server in
            ours) cat=$OURS_CAT echo=$OURS_ECHO tiny=$OURS_TINY ;;
            xinetd) cat=$XI_CAT echo=$XI_ECHO tiny=$XI_TINY ;;
            openbsd) cat=$OB_CAT echo=$OB_ECHO tiny=$OB_TINY ;;
            bare) cat=$BARE_CAT echo= tiny=$BARE_TINY ;;
        esac
        measure "$server.cat.serial" "$cat" "$EXEC_SERIAL" 1
        measure "$server.cat.parallel" "$cat" "$EXEC_PARALLEL" 4
        if [ -n "$TINY" ]; then
            measure "$server.tiny.serial" "$tiny" "$EXEC_SERIAL" 1
            measure "$server.tiny.parallel" "$tiny" "$EXEC_PARALLEL" 4
        fi
        if [ -n "$echo" ]; then
            measure "$server.echo.serial" "$echo" "$ECHO_SERIAL" 1
            measure "$server.echo.parallel" "$echo" "$ECHO_PARALLEL" 4
        fi
    done
    run=$((run + 1))
done
RSS_LOADED="$(rss $OURS_PID) $(rss $XI_PID) $(rss $OB_PID)"

median() {
    grep "^$1 " "$RESULTS" | awk '{print $2}' | sort -n |
        awk '{v[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2)}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b == "-" || b == 0) print "-"; else printf "%.2fx", a / b}'; }

printf '\nconnections per second on loopback, median of %s runs (load average %s)\n\n' \
    "$RUNS" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-30s %8s %8s %9s %8s %9s %9s %9s\n' "service, clients" vinit xinetd o-inetd bare "/xinetd" "/inetd" "/bare"
tests="cat.serial cat.parallel"
[ -z "$TINY" ] || tests="$tests tiny.serial tiny.parallel"
for test in $tests echo.serial echo.parallel; do
    o=$(median "ours.$test") x=$(median "xinetd.$test") b=$(median "openbsd.$test") r=$(median "bare.$test")
    case $test in
        cat.serial) label="fork/exec /bin/cat, 1" ;;
        cat.parallel) label="fork/exec /bin/cat, 4" ;;
        tiny.serial) label="fork/exec no-libc cat, 1" ;;
        tiny.parallel) label="fork/exec no-libc cat, 4" ;;
        echo.serial) label="internal echo, 1" ;;
        echo.parallel) label="internal echo, 4" ;;
    esac
    printf '%-30s %8s %8s %9s %8s %9s %9s %9s\n' "$label" "$o" "$x" "$b" "$r" \
        "$(ratio "$o" "$x")" "$(ratio "$o" "$b")" "$(ratio "$o" "$r")"
done
set -- $RSS_IDLE
printf '\nresident memory (KiB), idle:          vinit %s, xinetd %s, openbsd-inetd %s\n' "$1" "$2" "$3"
set -- $RSS_LOADED
printf 'resident memory (KiB), after the runs: vinit %s, xinetd %s, openbsd-inetd %s\n' "$1" "$2" "$3"
