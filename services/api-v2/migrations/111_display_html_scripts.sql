-- The operator's choice whether HTML creatives may run scripts on this display (still sandboxed,
-- no network but their media). Off unless the operator turns it on; playlists carry it per entry.
alter table displays add column html_scripts boolean not null default false;
