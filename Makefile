# gym trial-class booking service.  GNU make, not recursive.
#   make          build bin/gymd, bin/gymctl, bin/wxsim (the Check library is not needed)
#   make tests    the test programs (check_unit, check_integ, check_e2e: Check; fault_driver)
#   make check        unit tests (bin/check_unit; seconds, no PostgreSQL)
#   make check-integ  integration tests on a private PostgreSQL (test/env)
#   make check-e2e    the test stack and the end-to-end suite
#   make check-miniprogram  the mini program's page tests and its end-to-end run
#   make test     install what is missing, build (normal and ASan/UBSan, in
#                 parallel), run every suite (test/run_all.sh, what CI runs)
#   make run      bring the whole service up on this machine; make stop
#   make bench    benchmarks (not part of make test); make bench-build: only their helpers
#   make fuzz     build the libFuzzer harnesses of test/fuzz with clang, run each for
#                 FUZZ_TIME seconds, FUZZ_JOBS at a time (make test runs it once,
#                 from test/run_all.sh)

SHELL    := /bin/bash
CC       ?= cc
BUILD    ?= build
BIN      ?= bin
CFLAGS   ?= -O2 -g
PKGS     := libpq libcurl openssl libcjson libqrencode zlib libargon2
WARN     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
            -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wwrite-strings -Wformat=2 -Wcast-qual -Wmissing-declarations -pedantic \
            -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2 -fno-common -fstack-protector-strong
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lfcgi -lm
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)
ALL_CFLAGS := $(WARN) $(CFLAGS) $(PKG_CFLAGS) -Ilib -MMD -MP

