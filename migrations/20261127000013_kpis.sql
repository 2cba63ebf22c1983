-- KPIs (#6, second part): daily figures the event stream maintains, so the
-- dashboard reads a few rows per day whatever the number of orders.

-- When the order's last units shipped, and whether that was after its
-- ship-by time. Set by ship confirmation (and by history imports), so the
-- cycle-time and on-time figures drill down to the workbench by these.
alter table sales_order add column shipped_at bigint;
alter table sales_order add column shipped_late smallint;
update sales_order set shipped_at = (select max(s.shipped_at) from shipment s where s.order_id = sales_order.order_id)
where status in ('shipped', 'delivered', 'closed')
  and exists (select 1 from shipment s where s.order_id = sales_order.order_id);
-- The ship-by rule as it stands in domain::floor::ship_by_hours at this
-- migration: express services within 24 h of placement, the others 48 h.
update sales_order set shipped_late = case when shipped_at > placed_at + 3600000000 * (
        case when lower(shipping_method) like '%express%' or lower(shipping_method) like '%next day%'
                  or lower(shipping_method) like '%next-day%' or lower(shipping_method) like '%overnight%'
                  or lower(shipping_method) like '%same day%' or lower(shipping_method) like '%priority%'
             then 24 else 48 end) then 1 else 0 end
where shipped_at is not null;
create index sales_order_shipped_idx on sales_order (shipped_at, order_id) where shipped_at is not null;

-- Each order's contribution to the figures, as last projected: the
-- projector subtracts it and adds the new one when the order changes, so a
-- re-applied event changes nothing.
create table kpi_order (
    order_id text primary key,
    fact text not null
);

-- Additive figures per day, channel, warehouse ('' when none) and currency.
-- Orders, revenue, margin and touches count on the day the order was
-- placed; shipped, cycle time and on-time on the day it shipped; finished
-- (shipped or cancelled) on the day it left the backlog.
create table kpi_day (
    day text not null,
    channel text not null,
    warehouse text not null,
    currency text not null,
    orders bigint not null default 0,
    cancelled bigint not null default 0,
    revenue_minor bigint not null default 0,
    cogs_minor bigint not null default 0,
    shipping_minor bigint not null default 0,
    touches bigint not null default 0,
    shipped bigint not null default 0,
    cycle_minutes bigint not null default 0,
    on_time bigint not null default 0,
    finished bigint not null default 0,
    primary key (day, channel, warehouse, currency)
);

-- Open orders now, by status.
create table kpi_backlog (
    status text not null,
    channel text not null,
    warehouse text not null,
    orders bigint not null default 0,
    primary key (status, channel, warehouse)
);

insert into projection_cursor (name, seq) values ('kpis', 0);

-- Inventory accuracy reads counts by the day they were submitted.
create index cycle_count_submitted_idx on cycle_count (submitted_at) where submitted_at is not null;
-- Stockouts by the day they began, closed ones included.
create index exception_item_opened_idx on exception_item (queue, opened_at);
