/*
 * Connecting an account (Zoom, Google, Microsoft) through the server's OAuth pages in a popup
 * (DESIGN §4): /oauth/{provider}/start redirects to the provider; the callback page posts a message
 * to this window's origin and closes. The promise settles when the popup reports or is closed; a
 * popup the browser blocked is an error that says how to allow it (startUrl() is the same-window
 * way round it).
 */
export type OAuthProvider = 'zoom' | 'google' | 'microsoft';

export class PopupBlockedError extends Error {
  constructor() {
    super(
      'Your browser blocked the authorization window. Allow pop-ups for this site ' +
        '(the icon at the end of the address bar) and try again.',
    );
    this.name = 'PopupBlockedError';
  }
}

/* What the server's callback page posts to its opener (DESIGN §4). */
export interface OAuthMessage {
  source: 'calendox-oauth';
  provider: OAuthProvider;
  ok: boolean;
  message: string;
  hint: string | null;
}

export interface ConnectResult {
  /* What the callback page said, when it said anything (it may just close). */
  message: unknown;
  /* The same, when it is the callback page's result for this provider; null when the popup was
   * closed without one (the person closed it, or it ended on the provider's own page). */
  result: OAuthMessage | null;
}

/* The address that starts connecting in this window, for when pop-ups are blocked: the callback
 * page then shows the result itself. */
export function startUrl(provider: OAuthProvider): string {
  return `/oauth/${provider}/start`;
}

function asOAuthMessage(data: unknown, provider: OAuthProvider): OAuthMessage | null {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as Record<string, unknown>;
  if (d.source !== 'calendox-oauth' || d.provider !== provider || typeof d.ok !== 'boolean')
    return null;
  return {
    source: 'calendox-oauth',
    provider,
    ok: d.ok,
    message: typeof d.message === 'string' ? d.message : '',
    hint: typeof d.hint === 'string' && d.hint ? d.hint : null,
  };
}

/* Longest wait for the popup, after which the page stops watching it. */
const MAX_WAIT_MS = 15 * 60 * 1000;
/* How long a closed window may still deliver its message. */
const CLOSE_GRACE_MS = 400;

export function connectInPopup(provider: OAuthProvider): Promise<ConnectResult> {
  const w = 520;
  const h = 680;
  const left = Math.max(0, window.screenX + (window.outerWidth - w) / 2);
  const top = Math.max(0, window.screenY + (window.outerHeight - h) / 2);
  const popup = window.open(
    startUrl(provider),
    `calendox-connect-${provider}`,
    `popup=yes,width=${w},height=${h},left=${Math.round(left)},top=${Math.round(top)}`,
  );
  if (!popup) return Promise.reject(new PopupBlockedError());

  return new Promise((resolve) => {
    const started = Date.now();
    let message: unknown = null;
    let result: OAuthMessage | null = null;
    const finish = () => {
      window.removeEventListener('message', onMessage);
      window.clearInterval(timer);
      resolve({ message, result });
    };
    /* Only our own origin's page in the popup we opened may report; anything else is ignored. */
    const onMessage = (e: MessageEvent) => {
      if (e.origin !== window.location.origin || e.source !== popup) return;
      const parsed = asOAuthMessage(e.data, provider);
      if (!parsed) return;
      message = e.data;
      result = parsed;
      finish();
    };
    /* The callback page posts and closes at once, so the window may be seen closed just before
     * its message is delivered: a closed window gets a moment for a late message. */
    let closedSince = 0;
    const timer = window.setInterval(() => {
      if (Date.now() - started > MAX_WAIT_MS) finish();
      else if (!popup.closed) closedSince = 0;
      else if (!closedSince) closedSince = Date.now();
      else if (Date.now() - closedSince >= CLOSE_GRACE_MS) finish();
    }, 250);
    window.addEventListener('message', onMessage);
  });
}
