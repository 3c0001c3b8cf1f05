/*
 * A labelled form control with its error shown right under it. The error is tied to the control
 * (aria-describedby, aria-invalid), so a screen reader reads it with the field and tests can find
 * it from the field's label.
 */
import type { ComponentChildren, JSX } from 'preact';

interface FieldProps extends Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'id' | 'label'> {
  id: string;
  label: string;
  error?: string | null;
  help?: ComponentChildren;
}

export function Field({ id, label, error, help, ...input }: FieldProps) {
  const described = [help ? `${id}-help` : '', error ? `${id}-error` : '']
    .filter(Boolean)
    .join(' ');
  return (
    <div class={`field${error ? ' field-invalid' : ''}`}>
      <label for={id}>{label}</label>
      <input
        id={id}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={described || undefined}
        {...input}
      />
      {help && (
        <p id={`${id}-help`} class="field-help">
          {help}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} class="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/* A message for the whole form (an error that belongs to no single field). */
export function FormError({ message, hint }: { message: string | null; hint?: string | null }) {
  if (!message) return null;
  return (
    <div class="form-error" role="alert">
      <p>{message}</p>
      {hint && <p class="form-error-hint">{hint}</p>}
    </div>
  );
}
