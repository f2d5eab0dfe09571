/* admit.h — which media address an SDP may name.
 *
 * callq sends RTP (hold music, prompts, the other party) to the address in
 * the remote's c= line until the leg latches onto where RTP really comes
 * from. An INVITE or re-INVITE could aim that stream at a third party, so
 * the address must be one a phone can have (otherwise 488):
 *   - a unicast IPv4 or IPv6 address in numeric form;
 *   - 0.0.0.0 or :: only as the old way of saying hold (RFC 2543), when the
 *     SDP is a hold (nothing is sent there);
 *   - never multicast (224.0.0.0/4, ff00::/8), broadcast (255.255.255.255),
 *     "this network" (0.0.0.0/8) or reserved (240.0.0.0/4);
 *   - loopback (127.0.0.0/8, ::1) only when the SIP message itself came from
 *     a loopback address: a remote peer has no business naming our host.
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) follow the IPv4 rules. A
 * private address is allowed: behind NAT the SDP names one.
 */
#ifndef CALLQ_ADMIT_H
#define CALLQ_ADMIT_H

#include <stdbool.h>
#include <sys/socket.h>

/* ip: the c= address; hold: the SDP is a hold; sip_src: where the SIP
 * message came from (NULL: unknown, treated as not loopback). */
bool admit_media_addr(const char *ip, bool hold, const struct sockaddr *sip_src);

#endif
