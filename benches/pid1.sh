#!/bin/sh
# Benchmarks of vinit's init as PID 1 against its Debian peers, each as PID 1 of a fresh
# PID namespace, in one run:
#   1. reaping: 10,000 orphans killed at once; time until init has no child left
#      (vinit vs tini);
#   2. idle resident memory of PID 1 (vinit vs tini, dumb-init, catatonit);
#   3. boot to runlevel 3 and shut down through runlevel 0 on the same tree of 200
#      trivial scripts (vinit init + vinit rc vs sysvinit-core's init + sysv-rc's rc),
#      chrooted into the same scratch root.
# Needs root, gcc, hyperfine; fetches the peers with apt-get download.
#
# Usage: benches/pid1.sh [RUNS] [SECTIONS]     (SECTIONS: any of 1 2 3, default all)
set -eu
runs=${1:-10}
sections=${2:-123}
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine
cargo build --release --quiet
vinit="$PWD/target/release/vinit"
work=$(mktemp -d "${TMPDIR:-/tmp}/vinit-bench-pid1.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -qq tini dumb-init catatonit sysvinit-core sysv-rc >/dev/null 2>&1)
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/peer"; done
peer="$work/peer"

# A helper that leaves N sleeping orphans behind, in its own process group.
cat > "$work/orphans.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
	int n = atoi(argv[1]);
	setpgid(0, 0);
	for (int i = 0; i < n; i++) if (fork() == 0) { pause(); _exit(0); }
	printf("%d\n", getpgrp());
	return 0;
}
C
gcc -O2 -o "$work/orphans" "$work/orphans.c"
empty="$work/empty"
mkdir -p "$empty/etc"
echo "id:3:initdefault:" > "$empty/etc/inittab"

# The pid of the only child of a process (init below unshare --fork).
child_of() { cat "/proc/$1/task/$1/children" | awk '{print $1}'; }
count_children() { wc -w < "/proc/$1/task/$1/children"; }

if [ "${sections#*1}" != "$sections" ]; then
echo "== 1. reaping 10,000 orphans killed at once"
# One measurement: boots INIT, leaves 10,000 orphans below it, kills them with one
# killpg and times until init has reaped them all. Prints milliseconds.
reap_once() { # COMMAND...
	unshare --pid --fork --mount-proc "$@" /bin/sh -c "$work/orphans 10000 >/dev/null; exec sleep 1000" 2>/dev/null &
	outer=$!
	until [ -n "$(child_of $outer 2>/dev/null)" ]; do sleep 0.01; done
	init=$(child_of $outer)
	until [ "$(count_children $init)" -ge 10001 ]; do sleep 0.05; done
	python3 - "$init" <<'PY'
import os, sys, time, signal
init = int(sys.argv[1])
kids = open(f"/proc/{init}/task/{init}/children").read().split()
orphan = next(k for k in kids if open(f"/proc/{k}/comm").read().strip() == "orphans")
pgrp = int(open(f"/proc/{orphan}/stat").read().rsplit(")", 1)[1].split()[2])
t0 = time.monotonic()
os.killpg(pgrp, signal.SIGKILL)  # all 10,000 at once
while len(open(f"/proc/{init}/task/{init}/children").read().split()) > 1:
    time.sleep(0.0005)
print(f"{(time.monotonic() - t0) * 1000:.1f}")
PY
	kill -KILL "$init" 2>/dev/null || true
	wait "$outer" 2>/dev/null || true
}
# Interleaved, so that load on the machine hits both alike.
: > "$work/reap.vinit"; : > "$work/reap.tini"
for i in $(seq "$runs"); do
	reap_once "$vinit" init --root "$empty" -- >> "$work/reap.vinit"
	reap_once "$peer/usr/bin/tini" -s -- >> "$work/reap.tini"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
v=$(median "$work/reap.vinit"); t=$(median "$work/reap.tini")
echo "  vinit $v ms, tini $t ms (medians of $runs); vinit / tini: $(echo "$v $t" | awk '{printf "%.2f", $1/$2}')"
fi

