-- Operators decide what their screens show (issue 13.1, 13.2).
--
-- Content policy: on a 'review' display a booking's creative reaches the screen only once the
-- display's operator approved it (booking_display_creatives gets its row at that moment); on an
-- 'auto' display at confirmation, as before. Existing displays keep playing what they play
-- ('auto'); displays created from now on default to 'review'.
alter table displays add column content_policy text not null default 'auto' check (content_policy in ('review', 'auto'));
alter table displays alter column content_policy set default 'review';

-- One decision per operator and creative: approving once covers all of that operator's displays.
create table creative_approvals (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null,
  creative_id uuid not null references creatives (id) on delete cascade,
  state text not null default 'pending' check (state in ('pending', 'approved', 'rejected')),
  reason text check (reason is null or length(reason) between 1 and 500),
  decided_by uuid,
  decided_at timestamptz,
  created_at timestamptz not null default now(),
  unique (operator_id, creative_id),
  check ((state = 'rejected') = (reason is not null)),
  check ((state = 'pending') = (decided_at is null))
);
-- The review queue: an operator's (or everyone's) approvals in one state, oldest first.
create index creative_approvals_queue on creative_approvals (operator_id, state, created_at, id);
create index creative_approvals_state on creative_approvals (state, created_at, id);

-- Advertisers an operator trusts: their creatives need no review on that operator's displays.
create table trusted_advertisers (
  id uuid primary key default gen_random_uuid(),
  operator_id uuid not null,
  advertiser_id uuid not null,
  created_at timestamptz not null default now(),
  unique (operator_id, advertiser_id)
);

-- House content: one of the operator's own (or approved) creatives, played in slots no booking
-- shows anything in. Never a paid play (its entries carry no booking).
alter table displays add column house_creative_id uuid references creatives (id);

-- Emergencies: the text of a message (its bytes are the media), and the list order.
alter table emergencies add column message text check (message is null or length(message) between 1 and 2000);
alter table emergencies add column created_at timestamptz not null default now();
create index emergencies_active on emergencies (created_at, id) where cleared_at is null;
