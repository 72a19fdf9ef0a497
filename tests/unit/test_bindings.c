#include "autoconfig.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "registrar/ban.h"
#include "registrar/bindings.h"
#include "registrar/identity.h"
#include "tests/unit/tap.h"

static binding_table_t *t;
static unsigned removed;
static time_t const NOW = 1800000000;

/* References held per connection (two fake connections), as the table takes and gives them. */
static int held[2];
static bool refuse_hold;

static void on_removed(struct binding *b, void *arg)
{
	(void)b, (void)arg;
	removed++;
}

static int on_hold(void *conn, void *arg)
{
	(void)arg;
	if (refuse_hold)
		return -ENOMEM;
	held[(int *)conn - held]++;
	return 0;
}

static void on_drop(void *conn, void *arg)
{
	(void)arg;
	int *h = &held[(int *)conn - held];
	CU_ASSERT(*h > 0);
	(*h)--;
}

static struct binding_hooks const hooks = { on_removed, on_hold, on_drop };

static int setup(void)
{
	removed = 0;
	held[0] = held[1] = 0;
	refuse_hold = false;
	return binding_table_create(&t, &hooks, NULL);
}

static int teardown(void)
{
	binding_table_destroy(t);
	t = NULL;
	return 0;
}

static struct binding *bind(char const *dn, char const *contact, char const *call_id, uint32_t cseq,
			    time_t expires, void *conn)
{
	struct binding_update u = { .dn = dn,
				    .device = "dev1",
				    .contact = contact,
				    .call_id = call_id,
				    .cseq = cseq,
				    .req_key = cseq,
				    .expires = expires,
				    .source = "127.0.0.1:5060",
				    .transport = "udp",
				    .conn = conn };
	struct binding *b = NULL;
	CU_ASSERT_EQUAL(binding_apply(t, &u, NOW, 4, &b), 0);
	return b;
}

