#!/bin/sh
# Benchmark: messages per second from one local sender through /dev/log into one file,
# and how many are lost, for three syslogds in one run:
#   vinit      `vinit syslogd -n`, config `*.* -FILE`
#   rsyslog    Debian's rsyslogd -n, imuxsock on /dev/log, `*.* -FILE` (traditional format)
#   busybox    Debian's `busybox syslogd -n -O FILE`
# The sender is the same for all three: `vinit logger` reading N lines from stdin, one
# datagram per line on a blocking socket (as glibc's syslog() sends).
# Everything runs in a private mount namespace whose /dev is a scratch tmpfs (busybox's
# socket path is fixed at /dev/log), so nothing touches the host's /dev. rsyslog and
# busybox are fetched with apt-get download and unpacked into a scratch directory; only
# their library dependencies are installed. Needs root.
#
# A run ends when the file holds all N messages, or when it has not grown for 3 s
# (the rest is lost). Reported: median rate and loss of RUNS runs each, and ratios;
# then vinit and rsyslog again with a SIGHUP (reopen the files, reload the
# configuration) every 10 ms during the run.
#
# Usage: benches/syslog.sh [MESSAGES] [RUNS]
set -eu
n=${1:-200000}
runs=${2:-5}
cd "$(dirname "$0")/.."
${CARGO:-cargo} build --release --quiet
work=$(mktemp -d "${TMPDIR:-/tmp}/vinit-bench-syslog.XXXXXX")
trap 'rm -rf "$work"' EXIT

(
	cd "$work"
	apt-get download -qq rsyslog busybox >/dev/null 2>&1
	dpkg-deb -x rsyslog_*.deb peer
	dpkg-deb -x busybox_*.deb peer
)
libs=$(apt-cache depends rsyslog busybox 2>/dev/null | awk '/ Depends: lib/ {print $2}' | sort -u)
if [ -n "$libs" ]; then
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $libs >/dev/null
fi
cp target/release/vinit "$work/vinit"
# One line per message, numbered.
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "bench-msg %d payload payload payload\n", i }' > "$work/input"

cat > "$work/run.py" <<'PY'
import os, signal, socket, statistics, subprocess, sys, time

work, n, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
vinit = f"{work}/vinit"
out = f"{work}/out.log"
peer = f"{work}/peer"
rsyslog_mods = next(
    os.path.join(d, "rsyslog")
    for d in (f"{peer}/usr/lib/x86_64-linux-gnu", f"{peer}/usr/lib/aarch64-linux-gnu", f"{peer}/usr/lib")
    if os.path.isdir(os.path.join(d, "rsyslog"))
)
with open(f"{work}/vinit.conf", "w") as f:
    f.write(f"*.* -{out}\n")
with open(f"{work}/rsyslog.conf", "w") as f:
    f.write('module(load="imuxsock")\n')
    f.write(f"*.* -{out};RSYSLOG_TraditionalFileFormat\n")

daemons = {
    "vinit": [vinit, "syslogd", "-n", "--no-pidfile", "--no-kernel", "-f", f"{work}/vinit.conf"],
    "rsyslog": [f"{peer}/usr/sbin/rsyslogd", "-n", "-f", f"{work}/rsyslog.conf",
                "-M", rsyslog_mods, "-i", f"{work}/rsyslog.pid"],
    "busybox": [f"{peer}/bin/busybox", "syslogd", "-n", "-O", out],
}

def listening():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.connect("/dev/log")
        return True
    except OSError:
        return False
    finally:
        s.close()

def count(path, state):
    """Counts the benchmark lines appended since the last call."""
    try:
        with open(path, "rb") as f:
            f.seek(state["offset"])
            new = f.read()
    except FileNotFoundError:
        return state["lines"]
    state["offset"] += len(new)
    data = state["rest"] + new
    cut = data.rfind(b"\n") + 1
    state["lines"] += data[:cut].count(b"bench-msg")
    state["rest"] = data[cut:]
    return state["lines"]

def one_run(name, hup=False):
    for p in (out, "/dev/log"):
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
    d = subprocess.Popen(daemons[name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while not listening():
        if time.time() > deadline or d.poll() is not None:
            raise SystemExit(f"{name} did not start")
        time.sleep(0.01)
    time.sleep(0.3)  # let it finish starting (rsyslog opens its outputs after the socket)
    state = {"offset": 0, "lines": 0, "rest": b""}
    with open(f"{work}/input", "rb") as stdin:
        start = time.time()
        sender = subprocess.Popen([vinit, "logger", "-t", "bench"], stdin=stdin)
        if hup:
            # Reopen-and-reload every 10 ms while the sender runs.
            import threading
            def hupper():
                while sender.poll() is None:
                    d.send_signal(signal.SIGHUP)
                    time.sleep(0.01)
            threading.Thread(target=hupper, daemon=True).start()
        last, last_change = 0, time.time()
        while True:
            got = count(out, state)
            now = time.time()
            if got >= n:
                end = now
                break
            if got != last:
                last, last_change = got, now
            elif now - last_change > 3 and sender.poll() is not None:
                end = last_change
                break
            time.sleep(0.005)
        sender.wait()
    d.send_signal(signal.SIGTERM)
    try:
        d.wait(timeout=10)
    except subprocess.TimeoutExpired:
        d.kill()
        d.wait()
    got = count(out, state)
    return n / (end - start) if got >= n else got / (end - start), n - min(got, n)

results = {}
plan = [(name, False) for name in daemons] + [("vinit", True), ("rsyslog", True)]
for name, hup in plan:
    rates, losses = [], []
    for _ in range(runs):
        rate, lost = one_run(name, hup)
        rates.append(rate)
        losses.append(lost)
    label = name + (" +HUP/10ms" if hup else "")
    results[label] = (statistics.median(rates), statistics.median(losses), max(losses))
    r = results[label]
    print(f"{label:18} {r[0]:>10.0f} msg/s  lost: median {r[1]:.0f}, worst {r[2]} of {n}")
v = results["vinit"][0]
for peer_name in ("rsyslog", "busybox"):
    print(f"vinit / {peer_name} rate: {v / results[peer_name][0]:.2f}")
print(f"with SIGHUP every 10 ms, vinit / rsyslog rate: "
      f"{results['vinit +HUP/10ms'][0] / results['rsyslog +HUP/10ms'][0]:.2f}")
PY

export work n runs
unshare --mount --propagation private sh -eu <<'INNER'
mkdir -p "$work/hostdev"
mount --bind /dev "$work/hostdev"
mount -t tmpfs -o mode=755 tmpfs /dev
for node in null zero urandom random; do
	touch "/dev/$node"
	mount --bind "$work/hostdev/$node" "/dev/$node"
done
python3 "$work/run.py" "$work" "$n" "$runs"
INNER
