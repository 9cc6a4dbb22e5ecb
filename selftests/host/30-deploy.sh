#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# deploy/: the manifests lint and hang together, the scripts lint clean,
# the peer agent renders node lists and applies them as it should, and
# install-cni.sh chains tsor into existing CNI configs.
# There is no cluster and no module here: kubectl and tsorctl are test
# doubles, the latter judging peer files with the real tsorctl's parser.
set -euo pipefail
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lib/setup.sh
source "$(dirname "$0")/../lib/setup.sh"

deploy=$REPO/deploy
agent=$deploy/agent/tsor-agent.sh
data=$deploy/agent/testdata
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# What only these checks use; Debian's python3, as python3-yaml is its.
deploy_packages() {
	local p missing=()
	for p in yamllint shellcheck python3-yaml jq; do
		dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] || { tsor_apt_update && tsor_apt_install "${missing[@]}"; }
}
check "packages: yamllint shellcheck python3-yaml jq" deploy_packages
check "tsorctl builds" make -s -C "$REPO/tools"

## Lint

# From the top, where the scripts' "source=" directives start.
shellcheck_scripts() {
	cd "$REPO" && shellcheck -x deploy/agent/tsor-agent.sh deploy/install-cni.sh \
		selftests/host/30-deploy.sh selftests/host/40-dkms-install.sh
}
check "shellcheck of the scripts" shellcheck_scripts || true
check "yamllint --strict deploy/" yamllint --strict -c "$deploy/.yamllint" "$deploy" || true