LIB_SRC    := $(wildcard lib/*.c)
GYMCTL_SRC := $(wildcard ctl/*.c)
# the door: all of fcgi/ but gymd's main.c, a library that gymd and the unit tests link
DOOR_SRC   := $(filter-out fcgi/main.c,$(wildcard fcgi/*.c))
WXSIM_SRC  := $(wildcard test/wxsim/*.c)
ALISIM_SRC := $(wildcard test/alisim/*.c)
# alisim reuses wxsim's HTTP and TLS server pieces
ALISIM_WX  := test/wxsim/http.c test/wxsim/tls.c test/wxsim/util.c
HARN_SRC   := $(wildcard test/harness/*.c)
UNIT_SRC   := $(wildcard test/unit/*.c)
INTEG_SRC  := $(wildcard test/integ/*.c)
E2E_SRC    := $(wildcard test/e2e/*.c)
FAULT_SRC  := $(wildcard test/fault/*.c)
BENCH_SRC  := $(wildcard bench/*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

# The version gymd and gymctl report (--version, /metrics gymd_build_info):
# git describe in a git tree, else the VERSION file, else "unknown".  Only
# lib/version.c sees it; $(BUILD)/version.txt changes only with the string,
# so a new commit rebuilds that one object.
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || cat VERSION 2>/dev/null || echo unknown)
$(BUILD)/version.txt: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(VERSION)' | cmp -s - $@ || printf '%s\n' '$(VERSION)' >$@
$(call obj,lib/version.c): $(BUILD)/version.txt
$(call obj,lib/version.c): ALL_CFLAGS += -DGYM_VERSION='"$(VERSION)"'
.PHONY: FORCE
FORCE:
LIBGYM := $(BUILD)/libgym.a
LIBDOOR := $(BUILD)/libgymdoor.a

PROGS := $(BIN)/gymd $(BIN)/gymctl $(BIN)/wxsim $(BIN)/alisim
TESTS := $(BIN)/check_unit $(if $(INTEG_SRC),$(BIN)/check_integ) $(if $(E2E_SRC),$(BIN)/check_e2e) \
         $(if $(FAULT_SRC),$(BIN)/fault_driver)

NPROC      := $(shell nproc 2>/dev/null || echo 2)
ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: all tests deps test check check-integ check-e2e check-miniprogram build-normal build-asan sanitize run stop \
        bench bench-build install clean migrate configtest fuzz
all: $(PROGS)
tests: $(TESTS)

# the Check suites say what is missing instead of failing on check.h
CHECK_PROGS := $(filter $(BIN)/check_%,$(TESTS))
$(CHECK_PROGS): | have-check
.PHONY: have-check
have-check:
	@test -n "$(CHECK_LIBS)" || { echo "the Check library was not found (pkg-config check):" \
	    "make deps, or apt-get install check pkg-config" >&2; exit 1; }

# $(call link,LIBS): link the prerequisites into $@
link = mkdir -p $(BIN) && $(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(1)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itest/harness $(CHECK_CFLAGS) -c -o $@ $<

$(LIBGYM): $(call obj,$(LIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBDOOR): $(call obj,$(DOOR_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN)/gymd: $(call obj,fcgi/main.c) $(LIBDOOR) $(LIBGYM)
	$(call link,$(PKG_LIBS))

$(BIN)/gymctl: $(call obj,$(GYMCTL_SRC)) $(LIBGYM)
	$(call link,$(PKG_LIBS))

$(BIN)/wxsim: $(call obj,$(WXSIM_SRC)) $(LIBGYM)
	$(call link,$(PKG_LIBS) -lpthread)

$(call obj,$(ALISIM_SRC)): ALL_CFLAGS += -Itest/wxsim
$(BIN)/alisim: $(call obj,$(ALISIM_SRC) $(ALISIM_WX)) $(LIBGYM)
	$(call link,$(PKG_LIBS) -lpthread)

$(call obj,$(UNIT_SRC)): ALL_CFLAGS += -Ifcgi
$(BIN)/check_unit: $(call obj,$(UNIT_SRC)) $(LIBDOOR) $(LIBGYM)
	$(call link,$(PKG_LIBS) $(CHECK_LIBS))

$(BIN)/check_integ: $(call obj,$(INTEG_SRC) $(HARN_SRC)) $(LIBGYM)
	$(call link,$(PKG_LIBS) $(CHECK_LIBS))

$(BIN)/check_e2e: $(call obj,$(E2E_SRC) $(HARN_SRC)) $(LIBGYM)
	$(call link,$(PKG_LIBS) $(CHECK_LIBS))

$(BIN)/fault_driver: $(call obj,$(FAULT_SRC) test/harness/procfs.c) $(LIBGYM)
	$(call link,$(PKG_LIBS))

# bench/run.sh's helper programs, one per bench/*.c, in $(BUILD)/bench
BENCH_PROGS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
$(BENCH_PROGS): $(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIBGYM)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench-build: $(BENCH_PROGS)

# Debian packages the build, the tests and make run need (skips what is present).
deps:
	@bash test/env/deps.sh

# The README's test command: everything, from a fresh machine.  The normal
# and the ASan/UBSan builds run side by side, sharing -j$(NPROC).
test: deps
	@$(MAKE) --no-print-directory -j$(NPROC) build-normal build-asan
	@bash test/run_all.sh

build-normal:
	@$(MAKE) --no-print-directory all tests

build-asan sanitize:
	@$(MAKE) --no-print-directory BUILD=build-asan BIN=build-asan/bin CFLAGS="$(ASAN_FLAGS)" all tests

# The layers of make test, each alone (test/run_all.sh SUITE).
check: $(BIN)/check_unit
	@GYM_BIN=$(BIN) bash test/run_all.sh unit

check-integ: $(BIN)/check_integ $(BIN)/gymctl $(BIN)/wxsim $(BIN)/alisim
	@GYM_BIN=$(BIN) bash test/run_all.sh integ

check-e2e: $(PROGS) $(BIN)/check_e2e
	@GYM_BIN=$(BIN) bash test/run_all.sh e2e

# the parents' mini program: its pages (miniprogram-simulate) and its api.js end to end
# on the test stack (test/miniprogram/run.sh; node + npm, npm ci)
check-miniprogram: $(PROGS) $(BIN)/check_e2e
	@GYM_BIN=$(BIN) bash test/run_all.sh miniprogram

run: deps
	@$(MAKE) --no-print-directory all
	@bash test/env/stack.sh start dev

stop:
	@bash test/env/stack.sh stop dev

bench: deps
	@$(MAKE) --no-print-directory all bench-build
	@bash bench/run.sh

migrate: $(BIN)/gymctl
	$(BIN)/gymctl migrate

configtest: $(BIN)/gymd
	$(BIN)/gymd -n -c $${GYM_CONFIG:-var/dev/gymd.conf}

PREFIX ?= /usr/local
install: $(PROGS)
	bash systemd/install.sh "$(PREFIX)"

clean:
	rm -rf build build-asan bin

# ---- fuzzing: clang + libFuzzer, ASan and UBSan on (test/fuzz/fuzz.h) --------------------
# The library and gymd's request code (all of fcgi/ but main.c) are
# compiled again with clang into FUZZ_BUILD; each
# test/fuzz/fuzz_*.c is one harness, test/fuzz/run.sh runs them.
FUZZ_CC     ?= clang
FUZZ_BUILD  ?= build-fuzz
FUZZ_TIME   ?= 16
FUZZ_JOBS   ?= $(NPROC)
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := $(WARN) -Wno-format-nonliteral -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
               $(PKG_CFLAGS) -Ilib -Ifcgi -Itest/fuzz -MMD -MP
FUZZ_HARN   := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_CODE   := $(LIB_SRC) $(DOOR_SRC) \
               $(filter-out $(FUZZ_HARN),$(wildcard test/fuzz/*.c))
FUZZ_PROGS  := $(patsubst test/fuzz/%.c,$(FUZZ_BUILD)/bin/%,$(FUZZ_HARN))

.PRECIOUS: $(FUZZ_BUILD)/%.o
$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/libgym-fuzz.a: $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(FUZZ_CODE))
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/bin/fuzz_%: $(FUZZ_BUILD)/test/fuzz/fuzz_%.o $(FUZZ_BUILD)/libgym-fuzz.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

fuzz: $(FUZZ_PROGS)
	@bash test/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_TIME) $(FUZZ_JOBS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
