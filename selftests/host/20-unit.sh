#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# User-space unit tests: the module's pure logic (kmod/ring.h) and tsorctl's
# parsing and output against scripted netlink replies.  Neither needs the
# module; the module itself is tested in the guest.
set -euo pipefail
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
REPO=$(cd "$(dirname "$0")/../.." && pwd)

check "ring and credit arithmetic (selftests/unit)" make -s -C "$REPO/selftests/unit" check
check "tsorctl unit tests (tools/tests)" make -s -C "$REPO/tools" check