# manifests MODE: the problems of deploy/*.yaml, one a line; false if any.
#   docs  every document has apiVersion, kind, metadata.name, and a
#         namespaced one the namespace of the Namespace
#   refs  what the DaemonSet names exists and fits the scripts and the
#         image; its pod and container fields are real ones (no cluster
#         here to refuse a misspelt one)
manifests() {
	/usr/bin/python3 - "$1" "$deploy" <<'EOF'
import glob, json, os, re, sys, yaml

POD_FIELDS = set("""activeDeadlineSeconds affinity automountServiceAccountToken
    containers dnsConfig dnsPolicy enableServiceLinks ephemeralContainers
    hostAliases hostIPC hostNetwork hostPID hostUsers hostname
    imagePullSecrets initContainers nodeName nodeSelector os overhead
    preemptionPolicy priority priorityClassName readinessGates
    resourceClaims restartPolicy runtimeClassName schedulerName
    schedulingGates securityContext serviceAccount serviceAccountName
    setHostnameAsFQDN shareProcessNamespace subdomain
    terminationGracePeriodSeconds tolerations topologySpreadConstraints
    volumes""".split())
CONTAINER_FIELDS = set("""args command env envFrom image imagePullPolicy
    lifecycle livenessProbe name ports readinessProbe resizePolicy resources
    restartPolicy securityContext startupProbe stdin stdinOnce
    terminationMessagePath terminationMessagePolicy tty volumeDevices
    volumeMounts workingDir""".split())

mode, deploy = sys.argv[1:]
docs, problems = [], []
for path in sorted(glob.glob(os.path.join(deploy, "*.yaml"))):
    with open(path) as f:
        docs += [(os.path.basename(path), d) for d in yaml.safe_load_all(f)]

def named(kind):
    return {d["metadata"]["name"]: d for _, d in docs
            if isinstance(d, dict) and d.get("kind") == kind}

def check_docs():
    if not docs:
        problems.append("no manifest in deploy/")
    for path, d in docs:
        if not isinstance(d, dict) or not all(
                isinstance(x, str) and x for x in
                (d.get("apiVersion"), d.get("kind"),
                 (d.get("metadata") or {}).get("name"))):
            problems.append(f"{path}: a document without apiVersion, kind "
                            f"and metadata.name: {d!r:.60}")
    if problems:
        return
    ns = list(named("Namespace"))
    for path, d in docs:
        got = d["metadata"].get("namespace")
        if d["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding") \
                and [got] != ns:
            problems.append(f"{path}: {d['kind']} {d['metadata']['name']} "
                            f"is in namespace {got}, not in {ns}")

# What the ServiceAccount SA of namespace NS may do to nodes.
def node_verbs(sa, ns):
    roles, verbs = named("ClusterRole"), set()
    for b in named("ClusterRoleBinding").values():
        if {"kind": "ServiceAccount", "name": sa, "namespace": ns} not in b["subjects"]:
            continue
        role = roles.get(b["roleRef"]["name"])
        if b["roleRef"]["kind"] != "ClusterRole" or not role:
            problems.append(f"ClusterRoleBinding {b['metadata']['name']}: "
                            f"no ClusterRole {b['roleRef']['name']}")
            continue
        for r in role["rules"]:
            if "" in r["apiGroups"] and "nodes" in r["resources"]:
                verbs |= set(r["verbs"])
    return verbs

def check_configmap(cm, spec, where):
    scripts = "".join(open(os.path.join(deploy, p)).read()
                      for p in ("agent/tsor-agent.sh", "install-cni.sh"))
    data = cm["data"]
    problems.extend(f"ConfigMap {cm['metadata']['name']}: no script reads {key}"
                    for key in data if "${" + key not in scripts)
    want = ",".join(f"{k}={v}" for k, v in spec.get("nodeSelector", {}).items())
    if data.get("TSOR_NODE_SELECTOR", want) != want:
        problems.append(f"TSOR_NODE_SELECTOR is not {where}'s nodeSelector {want}")
    try:
        if json.loads(data.get("TSOR_CNI_PLUGIN_CONF", '{"type": "tsor"}'))["type"] != "tsor":
            problems.append("TSOR_CNI_PLUGIN_CONF is not of type tsor")
    except ValueError as e:
        problems.append(f"TSOR_CNI_PLUGIN_CONF: {e}")

def check_refs():
    dockerfile = open(os.path.join(deploy, "Dockerfile")).read()
    sas, cms = named("ServiceAccount"), named("ConfigMap")
    daemonsets = named("DaemonSet")
    if len(daemonsets) != 1:
        problems.append(f"{len(daemonsets)} DaemonSets, not 1")
    for ds in daemonsets.values():
        where = "DaemonSet " + ds["metadata"]["name"]
        tmpl = ds["spec"]["template"]
        spec = tmpl["spec"]
        problems.extend(f"{where}: no pod field {k}" for k in spec.keys() - POD_FIELDS)
        sa = spec.get("serviceAccountName")
        if sa not in sas:
            problems.append(f"{where}: no ServiceAccount {sa}")
        verbs = node_verbs(sa, ds["metadata"]["namespace"])
        if not {"get", "list", "watch"} <= verbs:
            problems.append(f"{where}: {sa} may only {sorted(verbs)} nodes")
        if ds["spec"]["selector"]["matchLabels"].items() - tmpl["metadata"]["labels"].items():
            problems.append(f"{where}: its selector misses its pods' labels")
        containers = spec.get("initContainers", []) + spec["containers"]
        volumes = {v["name"] for v in spec.get("volumes", [])}
        used = set()
        for c in containers:
            cwhere = f"{where}: container {c['name']}"
            problems.extend(f"{cwhere}: no field {k}" for k in c.keys() - CONTAINER_FIELDS)
            used |= {e["configMapRef"]["name"] for e in c.get("envFrom", [])}
            problems.extend(f"{cwhere}: no volume {m['name']}"
                            for m in c.get("volumeMounts", []) if m["name"] not in volumes)
            if c["image"] != containers[0]["image"]:
                problems.append(f"{cwhere}: image {c['image']}, not the others'")
            cmd = c["command"][0]
            if not re.search(rf"^COPY .*\b{re.escape(os.path.basename(cmd))}\b.*"
                             rf" {re.escape(os.path.dirname(cmd))}/$", dockerfile, re.M):
                problems.append(f"{cwhere}: deploy/Dockerfile installs no {cmd}")
        for name in sorted(used):
            if name in cms:
                check_configmap(cms[name], spec, where)
            else:
                problems.append(f"{where}: no ConfigMap {name}")

try:
    {"docs": check_docs, "refs": check_refs}[mode]()
except (KeyError, TypeError, IndexError, AttributeError) as e:
    problems.append(f"a manifest misses a field or has the wrong type: {e!r}")
print("\n".join(problems))
sys.exit(1 if problems else 0)
EOF
}
check "manifests: each has apiVersion, kind, metadata.name, and one namespace" manifests docs || true
check "manifests: the DaemonSet's account, role, config and image hang together" manifests refs || true

