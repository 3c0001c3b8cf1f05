/*
 * Settings → Billing: the plan in force, the days left in a trial, and the paid plans with a
 * button each. Subscribing calls the API and then shows the plan the server reports, and reloads
 * the session so the header and the Free banner follow.
 */
import { useState } from 'preact/hooks';
import { api, ApiError } from '../../api';
import type { Billing, OfferedPlan, PaidPlanName, PlanName } from '../../api';
import { LoadError, Loading } from '../../components/notice';
import { useLoad } from '../../load';
import {
  calendarAccountsText,
  daysLeftText,
  planLabel,
  statusLabel,
  trialDaysLeft,
} from '../../plan';
import { useSession } from '../../session';

const PAID: PaidPlanName[] = ['basic', 'standard', 'premium'];

function isPaid(name: PlanName): name is PaidPlanName {
  return (PAID as string[]).includes(name);
}

function CurrentPlan({ billing }: { billing: Billing }) {
  const days = billing.plan === 'trial' ? trialDaysLeft(billing.trial_ends_at) : null;
  return (
    <section class="card" aria-labelledby="current-plan-title">
      <h2 id="current-plan-title">Current plan</h2>
      <p class="plan-now">
        <span class="plan-name" data-testid="current-plan">
          {planLabel(billing.plan)}
        </span>
        <span class={`badge badge-${billing.status}`}>{statusLabel(billing.status)}</span>
      </p>
      {days !== null && (
        <p>
          Trial: <strong>{daysLeftText(days)}</strong>
          {billing.trial_ends_at && (
            <>
              {' '}
              (ends{' '}
              <time dateTime={billing.trial_ends_at}>
                {new Date(billing.trial_ends_at).toLocaleDateString(undefined, {
                  dateStyle: 'medium',
                })}
              </time>
              )
            </>
          )}
          . The trial includes everything; subscribe to keep your calendars connected.
        </p>
      )}
      {billing.plan === 'free' && (
        <p>
          The Free plan has no calendar accounts. Subscribe to Basic, Standard or Premium to connect
          calendars{billing.status === 'trial_ended' ? ' again' : ''}.
        </p>
      )}
    </section>
  );
}

interface PlanCardProps {
  offered: OfferedPlan & { name: PaidPlanName };
  current: PlanName;
  busy: PaidPlanName | null;
  onSubscribe: (p: PaidPlanName) => void;
}

function PlanCard({ offered, current, busy, onSubscribe }: PlanCardProps) {
  const label = planLabel(offered.name);
  const isCurrent = current === offered.name;
  return (
    <li class={`plan-card${isCurrent ? ' plan-card-current' : ''}`}>
      <h3>{label}</h3>
      <p>{calendarAccountsText(offered.calendar_accounts)}</p>
      <p class="muted">Zoom, Google Meet and Microsoft Teams links on any event.</p>
      {isCurrent ? (
        <p class="plan-card-current-label">Your current plan</p>
      ) : (
        <button
          type="button"
          class="button button-primary"
          disabled={busy !== null}
          aria-busy={busy === offered.name ? 'true' : undefined}
          onClick={() => onSubscribe(offered.name)}
        >
          {busy === offered.name ? `Subscribing to ${label}…` : `Subscribe to ${label}`}
        </button>
      )}
    </li>
  );
}

export function BillingSettings() {
  const [state, reload, setBilling] = useLoad(() => api.billing());
  const [busy, setBusy] = useState<PaidPlanName | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const { refresh } = useSession();

  if (state.kind === 'loading') return <Loading what="billing" />;
  if (state.kind === 'error') return <LoadError error={state.error} onRetry={reload} />;
  const billing = state.data;

  const subscribe = async (plan: PaidPlanName) => {
    setBusy(plan);
    setDone(null);
    setError(null);
    try {
      const sub = await api.subscribe(plan);
      setBilling({ ...billing, plan: sub.plan, status: sub.status });
      setDone(`You are now on the ${planLabel(sub.plan)} plan.`);
      await refresh();
      reload();
    } catch (e) {
      if (e instanceof ApiError) setError(e);
      else throw e;
    } finally {
      setBusy(null);
    }
  };

  const offered = billing.plans.filter((p): p is OfferedPlan & { name: PaidPlanName } =>
    isPaid(p.name),
  );

  return (
    <div class="stack">
      <h2 class="visually-hidden">Billing</h2>
      <CurrentPlan billing={billing} />
      <div role="status" class="status-line">
        {done && <p class="notice notice-ok">{done}</p>}
      </div>
      {error && <LoadError error={error} />}
      <section aria-labelledby="plans-title">
        <h2 id="plans-title">Plans</h2>
        <ul class="plan-list">
          {offered.map((p) => (
            <PlanCard
              key={p.name}
              offered={p}
              current={billing.plan}
              busy={busy}
              onSubscribe={(name) => void subscribe(name)}
            />
          ))}
        </ul>
      </section>
    </div>
  );
}
