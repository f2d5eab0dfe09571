/* route.h — how callq reaches a registered phone, and how it names itself.
 *
 * A phone is reached the way its REGISTER came (RFC 5626 flows, RFC 3581
 * symmetric response routing): the Request-URI of an offer is the binding's
 * Contact, but the request goes to the REGISTER's source address, port and
 * transport ("the flow"), so a phone behind NAT is reached through its
 * pinhole and a TCP phone over its own connection (Sofia's transport layer
 * reuses a connection whose peer address matches). With a Path (RFC 3327)
 * the request goes through the edge proxies instead, as its initial route
 * set. With neither (a binding restored from an older database), the
 * Contact itself is the destination.
 *
 * Our Contact names the transport of the dialog (";transport=tcp"), so a
 * TCP phone sends its ACK, re-INVITEs and BYE over TCP too.
 * Pure string functions; each returns 0, or -1 if the result did not fit.
 */
#ifndef CALLQ_ROUTE_H
#define CALLQ_ROUTE_H

#include <stddef.h>

#include "sip/registrar.h"

#define ROUTE_URI_MAX 320

/* "udp", "tcp", "tls" or "" from a Via protocol ("SIP/2.0/TCP") or a bare
 * transport name, case-insensitive; NULL gives "udp". */
const char *route_transport(const char *protocol);
/* host:port, with brackets around an IPv6 address. */
int route_hostport(char *out, size_t cap, const char *host, unsigned port);
/* The flow of binding b as a URI for Sofia's outbound proxy setting
 * ("sip:SRC:PORT;transport=tcp"); "" when b has a Path or no source. */
int route_flow(char *out, size_t cap, const struct reg_binding *b);
/* Our Contact for a dialog over `transport`: "<sip:USER@HOST:PORT>" (no
 * "USER@" if user is "") with ";transport=X" unless X is udp. */
int route_contact(char *out, size_t cap, const char *user, const char *host, unsigned port,
                  const char *transport);

#endif
