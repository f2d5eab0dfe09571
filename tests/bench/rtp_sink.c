/* rtp_sink.c — the receiving end of scripts/bench-hold.sh: binds N UDP ports
 * (base, base+2, ...), takes the kernel's arrival time of every packet
 * (SO_TIMESTAMPNS, so its own scheduling does not count), and after a warm-up
 * measures for a window how far each stream's inter-arrival time strays from
 * 20 ms. Prints one line: streams heard, packets/s, p50/p99/max deviation.
 *
 *   rtp_sink IP BASE_PORT N WARMUP_S WINDOW_S
 *
 * Run bare (as scripts/bench.sh runs every build/bench program) it only says
 * what it is for: the figures come from bench-hold.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SINK_PERIOD_US 20000
#define SINK_HIST_US   1000000        /* deviations histogram, 1 us bins, up to 1 s */
#define SINK_BATCH     64

struct sink_stream {
	int fd;
	int64_t last_ns;
	uint64_t packets;
};

static uint64_t hist[SINK_HIST_US + 1];
static uint64_t nsamples, npackets;

static int64_t sink_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);        /* SO_TIMESTAMPNS uses this clock */
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int sink_bind(const char *ip, unsigned port)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), on = 1, rcv = 64 * 1024;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (fd < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		fprintf(stderr, "rtp_sink: port %u: %s\n", port, strerror(errno));
		exit(1);
	}
	return fd;
}

static void sink_record(struct sink_stream *s, int64_t at_ns, int64_t measure_from)
{
	if (s->last_ns && at_ns >= measure_from) {
		int64_t dev_us = (at_ns - s->last_ns) / 1000 - SINK_PERIOD_US;
		if (dev_us < 0)
			dev_us = -dev_us;
		hist[dev_us > SINK_HIST_US ? SINK_HIST_US : dev_us]++;
		nsamples++;
		npackets++;
	}
	s->last_ns = at_ns;
	s->packets++;
}

/* Drains one socket with recvmmsg, stamping each packet with its arrival. */
static void sink_drain(struct sink_stream *s, int64_t measure_from)
{
	static char bufs[SINK_BATCH][256], ctl[SINK_BATCH][64];
	struct mmsghdr msgs[SINK_BATCH];
	struct iovec iov[SINK_BATCH];
	for (;;) {
		for (int i = 0; i < SINK_BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], sizeof bufs[i] };
			msgs[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1,
			                                   .msg_control = ctl[i], .msg_controllen = sizeof ctl[i] };
		}
		int n = recvmmsg(s->fd, msgs, SINK_BATCH, 0, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			int64_t at = sink_now_ns();
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c;
			     c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
				if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
					struct timespec ts;
					memcpy(&ts, CMSG_DATA(c), sizeof ts);
					at = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
				}
			}
			sink_record(s, at, measure_from);
		}
	}
}

static double sink_pct(double p)
{
	uint64_t want = (uint64_t)(p * (double)nsamples), seen = 0;
	for (unsigned us = 0; us <= SINK_HIST_US; us++) {
		seen += hist[us];
		if (seen > want)
			return us / 1000.0;
	}
	return SINK_HIST_US / 1000.0;
}

static double sink_max(void)
{
	for (int us = SINK_HIST_US; us >= 0; us--)
		if (hist[us])
			return us / 1000.0;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 1) {
		printf("rtp_sink: the receiver of scripts/bench-hold.sh, nothing to measure alone\n");
		return 0;
	}
	if (argc != 6) {
		fprintf(stderr, "usage: rtp_sink IP BASE_PORT N WARMUP_S WINDOW_S\n");
		return 2;
	}
	unsigned base = (unsigned)atoi(argv[2]), n = (unsigned)atoi(argv[3]);
	int warmup = atoi(argv[4]), window = atoi(argv[5]);
	struct sink_stream *st = calloc(n, sizeof *st);
	struct epoll_event *evs = calloc(n, sizeof *evs);
	int ep = epoll_create1(0);
	for (unsigned i = 0; i < n; i++) {
		st[i].fd = sink_bind(argv[1], base + 2 * i);
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
		epoll_ctl(ep, EPOLL_CTL_ADD, st[i].fd, &ev);
	}
	printf("ready\n");
	fflush(stdout);
	int64_t start = sink_now_ns(), from = start + (int64_t)warmup * 1000000000;
	int64_t until = from + (int64_t)window * 1000000000;
	while (sink_now_ns() < until) {
		int k = epoll_wait(ep, evs, (int)n, 100);
		for (int i = 0; i < k; i++)
			sink_drain(&st[evs[i].data.u32], from);
	}
	unsigned heard = 0;
	for (unsigned i = 0; i < n; i++)
		heard += st[i].packets > 0;
	printf("streams %u/%u  packets/s %.0f  deviation p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
	       heard, n, (double)npackets / window, sink_pct(0.50), sink_pct(0.99), sink_max());
	return 0;
}
