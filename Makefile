# SPDX-License-Identifier: Apache-2.0
# Moat: one non-recursive Makefile. Each folder lists its sources in module.mk;
# everything is built under build/. `make help` lists the targets.

BUILD    := build
CC       := gcc
NASM     := nasm
LD       := ld
OBJCOPY  := objcopy
PYTHON   := /usr/bin/python3

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:

# ---- flag sets --------------------------------------------------------------
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wundef -Wvla -Wwrite-strings -Wno-unused-parameter \
        -Wimplicit-fallthrough -Wformat=2

# Freestanding kernel: no SSE (guest state is ours to save), no red zone (interrupts
# use the kernel stack), identity-mapped below 2 GiB so the small code model works.
KCFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -fno-stack-protector \
           -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only -mcmodel=small \
           -fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns \
           -I. -isystem include/libc $(WARN) -DMOAT_KERNEL
KLDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 -z noexecstack -Wl,--build-id=none -T linker.ld
KNASMFLAGS := -f elf64 -g -F dwarf -I.

# UEFI loader (GNU-EFI): PE32+ made from a PIC ELF shared object.
EFI_INC  := /usr/include/efi
EFI_LIB  := /usr/lib
EFICFLAGS := -std=gnu11 -O2 -ffreestanding -fno-stack-protector -fpic -fshort-wchar \
             -mno-red-zone -mgeneral-regs-only -maccumulate-outgoing-args \
             -DEFI_FUNCTION_WRAPPER -DGNU_EFI_USE_MS_ABI -DMOAT_EFI \
             -I. -isystem include/libc -isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64 $(WARN)
EFILDFLAGS := -nostdlib -znocombreloc -shared -Bsymbolic --no-undefined -T $(EFI_LIB)/elf_x86_64_efi.lds \
              -L$(EFI_LIB) $(EFI_LIB)/crt0-efi-x86_64.o

# Host unit tests: the pure modules compiled for Linux with sanitizers.
HCFLAGS := -std=gnu11 -O1 -g -I. $(WARN) -Wno-missing-prototypes -DMOAT_HOST \
           -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HLDLIBS := -lcmocka

# libFuzzer targets (Debian's clang-14: packages clang and libclang-rt-14-dev). A folder's .mk
# calls $(eval $(call fuzz_target,NAME,SOURCES,MAX_LEN,SEED_DIRS)) to get build/fuzz/fuzz_NAME,
# `make fuzz-NAME` (FUZZ_SECONDS) and `make fuzz-NAME-smoke` (FUZZ_SMOKE_SECONDS, quiet unless it
# finds something: libFuzzer's progress goes to build/fuzz/smoke-NAME.log). Corpora live under
# build/fuzz/; seed directories are read, never written.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_CFLAGS  := -std=gnu11 -O1 -g -I. -Wall -Wextra -DMOAT_HOST -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SMOKES :=

