/* OAuth states and app connections in the store (store/connections.c), on a real SQLite file. */
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
#include "store/connections.h"

struct fixture {
	char dir[64];
	struct store *st;
	struct store_conn *c;
	int64_t ada, bob;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/calendox-connections-XXXXXX");
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

static void oauth_states_are_single_use_and_bound(void **state)
{
	struct fixture *f = *state;
	int64_t uid = 0;
	char *verifier = NULL;
	assert_int_equal(store_oauth_state_create(f->c, "s1", f->ada, "sess-a", "zoom", "v1", 100,
						  700),
			 CX_OK);
	/* Wrong session, wrong provider, expired: refused and the state stays usable. */
	assert_int_equal(store_oauth_state_take(f->c, "s1", "sess-b", "zoom", 200, &uid, &verifier),
			 CX_ENOTFOUND);
	assert_int_equal(
		store_oauth_state_take(f->c, "s1", "sess-a", "google", 200, &uid, &verifier),
		CX_ENOTFOUND);
	assert_int_equal(store_oauth_state_take(f->c, "s1", "sess-a", "zoom", 700, &uid, &verifier),
			 CX_ENOTFOUND);
	assert_int_equal(store_oauth_state_take(f->c, "s1", "sess-a", "zoom", 200, &uid, &verifier),
			 CX_OK);
	assert_int_equal(uid, f->ada);
	assert_string_equal(verifier, "v1");
	free(verifier);
	verifier = NULL;
	/* Used once: never again. */
	assert_int_equal(store_oauth_state_take(f->c, "s1", "sess-a", "zoom", 200, &uid, &verifier),
			 CX_ENOTFOUND);
	assert_null(verifier);
	assert_int_equal(store_oauth_states_delete_expired(f->c, 200), CX_OK);
	int64_t left = -1;
	assert_int_equal(store_query_int(f->c, "SELECT COUNT(*) FROM oauth_states", NULL, 0, &left),
			 CX_OK);
	assert_int_equal(left, 0);
}

static void connect_disconnect_and_lookup(void **state)
{
	struct fixture *f = *state;
	struct store_connection conn;
	assert_int_equal(store_connection_get(f->c, f->ada, "zoom", &conn), CX_ENOTFOUND);
	int64_t id = 0, again = 0;
	assert_int_equal(store_connection_reserve(f->c, f->ada, "zoom", 10, &id), CX_OK);
	assert_int_equal(store_connection_reserve(f->c, f->ada, "zoom", 11, &again), CX_OK);
	assert_int_equal(id, again);
	assert_int_equal(store_connection_get(f->c, f->ada, "zoom", &conn), CX_OK);
	assert_string_equal(conn.status, CONNECTION_DISCONNECTED);
	store_connection_release(&conn);

	/* Another person's row id cannot be written through this person. */
	assert_int_equal(store_connection_connect(f->c, id, f->bob, "zu", "za", "z@example.com",
						  "sealed", 99, "s", 12),
			 CX_ENOTFOUND);
	assert_int_equal(store_connection_connect(f->c, id, f->ada, "zu-1", "za-1", "a@zoom.example",
						  "sealed-1", 3600, "user:read:user", 12),
			 CX_OK);
	assert_int_equal(store_connection_get(f->c, f->ada, "zoom", &conn), CX_OK);
	assert_string_equal(conn.status, CONNECTION_CONNECTED);
	assert_string_equal(conn.external_email, "a@zoom.example");
	assert_string_equal(conn.tokens, "sealed-1");
	assert_string_equal(conn.scopes, "user:read:user");
	assert_int_equal(conn.connected_at, 12);
	int64_t version = conn.token_version;
	store_connection_release(&conn);
	assert_int_equal(store_connection_get(f->c, f->bob, "zoom", &conn), CX_ENOTFOUND);

	int64_t owners[4];
	int n = 0;
	assert_int_equal(store_connection_users_by_external(f->c, "zoom", "zu-1", owners, 4, &n),
			 CX_OK);
	assert_int_equal(n, 1);
	assert_int_equal(owners[0], f->ada);

	bool changed = false;
	assert_int_equal(store_connection_disconnect(f->c, f->ada, "zoom", 20, &changed), CX_OK);
	assert_true(changed);
	assert_int_equal(store_connection_disconnect(f->c, f->ada, "zoom", 21, &changed), CX_OK);
	assert_false(changed);
	assert_int_equal(store_connection_get(f->c, f->ada, "zoom", &conn), CX_OK);
	assert_string_equal(conn.status, CONNECTION_DISCONNECTED);
	assert_null(conn.tokens);
	assert_null(conn.external_email);
	assert_null(conn.external_user_id);
	assert_true(conn.token_version > version);
	store_connection_release(&conn);
	assert_int_equal(store_connection_users_by_external(f->c, "zoom", "zu-1", owners, 4, &n),
			 CX_OK);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(oauth_states_are_single_use_and_bound, setup,
						teardown),
		cmocka_unit_test_setup_teardown(connect_disconnect_and_lookup, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
