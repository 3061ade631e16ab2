-- A play's occurrence is named by the instant it starts (ms since the Unix epoch), not by its
-- index: the index counts slots of the display's slot length, so after a loop change (2 slots of
-- 1 s → 1 slot of 2 s) index 2n of the old loop and index 2n of the new one are different
-- occurrences, and a valid play was refused as a duplicate of a play seconds or hours away.
-- One start instant is one occurrence in any loop; the unique index keeps one play per occurrence.
alter table plays rename column slot_occurrence to occurrence_start_ms;
update plays p set occurrence_start_ms = round(p.occurrence_start_ms * d.loop_length_ms::numeric / d.slot_count)
from displays d
where d.id = p.display_id and p.occurrence_start_ms is not null;
