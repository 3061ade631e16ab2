-- One way text becomes media (docs/display-protocol.md §6): `text_as_media`, in the database, so
-- it holds for every writer (api-v2, api-v1's facade through it, seeds, a direct update). The
-- creatives trigger of 110 now calls it, and an emergency's message is stored by it too (api-v2
-- used to hash and store those bytes itself). Returns the SHA-256 of the text's exact UTF-8 bytes;
-- identical bytes are stored once: a writer that loses the race to store them (another text, or an
-- upload of the same bytes) drops the large object it made. It runs as its owner, api-v2's role, so
-- the large object is api-v2's even when a superuser writes the text (api-v2 could not read one
-- owned by another role), and with the search_path it was created with.
create function text_as_media(text_body text, media_type text) returns text language plpgsql
security definer set search_path from current as $$
declare
  bytes bytea := convert_to(text_body, 'UTF8');
  digest text := encode(sha256(bytes), 'hex');
  lo oid;
begin
  if exists (select 1 from media where sha256 = digest) then
    return digest;
  end if;
  lo := lo_from_bytea(0, bytes);
  insert into media (sha256, content_type, size_bytes, lo_oid) values (digest, media_type, length(bytes), lo)
    on conflict (sha256) do nothing;
  if not found then
    perform lo_unlink(lo);
  end if;
  return digest;
end;
$$;

create or replace function creatives_body_as_media() returns trigger language plpgsql as $$
begin
  if new.type in ('html', 'text') and new.body is not null then
    new.media_sha256 := text_as_media(new.body,
      case new.type when 'html' then 'text/html; charset=utf-8' else 'text/plain; charset=utf-8' end);
  end if;
  return new;
end;
$$;

create function emergencies_message_as_media() returns trigger language plpgsql as $$
begin
  if new.message is not null then
    new.media_sha256 := text_as_media(new.message, 'text/plain; charset=utf-8');
  end if;
  return new;
end;
$$;

create trigger emergencies_message_as_media before insert or update of message on emergencies
  for each row execute function emergencies_message_as_media();
