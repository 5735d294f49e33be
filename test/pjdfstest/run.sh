#!/bin/sh
# Runs the upstream pjdfstest suite (github.com/pjd/pjdfstest) twice with
# prove: natively (its own C program, on a host directory) and through our
# sandbox (bin pjdfstest-sandbox sending each call to a `sandbox serve
# --interop shared` instance whose gofer serves a host directory on the same
# filesystem), then prints, per test file, the assertions passed both ways
# and every assertion native Linux passes that the sandbox fails.
#
#   sudo test/pjdfstest/run.sh [-j JOBS] [-w WORKDIR] [-k] [-d DIST] PJDFSTEST_CHECKOUT [TESTDIR...]
#
#   -j JOBS     prove's parallel jobs (default 2)
#   -w WORKDIR  where to build and run (default a fresh /tmp/pjdfstest-run.XXXXXX);
#               both runs use directories under it, so the same filesystem
#   -k          keep WORKDIR (the TAP output of both runs is there)
#   -d DIST     the built project (default: this checkout's dist/)
#   TESTDIR     only these directories or files of tests/ (chmod rename/00.t ...); default all
#
# Needs: root (the suite changes owners), cc, prove (perl), openssl, and a
# built project (npm run build). autoreconf is used when present; without it
# the C program is built with the config.h configure writes on Linux/glibc.
# Exit status: 0 when the sandbox passes every assertion native Linux
# passes, 1 otherwise, 2 on bad usage or a failed setup.

set -eu

jobs=2
work=
keep=0
dist=
while getopts j:w:kd: opt; do
	case "$opt" in
	j) jobs=$OPTARG ;;
	w) work=$OPTARG ;;
	k) keep=1 ;;
	d) dist=$OPTARG ;;
	*) echo "usage: $0 [-j JOBS] [-w WORKDIR] [-k] [-d DIST] PJDFSTEST_CHECKOUT [TESTDIR...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -lt 1 ]; then
	echo "usage: $0 [-j JOBS] [-w WORKDIR] [-k] [-d DIST] PJDFSTEST_CHECKOUT [TESTDIR...]" >&2
	exit 2
fi
checkout=$(cd "$1" && pwd)
shift
project=$(cd "$(dirname "$0")/../.." && pwd)
dist=$(cd "${dist:-$project/dist}" 2>/dev/null && pwd) || { echo "run.sh: no built project (npm run build)" >&2; exit 2; }

die() {
	echo "run.sh: $*" >&2
	exit 2
}
[ -f "$checkout/pjdfstest.c" ] && [ -d "$checkout/tests" ] || die "$checkout: not a pjdfstest checkout (no pjdfstest.c, tests/)"
[ "$(id -u)" = 0 ] || die "pjdfstest must run as root"
for tool in cc prove openssl node; do
	command -v $tool >/dev/null 2>&1 || die "$tool not found"
done
[ -f "$dist/cmd/sandbox.js" ] && [ -f "$dist/cmd/pjdfstest-sandbox.js" ] || die "build the project first (npm run build)"

if [ -z "$work" ]; then
	work=$(mktemp -d /tmp/pjdfstest-run.XXXXXX)
else
	mkdir -p "$work"
	work=$(cd "$work" && pwd)
