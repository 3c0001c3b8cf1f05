/* Push registrations in the store (store/push.c, 0007_push.sql), on a real SQLite file: a pending
 * row and its activation, the unique slot that settles two racing watch jobs, lookups by provider
 * and channel id, listing by calendar and account, which calendars need a watch (nothing live
 * beyond the margin, nothing pending recently, selected, active account), which rows must stop
 * (deselected calendar, suspended account), the clean-up of dead pending rows, and the cascade
 * when an account goes. Also the rule for which public URLs allow push (jobs/push.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/alloc.h"
#include "base/config.h"
#include "base/crypto.h"
#include "jobs/kinds.h"
#include "store/accounts.h"
#include "store/calendars.h"
#include "store/push.h"

#define CALENDAR_FIXTURE_BOB_PROVIDER "microsoft"
#include "calendar_fixture.h"

/* Inserts a pending row for cal in slot with channel id and the hash of secret. */
static enum cx_err add(struct fixture *f, int64_t cal, int64_t account, int64_t user,
                       const char *provider, int64_t slot, const char *channel, const char *secret,
                       int64_t created_at, int64_t *id)
{
	struct store_push p = {
	    .calendar_id = cal,
	    .account_id = account,
	    .user_id = user,
	    .slot = slot,
	    .channel_id = (char *)channel,
	    .job_id = 7,
	    .created_at = created_at,
	};
	snprintf(p.provider, sizeof(p.provider), "%s", provider);
	sec_sha256_hex(secret, strlen(secret), p.secret_hash);
	return store_push_insert(f->c, &p, id);
}

static void pending_then_active(void **state)
{
	struct fixture *f = *state;
	int64_t id = 0;
	assert_int_equal(add(f, f->ada_primary, f->ada_account, f->ada, "google", 1, "chan-1",
	                     "token-1", 1000, &id),
	                 CX_OK);
	assert_true(id > 0);
	struct store_push p;
	assert_int_equal(store_push_find(f->c, "google", "chan-1", &p), CX_OK);
	assert_int_equal(p.id, id);
	assert_string_equal(p.state, PUSH_PENDING);
	assert_int_equal(p.expires_at, 0);
	assert_null(p.resource_id);
	assert_int_equal(p.job_id, 7);
	char hash[65];
	sec_sha256_hex("token-1", 7, hash);
	assert_string_equal(p.secret_hash, hash);
	store_push_release(&p);

	assert_int_equal(store_push_activate(f->c, id, "chan-1", "res-1", 5000), CX_OK);
	assert_int_equal(store_push_get(f->c, id, &p), CX_OK);
	assert_string_equal(p.state, PUSH_ACTIVE);
	assert_string_equal(p.resource_id, "res-1");
	assert_int_equal(p.expires_at, 5000);
	assert_int_equal(p.calendar_id, f->ada_primary);
	assert_int_equal(p.account_id, f->ada_account);
	assert_int_equal(p.user_id, f->ada);
	assert_string_equal(p.provider, "google");
	store_push_release(&p);

	assert_int_equal(store_push_set_expiry(f->c, id, 9000), CX_OK);
	assert_int_equal(store_push_get(f->c, id, &p), CX_OK);
	assert_int_equal(p.expires_at, 9000);
	store_push_release(&p);

	/* Graph: the subscription id replaces the placeholder at activation. */
	int64_t sub = 0;
	assert_int_equal(add(f, f->bob_primary, f->bob_account, f->bob, "microsoft", 1,
	                     "placeholder", "state-1", 1000, &sub),
	                 CX_OK);
	assert_int_equal(store_push_activate(f->c, sub, "sub-guid", NULL, 7000), CX_OK);
	assert_int_equal(store_push_find(f->c, "microsoft", "placeholder", &p), CX_ENOTFOUND);
	assert_int_equal(store_push_find(f->c, "microsoft", "sub-guid", &p), CX_OK);
	assert_int_equal(p.id, sub);
	store_push_release(&p);
	/* The provider is part of the key. */
	assert_int_equal(store_push_find(f->c, "google", "sub-guid", &p), CX_ENOTFOUND);
	assert_int_equal(store_push_find(f->c, "google", "", &p), CX_ENOTFOUND);

	assert_int_equal(store_push_delete(f->c, id), CX_OK);
	assert_int_equal(store_push_get(f->c, id, &p), CX_ENOTFOUND);
	assert_int_equal(store_push_delete(f->c, id), CX_OK);
	assert_int_equal(store_push_activate(f->c, id, "chan-1", "res-1", 1), CX_ENOTFOUND);
	assert_int_equal(store_push_set_expiry(f->c, id, 1), CX_ENOTFOUND);
}

