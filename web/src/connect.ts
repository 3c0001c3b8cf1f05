/*
 * Connecting an account (Zoom, Google, Microsoft) through the server's OAuth pages in a popup
 * (DESIGN §4): /oauth/{provider}/start redirects to the provider; the callback page posts a message
 * to this window's origin and closes. The promise settles when the popup reports or is closed; a
 * popup the browser blocked is an error that says how to allow it.
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

export interface ConnectResult {
  /* What the callback page said, when it said anything (it may just close). */
  message: unknown;
}

/* Longest wait for the popup, after which the page stops watching it. */
const MAX_WAIT_MS = 15 * 60 * 1000;

export function connectInPopup(provider: OAuthProvider): Promise<ConnectResult> {
  const w = 520;
  const h = 680;
  const left = Math.max(0, window.screenX + (window.outerWidth - w) / 2);
  const top = Math.max(0, window.screenY + (window.outerHeight - h) / 2);
  const popup = window.open(
    `/oauth/${provider}/start`,
    `calendox-connect-${provider}`,
    `popup=yes,width=${w},height=${h},left=${Math.round(left)},top=${Math.round(top)}`,
  );
  if (!popup) return Promise.reject(new PopupBlockedError());

  return new Promise((resolve) => {
    const started = Date.now();
    let message: unknown = null;
    const finish = () => {
      window.removeEventListener('message', onMessage);
      window.clearInterval(timer);
      resolve({ message });
    };
    const onMessage = (e: MessageEvent) => {
      if (e.origin !== window.location.origin || e.source !== popup) return;
      message = e.data;
      finish();
    };
    const timer = window.setInterval(() => {
      if (popup.closed || Date.now() - started > MAX_WAIT_MS) finish();
    }, 500);
    window.addEventListener('message', onMessage);
  });
}
