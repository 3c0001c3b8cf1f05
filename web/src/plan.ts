/* How plans are named and counted in the UI (DESIGN §4 Plans). */
import type { PlanName, PlanStatus } from './api';

const LABELS: Record<PlanName, string> = {
  free: 'Free',
  trial: 'Trial',
  basic: 'Basic',
  standard: 'Standard',
  premium: 'Premium',
};

export function planLabel(name: PlanName): string {
  return LABELS[name] ?? name;
}

export function statusLabel(status: PlanStatus): string {
  switch (status) {
    case 'trialing':
      return 'Trial';
    case 'active':
      return 'Active';
    case 'trial_ended':
      return 'Trial ended';
  }
  return status;
}

/* Whole days left in a trial ending at trialEndsAt (rounded up: "1 day left" until the end). */
export function trialDaysLeft(trialEndsAt: string | null, now: Date = new Date()): number | null {
  if (!trialEndsAt) return null;
  const end = Date.parse(trialEndsAt);
  if (Number.isNaN(end)) return null;
  const ms = end - now.getTime();
  return ms <= 0 ? 0 : Math.ceil(ms / 86_400_000);
}

export function daysLeftText(days: number): string {
  return days === 1 ? '1 day left' : `${days} days left`;
}

/* Whether the plan lets a person connect calendars: a running trial or any paid plan. */
export function canConnectCalendars(name: PlanName): boolean {
  return name !== 'free';
}

export function calendarAccountsText(n: number | null): string {
  if (n === null) return 'Unlimited calendar accounts';
  return n === 1 ? '1 calendar account' : `${n} calendar accounts`;
}
