-- What each booking actually shows on each of its displays, and since when. A row is written in
-- the transaction that changes it (confirmation, a swap cleared for that display, later an
-- approval); the playlist builder plays the latest row, and proof of play checks a play against
-- the row in force when it started, so a play across a swap is attributed to the right creative.
create table booking_display_creatives (
  booking_id uuid not null,
  display_id uuid not null,
  creative_id uuid not null references creatives (id),
  since timestamptz not null,
  primary key (booking_id, display_id, since),
  foreign key (booking_id, display_id) references booking_displays (booking_id, display_id) on delete cascade
);

-- Until now a confirmed booking showed its current creative everywhere from confirmation on.
insert into booking_display_creatives (booking_id, display_id, creative_id, since)
select bd.booking_id, bd.display_id, b.creative_id, coalesce(b.confirmed_at, b.created_at)
from booking_displays bd join bookings b on b.id = bd.booking_id
where b.confirmed_at is not null;
