/* Plans and entitlements (core/plans.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/plans.h"

static void names_round_trip(void **state)
{
	(void)state;
	for (int p = PLAN_FREE; p <= PLAN_PREMIUM; p++) {
		enum plan back;
		assert_int_equal(plan_parse(plan_name((enum plan)p), &back), CX_OK);
		assert_int_equal(back, p);
	}
	enum plan out;
	assert_int_equal(plan_parse("gold", &out), CX_EINVAL);
	assert_int_equal(plan_parse("", &out), CX_EINVAL);
	assert_int_equal(plan_parse(NULL, &out), CX_EINVAL);
	assert_int_equal(plan_parse("Basic", &out), CX_EINVAL);
}

static void paid_plans(void **state)
{
	(void)state;
	assert_false(plan_is_paid(PLAN_FREE));
	assert_false(plan_is_paid(PLAN_TRIAL));
	assert_true(plan_is_paid(PLAN_BASIC));
	assert_true(plan_is_paid(PLAN_STANDARD));
	assert_true(plan_is_paid(PLAN_PREMIUM));
}

static void trial_ends_into_free(void **state)
{
	(void)state;
	assert_int_equal(plan_effective(PLAN_TRIAL, 1000, 999), PLAN_TRIAL);
	assert_int_equal(plan_effective(PLAN_TRIAL, 1000, 1000), PLAN_FREE);
	assert_int_equal(plan_effective(PLAN_TRIAL, 1000, 5000), PLAN_FREE);
	/* Only a trial ends by itself. */
	assert_int_equal(plan_effective(PLAN_BASIC, 1000, 5000), PLAN_BASIC);
	assert_int_equal(plan_effective(PLAN_PREMIUM, 0, 5000), PLAN_PREMIUM);
}

static void calendar_account_limits(void **state)
{
	(void)state;
	struct plan_limits limits = {.basic_accounts = 2, .standard_accounts = 5};
	assert_int_equal(plan_calendar_accounts(PLAN_FREE, &limits), 0);
	assert_int_equal(plan_calendar_accounts(PLAN_BASIC, &limits), 2);
	assert_int_equal(plan_calendar_accounts(PLAN_STANDARD, &limits), 5);
	assert_int_equal(plan_calendar_accounts(PLAN_PREMIUM, &limits), PLAN_UNLIMITED);
	assert_int_equal(plan_calendar_accounts(PLAN_TRIAL, &limits), PLAN_UNLIMITED);
	limits.basic_accounts = 3;
	assert_int_equal(plan_calendar_accounts(PLAN_BASIC, &limits), 3);
	assert_false(plan_can_connect_calendars(PLAN_FREE));
	assert_true(plan_can_connect_calendars(PLAN_TRIAL));
	assert_true(plan_can_connect_calendars(PLAN_BASIC));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_round_trip),
		cmocka_unit_test(paid_plans),
		cmocka_unit_test(trial_ends_into_free),
		cmocka_unit_test(calendar_account_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
