# gym trial-class booking service.  GNU make, not recursive.
#   make          build bin/gymd, bin/gymctl, bin/wxsim and the test programs
#   make test     install what is missing, build, run every suite (also under ASan/UBSan)
#   make run      bring the whole service up on this machine; make stop
#   make bench    benchmarks (not part of make test)

SHELL    := /bin/bash
CC       ?= cc
BUILD    ?= build
BIN      ?= bin
CFLAGS   ?= -O2 -g
PKGS     := libpq libcurl openssl libcjson libqrencode
WARN     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
            -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wpointer-arith -Wwrite-strings -Wformat=2 -fno-common -fstack-protector-strong
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lfcgi -lm
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell pkg-config --libs check 2>/dev/null)
ALL_CFLAGS := $(WARN) $(CFLAGS) $(PKG_CFLAGS) -Ilib -MMD -MP

LIB_SRC    := $(wildcard lib/*.c)
GYMCTL_SRC := $(wildcard fcgi/ctl_*.c)
GYMD_SRC   := $(filter-out $(GYMCTL_SRC),$(wildcard fcgi/*.c))
WXSIM_SRC  := $(wildcard test/wxsim/*.c)
HARN_SRC   := $(wildcard test/harness/*.c)
UNIT_SRC   := $(wildcard test/unit/*.c)
INTEG_SRC  := $(wildcard test/integ/*.c)
E2E_SRC    := $(wildcard test/e2e/*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIBGYM := $(BUILD)/libgym.a

PROGS := $(BIN)/gymd $(BIN)/gymctl $(BIN)/wxsim
TESTS := $(BIN)/check_unit $(if $(INTEG_SRC),$(BIN)/check_integ) $(if $(E2E_SRC),$(BIN)/check_e2e)

.PHONY: all deps test test-all check sanitize run stop bench install clean migrate configtest
all: $(PROGS) $(TESTS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itest/harness $(CHECK_CFLAGS) -c -o $@ $<

$(LIBGYM): $(call obj,$(LIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN)/gymd: $(call obj,$(GYMD_SRC)) $(LIBGYM)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BIN)/gymctl: $(call obj,$(GYMCTL_SRC)) $(LIBGYM)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BIN)/wxsim: $(call obj,$(WXSIM_SRC)) $(LIBGYM)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread

$(BIN)/check_unit: $(call obj,$(UNIT_SRC)) $(LIBGYM)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

$(BIN)/check_integ: $(call obj,$(INTEG_SRC) $(HARN_SRC)) $(LIBGYM)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

$(BIN)/check_e2e: $(call obj,$(E2E_SRC) $(HARN_SRC)) $(LIBGYM)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS) $(CHECK_LIBS)

# Debian packages the build, the tests and make run need (skips what is present).
deps:
	@bash test/env/deps.sh

# The README's test command: everything, from a fresh machine.
test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory BUILD=build-asan BIN=build-asan/bin \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all
	@bash test/run_all.sh

check: $(BIN)/check_unit
	$(BIN)/check_unit

sanitize:
	$(MAKE) BUILD=build-asan BIN=build-asan/bin \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all

run: deps
	@$(MAKE) --no-print-directory all
	@bash test/env/stack.sh start dev

stop:
	@bash test/env/stack.sh stop dev

bench: deps
	@$(MAKE) --no-print-directory all
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

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
