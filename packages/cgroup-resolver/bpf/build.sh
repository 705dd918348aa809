#!/usr/bin/env bash
# Compiles the cgroup-resolver's BPF programs into packages/cgroup-resolver/dist/bpf/:
#   resolver.bpf.o      cgroup sock_addr programs (resolver.bpf.c)
#   sock_destroy.bpf.o  socket iterators (sock_destroy.bpf.c, CO-RE against vmlinux.h)
#   vmlinux.h           generated from the running kernel's BTF, only when missing
# Quiet and idempotent: an output newer than all its inputs is left alone.
# Environment: CLANG (default clang), BPFTOOL (default bpftool), VMLINUX_BTF (default
# /sys/kernel/btf/vmlinux).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out="$(dirname "$here")/dist/bpf"
CLANG=${CLANG:-clang}
BPFTOOL=${BPFTOOL:-bpftool}
VMLINUX_BTF=${VMLINUX_BTF:-/sys/kernel/btf/vmlinux}

die() {
	echo "cgroup-resolver build.sh: $*" >&2
	exit 1
}

# Finds a tool on PATH or in /usr/sbin (Debian's bpftool lives there). Prints its path.
tool() {
	local name=$1 hint=$2 path
	path=$(command -v "$name" 2>/dev/null || true)
	[[ -z $path && $name != */* && -x /usr/sbin/$name ]] && path=/usr/sbin/$name
	[[ -n $path ]] || die "$name not found: $hint"
	echo "$path"
}

# True when $1 is missing or older than any of the other files.
stale() {
	local target=$1 input
	shift
	[[ -e $target ]] || return 0
	for input in "$@"; do
		[[ $input -nt $target ]] && return 0
	done
	return 1
}

# compile SOURCE OBJECT: into a temporary file first, so a failed build leaves no output
# that looks up to date.
compile() {
	local src=$1 obj=$2 tmp
	tmp="$obj.tmp.$$"
	if ! "$clang" -target bpf -O2 -g -Wall -Werror \
		-I/usr/include/x86_64-linux-gnu -I"$here" -I"$out" \
		-c "$src" -o "$tmp"; then
		rm -f "$tmp"
		die "clang failed on $(basename "$src")"
	fi
	mv -f "$tmp" "$obj"
}

mkdir -p "$out"
common=("$here/resolver.h" "$here/maps.h" "$here/build.sh")

if stale "$out/resolver.bpf.o" "$here/resolver.bpf.c" "${common[@]}"; then
	clang=$(tool "$CLANG" "install Debian's clang (apt-get install clang llvm libbpf-dev)")
	compile "$here/resolver.bpf.c" "$out/resolver.bpf.o"
fi

if [[ ! -s $out/vmlinux.h ]]; then
	bpftool=$(tool "$BPFTOOL" "install Debian's bpftool (apt-get install bpftool), needed once to generate dist/bpf/vmlinux.h")
	[[ -r $VMLINUX_BTF ]] || die "$VMLINUX_BTF not readable: the kernel has no BTF (CONFIG_DEBUG_INFO_BTF) to generate vmlinux.h from"
	tmp="$out/vmlinux.h.tmp.$$"
	if ! "$bpftool" btf dump file "$VMLINUX_BTF" format c >"$tmp" || [[ ! -s $tmp ]]; then
		rm -f "$tmp"
		die "bpftool btf dump of $VMLINUX_BTF failed"
	fi
	mv -f "$tmp" "$out/vmlinux.h"
fi

if stale "$out/sock_destroy.bpf.o" "$here/sock_destroy.bpf.c" "$out/vmlinux.h" "${common[@]}"; then
	clang=$(tool "$CLANG" "install Debian's clang (apt-get install clang llvm libbpf-dev)")
	compile "$here/sock_destroy.bpf.c" "$out/sock_destroy.bpf.o"
fi
