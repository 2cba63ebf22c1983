-- Why: the demo retailer's warehouses and sales channels exist from the first
-- seed; inventory (#3) and order capture (#4) extend these tables.

create table warehouse (
    warehouse_id text primary key,
    code text not null,
    name text not null,
    active smallint not null default 1,
    version bigint not null default 1,
    created_at bigint not null,
    updated_at bigint not null,
    constraint warehouse_code_key unique (code)
);

create table channel (
    channel_id text primary key,
    code text not null,
    name text not null,
    kind text not null,
    currency text not null,
    -- Warehouse codes this channel may ship from, in priority order (JSON array).
    warehouses_json text not null default '[]',
    webhook_secret text,
    active smallint not null default 1,
    version bigint not null default 1,
    created_at bigint not null,
    updated_at bigint not null,
    constraint channel_code_key unique (code)
);

-- The order header as the returns portal and the order list need it; #4 adds
-- lines, holds and the state machine.
create table sales_order (
    order_id text primary key,
    channel_id text not null references channel (channel_id),
    number text not null,
    external_id text not null,
    customer_email text not null,
    ship_postcode text not null,
    status text not null,
    currency text not null,
    total_minor bigint not null,
    placed_at bigint not null,
    version bigint not null default 1,
    created_at bigint not null,
    updated_at bigint not null,
    constraint sales_order_number_key unique (number),
    constraint sales_order_channel_external_key unique (channel_id, external_id)
);
create index sales_order_placed_idx on sales_order (placed_at, order_id);
create index sales_order_status_idx on sales_order (status, placed_at);
