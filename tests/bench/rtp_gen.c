/* rtp_gen.c — both phones of every bridged call in scripts/bench-bridge.sh:
 * one UDP port that every bench caller and agent names in its SDP. Each
 * callqd leg that sends to it (hold music, then relayed audio) becomes a
 * stream: from then on rtp_gen sends that leg 50 packets/s (160 samples, in
 * the codec the leg sent), from the same port, paced on absolute 1 ms steps,
 * streams spread over the 20 ms period. Every payload carries its send time
 * (CLOCK_REALTIME ns) as 16 levels far apart, so it survives G.711 A<->mu
 * transcoding and mixing; a packet that arrives carrying such a stamp was
 * relayed by callqd from the other phone of its call.
 *
 * Measured over the window, on kernel arrival times (SO_TIMESTAMPNS):
 * relayed packets/s against expected (50 per leg), one-way delay (arrival
 * minus stamp: what callqd adds, plus loopback), inter-arrival deviation from
 * 20 ms per stream, relay jitter (|change of the delay| between a stream's
 * consecutive packets), and rtp_gen's own CPU. A stream that has not been
 * heard from for 1 s (its leg ended) stops.
 *
 *   rtp_gen IP PORT LEGS WARMUP_S WINDOW_S [LINGER_S]
 *
 * Starts measuring WARMUP_S after start, prints one line of figures after
 * WINDOW_S, then keeps serving streams for LINGER_S (default 0) and exits.
 * Run bare (as scripts/bench.sh runs every build/bench program) it only says
 * what it is for.
 */
#include "media/g711.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define GEN_PERIOD_NS  20000000LL
#define GEN_STEP_NS    1000000LL
#define GEN_IDLE_NS    1000000000LL
#define GEN_BATCH      64
#define GEN_HIST_US    100000          /* histograms, 1 us bins up to 100 ms */
#define GEN_PAYLOAD    160
#define GEN_STAMP      20              /* magic 4 + time 16 nibbles */

struct stream {
	bool live;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts, ssrc;
	int64_t next_ns, heard_ns;
	int64_t last_arr_ns, last_delay_ns;  /* last relayed packet */
	uint64_t relayed;
};

struct hist {
	uint64_t bin[GEN_HIST_US + 1], n;
};

static struct stream streams[65536];   /* by callqd's leg port */
static uint16_t live[65536];           /* ports of the live streams */
static unsigned nlive;
static struct hist h_delay, h_iat, h_jit;
static const uint8_t magic[4] = { 0xA, 0x5, 0xC, 0x3 };
static volatile sig_atomic_t gen_stop;

static int64_t now_ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int16_t level(unsigned nibble)
{
	return (int16_t)(-30000 + 4000 * (int)nibble);
}

static unsigned nibble_of(uint8_t b, bool alaw)
{
	int v = alaw ? g711_alaw2lin(b) : g711_ulaw2lin(b);
	int k = (v + 30000 + 2000) / 4000;
	return k < 0 ? 0 : k > 15 ? 15 : (unsigned)k;
}

static void encode(uint8_t *pl, bool alaw, int64_t stamp)
{
	uint8_t nib[GEN_STAMP];
	memcpy(nib, magic, 4);
	for (int i = 0; i < 16; i++)
		nib[4 + i] = (uint8_t)((uint64_t)stamp >> (60 - 4 * i) & 0xF);
	for (int i = 0; i < GEN_STAMP; i++)
		pl[i] = alaw ? g711_lin2alaw(level(nib[i])) : g711_lin2ulaw(level(nib[i]));
	memset(pl + GEN_STAMP, alaw ? G711_ALAW_SILENCE : G711_ULAW_SILENCE, GEN_PAYLOAD - GEN_STAMP);
}

/* The send stamp of a relayed packet, or -1. */
static int64_t decode(const uint8_t *pl, int n, bool alaw)
{
	if (n < GEN_STAMP)
		return -1;
	for (int i = 0; i < 4; i++)
		if (nibble_of(pl[i], alaw) != magic[i])
			return -1;
	uint64_t v = 0;
	for (int i = 0; i < 16; i++)
		v = v << 4 | nibble_of(pl[4 + i], alaw);
	return (int64_t)v;
}

static void hist_add(struct hist *h, int64_t ns)
{
	int64_t us = (ns < 0 ? -ns : ns) / 1000;
	h->bin[us > GEN_HIST_US ? GEN_HIST_US : us]++;
	h->n++;
}

