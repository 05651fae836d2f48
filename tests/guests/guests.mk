# SPDX-License-Identifier: Apache-2.0
# Tiny test guests, assembled as flat binaries loaded by the hypervisor (docs/guest-abi.md).
GUEST_BINS := $(BUILD)/guests/echo.bin $(BUILD)/guests/selftest.bin $(BUILD)/guests/prot32.bin $(BUILD)/guests/real16.bin \
              $(BUILD)/guests/bench.bin $(BUILD)/guests/heartbeat.bin $(BUILD)/guests/hostile.bin

$(BUILD)/guests/%.bin: tests/guests/%.asm tests/guests/guest.inc
	@mkdir -p $(dir $@)
	$(NASM) -f bin -I. -o $@ $<
GUEST_BINS += $(BUILD)/guests/pciprobe.bin
