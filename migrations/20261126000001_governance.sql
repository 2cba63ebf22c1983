-- Why: identity, access, audit and the event outbox. Every later context writes
-- its changes through audit_log and event in the same transaction as the change.
-- Portable subset only (see docs/architecture.md): TEXT ids, BIGINT microsecond
-- instants, SMALLINT flags, TEXT JSON.

create table app_user (
    user_id text primary key,
    email text not null,
    name text not null,
    role text not null,
    password_hash text not null,
    scope_json text not null default '{}',
    active smallint not null default 1,
    version bigint not null default 1,
    created_at bigint not null,
    updated_at bigint not null,
    constraint app_user_email_key unique (email)
);

-- A session row is keyed by the SHA-256 of the cookie value, so a leaked
-- database does not hand out live sessions.
create table user_session (
    session_id text primary key,
    user_id text not null references app_user (user_id),
    created_at bigint not null,
    expires_at bigint not null
);
create index user_session_user_idx on user_session (user_id);

create table api_token (
    token_id text primary key,
    name text not null,
    role text not null,
    token_hash text not null,
    scope_json text not null default '{}',
    created_by text not null,
    created_at bigint not null,
    revoked_at bigint,
    constraint api_token_hash_key unique (token_hash)
);

-- Failed and successful sign-ins, for throttling and for the security trail.
create table sign_in_attempt (
    attempt_id text primary key,
    email text not null,
    remote text not null,
    succeeded smallint not null,
    created_at bigint not null
);
create index sign_in_attempt_email_idx on sign_in_attempt (email, created_at);
create index sign_in_attempt_remote_idx on sign_in_attempt (remote, created_at);

create table audit_log (
    audit_id text primary key,
    occurred_at bigint not null,
    actor_kind text not null,
    actor_id text,
    actor_name text not null,
    request_id text,
    action text not null,
    entity text not null,
    entity_id text not null,
    before_json text,
    after_json text
);
create index audit_log_time_idx on audit_log (occurred_at, audit_id);
create index audit_log_entity_idx on audit_log (entity, occurred_at);
create index audit_log_actor_idx on audit_log (actor_id, occurred_at);

-- The outbox. seq comes from sequence_counter inside the writing transaction,
-- which serialises writers at commit, so seq order is commit order and a reader
-- tailing "after N" never skips an event that commits later with a lower number.
create table event (
    seq bigint primary key,
    event_id text not null,
    event_type text not null,
    version integer not null,
    entity text not null,
    entity_id text not null,
    actor_kind text not null,
    actor_id text,
    actor_name text not null,
    request_id text,
    payload text not null,
    occurred_at bigint not null,
    constraint event_id_key unique (event_id)
);
create index event_entity_idx on event (entity, entity_id, seq);

create table sequence_counter (
    name text primary key,
    value bigint not null
);
insert into sequence_counter (name, value) values ('event', 0);

-- Idempotency-Key: the key and the saved response are written in the same
-- transaction as the effect, so a replay returns exactly the first result.
create table idempotency_key (
    scope text not null,
    idem_key text not null,
    request_hash text not null,
    response text not null,
    created_at bigint not null,
    primary key (scope, idem_key)
);
