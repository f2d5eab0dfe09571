/* test_media.c — the media engine over real UDP on 127.0.0.1: hold frames and
 * their pacing, PCMU<->PCMA bridging, RFC 4733 digits, prompts, RTP timeout,
 * port allocation, leg ids after free, clip loading with resampling, the
 * listen/whisper/barge mixes, bridge hold with a paused recording, voicemail
 * recording and clip reload; packets from strangers (another 127.x address)
 * neither re-latch a leg nor reach it, random ports, the quiet-leg limit;
 * audio keeps the sender's timestamps across pauses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <poll.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "media/clips.h"
#include "media/g711.h"
#include "media/media.h"
#include "media/srtp.h"

#define MUSIC_LEN 8000               /* 1 s at 8 kHz */
#define OK_LEN    800                /* 100 ms */

static char dir[64];
static int16_t music[MUSIC_LEN];
static unsigned port_base;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void write_wav(const char *name, const int16_t *s, size_t n, int rate)
{
	char path[160];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	SF_INFO info = { .samplerate = rate, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
	SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
	assert_non_null(sf);
	assert_int_equal(sf_write_short(sf, s, (sf_count_t)n), (sf_count_t)n);
	sf_close(sf);
}

static void sine(int16_t *s, size_t n, int rate, double hz, double amp)
{
	for (size_t i = 0; i < n; i++)
		s[i] = (int16_t)lrint(amp * sin(2 * M_PI * hz * (double)i / rate));
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/callq-media-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	char en[96];
	snprintf(en, sizeof en, "%s/en", dir);
	mkdir(en, 0755);
	sine(music, MUSIC_LEN, 8000, 440, 8000);
	write_wav("music.wav", music, MUSIC_LEN, 8000);
	int16_t ok[OK_LEN];
	sine(ok, OK_LEN, 8000, 1000, 4000);
	write_wav("en/ok.wav", ok, OK_LEN, 8000);
	static int16_t hi[16000];
	sine(hi, 16000, 16000, 440, 8000);
	write_wav("hi16k.wav", hi, 16000, 16000);
	char junk[160];
	snprintf(junk, sizeof junk, "%s/junk.wav", dir);
	FILE *f = fopen(junk, "w");
	fputs("not a wav file", f);
	fclose(f);
	port_base = 20000 + (unsigned)(getpid() % 200) * 200;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Each test gets its own 10 even ports, so a failed test that leaks its legs
 * does not break the next one. */
static unsigned test_ports(void)
{
	static unsigned next;
	return port_base + 20 * next++;
}

static media_t *start_conf(unsigned base, unsigned last, unsigned timeout_s, unsigned quiet_s)
{
	char err[256] = "";
	struct media_conf conf = { .ip = "127.0.0.1", .port_min = base, .port_max = last,
	                           .media_dir = dir, .rtp_timeout_s = timeout_s,
	                           .rtp_quiet_timeout_s = quiet_s };
	media_t *m = media_new(&conf, err, sizeof err);
	if (!m)
		fail_msg("media_new: %s", err);
	return m;
}

static media_t *start(unsigned base, unsigned timeout_s)
{
	return start_conf(base, base + 18, timeout_s, 0);
}

/* A UDP socket on `ip` (any 127.x works on Linux), *port its port. */
static int udp_socket_at(const char *ip, unsigned *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	inet_pton(AF_INET, ip, &a.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	socklen_t len = sizeof a;
	getsockname(fd, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	return fd;
}

static int udp_socket(unsigned *port)
{
	return udp_socket_at("127.0.0.1", port);
}

static int recv_rtp(int fd, uint8_t *buf, size_t len, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	return (int)recv(fd, buf, len, 0);
}

static void send_rtp(int fd, unsigned port, int pt, bool mark, uint16_t seq, uint32_t ts,
                     uint32_t ssrc, const uint8_t *pl, size_t n)
{
	uint8_t pkt[12 + 200];
	pkt[0] = 0x80;
	pkt[1] = (uint8_t)((mark ? 0x80 : 0) | pt);
	pkt[2] = (uint8_t)(seq >> 8);
	pkt[3] = (uint8_t)seq;
	for (int i = 0; i < 4; i++) {
		pkt[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
		pkt[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
	}
	memcpy(pkt + 12, pl, n);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(sendto(fd, pkt, 12 + n, 0, (struct sockaddr *)&a, sizeof a), (ssize_t)(12 + n));
}

static bool wait_event(media_t *m, struct media_event *ev, int timeout_ms)
{
	double end = now_ms() + timeout_ms;
	for (;;) {
		if (media_next_event(m, ev))
			return true;
		int left = (int)(end - now_ms());
		if (left <= 0)
			return false;
		struct pollfd p = { .fd = media_event_fd(m), .events = POLLIN };
		poll(&p, 1, left);
	}
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static void test_hold_frames(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	unsigned rport, lport;
	int fd = udp_socket(&rport);
	media_leg leg = media_leg_new(m, &lport);
	assert_true(leg != 0);
	assert_true(lport >= base && lport <= base + 18 && lport % 2 == 0);
	assert_int_equal(media_leg_remote(m, leg, "127.0.0.1", rport, MEDIA_PCMU, 101), 0);
	assert_int_equal(media_leg_hold(m, leg, "file:music.wav,repeat", "en"), 0);
	assert_int_equal(media_leg_hold(m, leg, "file:music.mp3", "en"), -1);
	assert_int_equal(media_start(m), 0);

	enum { N = 50 };
	uint8_t pkt[N][400];
	double at[N];
	for (int i = 0; i < N; i++) {
		assert_int_equal(recv_rtp(fd, pkt[i], sizeof pkt[i], 2000), 12 + 160);
		at[i] = now_ms();
	}
	struct media_stats st;
	usleep(50000);                                 /* stats are published after each tick's sends */
	media_stats(m, &st);
	uint64_t jumped = 0;                           /* periods skipped by a late tick */
	for (int i = 0; i < N; i++) {
		assert_int_equal(pkt[i][0], 0x80);
		assert_int_equal(pkt[i][1] & 0x7F, 0);
		if (i) {
			uint32_t dts = be32(pkt[i] + 4) - be32(pkt[i - 1] + 4);
			assert_int_equal((uint16_t)(be16(pkt[i] + 2) - be16(pkt[i - 1] + 2)), 1);
			assert_int_equal(dts % 160, 0);
			assert_true(dts >= 160);
			jumped += dts / 160 - 1;
			assert_int_equal(be32(pkt[i] + 8), be32(pkt[0] + 8));
		}
	}
	assert_true(jumped <= st.skipped_ticks);      /* +160 exactly unless the thread overran */
	/* The first frame is the start of the clip, encoded once at load. */
	for (int k = 0; k < 160; k++)
		assert_int_equal(pkt[0][12 + k], g711_lin2ulaw(music[k]));
	/* Per 20 ms of RTP time, so a stalled VM that made the thread skip ahead
	 * does not count against it. */
	double frames = (double)(be32(pkt[N - 1] + 4) - be32(pkt[0] + 4)) / 160;
	double mean = (at[N - 1] - at[0]) / frames;
	print_message("hold: mean inter-arrival %.2f ms over %d packets\n", mean, N);
	assert_true(mean > 15.0 && mean < 25.0);
	print_message("stats: ticks %llu late %llu skipped %llu max late %llu us\n",
	              (unsigned long long)st.ticks, (unsigned long long)st.late_ticks,
	              (unsigned long long)st.skipped_ticks, (unsigned long long)st.max_late_us);
	assert_true(st.ticks >= N);
	assert_true(st.tx_packets >= N);
	assert_int_equal(st.legs, 1);
	media_free(m);
	close(fd);
}

/* A plain bridge relays only what arrives once the bridge is in place:
 * sends `pl` every 10 ms until the other side hears something other than
 * `silence` (at most 1 s); the packet heard is left in pkt. */
static int relay_until_heard(int from, unsigned to_port, int pt, uint32_t ssrc, const uint8_t *pl,
                             int to, uint8_t *pkt, size_t len, uint8_t silence)
{
	for (uint16_t i = 0; i < 100; i++) {
		send_rtp(from, to_port, pt, i == 0, (uint16_t)(1 + i), 160u * i, ssrc, pl, 160);
		int n;
		while ((n = recv_rtp(to, pkt, len, 10)) >= 12)
			for (int k = 12; k < n; k++)
				if (pkt[k] != silence)
					return n;
	}
	return -1;
}

static void test_bridge_transcode(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	unsigned ra, rb, pa, pb;
	int fa = udp_socket(&ra), fb = udp_socket(&rb);
	media_leg a = media_leg_new(m, &pa), b = media_leg_new(m, &pb);
	assert_true(a && b && a != b && pa != pb);
	assert_int_equal(media_leg_remote(m, a, "127.0.0.1", ra, MEDIA_PCMU, 101), 0);
	assert_int_equal(media_leg_remote(m, b, "127.0.0.1", rb, MEDIA_PCMA, 0), 0);
	assert_int_equal(media_bridge(m, a, a), -1);
	assert_int_equal(media_bridge(m, a, b), 0);
	assert_int_equal(media_start(m), 0);

	uint8_t ulaw[160], alaw[160], pkt[400];
	for (int k = 0; k < 160; k++) {
		ulaw[k] = (uint8_t)(0x80 + (k % 0x70));    /* loud to quiet positive codes */
		alaw[k] = g711_lin2alaw((int16_t)(k * 150 - 12000));
	}
	int n = relay_until_heard(fa, pa, 0, 0x1111, ulaw, fb, pkt, sizeof pkt, G711_ALAW_SILENCE);
	assert_int_equal(n, 12 + 160);
	assert_int_equal(pkt[1] & 0x7F, 8);
	for (int k = 0; k < 160; k++)
		assert_int_equal(pkt[12 + k], g711_ulaw2alaw(ulaw[k]));

	n = relay_until_heard(fb, pb, 8, 0x2222, alaw, fa, pkt, sizeof pkt, G711_ULAW_SILENCE);
	assert_int_equal(n, 12 + 160);
	assert_int_equal(pkt[1] & 0x7F, 0);
	for (int k = 0; k < 160; k++)
		assert_int_equal(pkt[12 + k], g711_alaw2ulaw(alaw[k]));

	/* Freeing one side leaves the other sending silence, and kills its id. */
	media_leg_free(m, b);
	assert_int_equal(media_leg_silence(m, b), -1);
	assert_int_equal(media_bridge(m, a, b), -1);
	media_free(m);
	close(fa);
	close(fb);
}

static void send_dtmf(int fd, unsigned port, uint16_t *seq, uint32_t ts, uint8_t event)
{
	/* start, two updates, then the end packet three times (RFC 4733 2.5.1.4) */
	static const uint16_t dur[] = { 160, 320, 480, 640, 640, 640 };
	for (int i = 0; i < 6; i++) {
		uint8_t pl[4] = { event, (uint8_t)((i >= 3 ? 0x80 : 0) | 10), (uint8_t)(dur[i] >> 8),
		                  (uint8_t)dur[i] };
		send_rtp(fd, port, 101, i == 0, (*seq)++, ts, 0xD7F00D, pl, sizeof pl);
	}
}

static void test_dtmf(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	unsigned rport, lport;
	int fd = udp_socket(&rport);
	media_leg leg = media_leg_new(m, &lport);
	assert_int_equal(media_leg_remote(m, leg, "127.0.0.1", rport, MEDIA_PCMU, 101), 0);
	assert_int_equal(media_start(m), 0);

	uint8_t audio[160];
	memset(audio, G711_ULAW_SILENCE, sizeof audio);
	uint16_t seq = 100;
	for (int i = 0; i < 3; i++)
		send_rtp(fd, lport, 0, i == 0, seq++, (uint32_t)i * 160, 0xABCD, audio, sizeof audio);
	send_dtmf(fd, lport, &seq, 480, 5);
	usleep(60000);
	send_dtmf(fd, lport, &seq, 1280, 11);
	send_dtmf(fd, lport, &seq, 2080, 11);         /* same key again: a new event */

	char got[8] = "";
	struct media_event ev;
	while (strlen(got) < sizeof got - 1 && wait_event(m, &ev, 400)) {
		assert_int_equal(ev.kind, MEV_DTMF);
		assert_int_equal(ev.leg, leg);
		got[strlen(got)] = ev.digit;
	}
	assert_string_equal(got, "5##");
	media_free(m);
	close(fd);
}

/* A DTMF event (start packet) protected with ctx, from fd to port. */
static void send_srtp_dtmf(int fd, unsigned port, struct msrtp *ctx, uint16_t seq, uint32_t ts,
                           uint8_t event)
{
	uint8_t pkt[12 + 4 + MSRTP_TRAILER] = { 0x80, 0x80 | 101, (uint8_t)(seq >> 8), (uint8_t)seq,
		                                (uint8_t)(ts >> 24), (uint8_t)(ts >> 16),
		                                (uint8_t)(ts >> 8), (uint8_t)ts, 0, 0xD7, 0xF0, 0x0D,
		                                event, 10, 0, 160 };
	int len = 16;
	if (ctx)
		assert_int_equal(msrtp_protect(ctx, pkt, &len), 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(sendto(fd, pkt, (size_t)len, 0, (struct sockaddr *)&a, sizeof a), len);
}

/* SRTP at the leg's edge: what it sends is protected with our key (the far
 * end, holding it, unprotects 20 ms of PCMU silence), what it takes must be
 * protected with the remote's key: a plain packet is dropped. */
static void test_srtp_leg(void **state)
{
	(void)state;
	uint8_t ours[MEDIA_SRTP_KEY], theirs[MEDIA_SRTP_KEY];
	for (int i = 0; i < MEDIA_SRTP_KEY; i++) {
		ours[i] = (uint8_t)(i * 7 + 1);
		theirs[i] = (uint8_t)(i * 13 + 5);
	}
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	unsigned rport, lport;
	int fd = udp_socket(&rport);
	media_leg leg = media_leg_new(m, &lport);
	assert_int_equal(media_leg_srtp(m, leg, MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80, ours, theirs), 0);
	assert_int_equal(media_leg_remote(m, leg, "127.0.0.1", rport, MEDIA_PCMU, 101), 0);
	assert_int_equal(media_start(m), 0);
	struct msrtp *far = msrtp_new(MEDIA_SRTP_AES_CM_128_HMAC_SHA1_80, theirs, ours);
	assert_non_null(far);

	uint8_t pkt[400];
	int n = recv_rtp(fd, pkt, sizeof pkt, 500);
	assert_int_equal(n, 12 + 160 + 10);          /* 80-bit authentication tag */
	assert_int_equal(msrtp_unprotect(far, pkt, &n), 0);
	assert_int_equal(n, 12 + 160);
	for (int i = 12; i < n; i++)
		assert_int_equal(pkt[i], G711_ULAW_SILENCE);
	n = recv_rtp(fd, pkt, sizeof pkt, 500);
	pkt[20] ^= 1;                                 /* tampered on the way */
	assert_int_equal(msrtp_unprotect(far, pkt, &n), -1);

	struct media_event ev;
	send_srtp_dtmf(fd, lport, NULL, 10, 160, 3);  /* in clear: not taken */
	assert_false(wait_event(m, &ev, 200));
	send_srtp_dtmf(fd, lport, far, 11, 320, 7);
	assert_true(wait_event(m, &ev, 500));
	assert_int_equal(ev.kind, MEV_DTMF);
	assert_int_equal(ev.digit, '7');
	msrtp_free(far);
	media_free(m);
	close(fd);
}

/* Once packets come from elsewhere than the signalled address, replies follow them. */
static void test_symmetric(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	unsigned rport, nport, lport;
	int signalled = udp_socket(&rport), actual = udp_socket(&nport);
	media_leg leg = media_leg_new(m, &lport);
	assert_int_equal(media_leg_remote(m, leg, "127.0.0.1", rport, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_start(m), 0);
	uint8_t pkt[400];
	assert_int_equal(recv_rtp(signalled, pkt, sizeof pkt, 500), 12 + 160);
	memset(pkt, G711_ULAW_SILENCE, 160);
	send_rtp(actual, lport, 0, true, 1, 0, 0x5151, pkt, 160);
	assert_int_equal(recv_rtp(actual, pkt, sizeof pkt, 500), 12 + 160);
	usleep(50000);
	while (recv_rtp(signalled, pkt, sizeof pkt, 0) > 0)
		;                                        /* frames sent before the switch */
	assert_int_equal(recv_rtp(signalled, pkt, sizeof pkt, 200), -1);
	media_free(m);
	close(signalled);
	close(actual);
}

static void test_play(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	unsigned rport, lport;
	int fd = udp_socket(&rport);
	media_leg leg = media_leg_new(m, &lport);
	assert_int_equal(media_leg_remote(m, leg, "127.0.0.1", rport, MEDIA_PCMA, 0), 0);
	assert_int_equal(media_start(m), 0);
	double t0 = now_ms();
	assert_int_equal(media_leg_play(m, leg, "en/ok.wav"), 0);
	struct media_event ev;
	assert_true(wait_event(m, &ev, 1000));
	assert_int_equal(ev.kind, MEV_PLAYED);
	assert_int_equal(ev.leg, leg);
	double took = now_ms() - t0;
	assert_true(took >= 70 && took < 400);          /* 5 frames of 20 ms */
	assert_false(wait_event(m, &ev, 200));          /* reported once, then silence */

	assert_int_equal(media_leg_play(m, leg, "en/missing.wav"), 0);
	assert_true(wait_event(m, &ev, 500));
	assert_int_equal(ev.kind, MEV_PLAYED);
	media_free(m);
	close(fd);
}

static void test_timeout(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 1);
	unsigned r1, r2, p1, ptalk, p3;
	int f1 = udp_socket(&r1), f2 = udp_socket(&r2);
	media_leg quiet = media_leg_new(m, &p1), talking = media_leg_new(m, &ptalk);
	media_leg idle = media_leg_new(m, &p3);          /* no remote: never times out */
	assert_true(quiet && talking && idle);
	assert_int_equal(media_leg_remote(m, quiet, "127.0.0.1", r1, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_leg_remote(m, talking, "127.0.0.1", r2, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_start(m), 0);
	double t0 = now_ms();
	uint8_t audio[160];
	memset(audio, G711_ULAW_SILENCE, sizeof audio);
	struct media_event ev;
	int timeouts = 0;
	double first = 0;
	for (uint16_t seq = 0; now_ms() - t0 < 2600; seq++) {
		send_rtp(f2, ptalk, 0, false, seq, seq * 160u, 7, audio, sizeof audio);
		while (wait_event(m, &ev, 100)) {
			assert_int_equal(ev.kind, MEV_TIMEOUT);
			assert_int_equal(ev.leg, quiet);
			if (!timeouts++)
				first = now_ms() - t0;
		}
	}
	assert_int_equal(timeouts, 1);
	print_message("timeout raised after %.0f ms\n", first);
	assert_true(first >= 900 && first < 1800);
	media_free(m);
	close(f1);
	close(f2);
}

/* A held phone that said it will not send is not timed out; once it is
 * expected to send again, the timeout counts from then. */
static void test_quiet_hold_no_timeout(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 1);
	unsigned r1, p1;
	int f1 = udp_socket(&r1);
	media_leg held = media_leg_new(m, &p1);
	assert_true(held);
	assert_int_equal(media_leg_remote(m, held, "127.0.0.1", r1, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_leg_quiet(m, held, true), 0);
	assert_int_equal(media_start(m), 0);
	struct media_event ev;
	assert_false(wait_event(m, &ev, 1800));
	double t0 = now_ms();
	assert_int_equal(media_leg_quiet(m, held, false), 0);
	assert_true(wait_event(m, &ev, 2500));
	assert_int_equal(ev.kind, MEV_TIMEOUT);
	double after = now_ms() - t0;
	print_message("timeout raised %.0f ms after the hold ended\n", after);
	assert_true(after >= 900 && after < 2000);
	media_free(m);
	close(f1);
}

static void test_ports_and_ids(void **state)
{
	(void)state;
	unsigned base = test_ports(), busy = base;
	int hog = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)busy) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(bind(hog, (struct sockaddr *)&a, sizeof a), 0);

	media_t *m = start(base, 0);
	unsigned ports[10];
	media_leg legs[10];
	for (int i = 0; i < 9; i++) {
		legs[i] = media_leg_new(m, &ports[i]);
		assert_true(legs[i] != 0);
		assert_true(ports[i] != busy);
		for (int k = 0; k < i; k++)
			assert_true(ports[k] != ports[i]);
	}
	assert_int_equal(media_leg_new(m, &ports[9]), 0);   /* 10 even ports, one taken */

	media_leg old = legs[3];
	media_leg_free(m, old);
	assert_int_equal(media_leg_hold(m, old, "wait", "en"), -1);
	assert_int_equal(media_leg_announce(m, old, 1, 2), -1);
	assert_int_equal(media_leg_remote(m, legs[0], "not-an-ip", 4000, MEDIA_PCMU, 0), -1);
	assert_int_equal(media_leg_hold(m, legs[0], "wait", "../x"), -1);
	assert_int_equal(media_leg_hold(m, 0, "wait", "en"), -1);
	assert_int_equal(media_start(m), 0);
	usleep(60000);                                    /* the media thread releases the port */
	media_leg again = media_leg_new(m, &ports[9]);
	assert_true(again != 0 && again != old);
	assert_int_equal(media_leg_hold(m, old, "wait", "en"), -1);
	assert_int_equal(media_leg_hold(m, again, "position,wait,repeat", "en"), 0);
	media_free(m);
	close(hog);
}

/* Legs moving between two media threads, every time an order the threads
 * cannot see coming: a leg freed while it travels still dies when it arrives;
 * a leg sent on before it arrived goes where it was last sent, and neither
 * thread stops applying commands. */
static void test_moves_between_threads(void **state)
{
	(void)state;
	unsigned base = test_ports();
	char err[256] = "";
	struct media_conf conf = { .ip = "127.0.0.1", .port_min = base, .port_max = base + 18,
	                           .media_dir = dir, .threads = 2 };
	media_t *m = media_new(&conf, err, sizeof err);
	assert_non_null(m);
	unsigned p;
	/* Not started: every command waits, so the threads later meet them in
	 * exactly this order. New legs go to the thread with fewer legs, the
	 * first on a tie: c0, a0, a1 on thread 0; l, c1 on thread 1. */
	media_leg c0 = media_leg_new(m, &p), l = media_leg_new(m, &p), a0 = media_leg_new(m, &p),
	          c1 = media_leg_new(m, &p), a1 = media_leg_new(m, &p);
	media_leg gone_c = media_leg_new(m, &p), gone_a = media_leg_new(m, &p);
	assert_true(c0 && l && a0 && c1 && a1 && gone_c && gone_a);
	assert_int_equal(media_bridge(m, gone_c, gone_a), 0);   /* gone_a travels to gone_c's thread */
	media_leg_free(m, gone_a);                              /* ... and is freed on the way */
	media_leg_free(m, gone_c);
	assert_int_equal(media_bridge(m, c0, a0), 0);
	assert_int_equal(media_bridge(m, c1, a1), 0);           /* a1: thread 0 to 1 */
	assert_int_equal(media_spy(m, l, c0, a0, MEDIA_LISTEN), 0);   /* l: 1 to 0 ... */
	assert_int_equal(media_spy(m, l, c1, a1, MEDIA_LISTEN), 0);   /* ... and on to 1 */
	assert_int_equal(media_start(m), 0);
	usleep(150000);

	/* Both threads still work: new legs on each play their hold loop
	 * (thread 0 holds 2 legs now, thread 1 holds 3: the third goes to 1). */
	int fd[3];
	media_leg fresh[3];
	for (int i = 0; i < 3; i++) {
		unsigned rport;
		fd[i] = udp_socket(&rport);
		fresh[i] = media_leg_new(m, &p);
		assert_true(fresh[i] != 0);
		assert_int_equal(media_leg_remote(m, fresh[i], "127.0.0.1", rport, MEDIA_PCMU, 0), 0);
		assert_int_equal(media_leg_hold(m, fresh[i], "file:music.wav,repeat", "en"), 0);
	}
	uint8_t pkt[400];
	for (int i = 0; i < 3; i++)
		assert_int_equal(recv_rtp(fd[i], pkt, sizeof pkt, 1000), 12 + 160);

	/* Everything freed is gone: no leg outlives its free. */
	media_leg all[] = { c0, l, a0, c1, a1, fresh[0], fresh[1], fresh[2] };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		media_leg_free(m, all[i]);
	struct media_stats st = { 0 };
	for (int tries = 0; tries < 50; tries++) {
		usleep(20000);
		media_stats(m, &st);
		if (st.legs == 0)
			break;
	}
	assert_int_equal(st.legs, 0);
	media_free(m);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
}

static void test_clips(void **state)
{
	(void)state;
	char err[128];
	struct clips *c = clips_load(dir, err, sizeof err);
	assert_non_null(c);
	assert_int_equal(clips_count(c), 3);              /* junk.wav skipped */
	struct clip *mu = clips_get(c, "music.wav"), *hi = clips_get(c, "hi16k.wav");
	struct clip *ok = clips_get(c, "en/ok.wav");
	assert_non_null(mu);
	assert_non_null(ok);
	clips_put(ok);
	assert_null(clips_get(c, "junk.wav"));
	assert_null(clips_get(c, "ok.wav"));
	assert_int_equal(mu->len, MUSIC_LEN);
	assert_memory_equal(mu->lin, music, sizeof music);
	for (size_t i = 0; i < mu->len; i++) {
		assert_int_equal(mu->ulaw[i], g711_lin2ulaw(music[i]));
		assert_int_equal(mu->alaw[i], g711_lin2alaw(music[i]));
	}
	/* 1 s at 16 kHz becomes 1 s at 8 kHz: the same 440 Hz sine, away from the edges. */
	assert_non_null(hi);
	assert_int_equal(hi->len, 8000);
	double err2 = 0, ref = 0;
	for (size_t i = 200; i < 7800; i++) {
		double d = hi->lin[i] - music[i];
		err2 += d * d;
		ref += (double)music[i] * music[i];
	}
	assert_true(err2 / ref < 0.01);
	clips_free(c);
	/* The table's references are gone; ours keep the clips alive. */
	assert_int_equal(mu->len, MUSIC_LEN);
	assert_int_equal(hi->len, 8000);
	clips_put(mu);
	clips_put(hi);
	assert_null(clips_load("/nonexistent/callq", err, sizeof err));
}


/* Three talkers sending constant levels; what each hears is read back. */
struct party {
	int fd;
	unsigned rport, lport;
	media_leg leg;
	int16_t level;
	int16_t heard;                   /* first sample of the last packet received */
};

static void party_new(media_t *m, struct party *p, int16_t level)
{
	p->fd = udp_socket(&p->rport);
	p->leg = media_leg_new(m, &p->lport);
	p->level = level;
	assert_true(p->leg != 0);
	assert_int_equal(media_leg_remote(m, p->leg, "127.0.0.1", p->rport, MEDIA_PCMU, 0), 0);
}

/* ticks of 20 ms: everyone talks; kept is the last non-silent frame each one
 * heard in the second half (the test's sleeps run slower than 20 ms, so the
 * jitter buffer underruns now and then and sends a silent frame). */
static void talk(struct party *ps, int n, int ticks, uint32_t *ts)
{
	uint8_t pl[160], pkt[400];
	for (int i = 0; i < n; i++)
		ps[i].heard = 0;
	for (int t = 0; t < ticks; t++, *ts += 160) {
		for (int i = 0; i < n; i++) {
			memset(pl, g711_lin2ulaw(ps[i].level), sizeof pl);
			send_rtp(ps[i].fd, ps[i].lport, 0, false, (uint16_t)(*ts / 160), *ts,
			         0x100u + (unsigned)i, pl, sizeof pl);
		}
		usleep(20000);
		for (int i = 0; i < n; i++)
			while (recv_rtp(ps[i].fd, pkt, sizeof pkt, 0) == 12 + 160)
				if (t >= ticks / 2 && g711_ulaw2lin(pkt[12]))
					ps[i].heard = g711_ulaw2lin(pkt[12]);
	}
}

/* Within mu-law quantisation of the expected sum. */
static void assert_level(int16_t got, int expect)
{
	int tol = expect < 0 ? -expect / 16 + 40 : expect / 16 + 40;
	if (abs(got - expect) > tol)
		fail_msg("heard %d, expected %d", got, expect);
}

static void test_spy(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	struct party p[3];
	party_new(m, &p[0], 1000);                       /* caller */
	party_new(m, &p[1], 2000);                       /* agent */
	party_new(m, &p[2], 4000);                       /* manager */
	struct party *c = &p[0], *a = &p[1], *l = &p[2];
	assert_int_equal(media_bridge(m, c->leg, a->leg), 0);
	assert_int_equal(media_spy(m, l->leg, c->leg, a->leg, MEDIA_LISTEN), 0);
	assert_int_equal(media_spy(m, l->leg, l->leg, a->leg, MEDIA_LISTEN), -1);
	assert_int_equal(media_spy(m, l->leg, c->leg, a->leg, (enum media_spy_mode)7), -1);
	assert_int_equal(media_start(m), 0);
	uint32_t ts = 0;
	talk(p, 3, 12, &ts);
	assert_level(l->heard, 3000);                    /* listen: both */
	assert_level(c->heard, 2000);
	assert_level(a->heard, 1000);
	assert_int_equal(media_spy_mode(m, l->leg, MEDIA_WHISPER), 0);
	talk(p, 3, 8, &ts);
	assert_level(l->heard, 3000);
	assert_level(c->heard, 2000);                    /* the caller never hears a whisper */
	assert_level(a->heard, 5000);
	assert_int_equal(media_spy_mode(m, l->leg, MEDIA_BARGE), 0);
	talk(p, 3, 8, &ts);
	assert_level(l->heard, 3000);
	assert_level(c->heard, 6000);
	assert_level(a->heard, 5000);
	/* The agent leaves: the manager gets MEV_SPY_END and silence. */
	media_leg_free(m, a->leg);
	struct media_event ev;
	assert_true(wait_event(m, &ev, 500));
	assert_int_equal(ev.kind, MEV_SPY_END);
	assert_int_equal(ev.leg, l->leg);
	talk(p, 1, 5, &ts);
	talk(&p[2], 1, 3, &ts);
	assert_level(l->heard, 0);
	assert_level(c->heard, 0);
	media_free(m);
	for (int i = 0; i < 3; i++)
		close(p[i].fd);
}

static void test_bridge_hold_record(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	struct party p[2];
	party_new(m, &p[0], 1000);
	party_new(m, &p[1], -3000);
	char path[128];
	snprintf(path, sizeof path, "%s/call.wav", dir);
	assert_int_equal(media_bridge(m, p[0].leg, p[1].leg), 0);
	uint32_t id = media_record_start(m, p[0].leg, p[1].leg, path, 0);
	assert_true(id != 0);
	assert_int_equal(media_record_start(m, p[0].leg, p[0].leg, path, 0), 0);
	assert_int_equal(media_start(m), 0);
	uint32_t ts = 0;
	talk(p, 2, 25, &ts);                             /* 0.5 s talking */
	assert_level(p[0].heard, -3000);
	assert_int_equal(media_bridge_hold(m, p[0].leg, true, NULL, "en"), 0);
	uint8_t pkt[400];
	talk(p, 2, 25, &ts);                             /* 0.5 s on hold: music, not recorded */
	assert_level(p[1].heard, 0);                     /* the agent hears nothing */
	int n = recv_rtp(p[0].fd, pkt, sizeof pkt, 200);
	assert_int_equal(n, 12 + 160);
	bool music_heard = false;
	for (int k = 12; k < n; k++)
		music_heard |= pkt[k] != g711_lin2ulaw(-3000) && pkt[k] != G711_ULAW_SILENCE;
	assert_true(music_heard);
	assert_int_equal(media_bridge_hold(m, p[0].leg, false, NULL, "en"), 0);
	talk(p, 2, 25, &ts);
	assert_level(p[0].heard, -3000);
	assert_int_equal(media_record_stop(m, id), 0);
	struct media_event ev;
	assert_true(wait_event(m, &ev, 1000));
	assert_int_equal(ev.kind, MEV_RECORD_DONE);
	assert_int_equal(ev.record, id);
	assert_int_equal(ev.leg, p[0].leg);
	print_message("recorded %u ms of 1500, %u dropped\n", ev.duration_ms, ev.frames_dropped);
	assert_true(ev.duration_ms >= 800 && ev.duration_ms <= 1150);
	SF_INFO info = { 0 };
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.channels, 2);
	assert_int_equal(info.frames, ev.duration_ms * 8);
	static int16_t s[2 * 8000 * 2];
	sf_count_t got = sf_readf_short(sf, s, info.frames);
	sf_close(sf);
	int left = 0, right = 0;                         /* the talkers' levels, never music */
	for (sf_count_t i = 0; i < got; i++) {
		left += abs(s[2 * i] - g711_ulaw2lin(g711_lin2ulaw(1000))) < 2;
		right += abs(s[2 * i + 1] - g711_ulaw2lin(g711_lin2ulaw(-3000))) < 2;
		assert_true(s[2 * i] == 0 || abs(s[2 * i] - 1000) < 100);
		assert_true(s[2 * i + 1] == 0 || abs(s[2 * i + 1] + 3000) < 200);
	}
	print_message("talk in the recording: left %d right %d of %lld samples\n", left, right,
	              (long long)got);
	assert_true(left > got * 2 / 3 && right > got * 2 / 3);     /* the rest: jitter-buffer gaps */

	/* Unwritable: the call goes on. */
	snprintf(path, sizeof path, "%s/nodir/x.wav", dir);
	id = media_record_start(m, p[0].leg, p[1].leg, path, 0);
	assert_true(id != 0);
	assert_true(wait_event(m, &ev, 1000));
	assert_int_equal(ev.kind, MEV_RECORD_FAILED);
	assert_int_equal(ev.record, id);
	assert_string_equal(ev.error, "No such file or directory");
	talk(p, 2, 10, &ts);
	assert_level(p[0].heard, -3000);
	assert_level(p[1].heard, 1000);
	/* A re-bridge ends the recording in progress. */
	snprintf(path, sizeof path, "%s/call2.wav", dir);
	id = media_record_start(m, p[0].leg, p[1].leg, path, 0);
	talk(p, 2, 5, &ts);
	assert_int_equal(media_leg_silence(m, p[1].leg), 0);
	assert_true(wait_event(m, &ev, 1000));
	assert_int_equal(ev.kind, MEV_RECORD_DONE);
	assert_int_equal(ev.record, id);
	media_free(m);
	close(p[0].fd);
	close(p[1].fd);
}

static void test_leg_record(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	struct party p;
	party_new(m, &p, 2500);
	char path[128];
	snprintf(path, sizeof path, "%s/vm.wav", dir);
	assert_int_equal(media_leg_play(m, p.leg, "en/ok.wav"), 0);
	uint32_t id = media_leg_record(m, p.leg, path, 1);
	assert_true(id != 0);
	assert_int_equal(media_start(m), 0);
	uint32_t ts = 0;
	talk(&p, 1, 70, &ts);                            /* 1.4 s, max is 1 s */
	struct media_event ev;
	bool done = false;
	while (!done && wait_event(m, &ev, 1000))
		done = ev.kind == MEV_RECORD_DONE;
	assert_true(done);
	assert_int_equal(ev.duration_ms, 1000);
	SF_INFO info = { 0 };
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.channels, 1);
	int16_t s[8000];
	assert_int_equal(sf_readf_short(sf, s, 8000), 8000);
	sf_close(sf);
	assert_level(s[7999], 2500);
	media_leg_free(m, p.leg);
	media_free(m);
	close(p.fd);
}

static void test_reload(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	struct party p;
	party_new(m, &p, 0);
	char err[256];
	assert_int_equal(media_leg_hold(m, p.leg, "file:reload.wav,repeat", "en"), 0);
	assert_int_equal(media_start(m), 0);
	int16_t a[800], b[800];
	for (int i = 0; i < 800; i++) {
		a[i] = 1000;
		b[i] = -5000;
	}
	uint32_t ts = 0;
	talk(&p, 1, 5, &ts);
	assert_level(p.heard, 0);                        /* no such file yet: silence */
	write_wav("reload.wav", a, 800, 8000);
	assert_int_equal(media_reload(m, "reload.wav", err, sizeof err), 0);
	talk(&p, 1, 8, &ts);
	assert_level(p.heard, 1000);
	write_wav("reload.wav", b, 800, 8000);           /* changed: takes effect next pass */
	assert_int_equal(media_reload(m, "reload.wav", err, sizeof err), 0);
	talk(&p, 1, 12, &ts);
	assert_level(p.heard, -5000);
	char path[160];
	snprintf(path, sizeof path, "%s/reload.wav", dir);
	unlink(path);
	assert_int_equal(media_reload(m, "reload.wav", err, sizeof err), 0);
	talk(&p, 1, 12, &ts);
	assert_level(p.heard, 0);
	assert_int_equal(media_reload(m, "../etc/passwd.wav", err, sizeof err), -1);
	media_free(m);
	close(p.fd);
}

/* Reads what fd receives for ms milliseconds: the number of RTP packets; *loud
 * (if given) is set when one carried anything but `silence`. */
static int drain_for(int fd, int ms, uint8_t silence, bool *loud)
{
	uint8_t pkt[400];
	int n = 0, left;
	double end = now_ms() + ms;
	while ((left = (int)(end - now_ms())) > 0) {
		int len = recv_rtp(fd, pkt, sizeof pkt, left);
		if (len < 12)
			continue;
		n++;
		for (int k = 12; k < len && loud; k++)
			if (pkt[k] != silence)
				*loud = true;
	}
	return n;
}

static void loud_frame(uint8_t *ulaw)
{
	for (int k = 0; k < 160; k++)
		ulaw[k] = (uint8_t)(0x80 + (k % 0x70));
}

/* Microseconds from each of 20 sends on `from` to its arrival on `to`, sent
 * 7 ms apart so they fall anywhere between two ticks. */
static void relay_delays(int from, unsigned port, int to, uint32_t ssrc, uint16_t seq0,
                         double *us, int n)
{
	uint8_t pl[160], pkt[400];
	loud_frame(pl);
	for (int i = 0; i < n; i++) {
		while (recv_rtp(to, pkt, sizeof pkt, 0) >= 0)
			;
		double t0 = now_ms();
		send_rtp(from, port, 0, false, (uint16_t)(seq0 + i), 160u * (uint32_t)(seq0 + i), ssrc, pl, 160);
		us[i] = recv_rtp(to, pkt, sizeof pkt, 100) >= 12 ? (now_ms() - t0) * 1000 : 1e9;
		usleep(7000);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Most relayed packets leave within 1 ms of arriving, none waits for a tick;
 * the median is well under a millisecond. */
static void assert_cut_through(const double *us_in, int n, const char *what)
{
	double us[64];
	memcpy(us, us_in, (size_t)n * sizeof *us);
	qsort(us, (size_t)n, sizeof *us, cmp_double);
	int fast = 0;
	for (int i = 0; i < n; i++)
		fast += us[i] < 1000;
	print_message("%s: relay delay median %.0f us, max %.0f us, %d of %d under 1 ms\n", what,
	              us[n / 2], us[n - 1], fast, n);
	assert_true(us[n / 2] < 1000);
	assert_true(fast >= n * 3 / 4);
}

/* A plain bridge relays each packet the moment it arrives (not on the next
 * tick), and fills silence, paced, when nobody talks. */
static void test_relay_cut_through(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	unsigned ra, rb, pa, pb;
	int fa = udp_socket(&ra), fb = udp_socket(&rb);
	media_leg a = media_leg_new(m, &pa), b = media_leg_new(m, &pb);
	assert_int_equal(media_leg_remote(m, a, "127.0.0.1", ra, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_leg_remote(m, b, "127.0.0.1", rb, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_bridge(m, a, b), 0);
	assert_int_equal(media_start(m), 0);
	uint8_t loud[160], pkt[400];
	loud_frame(loud);
	assert_true(relay_until_heard(fa, pa, 0, 0xAA, loud, fb, pkt, sizeof pkt, G711_ULAW_SILENCE) > 0);
	double us[20];
	relay_delays(fa, pa, fb, 0xAA, 500, us, 20);
	assert_cut_through(us, 20, "a to b");
	relay_delays(fb, pb, fa, 0xBB, 500, us, 20);
	assert_cut_through(us, 20, "b to a");
	/* Nobody talks: after 60 ms the tick fills silence, paced. */
	usleep(100000);
	while (recv_rtp(fb, pkt, sizeof pkt, 0) >= 0)
		;
	bool loud_seen = false;
	int filled = drain_for(fb, 200, G711_ULAW_SILENCE, &loud_seen);
	print_message("quiet: %d silence frames in 200 ms\n", filled);
	assert_true(filled >= 8 && filled <= 12);
	assert_false(loud_seen);
	media_free(m);
	close(fa);
	close(fb);
}

/* The far end sees one stream: our SSRC, sequence +1 per packet, timestamps
 * +160 per 20 ms even when the phone restarts its stream (new SSRC, new
 * random timestamps and sequence numbers). */
static void test_relay_rewrites_header(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	unsigned ra, rb, pa, pb;
	int fa = udp_socket(&ra), fb = udp_socket(&rb);
	media_leg a = media_leg_new(m, &pa), b = media_leg_new(m, &pb);
	assert_int_equal(media_leg_remote(m, a, "127.0.0.1", ra, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_leg_remote(m, b, "127.0.0.1", rb, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_bridge(m, a, b), 0);
	assert_int_equal(media_start(m), 0);
	uint8_t loud[160], pkt[400];
	loud_frame(loud);
	assert_true(relay_until_heard(fa, pa, 0, 0x1234, loud, fb, pkt, sizeof pkt, G711_ULAW_SILENCE) > 0);
	usleep(30000);
	while (recv_rtp(fb, pkt, sizeof pkt, 0) >= 0)
		;
	enum { N = 12 };
	uint8_t got[N][400];
	for (int i = 0; i < N; i++) {
		bool second = i >= N / 2;                 /* the phone restarts its stream */
		uint32_t ssrc = second ? 0x9999 : 0x1234, ts = second ? 4000000000u + 160u * (uint32_t)i
		                                                      : 50000u + 160u * (uint32_t)i;
		uint16_t seq = second ? (uint16_t)(3 + i) : (uint16_t)(60000 + i);
		send_rtp(fa, pa, 0, false, seq, ts, ssrc, loud, 160);
		assert_int_equal(recv_rtp(fb, got[i], sizeof got[i], 200), 12 + 160);
		usleep(20000);
	}
	for (int i = 1; i < N; i++) {
		assert_int_equal(be32(got[i] + 8), be32(got[0] + 8));               /* one SSRC */
		assert_int_equal((uint16_t)(be16(got[i] + 2) - be16(got[i - 1] + 2)), 1);
		uint32_t dts = be32(got[i] + 4) - be32(got[i - 1] + 4);
		if (i == N / 2) {                        /* the restart: on by the time that passed */
			assert_int_equal(dts % 160, 0);
			assert_true(dts >= 160 && dts <= 800);
			assert_true(got[i][1] & 0x80);       /* marker: a new stream of audio */
		} else {
			assert_int_equal(dts, 160);
		}
	}
	assert_true(be32(got[0] + 8) != 0x1234 && be32(got[0] + 8) != 0x9999);
	media_free(m);
	close(fa);
	close(fb);
}

/* A listener joining makes the bridge a mix paced by the tick (a packet
 * waits for the next tick and the jitter buffer); leaving makes it a relay
 * again. Holding
 * plays the hold loop to the caller and sends the agent silence; resuming
 * relays again. */
static void test_relay_modes(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	unsigned ra, rb, rl, pa, pb, pl;
	int fa = udp_socket(&ra), fb = udp_socket(&rb), fl = udp_socket(&rl);
	media_leg a = media_leg_new(m, &pa), b = media_leg_new(m, &pb), l = media_leg_new(m, &pl);
	assert_int_equal(media_leg_remote(m, a, "127.0.0.1", ra, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_leg_remote(m, b, "127.0.0.1", rb, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_leg_remote(m, l, "127.0.0.1", rl, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_bridge(m, a, b), 0);
	assert_int_equal(media_start(m), 0);
	uint8_t loud[160], pkt[400];
	loud_frame(loud);
	assert_true(relay_until_heard(fa, pa, 0, 0xA, loud, fb, pkt, sizeof pkt, G711_ULAW_SILENCE) > 0);

	assert_int_equal(media_spy(m, l, a, b, MEDIA_LISTEN), 0);
	usleep(60000);
	drain_for(fb, 30, 0, NULL);
	double us[20];
	relay_delays(fa, pa, fb, 0xA, 600, us, 20);                   /* mixed: on the tick */
	qsort(us, 20, sizeof *us, cmp_double);
	print_message("mixed: delay median %.0f us\n", us[10]);
	assert_true(us[10] > 2000);
	assert_true(drain_for(fl, 100, 0, NULL) >= 2);                /* the listener hears */

	assert_int_equal(media_leg_silence(m, l), 0);                 /* the listener leaves */
	usleep(60000);
	drain_for(fb, 30, 0, NULL);
	relay_delays(fa, pa, fb, 0xA, 900, us, 20);
	assert_cut_through(us, 20, "after the spy left");

	while (recv_rtp(fa, pkt, sizeof pkt, 0) >= 0)
		;
	assert_int_equal(media_bridge_hold(m, a, true, "file:music.wav,repeat", "en"), 0);
	assert_int_equal(recv_rtp(fa, pkt, sizeof pkt, 200), 12 + 160);  /* the loop, from its start */
	for (int k = 0; k < 160; k++)
		assert_int_equal(pkt[12 + k], g711_lin2ulaw(music[k]));
	drain_for(fb, 30, 0, NULL);
	bool heard = false;
	for (int i = 0; i < 5; i++)
		send_rtp(fa, pa, 0, false, (uint16_t)(2000 + i), 160u * (uint32_t)(2000 + i), 0xA, loud, 160);
	assert_true(drain_for(fb, 150, G711_ULAW_SILENCE, &heard) >= 3);   /* silence, paced */
	assert_false(heard);
	assert_int_equal(media_bridge_hold(m, a, false, NULL, "en"), 0);
	usleep(60000);
	drain_for(fb, 30, 0, NULL);
	relay_delays(fa, pa, fb, 0xA, 3000, us, 20);
	assert_cut_through(us, 20, "after the hold");
	media_free(m);
	close(fa);
	close(fb);
	close(fl);
}

/* A relayed call is recorded from what each side sent: caller left, agent
 * right; a side that sent nothing is silence. */
static void test_relay_record(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	struct party p[2];
	party_new(m, &p[0], 1000);
	party_new(m, &p[1], -3000);
	char path[128];
	snprintf(path, sizeof path, "%s/relay.wav", dir);
	assert_int_equal(media_bridge(m, p[0].leg, p[1].leg), 0);
	uint32_t id = media_record_start(m, p[0].leg, p[1].leg, path, 0);
	assert_true(id != 0);
	assert_int_equal(media_start(m), 0);
	uint32_t ts = 0;
	talk(p, 2, 25, &ts);
	assert_level(p[0].heard, -3000);                 /* relayed both ways meanwhile */
	assert_level(p[1].heard, 1000);
	talk(p, 1, 25, &ts);                             /* only the caller talks */
	assert_int_equal(media_record_stop(m, id), 0);
	struct media_event ev;
	assert_true(wait_event(m, &ev, 1000));
	assert_int_equal(ev.kind, MEV_RECORD_DONE);
	SF_INFO info = { 0 };
	SNDFILE *sf = sf_open(path, SFM_READ, &info);
	assert_non_null(sf);
	assert_int_equal(info.channels, 2);
	static int16_t s[2 * 8000];
	sf_count_t frames = sf_readf_short(sf, s, 8000);
	sf_close(sf);
	print_message("recorded %lld frames\n", (long long)frames);
	assert_true(frames >= 40 * 160);
	int left = 0, right = 0, right_quiet = 0;
	for (sf_count_t i = 0; i < frames; i++) {
		left += abs(s[2 * i] - 1000) < 100;
		right += abs(s[2 * i + 1] + 3000) < 200;
		right_quiet += s[2 * i + 1] == 0 && i >= frames - 10 * 160;
	}
	assert_true(left >= frames / 2);                 /* the caller, all along */
	assert_true(right >= 10 * 160);                  /* the agent while it talked */
	assert_true(right_quiet >= 5 * 160);             /* then silence */
	media_free(m);
	close(p[0].fd);
	close(p[1].fd);
}

/* A stranger (127.0.0.9) sending audio with its own SSRC, and RFC 4733 digits,
 * to both legs of a bridge: it receives nothing, nobody hears it, no digit is
 * reported, the parties keep their audio, and the packets are counted. */
static void test_stranger_ignored(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	unsigned ra, rb, rs, pa, pb;
	int fa = udp_socket(&ra), fb = udp_socket(&rb), fs = udp_socket_at("127.0.0.9", &rs);
	media_leg a = media_leg_new(m, &pa), b = media_leg_new(m, &pb);
	assert_true(a && b);
	assert_int_equal(media_leg_remote(m, a, "127.0.0.1", ra, MEDIA_PCMU, 101), 0);
	assert_int_equal(media_leg_remote(m, b, "127.0.0.1", rb, MEDIA_PCMU, 101), 0);
	assert_int_equal(media_bridge(m, a, b), 0);
	assert_int_equal(media_start(m), 0);

	uint8_t quiet[160], loud[160];
	memset(quiet, G711_ULAW_SILENCE, sizeof quiet);
	loud_frame(loud);
	for (uint16_t i = 0; i < 5; i++) {            /* both phones talk: latched */
		send_rtp(fa, pa, 0, i == 0, (uint16_t)(100 + i), i * 160u, 0x1111, quiet, 160);
		send_rtp(fb, pb, 0, i == 0, (uint16_t)(100 + i), i * 160u, 0x2222, quiet, 160);
	}
	/* The parties go on talking (a plain bridge relays what they send) while
	 * the stranger sends to both. */
	for (uint16_t i = 0; i < 25; i++) {
		send_rtp(fs, pa, 0, i == 0, (uint16_t)(5000 + i), i * 160u, 0xBAD0 + i % 2, loud, 160);
		send_rtp(fs, pb, 0, i == 0, (uint16_t)(5000 + i), i * 160u, 0xBAD2 + i % 2, loud, 160);
		send_rtp(fa, pa, 0, false, (uint16_t)(105 + i), (5 + i) * 160u, 0x1111, quiet, 160);
		send_rtp(fb, pb, 0, false, (uint16_t)(105 + i), (5 + i) * 160u, 0x2222, quiet, 160);
		usleep(20000);
	}
	assert_int_equal(drain_for(fs, 300, G711_ULAW_SILENCE, NULL), 0);
	bool heard = false;
	assert_true(drain_for(fa, 100, G711_ULAW_SILENCE, &heard) > 0);
	assert_true(drain_for(fb, 100, G711_ULAW_SILENCE, &heard) > 0);
	assert_false(heard);

	uint16_t seq = 7000;
	send_dtmf(fs, pa, &seq, 9000, 11);             /* a forged '#' */
	struct media_event ev;
	assert_false(wait_event(m, &ev, 400));
	send_dtmf(fa, pa, &seq, 10000, 5);             /* the phone's own digit still counts */
	assert_true(wait_event(m, &ev, 500));
	assert_int_equal(ev.kind, MEV_DTMF);
	assert_int_equal(ev.digit, '5');

	struct media_stats st;
	media_stats(m, &st);
	print_message("%llu foreign packets dropped\n", (unsigned long long)st.rx_foreign);
	assert_true(st.rx_foreign >= 50 + 6);
	media_free(m);
	close(fa);
	close(fb);
	close(fs);
}

/* Replies follow a new source only at an allowed address: the one the SDP
 * names (any port), the signalling source given by media_leg_allow, and
 * 127.0.0.1 when one of those is on loopback. */
static void test_latch_allowed_only(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	unsigned rsdp, rreal, rnat, rx, pa;
	int sdp = udp_socket_at("127.0.0.5", &rsdp), real = udp_socket_at("127.0.0.5", &rreal);
	int nat = udp_socket_at("127.0.0.7", &rnat), stranger = udp_socket_at("127.0.0.9", &rx);
	media_leg a = media_leg_new(m, &pa);
	assert_int_equal(media_leg_remote(m, a, "127.0.0.5", rsdp, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_leg_allow(m, a, "not-an-ip"), -1);
	assert_int_equal(media_start(m), 0);
	uint8_t pkt[400], quiet[160];
	memset(quiet, G711_ULAW_SILENCE, sizeof quiet);
	assert_int_equal(recv_rtp(sdp, pkt, sizeof pkt, 500), 12 + 160);

	send_rtp(real, pa, 0, true, 1, 0, 0x5151, quiet, 160);        /* the SDP address, another port */
	assert_int_equal(recv_rtp(real, pkt, sizeof pkt, 500), 12 + 160);
	send_rtp(stranger, pa, 0, true, 1, 0, 0x6161, quiet, 160);
	send_rtp(nat, pa, 0, true, 1, 0, 0x7171, quiet, 160);         /* not allowed yet */
	assert_int_equal(drain_for(stranger, 200, 0, NULL), 0);
	assert_int_equal(drain_for(nat, 50, 0, NULL), 0);
	assert_true(drain_for(real, 50, 0, NULL) > 0);

	assert_int_equal(media_leg_allow(m, a, "127.0.0.7"), 0);      /* SIP came from there */
	usleep(50000);
	send_rtp(nat, pa, 0, true, 1, 0, 0x7171, quiet, 160);
	assert_int_equal(recv_rtp(nat, pkt, sizeof pkt, 500), 12 + 160);
	send_rtp(stranger, pa, 0, true, 2, 160, 0x6162, quiet, 160);
	assert_int_equal(drain_for(stranger, 200, 0, NULL), 0);
	assert_true(drain_for(nat, 50, 0, NULL) > 0);

	/* A phone on this host naming 127.0.0.5 but bound to the wildcard sends from 127.0.0.1. */
	unsigned rlo;
	int lo = udp_socket(&rlo);
	send_rtp(lo, pa, 0, true, 1, 0, 0x8181, quiet, 160);
	assert_int_equal(recv_rtp(lo, pkt, sizeof pkt, 500), 12 + 160);
	media_free(m);
	close(sdp);
	close(real);
	close(nat);
	close(stranger);
	close(lo);
}

/* A re-INVITE moves the phone to a new address: its new stream (new SSRC,
 * lower sequence numbers) is heard at once, and the old address is no longer
 * one the leg takes packets from. */
static void test_reinvite_new_address(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	unsigned rold, rnew, rb, pa, pb;
	int old = udp_socket_at("127.0.0.2", &rold), moved = udp_socket_at("127.0.0.3", &rnew);
	int fb = udp_socket(&rb);
	media_leg a = media_leg_new(m, &pa), b = media_leg_new(m, &pb);
	assert_int_equal(media_leg_remote(m, a, "127.0.0.2", rold, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_leg_remote(m, b, "127.0.0.1", rb, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_bridge(m, a, b), 0);
	assert_int_equal(media_start(m), 0);
	uint8_t quiet[160], loud[160];
	memset(quiet, G711_ULAW_SILENCE, sizeof quiet);
	loud_frame(loud);
	for (uint16_t i = 0; i < 5; i++) {
		send_rtp(old, pa, 0, i == 0, (uint16_t)(60000 + i), 800000u + i * 160u, 0xA1, quiet, 160);
		usleep(20000);
	}
	assert_int_equal(media_leg_remote(m, a, "127.0.0.3", rnew, MEDIA_PCMU, 0), 0);
	usleep(50000);
	drain_for(fb, 50, 0, NULL);
	double t0 = now_ms(), heard_ms = -1;
	for (uint16_t i = 0; i < 50 && heard_ms < 0; i++) {
		send_rtp(moved, pa, 0, i == 0, (uint16_t)(40000 + i), 1000u + i * 160u, 0xB2, loud, 160);
		bool loud_seen = false;
		drain_for(fb, 20, G711_ULAW_SILENCE, &loud_seen);
		if (loud_seen)
			heard_ms = now_ms() - t0;
	}
	print_message("new source heard after %.0f ms\n", heard_ms);
	assert_true(heard_ms >= 0 && heard_ms < 300);
	for (uint16_t i = 0; i < 3; i++)                              /* b talks: relayed there */
		send_rtp(fb, pb, 0, i == 0, (uint16_t)(10 + i), i * 160u, 0xB0, quiet, 160);
	assert_true(drain_for(moved, 100, 0, NULL) > 0);              /* replies go there */

	drain_for(old, 50, 0, NULL);
	send_rtp(old, pa, 0, true, 1, 0, 0xC3, quiet, 160);           /* the old address is out */
	assert_int_equal(drain_for(old, 200, 0, NULL), 0);
	media_free(m);
	close(old);
	close(moved);
	close(fb);
}

/* Ports come at random from the whole even range, each once. */
static void test_random_ports(void **state)
{
	(void)state;
	enum { N = 40 };
	unsigned base = test_ports();
	for (int i = 1; i < N / 10; i++)
		test_ports();                            /* four windows of 10 even ports */
	media_t *m = start_conf(base, base + 2 * (N - 1), 0, 0);
	unsigned ports[N + 1], ascending = 0;
	bool seen[N] = { false };
	for (int i = 0; i < N; i++) {
		assert_true(media_leg_new(m, &ports[i]) != 0);
		assert_true(ports[i] >= base && ports[i] <= base + 2 * (N - 1) && ports[i] % 2 == 0);
		unsigned k = (ports[i] - base) / 2;
		assert_false(seen[k]);
		seen[k] = true;
		if (i && ports[i] > ports[i - 1])
			ascending++;
	}
	assert_int_equal(media_leg_new(m, &ports[N]), 0);
	print_message("%u of %d ports above the previous one\n", ascending, N - 1);
	assert_true(ascending < N - 6);
	media_free(m);
}

/* A leg that said it will not send is still hung up, after the quiet limit. */
static void test_quiet_timeout(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start_conf(base, base + 18, 1, 2);
	unsigned r1, p1;
	int f1 = udp_socket(&r1);
	media_leg held = media_leg_new(m, &p1);
	assert_int_equal(media_leg_remote(m, held, "127.0.0.1", r1, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_leg_quiet(m, held, true), 0);
	double t0 = now_ms();
	assert_int_equal(media_start(m), 0);
	struct media_event ev;
	assert_true(wait_event(m, &ev, 3500));
	double after = now_ms() - t0;
	assert_int_equal(ev.kind, MEV_TIMEOUT);
	assert_int_equal(ev.leg, held);
	print_message("quiet leg timed out after %.0f ms\n", after);
	assert_true(after >= 1900 && after < 3000);
	media_free(m);
	close(f1);
}

/* The u-law codes of one frame: 160 different loud codes, so a frame moved
 * by part of its length matches nowhere. */
static uint8_t pattern_code(int k)
{
	return (uint8_t)(k < 80 ? k : 0x80 + (k - 80));
}

static void sleep_until_ms(double t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1e3), .tv_nsec = (long)(fmod(t, 1e3) * 1e6) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
		;
}

/* Talk spurts with pauses the sender's timestamps do not count (as the
 * integration tests' phones do), in one SSRC: every frame the other side hears
 * is the sent frame, aligned, whole. oRTP's adaptive compensation used to
 * move received timestamps by 10 ms steps after such pauses, which shifted
 * the audio by half a frame. */
static void test_bridge_keeps_timestamps(void **state)
{
	(void)state;
	unsigned base = test_ports();
	media_t *m = start(base, 0);
	unsigned ra, rb, pa, pb;
	int fa = udp_socket(&ra), fb = udp_socket(&rb);
	media_leg a = media_leg_new(m, &pa), b = media_leg_new(m, &pb);
	assert_int_equal(media_leg_remote(m, a, "127.0.0.1", ra, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_leg_remote(m, b, "127.0.0.1", rb, MEDIA_PCMU, 0), 0);
	assert_int_equal(media_bridge(m, a, b), 0);
	assert_int_equal(media_start(m), 0);

	uint8_t frame[160], pkt[400];
	for (int k = 0; k < 160; k++)
		frame[k] = pattern_code(k);
	enum { SPURTS = 4, SPURT_LEN = 25, PAUSE_MS = 400 };
	int whole = 0, moved = 0, sent = 0;
	uint32_t ts = 12345;
	uint16_t seq = 700;
	double t = now_ms();
	for (int spurt = 0; spurt < SPURTS; spurt++, t += PAUSE_MS) {
		for (int i = 0; i < SPURT_LEN; i++, t += 20, ts += 160, sent++) {
			sleep_until_ms(t);
			send_rtp(fa, pa, 0, i == 0, seq++, ts, 0x3333, frame, sizeof frame);
			while (recv_rtp(fb, pkt, sizeof pkt, 0) >= 12 + 160) {
				bool same = true, quiet = true;
				for (int k = 0; k < 160; k++) {
					same &= pkt[12 + k] == frame[k];
					quiet &= pkt[12 + k] == G711_ULAW_SILENCE;
				}
				whole += same;
				moved += !same && !quiet;
			}
		}
	}
	print_message("%d of %d frames heard whole, %d moved or partial\n", whole, sent, moved);
	assert_int_equal(moved, 0);
	assert_true(whole >= sent / 2);
	media_free(m);
	close(fa);
	close(fb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clips),
		cmocka_unit_test(test_hold_frames),
		cmocka_unit_test(test_bridge_transcode),
		cmocka_unit_test(test_dtmf),
		cmocka_unit_test(test_symmetric),
		cmocka_unit_test(test_play),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_quiet_hold_no_timeout),
		cmocka_unit_test(test_ports_and_ids),
		cmocka_unit_test(test_spy),
		cmocka_unit_test(test_bridge_hold_record),
		cmocka_unit_test(test_leg_record),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_stranger_ignored),
		cmocka_unit_test(test_latch_allowed_only),
		cmocka_unit_test(test_reinvite_new_address),
		cmocka_unit_test(test_random_ports),
		cmocka_unit_test(test_quiet_timeout),
		cmocka_unit_test(test_bridge_keeps_timestamps),
		cmocka_unit_test(test_srtp_leg),
		cmocka_unit_test(test_moves_between_threads),
		cmocka_unit_test(test_relay_cut_through),
		cmocka_unit_test(test_relay_rewrites_header),
		cmocka_unit_test(test_relay_modes),
		cmocka_unit_test(test_relay_record),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
