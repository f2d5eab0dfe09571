# callq — see README.md. `make run` and `make check` are the two entry points;
# both install missing Debian packages first (scripts/deps.sh), then build.

PKGS    := sofia-sip-ua ortp sndfile sqlite3 libpcre2-8 libmicrohttpd libsrtp2
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

# ---- install (issue 10) -----------------------------------------------------------------------
# `make install [PREFIX=/usr/local] [DESTDIR=...]`: callqd in sbin, callqctl in bin, the media in
# share/callq/media, the man pages (etc/man/), the systemd unit and its sysusers.d file; the schema
# and migrations are compiled into callqd. /etc/callq/callq.conf is made from etc/callq.conf with the
# paths of an installed system (state in /var/lib/callq, socket in /run/callq, no demo data), and
# never overwrites one that exists. Nothing here needs root when DESTDIR is set, nor writes outside
# it. `make uninstall` removes what install put there but the configuration and /var/lib/callq.
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
SBINDIR     ?= $(PREFIX)/sbin
DATADIR     ?= $(PREFIX)/share/callq
MANDIR      ?= $(PREFIX)/share/man
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
CONFDIR     := /etc/callq
STATEDIR    := /var/lib/callq
RUNDIR      := /run/callq
# The sample configuration's path settings, pointed at the installed layout.
CONF_SED    := -e '1i \# Installed by make install from etc/callq.conf; see callq.conf(5). Phones on' \
               -e '1i \# other machines need sip_listen and rtp_ip set to an address of this one.' \
               -e 's|^db *=.*|db           = $(STATEDIR)/callq.db|' \
               -e 's|^control *=.*|control      = $(RUNDIR)/callq.sock|' \
               -e 's|^recordings *=.*|recordings   = $(STATEDIR)/recordings|' \
               -e 's|^media *=.*|media        = $(DATADIR)/media|' \
               -e 's|^queue_log *=.*|queue_log    = $(STATEDIR)/queue_log|' \
               -e 's|^sip_tls_dir *=.*|\# sip_tls_dir = $(CONFDIR)/tls  (agent.pem and cafile.pem; off until set)|' \
               -e 's|^seed_demo *=.*|seed_demo    = no|'

.PHONY: install uninstall
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
	           $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(CONFDIR) \
	           $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(B)/callqd $(DESTDIR)$(SBINDIR)/callqd
	install -m 0755 $(B)/callqctl $(DESTDIR)$(BINDIR)/callqctl
	for f in $$(cd media && find . -type f | sort); do \
	  install -D -m 0644 media/$$f $(DESTDIR)$(DATADIR)/media/$$f || exit 1; done
	install -m 0644 etc/man/callqctl.1 $(DESTDIR)$(MANDIR)/man1/callqctl.1
	install -m 0644 etc/man/callq.conf.5 $(DESTDIR)$(MANDIR)/man5/callq.conf.5
	install -m 0644 etc/man/callqd.8 $(DESTDIR)$(MANDIR)/man8/callqd.8
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' etc/callqd.service >$(DESTDIR)$(UNITDIR)/callqd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/callqd.service
	install -m 0644 etc/callq.sysusers $(DESTDIR)$(SYSUSERSDIR)/callq.conf
	@if [ -e $(DESTDIR)$(CONFDIR)/callq.conf ]; then \
	  echo "install: kept $(DESTDIR)$(CONFDIR)/callq.conf as it was"; \
	else sed $(CONF_SED) etc/callq.conf >$(DESTDIR)$(CONFDIR)/callq.conf && \
	  chmod 0644 $(DESTDIR)$(CONFDIR)/callq.conf && \
	  echo "install: wrote $(DESTDIR)$(CONFDIR)/callq.conf"; fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/callqd $(DESTDIR)$(BINDIR)/callqctl \
	      $(DESTDIR)$(MANDIR)/man1/callqctl.1 $(DESTDIR)$(MANDIR)/man5/callq.conf.5 \
	      $(DESTDIR)$(MANDIR)/man8/callqd.8 $(DESTDIR)$(UNITDIR)/callqd.service \
	      $(DESTDIR)$(SYSUSERSDIR)/callq.conf
	rm -rf $(DESTDIR)$(DATADIR)
	@echo "uninstall: left $(DESTDIR)$(CONFDIR)/callq.conf and $(STATEDIR) (database, recordings)"
