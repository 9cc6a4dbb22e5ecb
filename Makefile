# SPDX-License-Identifier: GPL-2.0
#
# make            build tsor.ko and the tools against $(KDIR)
# make check      run every test (host checks, then a booted guest)
# make demo       set up a fresh machine and show tsor taking over a socket
# make lint       checkpatch, W=1 and sparse over the module
# make bench      measure tsor against TCP and SMC-R (bench/run.sh)

KVER	?= $(shell uname -r)
KDIR	?= /lib/modules/$(KVER)/build
PWD	:= $(shell pwd)

.PHONY: all module tools progs check demo lint bench clean

all: module tools progs

module:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

tools:
	$(MAKE) -C tools

progs:
	$(MAKE) -C selftests/progs

check:
	selftests/run.sh

demo:
	selftests/run.sh --demo

lint:
	selftests/lint.sh

bench:
	bench/run.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(PWD) clean
	$(MAKE) -C tools clean
	$(MAKE) -C selftests/progs clean
