-- Whether each projection covers every record: built from the records by a
-- rebuild, or following the outbox. The cursor alone can't say: a rebuild
-- of records loaded without events (bulk loads, `keel bench`) leaves it at
-- 0, and `keel serve` then rebuilt on every start, holding SQLite's writer
-- for the length of a rebuild while orders waited.
alter table projection_cursor add column built smallint not null default 0;
update projection_cursor set built = 1 where seq > 0;
