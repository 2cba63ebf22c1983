-- Why: order capture from every channel into one process (#4): customers
-- unified by email, order lines, totals as the channel stated them and as
-- Keel recomputed them, holds with reasons, notes, tags, saved views, webhook
-- deliveries (for redelivery de-duplication), regional tax rules, and whether
-- a channel's prices include tax.

create table customer (
    customer_id text primary key,
    email text not null,
    name text not null,
    phone text not null default '',
    orders_count bigint not null default 0,
    first_order_at bigint,
    last_order_at bigint,
    version bigint not null default 1,
    created_at bigint not null,
    updated_at bigint not null,
    constraint customer_email_key unique (email)
);
-- Lower-cased search keys: the name as written and from its last word
-- ("lee ann"), so a prefix of either name finds the customer by index range.
alter table customer add column name_key text not null default '';
alter table customer add column last_key text not null default '';
create index customer_name_key_idx on customer (name_key);
create index customer_last_key_idx on customer (last_key);

create table customer_address (
    address_id text primary key,
    customer_id text not null references customer (customer_id),
    fingerprint text not null,
    address_json text not null,
    created_at bigint not null,
    constraint customer_address_key unique (customer_id, fingerprint)
);

-- Orders captured before #4 (none in a seeded database) get neutral values.
alter table sales_order add column customer_id text references customer (customer_id);
alter table sales_order add column customer_name text not null default '';
alter table sales_order add column payment_status text not null default 'paid';
alter table sales_order add column subtotal_minor bigint not null default 0;
alter table sales_order add column discount_minor bigint not null default 0;
alter table sales_order add column shipping_minor bigint not null default 0;
alter table sales_order add column tax_minor bigint not null default 0;
alter table sales_order add column prices_include_tax smallint not null default 0;
-- What the channel said, as sent (JSON of amounts), for the totals check.
alter table sales_order add column stated_json text not null default '{}';
alter table sales_order add column ship_to_json text not null default '{}';
alter table sales_order add column bill_to_json text;
alter table sales_order add column ship_country text not null default '';
alter table sales_order add column shipping_method text not null default '';
alter table sales_order add column fraud_score bigint not null default 0;
alter table sales_order add column fraud_reasons_json text not null default '[]';
alter table sales_order add column hold_count bigint not null default 0;
alter table sales_order add column manual_touches bigint not null default 0;
alter table sales_order add column reservation_id text;
-- The warehouse holding most of the order's reserved units, for filtering.
alter table sales_order add column warehouse_code text;
alter table sales_order add column note text not null default '';
alter table sales_order add column cancelled_at bigint;

-- Only held orders, newest first: the workbench's "held" filters walk it.
create index sales_order_held_idx on sales_order (placed_at, order_id) where hold_count > 0;
create index sales_order_channel_idx on sales_order (channel_id, placed_at, order_id);
create index sales_order_customer_idx on sales_order (customer_id, placed_at);
create index sales_order_email_idx on sales_order (customer_email, placed_at);
create index sales_order_external_idx on sales_order (external_id);
create index sales_order_warehouse_idx on sales_order (warehouse_code, placed_at, order_id);
create index sales_order_total_idx on sales_order (total_minor, placed_at);

create table order_line (
    order_id text not null references sales_order (order_id),
    line_no integer not null,
    sku text not null,
    product_id text references product (product_id),
    name text not null,
    quantity bigint not null,
    cancelled_quantity bigint not null default 0,
    unit_price_minor bigint not null,
    discount_minor bigint not null default 0,
    primary key (order_id, line_no)
);
create index order_line_sku_idx on order_line (sku);

create table order_hold (
    hold_id text primary key,
    order_id text not null references sales_order (order_id),
    reason text not null,
    detail text not null,
    active smallint not null default 1,
    placed_at bigint not null,
    placed_by text not null,
    released_at bigint,
    released_by text,
    release_note text
);
create index order_hold_order_idx on order_hold (order_id, active);
-- The workbench's "held for <reason>" filter walks this index newest first.
create index order_hold_reason_idx on order_hold (reason, active, order_id);

create table order_note (
    note_id text primary key,
    order_id text not null references sales_order (order_id),
    author text not null,
    body text not null,
    created_at bigint not null
);
create index order_note_order_idx on order_note (order_id, created_at);

create table order_tag (
    order_id text not null references sales_order (order_id),
    tag text not null,
    primary key (order_id, tag)
);
create index order_tag_tag_idx on order_tag (tag, order_id);

-- One row per webhook delivery id, so a redelivery is recognised and answered
-- with the order it created, without doing anything again.
create table webhook_delivery (
    channel_id text not null references channel (channel_id),
    delivery_id text not null,
    topic text not null,
    order_id text,
    received_at bigint not null,
    primary key (channel_id, delivery_id)
);

-- Tax by destination: country, and optionally region within it (the more
-- specific rule wins). Rates are decimal strings, e.g. "0.0825".
create table tax_rule (
    country text not null,
    region text not null default '',
    rate text not null,
    name text not null,
    primary key (country, region)
);

-- A person's saved workbench filters (the query string) under a name.
create table saved_view (
    view_id text primary key,
    user_id text not null,
    name text not null,
    query text not null,
    created_at bigint not null,
    constraint saved_view_name_key unique (user_id, name)
);

alter table channel add column prices_include_tax smallint not null default 0;

insert into sequence_counter (name, value) values ('order', 100000);