static void slots_and_channel_ids_are_unique(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    add(f, f->ada_primary, f->ada_account, f->ada, "google", 1, "a", "s", 1000, NULL),
	    CX_OK);
	/* A second watch job of the same calendar that read the same slot loses. */
	assert_int_equal(
	    add(f, f->ada_primary, f->ada_account, f->ada, "google", 1, "b", "s", 1000, NULL),
	    CX_ECONFLICT);
	/* Another calendar may use the slot, not the channel id. */
	assert_int_equal(
	    add(f, f->ada_work, f->ada_account, f->ada, "google", 1, "a", "s", 1000, NULL),
	    CX_ECONFLICT);
	assert_int_equal(
	    add(f, f->ada_work, f->ada_account, f->ada, "google", 1, "c", "s", 1000, NULL), CX_OK);
	assert_int_equal(
	    add(f, f->ada_primary, f->ada_account, f->ada, "google", 2, "d", "s", 1000, NULL),
	    CX_OK);
	/* A conflict leaves the transaction usable (PostgreSQL would abort it on an error). */
	assert_int_equal(store_begin(f->c), CX_OK);
	assert_int_equal(
	    add(f, f->ada_work, f->ada_account, f->ada, "google", 2, "x", "s", 1000, NULL), CX_OK);
	assert_int_equal(
	    add(f, f->ada_work, f->ada_account, f->ada, "google", 2, "y", "s", 1000, NULL),
	    CX_ECONFLICT);
	assert_int_equal(store_commit(f->c), CX_OK);
	struct store_push x;
	assert_int_equal(store_push_find(f->c, "google", "x", &x), CX_OK);
	store_push_release(&x);
	assert_int_equal(store_push_find(f->c, "google", "y", &x), CX_ENOTFOUND);
	/* No hash, no row. */
	struct store_push bad = {.calendar_id = f->ada_primary, .slot = 9, .channel_id = "e"};
	assert_int_equal(store_push_insert(f->c, &bad, NULL), CX_EINVAL);

	struct store_push *list = NULL;
	size_t n = 0;
	assert_int_equal(store_push_list_calendar(f->c, f->ada_primary, &list, &n), CX_OK);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].slot, 1);
	assert_string_equal(list[0].channel_id, "a");
	assert_int_equal(list[1].slot, 2);
	assert_string_equal(list[1].channel_id, "d");
	store_pushes_free(list, n);

	assert_int_equal(store_push_list_account(f->c, f->ada_account, 100, &list, &n), CX_OK);
	assert_int_equal(n, 4);
	store_pushes_free(list, n);
	assert_int_equal(store_push_list_account(f->c, f->ada_account, 2, &list, &n), CX_OK);
	assert_int_equal(n, 2);
	store_pushes_free(list, n);
	assert_int_equal(store_push_list_account(f->c, f->bob_account, 100, &list, &n), CX_OK);
	assert_int_equal(n, 0);
	store_pushes_free(list, n);
}

