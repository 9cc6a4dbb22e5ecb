// SPDX-License-Identifier: GPL-2.0
/* Placeholder: the channel layer. */
#include "channel.h"

static const struct tsor_xport_up tsor_up = {};

void tsor_channel_put(struct tsor_channel *ch)
{
}

int tsor_channel_init(void)
{
	int err;

	err = tsor_local_init(&tsor_up);
	if (err)
		return err;
	err = tsor_link_init(&tsor_up);
	if (err)
		tsor_local_exit();
	return err;
}

void tsor_channel_exit(void)
{
	tsor_link_exit();
	tsor_local_exit();
}
