/* verbs_gateway.c — outbound gateways (gateway.*) and the trunk ACL (acl.*).
 *
 * Both are the administrator's: a gateway holds a provider's password, and
 * the ACL decides who may call in without credentials. Every change is
 * stored first, then applied to the running SIP adapter, so "OK" means both
 * and no restart is needed. The password is never printed. */
#include "ctl/verbs_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sip/acl.h"
#include "sip/gateway.h"
#include "sip/sip.h"

static gateways_t *v_gws(struct vctx *v) { return sipua_gateways(v->app->sip); }

bool v_gateway_exists(struct vctx *v, const char *key, const char *dest)
{
	char name[STORE_GW_NAME_MAX], number[GATEWAY_NUMBER_MAX];
	struct gateway_status st;
	if (gateway_dest_parse(dest, name, sizeof name, number, sizeof number) &&
	    gateway_get(v_gws(v), name, &st))
		return true;
	v_err(v, "invalid", "%s: no gateway '%s'", key, dest + 8);
	return false;
}

/* Applies the request's key=value pairs to c; false after replying. */
static bool v_gateway_args(struct vctx *v, struct store_gateway *c)
{
	char err[200];
	if (ctl_word(v->req, 1)) {
		v_err(v, "usage", "settings are key=value: %s", ctl_word(v->req, 1));
		return false;
	}
	for (int i = 0; i < v->req->argc; i++) {
		const struct ctl_arg *a = &v->req->argv[i];
		if (a->key && gateway_conf_set(c, a->key, a->value, err, sizeof err) < 0) {
			v_err(v, "invalid", "%s", err);
			return false;
		}
	}
	if (gateway_conf_check(c, err, sizeof err) < 0) {
		v_err(v, "invalid", "%s", err);
		return false;
	}
	return true;
}

static void v_gateway_row(struct vctx *v, const struct gateway_status *st)
{
	struct ctl_out *o = v_row(v);
	const struct store_gateway *c = &st->conf;
	int64_t now = (int64_t)time(NULL);
	ctl_out_kv(o, "name", c->name);
	ctl_out_kv(o, "uri", c->uri);
	ctl_out_kv(o, "username", c->username);
	ctl_out_kv(o, "password", c->password[0] ? "(set)" : "");
	ctl_out_kv(o, "realm", c->realm);
	ctl_out_kv(o, "register", yesno(c->reg));
	ctl_out_kvu(o, "expires", c->expires);
	ctl_out_kv(o, "from_user", c->from_user);
	ctl_out_kv(o, "state", gateway_state_name(st->state));
	ctl_out_kv(o, "reason", st->reason);
	ctl_out_kvu(o, "failures", st->failures);
	ctl_out_kvu(o, "next_retry", st->retry_at_unix > 0 ? (unsigned long long)st->retry_at_unix : 0);
	ctl_out_kvu(o, "retry_in",
	            st->retry_at_unix > now ? (unsigned long long)(st->retry_at_unix - now) : 0);
}

/* Stores c, then puts it into force; on a refusal by the running side the
 * stored row is put back as it was. */
static void v_gateway_save(struct vctx *v, struct store_gateway *c, const struct store_gateway *old)
{
	store_t *db = v->app->store;
	if (!v_store_ok(v, store_gateway_put(db, c, !old), c->name))
		return;
	if (gateway_put(v_gws(v), c) < 0) {
		if (old)
			store_gateway_put(db, old, false);
		else
			store_gateway_del(db, c->name);
		v_err(v, "invalid", "at most %d gateways", GATEWAY_MAX);
		return;
	}
	v_ok(v, "gateway %s %s%s", c->name, old ? "changed" : "added",
	     c->reg ? ", registering" : "");
}

static void v_gateway_add(struct vctx *v)
{
	const char *name = ctl_word(v->req, 0);
	struct gateway_status st;
	struct store_gateway c;
	if (!v_name_ok(v, name, "gateway name"))
		return;
	if (gateway_get(v_gws(v), name, &st)) {
		v_err(v, "exists", "gateway '%s' exists (use gateway.set)", name);
		return;
	}
	gateway_conf_init(&c, name);
	if (v_gateway_args(v, &c))
		v_gateway_save(v, &c, NULL);
}

