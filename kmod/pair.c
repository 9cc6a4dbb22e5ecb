// SPDX-License-Identifier: GPL-2.0
/* Placeholder: pairing. */
#include "channel.h"
