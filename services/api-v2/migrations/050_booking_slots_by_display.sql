-- Playlists are built for many displays at once (display_id = any(...)): a btree answers that
-- directly. The gist index (display_id, during) cannot use an array of ids, so the planner fell
-- back to scanning every active slot in the window once per booking (~150 ms per 1 000 displays).
create index booking_slots_active_display on booking_slots (display_id, slot) where active;
