/* Calendar accounts and calendars in the store (store/calendars.c), on a real SQLite file: reserve
 * and connect, merging calendar lists, selection, suspension, the readiness used by meeting
 * providers, deletion with its cascade, and that every query stays within its owner's rows. */
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
#include "store/accounts.h"
#include "store/calendars.h"

struct fixture {
	char dir[64];
	struct store *st;
	struct store_conn *c;
	int64_t ada, bob;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/calendox-calendars-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char *url = xasprintf("sqlite:%s/t.db", f->dir);
	int rc = store_open(url, &f->st) != CX_OK || store_migrate(f->st) != CX_OK;
	free(url);
	if (rc)
		return -1;
	f->c = store_conn(f->st);
	if (store_user_create(f->c, "ada@example.com", "Ada", "h", 1, &f->ada) != CX_OK ||
	    store_user_create(f->c, "bob@example.com", "Bob", "h", 1, &f->bob) != CX_OK)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_thread_done(f->st);
	store_close(f->st);
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

/* Reserves and connects an account with the given calendars; returns its id. */
static int64_t connect_account(struct fixture *f, int64_t user, const char *provider,
			       const char *external_id, const struct store_calendar *cals, size_t n)
{
	int64_t id = 0;
	bool created = false;
	assert_int_equal(store_calendar_account_reserve(f->c, user, provider, external_id, 10, &id,
							&created),
			 CX_OK);
	assert_int_equal(store_calendar_account_connect(f->c, id, user, external_id, "sealed-box",
							3600, "openid email",
							CALENDAR_ACCOUNT_ACTIVE, 10),
			 CX_OK);
	assert_int_equal(store_calendars_merge(f->c, user, id, cals, n), CX_OK);
	return id;
}

static const struct store_calendar google_cals[] = {
	{.external_id = "ada@example.com", .name = "ada@example.com", .primary = true,
	 .writable = true, .color = "#039be5"},
	{.external_id = "work@group", .name = "Work", .writable = true, .color = "#7986cb"},
	{.external_id = "holidays@group", .name = "Holidays", .writable = false},
};

static void reserve_connect_and_read_back(void **state)
{
	struct fixture *f = *state;
	int64_t id = 0, again = 0, n = -1;
	bool created = false;
	assert_int_equal(store_calendar_accounts_count(f->c, f->ada, NULL, &n), CX_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_calendar_account_reserve(f->c, f->ada, "google", "ada@example.com",
							5, &id, &created),
			 CX_OK);
	assert_true(created);
	assert_true(id > 0);
	/* Reserving the same provider account again keeps the row. */
	assert_int_equal(store_calendar_account_reserve(f->c, f->ada, "google", "ada@example.com",
							6, &again, &created),
			 CX_OK);
	assert_false(created);
	assert_int_equal(again, id);
	/* A row only reserved is not usable yet. */
	struct store_calendar_account a;
	assert_int_equal(store_calendar_account_get(f->c, f->ada, id, &a), CX_OK);
	assert_string_equal(a.status, CALENDAR_ACCOUNT_NEEDS_RECONNECT);
	assert_null(a.tokens);
	store_calendar_account_release(&a);

	assert_int_equal(store_calendar_account_connect(f->c, id, f->ada, "ada@example.com", "box",
							1234, "openid", CALENDAR_ACCOUNT_ACTIVE,
							7),
			 CX_OK);
	assert_int_equal(store_calendar_account_get(f->c, f->ada, id, &a), CX_OK);
	assert_string_equal(a.provider, "google");
	assert_string_equal(a.status, CALENDAR_ACCOUNT_ACTIVE);
	assert_string_equal(a.external_id, "ada@example.com");
	assert_string_equal(a.external_email, "ada@example.com");
	assert_string_equal(a.tokens, "box");
	assert_string_equal(a.scopes, "openid");
	assert_int_equal(a.token_expires_at, 1234);
	assert_int_equal(a.token_version, 1);
	assert_int_equal(a.created_at, 5);
	assert_int_equal(a.updated_at, 7);
	store_calendar_account_release(&a);

	int64_t found = 0;
	assert_int_equal(store_calendar_account_find(f->c, f->ada, "google", "ada@example.com",
						     &found),
			 CX_OK);
	assert_int_equal(found, id);
	assert_int_equal(store_calendar_account_find(f->c, f->ada, "microsoft", "ada@example.com",
						     &found),
			 CX_ENOTFOUND);
	assert_int_equal(store_calendar_accounts_count(f->c, f->ada, "google", &n), CX_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_calendar_accounts_count(f->c, f->ada, "microsoft", &n), CX_OK);
	assert_int_equal(n, 0);
}

static void another_persons_account_is_not_found(void **state)
{
	struct fixture *f = *state;
	int64_t id = connect_account(f, f->ada, "google", "ada@example.com", google_cals, 3);
	struct store_calendar_account a;
	struct store_calendar *cals = NULL;
	size_t n = 0;
	int64_t found = 0;
	assert_int_equal(store_calendar_account_get(f->c, f->bob, id, &a), CX_ENOTFOUND);
	assert_int_equal(store_calendar_account_find(f->c, f->bob, "google", "ada@example.com",
						     &found),
			 CX_ENOTFOUND);
	assert_int_equal(store_calendar_account_connect(f->c, id, f->bob, "x", "y", 1, "", "active",
							20),
			 CX_ENOTFOUND);
	assert_int_equal(store_calendars_merge(f->c, f->bob, id, google_cals, 1), CX_ENOTFOUND);
	assert_int_equal(store_calendar_account_delete(f->c, f->bob, id), CX_ENOTFOUND);
	assert_int_equal(store_calendars_list(f->c, f->bob, &cals, &n), CX_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_calendars_list(f->c, f->ada, &cals, &n), CX_OK);
	assert_int_equal(n, 3);
	assert_int_equal(store_calendar_set_selected(f->c, f->bob, cals[0].id, false),
			 CX_ENOTFOUND);
	int64_t moved = 0;
	assert_int_equal(store_calendar_accounts_suspend(f->c, f->bob, true, 30, &moved), CX_OK);
	assert_int_equal(moved, 0);
	bool ready = true;
	assert_int_equal(store_calendar_provider_ready(f->c, f->bob, "google", &ready), CX_OK);
	assert_false(ready);
	/* Ada's rows are untouched. */
	assert_int_equal(store_calendar_account_get(f->c, f->ada, id, &a), CX_OK);
	assert_string_equal(a.status, CALENDAR_ACCOUNT_ACTIVE);
	assert_string_equal(a.tokens, "sealed-box");
	store_calendar_account_release(&a);
	for (size_t i = 0; i < n; i++)
		assert_true(cals[i].selected);
	store_calendars_free(cals, n);
	/* Bob may connect the same provider account: it is his own row. */
	int64_t bobs = connect_account(f, f->bob, "google", "ada@example.com", google_cals, 1);
	assert_true(bobs != id);
}

static void merge_updates_keeps_selection_and_drops_unlisted(void **state)
{
	struct fixture *f = *state;
	int64_t id = connect_account(f, f->ada, "google", "ada@example.com", google_cals, 3);
	struct store_calendar *cals = NULL;
	size_t n = 0;
	assert_int_equal(store_calendars_list(f->c, f->ada, &cals, &n), CX_OK);
	assert_int_equal(n, 3);
	/* Primary first, then by name. */
	assert_string_equal(cals[0].name, "ada@example.com");
	assert_true(cals[0].primary);
	assert_true(cals[0].writable);
	assert_string_equal(cals[0].color, "#039be5");
	assert_string_equal(cals[1].name, "Holidays");
	assert_false(cals[1].writable);
	assert_null(cals[1].color);
	assert_string_equal(cals[2].name, "Work");
	assert_int_equal(cals[2].account_id, id);
	int64_t work_id = cals[2].id, primary_id = cals[0].id;
	assert_int_equal(store_calendar_set_selected(f->c, f->ada, work_id, false), CX_OK);
	store_calendars_free(cals, n);

	/* Google renames Work, drops Holidays and adds Team. */
	const struct store_calendar again[] = {
		{.external_id = "ada@example.com", .name = "ada@example.com", .primary = true,
		 .writable = true, .color = "#039be5"},
		{.external_id = "work@group", .name = "Work (renamed)", .writable = false,
		 .color = "#000000"},
		{.external_id = "team@group", .name = "Team", .writable = true},
	};
	assert_int_equal(store_calendars_merge(f->c, f->ada, id, again, 3), CX_OK);
	assert_int_equal(store_calendars_list(f->c, f->ada, &cals, &n), CX_OK);
	assert_int_equal(n, 3);
	assert_int_equal(cals[0].id, primary_id);
	assert_string_equal(cals[1].name, "Team");
	assert_true(cals[1].selected);
	assert_string_equal(cals[2].name, "Work (renamed)");
	assert_int_equal(cals[2].id, work_id);
	assert_false(cals[2].selected);
	assert_false(cals[2].writable);
	assert_string_equal(cals[2].color, "#000000");
	store_calendars_free(cals, n);
}

static void list_suspend_and_readiness(void **state)
{
	struct fixture *f = *state;
	const struct store_calendar read_only[] = {
		{.external_id = "cal-1", .name = "Calendar", .primary = true, .writable = false},
	};
	int64_t g = connect_account(f, f->ada, "google", "ada@example.com", google_cals, 3);
	int64_t m = connect_account(f, f->ada, "microsoft", "user-1", read_only, 1);
	struct store_calendar_account *list = NULL;
	size_t n = 0;
	assert_int_equal(store_calendar_accounts_list(f->c, f->ada, &list, &n), CX_OK);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, g);
	assert_string_equal(list[0].provider, "google");
	assert_int_equal(list[1].id, m);
	assert_string_equal(list[1].provider, "microsoft");
	store_calendar_accounts_free(list, n);

