/* The store's account queries (store/accounts.c) on a real SQLite file. */
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
#include "store/store.h"

struct fixture {
	char dir[64];
	struct store *st;
	struct store_conn *c;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/calendox-accounts-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char *url = xasprintf("sqlite:%s/t.db", f->dir);
	if (store_open(url, &f->st) != CX_OK || store_migrate(f->st) != CX_OK)
		return -1;
	free(url);
	f->c = store_conn(f->st);
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

static int64_t make_user(struct store_conn *c, const char *email)
{
	int64_t id = 0;
	assert_int_equal(store_user_create(c, email, "Name", "$argon2id$x", 100, &id), CX_OK);
	assert_true(id > 0);
	return id;
}

static void users(void **state)
{
	struct fixture *f = *state;
	int64_t id = make_user(f->c, "ada@example.com");
	int64_t other = 0;
	assert_int_equal(store_user_create(f->c, "ada@example.com", "x", "h", 1, &other),
			 CX_ECONFLICT);
	struct store_user u = {0};
	assert_int_equal(store_user_by_email(f->c, "ada@example.com", &u), CX_OK);
	assert_int_equal(u.id, id);
	assert_string_equal(u.name, "Name");
	assert_int_equal(u.created_at, 100);
	store_user_release(&u);
	assert_int_equal(store_user_by_id(f->c, id, &u), CX_OK);
	assert_string_equal(u.email, "ada@example.com");
	store_user_release(&u);
	assert_int_equal(store_user_by_email(f->c, "nobody@example.com", &u), CX_ENOTFOUND);
	assert_int_equal(store_user_by_id(f->c, id + 1000, &u), CX_ENOTFOUND);
}

static void subscriptions_and_trials(void **state)
{
	struct fixture *f = *state;
	int64_t a = make_user(f->c, "a@example.com");
	int64_t b = make_user(f->c, "b@example.com");
	struct store_subscription s = {.trial_ends_at = 1000};
	snprintf(s.plan, sizeof(s.plan), "trial");
	snprintf(s.status, sizeof(s.status), "trialing");
	assert_int_equal(store_subscription_set(f->c, a, &s, 1), CX_OK);
	s.trial_ends_at = 5000;
	assert_int_equal(store_subscription_set(f->c, b, &s, 1), CX_OK);
	struct store_subscription got;
	assert_int_equal(store_subscription_get(f->c, a, &got), CX_OK);
	assert_string_equal(got.plan, "trial");
	assert_int_equal(got.trial_ends_at, 1000);
	assert_int_equal(got.current_period_end, 0);

	int moved = -1;
	assert_int_equal(store_trials_expire(f->c, 2000, NULL, NULL, &moved), CX_OK);
	assert_int_equal(moved, 1);
	assert_int_equal(store_subscription_get(f->c, a, &got), CX_OK);
	assert_string_equal(got.plan, "free");
	assert_string_equal(got.status, "trial_ended");
	assert_int_equal(store_subscription_get(f->c, b, &got), CX_OK);
	assert_string_equal(got.plan, "trial");
	/* Running again moves nobody twice. */
	assert_int_equal(store_trials_expire(f->c, 2000, NULL, NULL, &moved), CX_OK);
	assert_int_equal(moved, 0);

	/* Upsert replaces. */
	snprintf(s.plan, sizeof(s.plan), "basic");
	snprintf(s.status, sizeof(s.status), "active");
	s.trial_ends_at = 0;
	s.current_period_end = 9999;
	assert_int_equal(store_subscription_set(f->c, a, &s, 3), CX_OK);
	assert_int_equal(store_subscription_get(f->c, a, &got), CX_OK);
	assert_string_equal(got.plan, "basic");
	assert_int_equal(got.current_period_end, 9999);
	assert_int_equal(got.trial_ends_at, 0);
}

static void sessions(void **state)
{
	struct fixture *f = *state;
	int64_t a = make_user(f->c, "s@example.com");
	assert_int_equal(store_session_create(f->c, "hash1", a, "csrf1", 100, 200), CX_OK);
	assert_int_equal(store_session_create(f->c, "hash1", a, "csrf1", 100, 200), CX_ECONFLICT);
	int64_t uid = 0;
	char *csrf = NULL;
	assert_int_equal(store_session_get(f->c, "hash1", 150, &uid, &csrf), CX_OK);
	assert_int_equal(uid, a);
	assert_string_equal(csrf, "csrf1");
	free(csrf);
	csrf = NULL;
	assert_int_equal(store_session_get(f->c, "nope", 150, &uid, &csrf), CX_ENOTFOUND);
	/* Expired: refused and gone. */
	assert_int_equal(store_session_get(f->c, "hash1", 200, &uid, &csrf), CX_ENOTFOUND);
	assert_null(csrf);
	assert_int_equal(store_session_get(f->c, "hash1", 150, &uid, &csrf), CX_ENOTFOUND);

	assert_int_equal(store_session_create(f->c, "h2", a, "c", 100, 300), CX_OK);
	assert_int_equal(store_session_create(f->c, "h3", a, "c", 100, 500), CX_OK);
	int64_t deleted = 0;
	assert_int_equal(store_sessions_delete_expired(f->c, 400, &deleted), CX_OK);
	assert_int_equal(deleted, 1);
	assert_int_equal(store_session_delete(f->c, "h3"), CX_OK);
	assert_int_equal(store_session_get(f->c, "h3", 150, &uid, &csrf), CX_ENOTFOUND);
}

static void login_throttling(void **state)
{
	struct fixture *f = *state;
	int64_t until = -1;
	assert_int_equal(store_login_locked_until(f->c, "email:x", &until), CX_OK);
	assert_int_equal(until, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(store_login_failure(f->c, "email:x", 1000 + i, 5, 900, 600), CX_OK);
	assert_int_equal(store_login_locked_until(f->c, "email:x", &until), CX_OK);
	assert_int_equal(until, 0);
	assert_int_equal(store_login_failure(f->c, "email:x", 1010, 5, 900, 600), CX_OK);
	assert_int_equal(store_login_locked_until(f->c, "email:x", &until), CX_OK);
	assert_int_equal(until, 1610);
	/* Failures spread beyond the window never lock. */
	for (int i = 0; i < 10; i++)
		assert_int_equal(store_login_failure(f->c, "email:y", 1000 + i * 1000, 5, 900, 600),
				 CX_OK);
	assert_int_equal(store_login_locked_until(f->c, "email:y", &until), CX_OK);
	assert_int_equal(until, 0);
	assert_int_equal(store_login_reset(f->c, "email:x"), CX_OK);
	assert_int_equal(store_login_locked_until(f->c, "email:x", &until), CX_OK);
	assert_int_equal(until, 0);
}

struct collected {
	int n;
	char kinds[8][32];
};

static void collect(const struct store_activity *a, void *arg)
{
	struct collected *c = arg;
	if (c->n < 8)
		snprintf(c->kinds[c->n++], sizeof(c->kinds[0]), "%s", a->kind);
}

static void activity_is_per_user_newest_first(void **state)
{
	struct fixture *f = *state;
	int64_t a = make_user(f->c, "act-a@example.com");
	int64_t b = make_user(f->c, "act-b@example.com");
	assert_int_equal(store_activity_add(f->c, a, 10, "one", "first"), CX_OK);
	assert_int_equal(store_activity_add(f->c, a, 20, "two", "second"), CX_OK);
	assert_int_equal(store_activity_add(f->c, b, 30, "other", "b's"), CX_OK);
	struct collected got = {0};
	assert_int_equal(store_activity_list(f->c, a, 10, collect, &got), CX_OK);
	assert_int_equal(got.n, 2);
	assert_string_equal(got.kinds[0], "two");
	assert_string_equal(got.kinds[1], "one");
	memset(&got, 0, sizeof(got));
	assert_int_equal(store_activity_list(f->c, a, 1, collect, &got), CX_OK);
	assert_int_equal(got.n, 1);
	memset(&got, 0, sizeof(got));
	assert_int_equal(store_activity_list(f->c, b, 10, collect, &got), CX_OK);
	assert_int_equal(got.n, 1);
	assert_string_equal(got.kinds[0], "other");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(users, setup, teardown),
		cmocka_unit_test_setup_teardown(subscriptions_and_trials, setup, teardown),
		cmocka_unit_test_setup_teardown(sessions, setup, teardown),
		cmocka_unit_test_setup_teardown(login_throttling, setup, teardown),
		cmocka_unit_test_setup_teardown(activity_is_per_user_newest_first, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
