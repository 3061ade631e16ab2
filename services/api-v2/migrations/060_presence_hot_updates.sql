-- Presence rewrites last_seen_at/applied_version of every connected display about every 45 s and
-- after every playlist change. With last_seen_at indexed, each such write was a full (non-HOT)
-- update touching every index of displays: 10 000 "seen" took ~215 ms and 7.5 WAL records per row.
-- Without that index, and with room left on each page, they are HOT updates: ~122 ms, 2.6 WAL
-- records per row (same 10 000 displays, applyPresence in batches of 1 000, four rounds each).
-- The presence sweeper now reads the online displays every few seconds instead, which is cheap.
-- Pages written before this migration get their free space as rows move; no table rewrite here.
drop index if exists displays_online_seen;
alter table displays set (fillfactor = 80);
