# callq — see README.md. `make run` and `make check` are the two entry points;
# both install missing Debian packages first (scripts/deps.sh), then build.

PKGS    := sofia-sip-ua ortp sndfile sqlite3 libpcre2-8 libmicrohttpd
CC      ?= cc
OPT     ?= -O2
CFLAGS  += -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -Ibuild/gen \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

B       := build
MAINS   := src/app/callqd.c src/ctl/callqctl.c
LIB_SRC := $(filter-out $(MAINS),$(wildcard src/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/sql_embed.o $(B)/obj/gen/web_embed.o
UNIT    := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
BENCH   := $(patsubst tests/bench/%.c,$(B)/bench/%,$(wildcard tests/bench/*.c))
SQL     := db/schema.sql $(sort $(wildcard db/migrations/*.sql)) db/demo.sql
PAGES   := $(shell find src/web/pages -type f 2>/dev/null)

.PHONY: all run check deps unit bench clean
all: $(B)/callqd $(B)/callqctl

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh

check: deps
	@$(MAKE) --no-print-directory all unit
	@scripts/check.sh

# Benchmarks: every tests/bench/*.c program and scripts/bench-*.sh; see BENCHMARKS.md.
bench: deps
	@$(MAKE) --no-print-directory all $(BENCH)
	@scripts/bench.sh

deps:
	@scripts/deps.sh

unit: $(UNIT)

$(B)/callqd: $(B)/obj/src/app/callqd.o $(LIB_OBJ)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/callqctl: $(B)/obj/src/ctl/callqctl.o $(B)/obj/src/ctl/proto.o
	$(CC) $(CFLAGS) -o $@ $^

$(B)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(B)/bench/%: tests/bench/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/gen/sql_embed.c: $(SQL) scripts/embed-sql.sh
	@mkdir -p $(dir $@)
	scripts/embed-sql.sh $@ $(SQL)

$(B)/obj/gen/sql_embed.o: $(B)/gen/sql_embed.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# The browser pages (src/web/pages/), served by callqd from memory.
$(B)/gen/web_embed.c: $(PAGES) src/web/pages scripts/embed-files.sh
	@mkdir -p $(dir $@)
	scripts/embed-files.sh $@ src/web/pages

$(B)/obj/gen/web_embed.o: $(B)/gen/web_embed.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# ---- fuzzing and soak (issue 6) ---------------------------------------------------------------
# `make fuzz` builds every tests/fuzz/fuzz_*.c with clang + libFuzzer + ASan + UBSan (the library
# objects again under $(FUZZ_B), instrumented) and runs each for FUZZ_SECONDS from its committed seed
# corpus tests/fuzz/corpus/NAME/ (new inputs go to $(FUZZ_B)/corpus/NAME, crashes to $(FUZZ_B)/crash/).
# `make fuzz-build` only builds. `make soak` runs scripts/soak.sh for SOAK_SECONDS under ASan+UBSan.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_B       := $(B)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=gnu11 -O1 -g -D_GNU_SOURCE -Isrc -I$(B)/gen $(FUZZ_SAN) \
                $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_NAMES   := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_NAMES:%=$(FUZZ_B)/%)
FUZZ_OBJ     := $(LIB_SRC:%.c=$(FUZZ_B)/obj/%.o) $(FUZZ_B)/obj/gen/sql_embed.o \
                $(FUZZ_B)/obj/gen/web_embed.o
SOAK_SECONDS ?= 600

.PHONY: fuzz fuzz-build soak
fuzz: deps
	@$(MAKE) --no-print-directory fuzz-build
	@B=$(B) tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)

fuzz-build: $(FUZZ_BIN)

soak: deps
	@scripts/soak.sh $(SOAK_SECONDS)

$(FUZZ_B)/libcallq.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_B)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_B)/libcallq.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_B)/libcallq.a $(LDLIBS)

$(FUZZ_B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_B)/obj/gen/sql_embed.o: $(B)/gen/sql_embed.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_B)/obj/gen/web_embed.o: $(B)/gen/web_embed.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<