static double hist_q(const struct hist *h, double q)
{
	if (!h->n)
		return -1;
	uint64_t want = (uint64_t)(q * (double)h->n), acc = 0;
	for (unsigned i = 0; i <= GEN_HIST_US; i++) {
		acc += h->bin[i];
		if (acc > want || (q >= 1.0 && acc == h->n))
			return i / 1000.0;
	}
	return GEN_HIST_US / 1000.0;
}

static void on_packet(const uint8_t *p, int n, uint16_t port, int64_t arr_ns, int64_t mono,
                      bool measuring)
{
	if (n < 12 || (p[0] & 0xC0) != 0x80)
		return;
	struct stream *s = &streams[port];
	uint8_t pt = p[1] & 0x7F;
	if (pt != 0 && pt != 8)
		return;
	if (!s->live) {
		*s = (struct stream){ .live = true, .pt = pt, .ssrc = (uint32_t)random(),
		                      .seq = (uint16_t)random(), .ts = (uint32_t)random(),
		                      .next_ns = mono + (int64_t)(random() % GEN_PERIOD_NS),
		                      .relayed = s->relayed };
		live[nlive++] = port;
	}
	s->heard_ns = mono;
	int64_t stamp = decode(p + 12, n - 12, pt == 8);
	if (stamp < 0)
		return;
	int64_t delay = arr_ns - stamp;
	if (measuring) {
		s->relayed++;
		hist_add(&h_delay, delay);
		if (s->last_arr_ns) {
			hist_add(&h_iat, arr_ns - s->last_arr_ns - GEN_PERIOD_NS);
			hist_add(&h_jit, delay - s->last_delay_ns);
		}
	}
	s->last_arr_ns = measuring ? arr_ns : 0;
	s->last_delay_ns = delay;
}

static void drain(int fd, bool measuring)
{
	static uint8_t bufs[GEN_BATCH][512];
	static char ctl[GEN_BATCH][64];
	struct mmsghdr msgs[GEN_BATCH];
	struct iovec iov[GEN_BATCH];
	struct sockaddr_in from[GEN_BATCH];
	for (;;) {
		for (int i = 0; i < GEN_BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], sizeof bufs[i] };
			msgs[i].msg_hdr = (struct msghdr){ .msg_name = &from[i], .msg_namelen = sizeof from[i],
			                                   .msg_iov = &iov[i], .msg_iovlen = 1,
			                                   .msg_control = ctl[i], .msg_controllen = sizeof ctl[i] };
		}
		int n = recvmmsg(fd, msgs, GEN_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		int64_t mono = now_ns(CLOCK_MONOTONIC), real = now_ns(CLOCK_REALTIME);
		for (int i = 0; i < n; i++) {
			int64_t arr = real;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c;
			     c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
				if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
					struct timespec t;
					memcpy(&t, CMSG_DATA(c), sizeof t);
					arr = (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
				}
			}
			on_packet(bufs[i], (int)msgs[i].msg_len, ntohs(from[i].sin_port), arr, mono, measuring);
		}
		if (n < GEN_BATCH)
			return;
	}
}