define fuzz_target
$(BUILD)/fuzz/fuzz_$(1): $(2)
	@mkdir -p $$(dir $$@)
	@command -v $$(FUZZ_CC) >/dev/null || { echo "fuzz: $$(FUZZ_CC) not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -o $$@ $$(filter %.c,$(2))

.PHONY: fuzz-$(1) fuzz-$(1)-smoke
FUZZ_SMOKES += fuzz-$(1)-smoke
fuzz-$(1): $(BUILD)/fuzz/fuzz_$(1)
	@mkdir -p $(BUILD)/fuzz/corpus-$(1) $(BUILD)/fuzz/artifacts
	$(BUILD)/fuzz/fuzz_$(1) -max_total_time=$$(FUZZ_SECONDS) -max_len=$(3) -timeout=10 \
	    -artifact_prefix=$(BUILD)/fuzz/artifacts/$(1)- $(BUILD)/fuzz/corpus-$(1) $(4)

fuzz-$(1)-smoke: $(BUILD)/fuzz/fuzz_$(1)
	@mkdir -p $(BUILD)/fuzz/corpus-$(1) $(BUILD)/fuzz/artifacts
	@if $(BUILD)/fuzz/fuzz_$(1) -max_total_time=$$(FUZZ_SMOKE_SECONDS) -max_len=$(3) -timeout=10 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/artifacts/$(1)- \
	    $(BUILD)/fuzz/corpus-$(1) $(4) > $(BUILD)/fuzz/smoke-$(1).log 2>&1; then \
	    echo "fuzz-$(1)-smoke: $$$$(grep -o 'stat::number_of_executed_units: *[0-9]*' \
	        $(BUILD)/fuzz/smoke-$(1).log | grep -o '[0-9]*$$$$') inputs in $$(FUZZ_SMOKE_SECONDS) s, no crash"; \
	else tail -40 $(BUILD)/fuzz/smoke-$(1).log; echo "fuzz-$(1)-smoke: FAILED (see $(BUILD)/fuzz/)"; exit 1; fi
endef

# ---- sources (each folder appends to these) ---------------------------------
KERNEL_SRCS :=
EFI_SRCS    :=
UNIT_TESTS  :=
HOST_TOOLS  :=

include $(sort $(wildcard */*.mk */*/*.mk))

# ---- kernel -----------------------------------------------------------------
KERNEL_OBJS := $(patsubst %,$(BUILD)/k/%.o,$(KERNEL_SRCS))
KERNEL_ELF  := $(BUILD)/moat.elf

$(BUILD)/k/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/k/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	$(NASM) $(KNASMFLAGS) -MD $(@:.o=.d) -MP $< -o $@

$(KERNEL_ELF): $(KERNEL_OBJS) linker.ld
	$(CC) $(KCFLAGS) $(KLDFLAGS) -o $@ $(KERNEL_OBJS) -lgcc

# ---- UEFI loader ------------------------------------------------------------
EFI_OBJS := $(patsubst %,$(BUILD)/efi/%.o,$(EFI_SRCS))
EFI_APP  := $(BUILD)/BOOTX64.EFI

$(BUILD)/efi/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(EFICFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/loader.so: $(EFI_OBJS)
	$(LD) $(EFILDFLAGS) $(EFI_OBJS) -o $@ -lefi -lgnuefi

$(EFI_APP): $(BUILD)/loader.so
	$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel \
	   -j .rela -j .rel.* -j .rela.* -j .reloc --target efi-app-x86_64 \
	   --subsystem=10 $< $@

# ---- host unit tests and tools ----------------------------------------------
$(BUILD)/host/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(HCFLAGS) -MMD -MP -c $< -o $@

# UNIT_TESTS names tests; UNIT_<name>_SRCS lists the C files of each.
define unit_test_rule
$(BUILD)/tests/unit/$(1): $(patsubst %,$(BUILD)/host/%.o,$(UNIT_$(1)_SRCS))
	@mkdir -p $$(dir $$@)
	$(CC) $(HCFLAGS) -o $$@ $$^ $(HLDLIBS)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_test_rule,$(t))))
UNIT_BINS := $(patsubst %,$(BUILD)/tests/unit/%,$(UNIT_TESTS))

# ---- images -----------------------------------------------------------------
# Moat's folder on the ESP: the kernel plus every file the kernel may ask for by name. The
# default partitions (configs/default/moat.cfg) run the self-test, heartbeat and hostile guests.
MOAT_FILES := $(KERNEL_ELF) $(wildcard configs/default/*) $(BUILD)/guests/selftest.bin \
              $(BUILD)/guests/heartbeat.bin $(BUILD)/guests/hostile.bin
ESP_IMG := $(BUILD)/esp.img
ISO_IMG := $(BUILD)/moat.iso

$(ESP_IMG): $(EFI_APP) $(MOAT_FILES) scripts/mkesp.sh
	scripts/mkesp.sh $@ $(EFI_APP) $(MOAT_FILES)

$(ISO_IMG): $(KERNEL_ELF) $(MOAT_FILES) scripts/mkiso.sh
	scripts/mkiso.sh $@ $(KERNEL_ELF) $(filter-out $(KERNEL_ELF),$(MOAT_FILES))

# ---- user-facing targets ----------------------------------------------------
.PHONY: all build deps deps-check run run-bochs unit systest test bench clean help

# The user-facing targets check the Debian packages first (installing them as root), then
# build with a second make so that nothing is compiled before the toolchain exists.
all: deps-check
	@$(MAKE) --no-print-directory build

build: $(KERNEL_ELF) $(EFI_APP) $(ESP_IMG) $(ISO_IMG) $(UNIT_BINS) $(GUEST_BINS) $(HOST_TOOLS)

deps-check:
	@scripts/deps.sh

deps:
	@scripts/deps.sh --install

run: all
	scripts/run-qemu.sh --esp $(ESP_IMG) --smp 4

run-bochs: all
	scripts/run-bochs.sh --esp $(ESP_IMG) --cpu tigerlake --smp 2

unit: deps-check
	@$(MAKE) --no-print-directory $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

systest: all
	$(PYTHON) -m pytest -v tests/system

test: all
	@scripts/run-unit.sh $(UNIT_BINS)
	@$(MAKE) --no-print-directory $(FUZZ_SMOKES) check-config-examples
	$(PYTHON) -m pytest -v tests/system

bench: all
	$(PYTHON) scripts/bench.py

clean:
	rm -rf $(BUILD)

help:
	@echo "make run     build and boot the default image under QEMU (Ctrl-A x quits)"
	@echo "make test    build, then run every unit and system test"
	@echo "make unit    host unit tests only;  make systest  emulator tests only"
	@echo "make run-bochs  the same image under Bochs (Intel VT-x model)"
	@echo "make bench   instructions per exit round trip on each backend (build/bench.json)"
	@echo "make deps    install the Debian packages Moat needs (as root)"

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
