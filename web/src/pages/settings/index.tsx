/*
 * Settings: a tab per area ("Calendars", "App", "Billing"), each its own address so a person can
 * link to it and the browser's back button moves between them.
 */
import { Link, Redirect } from '../../router';
import { AppSettings } from './app';
import { BillingSettings } from './billing';
import { CalendarSettings } from './calendars';

const TABS = [
  { path: '/settings/calendars', label: 'Calendars' },
  { path: '/settings/app', label: 'App' },
  { path: '/settings/billing', label: 'Billing' },
];

export function SettingsPage({ path }: { path: string }) {
  const tab = TABS.find((t) => t.path === path);
  if (!tab) return <Redirect to="/settings/calendars" />;
  return (
    <section class="page">
      <h1>Settings</h1>
      <nav class="tabs" aria-label="Settings">
        {TABS.map((t) => (
          <Link
            key={t.path}
            href={t.path}
            class="tab"
            aria-current={t.path === path ? 'page' : undefined}
          >
            {t.label}
          </Link>
        ))}
      </nav>
      <div class="tab-panel">
        {path === '/settings/calendars' && <CalendarSettings />}
        {path === '/settings/app' && <AppSettings />}
        {path === '/settings/billing' && <BillingSettings />}
      </div>
    </section>
  );
}