## The peer agent: rendering

# parses FILE: the real tsorctl finds every line of FILE valid.  In a new
# user namespace it cannot touch a real table: it stops at "module not
# loaded" (3) or "permission denied" (4), only after reading the file.
parses() {
	local rc=0
	unshare --user "$REPO/tools/tsorctl" peer sync "$1" || rc=$?
	[ "$rc" = 3 ] || [ "$rc" = 4 ]
}

rc=0
out=$("$agent" --render <"$data/nodes.json" 2>"$scratch/notes") || rc=$?
notes=$(cat "$scratch/notes")
check_eq "--render of testdata/nodes.json succeeds" 0 "$rc"
check_eq "and prints testdata/peers" "$(cat "$data/peers")" "$out"
node() { grep "# $1\$" <<<"$out" || true; }
check_eq "dual-stack node: both pod CIDRs, via its first InternalIP" \
	$'10.244.0.0/24 via 192.168.1.10  # node-a\nfd00:10:244::/64 via 192.168.1.10  # node-a' \
	"$(node node-a)"
check_eq "the annotation overrides the InternalIP; .spec.podCIDR alone is read" \
	"10.244.1.0/24 via 192.168.100.11  # node-b" "$(node node-b)"
check_eq "IPv6 node address: the InternalIP, not the ExternalIP before it" \
	"fd00:10:244:2::/64 via fd00:1::12  # node-c" "$(node node-c)"
check_eq "an IPv6 annotation for an IPv4 pod CIDR" \
	"10.244.4.0/24 via fd00:2::15  # node-e" "$(node node-e)"
check_match "a node without pod CIDR is skipped, with a log line" \
	"node node-d: no pod CIDR yet, skipped" "$notes"
check_match "a node without address is skipped, with a log line" \
	"node node-f: no tsor.io/rdma-addr annotation and no InternalIP, skipped" "$notes"
check "tsorctl's parser accepts the rendered file" parses "$data/peers"
printf '10.244.1.1/24 via 192.168.1.11\n' >"$scratch/hostbits"
check_fail "and would refuse host bits (the parser check works)" parses "$scratch/hostbits"
check_eq "no node: an empty file, which empties the table" "" \
	"$("$agent" --render <<<'{"kind": "List", "items": []}' 2>&1)"

# rejects DESC JQ REGEX: --render of testdata/nodes.json edited by JQ fails,
# prints nothing, and logs REGEX.
rejects() {
	local rc=0 out
	jq "$2" "$data/nodes.json" >"$scratch/bad.json"
	out=$("$agent" --render <"$scratch/bad.json" 2>"$scratch/notes") || rc=$?
	if [ "$rc" != 1 ] || [ -n "$out" ]; then
		fail "$1" "exit status $rc, printed: $out"
	else
		check_match "$1" "$3" "$(cat "$scratch/notes")"
	fi
}
sel() { printf '(.items[] | select(.metadata.name == "%s")' "$1"; }
rejects "rejects an annotation that is no address" \
	"$(sel node-b) | .metadata.annotations[\"tsor.io/rdma-addr\"]) = \"rdma-b\"" \
	"node node-b: 'rdma-b' is not an IP address"
rejects "rejects a malformed IPv6 InternalIP" \
	"$(sel node-c) | .status.addresses[1].address) = \"fd00::1::12\"" \
	"node node-c: 'fd00::1::12' is not an IP address"
rejects "rejects an over-long prefix" \
	"$(sel node-a) | .spec.podCIDRs[1]) = \"fd00:10:244::/129\"" \
	"node node-a: pod CIDR 'fd00:10:244::/129' is not ADDR/LEN"
