-- Emergency override: an operator (or admin) puts one message on chosen displays; it replaces
-- every slot until cleared. Plays that started while one was on a display are not billable.
-- `media_sha256` is the message (a text stored as media) or the chosen creative's media.
create table emergencies (
  id uuid primary key default gen_random_uuid(),
  created_by uuid not null,
  creative_id uuid references creatives (id),
  media_sha256 char(64) not null references media (sha256),
  started_at timestamptz not null default now(),
  cleared_at timestamptz,
  cleared_by uuid,
  check (cleared_at is null or cleared_at >= started_at)
);

create table emergency_displays (
  emergency_id uuid not null references emergencies (id) on delete cascade,
  display_id uuid not null references displays (id) on delete cascade,
  primary key (emergency_id, display_id)
);
create index emergency_displays_display on emergency_displays (display_id);
