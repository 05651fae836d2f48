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
CONFIG_EXAMPLES := $(sort $(wildcard configs/examples/*.cfg))
.PHONY: check-config-examples
check-config-examples: $(MOAT_CFG)
	$(MOAT_CFG) check --cpus 4 --memory 384M --module selftest.bin --module prot32.bin \
	    --module real16.bin --module bench.bin --module guest.elf $(CONFIG_EXAMPLES)

# ---- fuzzing (libFuzzer from Debian's clang-14: packages clang and libclang-rt-14-dev) -------
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_CFLAGS  := -std=gnu11 -O1 -g -I. -Wall -Wextra -DMOAT_HOST -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CONFIG  := $(BUILD)/fuzz/fuzz_config
FUZZ_CONFIG_CORPUS := $(BUILD)/fuzz/corpus-config

$(FUZZ_CONFIG): tests/fuzz/fuzz_config.c kernel/config.c kernel/config.h
	@mkdir -p $(dir $@)
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_config.c kernel/config.c

# The working corpus lives under build/; configs/examples seed it and are never written.
.PHONY: fuzz-config fuzz-smoke
fuzz-config: $(FUZZ_CONFIG)
	@mkdir -p $(FUZZ_CONFIG_CORPUS) $(BUILD)/fuzz/artifacts
	$(FUZZ_CONFIG) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
	    -artifact_prefix=$(BUILD)/fuzz/artifacts/ $(FUZZ_CONFIG_CORPUS) configs/examples

# Quiet unless it finds something: libFuzzer's progress lines go to build/fuzz/smoke.log.
fuzz-smoke: $(FUZZ_CONFIG)
	@mkdir -p $(FUZZ_CONFIG_CORPUS) $(BUILD)/fuzz/artifacts
	@if $(FUZZ_CONFIG) -max_total_time=$(FUZZ_SMOKE_SECONDS) -max_len=4096 -timeout=10 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/artifacts/ $(FUZZ_CONFIG_CORPUS) \
	    configs/examples > $(BUILD)/fuzz/smoke.log 2>&1; then \
	    echo "fuzz-smoke: config parser: $$(grep -o 'stat::number_of_executed_units: *[0-9]*' \
	        $(BUILD)/fuzz/smoke.log | grep -o '[0-9]*$$') inputs in $(FUZZ_SMOKE_SECONDS) s, no crash"; \
	else tail -40 $(BUILD)/fuzz/smoke.log; echo "fuzz-smoke: FAILED (see $(BUILD)/fuzz/)"; exit 1; fi