static bool has(const int64_t *ids, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static void calendars_due_for_a_watch(void **state)
{
	struct fixture *f = *state;
	int64_t *due = NULL;
	size_t n = 0;
	/* Nothing registered: every selected calendar of an active account. */
	assert_int_equal(store_push_calendars_due(f->c, 2000, 500, 100, &due, &n), CX_OK);
	assert_int_equal(n, 3);
	free(due);

	int64_t a = 0, b = 0;
	assert_int_equal(
	    add(f, f->ada_primary, f->ada_account, f->ada, "google", 1, "a", "s", 1000, &a), CX_OK);
	assert_int_equal(store_push_activate(f->c, a, "a", "r", 5000), CX_OK);
	/* A recent pending row counts as being at it; an old one does not. */
	assert_int_equal(
	    add(f, f->bob_primary, f->bob_account, f->bob, "microsoft", 1, "b", "s", 900, &b),
	    CX_OK);

	assert_int_equal(store_push_calendars_due(f->c, 2000, 500, 100, &due, &n), CX_OK);
	assert_int_equal(n, 1);
	assert_true(has(due, n, f->ada_work));
	free(due);
	/* The live one expires within the margin now; the pending one is stale. */
	assert_int_equal(store_push_calendars_due(f->c, 6000, 950, 100, &due, &n), CX_OK);
	assert_int_equal(n, 3);
	free(due);
	assert_int_equal(store_push_calendars_due(f->c, 6000, 950, 1, &due, &n), CX_OK);
	assert_int_equal(n, 1);
	free(due);

	/* Hidden calendars and suspended accounts need none. */
	assert_int_equal(store_calendar_set_selected(f->c, f->ada, f->ada_work, false), CX_OK);
	assert_int_equal(store_calendar_accounts_suspend(f->c, f->bob, true, 20, NULL), CX_OK);
	assert_int_equal(store_push_calendars_due(f->c, 6000, 950, 100, &due, &n), CX_OK);
	assert_int_equal(n, 1);
	assert_true(has(due, n, f->ada_primary));
	free(due);
}

static void stale_rows_and_dead_pending_ones(void **state)
{
	struct fixture *f = *state;
	int64_t a = 0, w = 0, b = 0;
	assert_int_equal(
	    add(f, f->ada_primary, f->ada_account, f->ada, "google", 1, "a", "s", 1000, &a), CX_OK);
	assert_int_equal(
	    add(f, f->ada_work, f->ada_account, f->ada, "google", 1, "w", "s", 1000, &w), CX_OK);
	assert_int_equal(
	    add(f, f->bob_primary, f->bob_account, f->bob, "microsoft", 1, "b", "s", 2000, &b),
	    CX_OK);
	struct store_push *list = NULL;
	size_t n = 0;
	assert_int_equal(store_push_stale(f->c, 100, &list, &n), CX_OK);
	assert_int_equal(n, 0);
	store_pushes_free(list, n);

	assert_int_equal(store_calendar_set_selected(f->c, f->ada, f->ada_work, false), CX_OK);
	assert_int_equal(store_calendar_accounts_suspend(f->c, f->bob, true, 20, NULL), CX_OK);
	assert_int_equal(store_push_stale(f->c, 100, &list, &n), CX_OK);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, w);
	assert_int_equal(list[1].id, b);
	store_pushes_free(list, n);

	int64_t deleted = 0;
	assert_int_equal(store_push_activate(f->c, a, "a", "r", 5000), CX_OK);
	assert_int_equal(store_push_delete_pending(f->c, 1500, &deleted), CX_OK);
	assert_int_equal(deleted, 1); /* w; a is active, b is newer */
	struct store_push p;
	assert_int_equal(store_push_get(f->c, w, &p), CX_ENOTFOUND);
	assert_int_equal(store_push_get(f->c, a, &p), CX_OK);
	store_push_release(&p);
	assert_int_equal(store_push_get(f->c, b, &p), CX_OK);
	store_push_release(&p);
}

static void rows_go_with_their_account(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(
	    add(f, f->ada_primary, f->ada_account, f->ada, "google", 1, "a", "s", 1000, NULL),
	    CX_OK);
	assert_int_equal(
	    add(f, f->bob_primary, f->bob_account, f->bob, "microsoft", 1, "b", "s", 1000, NULL),
	    CX_OK);
	assert_int_equal(store_calendar_account_delete(f->c, f->ada, f->ada_account), CX_OK);
	int64_t left = 0;
	assert_int_equal(
	    store_query_int(f->c, "SELECT COUNT(*) FROM push_registrations", NULL, 0, &left),
	    CX_OK);
	assert_int_equal(left, 1);
	struct store_push p;
	assert_int_equal(store_push_find(f->c, "google", "a", &p), CX_ENOTFOUND);
	assert_int_equal(store_push_find(f->c, "microsoft", "b", &p), CX_OK);
	store_push_release(&p);
}

static void push_needs_https_or_loopback(void **state)
{
	(void)state;
	static const struct {
		const char *url;
		bool ok;
	} cases[] = {
	    {"https://calendox.example", true},
	    {"https://calendox.example:8443", true},
	    {"http://127.0.0.1:8080", true},
	    {"http://localhost", true},
	    {"http://[::1]:9000", true},
	    {"http://calendox.example", false},
	    {"http://127.0.0.1.evil.example", false},
	    {"http://localhost.evil.example:80", false},
	    {"ftp://127.0.0.1", false},
	    {"", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config cfg;
		memset(&cfg, 0, sizeof(cfg));
		cfg.public_url = (char *)cases[i].url;
		assert_int_equal(job_push_enabled(&cfg), cases[i].ok);
	}
	struct config none;
	memset(&none, 0, sizeof(none));
	assert_false(job_push_enabled(&none));
	assert_false(job_push_enabled(NULL));
}

int main(void)
{
	if (sec_init() != CX_OK)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(pending_then_active, setup, teardown),
	    cmocka_unit_test_setup_teardown(slots_and_channel_ids_are_unique, setup, teardown),
	    cmocka_unit_test_setup_teardown(calendars_due_for_a_watch, setup, teardown),
	    cmocka_unit_test_setup_teardown(stale_rows_and_dead_pending_ones, setup, teardown),
	    cmocka_unit_test_setup_teardown(rows_go_with_their_account, setup, teardown),
	    cmocka_unit_test(push_needs_https_or_loopback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
