/* udp_drain.c — a black hole for RTP in scripts/bench-callrate.sh: binds one
 * UDP port that every bench caller and agent names in its SDP, reads and
 * discards whatever callqd sends there (so the kernel answers no packet with
 * ICMP port-unreachable), and on exit (SIGTERM or after SECONDS) prints the
 * packet count.
 *
 *   udp_drain IP PORT [SECONDS]
 *
 * Run bare (as scripts/bench.sh runs every build/bench program) it only says
 * what it is for.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DRAIN_BATCH 64

static volatile sig_atomic_t drain_stop;

static void drain_on_signal(int sig)
{
	(void)sig;
	drain_stop = 1;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		puts("udp_drain: RTP black hole for scripts/bench-callrate.sh (udp_drain IP PORT [SECONDS])");
		return 0;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2])) };
	int rcvbuf = 8 << 20;
	if (fd < 0 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		perror("udp_drain");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("udp_drain: bind");
		return 1;
	}
	struct sigaction act = { .sa_handler = drain_on_signal };
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	double limit = argc > 3 ? atof(argv[3]) : 0;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	static char buf[DRAIN_BATCH][256];
	struct mmsghdr msgs[DRAIN_BATCH];
	struct iovec iov[DRAIN_BATCH];
	for (int i = 0; i < DRAIN_BATCH; i++) {
		iov[i] = (struct iovec){ buf[i], sizeof buf[i] };
		memset(&msgs[i], 0, sizeof msgs[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	unsigned long long packets = 0;
	printf("ready\n");
	fflush(stdout);
	while (!drain_stop) {
		int n = recvmmsg(fd, msgs, DRAIN_BATCH, 0, NULL);
		if (n > 0)
			packets += (unsigned long long)n;
		if (limit > 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= limit)
				break;
		}
	}
	printf("packets=%llu\n", packets);
	return 0;
}
