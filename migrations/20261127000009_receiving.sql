-- Receiving: deliveries a supplier announced (or opened blind at the dock),
-- received by scan and put away into bins. Each putaway is a stock receipt
-- on the ledger, in the same transaction as the delivery's own rows.

create table delivery (
    delivery_id text primary key,
    number text not null,
    warehouse_id text not null references warehouse (warehouse_id),
    supplier text not null default '',
    reference text,
    -- YYYY-MM-DD, or '' when not announced
    expected_on text not null default '',
    -- 1: opened at the dock without an announcement; any item is taken
    blind smallint not null,
    -- expected | receiving | closed
    status text not null,
    created_by text not null,
    created_at bigint not null,
    closed_by text,
    closed_at bigint,
    constraint delivery_number_key unique (number)
);
create index delivery_warehouse_idx on delivery (warehouse_id, status, created_at);

create table delivery_line (
    delivery_id text not null references delivery (delivery_id),
    line_no bigint not null,
    product_id text not null references product (product_id),
    -- 0 on a blind receipt
    expected bigint not null check (expected >= 0),
    received bigint not null default 0 check (received >= 0),
    primary key (delivery_id, line_no),
    constraint delivery_line_product_key unique (delivery_id, product_id)
);

create table delivery_put (
    put_id text primary key,
    delivery_id text not null references delivery (delivery_id),
    product_id text not null references product (product_id),
    location_id text not null references location (location_id),
    lot text not null default '',
    expires_on text not null default '',
    quantity bigint not null check (quantity > 0),
    put_by text not null,
    put_at bigint not null
);
create index delivery_put_idx on delivery_put (delivery_id, put_at);

-- What each agent scanned on a delivery and hasn't put away yet, so a scan
-- from another device or a replayed offline queue continues the same step.
create table delivery_scan (
    delivery_id text not null references delivery (delivery_id),
    agent text not null,
    -- lot | put
    step text not null,
    product_id text not null references product (product_id),
    lot text not null default '',
    expires_on text not null default '',
    quantity bigint not null check (quantity > 0),
    primary key (delivery_id, agent)
);

insert into sequence_counter (name, value) values ('delivery', 0);
