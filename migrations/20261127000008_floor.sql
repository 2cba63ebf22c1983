-- The warehouse floor: waves of pick tasks by bin, packages, shipments.
-- A fulfilment goes open → picking (in a wave) → picked → shipped, or is
-- cancelled. Stock leaves the bins only at shipment; until then the picked
-- units are still on the ledger in their bins and held by the reservation.

alter table fulfillment add column wave_id text;
alter table fulfillment add column picked_at bigint;
alter table fulfillment add column shipped_at bigint;

create table wave (
    wave_id text primary key,
    number text not null,
    warehouse_id text not null references warehouse (warehouse_id),
    -- open | done | cancelled
    status text not null,
    fulfillments bigint not null,
    units bigint not null,
    created_by text not null,
    created_at bigint not null,
    completed_at bigint,
    constraint wave_number_key unique (number)
);
create index wave_warehouse_idx on wave (warehouse_id, status, created_at);
create index fulfillment_wave_idx on fulfillment (wave_id);
create index fulfillment_to_pack_idx on fulfillment (picked_at) where status = 'picked';

create table pick_task (
    task_id text primary key,
    wave_id text not null references wave (wave_id),
    fulfillment_id text not null references fulfillment (fulfillment_id),
    line_no bigint not null,
    product_id text not null references product (product_id),
    sku text not null,
    location_id text not null references location (location_id),
    lot text not null default '',
    expires_on text not null default '',
    quantity bigint not null check (quantity > 0),
    picked bigint not null default 0 check (picked >= 0),
    short bigint not null default 0 check (short >= 0),
    -- bin | item | quantity: what the agent scans next
    step text not null default 'bin',
    -- open | done | cancelled
    status text not null default 'open',
    route bigint not null,
    picked_by text,
    picked_at bigint,
    short_reason text,
    check (picked + short <= quantity)
);
create index pick_task_wave_idx on pick_task (wave_id, route);
create index pick_task_fulfillment_idx on pick_task (fulfillment_id);
create index pick_task_open_idx on pick_task (product_id, location_id, lot) where status in ('open', 'picked');
create index pick_task_agent_idx on pick_task (picked_by, picked_at);

create table package (
    package_id text primary key,
    fulfillment_id text not null references fulfillment (fulfillment_id),
    seq bigint not null,
    weight_g bigint,
    length_mm bigint,
    width_mm bigint,
    height_mm bigint,
    tracking text,
    created_at bigint not null,
    constraint package_seq_key unique (fulfillment_id, seq)
);
create unique index package_tracking_idx on package (tracking);

create table package_item (
    package_id text not null references package (package_id),
    line_no bigint not null,
    sku text not null,
    quantity bigint not null check (quantity > 0),
    primary key (package_id, line_no)
);

create table shipment (
    shipment_id text primary key,
    number text not null,
    fulfillment_id text not null references fulfillment (fulfillment_id),
    order_id text not null references sales_order (order_id),
    warehouse_id text not null references warehouse (warehouse_id),
    carrier text not null,
    service text not null,
    shipped_by text not null,
    shipped_at bigint not null,
    constraint shipment_number_key unique (number),
    constraint shipment_fulfillment_key unique (fulfillment_id)
);
create index shipment_order_idx on shipment (order_id);
create index shipment_time_idx on shipment (shipped_at);

alter table order_line add column shipped_quantity bigint not null default 0;

insert into sequence_counter (name, value) values ('wave', 0);
insert into sequence_counter (name, value) values ('shipment', 0);