rejects "rejects a pod CIDR of two nodes" \
	"$(sel node-e) | .spec.podCIDRs) = [\"10.244.1.0/24\"]" \
	"node node-e: pod CIDR 10.244.1.0/24 is node node-b's too"
rejects "rejects what is not a node list" '{kind: "Status", code: 403}' \
	"not a list of nodes"
rc=0
"$agent" --render <<<'<html>' >/dev/null 2>&1 || rc=$?
check_eq "rejects what is not JSON" 1 "$rc"

## The peer agent: applying

# Test doubles.  kubectl serves the nodes, following $FAKE/plan, one line
# per call: "ok [FILE]" (default nodes.json), "reload [FILE]" (the module
# was reloaded: the kernel's table is empty), "fail"; past the plan, fail.
# tsorctl keeps the kernel's table in $FAKE/table, and logs each sync's
# kubectl call number to $FAKE/syncs.
export FAKE=$scratch/fake REAL_TSORCTL=$REPO/tools/tsorctl
mkdir -p "$scratch/bin" "$FAKE"
cat >"$scratch/bin/kubectl" <<'EOF'
#!/bin/bash
n=$(($(cat "$FAKE/calls" 2>/dev/null || echo 0) + 1))
echo "$n" >"$FAKE/calls"
read -r step file < <(sed -n "${n}p" "$FAKE/plan")
case $step in
ok) ;;
reload) : >"$FAKE/table" ;;
*) echo "error: the server is unreachable" >&2; exit 1 ;;
esac
cat "$FAKE/${file:-nodes.json}"
EOF
cat >"$scratch/bin/tsorctl" <<'EOF'
#!/bin/bash
case "$1 $2" in
"peer show") cat "$FAKE/table" ;;
"peer sync")
	cat "$FAKE/calls" >>"$FAKE/syncs"
	rc=0
	err=$(unshare --user "$REAL_TSORCTL" peer sync "$3" 2>&1) || rc=$?
	if [ "$rc" != 3 ] && [ "$rc" != 4 ]; then
		echo "$err" >&2
		exit "$rc"
	fi
	sed -e 's/ *#.*//' -e '/^$/d' "$3" >"$FAKE/table" ;;
*) exit 2 ;;
esac
EOF
chmod +x "$scratch/bin/kubectl" "$scratch/bin/tsorctl"
cp "$data/nodes.json" "$FAKE/"
# The module is loaded, its table empty.
: >"$FAKE/table"
# node-d got its pod CIDR.
jq "$(sel node-d) | .spec.podCIDRs) = [\"10.244.3.0/24\"]" "$data/nodes.json" \
	>"$FAKE/grown.json"
peers=$scratch/run/peers
export PATH=$scratch/bin:$PATH TSOR_PEER_FILE=$peers TSOR_AGENT_INTERVAL=0

# run_agent PLAN ARGS...: the agent with a fresh plan, its log in $FAKE/log.
run_agent() {
	local plan=$1
	shift
	rm -f "$FAKE/calls" "$FAKE/syncs"
	printf '%s\n' "$plan" >"$FAKE/plan"
	"$agent" "$@" 2>"$FAKE/log"
}
syncs() { paste -sd ' ' "$FAKE/syncs" 2>/dev/null || true; }
agent_log() { cat "$FAKE/log"; }

rc=0
run_agent ok --once || rc=$?
check_eq "--once applies the node list" 0 "$rc" || { diag "$(agent_log)"; exit 1; }
check_eq "the peer file is the rendered one" "$(cat "$data/peers")" "$(cat "$peers")"
check_eq "the kernel got it" "$(sed 's/ *#.*//' "$data/peers")" "$(cat "$FAKE/table")"
check_match "and says so" "peer table synced: 5 entries" "$(agent_log)"
check_match "with the skipped nodes" "node node-d: no pod CIDR yet, skipped" "$(agent_log)"
check_eq "no temporary file is left" "peers" "$(ls "$scratch/run")"

