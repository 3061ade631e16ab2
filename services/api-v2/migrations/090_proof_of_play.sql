-- Proof of play an advertiser can be billed on (src/plays/ingest.ts validates every play).

-- Impressions are frozen at play time: each play keeps the audience multiplier its display had
-- when the play was stored; a later change of the multiplier affects later plays only. Plays
-- stored before this migration take the display's multiplier of today (the best record there is).
alter table plays add column audience_multiplier numeric(12, 3);
update plays p set audience_multiplier = d.audience_multiplier from displays d where d.id = p.display_id;
alter table plays alter column audience_multiplier set not null,
  add constraint plays_audience_multiplier_check check (audience_multiplier >= 0);

-- The slot occurrence (floor((startedAt - Unix epoch) / slotMs) of the booking's slot) a play was
-- counted for: a booking earns at most one play per occurrence on a display. Plays stored before
-- validation existed have none (null: never in conflict).
alter table plays add column slot_occurrence bigint;
create unique index plays_one_per_occurrence on plays (booking_id, display_id, slot_occurrence);

-- Overlap checks and per-display reads look plays up by display and time.
create index plays_display_time on plays (display_id, started_at);

-- Rejected plays, counted per display and rejection code, so an operator sees a player that lies.
create table play_rejections (
  display_id uuid not null references displays (id) on delete cascade,
  code text not null,
  rejected bigint not null check (rejected > 0),
  first_at timestamptz not null,
  last_at timestamptz not null,
  -- The most recent rejection's explanation, as the display was told.
  last_detail text not null,
  primary key (display_id, code)
);