	bool ready = false;
	assert_int_equal(store_calendar_provider_ready(f->c, f->ada, "google", &ready), CX_OK);
	assert_true(ready);
	/* Teams needs a writable calendar. */
	assert_int_equal(store_calendar_provider_ready(f->c, f->ada, "microsoft", &ready), CX_OK);
	assert_false(ready);

	int64_t moved = 0;
	assert_int_equal(store_calendar_accounts_suspend(f->c, f->ada, true, 50, &moved), CX_OK);
	assert_int_equal(moved, 2);
	assert_int_equal(store_calendar_provider_ready(f->c, f->ada, "google", &ready), CX_OK);
	assert_false(ready);
	struct store_calendar_account a;
	assert_int_equal(store_calendar_account_get(f->c, f->ada, g, &a), CX_OK);
	assert_string_equal(a.status, CALENDAR_ACCOUNT_SUSPENDED);
	assert_int_equal(a.updated_at, 50);
	store_calendar_account_release(&a);
	/* Suspending twice moves nothing more. */
	assert_int_equal(store_calendar_accounts_suspend(f->c, f->ada, true, 51, &moved), CX_OK);
	assert_int_equal(moved, 0);

	/* An account that needs reconnecting stays so through reactivation. */
	int64_t x = 0;
	assert_int_equal(store_calendar_account_reserve(f->c, f->ada, "google", "other@example.com",
							52, &x, NULL),
			 CX_OK);
	assert_int_equal(store_calendar_accounts_suspend(f->c, f->ada, false, 60, &moved), CX_OK);
	assert_int_equal(moved, 2);
	assert_int_equal(store_calendar_account_get(f->c, f->ada, x, &a), CX_OK);
	assert_string_equal(a.status, CALENDAR_ACCOUNT_NEEDS_RECONNECT);
	store_calendar_account_release(&a);
	assert_int_equal(store_calendar_account_get(f->c, f->ada, m, &a), CX_OK);
	assert_string_equal(a.status, CALENDAR_ACCOUNT_ACTIVE);
	store_calendar_account_release(&a);
	assert_int_equal(store_calendar_provider_ready(f->c, f->ada, "google", &ready), CX_OK);
	assert_true(ready);
}

