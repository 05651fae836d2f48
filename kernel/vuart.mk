# SPDX-License-Identifier: Apache-2.0
# The virtual 16550A register model (kernel/vuart.c): linked into the kernel, driven by its host
# unit test (register sequences of Linux's 8250 driver) and by a libFuzzer target.
KERNEL_SRCS += kernel/vuart.c
UNIT_TESTS  += vuart
UNIT_vuart_SRCS := tests/unit/test_vuart.c kernel/vuart.c

# ---- fuzzing (FUZZ_CC, FUZZ_CFLAGS, FUZZ_SECONDS, FUZZ_SMOKE_SECONDS come from kernel/config.mk) --
FUZZ_VUART := $(BUILD)/fuzz/fuzz_vuart
FUZZ_VUART_CORPUS := $(BUILD)/fuzz/corpus-vuart

$(FUZZ_VUART): tests/fuzz/fuzz_vuart.c kernel/vuart.c kernel/vuart.h
	@mkdir -p $(dir $@)
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_vuart.c kernel/vuart.c

.PHONY: fuzz-vuart fuzz-vuart-smoke
fuzz-vuart: $(FUZZ_VUART)
	@mkdir -p $(FUZZ_VUART_CORPUS) $(BUILD)/fuzz/artifacts
	$(FUZZ_VUART) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=10 \
	    -artifact_prefix=$(BUILD)/fuzz/artifacts/vuart- $(FUZZ_VUART_CORPUS)

# Quiet unless it finds something: libFuzzer's progress lines go to build/fuzz/smoke-vuart.log.
fuzz-vuart-smoke: $(FUZZ_VUART)
	@mkdir -p $(FUZZ_VUART_CORPUS) $(BUILD)/fuzz/artifacts
	@if $(FUZZ_VUART) -max_total_time=$(FUZZ_SMOKE_SECONDS) -max_len=4096 -timeout=10 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/artifacts/vuart- $(FUZZ_VUART_CORPUS) \
	    > $(BUILD)/fuzz/smoke-vuart.log 2>&1; then \
	    echo "fuzz-vuart-smoke: virtual UART: $$(grep -o 'stat::number_of_executed_units: *[0-9]*' \
	        $(BUILD)/fuzz/smoke-vuart.log | grep -o '[0-9]*$$') inputs in $(FUZZ_SMOKE_SECONDS) s, no crash"; \
	else tail -40 $(BUILD)/fuzz/smoke-vuart.log; echo "fuzz-vuart-smoke: FAILED (see $(BUILD)/fuzz/)"; exit 1; fi
