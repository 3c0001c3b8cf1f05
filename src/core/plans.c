#include "core/plans.h"

#include <string.h>

#include "base/banned.h"

static const char *const names[] = {
	[PLAN_FREE] = "free",
	[PLAN_TRIAL] = "trial",
	[PLAN_BASIC] = "basic",
	[PLAN_STANDARD] = "standard",
	[PLAN_PREMIUM] = "premium",
};

const char *plan_name(enum plan p)
{
	if ((unsigned)p >= sizeof(names) / sizeof(names[0]))
		return "free";
	return names[p];
}

enum cx_err plan_parse(const char *name, enum plan *out)
{
	if (!name)
		return CX_EINVAL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum plan)i;
			return CX_OK;
		}
	}
	return CX_EINVAL;
}

bool plan_is_paid(enum plan p)
{
	return p == PLAN_BASIC || p == PLAN_STANDARD || p == PLAN_PREMIUM;
}

enum plan plan_effective(enum plan stored, int64_t trial_ends_at, int64_t now)
{
	if (stored == PLAN_TRIAL && trial_ends_at <= now)
		return PLAN_FREE;
	return stored;
}

int plan_calendar_accounts(enum plan p, const struct plan_limits *limits)
{
	switch (p) {
	case PLAN_FREE:
		return 0;
	case PLAN_BASIC:
		return limits->basic_accounts;
	case PLAN_STANDARD:
		return limits->standard_accounts;
	case PLAN_TRIAL:
	case PLAN_PREMIUM:
		return PLAN_UNLIMITED;
	}
	return 0;
}

bool plan_can_connect_calendars(enum plan p)
{
	return p != PLAN_FREE;
}
