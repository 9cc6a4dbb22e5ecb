#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# usage: install-cni.sh [--watch]
#
# Installs the tsor CNI plugin on this node and chains it after the node's
# pod network.  Meant for a container that mounts the host's /opt/cni/bin
# and /etc/cni/net.d (under /host by default).
#
#   1. Copies the plugin binary to TSOR_CNI_BIN_DIR/tsor, through a rename
#      (the old binary may be running), when it changed.
#   2. Takes the primary network config: the first *.conf, *.conflist or
#      *.json of TSOR_CNI_CONF_DIR by name (byte order, as the container
#      runtime sorts them), other than tsor's own.
#   3. Writes TSOR_CNI_CONF_DIR/TSOR_CNI_CONF: that network, its name kept,
#      with the TSOR_CNI_PLUGIN_CONF entry appended to its plugins (a
#      single-plugin .conf becomes a conflist; an entry of type tsor that
#      is there already is kept instead), through a rename, when it
#      changed.  TSOR_CNI_CONF must sort before the primary config, so
#      that the runtime uses it, and the primary's cniVersion must be one
#      the plugin speaks (CNI_COMMAND=VERSION), or every pod's setup on
#      the node would fail: else nothing is written.
#
# The primary config itself is never modified: its owner (flannel, calico,
# ...) may rewrite it at any time, and deleting TSOR_CNI_CONF takes tsor
# out of the chain at once.
#
#   --watch     then derive the conflist again every TSOR_CNI_INTERVAL
#               seconds, to follow changes of the primary config; a failed
#               round is logged and keeps the conflist last written
#   -h, --help  this help
#
# Environment (defaults):
#   TSOR_CNI_PLUGIN       the plugin binary to install (/opt/tsor/cni/tsor)
#   TSOR_CNI_BIN_DIR      where plugins go (/host/opt/cni/bin)
#   TSOR_CNI_CONF_DIR     where network configs are (/host/etc/cni/net.d)
#   TSOR_CNI_CONF         tsor's conflist (00-tsor.conflist)
#   TSOR_CNI_PLUGIN_CONF  the plugin's entry, a JSON object ({"type":"tsor"})
#   TSOR_CNI_INTERVAL     seconds between --watch rounds (30)
set -euo pipefail
# Globs sort as the runtime does.
export LC_ALL=C

plugin=${TSOR_CNI_PLUGIN:-/opt/tsor/cni/tsor}
bin_dir=${TSOR_CNI_BIN_DIR:-/host/opt/cni/bin}
conf_dir=${TSOR_CNI_CONF_DIR:-/host/etc/cni/net.d}
conf=${TSOR_CNI_CONF:-00-tsor.conflist}
entry=${TSOR_CNI_PLUGIN_CONF:-'{"type":"tsor"}'}
interval=${TSOR_CNI_INTERVAL:-30}

usage() { sed -n '4,/^set /s/^# \{0,1\}//p' "$0"; }
log() { printf 'install-cni: %s\n' "$*" >&2; }

# replace TMP DST MODE: renames TMP, in DST's directory, over DST if their
# contents differ, so that no reader ever sees DST half-written; else
# removes TMP.  A hidden .tmp name is neither a CNI config nor a plugin.
replace() {
	if cmp -s "$1" "$2"; then
		rm -f "$1"
		return 0
	fi
	if ! { chmod "$3" "$1" && mv -f "$1" "$2"; }; then
		rm -f "$1"
		return 1
	fi
	log "wrote $2"
}

# The first network config by name other than ours, if any.
primary_conf() {
	local f
	for f in "$conf_dir"/*; do
		case ${f##*/} in
		"$conf") ;;
		*.conf|*.conflist|*.json) [ -f "$f" ] && { echo "$f"; return 0; } ;;
		esac
	done
	return 0
}

install_conf() {
	local primary tmp=$conf_dir/.$conf.tmp
	primary=$(primary_conf)
	if [ -z "$primary" ]; then
		log "no network config in $conf_dir yet: is the primary CNI installed?"
		return 1
	fi
	if [[ ! $conf < ${primary##*/} ]]; then
		log "$conf does not sort before ${primary##*/}: the runtime would not use it"
		return 1
	fi
	if ! jq --argjson tsor "$entry" --argjson versions "$versions" '
		if type != "object" or (.name | type) != "string" then
			error("not a CNI network config")
		elif (.cniVersion | IN($versions[]) | not) then
			error("cniVersion \(.cniVersion) is not one of the tsor plugin: \($versions)")
		elif has("plugins") then .
		elif (.type | type) == "string" then
			{cniVersion, name, plugins: [.]}
		else error("neither plugins nor type") end
		| if any(.plugins[]; .type == "tsor") then . else .plugins += [$tsor] end
		' "$primary" >"$tmp"; then
		log "cannot chain tsor into $primary"
		rm -f "$tmp"
		return 1
	fi
	replace "$tmp" "$conf_dir/$conf" 644
}

case ${1:-} in
--watch|'') ;;
-h|--help) usage; exit 0 ;;
*) usage >&2; exit 2 ;;
esac
if ! jq -e 'type == "object" and .type == "tsor"' <<<"$entry" >/dev/null; then
	log "TSOR_CNI_PLUGIN_CONF is not a JSON object of type tsor: $entry"
	exit 2
fi
[[ $interval =~ ^[0-9]+$ ]] ||
	{ log "TSOR_CNI_INTERVAL must be a number, not '$interval'"; exit 2; }
versions=$(CNI_COMMAND=VERSION "$plugin" <<<'{"cniVersion": "1.0.0"}' |
	   jq -ce '.supportedVersions | arrays') ||
	{ log "$plugin does not tell its CNI versions"; exit 1; }

# The plugin first, so that no runtime finds a config naming a missing one.
cp "$plugin" "$bin_dir/.tsor.tmp"
replace "$bin_dir/.tsor.tmp" "$bin_dir/tsor" 755
install_conf
log "tsor is chained after $(primary_conf) in $conf_dir/$conf"
[ "${1:-}" = --watch ] || exit 0

# As PID 1 of its container, bash would ignore SIGTERM: trap it, and sleep
# in the background so that the trap runs at once, ending the sleep too.
# shellcheck disable=SC2046 # one word per job
trap 'kill $(jobs -p) 2>/dev/null; exit 0' TERM INT
log "following $conf_dir every ${interval}s"
while :; do
	sleep "$interval" &
	wait $!
	install_conf || log "keeping $conf_dir/$conf as it is"
done
