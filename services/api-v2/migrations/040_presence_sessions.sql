-- Which device-tcp session currently holds each display, so a late "disconnected" from a replaced
-- session (possibly on another replica) cannot mark a reconnected display offline.
alter table displays add column session_id text, add column session_instance text;
create index displays_online_seen on displays (last_seen_at) where online;
