/* rtp_spray.c — the stranger of scripts/bench-attack.sh: from a source
 * address no call uses, sends RTP-looking packets (PCMU, 160 bytes of
 * payload, a random SSRC) to random even ports of callqd's RTP range, at a
 * steady rate paced on 1 ms steps, for a while. callqd must drop them
 * (callq_media_rx_foreign_total) without the calls' streams noticing.
 * Prints how many packets it sent and at what rate.
 *
 *   rtp_spray SRC_IP DST_IP PORT_MIN PORT_MAX PACKETS_PER_S SECONDS
 *
 * Run bare (as scripts/bench.sh runs every build/bench program) it only says
 * what it is for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SPRAY_STEP_NS 1000000LL
#define SPRAY_BATCH   64
#define SPRAY_BYTES   (12 + 160)

static int64_t spray_now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void spray_sleep_until(int64_t ns)
{
	struct timespec t = { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
		;
}

int main(int argc, char **argv)
{
	if (argc == 1) {
		puts("rtp_spray: a stranger spraying RTP at callqd's ports, for scripts/bench-attack.sh "
		     "(rtp_spray SRC_IP DST_IP PORT_MIN PORT_MAX PACKETS_PER_S SECONDS)");
		return 0;
	}
	if (argc != 7) {
		fprintf(stderr, "usage: rtp_spray SRC_IP DST_IP PORT_MIN PORT_MAX PACKETS_PER_S SECONDS\n");
		return 2;
	}
	unsigned pmin = (unsigned)atoi(argv[3]) & ~1u, pmax = (unsigned)atoi(argv[4]);
	double pps = atof(argv[5]), secs = atof(argv[6]);
	struct sockaddr_in src = { .sin_family = AF_INET }, dst[SPRAY_BATCH];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || inet_pton(AF_INET, argv[1], &src.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&src, sizeof src) < 0 || pmax < pmin || pmax > 65535 ||
	    pps <= 0) {
		fprintf(stderr, "rtp_spray: bad arguments or source address: %s\n", strerror(errno));
		return 1;
	}
	struct sockaddr_in to = { .sin_family = AF_INET };
	if (inet_pton(AF_INET, argv[2], &to.sin_addr) != 1) {
		fprintf(stderr, "rtp_spray: bad destination %s\n", argv[2]);
		return 1;
	}
	srandom((unsigned)spray_now_ns());
	static uint8_t pkt[SPRAY_BATCH][SPRAY_BYTES];
	struct mmsghdr msgs[SPRAY_BATCH];
	struct iovec iov[SPRAY_BATCH];
	uint32_t ssrc = (uint32_t)random();
	uint16_t seq = (uint16_t)random();
	unsigned span = (pmax - pmin) / 2 + 1;
	unsigned long long sent = 0, refused = 0;
	int64_t t0 = spray_now_ns(), end = t0 + (int64_t)(secs * 1e9), next = t0;
	while (next < end) {
		/* packets due by this step, so the rate holds whatever the step's jitter */
		int64_t due = (int64_t)((double)(next - t0 + SPRAY_STEP_NS) * pps / 1e9) - (int64_t)sent;
		int n = due > SPRAY_BATCH ? SPRAY_BATCH : (int)(due > 0 ? due : 0);
		for (int i = 0; i < n; i++) {
			uint8_t *p = pkt[i];
			seq++;
			p[0] = 0x80;
			p[1] = 0;                      /* PCMU */
			p[2] = (uint8_t)(seq >> 8);
			p[3] = (uint8_t)seq;
			memset(p + 4, 0, 4);           /* timestamp: nobody will play it */
			p[8] = (uint8_t)(ssrc >> 24);
			p[9] = (uint8_t)(ssrc >> 16);
			p[10] = (uint8_t)(ssrc >> 8);
			p[11] = (uint8_t)ssrc;
			memset(p + 12, 0xFF, SPRAY_BYTES - 12);
			dst[i] = to;
			dst[i].sin_port = htons((uint16_t)(pmin + 2 * ((unsigned)random() % span)));
			iov[i] = (struct iovec){ p, SPRAY_BYTES };
			msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &dst[i], .msg_namelen = sizeof dst[i],
			                                         .msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		/* a closed port answers ICMP; the next send may report it: not ours to mind */
		for (int done = 0; done < n;) {
			int k = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);
			if (k <= 0) {
				refused++;
				k = 1;
			}
			done += k;
		}
		sent += (unsigned long long)n;
		next += SPRAY_STEP_NS;
		spray_sleep_until(next);
	}
	double took = (double)(spray_now_ns() - t0) / 1e9;
	printf("rtp_spray: sent %llu packets in %.1f s (%.0f/s) to %s:%u-%u from %s, %llu refused by the system\n",
	       sent - refused, took, took > 0 ? (double)(sent - refused) / took : 0, argv[2], pmin, pmax,
	       argv[1], refused);
	return 0;
}
