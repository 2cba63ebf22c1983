-- Why: the catalogue and the stock ledger every channel reserves from (#3).
-- Invariants, enforced by conditional updates in backend::inventory and
-- re-derived from the ledger by `keel check`:
--   stock_balance.on_hand = sum(stock_movement.quantity) per (product, location, lot)
--   stock_level.on_hand   = sum(stock_balance.on_hand) per (product, warehouse)
--   stock_level.reserved  = sum(live reservation_alloc.quantity) per (product, warehouse)

create table product (
    product_id text primary key,
    sku text not null,
    name text not null,
    -- Variants share a group code (the style) and differ in options.
    group_code text,
    options_json text not null default '{}',
    gtin text,
    -- 'item' holds stock; 'bundle' derives availability from its components.
    kind text not null,
    unit text not null default 'each',
    weight_g bigint,
    length_mm bigint,
    width_mm bigint,
    height_mm bigint,
    tax_category text not null default 'standard',
    -- 1 when every receipt must name a lot (and usually an expiry).
    track_lots smallint not null default 0,
    active smallint not null default 1,
    version bigint not null default 1,
    created_at bigint not null,
    updated_at bigint not null,
    constraint product_sku_key unique (sku),
    constraint product_gtin_key unique (gtin)
);
create index product_name_idx on product (name);
create index product_group_idx on product (group_code, sku);

create table product_price (
    product_id text not null references product (product_id),
    currency text not null,
    cost_minor bigint not null,
    price_minor bigint not null,
    primary key (product_id, currency)
);

create table bundle_component (
    bundle_id text not null references product (product_id),
    component_id text not null references product (product_id),
    quantity bigint not null check (quantity > 0),
    primary key (bundle_id, component_id)
);

-- Bin locations: ZONE-AISLE-BIN codes walked in pick_sequence order.
create table location (
    location_id text primary key,
    warehouse_id text not null references warehouse (warehouse_id),
    code text not null,
    pick_sequence bigint not null,
    active smallint not null default 1,
    created_at bigint not null,
    constraint location_code_key unique (warehouse_id, code)
);

-- The ledger. Rows are only ever inserted.
create table stock_movement (
    movement_id text primary key,
    occurred_at bigint not null,
    product_id text not null references product (product_id),
    warehouse_id text not null references warehouse (warehouse_id),
    location_id text references location (location_id),
    lot text not null default '',
    kind text not null,
    quantity bigint not null,
    reason text,
    reference text,
    actor_name text not null
);
create index stock_movement_product_idx on stock_movement (product_id, occurred_at, movement_id);
create index stock_movement_balance_idx on stock_movement (product_id, location_id, lot);

create table stock_balance (
    product_id text not null references product (product_id),
    location_id text not null references location (location_id),
    lot text not null default '',
    -- Expiry as an ISO date (YYYY-MM-DD), empty when the lot has none.
    expires_on text not null default '',
    on_hand bigint not null check (on_hand >= 0),
    primary key (product_id, location_id, lot)
);
create index stock_balance_location_idx on stock_balance (location_id, product_id);

create table stock_level (
    product_id text not null references product (product_id),
    warehouse_id text not null references warehouse (warehouse_id),
    on_hand bigint not null check (on_hand >= 0),
    reserved bigint not null check (reserved >= 0),
    primary key (product_id, warehouse_id)
);
create index stock_level_warehouse_idx on stock_level (warehouse_id, product_id);

alter table channel add column safety_buffer bigint not null default 0;

create table reservation (
    reservation_id text primary key,
    reference text not null,
    channel_id text references channel (channel_id),
    -- active | released | consumed
    status text not null,
    -- The request lines as asked for: [{"sku", "quantity"}].
    lines_json text not null,
    version bigint not null default 1,
    created_at bigint not null,
    updated_at bigint not null
);
create index reservation_reference_idx on reservation (reference);

-- What a reservation holds: units of a stock-holding product in one warehouse.
-- A bundle line holds its components, each row naming the line it serves.
create table reservation_alloc (
    reservation_id text not null references reservation (reservation_id),
    line_no bigint not null,
    sku text not null,
    product_id text not null references product (product_id),
    warehouse_id text not null references warehouse (warehouse_id),
    quantity bigint not null check (quantity > 0),
    primary key (reservation_id, line_no, product_id, warehouse_id)
);
create index reservation_alloc_level_idx on reservation_alloc (product_id, warehouse_id);

create table stock_transfer (
    transfer_id text primary key,
    number text not null,
    from_warehouse_id text not null references warehouse (warehouse_id),
    to_warehouse_id text not null references warehouse (warehouse_id),
    -- in_transit | received
    status text not null,
    created_at bigint not null,
    received_at bigint,
    version bigint not null default 1,
    constraint stock_transfer_number_key unique (number)
);

create table stock_transfer_line (
    transfer_id text not null references stock_transfer (transfer_id),
    product_id text not null references product (product_id),
    lot text not null default '',
    expires_on text not null default '',
    quantity bigint not null check (quantity > 0),
    primary key (transfer_id, product_id, lot)
);

create table cycle_count (
    count_id text primary key,
    number text not null,
    warehouse_id text not null references warehouse (warehouse_id),
    location_id text not null references location (location_id),
    -- open | pending_approval | posted | rejected
    status text not null,
    variance_units bigint not null default 0,
    variance_value_minor bigint not null default 0,
    created_by text not null,
    counted_by text,
    decided_by text,
    created_at bigint not null,
    submitted_at bigint,
    decided_at bigint,
    version bigint not null default 1,
    constraint cycle_count_number_key unique (number)
);
create index cycle_count_status_idx on cycle_count (status, created_at);

create table cycle_count_line (
    count_id text not null references cycle_count (count_id),
    product_id text not null references product (product_id),
    expected bigint not null,
    counted bigint not null,
    primary key (count_id, product_id)
);

create table import_job (
    job_id text primary key,
    kind text not null,
    -- staged (uploaded, previewed, not started) | running | done | failed
    status text not null,
    -- The uploaded file while staged or running; cleared when the job ends.
    source_text text,
    total_rows bigint not null,
    processed_rows bigint not null default 0,
    created_rows bigint not null default 0,
    updated_rows bigint not null default 0,
    unchanged_rows bigint not null default 0,
    failed_rows bigint not null default 0,
    errors_json text not null default '[]',
    created_by text not null,
    created_at bigint not null,
    finished_at bigint
);

insert into sequence_counter (name, value) values ('transfer', 0);
insert into sequence_counter (name, value) values ('count', 0);