static const char *status_of(struct fixture *f, int64_t id)
{
	static char status[24];
	struct store_val p[] = {SV_INT(id)};
	struct store_rows *rows = NULL;
	assert_int_equal(store_query(f->c, "SELECT status FROM calendar_accounts WHERE id = $1", p,
				     1, &rows),
			 CX_OK);
	assert_true(store_rows_next(rows));
	snprintf(status, sizeof(status), "%s", store_col_text(rows, 0));
	store_rows_free(rows);
	return status;
}

/* A plan of n accounts keeps the oldest n active and rests the rest; one that needs reconnecting
 * keeps its status and its place; a larger plan takes the rested ones back. */
static void fit_to_a_plan(void **state)
{
	struct fixture *f = *state;
	int64_t a = connect_account(f, f->ada, "google", "ada@example.com", google_cals, 1);
	int64_t b = connect_account(f, f->ada, "microsoft", "user-1", google_cals, 1);
	int64_t c = connect_account(f, f->ada, "google", "ada2@example.com", google_cals, 1);
	int64_t bobs = connect_account(f, f->bob, "google", "bob@example.com", google_cals, 1);
	struct store_val p[] = {SV_INT(b)};
	assert_int_equal(store_exec(f->c, "UPDATE calendar_accounts SET status = 'needs_reconnect' "
				    "WHERE id = $1", p, 1, NULL),
			 CX_OK);
	int64_t down = -1, up = -1;
	assert_int_equal(store_calendar_accounts_fit(f->c, f->ada, 2, 20, &down, &up), CX_OK);
	assert_int_equal(down, 1);
	assert_int_equal(up, 0);
	assert_string_equal(status_of(f, a), CALENDAR_ACCOUNT_ACTIVE);
	assert_string_equal(status_of(f, b), CALENDAR_ACCOUNT_NEEDS_RECONNECT);
	assert_string_equal(status_of(f, c), CALENDAR_ACCOUNT_SUSPENDED);
	assert_string_equal(status_of(f, bobs), CALENDAR_ACCOUNT_ACTIVE); /* Bob's plan is his */
	/* Fitting again changes nothing. */
	assert_int_equal(store_calendar_accounts_fit(f->c, f->ada, 2, 30, &down, &up), CX_OK);
	assert_int_equal(down + up, 0);
	/* None (Free), then any number. */
	assert_int_equal(store_calendar_accounts_fit(f->c, f->ada, 0, 40, &down, &up), CX_OK);
	assert_int_equal(down, 1);
	assert_string_equal(status_of(f, a), CALENDAR_ACCOUNT_SUSPENDED);
	assert_int_equal(store_calendar_accounts_fit(f->c, f->ada, -1, 50, &down, &up), CX_OK);
	assert_int_equal(up, 2);
	assert_string_equal(status_of(f, a), CALENDAR_ACCOUNT_ACTIVE);
	assert_string_equal(status_of(f, c), CALENDAR_ACCOUNT_ACTIVE);
	assert_string_equal(status_of(f, b), CALENDAR_ACCOUNT_NEEDS_RECONNECT);
}