# The plan, round by round: a first sync in any case; unchanged; the module
# reloaded; a node got a pod CIDR; a failure; unchanged, which resets the
# count of failures; then two failures in a row.
rc=0
TSOR_AGENT_RETRIES=2 run_agent $'ok\nok\nreload\nok grown.json\nfail\nok grown.json\nfail' ||
	rc=$?
check_eq "the loop ends with status 1 after 2 failed rounds in a row" 1 "$rc"
check_match "saying why" "giving up: 2 failed rounds in a row" "$(agent_log)"
check_eq "a success in between reset the count: it read the nodes 8 times" \
	8 "$(cat "$FAKE/calls")"
check_eq "it synced on start, after the reload and the change, only" "1 3 4" "$(syncs)"
check_eq "the peer file has node-d's CIDR" \
	"10.244.3.0/24 via 192.168.1.13  # node-d" "$(grep node-d "$peers")"
check_match "the log tells why a round failed" "cannot list the nodes" "$(agent_log)"

# refused DESC JQ REGEX: a round on testdata/nodes.json edited by JQ fails,
# leaving the table and the peer file as they were and no other file, and
# logs REGEX.
refused() {
	local rc=0 before table
	jq "$2" "$data/nodes.json" >"$FAKE/bad.json"
	before=$(cat "$peers") table=$(cat "$FAKE/table")
	run_agent "ok bad.json" --once || rc=$?
	if [ "$rc" != 1 ]; then
		fail "$1" "exit status $rc, not 1"
	elif [ "$(cat "$peers")" != "$before" ] || [ "$(cat "$FAKE/table")" != "$table" ] ||
	     [ "$(ls "$scratch/run")" != peers ]; then
		fail "$1" "the table or the peer file changed, or left: $(ls "$scratch/run")"
	else
		check_match "$1" "$3" "$(agent_log)"
	fi
}
refused "invalid node data leaves the table and the peer file as they were" \
	"$(sel node-b) | .metadata.annotations[\"tsor.io/rdma-addr\"]) = \"rdma-b\"" \
	"'rdma-b' is not an IP address.*left as it was"
refused "so does a file tsorctl refuses (host bits)" \
	"$(sel node-b) | .spec.podCIDR) = \"10.244.1.1/24\"" \
	"host bits set.*peer sync failed: the peer table is left as it was"

rc=0
TSOR_AGENT_INTERVAL=soon run_agent ok || rc=$?
check_eq "a bad setting is a usage error" 2 "$rc"

# On SIGTERM (a pod's end) it stops at once, not after its sleep.
rm -f "$FAKE/calls"
printf 'ok\n' >"$FAKE/plan"
TSOR_AGENT_INTERVAL=60 "$agent" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do
	[ -s "$FAKE/calls" ] && break
	sleep 0.1
done
start=$SECONDS rc=0
kill -TERM "$pid"
wait "$pid" || rc=$?
check_eq "SIGTERM ends the loop with status 0" 0 "$rc"
check_ge "within 2 s" $((SECONDS - start)) 2  # 2 >= the time it took

## install-cni.sh

cni=$scratch/cni
mkdir -p "$cni/bin" "$cni/net.d"
# fake_plugin VERSIONS: a stand-in for the plugin, which answers VERSION
# only, listing the JSON array VERSIONS.
fake_plugin() {
	printf '#!/bin/sh\necho %s\n' \
		"'{\"cniVersion\":\"1.0.0\",\"supportedVersions\":$1}'" >"$cni/plugin"
	chmod +x "$cni/plugin"
}
fake_plugin '["0.3.0","0.3.1","0.4.0","1.0.0"]'
entry='{"type":"tsor","enable":true}'
export TSOR_CNI_PLUGIN=$cni/plugin TSOR_CNI_BIN_DIR=$cni/bin \
	TSOR_CNI_CONF_DIR=$cni/net.d TSOR_CNI_PLUGIN_CONF=$entry
install_cni=$deploy/install-cni.sh
ours=$cni/net.d/00-tsor.conflist
# chained FILE: FILE's network with the tsor entry last, as jq -S shows it.
chained() { jq -S --argjson e "$entry" '.plugins += [$e]' "$1"; }

