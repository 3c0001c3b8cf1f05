/* plans.h: plans and entitlements (DESIGN §4 "Plans"), pure rules with no I/O.
 * A new account starts a trial with everything; Basic, Standard and Premium allow 2, 5 and unlimited
 * calendar accounts (configurable); Free (a trial that ended with no subscription) allows none. */
#ifndef CX_CORE_PLANS_H
#define CX_CORE_PLANS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

enum plan { PLAN_FREE, PLAN_TRIAL, PLAN_BASIC, PLAN_STANDARD, PLAN_PREMIUM };

/* Subscription status as stored and shown. */
#define PLAN_STATUS_TRIALING "trialing"       /* plan trial, until trial_ends_at */
#define PLAN_STATUS_ACTIVE "active"           /* a paid plan, or Free set by an operator */
#define PLAN_STATUS_TRIAL_ENDED "trial_ended" /* Free because the trial ended unsubscribed */

#define PLAN_UNLIMITED (-1)

struct plan_limits {
	int basic_accounts;    /* 2 */
	int standard_accounts; /* 5 */
};

const char *plan_name(enum plan p);
/* "free", "trial", "basic", "standard", "premium"; CX_EINVAL otherwise. */
enum cx_err plan_parse(const char *name, enum plan *out);
/* Plans a person can subscribe to (basic, standard, premium). */
bool plan_is_paid(enum plan p);

/* The plan in force now: a trial whose end has passed is Free even before the periodic job
 * records it. */
enum plan plan_effective(enum plan stored, int64_t trial_ends_at, int64_t now);

/* How many calendar accounts the plan allows: 0 for Free, PLAN_UNLIMITED for trial and Premium. */
int plan_calendar_accounts(enum plan p, const struct plan_limits *limits);
bool plan_can_connect_calendars(enum plan p);

#endif
