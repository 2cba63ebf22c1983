-- Trust (#19, privacy): erasing a customer on request; and two more
-- four-eyes policies (at the end).
--
-- An erased customer keeps their id (their orders still add up) and the
-- time they were erased; everything that identifies them is rewritten.
alter table customer add column erased_at bigint;

-- Audit rows that named the customer are rewritten too, without breaking
-- the chain: a row's JSON enters its chain hash by its SHA-256 digest, so a
-- rewritten row keeps the digests of what it said (`before_sha`,
-- `after_sha`) and names the erasure that rewrote it (`erased_by`, the
-- erasure's own audit row, which lists every row it rewrote). `keel check`
-- verifies both.
alter table audit_log add column before_sha text;
alter table audit_log add column after_sha text;
alter table audit_log add column erased_by text;

-- The chain is new in this release and its row hash changed with the above,
-- so rows sealed under the first definition are sealed again, once.
update audit_log set chain_no = null, chain_hash = null;

-- Trust (#19, four eyes): two more kinds of change a policy can hold. Both
-- start off, since a new shop's one administrator sets up its channels and
-- prices alone; turn them on once more than one person runs the shop.
alter table approval_policy add column threshold_percent bigint;
insert into approval_policy (kind, active, threshold_minor, threshold_percent, updated_by, updated_at)
values ('price_override', 0, null, 20, 'migration', 0),
       ('channel_change', 0, null, null, 'migration', 0);
