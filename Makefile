# callq — see README.md. `make run` and `make check` are the two entry points;
# both install missing Debian packages first (scripts/deps.sh), then build.

PKGS    := sofia-sip-ua ortp sndfile sqlite3 libpcre2-8
CC      ?= cc
OPT     ?= -O2
CFLAGS  += -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -Ibuild/gen \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

B       := build
MAINS   := src/app/callqd.c src/ctl/callqctl.c
LIB_SRC := $(filter-out $(MAINS),$(wildcard src/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/sql_embed.o
UNIT    := $(patsubst tests/unit/%.c,$(B)/tests/%,$(wildcard tests/unit/test_*.c))
BENCH   := $(patsubst tests/bench/%.c,$(B)/bench/%,$(wildcard tests/bench/*.c))
SQL     := db/schema.sql $(sort $(wildcard db/migrations/*.sql)) db/demo.sql

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

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
