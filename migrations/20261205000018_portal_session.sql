-- Trust (#19 item 5): the returns portal's short sessions, and one attempt
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
