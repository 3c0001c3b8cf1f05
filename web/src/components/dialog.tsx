/*
 * A modal dialog built on the native <dialog> element (showModal makes the rest of the page inert
 * and gives the dialog the "dialog" role), plus what the element leaves out: Tab and Shift+Tab
 * stay inside the dialog, Escape closes it through onClose (so the owner's state stays the truth),
 * and focus returns to the control that opened it.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), ' +
  'textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

interface DialogProps {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  /* Extra class for sizing ("dialog-wide"). */
  class?: string;
}

let nextId = 0;

export function Dialog({ title, onClose, children, class: extra }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useRef(`dialog-title-${++nextId}`).current;
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  useEffect(() => {
    const dlg = ref.current;
    if (!dlg) return undefined;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dlg.showModal();
    const first =
      dlg.querySelector<HTMLElement>('[data-autofocus]') ??
      dlg.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();

    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        closeRef.current();
        return;
      }
      if (e.key !== 'Tab') return;
      const items = Array.from(dlg.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
        (el) => el.offsetParent !== null || el === document.activeElement,
      );
      if (items.length === 0) {
        e.preventDefault();
        return;
      }
      const firstEl = items[0];
      const lastEl = items[items.length - 1];
      const active = document.activeElement;
      if (e.shiftKey && (active === firstEl || !dlg.contains(active))) {
        e.preventDefault();
        lastEl.focus();
      } else if (!e.shiftKey && (active === lastEl || !dlg.contains(active))) {
        e.preventDefault();
        firstEl.focus();
      }
    };
    /* The browser's own Escape handling would close the element behind our back. */
    const onCancel = (e: Event) => {
      e.preventDefault();
      closeRef.current();
    };
    dlg.addEventListener('keydown', onKey);
    dlg.addEventListener('cancel', onCancel);
    return () => {
      dlg.removeEventListener('keydown', onKey);
      dlg.removeEventListener('cancel', onCancel);
      if (dlg.open) dlg.close();
      if (opener && opener.isConnected) opener.focus();
    };
  }, []);

  return (
    <dialog ref={ref} class={`dialog ${extra ?? ''}`} aria-labelledby={titleId}>
      <div class="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="icon-button" aria-label="Close" onClick={() => onClose()}>
          <span aria-hidden="true">×</span>
        </button>
      </div>
      <div class="dialog-body">{children}</div>
    </dialog>
  );
}

/*
 * The two buttons that end a confirmation dialog: Cancel (focused first, so Enter never
 * confirms by accident) and the destructive action, which shows busyLabel while it runs.
 */
export function ConfirmActions(props: {
  action: string;
  busyLabel: string;
  busy: boolean;
  onCancel: () => void;
  onConfirm: () => void;
}) {
  return (
    <div class="button-row button-row-end">
      <button type="button" class="button" onClick={props.onCancel} data-autofocus>
        Cancel
      </button>
      <button
        type="button"
        class="button button-danger"
        disabled={props.busy}
        onClick={props.onConfirm}
      >
        {props.busy ? props.busyLabel : props.action}
      </button>
    </div>
  );
}
