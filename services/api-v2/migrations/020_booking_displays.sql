-- Per-display part of a booking: the loop slot it occupies there and the price quoted for it
-- (the display's price may change later; the quote must not). Also lets operators find the
-- bookings on their displays without scanning every window row.
create table booking_displays (
  booking_id uuid not null references bookings (id) on delete cascade,
  display_id uuid not null references displays (id),
  slot integer not null check (slot >= 0),
  price bigint not null check (price >= 0),
  window_count integer not null check (window_count >= 1),
  primary key (booking_id, display_id)
);
create index booking_displays_display on booking_displays (display_id, booking_id);

-- Newest-first cursor pagination of booking lists.
create index bookings_created on bookings (created_at desc, id desc);
create index bookings_advertiser_created on bookings (advertiser_id, created_at desc, id desc);

-- An idempotent retry answers with the body the first request got.
alter table idempotency_keys add column response jsonb;
