#!/bin/sh
# Benchmark: entering a runlevel of 200 trivial S scripts (no LSB headers: they keep
# their numeric places, two scripts per number), four ways, on the same tree, in one run:
#   vinit      `vinit rc --sequential 3` (one at a time, the goal: at the cost of a bare loop)
#   vinit -j   `vinit rc 3` (concurrent: the two scripts of each number together)
#   sysv-rc    Debian's /etc/init.d/rc 3 (package sysv-rc, sequential mode)
#   bare loop  `for s in /etc/rc3.d/S*; do "$s" start; done` in sh
# Each runs chrooted into the same scratch root (the host's /usr bind-mounted read-only),
# so Debian's rc sees the tree at /etc/rc3.d and nothing touches the host's /etc.
# Needs root (mount namespace, chroot) and hyperfine; fetches sysv-rc itself.
#
# Usage: benches/rc.sh [SCRIPTS] [RUNS]
set -eu
n=${1:-200}
runs=${2:-20}
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine
cargo build --release --quiet
work=$(mktemp -d "${TMPDIR:-/tmp}/vinit-bench-rc.XXXXXX")
trap 'rm -rf "$work"' EXIT

(cd "$work" && apt-get download -qq sysv-rc >/dev/null 2>&1 && dpkg-deb -x sysv-rc_*.deb peer)
root="$work/root"
mkdir -p "$root/etc/init.d" "$root/etc/rc3.d" "$root/usr" "$root/proc" "$root/dev" "$root/tmp"
for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done
cp "$work/peer/lib/init/rc" "$root/debian-rc"
cp target/release/vinit "$root/vinit"
i=0
while [ $i -lt "$n" ]; do
	name=$(printf 'svc%03d' $i)
	printf '#!/bin/sh\nexit 0\n' > "$root/etc/init.d/$name"
	chmod 755 "$root/etc/init.d/$name"
	ln -s "../init.d/$name" "$root/etc/rc3.d/$(printf 'S%02d' $((i % 100)))$name"
	i=$((i + 1))
done

export root runs
unshare --mount --propagation private sh -eu <<'INNER'
mount --bind -o ro /usr "$root/usr"
mount --rbind /dev "$root/dev"
mount --rbind /proc "$root/proc"
hyperfine --warmup 3 --runs "$runs" --export-json "$root/tmp/rc.json" \
	-n vinit "chroot $root /vinit rc --sequential --timeout 0 3" \
	-n 'vinit -j' "chroot $root /vinit rc --timeout 0 3" \
	-n sysv-rc "chroot $root /bin/sh /debian-rc 3" \
	-n 'bare loop' "chroot $root /bin/sh -c 'for s in /etc/rc3.d/S*; do \"\$s\" start; done'"
python3 - "$root/tmp/rc.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
v = r["vinit"]["median"]
for name in ("sysv-rc", "bare loop", "vinit -j"):
    print(f"vinit / {name}: {v / r[name]['median']:.3f} (medians {v*1000:.1f} ms vs {r[name]['median']*1000:.1f} ms)")
PY
umount -l "$root/proc" "$root/dev" "$root/usr"
INNER
