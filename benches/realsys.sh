#!/bin/bash
# Benchmark: vinit against sysvinit on the same stock Debian 12 tree, boot and shutdown,
# in namespaces (scripts/nsboot) and in a QEMU virtual machine (scripts/vmboot), in one
# run, as ratios against sysvinit. Three combinations:
#   sysvinit + Debian rc   the tree's own /sbin/init and /etc/init.d/rc (startpar): the
#                          reference
#   vinit + Debian rc      vinit as /sbin/init, Debian's rc unchanged
#   vinit + vinit rc       vinit as /sbin/init and `vinit rc` for the rc directories
# Runs are interleaved (a b c a b c ...) so that the other jobs on the machine weigh on
# every combination alike. A failed run is reported and left out of the figures.
#
#   benches/realsys.sh [--ns N] [--vm N] [--quick] [--logs DIR]
#
#   --ns N       rounds in namespaces (default 10; 0 skips them)
#   --vm N       rounds in the VM (default 3; 0 skips them; ~30 s of a host CPU each boot)
#   --quick      --ns 3 --vm 1
#   --logs DIR   keep every run's report in DIR (default: a temporary directory, removed
#                at the end unless a run failed)
#
# Needs root (both harnesses do). Runs scripts/fetch/all first (a filled cache costs
# nothing). The vinit binary is $VINIT if set, else a release build of this checkout made
# here under the shared cargo lock ($VINIT_CARGO_LOCK, default /tmp/vinit-cargo.lock); it
# is copied first so that a build running meanwhile cannot change it half-way.
#
# Output (stdout): markdown. Per combination the median and the min–max of
#   namespaces  boot: exec of init -> rc 2 finished (nsboot boot_ms); runlevel 2
#               reached (runlevel_ms); shutdown: telinit 0 -> the namespace's init gone
#               (shutdown_ms)
#   VM          boot: guest uptime when the default level's last start script ran
#               (runlevel_uptime); shutdown: rc 2 done -> power-off (poweroff_uptime -
#               rc_done_uptime); power-off uptime; QEMU's wall time (wall_s) and the
#               time it waited for a host CPU (steal = wall_s - qemu_cpu_s)
# with the ratio of the medians against sysvinit + Debian rc, and the host's load. TCG
# guests are CPU-bound: their clock runs on while QEMU waits for the host, so VM figures
# are only comparable when the steal is small (doc/vm.md).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
ns_rounds=10 vm_rounds=3 logs=''
usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit "${1:-0}"
}
while [ $# -gt 0 ]; do
	case $1 in
	--ns) ns_rounds=${2:?--ns N}; shift 2 ;;
	--vm) vm_rounds=${2:?--vm N}; shift 2 ;;
	--quick) ns_rounds=3 vm_rounds=1; shift ;;
	--logs) logs=${2:?--logs DIR}; shift 2 ;;
	-h | --help) usage 0 ;;
	*) echo "realsys: unknown argument: $1" >&2; usage 2 >&2 ;;
	esac
done
for n in "$ns_rounds" "$vm_rounds"; do
	case $n in '' | *[!0-9]*) echo "realsys: rounds are whole numbers, not $n" >&2; exit 2 ;; esac
done
[ "$(id -u)" = 0 ] || { echo "realsys: needs root (namespaces, VM tree)" >&2; exit 2; }

say() { echo "realsys: $*" >&2; }

"$repo/scripts/fetch/all" >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/vinit-bench-realsys.XXXXXX")
keep_work=''
trap '[ -n "$keep_work" ] || rm -rf "$work"' EXIT
if [ -n "$logs" ]; then
	mkdir -p "$logs"
	logs=$(cd "$logs" && pwd)
else
	logs=$work/logs
	mkdir -p "$logs"
fi

if [ -n "${VINIT:-}" ]; then
	source_bin=$VINIT
else
	say "cargo build --release"
	(cd "$repo" && flock -o "${VINIT_CARGO_LOCK:-/tmp/vinit-cargo.lock}" cargo build --release --quiet)
	source_bin=$repo/target/release/vinit
