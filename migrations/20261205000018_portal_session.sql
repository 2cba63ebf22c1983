-- Trust (#19 item 5 and operations): the returns portal's short sessions, one attempt
-- counter for every throttle (sign-in per account and address, portal
-- lookups per order and per address), so each is one atomic upsert.
alter table sign_in_throttle rename to attempt_throttle;

-- A proven lookup opens a session that sees one order. Only the secret's
-- hash is stored, as for staff sessions.
create table portal_session (
    session_id text primary key,
    order_id text not null references sales_order (order_id),
    created_at bigint not null,
    expires_at bigint not null
);
create index portal_session_expiry on portal_session (expires_at);

-- Trust (#19, operations): readiness writes this one row, so a database that
-- reads but can't write (a full disk, a read-only file) is not "ready".
create table health_probe (
    probe_id integer primary key,
    checked_at bigint not null
);
insert into health_probe (probe_id, checked_at) values (1, 0);

-- Trust (#19 item 13): secrets Keel makes for itself and shares between its
-- instances. `messages` signs the notices and errors a form puts into the
-- address it redirects to, so a page shows only text Keel wrote.
create table site_secret (
    name text primary key,
    secret text not null
);

-- Trust (#19 governance): the audit log is a hash chain. A sealer numbers
-- rows in the order it seals them (`chain_no`) and stores
-- sha256(previous hash, the row's content); `keel check` recomputes it and
-- names the first row that no longer matches. Sealing runs beside the
-- writers, so recording an audit row takes no extra lock.
alter table audit_log add column chain_no bigint;
alter table audit_log add column chain_hash text;
create unique index audit_log_chain_idx on audit_log (chain_no);
