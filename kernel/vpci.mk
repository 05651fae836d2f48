# SPDX-License-Identifier: Apache-2.0
# Virtual PCI configuration space (kernel/vpci.c): a partition's bus 0 through 0xCF8/0xCFC and
# ECAM. Pure, so it also builds as a host unit test and a libFuzzer target.
KERNEL_SRCS += kernel/vpci.c
UNIT_TESTS  += vpci
UNIT_vpci_SRCS := tests/unit/test_vpci.c kernel/vpci.c

# ---- fuzzing (FUZZ_CC, FUZZ_CFLAGS and FUZZ_SMOKE_SECONDS come from kernel/config.mk) ---------
FUZZ_VPCI := $(BUILD)/fuzz/fuzz_vpci
FUZZ_VPCI_CORPUS := $(BUILD)/fuzz/corpus-vpci

$(FUZZ_VPCI): tests/fuzz/fuzz_vpci.c kernel/vpci.c kernel/vpci.h
	@mkdir -p $(dir $@)
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_vpci.c kernel/vpci.c

.PHONY: fuzz-vpci fuzz-vpci-smoke
fuzz-vpci: $(FUZZ_VPCI)
	@mkdir -p $(FUZZ_VPCI_CORPUS) $(BUILD)/fuzz/artifacts
	$(FUZZ_VPCI) -max_total_time=$(FUZZ_SECONDS) -max_len=2048 -timeout=10 \
	    -artifact_prefix=$(BUILD)/fuzz/artifacts/ $(FUZZ_VPCI_CORPUS)

# Quiet unless it finds something: libFuzzer's progress lines go to build/fuzz/smoke-vpci.log.
fuzz-vpci-smoke: $(FUZZ_VPCI)
	@mkdir -p $(FUZZ_VPCI_CORPUS) $(BUILD)/fuzz/artifacts
	@if $(FUZZ_VPCI) -max_total_time=$(FUZZ_SMOKE_SECONDS) -max_len=2048 -timeout=10 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/artifacts/ $(FUZZ_VPCI_CORPUS) \
	    > $(BUILD)/fuzz/smoke-vpci.log 2>&1; then \
	    echo "fuzz-vpci-smoke: vpci: $$(grep -o 'stat::number_of_executed_units: *[0-9]*' \
	        $(BUILD)/fuzz/smoke-vpci.log | grep -o '[0-9]*$$') inputs in $(FUZZ_SMOKE_SECONDS) s, no crash"; \
	else tail -40 $(BUILD)/fuzz/smoke-vpci.log; echo "fuzz-vpci-smoke: FAILED (see $(BUILD)/fuzz/)"; exit 1; fi
