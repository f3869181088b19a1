# cordon: one binary, one test suite (also built with ASan+UBSan).
#   make            build build/cordon
#   make check      install missing deps, build, run unit + integration tests
#   make check-asan the same suite built with -fsanitize=address,undefined
#   make demo       the compromised-account runbook end to end (slapd, sshd,
#                   nftables in namespaces, an HTTP firewall, snapshots)
#   make demo-ad    the compromised-account runbook on a throwaway Samba AD DC
#   make bench      scripts/bench-ldap.sh (10,000 accounts vs ldapmodify)

CC	?= cc
B	?= build
PKGS	= ldap lber libconfig sqlite3 jansson libcrypto libcurl libssh
CSTD	= -std=c17 -D_GNU_SOURCE
WARN	= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	  -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS	?= -O2 -g
SAN	?=
PKGCFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKGLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) $(SAN) $(PKGCFLAGS) \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2 -MMD -MP
LDLIBS	= $(PKGLIBS) -lm -pthread

CORE_SRC = $(filter-out agent/main.c,$(wildcard agent/*.c)) \
	   $(wildcard actions/*.c)
CORE_OBJ = $(CORE_SRC:%.c=$(B)/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
IT_SRC	 = $(wildcard tests/it/it_*.c)
IT_BIN	 = $(IT_SRC:tests/it/%.c=$(B)/it/%)
IT_LIB	 = $(filter-out $(IT_SRC),$(wildcard tests/it/*.c))

all: $(B)/cordon

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/cordon: $(B)/agent/main.o $(CORE_OBJ)
	$(CC) $(SAN) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(B)/it/%: tests/it/%.c $(IT_LIB) $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/it -o $@ $^ $(LDLIBS) -lcmocka

deps:
	@scripts/install-deps.sh

units: $(UNIT_BIN)
its: $(IT_BIN)

# Re-invoke make after deps so pkg-config flags are read with them present.
check: deps
	@$(MAKE) --no-print-directory B=build test-all

check-asan: deps
	@$(MAKE) --no-print-directory B=build/asan CFLAGS="-O1 -g" \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=all" test-all

test-all: $(B)/cordon $(UNIT_BIN) $(IT_BIN)
	@scripts/run-tests.sh $(B)

demo: deps
	@$(MAKE) --no-print-directory B=build build/cordon
	@scripts/demo.sh

demo-ad: deps
	@$(MAKE) --no-print-directory B=build build/cordon
	@scripts/demo-ad.sh

bench: deps
	@$(MAKE) --no-print-directory B=build build/cordon
	@scripts/bench-ldap.sh

lint:
	@scripts/check-src.sh

clean:
	rm -rf build

.PHONY: all deps units its check check-asan test-all demo demo-ad bench lint clean
-include $(CORE_OBJ:.o=.d) $(B)/agent/main.d
