# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0
#
# boot_guest OUTDIR TIMEOUT COMMAND...
#
# Boots one QEMU guest running Debian's $ABI kernel (source setup.sh first)
# with the host's root as its own, read-only, and OUTDIR writable at the same
# path; runs COMMAND there (its words joined into one bash command line, as
# ssh does), from $REPO, with REPO, TSOR_OUT=OUTDIR, ABI and GUEST_MODROOT
# set, then powers off.  In the guest, modprobe -d "$GUEST_MODROOT" MOD loads
# a module, and so does the kernel's own request_module().
#
# The console goes to OUTDIR/console.log and, as BOOT_CONSOLE says, to
# stdout: "tests" (the default) shows the command's output and kernel
# problems, "command" all that follows the start of the command, "all"
# everything from the first line.
#
# Returns, and says in BOOT_RESULT:
#   0  COMMAND exited 0
#   1  COMMAND exited non-zero
#   2  the guest timed out
#   3  the kernel panicked
#   4  the guest stopped before COMMAND finished
#   5  usage error

# For TSOR_KERNEL_PROBLEMS.
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# Single-quote $1 for sh.
_boot_sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# QEMU splits options at commas; a comma in a path is written twice.
_boot_qpath() { printf '%s' "${1//,/,,}"; }

# Microseconds since the epoch (EPOCHREALTIME's separator follows the locale).
_boot_usec() { printf '%s' "${EPOCHREALTIME//[!0-9]/}"; }

# Copy the console to the terminal as BOOT_CONSOLE says, and tell how long
# the guest took to reach the command.
_boot_show() {
	local mode=$1 start=$2 line on=0 ds
	local klog='^\[ *[0-9]+\.[0-9]+\] '
	[ "$mode" = all ] && on=1
	while IFS= read -r line; do
		line=${line%$'\r'}
		if [[ $line == *"tsor-guest: running the command"* ]]; then
			ds=$(( ($(_boot_usec) - start) / 100000 ))
			printf '==> guest reached the command %d.%d s after QEMU started\n' \
				$((ds / 10)) $((ds % 10))
			on=1
			continue
		fi
		[ $on = 1 ] || continue
		# In "tests" mode kernel lines ("[  1.234] ...") show only when
		# they report a problem.
		if [ "$mode" = tests ] && [[ $line =~ $klog ]] &&
		   ! [[ $line =~ $TSOR_KERNEL_PROBLEMS ]]; then
			continue
		fi
		printf '%s\n' "$line"
	done
}

boot_guest() {
	local out timeout=$2 g qemu_rc status
	if [ $# -lt 3 ] || [ -z "${GUEST_INITRD:-}" ]; then
		echo "usage: boot_guest OUTDIR TIMEOUT COMMAND... (after sourcing setup.sh)" >&2
		return 5
	fi
	# The guest mounts OUTDIR at this same path, so no symlinks in it.
	out=$(cd "$1" && pwd -P) || return 5
	shift 2
	g=$out/.guest
	rm -rf "$g" && mkdir -p "$g" || return 5
	printf '%s\n' "$*" >"$g/cmd"
	{
		printf 'TSOR_OUT=%s\n' "$(_boot_sq "$out")"
		printf 'REPO=%s\n' "$(_boot_sq "$REPO")"
		printf 'ABI=%s\n' "$(_boot_sq "$ABI")"
		printf 'GUEST_MODROOT=%s\n' "$(_boot_sq "$GUEST_MODROOT")"
	} >"$g/env"

	# shellcheck disable=SC2054 # QEMU's options are comma-separated
	local qemu=(
		qemu-system-x86_64
		# Never KVM: the guest kernel hangs under it on these hosts.
		-accel tcg,thread=multi -cpu max -smp 2 -m 2048
		-nographic -nodefaults -no-user-config -no-reboot -serial stdio
		-kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD"
		# panic=-1: reboot at once on a panic, which -no-reboot turns
		# into QEMU exiting, instead of waiting for the timeout.
		-append "console=ttyS0 panic=-1 mitigations=off"
		-fsdev "local,id=r,path=/,security_model=none,readonly=on,multidevs=remap"
		-device virtio-9p-pci,fsdev=r,mount_tag=hostroot
		-fsdev "local,id=o,path=$(_boot_qpath "$out"),security_model=none,multidevs=remap"
		-device virtio-9p-pci,fsdev=o,mount_tag=tsorout
	)
	# QEMU's status goes to a file: the pipeline's status is tee's.
	{
		qemu_rc=0
		timeout --foreground -k 10 "$timeout" "${qemu[@]}" </dev/null 2>&1 ||
			qemu_rc=$?
		echo "$qemu_rc" >"$g/qemu-status"
	} | tee "$out/console.log" | _boot_show "${BOOT_CONSOLE:-tests}" "$(_boot_usec)"
	qemu_rc=$(cat "$g/qemu-status")
	status=$(cat "$g/status" 2>/dev/null || true)

	local rc=4
	if grep -aqE '^\[ *[0-9.]+\] Kernel panic - not syncing' "$out/console.log"; then
		BOOT_RESULT="kernel panic (see $out/console.log)" rc=3
	elif [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
		BOOT_RESULT="timed out after $timeout s" rc=2
	elif [ -z "$status" ]; then
		BOOT_RESULT="guest stopped before the command finished (qemu exit $qemu_rc, see $out/console.log)"
	elif [ "$status" != 0 ]; then
		BOOT_RESULT="guest command exited with status $status" rc=1
	else
		BOOT_RESULT="guest command succeeded"
		return 0
	fi
	echo "==> $BOOT_RESULT" >&2
	return $rc
}
