# SPDX-License-Identifier: Apache-2.0
# The partition configuration file (docs/config.md): kernel/config.c is linked into the kernel,
# its unit test, the host tool build/moat-cfg (`moat-cfg check FILE`) and a libFuzzer target.
KERNEL_SRCS += kernel/config.c
UNIT_TESTS  += config
UNIT_config_SRCS := tests/unit/test_config.c kernel/config.c

# ---- host tool ---------------------------------------------------------------------------
MOAT_CFG := $(BUILD)/moat-cfg
HOST_TOOLS += $(MOAT_CFG)

$(MOAT_CFG): $(BUILD)/host/tools/moat-cfg.c.o $(BUILD)/host/kernel/config.c.o
	$(CC) $(HCFLAGS) -o $@ $^

# Every example must pass `moat-cfg check`; the images they name are the test guests.
CONFIG_EXAMPLES := $(sort $(wildcard configs/examples/*.cfg)) configs/default/moat.cfg
.PHONY: check-config-examples
check-config-examples: $(MOAT_CFG)
	$(MOAT_CFG) check --cpus 4 --memory 384M --module selftest.bin --module prot32.bin \
	    --module real16.bin --module bench.bin --module guest.elf --module heartbeat.bin \
	    --module hostile.bin $(CONFIG_EXAMPLES)

# ---- fuzzing: configs/examples seed the corpus -------------------------------------------
$(eval $(call fuzz_target,config,tests/fuzz/fuzz_config.c kernel/config.c kernel/config.h,4096,configs/examples))
