-- Identities and refresh-token families, owned by the account service.
create table users (
  id uuid primary key default gen_random_uuid(),
  username text not null,
  role text not null check (role in ('advertiser', 'operator', 'admin')),
  password_hash text not null,
  created_at timestamptz not null default now()
);
-- Names are unique whatever their letter case; the original spelling is kept for display.
create unique index users_username_ci on users (lower(username));

-- One row per refresh token ever issued. A login starts a family; each refresh rotates within it.
-- Presenting a token that was already rotated means it leaked: the whole family is revoked.
create table refresh_tokens (
  id uuid primary key default gen_random_uuid(),
  family_id uuid not null,
  user_id uuid not null references users (id) on delete cascade,
  token_hash bytea not null unique,
  issued_at timestamptz not null default now(),
  expires_at timestamptz not null,
  rotated_at timestamptz,
  revoked_at timestamptz
);
create index refresh_tokens_family on refresh_tokens (family_id);
create index refresh_tokens_expiry on refresh_tokens (expires_at);