fi
serve_pid=
cleanup() {
	if [ -n "$serve_pid" ]; then
		kill "$serve_pid" 2>/dev/null || true
		wait "$serve_pid" 2>/dev/null || true
	fi
	if [ "$keep" = 0 ]; then
		rm -rf "$work"
	else
		echo "run.sh: kept $work (native.tap, sandbox.tap, serve.log)"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. The native program, built as its README says (or with configure's
#    Linux/glibc answers when autotools are missing).
mkdir -p "$work/native" "$work/sandbox"
cp -R "$checkout/." "$work/native/"
rm -f "$work/native/pjdfstest"
(
	cd "$work/native"
	if command -v autoreconf >/dev/null 2>&1; then
		autoreconf -ifs >build.log 2>&1 && ./configure >>build.log 2>&1 && make pjdfstest >>build.log 2>&1
	else
		cat >config.h <<-'EOF'
		#define _GNU_SOURCE 1
		#define HAVE_SYS_SYSMACROS_H 1
		#define HAVE_FCHMODAT 1
		#define HAVE_FCHOWNAT 1
		#define HAVE_FSTATAT 1
		#define HAVE_LCHMOD 1
		#define HAVE_LINKAT 1
		#define HAVE_MKDIRAT 1
		#define HAVE_MKFIFOAT 1
		#define HAVE_MKNODAT 1
		#define HAVE_OPENAT 1
		#define HAVE_POSIX_FALLOCATE 1
		#define HAVE_READLINKAT 1
		#define HAVE_RENAMEAT 1
		#define HAVE_SYMLINKAT 1
		#define HAVE_UNLINKAT 1
		#define HAVE_UTIMENSAT 1
		#define HAVE_STRUCT_STAT_ST_ATIM 1
		#define HAVE_STRUCT_STAT_ST_CTIM 1
		#define HAVE_STRUCT_STAT_ST_MTIM 1
		EOF
		cc -Wall -O2 -DHAVE_CONFIG_H -I. -o pjdfstest pjdfstest.c >build.log 2>&1
	fi
) || { cat "$work/native/build.log" >&2; die "building pjdfstest failed"; }

# 2. The same tests beside a "pjdfstest" that is our driver: misc.sh runs
#    the pjdfstest found in the nearest parent directory of the test.
cp -R "$checkout/tests" "$work/sandbox/tests"
cat >"$work/sandbox/pjdfstest" <<EOF
#!/bin/sh
exec node "$dist/cmd/pjdfstest-sandbox.js" "\$@"
EOF
chmod +x "$work/sandbox/pjdfstest"

# 3. The served directory and the native one, side by side (same filesystem,
#    so the suite's filesystem type, from df, is the same both ways).
mkdir -p "$work/fs-native" "$work/fs-sandbox"
sock="$work/sandbox.sock"
node "$dist/cmd/sandbox.js" serve --root "$work/fs-sandbox" --listen "unix:$sock" --interop shared >"$work/serve.log" 2>&1 &
serve_pid=$!
i=0
until [ -S "$sock" ] && grep -q '^listening' "$work/serve.log"; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 "$serve_pid" 2>/dev/null; then
		cat "$work/serve.log" >&2
		die "sandbox serve did not start"
	fi
	sleep 0.1
done

for d in "$@"; do
	[ -e "$checkout/tests/$d" ] || die "no tests/$d in the checkout"
done
# targets prints the test directories of one run (all of tests/ by default).
targets() {
	base=$1
	shift
	if [ $# -eq 0 ]; then
		printf '%s\n' "$base/tests"
	fi
	for d in "$@"; do
		printf '%s\n' "$base/tests/$d"
	done
}

# 4. prove, natively and through the sandbox.
echo "run.sh: native run (prove -r -j $jobs) in $work/fs-native" >&2
start=$(date +%s)
(cd "$work/fs-native" && targets "$work/native" "$@" | xargs prove -rv -j "$jobs" >"$work/native.tap" 2>"$work/native.err") || true
native_s=$(($(date +%s) - start))
echo "run.sh: sandbox run (prove -r -j $jobs) in $work/fs-sandbox" >&2
start=$(date +%s)
(cd "$work/fs-sandbox" && targets "$work/sandbox" "$@" | SANDBOX_ADDRESS="unix:$sock" xargs prove -rv -j "$jobs" >"$work/sandbox.tap" 2>"$work/sandbox.err") || true
sandbox_s=$(($(date +%s) - start))

# 5. The comparison: per test file, the assertions each run passed ("ok N",
#    TODO or not); then each assertion passed natively and failed in the
#    sandbox, with the sandbox's message.
awk -v native_s="$native_s" -v sandbox_s="$sandbox_s" '
function name(line) {
	sub(/ \.+ *$/, "", line)
	sub(/.*\/tests\//, "", line)
	return line
}
FNR == 1 { side = (side == "" ? "native" : "sandbox") }
/^\/.*\/tests\/.*\.t \.+/ { f = name($0); files[f] = 1; seen[side, f] = 1; next }
/^1\.\.[0-9]+/ { plan[side, f] = substr($1, 4) + 0; next }
/^ok [0-9]+/ { pass[side, f]++; ok[side, f, $2] = 1; next }
/^not ok [0-9]+/ { msg[side, f, $3] = $0; next }
END {
	n = 0
	for (f in files) order[++n] = f
	for (i = 2; i <= n; i++) { v = order[i]; for (j = i - 1; j > 0 && order[j] > v; j--) order[j + 1] = order[j]; order[j + 1] = v }
	printf "%-22s %6s %7s %8s %s\n", "test file", "plan", "native", "sandbox", ""
	lost = 0
	for (i = 1; i <= n; i++) {
		f = order[i]
		np = pass["native", f] + 0; sp = pass["sandbox", f] + 0
		p = plan["native", f] + 0
		mark = ""
		for (k = 1; k <= p; k++) if (("native", f, k) in ok && !(("sandbox", f, k) in ok)) { mark = "<"; break }
		if (!(("sandbox", f) in seen)) { printf "%-22s %6d %7d %8s (not run in the sandbox)\n", f, p, np, "-"; notrun++; continue }
		printf "%-22s %6d %7d %8d %s\n", f, p, np, sp, mark
		tn += np; ts += sp; tp += p
	}
	printf "%-22s %6d %7d %8d\n", "total", tp, tn, ts
	printf "\nassertions native Linux passes and the sandbox fails:\n"
	for (i = 1; i <= n; i++) {
		f = order[i]; p = plan["native", f] + 0
		if (!(("sandbox", f) in seen)) continue
		for (k = 1; k <= p; k++) {
			if (("native", f, k) in ok && !(("sandbox", f, k) in ok)) {
				m = msg["sandbox", f, k]
				if (m == "") m = "not ok " k " (no result: the test stopped early)"
				printf "  %s: %s\n", f, m
				lost++
			}
		}
	}
	if (lost == 0) printf "  none\n"
	printf "\n%d of %d native passes lost in the sandbox; native %ds, sandbox %ds\n", lost, tn, native_s, sandbox_s
	if (notrun > 0) printf "%d test files did not run in the sandbox\n", notrun
	exit lost > 0 || notrun > 0 ? 1 : 0
}' "$work/native.tap" "$work/sandbox.tap"