static void delete_cascades_to_calendars(void **state)
{
	struct fixture *f = *state;
	int64_t g = connect_account(f, f->ada, "google", "ada@example.com", google_cals, 3);
	int64_t m = connect_account(f, f->ada, "microsoft", "user-1", google_cals, 1);
	assert_int_equal(store_calendar_account_delete(f->c, f->ada, g), CX_OK);
	assert_int_equal(store_calendar_account_delete(f->c, f->ada, g), CX_ENOTFOUND);
	struct store_calendar *cals = NULL;
	size_t n = 0;
	assert_int_equal(store_calendars_list(f->c, f->ada, &cals, &n), CX_OK);
	assert_int_equal(n, 1);
	assert_int_equal(cals[0].account_id, m);
	store_calendars_free(cals, n);
	int64_t left = 0;
	struct store_val p[] = {SV_INT(g)};
	assert_int_equal(store_query_int(f->c,
					 "SELECT COUNT(*) FROM calendars WHERE account_id = $1", p,
					 1, &left),
			 CX_OK);
	assert_int_equal(left, 0);
	/* A person's removal takes their accounts with them. */
	assert_int_equal(store_exec(f->c, "DELETE FROM users WHERE id = $1",
				    (struct store_val[]){SV_INT(f->ada)}, 1, NULL),
			 CX_OK);
	assert_int_equal(store_query_int(f->c, "SELECT COUNT(*) FROM calendars", NULL, 0, &left),
			 CX_OK);
	assert_int_equal(left, 0);
}

static void merge_skips_calendars_without_id_and_bounds_the_list(void **state)
{
	struct fixture *f = *state;
	size_t many = CALENDARS_PER_ACCOUNT_MAX + 5;
	struct store_calendar *in = xcalloc(many, sizeof(*in));
	char (*ids)[16] = xcalloc(many, sizeof(*ids));
	for (size_t i = 0; i < many; i++) {
		snprintf(ids[i], sizeof(ids[i]), "cal-%zu", i);
		in[i].external_id = ids[i];
		in[i].name = ids[i];
	}
	in[0].external_id = NULL;
	in[1].external_id = "";
	int64_t id = connect_account(f, f->ada, "google", "ada@example.com", in, many);
	int64_t count = 0;
	struct store_val p[] = {SV_INT(id)};
	assert_int_equal(store_query_int(f->c,
					 "SELECT COUNT(*) FROM calendars WHERE account_id = $1", p,
					 1, &count),
			 CX_OK);
	assert_int_equal(count, CALENDARS_PER_ACCOUNT_MAX - 2);
	free(in);
	free(ids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reserve_connect_and_read_back, setup, teardown),
		cmocka_unit_test_setup_teardown(another_persons_account_is_not_found, setup,
						teardown),
		cmocka_unit_test_setup_teardown(merge_updates_keeps_selection_and_drops_unlisted,
						setup, teardown),
		cmocka_unit_test_setup_teardown(list_suspend_and_readiness, setup, teardown),
		cmocka_unit_test_setup_teardown(delete_cascades_to_calendars, setup, teardown),
		cmocka_unit_test_setup_teardown(fit_to_a_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(
			merge_skips_calendars_without_id_and_bounds_the_list, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
