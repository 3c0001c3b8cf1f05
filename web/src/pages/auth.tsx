/*
 * Sign in and sign up. Both forms validate what they can before sending (so a person sees the
 * problem next to the field at once) and place the server's errors next to the field they are
 * about: a wrong password under "Password", a taken address under "Email". Errors that concern no
 * single field (too many attempts, no connection) show above the button.
 */
import { useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { api, ApiError } from '../api';
import { Field, FormError } from '../components/field';
import { Link, navigate } from '../router';
import { useSession } from '../session';

type FieldName = 'email' | 'password' | 'name';
type Errors = Partial<Record<FieldName, string>>;

const MIN_PASSWORD = 10;

function looksLikeEmail(s: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s);
}

/* Which field an API error is about, from its code and, for invalid_request, its message. */
function fieldOf(e: ApiError, fields: FieldName[]): FieldName | null {
  if (e.code === 'email_taken') return 'email';
  if (e.code === 'invalid_credentials') return 'password';
  if (e.code === 'invalid_request') {
    const m = e.message.toLowerCase();
    for (const f of fields) if (m.includes(f)) return f;
  }
  return null;
}

interface FormState {
  errors: Errors;
  formError: { message: string; hint: string | null } | null;
  busy: boolean;
}

const IDLE: FormState = { errors: {}, formError: null, busy: false };

function useAuthForm(fields: FieldName[]) {
  const [state, setState] = useState<FormState>(IDLE);
  const { refresh } = useSession();

  async function submit(errors: Errors, send: () => Promise<unknown>) {
    if (Object.keys(errors).length > 0) {
      setState({ errors, formError: null, busy: false });
      return;
    }
    setState({ errors: {}, formError: null, busy: true });
    try {
      await send();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const f = fieldOf(e, fields);
      const message = e.hint ? `${e.message} ${e.hint}` : e.message;
      if (f) setState({ errors: { [f]: message }, formError: null, busy: false });
      else setState({ errors: {}, formError: { message: e.message, hint: e.hint }, busy: false });
      return;
    }
    const s = await refresh();
    setState(IDLE);
    if (s.kind === 'signed_in') navigate('/dashboard', true);
  }

  return { state, submit };
}

function AuthFrame({ title, children }: { title: string; children: JSX.Element | JSX.Element[] }) {
  return (
    <main class="auth" id="main">
      <div class="auth-card">
        <p class="brand brand-large">Calendox</p>
        <h1>{title}</h1>
        {children}
      </div>
    </main>
  );
}

export function SignInPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { state, submit } = useAuthForm(['email', 'password']);

  const onSubmit = (e: Event) => {
    e.preventDefault();
    const errors: Errors = {};
    if (!looksLikeEmail(email.trim())) errors.email = 'Enter your email address.';
    if (!password) errors.password = 'Enter your password.';
    void submit(errors, () => api.login(email.trim(), password));
  };

  return (
    <AuthFrame title="Sign in">
      <form onSubmit={onSubmit} noValidate>
        <Field
          id="email"
          label="Email"
          type="email"
          autocomplete="username"
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
          error={state.errors.email}
        />
        <Field
          id="password"
          label="Password"
          type="password"
          autocomplete="current-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          error={state.errors.password}
        />
        <FormError message={state.formError?.message ?? null} hint={state.formError?.hint} />
        <button type="submit" class="button button-primary button-block" disabled={state.busy}>
          Sign in
        </button>
      </form>
      <p class="auth-switch">
        New to Calendox? <Link href="/signup">Create an account</Link>
      </p>
    </AuthFrame>
  );
}

export function SignUpPage() {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { state, submit } = useAuthForm(['email', 'password', 'name']);

  const onSubmit = (e: Event) => {
    e.preventDefault();
    const errors: Errors = {};
    if (!name.trim()) errors.name = 'Enter your name.';
    if (!looksLikeEmail(email.trim())) errors.email = 'Enter a valid email address.';
    if (password.length < MIN_PASSWORD)
      errors.password = `The password must be at least ${MIN_PASSWORD} characters long.`;
    void submit(errors, () => api.signup(email.trim(), password, name.trim()));
  };

  return (
    <AuthFrame title="Create your account">
      <p class="lead">Start with a free 14-day trial that includes everything.</p>
      <form onSubmit={onSubmit} noValidate>
        <Field
          id="name"
          label="Name"
          type="text"
          autocomplete="name"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          error={state.errors.name}
        />
        <Field
          id="email"
          label="Email"
          type="email"
          autocomplete="email"
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
          error={state.errors.email}
        />
        <Field
          id="password"
          label="Password"
          type="password"
          autocomplete="new-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          error={state.errors.password}
          help={`At least ${MIN_PASSWORD} characters.`}
        />
        <FormError message={state.formError?.message ?? null} hint={state.formError?.hint} />
        <button type="submit" class="button button-primary button-block" disabled={state.busy}>
          Sign up
        </button>
      </form>
      <p class="auth-switch">
        Already have an account? <Link href="/login">Sign in</Link>
      </p>
    </AuthFrame>
  );
}
