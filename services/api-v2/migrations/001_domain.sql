-- The ad domain, owned by api-v2. User ids come from the account service (no FK across services).
create extension if not exists btree_gist;

create table displays (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null,
  name text not null,
  address text not null default '',
  lat double precision not null check (lat between -90 and 90),
  lng double precision not null check (lng between -180 and 180),
  timezone text not null,
  width_px integer not null check (width_px between 1 and 16384),
  height_px integer not null check (height_px between 1 and 16384),
  orientation text not null check (orientation in ('landscape', 'portrait')),
  tags text[] not null default '{}',
  loop_length_ms integer not null check (loop_length_ms between 1000 and 3600000),
  slot_count integer not null check (slot_count between 1 and 360),
  price_per_slot_hour bigint not null check (price_per_slot_hour >= 0),
  currency char(3) not null default 'EUR',
  audience_multiplier numeric(12, 3) not null default 1 check (audience_multiplier >= 0),
  status text not null default 'pending' check (status in ('pending', 'active', 'disabled')),
  -- Device credential: SHA-256 of a 256-bit random secret shown once. Rotation replaces it.
  credential_hash bytea not null,
  credential_rotated_at timestamptz not null default now(),
  -- Bumped (in the same transaction) by every change to what this display plays.
  playlist_version bigint not null default 1,
  -- Presence, reported by device-tcp.
  online boolean not null default false,
  last_seen_at timestamptz,
  applied_version bigint,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (slot_count <= loop_length_ms / 1000)
);
create index displays_operator on displays (operator_id, id);
create index displays_status on displays (status, id);
create index displays_tags on displays using gin (tags);

create table display_events (
  id bigserial primary key,
  display_id uuid not null references displays (id) on delete cascade,
  kind text not null,
  at timestamptz not null default now(),
  detail jsonb not null default '{}'
);
create index display_events_display on display_events (display_id, at desc);

-- Content-addressed media. Bytes live in a Postgres large object, so any replica on any node
-- can serve them (no container-local disk).
create table media (
  sha256 char(64) primary key check (sha256 ~ '^[0-9a-f]{64}$'),
  content_type text not null,
  size_bytes bigint not null check (size_bytes >= 0),
  lo_oid oid not null,
  created_at timestamptz not null default now()
);

create table uploads (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null,
  content_type text not null,
  total_bytes bigint not null check (total_bytes > 0),
  received_bytes bigint not null default 0,
  expected_sha256 char(64),
  lo_oid oid not null,
  status text not null default 'open' check (status in ('open', 'completed', 'aborted')),
  media_sha256 char(64) references media (sha256),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index uploads_owner on uploads (owner_id, created_at desc);

create table creatives (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null,
  name text not null,
  type text not null check (type in ('image', 'video', 'html', 'text')),
  media_sha256 char(64) references media (sha256),
  body text,
  duration_ms integer not null check (duration_ms between 1000 and 3600000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((type in ('image', 'video') and media_sha256 is not null) or (type in ('html', 'text') and body is not null))
);
create index creatives_owner on creatives (owner_id, id);

create table bookings (
  id uuid primary key default gen_random_uuid(),
  advertiser_id uuid not null,
  creative_id uuid not null references creatives (id),
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  status text not null check (status in ('held', 'booked', 'cancelled', 'expired')),
  hold_expires_at timestamptz,
  price_total bigint not null,
  currency char(3) not null,
  daypart jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  confirmed_at timestamptz,
  cancelled_at timestamptz,
  check (ends_at > starts_at)
);
create index bookings_advertiser on bookings (advertiser_id, id);
create index bookings_held_expiry on bookings (hold_expires_at) where status = 'held';

-- What a booking occupies: one loop slot of one display over one time range. The exclusion
-- constraint makes overbooking impossible whatever the application does under concurrency.
create table booking_slots (
  booking_id uuid not null references bookings (id) on delete cascade,
  display_id uuid not null references displays (id),
  slot integer not null check (slot >= 0),
  during tstzrange not null check (not isempty(during)),
  active boolean not null default true,
  constraint booking_slots_no_overbooking exclude using gist (display_id with =, slot with =, during with &&) where (active)
);
create index booking_slots_booking on booking_slots (booking_id);
create index booking_slots_display_during on booking_slots using gist (display_id, during) where (active);

create table idempotency_keys (
  owner_id uuid not null,
  key text not null,
  request_hash bytea not null,
  booking_id uuid not null references bookings (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (owner_id, key)
);

-- Proof of play: the device's own play id makes every delivery after the first a no-op.
create table plays (
  play_id uuid primary key,
  display_id uuid not null references displays (id),
  booking_id uuid not null references bookings (id),
  creative_id uuid not null,
  started_at timestamptz not null,
  duration_ms integer not null check (duration_ms >= 0),
  received_at timestamptz not null default now()
);
create index plays_booking_time on plays (booking_id, started_at);

create table display_commands (
  id uuid primary key default gen_random_uuid(),
  display_id uuid not null references displays (id) on delete cascade,
  kind text not null check (kind in ('reload', 'screenshot')),
  args jsonb not null default '{}',
  status text not null default 'pending' check (status in ('pending', 'delivered', 'succeeded', 'failed', 'expired')),
  created_by uuid not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  delivered_at timestamptz,
  completed_at timestamptz,
  result jsonb
);
create index display_commands_pending on display_commands (display_id, created_at) where status in ('pending', 'delivered');