if [ "${sections#*2}" != "$sections" ]; then
echo "== 2. idle PID 1 resident memory (kB: VmRSS, RssAnon)"
rss_run() { # NAME COMMAND...
	name=$1; shift
	unshare --pid --fork --mount-proc "$@" /bin/sleep 1000 2>/dev/null &
	outer=$!
	until [ -n "$(child_of $outer 2>/dev/null)" ]; do sleep 0.01; done
	init=$(child_of $outer)
	# Idle: past vinit's 1 s idle trim.
	sleep 2
	printf '  %-10s %s %s\n' "$name" "$(awk '/^VmRSS/{print $2}' /proc/$init/status)" "$(awk '/^RssAnon/{print $2}' /proc/$init/status)"
	kill -KILL "$init"
	wait "$outer" 2>/dev/null || true
}
rss_run vinit "$vinit" init --root "$empty" --
rss_run tini "$peer/usr/bin/tini" -s --
rss_run dumb-init "$peer/usr/bin/dumb-init" --
rss_run catatonit "$peer/usr/bin/catatonit" --
ls -l "$vinit" "$peer/usr/bin/tini" "$peer/usr/bin/dumb-init" "$peer/usr/bin/catatonit" | awk '{printf "  binary %-40s %s bytes\n", $9, $5}'
fi

[ "${sections#*3}" != "$sections" ] || exit 0
echo "== 3. boot to runlevel 3 and shut down, 200 scripts (vinit vs sysvinit + sysv-rc)"
# Each root: the host's /usr read-only, a private /dev whose console is /dev/null (neither
# init pays for a slow console), its own /run, /proc of the new namespace.
make_root() { # DIR INITTAB
	r=$1
	mkdir -p "$r/etc/init.d" "$r/etc/rc3.d" "$r/etc/rc0.d" "$r/usr" "$r/proc" "$r/dev" "$r/run" "$r/tmp" "$r/var/log" "$r/sbin"
	for d in bin lib lib64; do ln -s "usr/$d" "$r/$d"; done
	i=0
	while [ $i -lt 200 ]; do
		name=$(printf 'svc%03d' $i)
		printf '#!/bin/sh\nexit 0\n' > "$r/etc/init.d/$name"
		chmod 755 "$r/etc/init.d/$name"
		ln -s "../init.d/$name" "$r/etc/rc3.d/$(printf 'S%02d' $((i % 100)))$name"
		ln -s "../init.d/$name" "$r/etc/rc0.d/$(printf 'K%02d' $((i % 100)))$name"
		i=$((i + 1))
	done
	printf '%s\n' "$2" > "$r/etc/inittab"
}
vroot="$work/vroot"
sroot="$work/sroot"
make_root "$vroot" "id:3:initdefault:
l3:3:wait:vinit rc 3
x3:3:wait:vinit telinit 0
l0:0:wait:vinit rc 0"
cp "$vinit" "$vroot/sbin/vinit"
make_root "$sroot" "id:3:initdefault:
l3:3:wait:/etc/init.d/rc 3
x3:3:wait:/sbin/telinit 0
l0:0:wait:/etc/init.d/rc 0
h0:0:wait:/sbin/halt -d -f"
cp "$peer/sbin/init" "$peer/sbin/halt" "$sroot/sbin/"
ln -s init "$sroot/sbin/telinit"
cp "$peer/lib/init/rc" "$sroot/etc/init.d/rc"
for r in "$vroot" "$sroot"; do
	cat > "$r.run" <<EOF2
#!/bin/sh
exec unshare --mount --propagation private --pid --fork sh -c '
  mount --bind -o ro /usr $r/usr
  mount -t tmpfs tmpfs $r/dev
  for n in null console; do touch $r/dev/\$n; mount --bind /dev/null $r/dev/\$n; done
  mount -t proc proc $r/proc
  exec chroot $r /sbin/\$0 "\$@"' "\$@"
EOF2
	chmod +x "$r.run"
done
hyperfine --warmup 2 --runs "$runs" -i --export-json "$work/boot.json" \
	-n "vinit init + rc" "$vroot.run vinit init" \
	-n "sysvinit + sysv-rc" "$sroot.run init"
python3 - "$work/boot.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
v, s = r["vinit init + rc"], r["sysvinit + sysv-rc"]
print(f"  vinit / sysvinit: {v / s:.3f} (medians {v*1000:.0f} ms vs {s*1000:.0f} ms)")
PY
