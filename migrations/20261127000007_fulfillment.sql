-- Sourcing (#5): an order's units are planned into fulfilments, one per
-- warehouse, each with the reason that warehouse was chosen. Units no
-- warehouse could give are backordered on their line and sourced again when
-- stock arrives.
create table fulfillment (
    fulfillment_id text primary key,
    order_id text not null references sales_order (order_id),
    warehouse_id text not null references warehouse (warehouse_id),
    -- The fulfilment's number within its order (1, 2, …), in planning order.
    seq bigint not null,
    -- open (planned, not started) | cancelled; pick, pack and ship follow
    status text not null,
    reason text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create unique index fulfillment_order_idx on fulfillment (order_id, seq);
create index fulfillment_queue_idx on fulfillment (warehouse_id, status, created_at);

create table fulfillment_line (
    fulfillment_id text not null references fulfillment (fulfillment_id),
    line_no bigint not null,
    sku text not null,
    quantity bigint not null check (quantity > 0),
    primary key (fulfillment_id, line_no)
);

-- Units of the line waiting for stock.
alter table order_line add column backordered_quantity bigint not null default 0;
-- Sum of the lines' backordered units, so the workbench filters on one row.
alter table sales_order add column backordered_units bigint not null default 0;
-- Re-sourcing looks up waiting lines by product; most lines never wait.
create index order_line_backorder_idx on order_line (product_id) where backordered_quantity > 0;
-- The workbench's backorder filter, newest first.
create index sales_order_backorder_idx on sales_order (placed_at, order_id) where backordered_units > 0;
-- Runs that source backorders (receipts, cancellations, source-now) take
-- this row first, so they queue behind each other instead of deadlocking
-- over the orders and stock rows they share.
insert into sequence_counter (name, value) values ('sourcing', 0);
