-- Every playlist entry is media (docs/display-protocol.md §6): a text or HTML creative's body is
-- also stored as media, its exact UTF-8 bytes under their SHA-256, so displays download and verify
-- it like an image. `body` stays (the API still shows it). The database does it, on every insert
-- (the API's and any seed's alike), so no creative can exist without the media displays need.
-- Identical bodies share one media row; the advisory lock keeps two writers of the same new body
-- from both making a large object.
create function creatives_body_as_media() returns trigger language plpgsql as $$
declare
  bytes bytea;
  digest text;
begin
  if new.type not in ('html', 'text') or new.body is null then
    return new;
  end if;
  bytes := convert_to(new.body, 'UTF8');
  digest := encode(sha256(bytes), 'hex');
  perform pg_advisory_xact_lock(hashtextextended('media:' || digest, 0));
  if not exists (select 1 from media where sha256 = digest) then
    insert into media (sha256, content_type, size_bytes, lo_oid)
    values (digest,
      case new.type when 'html' then 'text/html; charset=utf-8' else 'text/plain; charset=utf-8' end,
      length(bytes), lo_from_bytea(0, bytes));
  end if;
  new.media_sha256 := digest;
  return new;
end;
$$;

create trigger creatives_body_as_media before insert or update of body on creatives
  for each row execute function creatives_body_as_media();

-- Existing text/HTML creatives: the trigger does the work.
update creatives set body = body where type in ('html', 'text') and media_sha256 is null;

alter table creatives alter column media_sha256 set not null;
