#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The module's static checks (selftests/lint.sh), one test point each.
set -euo pipefail
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
# shellcheck source=selftests/lint.sh
source "$(dirname "$0")/../lint.sh"

check "checkpatch --strict" lint_checkpatch || true
check "W=1 build has no warning" lint_w1 || true
check "sparse (C=2) has no warning" lint_sparse || true