fi
[ -x "$source_bin" ] || { say "no vinit binary at $source_bin"; exit 2; }
vinit=$work/vinit
cp "$source_bin" "$vinit"

load() { cut -d' ' -f1 /proc/loadavg; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

combos=(sysvinit:debian vinit:debian vinit:vinit)
label() { # INIT:RC
	case $1 in
	sysvinit:debian) echo "sysvinit + Debian rc" ;;
	vinit:debian) echo "vinit + Debian rc" ;;
	vinit:vinit) echo "vinit + vinit rc" ;;
	esac
}
# The value of KEY in a report: a line KEY=VALUE, or a KEY=VALUE word on a line.
value() { # FILE KEY
	grep -o "\(^\| \)$2=[^ ]*" "$1" | tail -n1 | sed "s/^ *$2=//"
}

# Every run appends one line to $work/runs: KIND COMBO ok|fail LOAD KEY=VALUE... or REASON.
: >"$work/runs"
record() { printf '%s\n' "$*" >>"$work/runs"; }

run_ns() { # ROUND INIT RC
	local out=$logs/ns-$1-$2-$3.txt l st=0
	l=$(load)
	"$repo/scripts/nsboot" --init "$2" --rc "$3" --vinit "$vinit" >"$out" 2>"$out.err" || st=$?
	if [ "$st" = 0 ] && [ "$(value "$out" result)" = ok ]; then
		record "ns $2:$3 ok $l boot=$(value "$out" boot_ms) runlevel=$(value "$out" runlevel_ms)" \
			"shutdown=$(value "$out" shutdown_ms)"
	else
		record "ns $2:$3 fail $l round $1: $(grep '^result=' "$out" | tail -n1)" \
			"(status $st; $(grep '^console=' "$out" | tail -n1))"
	fi
}

run_vm() { # ROUND INIT RC
	local out=$logs/vm-$1-$2-$3.txt l st=0 rl rc off
	l=$(load)
	"$repo/scripts/vmboot" --tree debian --init "$2" --rc "$3" --vinit "$vinit" \
		>"$out" 2>"$out.err" || st=$?
	rl=$(value "$out" runlevel_uptime) rc=$(value "$out" rc_done_uptime)
	off=$(value "$out" poweroff_uptime)
	if [ "$st" = 0 ] && [ "$(value "$out" result)" = ok ] && [ -n "$rc" ]; then
		record "vm $2:$3 ok $l boot=$rl shutdown=$(awk -v a="$rc" -v b="$off" 'BEGIN { printf "%.2f", b - a }')" \
			"poweroff=$off wall=$(value "$out" wall_s)" \
			"steal=$(awk -v w="$(value "$out" wall_s)" -v c="$(value "$out" qemu_cpu_s)" 'BEGIN { printf "%.2f", w - c }')"
	else
		record "vm $2:$3 fail $l round $1: $(grep '^result=' "$out" | tail -n1)" \
			"(status $st; $(grep '^console=' "$out" | tail -n1))"
	fi
}

rounds() { # KIND N
	local i c
	for ((i = 1; i <= $2; i++)); do
		for c in "${combos[@]}"; do
			say "$1 round $i/$2: $(label "$c")"
			"run_$1" "$i" "${c%%:*}" "${c##*:}"
		done
	done
}
rounds ns "$ns_rounds"
rounds vm "$vm_rounds"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- figures

