-- A booking slot must name a slot that exists in its display's loop. Reading the display row
-- FOR KEY SHARE makes this race-free against a concurrent loop change (which locks the row FOR
-- UPDATE and refuses to strand existing slots): one of the two waits for the other. KEY SHARE
-- (what the foreign key takes anyway) does not conflict with the plain UPDATE of a playlist
-- version bump, so booking flows that insert slots and bump versions cannot deadlock on it.
create function booking_slot_within_loop() returns trigger language plpgsql as $$
declare
  loop_slots integer;
begin
  if not new.active then
    return new;
  end if;
  select slot_count into loop_slots from displays where id = new.display_id for key share;
  if loop_slots is not null and new.slot >= loop_slots then
    raise exception 'slot % does not exist on display % (slot_count %)', new.slot, new.display_id, loop_slots
      using errcode = 'check_violation', constraint = 'booking_slots_within_loop';
  end if;
  return new;
end;
$$;

create trigger booking_slots_within_loop
  before insert or update of slot, display_id, active on booking_slots
  for each row execute function booking_slot_within_loop();
