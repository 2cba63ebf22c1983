-- The rest of the command center's queues (#6): low stock, refused
-- oversells and rejected webhooks.

-- The level at or below which a warehouse should reorder an item. Planning
-- data, kept apart from stock_level (which the ledger derives) so setting
-- one never touches the stock figures `keel check` re-derives.
create table reorder_point (
    product_id text not null references product (product_id),
    warehouse_id text not null references warehouse (warehouse_id),
    units bigint not null check (units > 0),
    updated_at bigint not null,
    updated_by text not null,
    primary key (product_id, warehouse_id)
);

-- Things that were refused rather than recorded: a reservation that would
-- have oversold an item, a webhook delivery that failed its signature or
-- could not be read. The refused request leaves nothing behind, so each is
-- counted here, in its own transaction after the refusal. Repeats of the
-- same kind for the same subject add to the open incident (one row however
-- many attempts) until a person resolves its exception; the next attempt
-- after that opens a new one.
create table incident (
    incident_id text primary key,
    -- oversell_refused | webhook_rejected
    kind text not null,
    -- The product or channel it is about, and what a person calls it.
    subject_id text not null,
    subject_ref text not null,
    -- Where it happened (the channel of a webhook, the warehouse scope is
    -- not known for a reservation refused across warehouses).
    channel_code text,
    occurrences bigint not null,
    first_at bigint not null,
    last_at bigint not null,
    last_detail text not null,
    last_actor text not null,
    resolved_at bigint,
    version bigint not null default 1
);
create unique index incident_open_key on incident (kind, subject_id) where resolved_at is null;