# flannel's own conflist (kube-flannel.yml) and calico's kubeconfig file.
cat >"$cni/net.d/10-flannel.conflist" <<'EOF'
{
  "name": "cbr0",
  "cniVersion": "0.3.1",
  "plugins": [
    {"type": "flannel", "delegate": {"hairpinMode": true, "isDefaultGateway": true}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
echo 'apiVersion: v1' >"$cni/net.d/calico-kubeconfig"
flannel_sum=$(sha256sum <"$cni/net.d/10-flannel.conflist")
check "install-cni.sh on a flannel node" "$install_cni"
check "the plugin is installed" cmp "$cni/plugin" "$cni/bin/tsor"
check "executable" test -x "$cni/bin/tsor"
check_eq "00-tsor.conflist is flannel's network with tsor appended" \
	"$(chained "$cni/net.d/10-flannel.conflist")" "$(jq -S . "$ours")"
check_eq "flannel's own file is untouched" "$flannel_sum" \
	"$(sha256sum <"$cni/net.d/10-flannel.conflist")"
check_eq "no temporary file is left" \
	"bin/tsor net.d/00-tsor.conflist net.d/10-flannel.conflist net.d/calico-kubeconfig" \
	"$(cd "$cni" && find bin net.d -type f | sort | paste -sd ' ')"
inode=$(stat -c %i:%Y "$ours" "$cni/bin/tsor")
sleep 1
check "a second run succeeds" "$install_cni"
check_eq "and rewrites nothing" "$inode" "$(stat -c %i:%Y "$ours" "$cni/bin/tsor")"

jq '.plugins[1].capabilities.bandwidth = true' "$cni/net.d/10-flannel.conflist" >"$scratch/f"
mv "$scratch/f" "$cni/net.d/10-flannel.conflist"
check "after flannel changed its config" "$install_cni"
check_eq "00-tsor.conflist follows it" \
	"$(chained "$cni/net.d/10-flannel.conflist")" "$(jq -S . "$ours")"

jq '.plugins += [{"type": "tsor"}]' "$cni/net.d/10-flannel.conflist" >"$scratch/f"
mv "$scratch/f" "$cni/net.d/10-flannel.conflist"
check "a primary that chains tsor already" "$install_cni"
check_eq "gets no second tsor" 1 "$(jq '[.plugins[] | select(.type == "tsor")] | length' "$ours")"

rm "$cni/net.d/10-flannel.conflist"
# calico's 10-calico.conflist, trimmed; a later loopback config.
cat >"$cni/net.d/10-calico.conflist" <<'EOF'
{
  "name": "k8s-pod-network",
  "cniVersion": "0.3.1",
  "plugins": [
    {"type": "calico", "datastore_type": "kubernetes", "ipam": {"type": "calico-ipam"},
     "policy": {"type": "k8s"}, "kubernetes": {"kubeconfig": "/etc/cni/net.d/calico-kubeconfig"}},
    {"type": "portmap", "snat": true, "capabilities": {"portMappings": true}},
    {"type": "bandwidth", "capabilities": {"bandwidth": true}}
  ]
}
EOF
echo '{"cniVersion": "0.3.1", "name": "lo", "type": "loopback"}' >"$cni/net.d/99-loopback.conf"
check "install-cni.sh on a calico node" "$install_cni"
check_eq "chains tsor after calico's plugins" \
	"$(chained "$cni/net.d/10-calico.conflist")" "$(jq -S . "$ours")"

rm "$cni/net.d/10-calico.conflist"
cat >"$cni/net.d/10-bridge.conf" <<'EOF'
{
  "cniVersion": "0.4.0",
  "name": "bridge",
  "type": "bridge",
  "bridge": "cni0",
  "isGateway": true,
  "ipMasq": true,
  "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]]}
}
EOF
cp "$cni/net.d/10-bridge.conf" "$scratch/bridge.conf"
check "install-cni.sh on a node with a single-plugin .conf" "$install_cni"
check_eq "makes it a conflist of the same network, then tsor" \
	"$(jq -S --argjson e "$entry" '{cniVersion, name, plugins: [., $e]}' "$cni/net.d/10-bridge.conf")" \
	"$(jq -S . "$ours")"

good=$(cat "$ours")
echo '{"name": "broken", "plugins": ' >"$cni/net.d/05-broken.conflist"
check_fail "a primary that is no JSON fails" "$install_cni"
check_eq "leaving 00-tsor.conflist as it was" "$good" "$(cat "$ours")"
rm "$cni/net.d/05-broken.conflist"
echo '{"cniVersion": "0.3.1", "name": "multus", "type": "multus"}' >"$cni/net.d/00-multus.conf"
check_fail "a primary that sorts before 00-tsor.conflist fails" "$install_cni"
rm "$cni/net.d/00-multus.conf"
rc=0
TSOR_CNI_PLUGIN_CONF='{"type":"bridge"}' "$install_cni" 2>/dev/null || rc=$?
check_eq "a plugin entry of another type is a usage error" 2 "$rc"

# A plugin that does not speak the primary's CNI version (as tsor before
# 0.3.x support) would fail every pod if chained: the installer refuses.
fake_plugin '["0.4.0","1.0.0"]'
rm "$cni/net.d/"*
echo '{"cniVersion": "0.3.1", "name": "cbr0", "plugins": [{"type": "flannel"}]}' \
	>"$cni/net.d/10-flannel.conflist"
rc=0
out=$("$install_cni" 2>&1) || rc=$?
check_eq "a primary of a CNI version the plugin does not speak fails" 1 "$rc"
check_match "saying so" 'cniVersion 0.3.1 is not one of the tsor plugin: \["0.4.0","1.0.0"\]' "$out"
check_eq "and chains nothing" 10-flannel.conflist "$(ls -A "$cni/net.d")"
printf '#!/bin/sh\nexit 1\n' >"$cni/plugin"
check_fail "a plugin that does not tell its CNI versions fails" "$install_cni"
rm "$cni/net.d/"*
check_fail "a node with no network config yet fails" "$install_cni"
check_eq "writing nothing" "" "$(ls -A "$cni/net.d")"
jq '.cniVersion = "1.0.0"' "$scratch/bridge.conf" >"$cni/net.d/10-bridge.conf"
check "the real plugin, tools/cni/tsor, chains into a CNI 1.0.0 network" \
	env TSOR_CNI_PLUGIN="$REPO/tools/cni/tsor" "$install_cni"
check "and is installed" cmp "$REPO/tools/cni/tsor" "$cni/bin/tsor"
rm "$cni/net.d/"*
echo '{"cniVersion": "0.3.1", "name": "cbr0", "plugins": [{"type": "flannel"}]}' \
	>"$cni/net.d/10-flannel.conflist"
check "the real plugin chains into flannel's own CNI 0.3.1 config" \
	env TSOR_CNI_PLUGIN="$REPO/tools/cni/tsor" "$install_cni"
check_eq "tsor comes after flannel" '["flannel","tsor"]' \
	"$(jq -c '[.plugins[].type]' "$ours")"
rm "$cni/net.d/"*

# --watch follows the primary, and stops at once on SIGTERM.
fake_plugin '["0.3.0","0.3.1","0.4.0","1.0.0"]'
echo '{"cniVersion": "0.3.1", "name": "lo", "type": "loopback"}' >"$cni/net.d/10-lo.conf"
TSOR_CNI_INTERVAL=1 "$install_cni" --watch >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do
	[ -f "$ours" ] && break
	sleep 0.1
done
jq '.name = "lo2"' "$cni/net.d/10-lo.conf" >"$scratch/f" && mv "$scratch/f" "$cni/net.d/10-lo.conf"
for _ in $(seq 50); do
	[ "$(jq -r .name "$ours" 2>/dev/null)" = lo2 ] && break
	sleep 0.1
done
check_eq "--watch follows a change of the primary config" lo2 "$(jq -r .name "$ours" 2>&1)"
rc=0
kill -TERM "$pid"
wait "$pid" || rc=$?
check_eq "and SIGTERM ends it with status 0" 0 "$rc"