static bool v_gateway_find(struct vctx *v, const char *name, struct gateway_status *st)
{
	if (!name) {
		v_err(v, "usage", "gateway name missing");
		return false;
	}
	if (!gateway_get(v_gws(v), name, st)) {
		v_err(v, "notfound", "no gateway '%s'", name);
		return false;
	}
	return true;
}

static void v_gateway_set(struct vctx *v)
{
	struct gateway_status st;
	if (!v_gateway_find(v, ctl_word(v->req, 0), &st))
		return;
	struct store_gateway c = st.conf;
	if (v_gateway_args(v, &c))
		v_gateway_save(v, &c, &st.conf);
}

static void v_gateway_del(struct vctx *v)
{
	struct gateway_status st;
	if (!v_gateway_find(v, ctl_word(v->req, 0), &st) ||
	    !v_store_ok(v, store_gateway_del(v->app->store, st.conf.name), st.conf.name))
		return;
	gateway_del(v_gws(v), st.conf.name);
	v_ok(v, "gateway %s deleted", st.conf.name);
}

static void v_gateway_list(struct vctx *v)
{
	static struct gateway_status st[GATEWAY_MAX];
	size_t n = gateway_list(v_gws(v), st, GATEWAY_MAX);
	for (size_t i = 0; i < n; i++)
		v_gateway_row(v, &st[i]);
	v_finish_rows(v);
}

static void v_gateway_show(struct vctx *v)
{
	struct gateway_status st;
	if (!v_gateway_find(v, ctl_word(v->req, 0), &st))
		return;
	v_gateway_row(v, &st);
	v_finish_rows(v);
}

/* ---- trunk ACL ---- */

static void v_acl_list(struct vctx *v)
{
	struct store_acl rows[ACL_MAX];
	size_t n = store_trunk_acl(v->app->store, rows, ACL_MAX);
	for (size_t i = 0; i < n; i++)
		ctl_out_kv(v_row(v), "cidr", rows[i].cidr);
	v_finish_rows(v);
}

static const char *v_acl_arg(struct vctx *v, const char *usage)
{
	const char *cidr = ctl_word(v->req, 0);
	struct acl scratch;
	acl_init(&scratch);
	if (!cidr)
		v_err(v, "usage", "%s", usage);
	else if (acl_add(&scratch, cidr) < 0)
		v_err(v, "invalid", "'%s' is not a network (ADDRESS or ADDRESS/BITS)", cidr);
	else
		return cidr;
	return NULL;
}

static void v_acl_add(struct vctx *v)
{
	const char *cidr = v_acl_arg(v, "acl.add CIDR");
	if (!cidr || !v_store_ok(v, store_acl_add(v->app->store, cidr), cidr))
		return;
	if (sipua_acl_add(v->app->sip, cidr) < 0) {
		store_acl_del(v->app->store, cidr);
		v_err(v, "invalid", "the trunk ACL is full (%d entries)", ACL_MAX);
		return;
	}
	v_ok(v, "acl %s added", cidr);
}

static void v_acl_del(struct vctx *v)
{
	const char *cidr = v_acl_arg(v, "acl.del CIDR (as acl.list shows it)");
	if (!cidr || !v_store_ok(v, store_acl_del(v->app->store, cidr), cidr))
		return;
	sipua_acl_del(v->app->sip, cidr);
	v_ok(v, "acl %s deleted", cidr);
}

const struct verb verbs_gateway[] = {
	{ "gateway.add", NEED_ADMIN, v_gateway_add,
	  "gateway.add NAME uri=sip:HOST[:PORT][;transport=udp|tcp|tls] [username=..] "
	  "[password=..] [realm=..] [register=yes|no] [expires=SECONDS] [from_user=..]" },
	{ "gateway.set", NEED_ADMIN, v_gateway_set, "gateway.set NAME key=value.." },
	{ "gateway.del", NEED_ADMIN, v_gateway_del, "gateway.del NAME" },
	{ "gateway.list", NEED_ADMIN, v_gateway_list, "gateway.list" },
	{ "gateway.show", NEED_ADMIN, v_gateway_show, "gateway.show NAME" },
	{ "acl.list", NEED_ADMIN, v_acl_list, "acl.list" },
	{ "acl.add", NEED_ADMIN, v_acl_add, "acl.add CIDR" },
	{ "acl.del", NEED_ADMIN, v_acl_del, "acl.del CIDR" },
	{ NULL, NEED_NONE, NULL, NULL },
};
