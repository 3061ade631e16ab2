-- A playlist covers the next 48 h from when its version was made. A display whose playlist does
-- not change for that long would run past its validUntil and show nothing, so api-v2 renews
-- playlists that have not changed for a day (src/playlists/renewal.ts): this is when a display's
-- current playlist version was made.
alter table displays add column playlist_since timestamptz not null default now();
