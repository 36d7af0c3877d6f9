#!/bin/sh
# Benchmarks for chkconfig and service, in a scratch directory (nothing else touched):
#   1. `chkconfig --list` over 1,000 services (7,000 links);
#   2. `service NAME status` against running the script directly and against Debian's
#      `service` (init-system-helpers), on the same script, in one run.
# Prints hyperfine's tables and the ratios of the medians.
#
# Usage: benches/chkconfig.sh            (builds the release binary with cargo)
#        VINIT=path/to/vinit benches/chkconfig.sh
# Needs hyperfine (apt-get install hyperfine) and apt-get download (for Debian's
# service, when /usr/sbin/service is not Debian's).
set -eu
cd "$(dirname "$0")/.."
if [ -z "${VINIT:-}" ]; then
	cargo build --release --quiet
	VINIT="$PWD/target/release/vinit"
fi
command -v hyperfine >/dev/null || { echo "hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
scratch=$(mktemp -d "${TMPDIR:-/tmp}/vinit-bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
runs=${RUNS:-100}

# --- a root with 1,000 services, each with a chkconfig line and an LSB block -------
root="$scratch/root"
mkdir -p "$root/etc/init.d"
for l in 0 1 2 3 4 5 6 S; do mkdir -p "$root/etc/rc$l.d"; done
i=0
while [ $i -lt 1000 ]; do
	name=$(printf 'svc%04d' $i)
	prio=$((i % 90 + 5))
	cat > "$root/etc/init.d/$name" <<EOF
#!/bin/sh
#
# $name	A benchmark service.
#
# chkconfig: 2345 $prio $((100 - prio))
# description: Benchmark service number $i, doing nothing \\
#              at all, quickly.
#
### BEGIN INIT INFO
# Provides:          $name
# Required-Start:    \$local_fs \$network
# Required-Stop:     \$local_fs \$network
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: benchmark service $i
### END INIT INFO

case "\$1" in
	start|stop|restart|status) exit 0 ;;
	*) echo "Usage: \$0 {start|stop|restart|status}"; exit 2 ;;
esac
EOF
	chmod 755 "$root/etc/init.d/$name"
	for l in 0 1 6; do ln -s "../init.d/$name" "$root/etc/rc$l.d/K$(printf %02d $((100 - prio)))$name"; done
	for l in 2 3 4 5; do ln -s "../init.d/$name" "$root/etc/rc$l.d/S$(printf %02d $prio)$name"; done
	i=$((i + 1))
done

# --- the script `service` runs: a status check the way init scripts do it ------------
cp init.d/functions init.d/heartbeat "$root/etc/init.d/"
cat > "$root/etc/init.d/probe" <<'EOF'
#!/bin/sh
# chkconfig: 2345 50 50
# description: answers status at once
case "$1" in
	status) echo "probe is running"; exit 0 ;;
	*) exit 3 ;;
esac
EOF
chmod 755 "$root/etc/init.d/probe"
# A Debian-style status (lsb-base's status_of_proc), when this machine has lsb-base.
scripts="probe heartbeat"
if [ -r /lib/lsb/init-functions ]; then
	cat > "$root/etc/init.d/lsbstatus" <<'EOF'
#!/bin/sh
### BEGIN INIT INFO
# Provides: lsbstatus
# Default-Start: 2 3 4 5
# Default-Stop: 0 1 6
### END INIT INFO
. /lib/lsb/init-functions
case "$1" in
	status) status_of_proc -p "$VINIT_ROOT/run/lsbstatus.pid" /usr/sbin/lsbstatusd lsbstatus ;;
	*) exit 3 ;;
esac
EOF
	chmod 755 "$root/etc/init.d/lsbstatus"
	scripts="$scripts lsbstatus"
fi

# --- Debian's service, pointed at the scratch init.d --------------------------------
debian_service="$scratch/debian-service"
if grep -q 'init-system-helpers\|Michael Stapelberg' /usr/sbin/service 2>/dev/null; then
	cp /usr/sbin/service "$debian_service"
else
	(cd "$scratch" && apt-get download init-system-helpers >/dev/null 2>&1 \
		&& dpkg-deb -x init-system-helpers_*.deb ish && cp ish/usr/sbin/service "$debian_service")
fi
# Same script, two edits: its init.d is the scratch one, and it must not take this
# machine for a systemd one (it would call systemctl instead of the script).
sed -i -e "s|SERVICEDIR=\"/etc/init.d\"|SERVICEDIR=\"$root/etc/init.d\"|" \
	-e 's|-d /run/systemd/system|-d /nonexistent/systemd|' "$debian_service"
chmod 755 "$debian_service"

ln -s "$VINIT" "$scratch/service"
ln -s "$VINIT" "$scratch/chkconfig"
export VINIT_ROOT="$root"

median() { # hyperfine JSON → median in ms
	sed -n 's/.*"median": *\([0-9.e-]*\).*/\1/p' "$1" | head -1 | awk '{ printf "%.3f", $1 * 1000 }'
}

echo "== chkconfig --list over 1000 services ($(ls "$root/etc/rc3.d" | wc -l) links in rc3.d)"
hyperfine -N --warmup 3 --runs "$runs" --export-json "$scratch/list.json" \
	"$scratch/chkconfig --list"
list_ms=$(median "$scratch/list.json")

for script in $scripts; do
	echo
	echo "== service $script status: direct script vs vinit service vs Debian's service"
	# All three run with the environment `service` gives a script (VINIT included: the
	# example functions call `$VINIT daemon`), so the script does the same work in each.
	env -i PATH=/sbin:/usr/sbin:/bin:/usr/bin TERM="${TERM:-dumb}" VINIT_ROOT="$root" VINIT="$VINIT" \
		hyperfine -N -i --warmup 10 --runs "$runs" --export-json "$scratch/$script.json" \
		-n direct "$root/etc/init.d/$script status" \
		-n vinit "$scratch/service $script status" \
		-n debian "$debian_service $script status"
	sed -n 's/.*"median": *\([0-9.e-]*\).*/\1/p' "$scratch/$script.json" > "$scratch/$script.medians"
	set -- $(cat "$scratch/$script.medians")
	awk -v d="$1" -v v="$2" -v b="$3" -v s="$script" 'BEGIN {
		printf "%s: direct %.3f ms, vinit service %.3f ms, Debian service %.3f ms\n", s, d*1000, v*1000, b*1000
		printf "%s: vinit/direct %.2fx, Debian/direct %.2fx, Debian/vinit %.2fx\n", s, v/d, b/d, b/v
	}' | tee -a "$scratch/summary"
done
echo
echo "== summary"
echo "chkconfig --list, 1000 services: median $list_ms ms (goal: under 50 ms)"
cat "$scratch/summary"