/* Sends every stream whose time has come, in batches. */
static uint64_t send_due(int fd, const struct sockaddr_in *self, int64_t mono)
{
	static uint8_t pkts[GEN_BATCH][12 + GEN_PAYLOAD];
	static struct sockaddr_in to[GEN_BATCH];
	struct mmsghdr msgs[GEN_BATCH];
	struct iovec iov[GEN_BATCH];
	unsigned k = 0;
	uint64_t sent = 0;
	int64_t stamp = now_ns(CLOCK_REALTIME);
	for (unsigned i = 0; i < nlive; i++) {
		unsigned port = live[i];
		struct stream *s = &streams[port];
		if (mono - s->heard_ns > GEN_IDLE_NS) {
			s->live = false;
			live[i--] = live[--nlive];
			continue;
		}
		if (s->next_ns > mono)
			continue;
		s->next_ns += GEN_PERIOD_NS;
		if (s->next_ns < mono - 5 * GEN_PERIOD_NS)
			s->next_ns = mono + GEN_PERIOD_NS;      /* fell far behind: no burst */
		uint8_t *p = pkts[k];
		p[0] = 0x80;
		p[1] = s->pt;
		p[2] = (uint8_t)(s->seq >> 8);
		p[3] = (uint8_t)s->seq;
		for (int i = 0; i < 4; i++) {
			p[4 + i] = (uint8_t)(s->ts >> (24 - 8 * i));
			p[8 + i] = (uint8_t)(s->ssrc >> (24 - 8 * i));
		}
		s->seq++;
		s->ts += GEN_PAYLOAD;
		encode(p + 12, s->pt == 8, stamp);
		to[k] = *self;
		to[k].sin_port = htons((uint16_t)port);
		iov[k] = (struct iovec){ p, 12 + GEN_PAYLOAD };
		msgs[k].msg_hdr = (struct msghdr){ .msg_name = &to[k], .msg_namelen = sizeof to[k],
		                                   .msg_iov = &iov[k], .msg_iovlen = 1 };
		if (++k == GEN_BATCH) {
			int r = sendmmsg(fd, msgs, k, 0);
			sent += r > 0 ? (uint64_t)r : 0;
			k = 0;
			stamp = now_ns(CLOCK_REALTIME);
		}
	}
	if (k) {
		int r = sendmmsg(fd, msgs, k, 0);
		sent += r > 0 ? (uint64_t)r : 0;
	}
	return sent;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void on_signal(int sig)
{
	(void)sig;
	gen_stop = 1;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		puts("rtp_gen: both phones of the bridged calls of scripts/bench-bridge.sh "
		     "(rtp_gen IP PORT LEGS WARMUP_S WINDOW_S [LINGER_S])");
		return 0;
	}
	unsigned legs = (unsigned)atoi(argv[3]);
	double warmup = atof(argv[4]), window = atof(argv[5]), linger = argc > 6 ? atof(argv[6]) : 0;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), on = 1, buf = 16 << 20;
	struct sockaddr_in self = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
	if (fd < 0 || inet_pton(AF_INET, argv[1], &self.sin_addr) != 1 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0 ||
	    bind(fd, (struct sockaddr *)&self, sizeof self) < 0) {
		fprintf(stderr, "rtp_gen: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
	struct sigaction act = { .sa_handler = on_signal };
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	srandom((unsigned)getpid());
	printf("ready\n");
	fflush(stdout);

	int64_t t0 = now_ns(CLOCK_MONOTONIC), deadline = t0;
	int64_t m_from = t0 + (int64_t)(warmup * 1e9), m_to = m_from + (int64_t)(window * 1e9);
	int64_t end = m_to + (int64_t)(linger * 1e9);
	double c0 = 0;
	uint64_t sent = 0, sent0 = 0;
	bool measuring = false, reported = false;
	while (!gen_stop) {
		deadline += GEN_STEP_NS;
		struct timespec ts = { deadline / 1000000000LL, deadline % 1000000000LL };
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !gen_stop)
			;
		int64_t mono = now_ns(CLOCK_MONOTONIC);
		if (mono - deadline > 10 * GEN_STEP_NS)
			deadline = mono;                       /* stalled: do not spin to catch up */
		if (!measuring && !reported && mono >= m_from) {
			measuring = true;
			c0 = cpu_s();
			sent0 = sent;
		}
		drain(fd, measuring);
		sent += send_due(fd, &self, mono);
		if (measuring && mono >= m_to) {
			measuring = false;
			reported = true;
			double w = (double)(mono - m_from) / 1e9, cpu = cpu_s() - c0;
			uint64_t relayed = 0;
			unsigned heard = 0;
			for (unsigned p = 0; p < 65536; p++) {
				relayed += streams[p].relayed;
				heard += streams[p].relayed > 0;
			}
			printf("legs heard %u/%u  relayed %.0f/s of %.0f expected (%.1f%%)  sent %.0f/s  "
			       "delay p50/p99/max %.3f/%.3f/%.3f ms  inter-arrival dev p50/p99/max %.3f/%.3f/%.3f ms  "
			       "relay jitter p50/p99 %.3f/%.3f ms  gen CPU %.0f%%\n",
			       heard, legs, relayed / w, 50.0 * legs, 100.0 * relayed / w / (50.0 * legs),
			       (double)(sent - sent0) / w, hist_q(&h_delay, 0.5), hist_q(&h_delay, 0.99),
			       hist_q(&h_delay, 1.0), hist_q(&h_iat, 0.5), hist_q(&h_iat, 0.99),
			       hist_q(&h_iat, 1.0), hist_q(&h_jit, 0.5), hist_q(&h_jit, 0.99), 100 * cpu / w);
			fflush(stdout);
		}
		if (reported && mono >= end)
			break;
	}
	return 0;
}
