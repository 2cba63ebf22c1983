-- Trust (#19, governance): four eyes as data. The policy table says which
-- changes wait for a second person and above what; a held change waits in
-- pending_change until someone else approves (applied in the same
-- transaction) or rejects it.
create table approval_policy (
    kind text primary key,
    active smallint not null,
    -- Stock adjustments: value at cost in minor units above which they wait.
    threshold_minor bigint,
    updated_by text not null,
    updated_at bigint not null
);
insert into approval_policy (kind, active, threshold_minor, updated_by, updated_at)
values ('stock_adjustment', 1, 25000, 'migration', 0),
       ('role_change', 1, null, 'migration', 0);

create table pending_change (
    change_id text primary key,
    kind text not null,
    -- What the change does, in words, for the approver.
    summary text not null,
    -- The request as the use case reads it, applied as is on approval.
    payload_json text not null,
    requested_by text not null,
    requested_at bigint not null,
    -- pending | applied | rejected
    status text not null,
    decided_by text,
    decided_at bigint,
    decision_note text,
    version bigint not null
);
create index pending_change_status_idx on pending_change (status, requested_at);
