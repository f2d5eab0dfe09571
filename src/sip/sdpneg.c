/* sdpneg.c — see sdpneg.h. */
#include "sip/sdpneg.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

static bool sdpneg_known(int pt) { return pt == 0 || pt == 8; }

static void sdpneg_media(const sdp_media_t *m, struct sdpneg *out)
{
	for (const sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next) {
		if (rm->rm_encoding && !strcasecmp(rm->rm_encoding, "telephone-event")) {
			if (rm->rm_rate == 8000 && !out->dtmf_pt)
				out->dtmf_pt = (int)rm->rm_pt;
			continue;
		}
		int pt = (int)rm->rm_pt;
		/* Static types are matched by number; dynamic ones by name. */
		if (rm->rm_encoding && rm->rm_rate == 8000) {
			if (!strcasecmp(rm->rm_encoding, "PCMU"))
				pt = 0;
			else if (!strcasecmp(rm->rm_encoding, "PCMA"))
				pt = 8;
		}
		if (!sdpneg_known(pt) || out->ncodecs >= SDPNEG_CODECS)
			continue;
		if (out->ncodecs == 1 && out->codecs[0] == pt)
			continue;
		out->codecs[out->ncodecs++] = pt;
	}
	for (const sdp_attribute_t *a = m->m_attributes; a && !out->crypto.suite; a = a->a_next)
		if (a->a_name && !strcasecmp(a->a_name, "crypto"))
			sdes_parse(a->a_value, &out->crypto);
	out->savp = m->m_proto == sdp_proto_srtp;
	if (m->m_mode == sdp_sendonly || m->m_mode == sdp_inactive)
		out->hold = true;
	out->quiet = m->m_mode == sdp_recvonly || m->m_mode == sdp_inactive;
	out->reply_dir = m->m_mode == sdp_sendonly   ? "recvonly"
	                 : m->m_mode == sdp_recvonly ? "sendonly"
	                 : m->m_mode == sdp_inactive ? "inactive"
	                                             : "sendrecv";
}

/* Sofia-SIP 1.12.11's parse_media loops forever, allocating on every turn,
 * when the format list of an m= line with a non-RTP proto reaches a word that
 * starts with a character outside its TOKEN set ("m=audio 4000 UDP 8 ,",
 * "UDP /") or a tab it does not skip ("m=audio 4000 UDP \t"): one INVITE would
 * exhaust memory. Refuse such m= lines before Sofia sees them: only TOKEN
 * characters, blanks and '/'; a '/' only right after a TOKEN character
 * (Sofia's tokenizer swallows exactly one character after a word, so
 * "RTP/AVP" and "8/9" are safe, " /" and "//" are not); no tab among the
 * trailing blanks. Lines as Sofia splits them: at CR or LF, leading blanks
 * skipped; the body ends at len or a NUL. */
static bool sdpneg_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-!#$%&'*+.^_`{|}~", c));
}

static bool sdpneg_mlines_ok(const char *body, size_t len)
{
	size_t i = 0;
	while (i < len && body[i]) {
		while (i < len && (body[i] == ' ' || body[i] == '\t'))
			i++;
		bool mline = i + 1 < len && body[i] == 'm' && body[i + 1] == '=';
		bool tab = false;             /* a tab since the last non-blank */
		if (mline)
			i += 2;
		for (; i < len && body[i] && body[i] != '\r' && body[i] != '\n'; i++) {
			char c = body[i];
			if (!mline)
				continue;
			if (c == ' ' || c == '\t') {
				tab |= c == '\t';
				continue;
			}
			tab = false;
			if (!sdpneg_token_char(c) && (c != '/' || !sdpneg_token_char(body[i - 1])))
				return false;
		}
		if (tab)
			return false;
		while (i < len && (body[i] == '\r' || body[i] == '\n'))
			i++;
	}
	return true;
}

int sdpneg_parse(const char *body, size_t len, struct sdpneg *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (!body || !len) {
		snprintf(err, errlen, "no SDP");
		return -1;
	}
	if (!sdpneg_mlines_ok(body, len)) {
		snprintf(err, errlen, "bad SDP: invalid character in an m= line");
		return -1;
	}
	su_home_t home[1] = { SU_HOME_INIT(home) };
	sdp_parser_t *p = sdp_parse(home, body, (issize_t)len, sdp_f_config);
	sdp_session_t *s = sdp_session(p);
	int rc = -1;
	if (!s) {
		snprintf(err, errlen, "bad SDP: %s", sdp_parsing_error(p));
		goto out;
	}
	const sdp_media_t *m = s->sdp_media;
	while (m && (m->m_type != sdp_media_audio || m->m_port == 0 ||
	             (m->m_proto != sdp_proto_rtp && m->m_proto != sdp_proto_srtp)))
		m = m->m_next;
	if (!m) {
		snprintf(err, errlen, "no RTP/AVP or RTP/SAVP audio stream");
		goto out;
	}
	const sdp_connection_t *c = m->m_connections ? m->m_connections : s->sdp_connection;
	if (!c || !c->c_address || (c->c_addrtype != sdp_addr_ip4 && c->c_addrtype != sdp_addr_ip6)) {
		snprintf(err, errlen, "no IPv4 or IPv6 connection address");
		goto out;
	}
	snprintf(out->ip, sizeof out->ip, "%s", c->c_address);
	out->port = m->m_port;
	sdpneg_media(m, out);
	if (!strcmp(out->ip, "0.0.0.0") || !strcmp(out->ip, "::")) {
		out->hold = true;
		out->quiet = true;
		out->reply_dir = "recvonly";
	}
	rc = 0;
out:
	sdp_parser_free(p);
	su_home_deinit(home);
	return rc;
}

size_t sdpneg_build(char *buf, size_t cap, const char *ip, unsigned port, const int *codecs,
                    int ncodecs, int dtmf_pt, uint32_t session_id, const char *dir,
                    const struct sdes *crypto, bool savp)
{
	char fmts[32] = "", maps[256] = "", key[128] = "";
	if (crypto && !sdes_format(key, sizeof key, crypto))
		return 0;
	size_t fl = 0, ml = 0;
	for (int i = 0; i < ncodecs; i++) {
		fl += (size_t)snprintf(fmts + fl, sizeof fmts - fl, " %d", codecs[i]);
		ml += (size_t)snprintf(maps + ml, sizeof maps - ml, "a=rtpmap:%d %s/8000\r\n", codecs[i],
		                       codecs[i] == 0 ? "PCMU" : "PCMA");
	}
	if (dtmf_pt) {
		fl += (size_t)snprintf(fmts + fl, sizeof fmts - fl, " %d", dtmf_pt);
		snprintf(maps + ml, sizeof maps - ml,
		         "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", dtmf_pt, dtmf_pt);
	}
	const char *fam = strchr(ip, ':') ? "IP6" : "IP4";
	int n = snprintf(buf, cap,
	                 "v=0\r\n"
	                 "o=callq %u %u IN %s %s\r\n"
	                 "s=callq\r\n"
	                 "c=IN %s %s\r\n"
	                 "t=0 0\r\n"
	                 "m=audio %u RTP/%s%s\r\n"
	                 "%s"
	                 "a=ptime:20\r\n"
	                 "a=%s\r\n"
	                 "%s%s%s",
	                 session_id, session_id, fam, ip, fam, ip, port, crypto && savp ? "SAVP" : "AVP",
	                 fmts, maps, dir, key[0] ? "a=crypto:" : "", key, key[0] ? "\r\n" : "");
	explicit_bzero(key, sizeof key);
	return (n < 0 || (size_t)n >= cap) ? 0 : (size_t)n;
}
