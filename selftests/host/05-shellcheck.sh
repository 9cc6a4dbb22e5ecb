#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Every shell script of the project (tests, runner, deploy, CI) is clean
# under the shell linter at warning level.
set -euo pipefail
# shellcheck source=selftests/lib/tap.sh
source "$(dirname "$0")/../lib/tap.sh"
cd "$(dirname "$0")/../.."

mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
check_ge "scripts found" 30 "${#scripts[@]}"
check "shellcheck -S warning over ${#scripts[@]} scripts" \
	shellcheck -x -S warning "${scripts[@]}"
