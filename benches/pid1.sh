#!/bin/sh
# Benchmarks of vinit's init as PID 1 against its Debian peers, each as PID 1 of a fresh
# PID namespace, in one run:
#   1. reaping: ORPHANS (default 5,000) orphans killed at once; time until init has no
#      child left (vinit static and dynamic vs tini, tini-static, dumb-init, catatonit);
#   2. idle resident memory of PID 1 (the same inits), with where vinit's goes;
#   3. boot to runlevel 3 and shut down through runlevel 0 on the same tree of 200
#      trivial scripts (vinit init + vinit rc vs sysvinit-core's init + sysv-rc's rc),
#      chrooted into the same scratch root.
# Needs root, gcc, hyperfine, python3; the peers come from scripts/fetch/peers.
#
# Usage: benches/pid1.sh [RUNS] [SECTIONS]     (SECTIONS: any of 1 2 3, default all)
set -eu
runs=${1:-10}
sections=${2:-123}
orphans=${ORPHANS:-5000}
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine
cargo build --release --quiet
vinit="$PWD/target/release/vinit"
vinit_static="$PWD/$(scripts/build-static --quiet)"
scripts/fetch/peers tini dumb-init catatonit sysvinit-core sysv-rc
peer=${VINIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vinit}/peers
work=$(mktemp -d "${TMPDIR:-/tmp}/vinit-bench-pid1.XXXXXX")
trap 'rm -rf "$work"' EXIT

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

# Each init as a container would start it: NAME, then its command line before `--`.
inits="vinit-static|$vinit_static init --root $empty
vinit|$vinit init --root $empty
tini|$peer/tini/usr/bin/tini -s
tini-static|$peer/tini/usr/bin/tini-static -s
dumb-init|$peer/dumb-init/usr/bin/dumb-init
catatonit|$peer/catatonit/usr/bin/catatonit"
# A container's environment, the same for every init.
container_env="env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOSTNAME=bench TERM=xterm container=podman HOME=/root"

# The pid of the only child of a process (init below unshare --fork).
child_of() { cat "/proc/$1/task/$1/children" | awk '{print $1}'; }
count_children() { wc -w < "/proc/$1/task/$1/children"; }
median() { sort -n "$1" | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
# Boots INIT (its command line) with MAIN below it; sets $outer and $init.
boot() { # MAIN INIT...
	main=$1; shift
	# shellcheck disable=SC2086
	$container_env unshare --pid --fork --mount-proc "$@" -- /bin/sh -c "$main" >/dev/null 2>&1 &
	outer=$!
	until [ -n "$(child_of $outer 2>/dev/null)" ]; do sleep 0.01; done
	init=$(child_of $outer)
}
finish() { kill -KILL "$init" 2>/dev/null || true; wait "$outer" 2>/dev/null || true; }

if [ "${sections#*1}" != "$sections" ]; then
echo "== 1. reaping $orphans orphans killed at once (ms, medians of $runs)"
# One measurement: leaves the orphans below init, kills them with one killpg and times
# until init has reaped them all. Prints milliseconds.
reap_once() { # INIT...
	boot "$work/orphans $orphans >/dev/null; exec sleep 1000" "$@"
	until [ "$(count_children $init)" -ge $((orphans + 1)) ]; do sleep 0.05; done
	python3 - "$init" <<'PY'
import os, sys, time, signal
init = int(sys.argv[1])
kids = open(f"/proc/{init}/task/{init}/children").read().split()
orphan = next(k for k in kids if open(f"/proc/{k}/comm").read().strip() == "orphans")
pgrp = int(open(f"/proc/{orphan}/stat").read().rsplit(")", 1)[1].split()[2])
t0 = time.monotonic()
os.killpg(pgrp, signal.SIGKILL)  # all at once
while len(open(f"/proc/{init}/task/{init}/children").read().split()) > 1:
    time.sleep(0.0005)
print(f"{(time.monotonic() - t0) * 1000:.1f}")
PY
	finish
}
# Interleaved, so that load on the machine hits every init alike.
for i in $(seq "$runs"); do
	echo "$inits" | while IFS='|' read -r name cmd; do
		# shellcheck disable=SC2086
		reap_once $cmd >> "$work/reap.$name"
	done
done
t=$(median "$work/reap.tini")
echo "$inits" | while IFS='|' read -r name cmd; do
	m=$(median "$work/reap.$name")
	printf '  %-12s %8s ms   / tini %s\n' "$name" "$m" "$(echo "$m $t" | awk '{printf "%.2f", $1/$2}')"
done
fi

if [ "${sections#*2}" != "$sections" ]; then
echo "== 2. idle PID 1 resident memory (kB, after 3 s idle; medians of $runs)"
rss_once() { # NAME INIT...
	name=$1; shift
	boot "exec sleep 1000" "$@"
	# Idle: past vinit's 1 s idle trim.
	sleep 3
	awk '/^VmRSS/{r=$2} /^RssAnon/{a=$2} /^RssFile/{f=$2} END{print r, a, f}' "/proc/$init/status" >> "$work/rss.$name"
	[ -s "$work/smaps.$name" ] || cat "/proc/$init/smaps" > "$work/smaps.$name"
	finish
}
for i in $(seq "$runs"); do
	echo "$inits" | while IFS='|' read -r name cmd; do
		# shellcheck disable=SC2086
		rss_once "$name" $cmd
	done
done
col_median() { awk -v c="$2" '{print $c}' "$1" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
t=$(col_median "$work/rss.tini" 1); d=$(col_median "$work/rss.dumb-init" 1); c=$(col_median "$work/rss.catatonit" 1)
printf '  %-12s %6s %7s %7s   %s\n' init VmRSS RssAnon RssFile "VmRSS / tini, dumb-init, catatonit"
echo "$inits" | while IFS='|' read -r name cmd; do
	r=$(col_median "$work/rss.$name" 1)
	printf '  %-12s %6s %7s %7s   %s\n' "$name" "$r" "$(col_median "$work/rss.$name" 2)" \
		"$(col_median "$work/rss.$name" 3)" "$(echo "$r $t $d $c" | awk '{printf "%.2f  %.2f  %.2f", $1/$2, $1/$3, $1/$4}')"
done
echo "  where the static vinit's resident pages are (kB, one run):"
awk '/^[0-9a-f]+-[0-9a-f]+ /{n=$6; if (n == "") n = "(anonymous)"; m=$2 " " n} /^Rss:/{r=$2} /^Anonymous:/{if (r > 0) printf "    %5d  anon %4d  %s\n", r, $2, m}' "$work/smaps.vinit-static" | sed "s|$PWD/||"
ls -l "$vinit_static" "$vinit" "$peer/tini/usr/bin/tini" "$peer/tini/usr/bin/tini-static" "$peer/dumb-init/usr/bin/dumb-init" "$peer/catatonit/usr/bin/catatonit" |
	awk '{printf "  binary %-60s %9s bytes\n", $9, $5}' | sed "s|$PWD/||; s|$peer/||"
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
cp "$peer/sysvinit-core/sbin/init" "$peer/sysvinit-core/sbin/halt" "$sroot/sbin/"
ln -s init "$sroot/sbin/telinit"
cp "$peer/sysv-rc/lib/init/rc" "$sroot/etc/init.d/rc"
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
