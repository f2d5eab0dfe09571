/* Tests src/core/conf.c: defaults, file parsing, errors naming the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/conf.h"

static const char *write_tmp(const char *text)
{
	static char path[64];
	snprintf(path, sizeof path, "/tmp/callq-conf-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_load(void **state)
{
	(void)state;
	struct conf c;
	char err[256];
	conf_defaults(&c);
	assert_int_equal(c.sip_port, 5060);
	assert_int_equal(c.rtp_quiet_timeout_s, 3600);
	const char *p = write_tmp("# comment\n\nsip_port = 5070\n  db=x.db  \nlog_level=debug\n"
	                          "seed_demo = yes\nrtp_port_min=30000\nrtp_port_max=30100\n"
	                          "rtp_quiet_timeout = 90\n");
	assert_int_equal(conf_load(&c, p, err, sizeof err), 0);
	unlink(p);
	assert_int_equal(c.sip_port, 5070);
	assert_string_equal(c.db, "x.db");
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_true(c.seed_demo);
	assert_int_equal(c.rtp_port_min, 30000);
	assert_int_equal(c.rtp_quiet_timeout_s, 90);
}

static void test_limits(void **state)
{
	(void)state;
	struct conf c;
	char err[256];
	conf_defaults(&c);
	assert_int_equal(c.record_max_s, 3600);
	assert_int_equal(c.voicemail_max_s, 120);
	assert_int_equal(c.transfer_ring_s, 30);
	assert_int_equal(conf_set(&c, "record_max", "3", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "voicemail_max", "4", err, sizeof err), 0);
	assert_int_equal(conf_set(&c, "transfer_ring", "5", err, sizeof err), 0);
	assert_int_equal(c.record_max_s, 3);
	assert_int_equal(c.voicemail_max_s, 4);
	assert_int_equal(c.transfer_ring_s, 5);
	assert_int_equal(conf_set(&c, "record_max", "0", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "record_max", "3601", err, sizeof err), -1);
	assert_non_null(strstr(err, "record_max"));
	assert_int_equal(conf_set(&c, "voicemail_max", "0", err, sizeof err), -1);
	assert_int_equal(conf_set(&c, "transfer_ring", "601", err, sizeof err), -1);
	assert_int_equal(c.record_max_s, 3);
}

static void test_errors(void **state)
{
	(void)state;
	struct conf c;
	char err[256];
	conf_defaults(&c);
	const char *p = write_tmp("sip_port = 5070\nsip_prot = 1\n");
	assert_int_equal(conf_load(&c, p, err, sizeof err), -1);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "sip_prot"));
	unlink(p);
	p = write_tmp("sip_port = 99999\n");
	assert_int_equal(conf_load(&c, p, err, sizeof err), -1);
	unlink(p);
	p = write_tmp("just words\n");
	assert_int_equal(conf_load(&c, p, err, sizeof err), -1);
	unlink(p);
	p = write_tmp("rtp_port_min = 30000\nrtp_port_max = 20000\n");
	assert_int_equal(conf_load(&c, p, err, sizeof err), -1);
	unlink(p);
	assert_int_equal(conf_set(&c, "seed_demo", "maybe", err, sizeof err), -1);
	assert_int_equal(conf_load(&c, "/nonexistent/x.conf", err, sizeof err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