static void test_add_refresh_remove(void)
{
	struct binding *b = bind("1001", "sip:1001@10.0.0.1", "c1", 10, NOW + 60, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(binding_count(t), 1);
	CU_ASSERT_PTR_EQUAL(binding_find(t, "1001", "sip:1001@10.0.0.1"), b);
	/* A refresh updates the same binding. */
	struct binding *b2 = bind("1001", "sip:1001@10.0.0.1", "c1", 11, NOW + 120, NULL);
	CU_ASSERT_PTR_EQUAL(b2, b);
	CU_ASSERT_EQUAL(b->expires, NOW + 120);
	CU_ASSERT_EQUAL(b->cseq, 11);
	CU_ASSERT_EQUAL(binding_count(t), 1);
	/* A second contact on the same AOR. */
	bind("1001", "sip:1001@10.0.0.2", "c2", 1, NOW + 60, NULL);
	CU_ASSERT_EQUAL(binding_count(t), 2);
	/* Expires 0 removes one. */
	removed = 0;
	CU_ASSERT_PTR_NULL(bind("1001", "sip:1001@10.0.0.1", "c1", 12, 0, NULL));
	CU_ASSERT_EQUAL(binding_count(t), 1);
	CU_ASSERT_EQUAL(removed, 1);
	CU_ASSERT_PTR_NULL(binding_find(t, "1001", "sip:1001@10.0.0.1"));
	/* "*" removes all of the AOR. */
	bind("1001", "sip:1001@10.0.0.3", "c3", 1, NOW + 60, NULL);
	bind("1002", "sip:1002@10.0.0.3", "c3", 1, NOW + 60, NULL);
	CU_ASSERT_EQUAL(binding_remove_aor(t, "1001"), 2);
	CU_ASSERT_PTR_NULL(binding_first(t, "1001"));
	CU_ASSERT_EQUAL(binding_count(t), 1);
	CU_ASSERT_EQUAL(binding_remove_device(t, "dev1"), 1);
	CU_ASSERT_EQUAL(binding_count(t), 0);
}

static void test_cseq_order(void)
{
	bind("2001", "sip:2001@10.0.0.1", "call-a", 20, NOW + 60, NULL);
	CU_ASSERT_EQUAL(binding_check(t, "2001", "sip:2001@10.0.0.1", "call-a", 21, 21),
			BINDING_CHECK_OK);
	CU_ASSERT_EQUAL(binding_check(t, "2001", "sip:2001@10.0.0.1", "call-a", 19, 19),
			BINDING_CHECK_OUT_OF_ORDER);
	CU_ASSERT_EQUAL(binding_check(t, "2001", "sip:2001@10.0.0.1", "call-a", 20, 99),
			BINDING_CHECK_OUT_OF_ORDER);
	/* The very request that made it, again: a retransmission. */
	CU_ASSERT_EQUAL(binding_check(t, "2001", "sip:2001@10.0.0.1", "call-a", 20, 20),
			BINDING_CHECK_RETRANSMISSION);
	/* Another Call-ID may use any CSeq. */
	CU_ASSERT_EQUAL(binding_check(t, "2001", "sip:2001@10.0.0.1", "call-b", 1, 1),
			BINDING_CHECK_OK);
	/* For "*", every binding of the AOR counts. */
	CU_ASSERT_EQUAL(binding_check(t, "2001", NULL, "call-a", 5, 5), BINDING_CHECK_OUT_OF_ORDER);
	CU_ASSERT_EQUAL(binding_check(t, "9999", NULL, "call-a", 5, 5), BINDING_CHECK_OK);
	binding_remove_aor(t, "2001");
}

static void test_expiry_and_limits(void)
{
	bind("3001", "sip:a@h", "c", 1, NOW + 10, NULL);
	bind("3001", "sip:b@h", "c", 1, NOW + 20, NULL);
	CU_ASSERT_EQUAL(binding_expire(t, NOW + 9), 0);
	CU_ASSERT_EQUAL(binding_expire(t, NOW + 10), 1);
	CU_ASSERT_EQUAL(binding_count(t), 1);
	CU_ASSERT_EQUAL(binding_expire(t, NOW + 30), 1);
	CU_ASSERT_EQUAL(binding_count(t), 0);
	/* At most 4 per AOR here. */
	for (int i = 0; i < 4; i++) {
		char c[32];
		snprintf(c, sizeof(c), "sip:%d@h", i);
		bind("3002", c, "c", 1, NOW + 60, NULL);
	}
	struct binding_update u = { .dn = "3002",
				    .device = "dev1",
				    .contact = "sip:9@h",
				    .call_id = "c",
				    .cseq = 1,
				    .expires = NOW + 60 };
	struct binding *b;
	CU_ASSERT_EQUAL(binding_apply(t, &u, NOW, 4, &b), -ENOSPC);
	CU_ASSERT_EQUAL(binding_remove_aor(t, "3002"), 4);
}

static void test_many_and_connections(void)
{
	int *conn1 = &held[0], *conn2 = &held[1];
	char dn[16], c[64];
	for (int i = 0; i < 2000; i++) {
		snprintf(dn, sizeof(dn), "%d", 10000 + i);
		snprintf(c, sizeof(c), "sip:%d@10.0.0.1", i);
		bind(dn, c, "c", 1, NOW + 60, i % 2 ? conn1 : conn2);
	}
	CU_ASSERT_EQUAL(binding_count(t), 2000);
	CU_ASSERT_EQUAL(held[0], 1000);
	CU_ASSERT_EQUAL(held[1], 1000);
	CU_ASSERT_PTR_NOT_NULL(binding_find(t, "11999", "sip:1999@10.0.0.1"));
	CU_ASSERT_EQUAL(binding_remove_conn(t, conn1), 1000);
	CU_ASSERT_EQUAL(held[0], 0);
	CU_ASSERT_EQUAL(binding_count(t), 1000);
	CU_ASSERT_EQUAL(binding_expire(t, NOW + 60), 1000);
	CU_ASSERT_EQUAL(binding_count(t), 0);
	CU_ASSERT_EQUAL(held[1], 0);
}

/* Every way a binding loses its connection gives the reference back, once. */
static void test_connection_references(void)
{
	int *c1 = &held[0], *c2 = &held[1];
	bind("1001", "sip:a@10.0.0.1", "c", 1, NOW + 60, c1);
	bind("1001", "sip:b@10.0.0.1", "c", 1, NOW + 60, c1);
	CU_ASSERT_EQUAL(held[0], 2);
	/* A refresh over the same connection takes no second reference. */
	bind("1001", "sip:a@10.0.0.1", "c", 2, NOW + 60, c1);
	CU_ASSERT_EQUAL(held[0], 2);
	/* Moved to another connection, then to none (UDP). */
	bind("1001", "sip:a@10.0.0.1", "c", 3, NOW + 60, c2);
	CU_ASSERT_EQUAL(held[0], 1);
	CU_ASSERT_EQUAL(held[1], 1);
	bind("1001", "sip:a@10.0.0.1", "c", 4, NOW + 60, NULL);
	CU_ASSERT_EQUAL(held[1], 0);
	/* Unregistered (expires now): one of several, then the last. */
	bind("1001", "sip:c@10.0.0.1", "c", 5, NOW + 60, c1);
	CU_ASSERT_EQUAL(held[0], 2);
	struct binding_update u = { .dn = "1001",
				    .contact = "sip:b@10.0.0.1",
				    .call_id = "c",
				    .cseq = 6,
				    .expires = 0,
				    .conn = c1 };
	struct binding *b;
	CU_ASSERT_EQUAL(binding_apply(t, &u, NOW, 4, &b), 0);
	CU_ASSERT_PTR_NULL(b);
	CU_ASSERT_EQUAL(held[0], 1);
	CU_ASSERT_EQUAL(binding_remove_aor(t, "1001"), 2);
	CU_ASSERT_EQUAL(held[0], 0);
	/* A refused reference leaves nothing behind. */
	refuse_hold = true;
	u = (struct binding_update){ .dn = "1002",
				     .contact = "sip:x@10.0.0.1",
				     .call_id = "c",
				     .cseq = 1,
				     .expires = NOW + 60,
				     .conn = c2 };
	CU_ASSERT_EQUAL(binding_apply(t, &u, NOW, 4, &b), -ENOMEM);
	CU_ASSERT_PTR_NULL(binding_first(t, "1002"));
	CU_ASSERT_EQUAL(held[1], 0);
	refuse_hold = false;
	/* Removal by device drops too. */
	bind("1003", "sip:y@10.0.0.1", "c", 1, NOW + 60, c2);
	CU_ASSERT_EQUAL(binding_remove_device(t, "dev1"), 1);
	CU_ASSERT_EQUAL(held[1], 0);
}

static void test_identity(void)
{
	char out[64];
	CU_ASSERT_TRUE(identity_from_contact_param(
		"+u.sip!devicename.ccm.cisco.com=\"SEP0024142DDF24\"", out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "SEP0024142DDF24");
	CU_ASSERT_TRUE(identity_from_contact_param(
		"+u.sip!devicename.ccm.features.cisco.com=\"test_secure\"", out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "test_secure");
	CU_ASSERT_FALSE(identity_from_contact_param("+u.sip!model.ccm.cisco.com=\"437\"", out,
						    sizeof(out)));
	CU_ASSERT_TRUE(identity_from_reason_text(
		"\"cisco-alarm:23 Name=SEPC80084AA8743 ActiveLoad=sip78xx.12-1-1-12.loads "
		"InactiveLoad=sip78xx.10-3-1-12.loads Last=reset-restart\"",
		out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "SEPC80084AA8743");
	CU_ASSERT_TRUE(identity_from_reason_text(
		"\"cisco-alarm:23 Name=SEP001B2A893698 Load=SIP70.8-4-2-30S Last=reset-restart\"",
		out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "SEP001B2A893698");
	CU_ASSERT_FALSE(identity_from_reason_text("\"UserName=x\"", out, sizeof(out)));
	CU_ASSERT_TRUE(identity_from_instance("\"<urn:uuid:00000000-0000-0000-0000-0024142ddf24>\"",
					      out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "SEP0024142DDF24");
	CU_ASSERT_FALSE(identity_from_instance(
		"\"<urn:uuid:12345678-0000-0000-0000-0024142ddf24>\"", out, sizeof(out)));
	CU_ASSERT_FALSE(identity_from_instance("\"<urn:uuid:00000000-0000-0000-0000-0024142ddf2>\"",
					       out, sizeof(out)));
	CU_ASSERT_TRUE(identity_is_keepalive_param("cisco-keep-alive"));
	CU_ASSERT_FALSE(identity_is_keepalive_param("expires=0"));
}

static void test_bans(void)
{
	ban_table_t *b;
	bool now_banned;
	CU_ASSERT_EQUAL_FATAL(ban_table_create(&b, 100), 0);
	ban_set_limits(b, 3, 60, 600);
	CU_ASSERT_EQUAL(ban_failure(b, "10.0.0.1", NOW, NULL, &now_banned), 1);
	CU_ASSERT_FALSE(now_banned);
	CU_ASSERT_EQUAL(ban_failure(b, "10.0.0.1", NOW + 1, NULL, &now_banned), 2);
	CU_ASSERT_FALSE(ban_is_banned(b, "10.0.0.1", NOW + 1));
	CU_ASSERT_EQUAL(ban_failure(b, "10.0.0.1", NOW + 2, NULL, &now_banned), 3);
	CU_ASSERT_TRUE(now_banned);
	CU_ASSERT_TRUE(ban_is_banned(b, "10.0.0.1", NOW + 3));
	CU_ASSERT_FALSE(ban_is_banned(b, "10.0.0.2", NOW + 3));
	CU_ASSERT_FALSE(ban_is_banned(b, "10.0.0.1", NOW + 603));
	/* Failures spread beyond the window do not add up. */
	ban_failure(b, "10.0.0.3", NOW, NULL, &now_banned);
	ban_failure(b, "10.0.0.3", NOW + 61, NULL, &now_banned);
	ban_failure(b, "10.0.0.3", NOW + 122, NULL, &now_banned);
	CU_ASSERT_FALSE(ban_is_banned(b, "10.0.0.3", NOW + 122));
	CU_ASSERT_EQUAL(ban_failures(b, "10.0.0.3", NOW + 122), 1);
	/* Lifting a ban. */
	CU_ASSERT_TRUE(ban_lift(b, "10.0.0.1"));
	CU_ASSERT_FALSE(ban_lift(b, "10.0.0.1"));
	CU_ASSERT_FALSE(ban_is_banned(b, "10.0.0.1", NOW + 4));
	/* Bounded: a flood of sources does not grow the table past its size. */
	char key[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "10.1.%d.%d", i / 250, i % 250);
		ban_failure(b, key, NOW + 200, NULL, &now_banned);
	}
	CU_ASSERT_EQUAL(ban_failures(b, "10.1.3.249", NOW + 200), 0);
	ban_table_destroy(b);
}

static char const *upd_dn = "4001";

static struct binding_update upd(char const *device, char const *contact, char const *call_id,
				 time_t expires, void *conn)
{
	return (struct binding_update){ .dn = upd_dn,
					.device = device,
					.contact = contact,
					.call_id = call_id,
					.cseq = 1,
					.expires = expires,
					.source = "127.0.0.1:5060",
					.transport = "tcp",
					.conn = conn };
}

/* A phone that changes port replaces its own binding; another device's stays. */
static void test_device_replacement(void)
{
	struct binding_limits lim = { .per_aor = 16, .per_device = 1 };
	struct binding *out[3];
	removed = 0;
	char contact[64], cid[16];
	struct binding_update other = upd("dev2", "sip:4001@10.0.0.9", "other", NOW + 60, NULL);
	CU_ASSERT_EQUAL(binding_apply_set(t, &other, 1, NOW, &lim, out), 0);
	for (int i = 0; i < 40; i++) {
		snprintf(contact, sizeof(contact), "sip:4001@10.0.0.1:%d", 5000 + i);
		snprintf(cid, sizeof(cid), "c%d", i);
		struct binding_update u = upd("dev1", contact, cid, NOW + 60, &held[i % 2]);
		CU_ASSERT_EQUAL(binding_apply_set(t, &u, 1, NOW + i, &lim, out), 0);
		CU_ASSERT_PTR_NOT_NULL(out[0]);
	}
	/* One of dev1's, the last; dev2's untouched; one connection reference. */
	CU_ASSERT_EQUAL(binding_count(t), 2);
	CU_ASSERT_PTR_NOT_NULL(binding_find(t, "4001", "sip:4001@10.0.0.1:5039"));
	CU_ASSERT_PTR_NOT_NULL(binding_find(t, "4001", "sip:4001@10.0.0.9"));
	CU_ASSERT_EQUAL(held[0] + held[1], 1);
	CU_ASSERT_EQUAL(removed, 39);
	/* Two contacts from a device allowed one: refused, nothing changed. */
	struct binding_update two[2] = { upd("dev1", "sip:4001@10.0.0.2", "n", NOW + 60, NULL),
					 upd("dev1", "sip:4001@10.0.0.3", "n", NOW + 60, NULL) };
	CU_ASSERT_EQUAL(binding_apply_set(t, two, 2, NOW + 50, &lim, out), -ENOSPC);
	CU_ASSERT_EQUAL(binding_count(t), 2);
	CU_ASSERT_PTR_NOT_NULL(binding_find(t, "4001", "sip:4001@10.0.0.1:5039"));
	/* With two allowed, the same request replaces the old one and keeps both. */
	lim.per_device = 2;
	CU_ASSERT_EQUAL(binding_apply_set(t, two, 2, NOW + 50, &lim, out), 0);
	CU_ASSERT_EQUAL(binding_count(t), 3);
	CU_ASSERT_PTR_NULL(binding_find(t, "4001", "sip:4001@10.0.0.1:5039"));
	CU_ASSERT_EQUAL(held[0] + held[1], 0);
}

static size_t aor_count(char const *dn)
{
	size_t n = 0;
	for (struct binding *b = binding_first(t, dn); b; b = b->next)
		n++;
	return n;
}

/* A request is applied whole or not at all. */
static void test_whole_or_nothing(void)
{
	struct binding_limits lim = { .per_aor = 16, .per_device = 0 };
	upd_dn = "4002";
	struct binding_update u[17];
	struct binding *out[17];
	char contacts[17][48];
	for (int i = 0; i < 17; i++) {
		snprintf(contacts[i], sizeof(contacts[i]), "sip:4001@10.0.1.%d", i + 1);
		u[i] = upd("dev1", contacts[i], "many", NOW + 60, &held[0]);
	}
	CU_ASSERT_EQUAL(binding_apply_set(t, u, 17, NOW, &lim, out), -ENOSPC);
	CU_ASSERT_EQUAL(aor_count("4002"), 0);
	CU_ASSERT_EQUAL(held[0], 0);
	CU_ASSERT_EQUAL(binding_apply_set(t, u, 16, NOW, &lim, out), 0);
	CU_ASSERT_EQUAL(aor_count("4002"), 16);
	CU_ASSERT_EQUAL(held[0], 16);
	/* One removal and one addition in the same request fit. */
	u[0].expires = 0;
	struct binding_update pair[2] = { u[0], u[16] };
	CU_ASSERT_EQUAL(binding_apply_set(t, pair, 2, NOW, &lim, out), 0);
	CU_ASSERT_PTR_NULL(out[0]);
	CU_ASSERT_PTR_NOT_NULL(out[1]);
	CU_ASSERT_EQUAL(aor_count("4002"), 16);
	/* A refused connection reference leaves the table as it was. */
	refuse_hold = true;
	struct binding_update moved = upd("dev1", contacts[5], "many", NOW + 90, &held[1]);
	moved.cseq = 2;
	CU_ASSERT_EQUAL(binding_apply_set(t, &moved, 1, NOW, &lim, out), -ENOMEM);
	CU_ASSERT_EQUAL(binding_find(t, "4002", contacts[5])->expires, NOW + 60);
	CU_ASSERT_EQUAL(binding_find(t, "4002", contacts[5])->conn, &held[0]);
	refuse_hold = false;
	/* The same contact twice: the last one counts. */
	struct binding_update dup[2] = { upd("dev1", contacts[5], "many", NOW + 90, &held[0]),
					 upd("dev1", contacts[5], "many", 0, &held[0]) };
	dup[0].cseq = dup[1].cseq = 3;
	CU_ASSERT_EQUAL(binding_apply_set(t, dup, 2, NOW, &lim, out), 0);
	CU_ASSERT_PTR_NULL(binding_find(t, "4002", contacts[5]));
	CU_ASSERT_EQUAL(held[0], 15);
	CU_ASSERT_EQUAL(binding_remove_aor(t, "4002"), 15);
	CU_ASSERT_EQUAL(held[0], 0);
}

static CU_TestInfo const tests[] = {
	{ "add, refresh, remove, star", test_add_refresh_remove },
	{ "Call-ID and CSeq order", test_cseq_order },
	{ "expiry and the per-AOR limit", test_expiry_and_limits },
	{ "many bindings, removal by connection", test_many_and_connections },
	{ "connection references follow the bindings", test_connection_references },
	{ "device name from Contact, Reason, instance", test_identity },
	{ "failures and bans", test_bans },
	{ "a device's new binding replaces its oldest", test_device_replacement },
	{ "a request is applied whole or not at all", test_whole_or_nothing },
	CU_TEST_INFO_NULL,
};

static void add_suites(void)
{
	tap_add_suite("bindings", setup, teardown, tests);
}

int main(void)
{
	return tap_main(add_suites);
}
