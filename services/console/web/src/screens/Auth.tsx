import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client.ts';
import { session } from '../api/session.ts';
import { ErrorMessage, Field } from '../components/ui.tsx';

export function LoginScreen() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const login = useMutation({
    mutationFn: () => unwrap(api.POST('/auth/login', { body: { username, password } })),
    onSuccess: (tokens) => session.signedIn(tokens),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate();
  };
  return (
    <main className="auth">
      <form onSubmit={submit} className="card auth-card" aria-labelledby="login-title">
        <h1 id="login-title">Sign in to Marquee</h1>
        <Field label="Username">{(id) => <input id={id} autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />}</Field>
        <Field label="Password">
          {(id) => <input id={id} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />}
        </Field>
        <ErrorMessage error={login.error} title="Could not sign in" />
        <button type="submit" className="primary" disabled={login.isPending}>
          {login.isPending ? 'Signing in…' : 'Sign in'}
        </button>
        <p>
          New here? <Link to="/signup">Create an account</Link>
        </p>
      </form>
    </main>
  );
}

export function SignupScreen() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [accountType, setAccountType] = useState<'advertiser' | 'operator'>('advertiser');
  const signup = useMutation({
    mutationFn: async () => {
      await unwrap(api.POST('/auth/signup', { body: { username, password, accountType } }));
      return unwrap(api.POST('/auth/login', { body: { username, password } }));
    },
    onSuccess: (tokens) => session.signedIn(tokens),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    signup.mutate();
  };
  return (
    <main className="auth">
      <form onSubmit={submit} className="card auth-card" aria-labelledby="signup-title">
        <h1 id="signup-title">Create a Marquee account</h1>
        <fieldset>
          <legend>I want to</legend>
          <label className="choice">
            <input type="radio" name="accountType" value="advertiser" checked={accountType === 'advertiser'} onChange={() => setAccountType('advertiser')} />
            advertise on screens (advertiser)
          </label>
          <label className="choice">
            <input type="radio" name="accountType" value="operator" checked={accountType === 'operator'} onChange={() => setAccountType('operator')} />
            offer my screens (operator)
          </label>
        </fieldset>
        <Field label="Username" hint="3 to 32 characters.">
          {(id, hint) => <input id={id} aria-describedby={hint} autoComplete="username" required minLength={3} maxLength={32} value={username} onChange={(e) => setUsername(e.target.value)} />}
        </Field>
        <Field label="Password" hint="At least 8 characters, not your username, not a common password.">
          {(id, hint) => (
            <input id={id} aria-describedby={hint} type="password" autoComplete="new-password" required minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} />
          )}
        </Field>
        <ErrorMessage error={signup.error} title="Could not create the account" />
        <button type="submit" className="primary" disabled={signup.isPending}>
          {signup.isPending ? 'Creating…' : 'Create account'}
        </button>
        <p>
          Already have an account? <Link to="/login">Sign in</Link>
        </p>
      </form>
    </main>
  );
}