# The values of KEY over the successful runs of KIND COMBO, one a line.
values() { # KIND COMBO KEY
	awk -v k="$1" -v c="$2" -v key="$3" '$1 == k && $2 == c && $3 == "ok" {
		for (i = 5; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) print kv[2] }
	}' "$work/runs"
}
# "median (min–max)" of numbers on stdin, DECIMALS after the point; empty for none.
summary() { # DECIMALS
	sort -g | awk -v d="$1" '{ v[NR] = $1 } END {
		if (NR == 0) exit
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		f = "%." d "f"
		printf f " (" f "–" f ")\n", m, v[1], v[NR]
	}'
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { # KIND COMBO KEY
	local m r
	m=$(values "$1" "$2" "$3" | median)
	r=$(values "$1" sysvinit:debian "$3" | median)
	if [ -z "$m" ] || [ -z "$r" ] || [ "$r" = 0 ]; then echo "–"; return; fi
	awk -v m="$m" -v r="$r" 'BEGIN { printf "%.2f\n", m / r }'
}
cell() { # KIND COMBO KEY DECIMALS
	local s
	s=$(values "$1" "$2" "$3" | summary "$4")
	echo "${s:-–}"
}
loads() { # KIND COMBO: the 1-minute load at the start of its runs, min–max
	awk -v k="$1" -v c="$2" '$1 == k && $2 == c { print $4 }' "$work/runs" | sort -g |
		awk 'NR == 1 { a = $1 } { b = $1 } END { if (NR) printf "%s–%s\n", a, b; else print "–" }'
}
count() { # KIND COMBO
	local ok all
	ok=$(awk -v k="$1" -v c="$2" '$1 == k && $2 == c && $3 == "ok"' "$work/runs" | wc -l)
	all=$(awk -v k="$1" -v c="$2" '$1 == k && $2 == c' "$work/runs" | wc -l)
	echo "$ok/$all"
}

commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null | head -n1)
cache=${VINIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vinit}
echo "## vinit and sysvinit on the Debian tree ($started)"
echo
echo "- vinit: $(sha256sum "$vinit" | cut -c1-12) (${VINIT:-release build of $commit${dirty:+, with uncommitted changes}})"
echo "- tree: $(sed -n 's/^debian_version=/Debian /p' "$cache/bookworm.stamp" 2>/dev/null)," \
	"$(grep -o 'package=sysvinit-core=[^ ]*' "$cache/bookworm.stamp" 2>/dev/null | sed 's/package=//')"
echo "- host: $(nproc) CPUs; load average (1, 5, 15 min) before: $load_before, after: $load_after"
echo "- rounds: $ns_rounds in namespaces, $vm_rounds in the VM, interleaved"

if [ "$ns_rounds" -gt 0 ]; then
	echo
	echo "### Namespaces (scripts/nsboot, FIFO console), ms"
	echo
	echo "| combination | runs ok | boot: rc 2 finished | ratio | runlevel 2 reached | shutdown | ratio | load at start |"
	echo "|---|---|---|---|---|---|---|---|"
	for c in "${combos[@]}"; do
		echo "| $(label "$c") | $(count ns "$c") | $(cell ns "$c" boot 0) | $(ratio ns "$c" boot)" \
			"| $(cell ns "$c" runlevel 0) | $(cell ns "$c" shutdown 0) | $(ratio ns "$c" shutdown)" \
			"| $(loads ns "$c") |"
	done
fi
if [ "$vm_rounds" -gt 0 ]; then
	echo
	echo "### VM (scripts/vmboot --tree debian, QEMU TCG, 1 vCPU), guest seconds"
	echo
	echo "| combination | runs ok | boot: runlevel reached | ratio | shutdown: rc 2 done → power-off | ratio | power-off uptime | wall | steal | load at start |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	for c in "${combos[@]}"; do
		echo "| $(label "$c") | $(count vm "$c") | $(cell vm "$c" boot 2) | $(ratio vm "$c" boot)" \
			"| $(cell vm "$c" shutdown 2) | $(ratio vm "$c" shutdown) | $(cell vm "$c" poweroff 2)" \
			"| $(cell vm "$c" wall 1) | $(cell vm "$c" steal 1) | $(loads vm "$c") |"
	done
fi
echo
echo "Medians with (min–max) of the successful runs; ratio = median / median of sysvinit + Debian rc."
if grep -q ' fail ' "$work/runs"; then
	keep_work=1
	echo
	echo "### Failed runs (left out above)"
	echo
	awk '$3 == "fail" { k = $1 == "ns" ? "namespaces" : "VM"; c = $2; $1 = $2 = $3 = $4 = ""
		sub(/^ +/, ""); print "- " k ", " c ", " $0 }' "$work/runs" |
		sed -e 's/sysvinit:debian/sysvinit + Debian rc/' -e 's/vinit:debian/vinit + Debian rc/' \
			-e 's/vinit:vinit/vinit + vinit rc/'
	echo
	echo "Reports: $logs"
fi
